"""DVB-S2 decoder waterfalls against ETSI EN 302 307-1 Table 13: where does each MODCOD's FER cross 0.5?

For each MODCOD and each LDPC iteration limit, the genie-sync receiver (perfect timing, carrier and phase; normal
frames, pilots on, AWGN) decodes --frames frames at Es/N0 = T + offset, T the Table 13 threshold, for offsets from
--from-db up in --step-db steps until a point has no frame error. Printed: the FER at every point and the Es/N0
(relative to T) where the FER crosses 0.5, interpolated linearly between the two points around it.

Table 13 was computed with 50 LDPC iterations of belief propagation (flooding schedule: all checks, then all
variables). linksim's decoder is layered (each check layer uses the messages the previous layers just updated),
which converges in about half the iterations of a flooding decoder; its default is also 50, so by default it has
roughly twice the decoding effort Table 13 assumed. This benchmark shows what that does to each waterfall.

    .venv/bin/python benchmarks/waterfall.py --frames 20 --max-iter 50,25 --jobs 2
    .venv/bin/python benchmarks/waterfall.py --modcods "QPSK 1/4,QPSK 1/3" --frames 40 --max-iter 50,40,30,25
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.dvbs2.link import run_link  # noqa: E402
from linksim.scenario import modcods  # noqa: E402


def crossing_db(points: list[tuple[float, float]], level: float = 0.5) -> float:
    """Offset where the FER (falling with Es/N0) first drops through `level`, linear between the two points
    around it; nan if the points never cross it (all above or all below)."""
    for (x0, f0), (x1, f1) in zip(points, points[1:], strict=False):
        if f0 >= level > f1:
            return x0 + (f0 - level) / (f0 - f1) * (x1 - x0)
    return float("nan")


def _sweep(args: tuple[str, int, int, float, float, float, int]) -> dict:
    name, max_iter, frames, from_db, step_db, to_db, seed = args
    thr = modcods.get(name).esn0_qef_db
    t0 = time.perf_counter()
    points: list[tuple[float, float]] = []
    off = from_db
    while off <= to_db + 1e-9:
        r = run_link(name, thr + off, frames=frames, sync="genie", seed=seed, max_iter=max_iter)
        points.append((round(off, 3), r.fer))
        if r.frame_errors == 0:
            break
        off += step_db
    return {"modcod": name, "table13_db": thr, "max_iter": max_iter, "points": points,
            "fer05_db": crossing_db(points), "seconds": time.perf_counter() - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modcods", default="", help="comma-separated subset (default: all 28)")
    ap.add_argument("--max-iter", default="50,25", help="comma-separated LDPC iteration limits (50,25)")
    ap.add_argument("--frames", type=int, default=20, help="frames per point (20)")
    ap.add_argument("--from-db", type=float, default=-1.0, help="first offset from Table 13, dB (-1.0)")
    ap.add_argument("--step-db", type=float, default=0.1, help="offset step, dB (0.1)")
    ap.add_argument("--to-db", type=float, default=0.5, help="last offset tried, dB (0.5)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (1)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (7)")
    args = ap.parse_args()
    names = [m.strip() for m in args.modcods.split(",") if m.strip()] or [m.name for m in modcods.table13()]
    iters = [int(s) for s in args.max_iter.split(",") if s.strip()]
    work = [(n, it, args.frames, args.from_db, args.step_db, args.to_db, args.seed + 10 * i)
            for i, n in enumerate(names) for it in iters]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max(1, args.jobs)) as ex:
        rows = list(ex.map(_sweep, work))
    by = {(r["modcod"], r["max_iter"]): r for r in rows}
    head = "| MODCOD | Table 13 Es/N0 dB | " + " | ".join(f"FER 0.5 at, {it} it." for it in iters)
    head += " | " + " | ".join(f"FER at T-0.5, {it} it." for it in iters) + " |"
    lines = [head, "|---|---:|" + "---:|" * (2 * len(iters))]
    for n in names:
        r0 = by[(n, iters[0])]
        cells = []
        for it in iters:
            x = by[(n, it)]["fer05_db"]
            cells.append(f"T{x:+.2f} dB" if x == x else "-")
        for it in iters:
            pts = dict(by[(n, it)]["points"])
            f = pts.get(-0.5)
            cells.append("-" if f is None else f"{f:.2f}")
        lines.append(f"| {n} | {r0['table13_db']:.2f} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Points (offset from T in dB: FER):")
    for r in rows:
        pts = ", ".join(f"{o:+.1f}: {f:.2f}" for o, f in r["points"])
        lines.append(f"- {r['modcod']}, {r['max_iter']} it.: {pts}")
    cmd = "python benchmarks/waterfall.py " + shlex.join(sys.argv[1:])
    lines.append("")
    lines.append(f"Measured with `{cmd}` in {time.perf_counter() - t0:.0f} s, {args.frames} frames per point.")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
