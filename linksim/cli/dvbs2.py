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


# Registration functions of the dvbs2 sub-commands, in --help order (the receiver adds rx and ber here).
SUBCOMMANDS = [register_tx]
