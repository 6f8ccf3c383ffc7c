"""`linksim channel`: apply the sample-clocked channel (gain, Doppler, delay, fading, AWGN, jammers) to an IQ file.

    linksim channel --in IN --out OUT --sample-rate HZ --sps N [--scenario FILE | --esn0-db DB]
        [--gain-db G] [--doppler-hz HZ] [--doppler-rate-hz-s R] [--delay-s S] [--fading SPEC]
        [--jammer SPEC ...] [--seed N] [--input-power P | --power-window-s S] [--threads N] [--start-s T] [--json]

IN and OUT are raw complex64 (.cf32) or SigMF (.sigmf-meta/.sigmf-data; a SigMF input gives the sample rate).
Without --esn0-db (or a scenario) no noise is added. The input's mean power (Es = sps x mean |x|^2) is measured
over its first --power-window-s seconds (default 1 s; the whole file if shorter) unless --input-power declares it.
Reading, computing (on --threads cores, default all this process may use) and writing overlap
(linksim.channel.stream); the output does not depend on the thread count. A jammer SPEC is a comma list such as
`type=cw,js_db=0,offset_hz=1000` or `type=barrage,js_db=3,bandwidth_hz=2e6` (see linksim.channel.jammers).
--scenario FILE drives the channel from the scenario's budget Timeline (linksim.budget.timeline.compute_timeline and
linksim.channel.from_budget), starting at scenario time --start-s; --jammer and --fading add to it.
--json prints what was applied: measured signal, noise and jammer powers (dB) and realised Es/N0 and J/S.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from ..errors import InputError


def register(sub: Any) -> None:
    p = sub.add_parser("channel", help="apply the IQ channel and jammers to a file",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--in", dest="inp", required=True, metavar="IN", help=".cf32 or SigMF input")
    p.add_argument("--out", required=True, metavar="OUT", help=".cf32 or SigMF output")
    p.add_argument("--sample-rate", type=float, metavar="HZ", help="sample rate (Hz); SigMF input gives it")
    p.add_argument("--sps", type=float, required=True, metavar="N", help="samples per symbol (Es/N0 calibration)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--scenario", metavar="FILE", help="scenario TOML: drive the channel from its budget")
    src.add_argument("--esn0-db", type=float, metavar="DB", help="Es/N0 to realise (dB); none: no noise")
    p.add_argument("--gain-db", type=float, default=0.0, metavar="DB", help="signal gain (dB)")
    p.add_argument("--doppler-hz", type=float, default=0.0, metavar="HZ", help="carrier offset at the start (Hz)")
    p.add_argument("--doppler-rate-hz-s", type=float, default=0.0, metavar="R", help="Doppler rate (Hz/s)")
    p.add_argument("--delay-s", type=float, default=0.0, metavar="S",
                   help="delay (s; plus the interpolator's fixed 16-sample latency)")
    p.add_argument("--fading", metavar="SPEC", help="e.g. rician:K=4,doppler_hz=50 | rayleigh:doppler_hz=10 | "
                   "loo:doppler_hz=20,los_mean_db=-3 | lutz:K=10,doppler_hz=50")
    p.add_argument("--jammer", action="append", default=[], metavar="SPEC", help="jammer (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random stream (same seed, same output)")
    p.add_argument("--input-power", type=float, metavar="P", help="declared mean |x|^2 of the input")
    p.add_argument("--power-window-s", type=float, default=1.0, metavar="S",
                   help="measure the input power over the first S seconds (default 1)")
    p.add_argument("--threads", type=int, metavar="N", help="compute threads (default: the CPUs available)")
    p.add_argument("--start-s", type=float, default=0.0, metavar="T", help="scenario time of the first sample")
    p.add_argument("--json", action="store_true", help="print the applied and measured values as JSON")
    p.set_defaults(func=run)


def _db(x: float) -> float | None:
    return float(10 * np.log10(x)) if x > 0 else None


def build_channel(args: argparse.Namespace, fs: float, n_samples: int, input_power: float):
    """The Channel for these arguments (and its set Es/N0 and per-jammer J/S descriptions)."""
    from ..channel.core import Channel, ChannelProfile

    jams, fading = [], None
    if args.jammer:  # imported only when used (scipy.signal takes a third of a second to import)
        from ..channel.jammers import parse_jammer

        jams = [parse_jammer(s) for s in args.jammer]
    if args.fading:
        from ..channel.fading import parse_fading

        fading = parse_fading(args.fading)
    duration = max(n_samples / fs, 1e-9)
    if args.scenario:
        from ..budget.timeline import compute_timeline
        from ..channel import from_budget as link_channel
        from ..scenario.model import load_scenario

        s = load_scenario(args.scenario)
        tl = compute_timeline(s)
        t0, t1 = args.start_s, args.start_s + duration
        prof = link_channel.channel_profile(tl, t0, t1)
        scen_jams = link_channel.jammer_specs(tl, fs, t0, t1)
        labels = [f"scenario:{j.name}" for j in s.jammers] + list(args.jammer)
        ch = Channel(fs, args.sps, prof, input_power=input_power,
                     fading=fading if fading is not None else link_channel.fading_model(s),
                     phase_noise=link_channel.phase_noise_model(s), jammers=scen_jams + jams, seed=args.seed,
                     t0_s=t0)
        # the set values over the stretch: time averages of the profile's dB values (reported as "set")
        from ..channel.core import Column

        tt = np.linspace(t0, t1, 201)
        esn0_set = float(np.mean(Column(prof.time_s, prof.esn0_db)(tt)))
        js_scen = [float(np.mean(Column(*j.js_db)(tt))) for j in scen_jams]  # type: ignore[misc]
        return ch, esn0_set, labels, js_scen + [j.js_db for j in jams]
    if args.delay_s < 0:
        raise InputError(f"--delay-s: must be >= 0, got {args.delay_s}")
    esn0 = np.inf if args.esn0_db is None else args.esn0_db
    prof = ChannelProfile.constant(gain_db=args.gain_db, doppler_hz=args.doppler_hz, delay_s=args.delay_s,
                                   esn0_db=esn0, doppler_rate_hz_s=args.doppler_rate_hz_s, duration_s=duration)
    ch = Channel(fs, args.sps, prof, input_power=input_power, fading=fading, jammers=jams, seed=args.seed)
    return ch, args.esn0_db, list(args.jammer), [j.js_db for j in jams]


def run(args: argparse.Namespace) -> int:
    from ..channel.parallel import default_threads
    from ..channel.stream import stream_channel
    from ..iqfile import IQReader, IQWriter

    reader = IQReader(args.inp)
    fs = args.sample_rate if args.sample_rate is not None else reader.sample_rate_hz
    if fs is None:
        raise InputError("--sample-rate: needed for a raw .cf32 input")
    if not (np.isfinite(fs) and fs > 0):
        raise InputError(f"--sample-rate: must be > 0, got {fs}")
    if not (np.isfinite(args.sps) and args.sps > 0):
        raise InputError(f"--sps: must be > 0, got {args.sps}")
    if reader.n_samples == 0:
        raise InputError(f"--in {args.inp}: no samples")
    p_in = None
    if args.input_power is not None:
        if not args.input_power > 0:
            raise InputError(f"--input-power: must be > 0, got {args.input_power}")
        p_in = float(args.input_power)
    if not (np.isfinite(args.power_window_s) and args.power_window_s > 0):
        raise InputError(f"--power-window-s: must be > 0, got {args.power_window_s}")
    threads = default_threads() if args.threads is None else args.threads
    if threads < 1:
        raise InputError(f"--threads: must be >= 1, got {threads}")
    # built (and every option checked) before the output is opened; the input power is set once known
    ch, esn0_set, labels, js_set = build_channel(args, fs, reader.n_samples, p_in or 1.0)
    ch.threads = threads

    def with_power(p: float):
        ch.set_input_power(p)
        return ch

    with IQWriter(args.out, fs, description=f"linksim channel output (seed {args.seed})",
                  frequency_hz=reader.frequency_hz) as w, reader.open_stream() as src:
        res = stream_channel(src.read_into, w.write, with_power, input_power=p_in,
                             power_samples=max(1, int(args.power_window_s * fs)), what=f"--in {args.inp}")
    p_in = res.input_power
    s_pow, n_pow, j_pows = ch.mean_powers()
    n = res.samples
    out: dict[str, Any] = {
        "in": str(args.inp), "out": str(args.out), "samples": int(n), "sample_rate_hz": fs, "sps": args.sps,
        "seed": args.seed, "input_power_db": _db(p_in), "signal_power_db": _db(s_pow),
        "noise_power_db": _db(n_pow), "esn0_db_set": esn0_set,
        "esn0_db_realised": _db(args.sps * s_pow / n_pow) if n_pow > 0 else None,
        "latency_samples": ch.latency_samples, "input_power_measured": res.input_power_measured,
        "threads": threads,
        "jammers": [
            {"spec": lab, "js_db_set": js, "power_db": _db(ja),
             "js_db_realised": _db(ja / s_pow) if s_pow > 0 else None}
            for lab, js, ja in zip(labels, js_set, j_pows, strict=True)
        ],
    }
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        def f(v: float | None) -> str:
            return "-" if v is None else f"{v:.2f}"

        print(f"{n} samples at {fs:g} Hz, sps {args.sps:g} -> {args.out}")
        print(f"signal {f(out['signal_power_db'])} dB  noise {f(out['noise_power_db'])} dB  "
              f"Es/N0 realised {f(out['esn0_db_realised'])} dB (set {f(esn0_set)})")
        for j in out["jammers"]:
            print(f"jammer {j['spec']}: power {f(j['power_db'])} dB  J/S realised {f(j['js_db_realised'])} dB "
                  f"(set {f(j['js_db_set'])})")
    return 0
