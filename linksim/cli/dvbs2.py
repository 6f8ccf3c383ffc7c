"""`linksim dvbs2 ...`: the DVB-S2 waveform from the command line.

Each sub-command has its own `register_NAME(sub)` function (adds its parser, sets `func`) and its own
`run_NAME(args) -> int`; `SUBCOMMANDS` lists the registration functions in the order `--help` shows them.

Every numeric option is checked against its range before any work (the ranges are the constants below and in
docs/bad-input.md); output files are written to temporary names and renamed at the end (linksim.files), so an
error leaves nothing half-written; `rx` reads its input once first (NaN or absurd samples, a SigMF recording
whose data does not match its core:sha512 are refused).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from ..dvbs2.params import RX_LDPC_ITERATIONS
from ..errors import InputError
from . import check_int_option, check_iq_input, check_option, check_seed

TX_SPS = (1, 64)
RX_SPS = (2.0, 64.0)
MAX_GOLD_CODE = 262142
MAX_ITER = (1, 1000)
TX_MAX_FRAMES = 10_000_000
TS_IN_MAX_BYTES = 1 << 30  # --ts-in is held in memory
BER_MAX_FRAMES = 100_000  # run_link keeps every sent frame's data to count bit errors (up to 7.3 kB a frame)
ESN0_DB = (-30.0, 60.0)
SYMBOL_RATE_BAUD = (1.0, 1e10)
TIMING_OFFSET_SAMPLES = (-1.0, 1.0)
SPREADING = (1, 512)


def _outputs(stack: ExitStack, pairs: list[tuple[str, str | None]], inputs: list) -> list:
    """AtomicOutputs for (option, path) pairs (None: not asked for), entered on `stack`; two outputs may not be
    the same path, and none may be an input."""
    from ..files import AtomicOutput

    seen: dict[str, str] = {}
    outs = []
    for opt, path in pairs:
        if path is None:
            outs.append(None)
            continue
        key = str(Path(path).resolve())
        if key in seen:
            raise InputError(f"{opt} {path}: the same file as {seen[key]}")
        seen[key] = opt
        outs.append(stack.enter_context(AtomicOutput(path, opt, inputs=inputs)))
    return outs


def _check_free_space(opt: str, path: str, need_bytes: int) -> None:
    """InputError if the file system of `path` has less free space than need_bytes."""
    free = shutil.disk_usage(Path(path).resolve().parent).free
    if need_bytes > free:
        raise InputError(f"{opt} {path}: needs {need_bytes / 2**30:.3g} GiB, the file system has {free / 2**30:.3g} "
                         f"GiB free")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dvbs2",
        help="DVB-S2 transmitter, receiver and link tests",
        description="DVB-S2 (ETSI EN 302 307-1) waveform tools, with the DVB-S2X VL-SNR MODCODs (EN 302 307-2): "
        '"QPSK 2/9", "BPSK 1/5", "BPSK 11/45", "BPSK 1/3" (32400-bit frames), "BPSK-S 1/5", "BPSK-S 11/45" '
        '(spread by 2), "BPSK 1/5 short", "BPSK 4/15 short", "BPSK 1/3 short".',
    )
    dsub = p.add_subparsers(dest="dvbs2_command", metavar="COMMAND", parser_class=type(p))
    dsub.required = True
    for reg in SUBCOMMANDS:
        reg(dsub)


# ------------------------------------------------------------------------------------------------ waveform


def add_waveform_options(p: argparse.ArgumentParser, symbol_rate: bool = True) -> None:
    """--spreading, --spreading-seed, --hopping (and --symbol-rate-baud for the hop spec's Hz and seconds)."""
    g = p.add_argument_group("spreading and hopping (linksim.dvbs2.waveform)")
    g.add_argument("--spreading", type=int, default=1, metavar="N",
                   help="direct-sequence spreading: N chips per symbol, 1 to 512 (1: none); --sps is then per chip")
    g.add_argument("--spreading-seed", type=int, default=1, metavar="S", help="seed of the chip code (1)")
    g.add_argument("--hopping", metavar="SPEC", default=None,
                   help="frequency hopping: 'channels=8,spacing_hz=25e3,dwell_s=0.01,seed=1' (or dwell_frames=N "
                   "PLFRAMEs of --modcod instead of dwell_s)")
    if symbol_rate:
        g.add_argument("--symbol-rate-baud", type=float, default=1e6,
                       help="symbol rate, for the hop spec's Hz and seconds (1e6)")


def waveform_of(args: argparse.Namespace, modcod: str | None, frame: str, pilots: bool,
                sps: float) -> object | None:
    """The Waveform of --spreading/--hopping (None for neither); bad values name their option."""
    from ..dvbs2.hopping import parse_hopping
    from ..dvbs2.waveform import waveform_from_options

    check_int_option("--spreading", args.spreading, *SPREADING)
    check_seed("--spreading-seed", args.spreading_seed)
    if args.spreading == 1 and args.hopping is None:
        return None
    hop = parse_hopping(args.hopping) if args.hopping is not None else None
    if hop is not None and "dwell_frames" in hop and modcod is None:
        raise InputError("--hopping: dwell_frames counts PLFRAMEs of --modcod: give --modcod (or use dwell_s)")
    if abs(sps - round(sps)) > 1e-12 or sps < 2:
        raise InputError(f"--sps: spreading and hopping need a whole number >= 2 of samples per chip, not {sps}")
    check_option("--symbol-rate-baud", args.symbol_rate_baud, *SYMBOL_RATE_BAUD, unit="Bd")
    try:
        return waveform_from_options(args.spreading, hop, int(round(sps)), args.symbol_rate_baud, args.rolloff,
                                     modcod or "QPSK 1/2", frame, pilots, args.spreading_seed)
    except InputError as e:
        raise InputError(f"--hopping: {e}" if hop is not None and "hopping" in str(e) else str(e)) from None


# ------------------------------------------------------------------------------------------------ tx


def register_tx(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser(
        "tx",
        help="write DVB-S2 IQ samples (cf32) from TS packets or random data",
        description="Generate DVB-S2 PLFRAMEs, RRC-shaped, as interleaved complex64 (cf32) samples with unit "
        "mean power. The MODCOD may be a comma-separated list, used frame by frame in turn (VCM).",
    )
    p.add_argument("--modcod", required=True,
                   help='MODCOD, e.g. "8PSK 3/4" or "BPSK-S 1/5" (VL-SNR), or a list "QPSK 1/2,8PSK 3/4"')
    p.add_argument("--pilots", action=argparse.BooleanOptionalAction, default=True, help="pilot blocks (on)")
    p.add_argument("--rolloff", type=float, default=0.2, choices=[0.35, 0.25, 0.2], help="RRC roll-off (0.2)")
    p.add_argument("--sps", type=int, default=2, help="samples per symbol (2)")
    p.add_argument("--frame", choices=["normal", "short"], default="normal", help="FECFRAME size (normal)")
    p.add_argument("--gold-code", type=int, default=0, metavar="N", help="PL scrambling Gold code n (0)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--ts-in", metavar="FILE", help="MPEG-TS file (188-byte packets) to transmit, all of it")
    src.add_argument("--frames", type=int, metavar="N", help="N frames of pseudo-random TS packets (default 10)")
    p.add_argument("--generic", action="store_true", help="treat --ts-in as a generic continuous stream")
    p.add_argument("--seed", type=int, default=0, help="seed of the random TS packets (0)")
    p.add_argument("--save-ts", metavar="FILE", help="also write the TS packets that were transmitted")
    p.add_argument(
        "--ccm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="BBHEADER CCM flag (default: on for one MODCOD, off for a list)",
    )
    p.add_argument("--out", required=True, metavar="FILE.cf32", help="output IQ file (complex64)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_waveform_options(p)
    p.set_defaults(func=run_tx, quick_exit=True)


def _schedule(text: str) -> list[str]:
    from ..dvbs2.params import frame_params

    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise InputError("--modcod is empty")
    try:
        return [frame_params(n).modcod for n in names]
    except InputError as e:
        raise InputError(f"--modcod: {e}") from None


def run_tx(args: argparse.Namespace) -> int:
    from ..dvbs2.bbframe import TS_PACKET_BYTES
    from ..dvbs2.tx import RandomTsStream
    from ..dvbs2.waveform import make_transmitter
    from ..files import read_bytes
    from ..iqfile import SIGMF_SUFFIXES

    sched = _schedule(args.modcod)
    check_int_option("--sps", args.sps, *TX_SPS)
    check_int_option("--gold-code", args.gold_code, 0, MAX_GOLD_CODE)
    check_seed("--seed", args.seed)
    if args.generic and not args.ts_in:
        raise InputError("--generic needs --ts-in")
    if str(args.out).endswith(SIGMF_SUFFIXES):
        raise InputError(f"--out {args.out}: dvbs2 tx writes raw complex64 (it has no sample rate for SigMF "
                         f"metadata): use a .cf32 name")
    ccm = (len(set(sched)) == 1) if args.ccm is None else args.ccm
    wf = waveform_of(args, sched[0], args.frame, args.pilots, args.sps)
    tx = make_transmitter(
        wf, args.frame, args.pilots, args.rolloff, args.sps, args.gold_code, "generic" if args.generic else "ts", ccm
    )
    sps_iq = args.sps if wf is None else wf.samples_per_symbol  # type: ignore[attr-defined]
    for m in set(sched):
        tx.params(m)  # short frames have no 9/10: fail before writing anything

    stream = None
    if args.ts_in:
        data = read_bytes(args.ts_in, "--ts-in", TS_IN_MAX_BYTES)
        if not data:
            raise InputError(f"--ts-in {args.ts_in} is empty")
        try:
            tx.push(data)
        except InputError as e:
            raise InputError(f"--ts-in {args.ts_in}: {e}") from None
        n_frames = None  # until the input is used up
        left, count = len(data), 0
        while left > 0:
            left -= tx.frame_capacity_bytes(sched[count % len(sched)])
            count += 1
    else:
        n_frames = 10 if args.frames is None else args.frames
        count = check_int_option("--frames", n_frames, 1, TX_MAX_FRAMES)
        stream = RandomTsStream(args.seed)
    per_frame = [tx.params(m).plframe_symbols * sps_iq * 8 for m in sched]
    need = sum(per_frame) * (count // len(sched)) + sum(per_frame[: count % len(sched)])

    counts: dict[str, int] = {}
    symbols = samples = info_bytes = 0
    t0 = time.perf_counter()
    with ExitStack() as stack:
        out, save = _outputs(stack, [("--out", args.out), ("--save-ts", args.save_ts)],
                             [args.ts_in] if args.ts_in else [])
        _check_free_space("--out", args.out, need)
        f = stack.enter_context(out.open("wb"))
        sf = stack.enter_context(save.open("wb")) if save is not None else None
        if sf is not None and args.ts_in:
            sf.write(data)
        i = 0
        while (n_frames is None and tx.pending_bytes > 0) or (n_frames is not None and i < n_frames):
            m = sched[i % len(sched)]
            if stream is not None:  # random TS packets, made as the frames need them
                short = tx.frame_capacity_bytes(m) - tx.pending_bytes
                if short > 0:
                    pk = stream.take(-(-short // TS_PACKET_BYTES))
                    tx.push(pk)
                    if sf is not None:
                        sf.write(pk)
            before = tx.pending_bytes
            syms = tx.frame_symbols(m)
            info_bytes += before - tx.pending_bytes
            x = tx.shape(syms)
            x.tofile(f)
            counts[m] = counts.get(m, 0) + 1
            symbols += syms.size
            samples += x.size
            i += 1
            if sys.stderr.isatty() and i % 100 == 0:
                sys.stderr.write(f"\rlinksim dvbs2 tx: {i} frames")
        tail = tx.flush()
        tail.tofile(f)
        samples += tail.size
        if sf is not None:  # the packets that ended inside the frames sent
            sf.truncate(info_bytes if args.generic else info_bytes // TS_PACKET_BYTES * TS_PACKET_BYTES)
    elapsed = time.perf_counter() - t0
    if sys.stderr.isatty() and i >= 100:
        sys.stderr.write("\n")
    summary = {
        "out": str(args.out),
        "frames": i,
        "frames_per_modcod": counts,
        "frame": args.frame,
        "pilots": args.pilots,
        "rolloff": args.rolloff,
        "sps": args.sps,
        "gold_code": args.gold_code,
        "symbols": symbols,
        "samples": samples,
        "delay_samples": tx.delay_samples,
        "info_bytes": info_bytes,
        "ts_packets": info_bytes // TS_PACKET_BYTES if not args.generic else None,
        "seconds": round(elapsed, 3),
        "msym_per_s": round(symbols / elapsed / 1e6, 3) if elapsed > 0 else None,
    }
    if wf is not None:
        summary["waveform"] = wf.describe()  # type: ignore[attr-defined]
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        mods = ", ".join(f"{k} x{v}" for k, v in counts.items())
        print(f"wrote {samples} samples ({symbols} symbols, {i} PLFRAMEs: {mods}) to {args.out}")
        print(
            f"sps {args.sps}, roll-off {args.rolloff}, {args.frame} frames, pilots {'on' if args.pilots else 'off'}"
            f", Gold code {args.gold_code}; filter delay {tx.delay_samples} samples"
        )
        if wf is not None:
            d = summary["waveform"]
            print(f"spreading {d['spreading_factor']}" + (f" (chip rate {d['chip_rate_hz']:g} Hz)" if
                  d["spreading_factor"] > 1 else "") + (f", hopping over {d['hop_channels']} channels, "
                  f"{d['hop_dwell_s']:g} s per hop" if "hop_channels" in d else "") +
                  f"; {d['samples_per_symbol']} samples per symbol, {d['sample_rate_hz']:g} Hz")
        print(f"{info_bytes} information bytes; {summary['msym_per_s']} Msym/s (wall clock, with start-up)")
    return 0


# ------------------------------------------------------------------------------------------------ rx


def register_rx(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser(
        "rx",
        help="decode a DVB-S2 recording (cf32): per-MODCOD frame counts, errors, Es/N0",
        description="Run the DVB-S2 receiver (timing, frame and carrier synchronisation, LDPC and BCH decoding) "
        "over a complex64 (cf32) recording with any MODCOD mix, carrier and timing offset.",
    )
    p.add_argument("--in", dest="infile", required=True, metavar="FILE.cf32", help="input IQ file (complex64)")
    p.add_argument("--sps", type=float, default=2.0,
                   help="samples per symbol (2); any value >= 2: sample rate / symbol rate of the recording")
    p.add_argument("--rolloff", type=float, default=0.2, choices=[0.35, 0.25, 0.2], help="RRC roll-off (0.2)")
    p.add_argument("--gold-code", type=int, default=0, metavar="N", help="PL scrambling Gold code n (0)")
    p.add_argument("--max-iter", type=int, default=RX_LDPC_ITERATIONS,
                   help=f"LDPC iteration limit ({RX_LDPC_ITERATIONS}: the effort of Table 13; 50 decodes lower)")
    p.add_argument("--demapper", choices=["exact", "maxlog"], default="maxlog", help="soft demapper (maxlog)")
    p.add_argument("--vlsnr", action="store_true",
                   help="also receive DVB-S2X VL-SNR frames (search for their headers; Es/N0 down to -10 dB)")
    add_mitigation_options(p)
    p.add_argument("--threads", type=int, metavar="N", help="threads (default: the CPUs available; 2 or more: "
                   "frames decode on N - 1 threads while the front end runs ahead; same results)")
    p.add_argument("--ts-out", metavar="FILE.ts", help="write the TS packets received")
    p.add_argument("--frames-out", metavar="FILE.jsonl", help="write one JSON line per frame")
    p.add_argument("--ignore-checksum", action="store_true",
                   help="decode a SigMF recording whose data does not match its core:sha512 (with a warning)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_waveform_options(p)
    p.add_argument("--modcod", default=None, help="with --hopping dwell_frames: the MODCOD whose PLFRAMEs it counts")
    p.add_argument("--frame", choices=["normal", "short"], default="normal",
                   help="with --hopping dwell_frames: their FECFRAME size (normal)")
    p.add_argument("--pilots", action=argparse.BooleanOptionalAction, default=True,
                   help="with --hopping dwell_frames: their pilots (on)")
    p.set_defaults(func=run_rx, quick_exit=True)


# --option -> [mitigation] key (linksim.scenario.model.Mitigation), for the receiver's front end
MITIGATION_OPTIONS = {
    "excision": "excision", "blanking": "blanking", "fft_size": "fft_size",
    "excision_threshold_db": "excision_threshold_db", "excision_mode": "excision_mode", "notch_max": "notch_max",
    "notch_bw_t": "notch_bw_t", "notch_threshold_db": "notch_threshold_db",
    "blanking_threshold_db": "blanking_threshold_db", "blanking_guard": "blanking_guard_samples",
    "blanking_mode": "blanking_mode",
}


def add_mitigation_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("mitigation before the matched filter (docs/antijam.md)")
    g.add_argument("--excision", choices=["none", "fft", "notch"], default="none",
                   help="narrowband jammer excision: FFT-domain, or a bank of adaptive notches (none)")
    g.add_argument("--blanking", choices=["none", "pulse"], default="none",
                   help="blank pulses and erase the symbols they hit (none)")
    g.add_argument("--fft-size", type=int, default=None, metavar="N", help="FFT excision frame, samples (1024)")
    g.add_argument("--excision-threshold-db", type=float, default=None, metavar="DB",
                   help="FFT excision: bin level over the local reference (13)")
    g.add_argument("--excision-mode", choices=["zero", "clip"], default=None, help="FFT excision: remove or clip")
    g.add_argument("--notch-max", type=int, default=None, metavar="N", help="notch: most tones at once (8)")
    g.add_argument("--notch-bw-t", type=float, default=None, metavar="BT",
                   help="notch: -3 dB width times the symbol period (0.002)")
    g.add_argument("--notch-threshold-db", type=float, default=None, metavar="DB",
                   help="notch: tone level over the local spectrum (15)")
    g.add_argument("--blanking-threshold-db", type=float, default=None, metavar="DB",
                   help="pulse level over the running power level (8)")
    g.add_argument("--blanking-guard", type=int, default=None, metavar="SAMPLES",
                   help="samples blanked either side of a pulse (1)")
    g.add_argument("--blanking-mode", choices=["zero", "clip"], default=None, help="zero or clip a pulse (zero)")


def mitigation_from_args(args: argparse.Namespace):  # -> linksim.scenario.model.Mitigation
    """The [mitigation] settings the command line asks for; a bad value is an InputError naming the option."""
    from ..errors import ScenarioError
    from ..scenario.model import Mitigation
    from ..scenario.schema import build

    table = {key: getattr(args, opt) for opt, key in MITIGATION_OPTIONS.items() if getattr(args, opt) is not None}
    for opt in table:
        need = {"fft": ("excision", "fft"), "exc": ("excision", "fft"), "not": ("excision", "notch"),
                "bla": ("blanking", "pulse")}.get(opt[:3])
        if need and opt not in ("excision", "blanking") and table.get(need[0]) != need[1]:
            name = next(o for o, k in MITIGATION_OPTIONS.items() if k == opt)
            raise InputError(f"--{name.replace('_', '-')} needs --{need[0]} {need[1]}")
    try:
        return build(Mitigation, table, "mitigation")
    except ScenarioError as e:
        key = e.key.split(".", 1)[1]
        opt = next(o for o, k in MITIGATION_OPTIONS.items() if k == key)
        raise InputError(f"--{opt.replace('_', '-')}: {e.problem}") from None


def run_rx(args: argparse.Namespace) -> int:
    import numpy as np

    from ..dvbs2.waveform import make_receiver
    from ..iqfile import IQReader

    check_option("--sps", args.sps, *RX_SPS)
    check_int_option("--gold-code", args.gold_code, 0, MAX_GOLD_CODE)
    check_int_option("--max-iter", args.max_iter, *MAX_ITER)
    wf = waveform_of(args, _schedule(args.modcod)[0] if args.modcod else None, args.frame, args.pilots, args.sps)
    sps_iq = args.sps if wf is None else wf.samples_per_symbol  # type: ignore[attr-defined]
    from ..channel.parallel import default_threads

    threads = default_threads() if args.threads is None else check_int_option("--threads", args.threads, 1, 256)
    path = Path(args.infile)
    mit = mitigation_from_args(args)
    reader = IQReader(path, chunk_samples=1 << 20, what="--in")  # raw .cf32 or a SigMF recording (linksim hw)
    if reader.n_samples == 0:
        raise InputError(f"--in {args.infile}: no samples")
    front = None
    if mit.active:
        from ..mitigation.chain import ReceiverMitigation

        front = ReceiverMitigation(mit, args.sps)
    per: dict[str, dict] = {}
    total = {"frames": 0, "ok": 0, "ts_packets": 0, "samples": 0}
    with ExitStack() as stack:
        ts_out, fr_out = _outputs(stack, [("--ts-out", args.ts_out), ("--frames-out", args.frames_out)],
                                  reader.files)
        check_iq_input(reader, args.ignore_checksum)
        rx = make_receiver(wf, sps=args.sps, rolloff=args.rolloff,  # type: ignore[arg-type]
                           gold_code=args.gold_code, max_iter=args.max_iter, demapper=args.demapper,
                           vlsnr=args.vlsnr, decode_threads=threads - 1, pipeline=threads > 1)
        ts_f = stack.enter_context(ts_out.open("wb")) if ts_out is not None else None
        fr_f = stack.enter_context(fr_out.open("w")) if fr_out is not None else None
        t0 = time.perf_counter()

        def consume(reports: list) -> None:
            for r in reports:
                d = per.setdefault(r.modcod, {"frames": 0, "errors": 0, "esn0": []})
                d["frames"] += 1
                d["errors"] += 0 if r.ok else 1
                if np.isfinite(r.esn0_est_db):
                    d["esn0"].append(r.esn0_est_db)
                total["frames"] += 1
                total["ok"] += int(r.ok)
                total["ts_packets"] += len(r.ts) // 188
                if ts_f and r.ts:
                    ts_f.write(r.ts)
                if fr_f:
                    fr_f.write(json.dumps(r.as_dict()) + "\n")

        for x in reader:
            total["samples"] += x.size
            if front is not None:
                y, mask = front.process(x)
                consume(rx.process(y, erasures=mask))
            else:
                consume(rx.process(x))
        if front is not None:
            y, mask = front.flush()
            consume(rx.process(y, erasures=mask))
        consume(rx.flush())
    elapsed = time.perf_counter() - t0
    rows = {
        m: {
            "frames": d["frames"],
            "errors": d["errors"],
            "esn0_est_db": round(float(10 * np.log10(np.mean(10 ** (np.array(d["esn0"]) / 10)))), 2)
            if d["esn0"] else None,
        }
        for m, d in sorted(per.items())
    }
    summary = {
        "in": str(path), "samples": total["samples"], "frames": total["frames"], "frame_errors":
        total["frames"] - total["ok"], "ts_packets": total["ts_packets"], "per_modcod": rows,
        "cfo_hz_per_baud": rx.cfo_cyc, "lock_lost": rx.stats["lost_lock"], "seconds": round(elapsed, 3),
        "msym_per_s": round(total["samples"] / sps_iq / elapsed / 1e6, 3) if elapsed > 0 else None,
    }
    if front is not None:
        summary["mitigation"] = front.stats()
    if wf is not None:
        summary["waveform"] = wf.describe()  # type: ignore[attr-defined]
        summary["despreader"] = {k: v for k, v in rx.stats.items() if k.startswith("despreader_")}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{'MODCOD':<16} {'frames':>7} {'errors':>7} {'Es/N0 dB':>9}")
        for m, r in rows.items():
            e = "" if r["esn0_est_db"] is None else f"{r['esn0_est_db']:.2f}"
            print(f"{m:<16} {r['frames']:>7} {r['errors']:>7} {e:>9}")
        if front is not None:
            print(mitigation_text(summary["mitigation"]))
        lost = f"; lock lost {summary['lock_lost']} times" if summary["lock_lost"] else ""
        print(f"{total['frames']} frames, {summary['frame_errors']} with errors, {total['ts_packets']} TS packets; "
              f"carrier offset {rx.cfo_cyc:+.5f} x symbol rate{lost}; {summary['msym_per_s']} Msym/s")
    return 0


def mitigation_text(st: dict) -> str:
    """One line saying what the front end did."""
    parts = []
    if st.get("excision") == "fft":
        parts.append(f"FFT excision: {100 * st['excised_fraction']:.2f} % of the bins, "
                     f"{100 * st['excised_power_fraction']:.1f} % of the power")
    elif st.get("excision") == "notch":
        parts.append(f"notch bank: {st['tones_found']} tones found, {st['mean_notches_active']:.1f} notches on "
                     "average")
    if st.get("blanking") == "pulse":
        parts.append(f"blanking: {100 * st['blanked_fraction']:.2f} % of the samples ({st['pulses']} pulses)")
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------------ ber


def register_ber(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser(
        "ber",
        help="TX -> AWGN -> RX in process: frame and bit error counts",
        description="Send DVB-S2 frames through AWGN (and a carrier offset) to the receiver, in process, and "
        "count frame and bit errors. --sync full runs the whole synchronisation chain; genie gives the receiver "
        "perfect timing, carrier frequency and phase.",
    )
    p.add_argument("--modcod", required=True, help='MODCOD, e.g. "QPSK 1/2" or "BPSK-S 1/5" (VL-SNR)')
    p.add_argument("--esn0-db", type=float, required=True, help="Es/N0 in dB")
    p.add_argument("--frames", type=int, default=20, help="frames to send (20)")
    p.add_argument("--sync", choices=["full", "genie"], default="full", help="synchronisation (full)")
    p.add_argument("--cfo-hz", type=float, default=0.0, help="carrier offset in Hz (0)")
    p.add_argument("--symbol-rate-baud", type=float, default=1e6, help="symbol rate for --cfo-hz (1e6)")
    p.add_argument("--timing-offset", type=float, default=0.0, metavar="SAMPLES",
                   help="fractional timing offset in samples (0)")
    p.add_argument("--frame", choices=["normal", "short"], default="normal", help="FECFRAME size (normal)")
    p.add_argument("--pilots", action=argparse.BooleanOptionalAction, default=True, help="pilot blocks (on)")
    p.add_argument("--sps", type=int, default=2, help="samples per symbol (2)")
    p.add_argument("--rolloff", type=float, default=0.2, choices=[0.35, 0.25, 0.2], help="RRC roll-off (0.2)")
    p.add_argument("--max-iter", type=int, default=RX_LDPC_ITERATIONS,
                   help=f"LDPC iteration limit ({RX_LDPC_ITERATIONS}: the effort of Table 13; 50 decodes lower)")
    p.add_argument("--demapper", choices=["exact", "maxlog"], default="maxlog", help="soft demapper (maxlog)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_waveform_options(p, symbol_rate=False)
    p.add_argument("--jammer", action="append", default=[], metavar="SPEC",
                   help="a jammer added by linksim's channel, as `linksim channel --jammer` takes it "
                   "(type=barrage,js_db=10,bandwidth_hz=1.2e6; J/S relative to the signal); repeatable")
    p.set_defaults(func=run_ber)


def run_ber(args: argparse.Namespace) -> int:
    from ..dvbs2.link import max_cfo_hz, run_link

    check_option("--esn0-db", args.esn0_db, *ESN0_DB, unit="dB")
    check_int_option("--frames", args.frames, 1, BER_MAX_FRAMES)
    check_int_option("--sps", args.sps, 2, TX_SPS[1])  # the receiver needs 2 samples per symbol at least
    check_int_option("--max-iter", args.max_iter, *MAX_ITER)
    check_seed("--seed", args.seed)
    rs = check_option("--symbol-rate-baud", args.symbol_rate_baud, *SYMBOL_RATE_BAUD, unit="Bd")
    wf = waveform_of(args, args.modcod, args.frame, args.pilots, args.sps)
    if wf is None:
        lim = max_cfo_hz(rs, args.sps, args.rolloff)
    else:  # the chip band stays inside the sampled band
        lim = max_cfo_hz(rs * wf.spreading_factor, wf.samples_per_chip, args.rolloff)  # type: ignore[attr-defined]
    check_option("--cfo-hz", args.cfo_hz, -lim, lim, unit="Hz")
    check_option("--timing-offset", args.timing_offset, *TIMING_OFFSET_SAMPLES, unit="samples")
    if len(_schedule(args.modcod)) != 1:
        raise InputError(f"--modcod {args.modcod!r}: give one MODCOD")
    if wf is not None and args.timing_offset:
        raise InputError("--timing-offset: not with --spreading/--hopping (the despreader finds the chip timing)")
    if args.jammer:
        from ..channel.jammers import parse_jammer

        fs = rs * (args.sps if wf is None else wf.samples_per_symbol)  # type: ignore[attr-defined]
        for j in args.jammer:
            parse_jammer(j, fs)  # a bad spec fails before anything runs
    r = run_link(args.modcod, args.esn0_db, frames=args.frames, sync=args.sync, cfo_hz=args.cfo_hz,
                 symbol_rate_baud=args.symbol_rate_baud, sps=args.sps, rolloff=args.rolloff, seed=args.seed,
                 pilots=args.pilots, frame=args.frame, max_iter=args.max_iter,
                 timing_offset_samples=args.timing_offset, demapper=args.demapper,
                 waveform=wf, jammers=args.jammer)  # type: ignore[arg-type]
    d = r.as_dict()
    if wf is not None:
        d["waveform"] = wf.describe()  # type: ignore[attr-defined]
    if args.json:  # JSON has no NaN: a figure with nothing to average (no frame decoded) is null
        print(json.dumps({k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in d.items()},
                         indent=2))
    else:
        for k in ("modcod", "esn0_db", "sync", "frames", "frame_errors", "fer", "undetected_errors", "missed",
                  "info_bits", "bit_errors", "ber", "esn0_est_db", "decode_mbps", "rx_symbols_per_second",
                  "mean_ldpc_iterations"):
            v = d[k]
            print(f"{k:<22} {v:.4g}" if isinstance(v, float) else f"{k:<22} {v}")
        for k, v in d.get("waveform", {}).items():
            print(f"{k:<22} {v:.6g}" if isinstance(v, float) else f"{k:<22} {v}")
    return 0


# Registration functions of the dvbs2 sub-commands, in --help order (the receiver adds rx and ber here).
SUBCOMMANDS = [register_tx, register_rx, register_ber]
