"""DVB-S2 receiver acquisition: the figures of docs/dvbs2-fer.md, "Acquisition at the lowest thresholds and after
noise", from one command.

Three parts (--parts, default all):
- late: a receiver started before its transmitter: 1 million noise samples (0.5 s at 1 Msym/s, 2 sps), then 10
  frames with a carrier offset and a 0.37-sample timing offset, 65 536-sample blocks; frames reported and decoded;
- cfo: full sync with a carrier offset of +-20 % of the symbol rate at Table 13 + 1 dB, 20 frames each;
- noise: pure noise, 4 million samples per seed: frames reported (must be 0) and locks.

    .venv/bin/python benchmarks/acquisition.py
    .venv/bin/python benchmarks/acquisition.py --parts noise --noise-seeds 8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.dvbs2.link import late_stream, run_link  # noqa: E402
from linksim.dvbs2.rx import Receiver  # noqa: E402
from linksim.scenario import modcods  # noqa: E402

BLOCK = 65536
LATE_CASES = [("QPSK 1/4", -2.35, 0.01), ("QPSK 1/4", -2.35, 0.2), ("QPSK 1/2", 3.0, -0.3), ("8PSK 3/4", 9.0, -0.2),
              ("32APSK 9/10", 17.0, 0.05)]
CFO_CASES = ["QPSK 1/4", "QPSK 1/2", "8PSK 3/4", "16APSK 3/4", "32APSK 9/10"]


def decode(x: np.ndarray, rx: Receiver) -> list:
    reps = []
    for i in range(0, x.size, BLOCK):
        reps += rx.process(x[i : i + BLOCK])
    return reps + rx.flush()


def part_late(seeds: list[int]) -> None:
    print("| MODCOD | Es/N0 dB | CFO (cycles/symbol) | seed | frames reported / sent | decoded |")
    print("|---|---:|---:|---:|---:|---:|")
    for m, es, cfo in LATE_CASES:
        for seed in seeds:
            x = late_stream(m, es, frames=10, lead_samples=1_000_000, cfo_cyc=cfo, seed=seed)
            reps = [r for r in decode(x, Receiver()) if r.modcod == m]
            print(f"| {m} | {es} | {cfo} | {seed} | {len(reps)}/10 | {sum(r.ok for r in reps)} |", flush=True)


def part_cfo() -> None:
    print("| MODCOD | +20 %: errors/frames (missed) | -20 %: errors/frames (missed) |")
    print("|---|---:|---:|")
    for m in CFO_CASES:
        thr = modcods.get(m).esn0_qef_db
        cells = []
        for c in (0.2, -0.2):
            r = run_link(m, thr + 1.0, frames=20, sync="full", cfo_hz=c * 1e6, symbol_rate_baud=1e6,
                         timing_offset_samples=0.37, seed=51)
            cells.append(f"{r.frame_errors}/{r.frames} ({r.missed})")
        print(f"| {m} | " + " | ".join(cells) + " |", flush=True)


def part_noise(seeds: int) -> None:
    total = 0
    for s in range(seeds):
        rng = np.random.default_rng(1000 + s)
        rx = Receiver()
        reps = []
        for _ in range(4_000_000 // BLOCK):
            x = ((rng.standard_normal(BLOCK) + 1j * rng.standard_normal(BLOCK)) * np.sqrt(0.5)).astype(np.complex64)
            reps += rx.process(x)
        reps += rx.flush()
        total += len(reps)
        print(f"noise seed {1000 + s}: {4_000_000 // BLOCK * BLOCK} samples, {len(reps)} frames reported, "
              f"locked: {rx._locked}, searches: {rx.stats['searches']}", flush=True)
    print(f"pure noise: {total} frames reported in {seeds} seeds")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="late,cfo,noise", help="comma-separated: late, cfo, noise (all)")
    ap.add_argument("--late-seeds", default="1,2,3", help="seeds of the late-start streams (1,2,3)")
    ap.add_argument("--noise-seeds", type=int, default=8, help="pure-noise streams of 4 million samples (8)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    parts = {p.strip() for p in args.parts.split(",")}
    if not parts <= {"late", "cfo", "noise"}:
        ap.error(f"unknown part(s): {sorted(parts - {'late', 'cfo', 'noise'})}")
    if "late" in parts:
        part_late([int(s) for s in args.late_seeds.split(",")])
    if "cfo" in parts:
        part_cfo()
    if "noise" in parts:
        part_noise(args.noise_seeds)
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
