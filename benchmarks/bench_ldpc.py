#!/usr/bin/env python3
"""LDPC decoder benchmark: linksim against GNU Radio's fec.ldpc_decoder, DVB-S2 throughput, and FER.

Three parts (each can be chosen with --part):

gr    GNU Radio's in-tree code n_1800_k_0902_gap_28.alist, BPSK over AWGN, the same LLRs to both decoders at the
      same maximum iteration count (both stop early on a zero syndrome: GNU Radio's always does). GNU Radio
      3.10's fec.ldpc_decoder (awgn_bp) turns each input value y into the likelihood ratio exp(-y / (2 sigma^2));
      fed LLRs, it is exact with sigma = 1/sqrt(2) (GR_SIGMA), which is what it gets here (sigma = 0.5, used
      before, doubled every LLR and cost it about 0.4 dB: FER 0.40 instead of 0.07 at Eb/N0 1.5 dB). The all-zero
      codeword is sent (both decoders are symmetric, so their FER does not depend on the codeword); a frame is in
      error if any decoded bit is 1 (for linksim: any bit of the whole codeword, for GNU Radio: its k output
      bits). Throughput counts k information bits per frame over the CPU time of the process (user + system,
      which the load of other processes on a shared machine does not inflate) and over wall-clock time.
dvbs2 DVB-S2 normal frames of QPSK 1/2, 8PSK 3/4, 16APSK 3/4 and 32APSK 9/10 at Table 13 + 1 dB. The LLRs are
      BPSK-equivalent: BPSK over AWGN at the Ec/N0 that puts the code as far above its own threshold as the
      MODCOD is (the QPSK Table 13 Es/N0 of that code rate + 1 dB - 3.01 dB), not a demapped APSK signal.
      Prints information Mbps (K_bch bits per frame), symbols/s and the share of one core that 1 Msym/s needs,
      on one core and on two threads (the decoder releases the GIL).
fer   FER of the DVB-S2 normal-frame codes, BPSK-equivalent LLRs at the QPSK Table 13 threshold + 0.3, 0,
      - 0.2 and - 0.5 dB, and of rate 1/2 at Eb/N0 = 1.0, 1.25 and 1.5 dB.

Usage: .venv/bin/python benchmarks/bench_ldpc.py [--part gr|dvbs2|fer|all] [--frames N] [--max-iter 50]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.dvbs2.bch import bch_code  # noqa: E402
from linksim.dvbs2.ldpc import AlistCode, dvbs2_code  # noqa: E402
from linksim.dvbs2.params import frame_params  # noqa: E402
from linksim.scenario import modcods  # noqa: E402

ALIST = "n_1800_k_0902_gap_28.alist"


def cpu_s() -> float:
    """CPU time of this process, all threads (user + system), in seconds."""
    return time.process_time()


def timed(fn, min_s: float = 0.5):
    """Run fn() until at least min_s of CPU time has passed; returns (last result, CPU s per run, wall s per run)."""
    runs, c0, w0 = 0, cpu_s(), time.perf_counter()
    while True:
        out = fn()
        runs += 1
        if cpu_s() - c0 >= min_s:
            return out, (cpu_s() - c0) / runs, (time.perf_counter() - w0) / runs


def bpsk_llr(cw: np.ndarray, ecn0_db: float, rng: np.random.Generator) -> np.ndarray:
    sigma = math.sqrt(1.0 / (2.0 * 10 ** (ecn0_db / 10)))
    y = (1.0 - 2.0 * cw) + sigma * rng.standard_normal(cw.shape)
    return (2.0 * y / sigma**2).astype(np.float32)


def alist_path() -> Path:
    from gnuradio import gr

    p = Path(gr.prefix()) / "share/gnuradio/fec/ldpc" / ALIST
    if not p.exists():
        raise SystemExit(f"cannot find {p} (GNU Radio's gr-fec data)")
    return p


GR_SIGMA = math.sqrt(0.5)  # awgn_bp's likelihood ratio exp(-y / (2 sigma^2)) is exp(-LLR) for y = LLR


def gr_decode(path: Path, llr: np.ndarray, max_iter: int) -> tuple[np.ndarray, float, float]:
    """GNU Radio's fec.ldpc_decoder in a flowgraph; its input convention is minus the LLR (positive = bit 1), and
    sigma = GR_SIGMA makes its internal likelihood ratios exactly those of the LLRs."""
    from gnuradio import blocks, fec, gr

    dec = fec.ldpc_decoder.make(str(path), GR_SIGMA, max_iter)
    tb = gr.top_block()
    src = blocks.vector_source_f((-llr).ravel().tolist(), False)
    blk = fec.decoder(dec, gr.sizeof_float, gr.sizeof_char)
    snk = blocks.vector_sink_b()
    tb.connect(src, blk, snk)
    c0, w0 = cpu_s(), time.perf_counter()
    tb.run()
    cpu, wall = cpu_s() - c0, time.perf_counter() - w0
    return np.asarray(snk.data(), np.uint8).reshape(len(llr), -1), cpu, wall


def part_gr(frames: int, max_iter: int) -> None:
    path = alist_path()
    code = AlistCode.from_file(path)
    k = code.n - code.m  # H has full rank: 902
    rate = k / code.n
    print(f"\n== linksim vs GNU Radio fec.ldpc_decoder (sigma {GR_SIGMA:.4f}, exact LLRs): {ALIST} (n={code.n}, "
          f"k={k}), BPSK AWGN, all-zero codeword, max_iter={max_iter}, {frames} frames per point")
    print(f"{'Eb/N0 dB':>8} | {'linksim Mbps cpu/wall':>22} {'avg it':>6} {'FER':>7} | "
          f"{'GNU Radio Mbps cpu/wall':>24} {'FER':>7} | {'speed ratio (cpu)':>17}")
    code.decode(np.ones((1, code.n), np.float32))  # compile outside the timing
    for ebn0_db in (1.0, 1.5, 2.0, 2.5, 3.0):
        rng = np.random.default_rng(int(ebn0_db * 10))
        llr = bpsk_llr(np.zeros((frames, code.n), np.uint8), ebn0_db + 10 * math.log10(rate), rng)
        res, cpu, wall = timed(lambda: code.decode(llr, max_iter=max_iter))  # noqa: B023
        fer = float(np.mean(res.bits.any(axis=1)))
        out, gcpu, gwall = gr_decode(path, llr, max_iter)
        gfer = float(np.mean(out.any(axis=1)))
        mb = frames * k / 1e6
        print(f"{ebn0_db:8.1f} | {mb / cpu:10.3f} / {mb / wall:9.3f} {res.iterations.mean():6.2f} {fer:7.3f} | "
              f"{mb / gcpu:11.4f} / {mb / gwall:10.4f} {gfer:7.3f} | {gcpu / cpu:15.1f}x")


MODCODS = ("QPSK 1/2", "8PSK 3/4", "16APSK 3/4", "32APSK 9/10")


def _decode_fec(code, bch, max_iter: int, llr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LDPC then BCH decoding of a batch; returns the iterations and whether each frame came out clean."""
    res = code.decode(llr, max_iter=max_iter)
    b = bch.decode(res.bits[:, : bch.n])
    return res.iterations, b.ok & res.ok


