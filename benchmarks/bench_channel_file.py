#!/usr/bin/env python3
"""File to file, as users run it: `linksim channel` against stock GNU Radio flowgraphs doing the same work.

Every case is one whole process, timed from start to exit (interpreter start, imports, reading the input file,
computing, writing the output file): wall clock, and CPU seconds of the process (all its threads; user + system).
The input is --samples complex64 samples (QPSK, 4 samples per symbol, mean power 1) at 10 Msps in --dir; it is read
once first so that every run finds it in the page cache, and each run's output file is deleted before the run.

Cases (same parameters on both sides: gain -3 dB, Doppler 12 345 Hz, Es/N0 10 dB at 4 samples per symbol):
  (a) gain + Doppler + AWGN
      linksim:    linksim channel --gain-db -3 --doppler-hz 12345 --esn0-db 10 (--threads 2 and --threads 1)
      equal work: file_source -> rotator_cc -> multiply_const_cc -> add_cc <- noise_source_c (GR_GAUSSIAN)
                  -> file_sink
      heavier:    file_source -> channels.channel_model (noise, frequency offset, taps=[gain], epsilon=1: it also
                  runs its fractional resampler and FIR) -> file_sink
      not equal:  the stock chain with analog.fastnoise_source_c (GR_GAUSSIAN, pool of 8192 samples drawn at
                  random: cheaper, but the noise repeats values from a small pool, so it is not the same work and
                  not noise to measure a low error rate with)
  (b) Rician fading K = 4, 500 Hz Doppler spread (8 sinusoids on the stock side), nothing else
      linksim:    linksim channel --fading rician:K=4,doppler_hz=500
      stock:      file_source -> channels.fading_model(8, 500/fs, LOS, K=4) -> file_sink
  (c) (a) + Rician fading
      linksim:    (a) with --fading rician:K=4,doppler_hz=500
      stock:      file_source -> fading_model -> rotator_cc -> multiply_const_cc -> add_cc <- noise_source_c
                  -> file_sink
Before each run the output file is deleted and the page cache written back (os.sync, untimed). Each side runs
--repeat times, each round in the order of the next row of a Williams design (williams_orders: over a whole cycle of
rows, 2n rounds for an odd number n of contenders, every contender comes right after every other one equally
often; the run before a run changes its time, see below). --repeat 10 is one cycle for (a)'s five contenders.
The fastest run of each is the figure (other processes and the virtual machine only slow a run down); the median
of each contender's runs is printed beside it, and the ratio of medians beside the ratio of fastest runs (on this
VM single runs of the same command scatter by up to 2x: see docs/channel.md).
Ratios are stock time / linksim time (> 1: linksim faster).

Usage: .venv/bin/python benchmarks/bench_channel_file.py [--samples 48e6] [--repeat 10] [--dir /tmp/linksim-bench]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_channel import DOPPLER_HZ, ESN0_DB, FD_HZ, FS, GAIN_DB, SPS, K  # noqa: E402 - the in-memory case's values

STOCK = rf"""
import sys, numpy as np
from gnuradio import analog, blocks, channels, gr
case, inp, out = sys.argv[1:4]
fs, g = {FS!r}, 10 ** ({GAIN_DB!r} / 20)
nv = float(np.sqrt({SPS!r} * g * g / 10 ** ({ESN0_DB!r} / 10)))
tb = gr.top_block()
src = blocks.file_source(gr.sizeof_gr_complex, inp, False)
snk = blocks.file_sink(gr.sizeof_gr_complex, out, False)
snk.set_unbuffered(False)
def awgn_chain(head):
    rot = blocks.rotator_cc(2 * np.pi * {DOPPLER_HZ!r} / fs)
    mul = blocks.multiply_const_cc(g)
    if case.endswith("fast"):
        nz = analog.fastnoise_source_c(analog.GR_GAUSSIAN, nv, 42, 8192)
    else:
        nz = analog.noise_source_c(analog.GR_GAUSSIAN, nv, 42)
    add = blocks.add_cc()
    tb.connect(head, rot, mul, (add, 0))
    tb.connect(nz, (add, 1))
    tb.connect(add, snk)
if case in ("chain", "chain_fast"):
    awgn_chain(src)
elif case == "channel_model":
    tb.connect(src, channels.channel_model(nv, {DOPPLER_HZ!r} / fs, 1.0, [g + 0j], 42, False), snk)
elif case == "fading_model":
    tb.connect(src, channels.fading_model(8, {FD_HZ!r} / fs, True, {K!r}, 42), snk)
elif case == "fading_chain":
    fad = channels.fading_model(8, {FD_HZ!r} / fs, True, {K!r}, 42)
    tb.connect(src, fad)
    awgn_chain(fad)
