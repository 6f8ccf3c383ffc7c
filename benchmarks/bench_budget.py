"""Budget speed: timeline rows per second for a 24 h, 1 s step HEO scenario (ITU-R map loading excluded).

Run:  .venv/bin/python benchmarks/bench_budget.py
Prints rows/s (target >= 50 000 on one core) and peak memory. Reference for the ratio: the issue's 50 000 rows/s.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

from linksim.budget import timeline as budget  # noqa: E402
from linksim.scenario.model import load_scenario  # noqa: E402

TARGET_ROWS_S = 50_000.0


def main() -> None:
    path = Path(__file__).resolve().parent.parent / "scenarios" / "tromso-x-heo.toml"
    s = load_scenario(path, {"scenario.step_s": 1.0, "scenario.duration_s": 86400.0})
    budget.compute_timeline(s, duration_s=600.0)  # warm-up: loads the ITU-R maps and fills the caches
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        tl = budget.compute_timeline(s)
        best = min(best, time.perf_counter() - t0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows = len(tl)
    rate = rows / best
    print(f"scenario        : {s.name}, 24 h at 1 s step ({rows} rows), {len(s.jammers)} jammers")
    print(f"best of 3       : {best:.3f} s")
    print(f"rows per second : {rate:,.0f}   (target {TARGET_ROWS_S:,.0f}; ratio {rate / TARGET_ROWS_S:.2f}x)")
    print(f"peak Python heap during the timeline: {peak / 2**20:.1f} MiB")
    print(f"process max RSS : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          f"(after map loading: {rss0:.0f} MiB)")


if __name__ == "__main__":
    main()
