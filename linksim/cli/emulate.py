"""`linksim emulate`: the scenario's channel applied in real time to an external modem's signal.

    linksim emulate SCENARIO --in SRC --out SINK --sample-rate HZ [--start-s T] [--span-s S] [--duration S]
        [--loop] [--center-hz F] [--bandwidth-hz B] [--input-power P | --power-window-s S] [--seed N]
        [--threads N] [--run-dir DIR] [--device-freq HZ] [--tx-enable] [--out-scale A] [--set KEY=VALUE] [--json]

SRC and SINK: `zmq:tcp://HOST:PORT` (stock gr-zeromq: --in connects to the modem's push_sink, --out binds for
the modem's pull_source; complex64, stock defaults) or a device profile (hw/profiles; SDRs through gr-soapy or
gr-uhd, tuned to the scenario's carrier frequency unless --device-freq says otherwise; TX needs --tx-enable).
The channel: the satellite's amplifier ([satellite.amplifier]) if the scenario has one, then the whole one-way
delay, Doppler and its rate, weather (Es/N0 over time), fading, phase noise, interference and jammers of the
scenario's Timeline, from scenario time --start-s over --span-s (default: the rest of the scenario),
once, or again and again with --loop. The signal sits --center-hz from the middle of the sampled band with
occupied bandwidth --bandwidth-hz (default: the scenario carrier's); jammers are placed relative to its centre and
the noise is calibrated on its power, declared (--input-power, mean |x|^2) or measured over its first
--power-window-s seconds (held back until then). Runs at the pace of its input (no throttle) until --duration
seconds of samples, the span's end, or Ctrl-C, and writes a run directory (see linksim.run.emulate).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("emulate", help="real-time channel emulator for an external modem (ZMQ or SDRs)",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--in", dest="inp", required=True, metavar="SRC", help="zmq:tcp://HOST:PORT or a device profile")
    p.add_argument("--out", required=True, metavar="SINK", help="zmq:tcp://HOST:PORT (binds) or a device profile")
    p.add_argument("--sample-rate", type=float, required=True, metavar="HZ", help="sample rate of SRC and SINK")
    p.add_argument("--start-s", type=float, default=0.0, metavar="T", help="scenario time of the first sample")
    p.add_argument("--span-s", type=float, metavar="S", help="scenario seconds to emulate (default: to the end)")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds of samples")
    p.add_argument("--loop", action="store_true", help="replay the span again and again")
    p.add_argument("--center-hz", type=float, default=0.0, metavar="F", help="signal centre in the sampled band")
    p.add_argument("--bandwidth-hz", type=float, metavar="B", help="signal's occupied bandwidth (default: the "
                   "scenario carrier's symbol rate x (1 + roll-off))")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument("--input-power", type=float, metavar="P", help="declared mean |x|^2 of the signal")
    pw.add_argument("--power-window-s", type=float, default=0.2, metavar="S",
                    help="measure the signal's power over its first S seconds (default 0.2)")
    p.add_argument("--seed", type=int, help="seed of every random stream (default: the scenario's)")
    p.add_argument("--threads", type=int, metavar="N", help="compute threads (default: the CPUs available)")
    p.add_argument("--run-dir", metavar="DIR", help="run directory (default runs/emulate-<scenario>-<time>)")
    p.add_argument("--device-freq", type=float, metavar="HZ", help="SDR tuning (default: the scenario's carrier)")
    p.add_argument("--tx-enable", action="store_true", help="allow an SDR sink to transmit (its profile too)")
    p.add_argument("--out-scale", type=float, default=1.0, metavar="A", help="digital gain before SINK (0, 1]")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a scenario key")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..channel.emulation import build_emulation
    from ..hw.endpoints import parse_endpoint
    from . import check_int_option, check_option, check_seed
    from .budget import parse_overrides

    fs = check_option("--sample-rate", args.sample_rate, 0.0, 1e11, lo_open=True, unit="Hz")
    if args.duration is not None:
        check_option("--duration", args.duration, 0.0, 1e9, lo_open=True, unit="s")
    check_option("--start-s", args.start_s, 0.0, None, unit="s")
    if args.span_s is not None:
        check_option("--span-s", args.span_s, 0.0, None, lo_open=True, unit="s")
    check_option("--power-window-s", args.power_window_s, 0.0, 3600.0, lo_open=True, unit="s")
    check_option("--out-scale", args.out_scale, 0.0, 1.0, lo_open=True)
    check_option("--center-hz", args.center_hz, -fs / 2, fs / 2, unit="Hz")
    if args.bandwidth_hz is not None:
        check_option("--bandwidth-hz", args.bandwidth_hz, 0.0, fs, lo_open=True, unit="Hz")
    if args.input_power is not None:
        check_option("--input-power", args.input_power, 0.0, 1e24, lo_open=True)
    if args.seed is not None:
        check_seed("--seed", args.seed)
    if args.threads is not None:
        check_int_option("--threads", args.threads, 1, 256)
    if args.device_freq is not None:
        check_option("--device-freq", args.device_freq, 0.0, 1e11, lo_open=True, unit="Hz")
    src = parse_endpoint(args.inp, "--in")
    snk = parse_endpoint(args.out, "--out")
    emu = build_emulation(args.scenario, fs, start_s=args.start_s, span_s=args.span_s, loop=args.loop,
                          center_hz=args.center_hz, bandwidth_hz=args.bandwidth_hz, input_power=args.input_power,
                          seed=args.seed, threads=args.threads, overrides=parse_overrides(args.set))
    name = emu.scenario.name
    out = Path(args.run_dir) if args.run_dir else Path("runs") / f"emulate-{name}-{time.strftime('%Y%m%dT%H%M%S')}"

    def progress(msg: str) -> None:
        sys.stderr.write(f"linksim emulate: {msg}\n")
        sys.stderr.flush()

    from ..run.emulate import run_emulation

    try:
        sm = run_emulation(emu, src, snk, out, duration_s=args.duration, power_window_s=args.power_window_s,
                           center_freq_hz=args.device_freq, tx_enable=args.tx_enable, out_scale=args.out_scale,
                           progress=progress)
    except KeyboardInterrupt:
        sys.stderr.write(f"linksim emulate: interrupted; what was applied is in {out}\n")
        return 130
    if args.json:
        print(json.dumps(sm, indent=2, default=str))
        return 0

    def f(v: Any, fmt: str = ".3f") -> str:
        return "-" if v is None else format(v, fmt)

    print(f"{name}: {sm['status']}, {sm['samples_in']} samples in, {sm['samples_out']} out at {fs / 1e6:g} Msps "
          f"({sm['sample_time_s']:.1f} s of signal in {sm['wall_s']:.1f} s)")
    print(f"drops: {sm['drops']} samples ({sm['gap_samples']} filled after {sm['overflow_events']} device "
          f"overflows, {sm['samples_not_written']} not written out)")
    print(f"real time: margin {f(sm['realtime_margin'], '.2f')} (share of the sample time left idle by the "
          f"channel), largest lag behind the input {f(sm['behind_s_max'])} s"
          + ("  FELL BEHIND" if sm["fell_behind"] else ""))
    print(f"realised: {sm['realised_measurements']} measurements, delay within "
          f"{f(sm['realised_delay_error_samples_max'])} samples, Doppler within "
          f"{f(sm['realised_doppler_error_hz_max'])} Hz of the scenario's")
    print(f"run directory: {out}")
    return 0
