"""`linksim channel`: apply the sample-clocked channel (gain, Doppler, delay, fading, AWGN, jammers) to an IQ file.

    linksim channel --in IN --out OUT --sample-rate HZ --sps N [--scenario FILE | --esn0-db DB]
        [--gain-db G] [--doppler-hz HZ] [--doppler-rate-hz-s R] [--delay-s S] [--fading SPEC]
        [--jammer SPEC ...] [--seed N] [--input-power P | --power-window-s S] [--threads N] [--start-s T]
        [--amplifier SPEC] [--json]

IN and OUT are raw complex64 (.cf32) or SigMF (.sigmf-meta/.sigmf-data; a SigMF input gives the sample rate).
Without --esn0-db (or a scenario) no noise is added. The input's mean power (Es = sps x mean |x|^2) is measured
over its first --power-window-s seconds (default 1 s; the whole file if shorter) unless --input-power declares it.
Reading, computing (on --threads cores, default all this process may use) and writing overlap
(linksim.channel.stream); the output does not depend on the thread count. (With --amplifier the file is read
three times instead: checked and its power measured, the amplifier's output power, then the channel on --threads
cores.) A jammer SPEC is a comma list such as
`type=cw,js_db=0,offset_hz=1000` or `type=barrage,js_db=3,bandwidth_hz=2e6` (see linksim.channel.jammers).
--scenario FILE drives the channel from the scenario's budget Timeline (linksim.budget.timeline.compute_timeline and
linksim.channel.from_budget), starting at scenario time --start-s; --jammer and --fading add to it.
--amplifier saleh|rapp|linear|FILE[,ibo_db=X] puts a memoryless amplifier (linksim.channel.amplifier) before the
channel, driven at input back-off X of the input's mean power (default 0 dB, saturation); its output is in units
of the saturated output power, aligned with the input, and the channel's Es/N0 and J/S refer to it.
--json prints what was applied: measured signal, noise and jammer powers (dB) and realised Es/N0 and J/S.

Every option is checked before anything is written (the ranges are in RANGES and docs/bad-input.md): values the
sample rate cannot carry (a Doppler, tone, band or fading Doppler beyond +-fs/2) are refused, not aliased. The
input is checked as it is read, in the one pass (IQReader.open_stream(verify=True): NaN or absurd samples, a SigMF
recording whose data does not match its core:sha512, found at the end); the output must not be the input, and is
written to a temporary file renamed into place at the end, so an error leaves no partial output; an output sample
that would not be finite is an error naming the options that set the levels.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from ..errors import InputError, ScenarioError
from . import check_int_option, check_iq_input, check_option, check_seed, warn

# option: (lo, hi, unit); the frequency limits depend on the sample rate and are checked in check_args
RANGES = {
    "--sample-rate": (0.0, 1e11, "Hz"),
    "--sps": (1.0, 65536.0, ""),
    "--esn0-db": (-50.0, 200.0, "dB"),
    "--gain-db": (-200.0, 200.0, "dB"),
    "--input-power": (0.0, 1e24, ""),
    "--power-window-s": (0.0, 1e6, "s"),
}
MAX_DELAY_S = 10.0
MAX_DELAY_SAMPLES = 1 << 25  # the delay line holds this many samples at most (256 MiB)


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
    p.add_argument("--gain-db", type=float, metavar="DB", help="signal gain (dB; 0)")
    p.add_argument("--doppler-hz", type=float, metavar="HZ", help="carrier offset at the start (Hz; 0)")
    p.add_argument("--doppler-rate-hz-s", type=float, metavar="R", help="Doppler rate (Hz/s; 0)")
    p.add_argument("--delay-s", type=float, metavar="S",
                   help="delay (s; 0; plus the interpolator's fixed 16-sample latency)")
    p.add_argument("--fading", metavar="SPEC", help="e.g. rician:K=4,doppler_hz=50 | rayleigh:doppler_hz=10 | "
                   "loo:doppler_hz=20,los_mean_db=-3 | lutz:K=10,doppler_hz=50")
    p.add_argument("--jammer", action="append", default=[], metavar="SPEC", help="jammer (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random stream (same seed, same output)")
    p.add_argument("--input-power", type=float, metavar="P", help="declared mean |x|^2 of the input")
    p.add_argument("--power-window-s", type=float, default=1.0, metavar="S",
                   help="measure the input power over the first S seconds (default 1)")
    p.add_argument("--threads", type=int, metavar="N", help="compute threads (default: the CPUs available)")
    p.add_argument("--start-s", type=float, metavar="T", help="scenario time of the first sample (0; with --scenario)")
    p.add_argument("--ignore-checksum", action="store_true",
                   help="read a SigMF input whose data does not match its core:sha512 (with a warning)")
    p.add_argument("--amplifier", metavar="SPEC", help="an amplifier before the channel: saleh|rapp|linear|FILE.csv"
                   "[,ibo_db=X] (input back-off of the input's mean power; see linksim.channel.amplifier)")
    p.add_argument("--json", action="store_true", help="print the applied and measured values as JSON")
    p.set_defaults(func=run, quick_exit=True)


def _db(x: float) -> float | None:
    return float(10 * np.log10(x)) if x > 0 else None


def check_args(args: argparse.Namespace, fs: float, n_samples: int) -> None:
    """InputError (one line naming the option and its valid range) for any option out of range at this sample
    rate and file length, a jammer or fading spec that does not parse or that this rate cannot carry, a scenario
    that does not load or does not cover the input from --start-s."""
    for opt in ("--sample-rate", "--sps", "--esn0-db", "--gain-db", "--input-power", "--power-window-s"):
        v = fs if opt == "--sample-rate" else getattr(args, opt[2:].replace("-", "_"))
        if v is not None:
            lo, hi, unit = RANGES[opt]
            check_option(opt, v, lo, hi, lo_open=opt in ("--sample-rate", "--input-power", "--power-window-s"),
                         unit=unit)
    check_seed("--seed", args.seed)
    if args.threads is not None:
        check_int_option("--threads", args.threads, 1, 256)
    if args.jammer:  # imported only when used (scipy.signal takes a third of a second to import)
        from ..channel.jammers import parse_jammer

        for spec in args.jammer:
            parse_jammer(spec, fs)
    if args.fading is not None:
        from ..channel.fading import parse_fading

        parse_fading(args.fading, fs)
    if args.scenario:
        from ..scenario.model import load_scenario

        for opt in ("--gain-db", "--doppler-hz", "--doppler-rate-hz-s", "--delay-s"):
            if getattr(args, opt[2:].replace("-", "_")) is not None:
                raise InputError(f"{opt}: not used with --scenario (the scenario's budget sets it)")
        t0 = check_option("--start-s", args.start_s or 0.0, unit="s")
        duration = n_samples / fs
        try:
            load_scenario(args.scenario).span_s(t0, duration)
        except InputError as e:
            if isinstance(e, ScenarioError):
                raise
            raise InputError(f"--start-s {t0:g} with --in {args.inp} ({duration:g} s): {e}") from None
        return
    if args.start_s is not None:
        raise InputError("--start-s: needs --scenario (the scenario time of the first sample)")
    half = fs / 2
    f0 = check_option("--doppler-hz", args.doppler_hz or 0.0, -half, half, lo_open=True, hi_open=True, unit="Hz")
    rate = check_option("--doppler-rate-hz-s", args.doppler_rate_hz_s or 0.0, unit="Hz/s")
    t_end = n_samples / fs
    if abs(f0 + rate * t_end) >= half:
        lo, hi = (-half - f0) / t_end, (half - f0) / t_end
        raise InputError(f"--doppler-rate-hz-s: {rate:g} Hz/s takes the Doppler to {f0 + rate * t_end:g} Hz by the "
                         f"end of the input ({t_end:g} s), outside +-{half:g} Hz at {fs:g} S/s (must be in "
                         f"({lo:g}, {hi:g}) Hz/s here)")
    max_delay = min(MAX_DELAY_S, MAX_DELAY_SAMPLES / fs)
    check_option("--delay-s", args.delay_s or 0.0, 0.0, max_delay, unit="s")


def build_channel(args: argparse.Namespace, fs: float, n_samples: int, input_power: float):
    """The Channel for these arguments (and its set Es/N0 and per-jammer J/S descriptions)."""
    from ..channel.core import Channel, ChannelProfile

    jams, fading = [], None
    if args.jammer:  # imported only when used (scipy.signal takes a third of a second to import)
        from ..channel.jammers import parse_jammer

        jams = [parse_jammer(s, fs) for s in args.jammer]
    if args.fading is not None:
        from ..channel.fading import parse_fading

        fading = parse_fading(args.fading, fs)
    duration = max(n_samples / fs, 1e-9)
    if args.scenario:
        from ..budget.timeline import compute_timeline
        from ..channel import from_budget as link_channel
        from ..errors import FieldError
        from ..scenario.model import load_scenario

        s = load_scenario(args.scenario)
        t0 = float(args.start_s or 0.0)
        tl = compute_timeline(s)
        t1 = t0 + duration
        prof = link_channel.channel_profile(tl, t0, t1)
        f_max = float(np.max(np.abs(prof.doppler_hz)))
        if f_max >= fs / 2:
            raise InputError(f"--scenario {args.scenario}: its Doppler reaches {f_max:g} Hz between {t0:g} and "
                             f"{t1:g} s, outside +-{fs / 2:g} Hz at --sample-rate {fs:g} (raise the sample rate)")
        scen_jams = link_channel.jammer_specs(tl, fs, t0, t1)
        for j, spec in zip(s.jammers, scen_jams, strict=True):
            try:
                spec.waveform.check_rate(fs)
            except FieldError as e:
                raise InputError(f"--scenario {args.scenario}: jammer {j.name!r} as simulated at {fs:g} S/s: "
                                 f"{e.field}: {e.problem}") from None
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
    esn0 = np.inf if args.esn0_db is None else args.esn0_db
    prof = ChannelProfile.constant(gain_db=args.gain_db or 0.0, doppler_hz=args.doppler_hz or 0.0,
                                   delay_s=args.delay_s or 0.0, esn0_db=esn0,
                                   doppler_rate_hz_s=args.doppler_rate_hz_s or 0.0, duration_s=duration)
    ch = Channel(fs, args.sps, prof, input_power=input_power, fading=fading, jammers=jams, seed=args.seed)
    return ch, args.esn0_db, list(args.jammer), [j.js_db for j in jams]


def _amplifier(args: argparse.Namespace, spec: Any, reader: Any, p_in: float, threads: int
               ) -> tuple[Any, float] | None:
    """(the --amplifier spec, the mean output power it gives this file), or None."""
    if spec is None:
        return None
    from ..channel.amplifier import output_power

    return spec, output_power(reader, spec, p_in, args.sps, threads)


def _amplified(reader: Any, spec: Any, p_in: float, sps: float, threads: int) -> Any:
    from ..channel.amplifier import Amplifier, aligned

    return aligned(reader, Amplifier(spec.model, spec.ibo_db, p_in, sps, threads=threads))


def _check_output(args: argparse.Namespace, y: np.ndarray, first: int) -> float | None:
    """An output sample that would not be finite (or beyond MAX_SAMPLE_ABS) is an error naming the options that
    set the levels; `first` is the index of y[0] in the output. Returns magnitude_bound(y) (IQWriter.write takes it
    instead of computing it again)."""
    from ..iqfile import MAX_SAMPLE_ABS, magnitude_bound

    b = magnitude_bound(y)  # cheap first; the exact |y| only when it is close
    if b is not None and b <= MAX_SAMPLE_ABS:
        return b
    bad = ~(np.abs(y) <= MAX_SAMPLE_ABS)  # NaN too
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"--out {args.out}: the channel output overflows (|y| = {abs(y[i]):g} at sample "
                         f"{first + i}, more than {MAX_SAMPLE_ABS:g}): lower --gain-db, --input-power or "
                         f"a jammer's js_db, or raise --esn0-db; nothing written")
    return None


def _first_seconds_power(reader: Any, n: int) -> float | None:
    """The input power as linksim.channel.stream measures it (mean |x|^2 over the whole chunks that cover the first
    n samples), read ahead once with one reused buffer: the stream then holds no samples back (a file can be read
    twice; its first seconds come from the page cache). None when those samples are not all finite or are all zero:
    the stream then measures them itself and its checks name the problem."""
    from ..channel.stream import DEFAULT_CHUNK, first_power

    buf = np.empty(DEFAULT_CHUNK, dtype=np.complex64)

    def chunks() -> Any:
        with reader.open_stream(verify=False) as src:
            while (k := src.read_into(buf)) > 0:
                yield buf[:k]

    gen = chunks()
    try:
        p, _ = first_power(gen, n)
    finally:
        gen.close()  # the read-ahead's file closed now, not when the generator is collected
    return p if np.isfinite(p) and p > 0 else None


def run(args: argparse.Namespace) -> int:
    import os

    from ..channel.amplifier import parse_amplifier
    from ..channel.parallel import default_threads, shutdown_pools
    from ..channel.stream import stream_channel
    from ..iqfile import IQReader, IQWriter

    reader = IQReader(args.inp, what="--in")
    fs = args.sample_rate if args.sample_rate is not None else reader.sample_rate_hz
    if fs is None:
        raise InputError("--sample-rate: needed for a raw .cf32 input")
    if reader.n_samples == 0:
        raise InputError(f"--in {args.inp}: no samples")
    check_args(args, fs, reader.n_samples)
    threads = default_threads() if args.threads is None else args.threads
    amp_spec = parse_amplifier(args.amplifier) if args.amplifier else None  # checked before anything is written
    amp = None
    if amp_spec is not None:
        # the amplifier is driven at a back-off of the input's mean power and the channel's levels refer to its
        # mean output power: three passes (input checked, amplifier output power, channel), not the stream below
        with IQWriter(args.out, fs, description=f"linksim channel output (seed {args.seed})",
                      frequency_hz=reader.frequency_hz, inputs=reader.files, what="--out") as w:
            chk = check_iq_input(reader, args.ignore_checksum)
            if args.input_power is not None:
                p_in = float(args.input_power)
            else:
                p_in = chk.mean_power
                if p_in <= 0:
                    raise InputError(f"--in {args.inp}: the input is all zeros (declare --input-power)")
            # Es/N0 and J/S then refer to the amplifier's output
            amp = _amplifier(args, amp_spec, reader, p_in, threads)
            assert amp is not None
            ch, esn0_set, labels, js_set = build_channel(args, fs, reader.n_samples, amp[1])
            ch.threads = threads
            for c in _amplified(reader, amp[0], p_in, args.sps, threads):
                y = ch.process(c)
                w.write(y, bound=_check_output(args, y, ch.n_processed - c.size))
        input_power_measured = args.input_power is None
        n = reader.n_samples
    else:
        p_decl = None if args.input_power is None else float(args.input_power)
        # built (and every option checked) before the output is opened; the input power is set once known
        ch, esn0_set, labels, js_set = build_channel(args, fs, reader.n_samples, p_decl or 1.0)
        ch.threads = threads

        def with_power(p: float):
            ch.set_input_power(p)
            return ch

        def write(y: np.ndarray) -> None:  # on the writer thread
            w.write(y, bound=_check_output(args, y, w.n_samples))

        power_samples = max(1, int(args.power_window_s * fs))
        p_first = _first_seconds_power(reader, power_samples) if p_decl is None else None
        with IQWriter(args.out, fs, description=f"linksim channel output (seed {args.seed})",
                      frequency_hz=reader.frequency_hz, inputs=reader.files, what="--out") as w, \
                reader.open_stream(verify=True) as src:
            res = stream_channel(src.read_into, write, with_power, input_power=p_decl or p_first,
                                 power_samples=power_samples, what=f"--in {args.inp}")
            got = src.sha512()
            want = reader.meta.get("core:sha512")
            if got is not None and got.lower() != str(want).lower():  # found at the end of the one pass
                meta = os.path.basename(str(reader.files[0]))
                msg = (f"--in {reader.data_path}: the data does not match core:sha512 in {meta} (it changed after "
                       f"it was recorded)")
                if not args.ignore_checksum:
                    raise InputError(f"{msg}; --ignore-checksum reads it anyway; nothing written")
                warn(f"{msg}; read anyway (--ignore-checksum)")
        p_in = res.input_power
        input_power_measured = p_decl is None
        n = res.samples
    shutdown_pools()  # the output is complete: the process may end at once (quick_exit)
    s_pow, n_pow, j_pows = ch.mean_powers()
    out: dict[str, Any] = {
        "in": str(args.inp), "out": str(args.out), "samples": int(n), "sample_rate_hz": fs, "sps": args.sps,
        "seed": args.seed, "input_power_db": _db(p_in), "signal_power_db": _db(s_pow),
        "noise_power_db": _db(n_pow), "esn0_db_set": esn0_set,
        "esn0_db_realised": _db(args.sps * s_pow / n_pow) if n_pow > 0 else None,
        "latency_samples": ch.latency_samples, "input_power_measured": input_power_measured,
        "threads": threads,
        **({"amplifier": {"model": amp[0].name, "ibo_db": amp[0].ibo_db,
                          "obo_db": _db(1.0 / amp[1]) if amp[1] > 0 else None}} if amp else {}),
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
