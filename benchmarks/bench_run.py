"""Loopback real-time factor: simulated symbol time / wall time of `linksim run` at 1 Msym/s (--rate for another).

Run:  .venv/bin/python benchmarks/bench_run.py [--seconds 5] [--rate 2e6 --cores 2]
For QPSK 1/2 and 16APSK 3/4 (CCM, Es/N0 well above threshold) with a CW and a barrage jammer active, it runs the
whole GNU Radio flowgraph (TS source -> DVB-S2 TX -> channel with jammers -> DVB-S2 RX) and prints the real-time
factor (target >= 1.0 on one core). The process is pinned to one core by default (--cores 2 lets GNU Radio's
thread-per-block scheduler use both, and the receiver decodes on a worker thread with its front end one block
ahead: the target at 2 Msym/s on two cores is >= 1.0). "RTF flowgraph" counts the flowgraph's wall time (the summary's
realtime_factor); "RTF whole run" also counts the budget, the clear-sky reference and the run directory.
"""

from __future__ import annotations

import argparse
import os
import sys

# pin before anything starts threads (numpy's BLAS, GNU Radio's scheduler): threads inherit the affinity
_CORES = int(sys.argv[sys.argv.index("--cores") + 1]) if "--cores" in sys.argv else 1
os.sched_setaffinity(0, set(range(_CORES)))

import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from linksim.run.loop import run_scenario  # noqa: E402
from linksim.scenario.model import scenario_from_dict  # noqa: E402

BASE = {
    "scenario": {"name": "bench-run", "start": "2026-01-01T00:00:00Z", "duration_s": 60.0, "step_s": 1.0},
    "site": {"lat_deg": 60.0, "lon_deg": 10.0},
    "terminal": {"antenna_diameter_m": 1.2, "noise_temp_k": 100.0},
    "satellite": {"eirp_dbw": 40.0},
    "geometry": {"elevation_deg": 30.0, "range_km": 38000.0},
    "carrier": {"freq_hz": 7.5e9, "symbol_rate_baud": 1.0e6, "modcod": "QPSK 1/2"},
    "propagation": {"mode": "clear_sky"},
    "jammer": [
        {"name": "cw", "type": "cw", "js_db": -20.0, "offset_hz": 1.0e5},
        {"name": "barrage", "type": "barrage", "js_db": -20.0, "bandwidth_hz": 2.0e6},
    ],
}


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0, help="simulated seconds per MODCOD")
    ap.add_argument("--cores", type=int, default=1, help="pin the process to this many cores (default 1)")
    ap.add_argument("--rate", type=float, default=1e6, help="symbol rate, Bd (default 1e6)")
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(f"pinned to {args.cores} core(s); {args.rate / 1e6:g} Msym/s")
    print(f"{'MODCOD':<12} {'sim s':>6} {'wall s':>7} {'RTF flowgraph':>14} {'RTF whole run':>14} {'CPU s/sim s':>12} "
          f"{'FER':>7}  (target RTF >= 1.0)")
    for mc in ("QPSK 1/2", "16APSK 3/4"):
        d = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
        d["carrier"] = dict(BASE["carrier"], modcod=mc, symbol_rate_baud=args.rate)
        # the barrage fills the simulated band at any rate (2 samples per symbol), as the 2 MHz one does at 1 Msym/s
        d["jammer"] = [dict(BASE["jammer"][0]), dict(BASE["jammer"][1], bandwidth_hz=2.0 * args.rate)]
        s = scenario_from_dict(d)
        # warm-up: numba caches and the first flowgraph
        with tempfile.TemporaryDirectory() as tmp:
            run_scenario(s, Path(tmp), duration_s=1.0, report=False)
        with tempfile.TemporaryDirectory() as tmp:
            c0, t0 = cpu_s(), time.perf_counter()
            sm = run_scenario(s, Path(tmp), duration_s=args.seconds, report=False)
            wall, cpu = time.perf_counter() - t0, cpu_s() - c0
        sim = sm["simulated_s"]
        print(f"{mc:<12} {sim:6.2f} {wall:7.2f} {sm['realtime_factor']:14.2f} {sim / wall:14.2f} {cpu / sim:12.2f} "
              f"{sm['fer']:7.4f}")


if __name__ == "__main__":
    main()
