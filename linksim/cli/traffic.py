"""`linksim run SCENARIO --traffic ...`: the real-time IP traffic run (linksim.run.traffic), in process or as
the two halves of a split run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def traffic(args: argparse.Namespace, s: Any, out: Path, progress: Callable[[str], None],
            print_summary: Callable[[argparse.Namespace, Any, dict, Path], int]) -> int:
    from ..errors import InputError
    from ..run.traffic import parse_traffic, run_traffic

    if not args.traffic:
        raise InputError("--tcp-cc, --tcp-window and --pep go with --traffic tcp")
    spec = parse_traffic(args.traffic, args.tcp_cc, args.tcp_window, args.pep)
    unsupported = [o for o, v in (("--tx/--rx", args.tx or args.rx), ("--record", args.record), ("--every/--dwell",
                                  args.every or args.dwell), ("--bin", args.bin)) if v]
    if unsupported:
        raise InputError(f"{', '.join(unsupported)} not supported with --traffic (a real-time loopback run)")
    try:
        if args.role:
            from ..run.traffic_split import run_traffic_split

            sm = run_traffic_split(s, out, spec, args.role, args.link, duration_s=args.duration, seed=args.seed,
                                   acm=args.acm, start_s=args.start, progress=progress, report=not args.no_report,
                                   link_timeout_s=args.link_timeout)
            if sm is None:
                return 0
        else:
            sm = run_traffic(s, out, spec, duration_s=args.duration, seed=args.seed, acm=args.acm,
                             start_s=args.start, progress=progress, report=not args.no_report)
    except KeyboardInterrupt:
        sys.stderr.write(f"linksim run: interrupted; namespaces removed, partial results in {out}\n")
        return 130
    rc = print_summary(args, s, sm, out)
    t = sm.get("traffic", {})
    if not args.json and t:
        from ..report.html import fmt, fmt_bps

        print(f"  traffic           {t['spec']}: application {fmt_bps(t['app_goodput_bps_mean'])}, PHY "
              f"{fmt_bps(t['phy_goodput_bps_mean'])} (efficiency {fmt(t['efficiency'])}), RTT "
              f"{fmt(t['rtt_ms_median'], 'ms')}, retransmits {t.get('retransmits')}")
    return rc
