"""Phase noise in the budget against the receiver: 32APSK 4/5 at 1 Msym/s, a fixed-geometry link whose C/(N+I+J)
is about 35 dB, oscillator phase noise from -95 to -75 dBc/Hz at 10 kHz (the scenario mask of
linksim.budget.impairments.phase_noise_mask), in loopback runs (`linksim run`'s flowgraph): the budget's Es/N0
before and after its phase-noise term, the receiver's measured Es/N0 (mean over frames of its per-frame estimates, as
the report averages them), the Es/N0 the data symbols see (decoding) and the FER.

    .venv/bin/python benchmarks/phase_noise_prediction.py --seconds 1.0
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.budget.timeline import compute_timeline  # noqa: E402
from linksim.run.loop import run_scenario  # noqa: E402
from linksim.scenario.model import scenario_from_dict  # noqa: E402


def scenario(level: float, modcod: str) -> dict:
    return {
        "scenario": {"name": "pn", "start": "2026-01-01T00:00:00Z", "duration_s": 10.0, "step_s": 1.0},
        "site": {"lat_deg": 60.0, "lon_deg": 10.0},
        "terminal": {"antenna_diameter_m": 1.2, "noise_temp_k": 100.0},
        "satellite": {"eirp_dbw": 57.3},
        "geometry": {"elevation_deg": 30.0, "range_km": 38000.0},
        "carrier": {"freq_hz": 7.5e9, "symbol_rate_baud": 1.0e6, "modcod": modcod},
        "propagation": {"mode": "clear_sky", "gas": False, "cloud": False},
        "channel": {"phase_noise_dbc_hz": level},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--levels", default="-95,-90,-85,-80,-75")
    ap.add_argument("--modcod", default="32APSK 4/5")
    a = ap.parse_args()
    print(f"{a.modcod}, {a.seconds:g} s per level")
    print()
    print("| phase noise at 10 kHz | budget without the term | budget (receiver's estimate) | measured | "
          "measured - predicted | Es/N0 for decoding | FER |")
    print("|---|---|---|---|---|---|---|")
    for lvl in (float(x) for x in a.levels.split(",")):
        s = scenario_from_dict(scenario(lvl, a.modcod))
        tl = compute_timeline(s, duration_s=1.0)
        with tempfile.TemporaryDirectory() as out:
            sm = run_scenario(s, out, duration_s=a.seconds, seed=3, report=False)
        meas, pred = sm["esn0_est_db_mean"], sm["predicted_esn0_db_mean"]
        print(f"| {lvl:.0f} dBc/Hz | {tl['cnij_link_db'][0]:.2f} dB | {pred:.2f} dB | {meas:.2f} dB | "
              f"{meas - pred:+.2f} dB | {tl['esn0_decode_db'][0]:.2f} dB | {sm['fer']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