def part_dvbs2(frames: int, max_iter: int) -> None:
    print(f"\n== DVB-S2 normal frames at Table 13 + 1 dB (BPSK-equivalent LLRs, see the docstring), {frames} frames, "
          f"max_iter={max_iter}, LDPC (layered corrected min-sum) + BCH")
    print(f"{'MODCOD':>12} {'avg it':>6} {'FER':>6} | {'1 core: info Mbps':>17} {'Msym/s':>7} "
          f"{'core share @1Msym/s':>19} | {'2 threads: info Mbps':>20} {'Msym/s':>7}")
    for name in MODCODS:
        fp = frame_params(name, "normal", pilots=True)
        code = dvbs2_code("normal", fp.rate)
        bch = bch_code("normal", fp.rate)
        rng = np.random.default_rng(1)
        msg = rng.integers(0, 2, (frames, fp.k_bch), dtype=np.uint8)
        cw = code.encode(bch.encode(msg))
        ecn0_db = modcods.get(f"QPSK {fp.rate}").esn0_qef_db + 1.0 - 10 * math.log10(2)
        llr = bpsk_llr(cw, ecn0_db, rng)
        code.decode(llr[:1], max_iter=max_iter)

        work = partial(_decode_fec, code, bch, max_iter)
        (its, ok), cpu1, _ = timed(lambda: work(llr))  # noqa: B023
        w0 = time.perf_counter()
        with ThreadPoolExecutor(2) as ex:
            list(ex.map(work, np.array_split(llr, 2)))
        wall2 = time.perf_counter() - w0
        info_mbps = frames * fp.k_bch / cpu1 / 1e6
        sym = frames * fp.plframe_symbols / cpu1
        sym2 = frames * fp.plframe_symbols / wall2
        print(f"{name:>12} {its.mean():6.2f} {1 - ok.mean():6.3f} | {info_mbps:17.2f} {sym / 1e6:7.2f} "
              f"{1e6 / sym:19.3f} | {frames * fp.k_bch / wall2 / 1e6:20.2f} {sym2 / 1e6:7.2f}")


