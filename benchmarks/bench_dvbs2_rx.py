#!/usr/bin/env python3
"""DVB-S2 receiver throughput: the whole linksim receiver (matched filter, timing, frame sync, carrier, demapping,
LDPC, BCH, TS) on QPSK 1/2, 8PSK 3/4, 16APSK 3/4 and 32APSK 9/10 normal frames with pilots, at Table 13 + 1 dB
with a carrier offset of 1 % of the symbol rate.

For each MODCOD the samples are made first (the transmitter is not timed), the receiver is warmed up (numba
compilation, code tables), then a fresh receiver decodes the stream in --block-sample blocks (65 536). Printed:
- symbols/s and information Mbps (data-field bits of the frames decoded correctly), over the CPU time of the
  process (user + system: what one core delivers, less inflated by other processes on a shared machine than the
  wall clock; best of --repeats runs), and over wall-clock time; Msym/s >= 1 keeps up with 1 Msym/s in real time.
  "steady" is the same once the receiver has locked (after its first three frames): the real-time figure;
- two threads: one receiver that decodes its frames on a worker thread and runs its front end one block ahead
  on another (Receiver(decode_threads=1, pipeline=True): the same frames and results as one thread), symbols over
  the wall-clock time of the whole stream (acquisition included; best of --repeats), and its CPU seconds per
  symbol; >= 5 Msym/s keeps up with 5 Msym/s in real time on two cores;
- side by side, the reference: GNU Radio's own gr-dtv DVB-S2 *transmitter* chain (stock blocks, bbheader ...
  physical framer, no RRC) for the same MODCOD on this machine, in symbols/s of wall-clock time, and the ratio
  receiver / gr-dtv transmitter (GNU Radio has no DVB-S2 receiver to compare with).

The LDPC decoder alone against GNU Radio's fec.ldpc_decoder is benchmarks/bench_ldpc.py.

With --sps S (default 2), the 2-sps stream is resampled to S samples per symbol first (an SDR capture whose rate is
no multiple of the symbol rate); symbols/s are counted at S.

With --search, also the receiver searching pure noise (4 million samples, no signal: a link that is down),
in symbols per CPU second; it must report nothing.

With --vlsnr, the 9 DVB-S2X VL-SNR MODCODs (receiver with vlsnr=True, at their ideal Es/N0 + 1 dB) against gr-dtv's
VL-SNR transmitter chain; --search then times the VL-SNR receiver searching noise (its header search included).

Usage: .venv/bin/python benchmarks/bench_dvbs2_rx.py [--frames N] [--demapper exact|maxlog] [--no-gr] [--search]
       [--vlsnr]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# one core means one thread: keep the BLAS / OpenMP pools (numpy matrix products) to a single thread
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.dvbs2.rx import Receiver  # noqa: E402
from linksim.dvbs2.tx import Transmitter  # noqa: E402
from linksim.scenario import modcods  # noqa: E402

CASES = ["QPSK 1/2", "8PSK 3/4", "16APSK 3/4", "32APSK 9/10"]
BLOCK = 65536


def make_samples(modcod: str, frames: int, seed: int = 0) -> np.ndarray:
    thr = modcods.get(modcod).esn0_qef_db
    rng = np.random.default_rng(seed)
    tx = Transmitter(sps=2, stream="generic")
    cap = tx.frame_capacity_bytes(modcod)
    syms = [tx.frame_symbols(modcod, rng.integers(0, 256, cap, dtype=np.uint8).tobytes()) for _ in range(frames)]
    x = np.concatenate([tx.shape(np.concatenate(syms)), tx.flush()])
    x = x * np.exp(2j * np.pi * 0.01 / 2 * np.arange(x.size))
    n0 = 2 / 10 ** ((thr + 1.0) / 10)
    x = x + (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)) * np.sqrt(n0 / 2)
    return x.astype(np.complex64)


def resampled(x: np.ndarray, sps: float) -> np.ndarray:
    """The 2-sps stream at `sps` samples per symbol (rational resampling; an SDR capture at another rate)."""
    if sps == 2:
        return x
    from fractions import Fraction

    from scipy.signal import resample_poly

    r = Fraction(sps / 2).limit_denominator(64)
    return resample_poly(x, r.numerator, r.denominator).astype(np.complex64)


def decode_two_threads(x: np.ndarray, sps: float, demapper: str, repeats: int, block: int,
                       vlsnr: bool = False) -> dict:
    """One receiver on two threads (decode pool + front end ahead): wall-clock and CPU time of the whole stream."""
    best = None
    for _ in range(repeats):
        rx = Receiver(sps=sps, demapper=demapper, decode_threads=1, pipeline=True, vlsnr=vlsnr)
        c0, w0 = time.process_time(), time.perf_counter()
        n = 0
        for i in range(0, x.size, block):
            n += len(rx.process(x[i : i + block]))
        n += len(rx.flush())
        r = {"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0, "frames": n}
        if best is None or r["wall"] < best["wall"]:
            best = r
    assert best is not None
    return best


def decode(args: tuple[str, int, str, int, int, float]) -> dict:
    modcod, frames, demapper, seed, repeats, sps = args
    x = resampled(make_samples(modcod, frames, seed), sps)
    vl = modcods.get(modcod).vlsnr
    warm = Receiver(sps=sps, demapper=demapper, vlsnr=vl)
    warm.process(x[: min(x.size, 400000)])
    warm.flush()
    best = None
    t_first = time.perf_counter()
    for _ in range(repeats):  # the best of a few runs: other processes on a shared machine only slow it down
        rx = Receiver(sps=sps, demapper=demapper, vlsnr=vl)
        c0, w0 = time.process_time(), time.perf_counter()
        reps = []
        steady_cpu = 0.0
        steady_samples = 0
        for i in range(0, x.size, BLOCK):
            c1 = time.process_time()
            before = len(reps)
            reps += rx.process(x[i : i + BLOCK])
            if before >= 3:  # after acquisition (lock and the first frames)
                steady_cpu += time.process_time() - c1
                steady_samples += min(BLOCK, x.size - i)
        reps += rx.flush()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        r = {
            "modcod": modcod, "symbols": x.size / sps, "frames": len(reps), "ok": sum(r.ok for r in reps),
            "info_bits": sum(r.info_bits for r in reps if r.ok), "cpu": cpu, "wall": wall,
            "steady_sym_per_cpu_s": steady_samples / sps / steady_cpu if steady_cpu > 0 else float("nan"),
            "iters": float(np.mean([r.ldpc_iterations for r in reps])) if reps else float("nan"),
        }
        if best is None or r["cpu"] < best["cpu"]:
            best = r
    best["t_start"], best["t_end"] = t_first, time.perf_counter()
    best["two"] = decode_two_threads(x, sps, demapper, repeats, BLOCK, vl)
    return best


def search_rate(samples: int = 4_000_000, seed: int = 9, vlsnr: bool = False) -> dict:
    """Symbols per CPU second of a receiver searching pure noise (a link that is down): every window's header
    candidates are decoded and checked (with vlsnr, the VL-SNR header search too); nothing may be reported."""
    rng = np.random.default_rng(seed)
    blocks = [((rng.standard_normal(BLOCK) + 1j * rng.standard_normal(BLOCK)) * 0.7).astype(np.complex64)
              for _ in range(samples // BLOCK)]
    warm = Receiver(vlsnr=vlsnr)
    for b in blocks[:4]:
        warm.process(b)
    rx = Receiver(vlsnr=vlsnr)
    c0 = time.process_time()
    reps = []
    for b in blocks:
        reps += rx.process(b)
    reps += rx.flush()
    cpu = time.process_time() - c0
    return {"symbols": len(blocks) * BLOCK / 2, "cpu": cpu, "reports": len(reps), "searches": rx.stats["searches"]}


def grdtv_tx_rate(modcod: str, frames: int) -> float:
    """Symbols/s (wall clock) of GNU Radio's gr-dtv DVB-S2 transmitter chain for `frames` frames of `modcod`."""
    from gnuradio import blocks, dtv, gr

    rates = {"1/2": dtv.C1_2, "3/4": dtv.C3_4, "9/10": dtv.C9_10}
    consts = {"QPSK": dtv.MOD_QPSK, "8PSK": dtv.MOD_8PSK, "16APSK": dtv.MOD_16APSK, "32APSK": dtv.MOD_32APSK}
    from linksim.dvbs2.params import frame_params

    p = frame_params(modcod)
    nbytes = frames * (p.data_field_bits // 8)
    rng = np.random.default_rng(0)
    ts = rng.integers(0, 256, (nbytes // 188 + 1, 188), dtype=np.uint8)
    ts[:, 0] = 0x47
    from linksim.dvbs2.vlsnr import GRDTV_NAMES

    if modcod in GRDTV_NAMES:
        fs, cr, co = (getattr(dtv, a) for a in GRDTV_NAMES[modcod])
    else:
        const, rate = modcod.split()
        fs, cr, co = dtv.FECFRAME_NORMAL, rates[rate], consts[const]
    tb = gr.top_block()
    src = blocks.vector_source_b(ts.reshape(-1).tolist(), False)
    chain = [
        dtv.dvb_bbheader_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.RO_0_20, dtv.INPUTMODE_NORMAL, dtv.INBAND_OFF, 168,
                            4000000),
        dtv.dvb_bbscrambler_bb(dtv.STANDARD_DVBS2, fs, cr), dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, cr),
        dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER), dtv.dvbs2_interleaver_bb(fs, cr, co),
        dtv.dvbs2_modulator_bc(fs, cr, co, dtv.INTERPOLATION_OFF),
        dtv.dvbs2_physical_cc(fs, cr, co, dtv.PILOTS_ON, 0),
    ]
    snk = blocks.null_sink(gr.sizeof_gr_complex)
    cnt = blocks.probe_rate(gr.sizeof_gr_complex)
    tb.connect(src, *chain, snk)
    tb.connect(chain[-1], cnt)
    t0 = time.perf_counter()
    tb.run()
    dt = time.perf_counter() - t0
    out_items = chain[-1].nitems_written(0)
    return out_items / 2 / dt  # the framer zero-stuffs to 2 samples per symbol


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=30, help="frames per MODCOD (30)")
    ap.add_argument("--demapper", choices=["exact", "maxlog"], default="maxlog")
    ap.add_argument("--no-gr", action="store_true", help="skip the gr-dtv reference")
    ap.add_argument("--repeats", type=int, default=3, help="one-core runs per MODCOD, the best is kept (3)")
    ap.add_argument("--modcods", default=",".join(CASES))
    ap.add_argument("--vlsnr", action="store_true", help="the 9 DVB-S2X VL-SNR MODCODs (instead of --modcods)")
    ap.add_argument("--search", action="store_true", help="also time the search on pure noise (no signal)")
    ap.add_argument("--block", type=int, default=65536, help="samples per process() call (65536)")
    ap.add_argument("--sps", type=float, default=2.0,
                    help="samples per symbol at the receiver (2); another value resamples the 2-sps stream")
    args = ap.parse_args()
    if args.sps < 2:
        ap.error("--sps must be >= 2")
    names = ([m.name for m in modcods.vlsnr_table()] if args.vlsnr
             else [m.strip() for m in args.modcods.split(",") if m.strip()])
    globals()["BLOCK"] = args.block
    print(f"linksim DVB-S2 receiver, demapper {args.demapper}, {args.frames} frames per MODCOD with pilots"
          f" ({'VL-SNR' if args.vlsnr else 'normal'}), ideal Es/N0 + 1 dB, CFO 1 % of Rs, {args.sps:g} samples/symbol;"
          f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    hdr = (f"{'MODCOD':<16} {'ok/frames':>9} {'it':>4} | {'1 core Msym/s':>13} {'Mbps':>6} {'steady':>6} "
           f"(wall {'Msym/s':>6}) | {'2 threads Msym/s wall':>21} {'CPU s/Msym':>10} | {'gr-dtv TX Msym/s':>16} "
           f"{'RX/TX':>6}")
    print(hdr)
    print("-" * len(hdr))
    for m in names:
        one = decode((m, args.frames, args.demapper, 1, args.repeats, args.sps))
        two = one["two"]
        assert two["frames"] == one["frames"]
        two_rate = one["symbols"] / two["wall"]
        sps_cpu = one["symbols"] / one["cpu"]
        ref = float("nan") if args.no_gr else grdtv_tx_rate(m, args.frames)
        print(f"{m:<16} {one['ok']:>4}/{one['frames']:<4} {one['iters']:>4.1f} | {sps_cpu / 1e6:>13.3f} "
              f"{one['info_bits'] / one['cpu'] / 1e6:>6.2f} {one['steady_sym_per_cpu_s'] / 1e6:>6.2f} "
              f"(wall {one['symbols'] / one['wall'] / 1e6:>6.3f}) | {two_rate / 1e6:>21.3f} "
              f"{two['cpu'] / one['symbols'] * 1e6:>10.3f} | "
              f"{ref / 1e6:>16.3f} {sps_cpu / ref:>6.2f}", flush=True)
    if args.search:
        s = search_rate(vlsnr=args.vlsnr)
        who = " (VL-SNR receiver)" if args.vlsnr else ""
        print(f"searching pure noise{who}: {s['symbols'] / s['cpu'] / 1e6:.3f} Msym/s per CPU second "
              f"({s['searches']} search windows, {s['reports']} frames reported)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