tb.run()
"""

AWGN = ["--gain-db", str(GAIN_DB), "--doppler-hz", str(DOPPLER_HZ), "--esn0-db", str(ESN0_DB)]
FADING = ["--fading", f"rician:K={K:g},doppler_hz={FD_HZ:g}"]


def make_input(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        left = n
        while left > 0:
            k = min(left, 1 << 22)
            sym = np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, -(-k // SPS))))
            np.repeat(sym, SPS)[:k].astype(np.complex64).tofile(f)
            left -= k


def williams_orders(n: int) -> list[list[int]]:
    """Rows of a Williams design for n contenders (n rows for even n, 2n for odd): in them, every contender comes
    right after every other one equally often, so no one always follows the same contender."""
    base, lo, hi = [0], 1, n - 1
    while len(base) < n:
        base.append(lo)
        lo += 1
        if len(base) < n:
            base.append(hi)
            hi -= 1
    rows = [[(b + i) % n for b in base] for i in range(n)]
    return rows + [r[::-1] for r in rows] if n % 2 else rows


def timed(cmd: list[str], out: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one child process; the output file is removed first and checked after. The page cache
    is written back first (os.sync, not timed): otherwise the kernel writes the last run's 366 MiB back during this
    one, on the same two cores, and whichever run comes next pays for it."""
    out.unlink(missing_ok=True)
    os.sync()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=float, default=48e6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default="/tmp/linksim-bench-channel")
    ap.add_argument("--cases", default="a,b,c")
    args = ap.parse_args()
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    n = int(args.samples)
    inp = d / f"in_{n}.cf32"
    if not inp.exists() or inp.stat().st_size != 8 * n:
        make_input(inp, n)
    with open(inp, "rb") as f:  # into the page cache
        while f.read(1 << 24):
            pass
    out = d / "out.cf32"
    py = sys.executable
    ls = [py, "-m", "linksim", "channel", "--in", str(inp), "--out", str(out), "--sample-rate", str(FS),
          "--sps", str(SPS), "--seed", "1"]

    def stock(case: str) -> list[str]:
        return [py, "-c", STOCK, case, str(inp), str(out)]

    cases = {
        "a": ("gain + Doppler + AWGN", [
            ("linksim channel, 2 threads", ls + AWGN + ["--threads", "2"]),
            ("linksim channel, 1 thread", ls + AWGN + ["--threads", "1"]),
            ("stock equal work: rotator_cc + multiply_const_cc + noise_source_c + add_cc", stock("chain")),
            ("stock channels.channel_model", stock("channel_model")),
            ("stock chain with fastnoise_source_c (not equal work)", stock("chain_fast")),
        ]),
        "b": ("Rician fading K=4, 500 Hz", [
            ("linksim channel, 2 threads", ls + FADING + ["--threads", "2"]),
            ("linksim channel, 1 thread", ls + FADING + ["--threads", "1"]),
            ("stock channels.fading_model (8 sinusoids)", stock("fading_model")),
        ]),
        "c": ("gain + Doppler + AWGN + Rician fading", [
            ("linksim channel, 2 threads", ls + AWGN + FADING + ["--threads", "2"]),
            ("linksim channel, 1 thread", ls + AWGN + FADING + ["--threads", "1"]),
            ("stock equal work: fading_model + rotator_cc + multiply_const_cc + noise_source_c + add_cc",
             stock("fading_chain")),
        ]),
    }
    env_note = f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start"
    print(f"channel file to file: {n / 1e6:g} M samples complex64 ({8 * n / 2**20:.0f} MiB) at {FS / 1e6:g} Msps, "
          f"best of {args.repeat}; {env_note}")
    print("whole process, fastest run: wall s | CPU s (user + sys, all threads) | Msps by wall | median wall s of all "
          "runs | stock wall / linksim wall (fastest runs; medians)")
    for key in [c.strip() for c in args.cases.split(",") if c.strip()]:
        title, runs = cases[key]
        walls: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in runs}
        orders = williams_orders(len(runs))
        for r in range(args.repeat):
            # On this VM a run is up to 2x slower depending on the run before it (whose page-cache pages it
            # inherits); a turning order would put every contender always after the same one, so each round takes
            # the next row of a Williams design: over len(orders) rounds every contender follows every other once.
            for i in orders[r % len(orders)]:
                label, cmd = runs[i]
                walls[label].append(timed(cmd, out))
        print(f"({key}) {title}")
        best = {label: min(v) for label, v in walls.items()}
        med = {label: float(np.median([w for w, _ in v])) for label, v in walls.items()}
        ref, ref_med = best[runs[0][0]][0], med[runs[0][0]]
        for label, _ in runs:
            w, c = best[label]
            ratio = "" if label.startswith("linksim") else (f"  linksim (2 threads) is {w / ref:5.2f}x faster "
                                                             f"(medians {med[label] / ref_med:5.2f}x)")
            print(f"    {label:<88s} {w:6.2f} s | {c:6.2f} s | {n / w / 1e6:6.1f} Msps | median {med[label]:5.2f} s"
                  f"{ratio}", flush=True)
    out.unlink(missing_ok=True)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
