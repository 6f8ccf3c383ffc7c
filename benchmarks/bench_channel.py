"""Benchmark: linksim's sample-clocked channel against GNU Radio's stock channel blocks, in memory, one process.

Run with the project venv (needs GNU Radio):  .venv/bin/python benchmarks/bench_channel.py [--cpu 0] [--repeat 3]
(--cpu pins everything to one core; --cores 2 lets both sides use two; file to file, as users run it, is
benchmarks/bench_channel_file.py).

Cases (same complex64 QPSK input, 4 samples per symbol, for both sides):
  (a) gain + Doppler + AWGN            vs  the equal-work stock chain: rotator_cc + multiply_const_cc +
                                           noise_source_c (GR_GAUSSIAN, true Gaussian noise) + add_cc
  (a') the same                        vs  channels.channel_model (noise, frequency offset, taps=[gain], epsilon=1:
                                           it also runs a fractional resampler and an FIR, more work than (a))
  (b) (a) + Rician fading K=4, 50 Hz   vs  channels.fading_model (8 sinusoids, LOS, K=4, same Doppler)
  (c) (a) + one CW and one barrage jammer vs channel_model + sig_source (CW) + noise_source -> fir_filter_ccf
      (band-limited noise) + add
linksim runs in this process's thread on chunks of --chunk samples; GNU Radio runs a top block
(vector_source(repeat) -> head -> block(s) -> null_sink) whose threads share the same pinned core. Each case runs
--repeat times, alternating sides, and the best run of each side is kept (the machine is shared). The GNU Radio
numbers include the source/head/sink overhead, printed separately as "GR empty flowgraph".
Throughput is printed by wall clock and by CPU time of the whole process (all threads, GNU Radio's included):
on a shared machine the wall-clock figures move with the load, the CPU-time ones much less.
Memory: peak RSS (ru_maxrss) of child processes that run case (c) for two stream lengths.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from linksim.channel.core import Channel, ChannelProfile, JammerSpec  # noqa: E402
from linksim.channel.fading import RicianFading  # noqa: E402
from linksim.channel.jammers import BarrageJammer, CWJammer, band_filter  # noqa: E402

FS = 10e6
SPS = 4
GAIN_DB = -3.0
DOPPLER_HZ = 12_345.0
ESN0_DB = 10.0
K = 4.0
FD_HZ = 500.0


def make_input(n: int = 1 << 20, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sym = np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, n // SPS)))
    return np.repeat(sym, SPS).astype(np.complex64)  # mean |x|^2 = 1


def linksim_channel(case: str, threads: int = 1) -> Channel:
    prof = ChannelProfile.constant(gain_db=GAIN_DB, doppler_hz=DOPPLER_HZ, esn0_db=ESN0_DB)
    fading = RicianFading(K, FD_HZ) if case == "b" else None
    jams = []
    if case == "c":
        jams = [JammerSpec(CWJammer(offset_hz=250e3), 0.0), JammerSpec(BarrageJammer(2.5e6, 1e6), 3.0)]
    return Channel(FS, SPS, prof, input_power=1.0, fading=fading, jammers=jams, seed=7, threads=threads)


def run_linksim(case: str, x: np.ndarray, n_total: int, chunk: int, threads: int = 1) -> tuple[float, float]:
    ch = linksim_channel(case.rstrip("'"), threads)
    ch.process(x[:chunk])  # compile / warm up (not timed)
    ch = linksim_channel(case.rstrip("'"), threads)
    nx = x.size
    t0 = time.perf_counter()
    c0 = time.process_time()
    done = 0
    while done < n_total:
        k = min(chunk, n_total - done)
        off = done % nx
        if off + k > nx:
            k = nx - off
        ch.process(x[off : off + k])
        done += k
    return n_total / (time.perf_counter() - t0) / 1e6, n_total / (time.process_time() - c0) / 1e6


def run_gr(case: str, x: np.ndarray, n_total: int) -> tuple[float, float]:
    from gnuradio import analog, blocks, channels, filter, gr

    tb = gr.top_block()
    src = blocks.vector_source_c(x.tolist(), True)
    head = blocks.head(gr.sizeof_gr_complex, n_total)
    snk = blocks.null_sink(gr.sizeof_gr_complex)
    g = 10 ** (GAIN_DB / 20)
    noise_v = float(np.sqrt(SPS * 10 ** (GAIN_DB / 10) / 10 ** (ESN0_DB / 10)))
    if case == "empty":
        tb.connect(src, head, snk)
    elif case == "a":
        rot = blocks.rotator_cc(2 * np.pi * DOPPLER_HZ / FS)
        mul = blocks.multiply_const_cc(g)
        nz = analog.noise_source_c(analog.GR_GAUSSIAN, noise_v, 42)
        add = blocks.add_cc()
        tb.connect(src, head, rot, mul, (add, 0))
        tb.connect(nz, (add, 1))
        tb.connect(add, snk)
    elif case == "a'":
        ch = channels.channel_model(noise_v, DOPPLER_HZ / FS, 1.0, [g + 0j], 42, False)
        tb.connect(src, head, ch, snk)
    elif case == "b":
        fad = channels.fading_model(8, FD_HZ / FS, True, K, 42)
        tb.connect(src, head, fad, snk)
    elif case == "c":
        ch = channels.channel_model(noise_v, DOPPLER_HZ / FS, 1.0, [g + 0j], 42, False)
        p_rx = 10 ** (GAIN_DB / 10)
        cw = analog.sig_source_c(FS, analog.GR_COS_WAVE, 250e3, float(np.sqrt(p_rx)), 0)
        nz = analog.noise_source_c(analog.GR_GAUSSIAN, float(np.sqrt(p_rx * 10 ** 0.3)), 43)
        taps = band_filter(2.5e6, FS)
        fir = filter.fir_filter_ccc(1, (taps * np.exp(2j * np.pi * 1e6 / FS * np.arange(taps.size))).tolist())
        add = blocks.add_cc()
        tb.connect(src, head, ch, (add, 0))
        tb.connect(cw, (add, 1))
        tb.connect(nz, fir, (add, 2))
        tb.connect(add, snk)
    t0 = time.perf_counter()
    c0 = time.process_time()  # CPU time of all threads of this process (GNU Radio's too)
    tb.run()
    return n_total / (time.perf_counter() - t0) / 1e6, n_total / (time.process_time() - c0) / 1e6


def rss_child(n_total: int, chunk: int) -> None:
    x = make_input()
    run_linksim("c", x, n_total, chunk)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu", type=int, default=0, help="core to pin this process (and GNU Radio's threads) to")
    ap.add_argument("--cores", type=int, default=1, help="cores for both sides (1: pinned to --cpu; linksim then "
                    "runs its kernels on this many threads, GNU Radio its blocks on its own threads)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=65536, help="linksim chunk size (samples)")
    ap.add_argument("--n", type=float, default=20e6, help="samples per run for (a) and (c)")
    ap.add_argument("--n-fading", type=float, default=4e6, help="samples per run for (b)")
    ap.add_argument("--rss-child", type=float, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.sched_setaffinity(0, {args.cpu} if args.cores <= 1 else set(range(args.cores)))
    if args.rss_child:
        rss_child(int(args.rss_child), args.chunk)
        return 0
    x = make_input()
    where = f"pinned to CPU {args.cpu}" if args.cores <= 1 else f"{args.cores} cores, linksim on {args.cores} threads"
    print(f"linksim channel benchmark, in memory: fs = {FS / 1e6:g} Msps, sps = {SPS}, chunk = {args.chunk}, {where}, "
          f"best of {args.repeat}; load average {os.getloadavg()[0]:.2f}")
    base = max(run_gr("empty", x, int(args.n))[0] for _ in range(args.repeat))
    print(f"GR empty flowgraph (vector_source -> head -> null_sink): {base:8.1f} Msps")
    print("Msps by wall clock (w) and by CPU time of the process, all threads (cpu); the cpu figures do not")
    print("depend on what else the shared machine runs. Ratio = linksim / GNU Radio.")
    rows = []
    for case, label, n, ref in [
        ("a", "gain + Doppler + AWGN", args.n, "rotator + multiply + noise_source_c + add"),
        ("a'", "gain + Doppler + AWGN", args.n, "channel_model"),
        ("b", "+ Rician K=4 fading", args.n_fading, "fading_model"),
        ("c", "+ CW + barrage jammers", args.n, "channel_model + CW + FIR(noise) + add"),
    ]:
        ours, theirs = [0.0, 0.0], [0.0, 0.0]
        for _ in range(args.repeat):
            got = run_linksim(case, x, int(n), args.chunk, max(args.cores, 1))
            ours = [max(a, b) for a, b in zip(ours, got, strict=True)]
            theirs = [max(a, b) for a, b in zip(theirs, run_gr(case, x, int(n)), strict=True)]
        rows.append((case, label, ours, ref, theirs))
        print(f"({case:2s}) {label:24s} linksim {ours[0]:6.1f} w {ours[1]:6.1f} cpu | GR {ref:42s} "
              f"{theirs[0]:6.2f} w {theirs[1]:6.2f} cpu | ratio {ours[0] / theirs[0]:5.1f}x w "
              f"{ours[1] / theirs[1]:5.1f}x cpu", flush=True)
    lens = [int(args.n) // 4, int(args.n) * 2]
    rss = []
    for n in lens:
        out = subprocess.run([sys.executable, __file__, "--cpu", str(args.cpu), "--rss-child", str(n),
                              "--chunk", str(args.chunk)], capture_output=True, text=True, check=True)
        rss.append(int(out.stdout.strip().splitlines()[-1]))
    for n, r in zip(lens, rss, strict=True):
        print(f"peak RSS, case (c), {n / 1e6:6.0f} M samples: {r / 1024:7.1f} MiB")
    print(f"peak RSS growth for {lens[1] / lens[0]:.0f}x the stream: {(rss[1] - rss[0]) / 1024:+.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
