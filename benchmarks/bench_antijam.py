"""What the anti-jam front end costs per sample, beside the receiver's, and the loopback's real-time factor with it.

Run:  .venv/bin/python benchmarks/bench_antijam.py [--seconds 2] [--skip-run]

Part 1 (CPU time of this process, one thread: the figures that move least on a shared machine). A DVB-S2 QPSK 1/2
stream at 2 samples per symbol (1 Msym/s = 2 Msps) with a CW jammer at J/S +10 dB goes through each processor on
numpy arrays in chunks of 65536 samples: FFT excision, the notch bank (one tone, and a 4-tone multitone), the pulse
blanker, the 4-element channel and SMI combiner (MVDR); and the DVB-S2 receiver alone on the cleaned stream. Each is
printed as Msps per CPU second and as the share of one core it takes at 1 Msym/s, beside the stock GNU Radio block
doing comparable work, run as vector_source -> head -> block -> null_sink on the same samples:
  FFT excision    vs  filter.fft_filter_ccc with 513 taps (FFT size 1024, a forward and an inverse FFT per 512
                      samples, as the excision's 50 % overlap)
  notch bank      vs  filter.iir_filter_ccz, a 2nd-order complex section per tone (fixed notches: the adaptive
                      loop and the search are extra work the stock block does not do)
  pulse blanker   vs  complex_to_mag_squared -> moving_average_ff(2) -> threshold_ff -> float_to_complex ->
                      multiply_cc (a fixed threshold: no running level)
  combiner (N=4)  vs  4 x multiply_const_cc + add_cc (fixed weights: no covariance estimate or solve)
Part 2 (wall clock, GNU Radio, pinned to one core): `linksim run` of the anti-jam bench at 1 Msym/s, QPSK 1/2: with
no jammer and no mitigation (the reference), then each front end against the jammer it takes out at J/S +10 dB
(FFT excision and notches: the bench's CW tone; blanking: barrage pulses, duty 0.1 at 10 kHz; the 4-element MVDR
array: a barrage), and FFT excision with no jammer: simulated seconds per wall second (target >= 1.0) and CPU seconds
per simulated second. Wall-clock figures move with the machine's load: the load
average is printed; re-measure on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys

if "--skip-run" not in sys.argv:  # pin before any thread starts (numpy's BLAS, GNU Radio): threads inherit it
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linksim.channel import jammers as jw  # noqa: E402
from linksim.channel.core import Channel, ChannelProfile, JammerSpec  # noqa: E402
from linksim.dvbs2.rx import Receiver  # noqa: E402
from linksim.dvbs2.tx import Transmitter, random_ts_packets  # noqa: E402
from linksim.mitigation.array import ArrayCombiner  # noqa: E402
from linksim.mitigation.blanking import PulseBlanker  # noqa: E402
from linksim.mitigation.excision import FftExcision  # noqa: E402
from linksim.mitigation.notch import NotchBank  # noqa: E402

FS = 2e6
CHUNK = 65536
ROOT = Path(__file__).resolve().parents[1]


def stream(frames: int, jammer: object | None) -> np.ndarray:
    tx = Transmitter(frame="normal", pilots=True, rolloff=0.2, sps=2)
    tx.push(random_ts_packets(frames * 45, seed=1))
    x = np.concatenate([tx.shape(tx.frame_symbols("QPSK 1/2")) for _ in range(frames)])
    ch = Channel(FS, 2, ChannelProfile.constant(esn0_db=10.0, duration_s=100.0),
                 jammers=[JammerSpec(jammer, 10.0)] if jammer is not None else [], seed=2)
    return ch.process(x)


def cpu_rate(fn, x: np.ndarray, repeat: int = 2) -> float:
    """Best samples per CPU second of fn over x in chunks (fn takes a chunk; a fresh state each repeat)."""
    best = 0.0
    for _ in range(repeat):
        f = fn()
        t = time.process_time()
        for i in range(0, x.shape[-1], CHUNK):
            f(x[..., i:i + CHUNK])
        dt = time.process_time() - t
        best = max(best, x.shape[-1] / max(dt, 1e-9))
    return best


def gr_rate(make_blocks, x: np.ndarray, n_in: int = 1) -> float:
    """Samples per CPU second of a stock GNU Radio chain: make_blocks(tb) returns ([(block, port)] of the inputs,
    the last block); vector_source(s) -> head -> inputs, last -> null_sink."""
    from gnuradio import blocks, gr

    tb = gr.top_block()
    ins, last = make_blocks(tb)
    for k in range(n_in):
        src = blocks.vector_source_c((x if n_in == 1 else x[k]).tolist(), True)
        head = blocks.head(gr.sizeof_gr_complex, 4 * x.shape[-1])
        tb.connect(src, head, ins[k])
    tb.connect(last, blocks.null_sink(gr.sizeof_gr_complex))
    t = time.process_time()
    tb.run()
    return 4 * x.shape[-1] / (time.process_time() - t)


def _one(block):
    return [(block, 0)], block


def gr_empty(x: np.ndarray) -> float:
    from gnuradio import blocks

    return gr_rate(lambda tb: _one(blocks.copy(8)), x)


def part1(frames: int) -> None:
    from gnuradio import filter as grf

    x_cw = stream(frames, jw.CWJammer(offset_hz=230e3))
    x_mt = stream(frames, jw.MultitoneJammer(4, 0.8e6, offset_hz=50e3))
    x_pu = stream(frames, jw.PulsedJammer(base=jw.BarrageJammer(1.2e6), duty=0.1, prf_hz=10e3))
    rows = []

    def add(name: str, rate: float, ref_name: str, ref: float | None) -> None:
        rows.append((name, rate, ref_name, ref))

    add("FFT excision (CW)", cpu_rate(lambda: FftExcision().process, x_cw), "fft_filter_ccc, 513 taps",
        gr_rate(lambda tb: _one(grf.fft_filter_ccc(1, np.ones(513, complex).tolist())), x_cw))
    notch = lambda tones: (lambda tb: _iir_chain(tb, tones))  # noqa: E731
    add("notch bank (1 tone)", cpu_rate(lambda: NotchBank().process, x_cw), "1 x iir_filter_ccz",
        gr_rate(notch(1), x_cw))
    add("notch bank (4 tones)", cpu_rate(lambda: NotchBank().process, x_mt), "4 x iir_filter_ccz",
        gr_rate(notch(4), x_mt))
    add("pulse blanker (pulsed barrage)", cpu_rate(lambda: PulseBlanker().process, x_pu),
        "mag^2 -> moving average -> threshold -> multiply", gr_rate(_blanker_chain, x_pu))
    rng = np.random.default_rng(3)
    x4 = np.stack([x_cw * np.exp(1j * k) + (rng.standard_normal(x_cw.size) + 1j * rng.standard_normal(x_cw.size))
                   * 0.5 for k in range(4)]).astype(np.complex64)
    add("SMI combiner, 4 elements, MVDR", cpu_rate(lambda: ArrayCombiner(4, "mvdr").process, x4),
        "4 x multiply_const_cc + add_cc", gr_rate(_sum_chain, x4, n_in=4))
    from linksim.budget.timeline import compute_timeline
    from linksim.channel.array import array_channel_from_timeline
    from linksim.scenario.model import load_scenario

    tl = compute_timeline(load_scenario(ROOT / "scenarios" / "contested-x-array.toml"))
    add("array channel, 4 elements (per input sample)",
        cpu_rate(lambda: array_channel_from_timeline(tl, 0.0, 9.0, 2, 1).process, x_cw[: x_cw.size // 2]),
        "", None)
    clean = np.concatenate([FftExcision().process(x_cw)])
    rx_rate = cpu_rate(lambda: Receiver(sps=2).process, clean, repeat=1)
    add("DVB-S2 receiver (QPSK 1/2, after excision)", rx_rate, "", None)
    print(f"load average {os.getloadavg()[0]:.1f}; {x_cw.size} samples per case; GR empty flowgraph "
          f"{gr_empty(x_cw) / 1e6:.0f} Msps per CPU s")
    print("| processor | Msps per CPU s | share of a core at 1 Msym/s (2 Msps) | stock GNU Radio, same work | "
          "its Msps per CPU s | ratio |")
    print("|---|---|---|---|---|---|")
    for name, rate, ref_name, ref in rows:
        r = f"{ref / 1e6:.1f}" if ref else ""
        ratio = f"{rate / ref:.2f}x" if ref else ""
        print(f"| {name} | {rate / 1e6:.1f} | {100 * FS / rate:.1f} % | {ref_name} | {r} | {ratio} |")


def _iir_chain(tb, n: int):
    from gnuradio import filter as grf

    secs = []
    for k in range(n):
        w = 2 * np.pi * (0.05 + 0.1 * k)
        z = np.exp(1j * w)
        secs.append(grf.iir_filter_ccz([1.0, -z], [1.0, 0.995 * z], False))
    for a, b in zip(secs, secs[1:], strict=False):
        tb.connect(a, b)
    return [(secs[0], 0)], secs[-1]


def _blanker_chain(tb):
    from gnuradio import blocks

    mag = blocks.complex_to_mag_squared()
    avg = blocks.moving_average_ff(2, 0.5)
    thr = blocks.threshold_ff(6.0, 6.3, 0)
    inv = blocks.multiply_const_ff(-1.0)
    one = blocks.add_const_ff(1.0)
    f2c = blocks.float_to_complex()
    split = blocks.copy(8)
    mul = blocks.multiply_cc()
    tb.connect(split, mag, avg, thr, inv, one, f2c, (mul, 1))
    tb.connect(split, (mul, 0))
    return [(split, 0)], mul


def _sum_chain(tb):
    from gnuradio import blocks

    add = blocks.add_cc()
    muls = [blocks.multiply_const_cc(0.25 + 0.1j * k) for k in range(4)]
    for k, m in enumerate(muls):
        tb.connect(m, (add, k))
    return [(m, 0) for m in muls], add


def part2(seconds: float) -> None:
    from linksim.run.loop import run_scenario
    from linksim.scenario.model import load_scenario

    base = ROOT / "scenarios" / "contested-x-antijam.toml"
    pulsed = {"jammer.0.type": "pulsed", "jammer.0.base": "barrage", "jammer.0.bandwidth_hz": 1.2e6,
              "jammer.0.duty_cycle": 0.1, "jammer.0.prf_hz": 10e3, "jammer.0.offset_hz": 0.0}
    barrage = {"jammer.0.type": "barrage", "jammer.0.bandwidth_hz": 1.2e6, "jammer.0.offset_hz": 0.0}
    cases = {
        "none, jammer off (reference)": {"jammer.0.js_db": -40.0},
        "FFT excision, CW +10 dB": {"mitigation.excision": "fft"},
        "FFT excision, jammer off": {"mitigation.excision": "fft", "jammer.0.js_db": -40.0},
        "notch bank, CW +10 dB": {"mitigation.excision": "notch"},
        "blanking, pulsed +10 dB": {"mitigation.blanking": "pulse", **pulsed},
        "4-element MVDR, barrage +10 dB": {"terminal.array.elements": 4, "terminal.array.nulling": "mvdr", **barrage},
    }
    print(f"load average {os.getloadavg()[0]:.1f}; pinned to core {sorted(os.sched_getaffinity(0))}")
    print("| front end | simulated s | RTF (flowgraph) | CPU s per simulated s | FER |")
    print("|---|---|---|---|---|")
    for name, ov in cases.items():
        s = load_scenario(base, ov)
        with tempfile.TemporaryDirectory() as tmp:  # warm-up: numba caches, the first flowgraph
            run_scenario(s, Path(tmp), duration_s=0.5, report=False)
        with tempfile.TemporaryDirectory() as tmp:
            c0 = time.process_time()
            sm = run_scenario(s, Path(tmp), duration_s=seconds, report=False)
            cpu = time.process_time() - c0
        print(f"| {name} | {sm['simulated_s']:.2f} | {sm['realtime_factor']:.2f} | {cpu / sm['simulated_s']:.2f} | "
              f"{sm['fer']:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=12, help="QPSK 1/2 frames per stream in part 1 (12)")
    ap.add_argument("--seconds", type=float, default=2.0, help="simulated seconds per run in part 2 (2)")
    ap.add_argument("--skip-run", action="store_true", help="part 1 only (not pinned)")
    ap.add_argument("--skip-costs", action="store_true", help="part 2 only")
    a = ap.parse_args()
    if not a.skip_costs:
        part1(a.frames)
    if not a.skip_run:
        part2(a.seconds)


if __name__ == "__main__":
    main()
