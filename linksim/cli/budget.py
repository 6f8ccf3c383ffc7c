"""`linksim budget SCENARIO`: the link budget over time, as a table, JSON, CSV or a plot."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("budget", help="compute a scenario's link budget over time",
                       description="Compute the link budget Timeline of a scenario file.")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--at", metavar="ISO_TIME", help="show this instant (default: the first visible row)")
    p.add_argument("--json", action="store_true", help="print the instant as JSON (Timeline column names)")
    p.add_argument("--csv", metavar="FILE", help="write the whole timeline as CSV")
    p.add_argument("--plot", metavar="FILE.png", help="plot elevation, losses, Es/N0 and J/S over time")
    p.add_argument("--duration", type=float, metavar="S", help="override the scenario's duration_s")
    p.add_argument("--step", type=float, metavar="S", help="override the scenario's step_s")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key, e.g. --set carrier.modcod='8PSK 3/4' (repeatable)")
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict[str, object]:
    """KEY=VALUE pairs; VALUE is read as TOML (numbers, booleans, "strings"), bare words as strings."""
    import tomllib

    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = tomllib.loads(f"v = {v}")["v"]
        except tomllib.TOMLDecodeError:
            out[k.strip()] = v
    return out


def run(args: argparse.Namespace) -> int:
    from ..budget import tables as budget_report
    from ..budget import timeline as budget
    from ..geometry import orbit as geometry
    from ..scenario.model import load_scenario

    s = load_scenario(args.scenario, parse_overrides(args.set))
    at = geometry.parse_utc(args.at) if args.at else None
    if at is not None:  # refuse a time outside the scenario before the (slow) first ITU-R map load
        t0 = s.start_unix_s
        t1 = t0 + (args.duration if args.duration is not None else s.meta.duration_s)
        if not t0 - 1e-6 <= at <= t1 + 1e-6:
            raise InputError(f"--at {args.at}: outside the scenario ({geometry.format_utc(t0)} to "
                             f"{geometry.format_utc(t1)})")
    tl = budget.compute_timeline(s, duration_s=args.duration, step_s=args.step)
    if at is not None:
        i = tl.index_at(at)
    else:
        vis = np.nonzero(tl["visible"])[0]
        i = int(vis[0]) if vis.size else 0
    if args.csv:
        tl.to_csv(args.csv)
    if args.plot:
        from ..budget.plots import plot_budget

        plot_budget(tl, args.plot)
    if args.json:
        json.dump(tl.row(i), sys.stdout, indent=2, allow_nan=False, default=str)
        sys.stdout.write("\n")
    else:
        print(budget_report.instant_table(tl, i))
        print()
        print(budget_report.summary_text(tl))
        if args.csv:
            print(f"wrote {args.csv} ({len(tl)} rows)")
        if args.plot:
            print(f"wrote {args.plot}")
    return 0
