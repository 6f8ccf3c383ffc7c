"""`linksim run SCENARIO`: the end-to-end loopback run that measures the throughput the terminal keeps."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="run a scenario end to end (DVB-S2 TX -> channel -> RX) and report",
        description="Run a scenario end to end in a GNU Radio loopback flowgraph driven by its budget Timeline, "
                    "measure goodput, FER and Es/N0 per time bin next to the budget's prediction, and write a run "
                    "directory with a report.")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--out", metavar="DIR", help="run directory (default runs/<scenario>-<time>)")
    p.add_argument("--start", type=float, default=0.0, metavar="S", help="start S seconds into the scenario")
    p.add_argument("--duration", type=float, metavar="S", help="simulate S seconds (default: to the end)")
    p.add_argument("--seed", type=int, help="seed for the channel and the payload (default: the scenario's)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--acm", dest="acm", action="store_true", default=None, help="adaptive coding and modulation")
    mode.add_argument("--ccm", dest="acm", action="store_false", help="constant MODCOD (the scenario's)")
    p.add_argument("--every", type=float, metavar="S", help="dwell mode: simulate a stretch every S seconds ...")
    p.add_argument("--dwell", type=float, metavar="S", help="... of S seconds each")
    p.add_argument("--bin", type=float, metavar="S", help="measurement time bin (default: the timeline step)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a scenario key")
    hw = p.add_argument_group("hardware in the loop (profiles in hw/profiles; see hw/README.md)")
    hw.add_argument("--tx", metavar="PROFILE", help="transmit through this device profile (e.g. b210, loopback)")
    hw.add_argument("--rx", metavar="PROFILE", help="receive from this device profile")
    hw.add_argument("--tx-enable", action="store_true", help="allow RF transmission (the profile must allow it too)")
    hw.add_argument("--center-freq", type=float, metavar="HZ", help="lab RF/IF centre frequency for the devices")
    hw.add_argument("--attenuator", metavar="URL", help="replay the scenario's fade on a programmable attenuator")
    hw.add_argument("--attenuation-base", type=float, default=0.0, metavar="DB",
                    help="attenuator setting with no fade (default 0)")
    hw.add_argument("--rotator", metavar="URL", help="point an antenna rotator at the satellite")
    hw.add_argument("--rotator-model", choices=("rotctld", "gs232a", "gs232b"), default="rotctld")
    hw.add_argument("--record", metavar="PATH", help="record the receiver's input of each stretch as SigMF "
                    "(PATH-stretchK.sigmf-meta/-data, with device, gains, reference lock, scenario hash, sample clock)")
    hw.add_argument("--tx-scale", type=float, default=0.3, metavar="A", help="digital TX amplitude (<= 1)")
    sp = p.add_argument_group("split run (TX and RX halves in separate processes or hosts, IQ over ZeroMQ)")
    sp.add_argument("--role", choices=("tx", "rx"), help="run only this half; start the tx half first")
    sp.add_argument("--link", metavar="tcp://HOST:PORT", default="tcp://127.0.0.1:5560",
                    help="IQ on PORT, control on PORT+1 and PORT+2 (the tx half binds them)")
    sp.add_argument("--inject-drop-every", type=int, default=0, metavar="N", help=argparse.SUPPRESS)
    ip = p.add_argument_group("IP traffic in real time (root: namespaces, TUN, iperf3; docs/ip.md)")
    ip.add_argument("--traffic", metavar="SPEC", help="tcp | udp[:RATE[:BYTES]] | ping | cmd:\"COMMAND\" between a "
                    "gateway and a terminal namespace, the forward link through the IQ simulation")
    ip.add_argument("--tcp-cc", metavar="NAME", help="TCP congestion control (cubic, bbr, ... as the kernel offers)")
    ip.add_argument("--tcp-window", metavar="BYTES", help="iperf3 socket buffer / window (e.g. 16K, 4M)")
    ip.add_argument("--pep", action="store_true", help="split-TCP performance-enhancing proxy in the namespaces")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..run.loop import Devices, run_scenario
    from ..scenario.model import load_scenario
    from .budget import parse_overrides

    s = load_scenario(args.scenario, parse_overrides(args.set))
    devices = None
    if args.tx or args.rx:
        if not (args.tx and args.rx):
            raise InputError("--tx and --rx go together (use the loopback profile for the side without hardware)")
        if not 0.0 < args.tx_scale <= 1.0:
            raise InputError(f"--tx-scale must be in (0, 1], not {args.tx_scale}")
        devices = Devices(args.tx, args.rx, tx_enable=args.tx_enable, center_freq_hz=args.center_freq,
                          tx_scale=args.tx_scale, attenuation_base_db=args.attenuation_base)
    elif args.attenuator or args.rotator:
        raise InputError("--attenuator and --rotator need a hardware run (--tx PROFILE --rx PROFILE)")
    out = Path(args.out) if args.out else Path("runs") / f"{s.name}-{time.strftime('%Y%m%dT%H%M%S')}"

    def progress(msg: str) -> None:
        sys.stderr.write(f"linksim run: {msg}\n")
        sys.stderr.flush()

    if args.traffic or args.tcp_cc or args.tcp_window or args.pep:
        from .traffic import traffic

        return traffic(args, s, devices, out, progress, _print_summary)
    if args.role:
        unsupported = [o for o, v in (("--tx/--rx", devices), ("--record", args.record), ("--bin", args.bin)) if v]
        if unsupported:  # the two halves carry neither hardware nor these options
            raise InputError(f"{', '.join(unsupported)} not supported with --role (split runs are loopback only)")
        return _split(args, s, out, progress)
    lab = []
    try:
        if devices is not None and args.attenuator:
            from ..hw.attenuator import open_attenuator

            devices.attenuator = open_attenuator(args.attenuator)  # at maximum attenuation until the run starts
            lab.append(devices.attenuator)
        if devices is not None and args.rotator:
            from ..hw.rotator import open_rotator

            devices.rotator = open_rotator(args.rotator, args.rotator_model)
            lab.append(devices.rotator)
        sm = run_scenario(s, out, duration_s=args.duration, seed=args.seed, acm=args.acm, progress=progress,
                          every_s=args.every, dwell_s=args.dwell, bin_s=args.bin, report=not args.no_report,
                          devices=devices, start_s=args.start, record=Path(args.record) if args.record else None)
    except KeyboardInterrupt:
        sys.stderr.write(f"linksim run: interrupted; partial results in {out}\n")
        return 130
    finally:
        for g in lab:  # attenuator back to maximum, rotator stopped
            g.close()
    return _print_summary(args, s, sm, out)


def _split(args: argparse.Namespace, s: object, out: Path, progress: object) -> int:
    from ..run.split import SplitLink, run_rx_half, run_tx_half

    link = SplitLink.parse(args.link)
    common = dict(duration_s=args.duration, seed=args.seed, acm=args.acm, start_s=args.start, every_s=args.every,
                  dwell_s=args.dwell)
    try:
        if args.role == "tx":
            progress(f"{s.name}: transmit half serving IQ on {link.iq}")
            n = run_tx_half(s, link, drop_every=args.inject_drop_every, **common)
            progress(f"sent {n} stretches")
            return 0
        progress(f"{s.name}: receive half from {link.iq}")
        sm = run_rx_half(s, out, link, report=not args.no_report, progress=progress, **common)
    except KeyboardInterrupt:
        sys.stderr.write(f"linksim run: interrupted; partial results in {out}\n")
        return 130
    return _print_summary(args, s, sm, out)


def _print_summary(args: argparse.Namespace, s: object, sm: dict, out: Path) -> int:
    if args.json:
        print(json.dumps(sm, indent=2, default=str))
        return 0

    from ..report.html import fmt, fmt_bps  # the report's number formatting (units, n/a for missing)

    print(f"{s.name}: {sm['status']} ({'ACM' if sm['acm'] else 'CCM ' + sm['modcod']}, seed {sm['seed']})")
    print(f"  frames            {sm['frames_total']} sent, {sm['frames_ok']} ok, FER {fmt(sm['fer'], digits=4)}")
    print(f"  goodput           {fmt_bps(sm['goodput_bps_mean'])} measured, "
          f"{fmt_bps(sm['predicted_goodput_bps_mean'])} predicted, {fmt_bps(sm['clear_sky_goodput_bps'])} clear sky")
    print(f"  degradation       {fmt(sm['degradation_pct'], '%')}   availability {fmt(sm['availability_pct'], '%')}")
    print(f"  Es/N0 bias        {fmt(sm['esn0_bias_db'], 'dB', signed=True)} (measured - predicted)")
    print(f"  real-time factor  {fmt(sm['realtime_factor'])}")
    report = out / "report.html"
    print(f"report: {report if report.exists() else out}")
    return 0