def part_fer(frames: int, max_iter: int) -> None:
    print(f"\n== FER, DVB-S2 normal frames, BPSK-equivalent LLRs at the QPSK Table 13 Es/N0 of each rate, "
          f"{frames} frames, max_iter={max_iter} (LDPC only; FER counts codewords with any wrong bit)")
    deltas = (0.3, 0.0, -0.2, -0.5)
    print(f"{'rate':>5} {'T13 Es/N0':>9} | " + " | ".join(f"{f'FER {d:+.1f} dB':>12} {'avg it':>6}" for d in deltas))
    for m in modcods.table13():
        if m.constellation != "QPSK":
            continue
        rate = f"{m.rate.numerator}/{m.rate.denominator}"
        code = dvbs2_code("normal", rate)
        rng = np.random.default_rng(3)
        row = []
        for delta in deltas:
            cw = code.encode(rng.integers(0, 2, (frames, code.k), dtype=np.uint8))
            res = code.decode(bpsk_llr(cw, m.esn0_qef_db + delta - 10 * math.log10(2), rng), max_iter=max_iter)
            row.append((float(np.mean((res.bits != cw).any(axis=1))), res.iterations.mean()))
        print(f"{rate:>5} {m.esn0_qef_db:9.2f} | " + " | ".join(f"{fer:12.3f} {it:6.1f}" for fer, it in row))
    code = dvbs2_code("normal", "1/2")
    rng = np.random.default_rng(4)
    r = code.k / code.n
    for ebn0_db in (1.0, 1.25, 1.5):
        cw = code.encode(rng.integers(0, 2, (frames, code.k), dtype=np.uint8))
        res = code.decode(bpsk_llr(cw, ebn0_db + 10 * math.log10(r), rng), max_iter=max_iter)
        print(f"rate 1/2 normal, BPSK Eb/N0 {ebn0_db:.2f} dB: FER {np.mean((res.bits != cw).any(axis=1)):.3f} "
              f"({frames} frames), avg iterations {res.iterations.mean():.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("gr", "dvbs2", "fer", "all"), default="all")
    ap.add_argument("--frames", type=int, default=0, help="frames per point (default: 300 gr, 60 dvbs2, 50 fer)")
    ap.add_argument("--max-iter", type=int, default=50)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (shared machine: CPU-time figures are the "
          f"fairer ones)")
    if a.part in ("gr", "all"):
        part_gr(a.frames or 300, a.max_iter)
    if a.part in ("dvbs2", "all"):
        part_dvbs2(a.frames or 60, a.max_iter)
    if a.part in ("fer", "all"):
        part_fer(a.frames or 50, a.max_iter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
