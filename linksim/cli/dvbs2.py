"""`linksim dvbs2 ...`: the DVB-S2 waveform from the command line.

Each sub-command has its own `register_NAME(sub)` function (adds its parser, sets `func`) and its own
`run_NAME(args) -> int`; `SUBCOMMANDS` lists the registration functions in the order `--help` shows them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..dvbs2.params import RX_LDPC_ITERATIONS
from ..errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dvbs2",
        help="DVB-S2 transmitter, receiver and link tests",
        description="DVB-S2 (ETSI EN 302 307-1) waveform tools.",
    )
    dsub = p.add_subparsers(dest="dvbs2_command", metavar="COMMAND", parser_class=type(p))
    dsub.required = True
    for reg in SUBCOMMANDS:
        reg(dsub)


# ------------------------------------------------------------------------------------------------ tx


def register_tx(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser(
        "tx",
        help="write DVB-S2 IQ samples (cf32) from TS packets or random data",
        description="Generate DVB-S2 PLFRAMEs, RRC-shaped, as interleaved complex64 (cf32) samples with unit "
        "mean power. The MODCOD may be a comma-separated list, used frame by frame in turn (VCM).",
    )
    p.add_argument("--modcod", required=True, help='MODCOD, e.g. "8PSK 3/4", or a list "QPSK 1/2,8PSK 3/4"')
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
    p.set_defaults(func=run_tx)


def _schedule(text: str) -> list[str]:
    from ..dvbs2.params import frame_params

    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise InputError("--modcod is empty")
    return [frame_params(n).modcod for n in names]


def run_tx(args: argparse.Namespace) -> int:
    from ..dvbs2.bbframe import TS_PACKET_BYTES
    from ..dvbs2.tx import Transmitter, random_ts_packets

    sched = _schedule(args.modcod)
    if args.sps < 1:
        raise InputError(f"--sps must be >= 1, not {args.sps}")
    if args.generic and not args.ts_in:
        raise InputError("--generic needs --ts-in")
    ccm = (len(set(sched)) == 1) if args.ccm is None else args.ccm
    tx = Transmitter(
        args.frame, args.pilots, args.rolloff, args.sps, args.gold_code, "generic" if args.generic else "ts", ccm
    )
    for m in set(sched):
        tx.params(m)  # short frames have no 9/10: fail before writing anything

    if args.ts_in:
        try:
            data = Path(args.ts_in).read_bytes()
        except OSError as e:
            raise InputError(f"cannot read --ts-in {args.ts_in}: {e.strerror}") from None
        if not data:
            raise InputError(f"--ts-in {args.ts_in} is empty")
        tx.push(data)
        n_frames = None  # until the input is used up
    else:
        n_frames = 10 if args.frames is None else args.frames
        if n_frames < 1:
            raise InputError(f"--frames must be >= 1, not {n_frames}")
        need = sum(tx.frame_capacity_bytes(sched[i % len(sched)]) for i in range(n_frames))
        data = random_ts_packets(-(-need // TS_PACKET_BYTES), args.seed)
        tx.push(data)

    counts: dict[str, int] = {}
    symbols = samples = info_bytes = 0
    t0 = time.perf_counter()
    try:
        f = open(args.out, "wb")
    except OSError as e:
        raise InputError(f"cannot write --out {args.out}: {e.strerror}") from None
    with f:
        i = 0
        while (n_frames is None and tx.pending_bytes > 0) or (n_frames is not None and i < n_frames):
            m = sched[i % len(sched)]
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
    elapsed = time.perf_counter() - t0
    if sys.stderr.isatty() and i >= 100:
        sys.stderr.write("\n")
    if args.save_ts:
        sent = info_bytes if args.generic else info_bytes // TS_PACKET_BYTES * TS_PACKET_BYTES
        Path(args.save_ts).write_bytes(bytes(data[:sent]))
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
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        mods = ", ".join(f"{k} x{v}" for k, v in counts.items())
        print(f"wrote {samples} samples ({symbols} symbols, {i} PLFRAMEs: {mods}) to {args.out}")
        print(
            f"sps {args.sps}, roll-off {args.rolloff}, {args.frame} frames, pilots {'on' if args.pilots else 'off'}"
            f", Gold code {args.gold_code}; filter delay {tx.delay_samples} samples"
        )
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
    p.add_argument("--threads", type=int, metavar="N", help="threads (default: the CPUs available; 2 or more: "
                   "frames decode on N - 1 threads while the front end runs ahead; same results)")
    p.add_argument("--ts-out", metavar="FILE.ts", help="write the TS packets received")
    p.add_argument("--frames-out", metavar="FILE.jsonl", help="write one JSON line per frame")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run_rx)


def run_rx(args: argparse.Namespace) -> int:
    import numpy as np

    from ..dvbs2.rx import Receiver

    path = Path(args.infile)
    if not path.is_file():
        raise InputError(f"--in {args.infile}: no such file")
    from ..channel.parallel import default_threads

    threads = default_threads() if args.threads is None else args.threads
    if threads < 1:
        raise InputError(f"--threads: must be >= 1, got {threads}")
    rx = Receiver(sps=args.sps, rolloff=args.rolloff, gold_code=args.gold_code, max_iter=args.max_iter,
                  demapper=args.demapper, decode_threads=threads - 1, pipeline=threads > 1)
    chunk = 1 << 20
    ts_f = open(args.ts_out, "wb") if args.ts_out else None  # noqa: SIM115 - closed below
    fr_f = open(args.frames_out, "w") if args.frames_out else None  # noqa: SIM115
    per: dict[str, dict] = {}
    total = {"frames": 0, "ok": 0, "ts_packets": 0, "samples": 0}
    t0 = time.perf_counter()
    try:
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

        from ..iqfile import IQReader  # raw .cf32 or a SigMF recording (e.g. one made by linksim hw)

        for x in IQReader(path, chunk_samples=chunk):
            total["samples"] += x.size
            consume(rx.process(x))
        consume(rx.flush())
    finally:
        if ts_f:
            ts_f.close()
        if fr_f:
            fr_f.close()
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
        "msym_per_s": round(total["samples"] / args.sps / elapsed / 1e6, 3) if elapsed > 0 else None,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{'MODCOD':<12} {'frames':>7} {'errors':>7} {'Es/N0 dB':>9}")
        for m, r in rows.items():
            e = "" if r["esn0_est_db"] is None else f"{r['esn0_est_db']:.2f}"
            print(f"{m:<12} {r['frames']:>7} {r['errors']:>7} {e:>9}")
        lost = f"; lock lost {summary['lock_lost']} times" if summary["lock_lost"] else ""
        print(f"{total['frames']} frames, {summary['frame_errors']} with errors, {total['ts_packets']} TS packets; "
              f"carrier offset {rx.cfo_cyc:+.5f} x symbol rate{lost}; {summary['msym_per_s']} Msym/s")
    return 0


# ------------------------------------------------------------------------------------------------ ber


def register_ber(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser(
        "ber",
        help="TX -> AWGN -> RX in process: frame and bit error counts",
        description="Send DVB-S2 frames through AWGN (and a carrier offset) to the receiver, in process, and "
        "count frame and bit errors. --sync full runs the whole synchronisation chain; genie gives the receiver "
        "perfect timing, carrier frequency and phase.",
    )
    p.add_argument("--modcod", required=True, help='MODCOD, e.g. "QPSK 1/2"')
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
    p.set_defaults(func=run_ber)


def run_ber(args: argparse.Namespace) -> int:
    from ..dvbs2.link import run_link

    if args.frames < 1:
        raise InputError(f"--frames must be >= 1, not {args.frames}")
    r = run_link(args.modcod, args.esn0_db, frames=args.frames, sync=args.sync, cfo_hz=args.cfo_hz,
                 symbol_rate_baud=args.symbol_rate_baud, sps=args.sps, rolloff=args.rolloff, seed=args.seed,
                 pilots=args.pilots, frame=args.frame, max_iter=args.max_iter,
                 timing_offset_samples=args.timing_offset, demapper=args.demapper)
    d = r.as_dict()
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        for k in ("modcod", "esn0_db", "sync", "frames", "frame_errors", "fer", "missed", "info_bits", "bit_errors",
                  "ber", "esn0_est_db", "decode_mbps", "rx_symbols_per_second", "mean_ldpc_iterations"):
            v = d[k]
            print(f"{k:<22} {v:.4g}" if isinstance(v, float) else f"{k:<22} {v}")
    return 0


# Registration functions of the dvbs2 sub-commands, in --help order (the receiver adds rx and ber here).
SUBCOMMANDS = [register_tx, register_rx, register_ber]
