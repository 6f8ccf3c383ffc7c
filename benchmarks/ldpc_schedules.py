"""DVB-S2 LDPC decoding effort: flooding against layered schedules, and what Table 13's "50 iterations" means.

ETSI EN 302 307-1 Table 13 gives each MODCOD's Es/N0 for quasi-error-free reception with 50 LDPC decoding
iterations of belief propagation, whose classic schedule is flooding (every check node from the previous
iteration's messages). linksim's receiver decodes with a layered schedule (each check layer from what the
layers before it just updated), which converges in fewer iterations. This script measures by how much, on the
decoder alone: QPSK normal frames (BPSK-equivalent LLRs, 2 sqrt(2) y / N0 per bit, the receiver's own QPSK
demapping), random information bits, corrected min-sum in both schedules. For each MODCOD and configuration it
prints the FER at Es/N0 = T + offset (T from Table 13) and the mean iterations of the decoded frames.

A frame is in error when the decoded information bits differ from those sent (the BCH outer code, which would
correct up to 8 to 12 residual bit errors, is left out: near the waterfall LDPC failures leave hundreds).

    .venv/bin/python benchmarks/ldpc_schedules.py --frames 40 --jobs 2
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.dvbs2.ldpc import dvbs2_code  # noqa: E402
from linksim.scenario import modcods  # noqa: E402

CONFIGS = [("flooding", 50), ("layered", 25), ("layered", 50)]


def _point(args: tuple[str, float, str, int, int, tuple[int, ...]]) -> dict:
    """FER of one (MODCOD, Es/N0 offset, schedule, iterations) over `frames` frames."""
    name, offset_db, schedule, max_iter, frames, seed = args
    m = modcods.get(name)
    code = dvbs2_code("normal", name.split()[1])
    rng = np.random.default_rng(seed)
    n0 = 10 ** (-(m.esn0_qef_db + offset_db) / 10)
    amp = 1 / np.sqrt(2)  # each QPSK component
    errors = 0
    its = []
    for _ in range(frames):
        info = rng.integers(0, 2, (1, code.k), dtype=np.uint8)
        cw = code.encode(info)
        y = amp * (1.0 - 2.0 * cw) + np.sqrt(n0 / 2) * rng.standard_normal(cw.shape)
        r = code.decode((2 * amp * y / (n0 / 2)).astype(np.float32), max_iter=max_iter, schedule=schedule)
        if np.any(r.bits[0, : code.k] != info[0]):
            errors += 1
        else:
            its.append(int(r.iterations[0]))
    return {"modcod": name, "offset_db": offset_db, "schedule": schedule, "max_iter": max_iter,
            "frames": frames, "errors": errors, "mean_iter": float(np.mean(its)) if its else float("nan")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modcods", default="QPSK 1/4,QPSK 1/3,QPSK 1/2,QPSK 3/4", help="QPSK MODCODs")
    ap.add_argument("--offsets", default="-0.7,-0.5,-0.3,0.0,0.3", help="Es/N0 offsets from Table 13, dB")
    ap.add_argument("--frames", type=int, default=40, help="frames per point (40)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (1)")
    ap.add_argument("--seed", type=int, default=3, help="random seed (3)")
    args = ap.parse_args()
    names = [s.strip() for s in args.modcods.split(",") if s.strip()]
    if any(not n.startswith("QPSK ") for n in names):
        ap.error("this benchmark models QPSK only")
    offsets = [float(s) for s in args.offsets.split(",")]
    work = [(n, o, sch, it, args.frames, (args.seed, i, k, j)) for i, n in enumerate(names)
            for k, o in enumerate(offsets) for j, (sch, it) in enumerate(CONFIGS)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max(1, args.jobs)) as ex:
        rows = list(ex.map(_point, work))
    by = {(r["modcod"], r["offset_db"], r["schedule"], r["max_iter"]): r for r in rows}
    head = "| MODCOD | Es/N0 (T + offset) | " + " | ".join(f"{s} {i}: FER (it.)" for s, i in CONFIGS) + " |"
    lines = [head, "|---|---:|" + "---:|" * len(CONFIGS)]
    for n in names:
        thr = modcods.get(n).esn0_qef_db
        for o in offsets:
            cells = []
            for s, i in CONFIGS:
                r = by[(n, o, s, i)]
                cells.append(f"{r['errors']}/{r['frames']} ({r['mean_iter']:.1f})")
            lines.append(f"| {n} | {thr + o:.2f} (T{o:+.1f}) | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Measured with `python benchmarks/ldpc_schedules.py {shlex.join(sys.argv[1:])}` in "
                 f"{time.perf_counter() - t0:.0f} s; (it.) = mean iterations of the frames decoded.")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
