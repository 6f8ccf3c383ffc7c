"""Null depth of a 4-element MVDR array against its element errors: the budget's prediction, first-order theory and the
measurement (the adapted pattern of the SMI combiner's weights in a run), for a barrage jammer 24 deg off the
satellite at two J/S (scenarios/contested-x-array.toml).

    .venv/bin/python benchmarks/antijam_nulling.py [--seconds 0.3]

First-order theory: with one weight per element, the chains' ripple across the band (the drawn gain and phase errors
less each element's mean over the band, which the weights learn) leaks through the weights: null depth about
var(ripple) / (N (1 - rho^2)), rho^2 = |a_k^H a_s|^2 / N^2 the jammer's spatial correlation with the satellite.
It holds when the jammer is far over the noise; a weaker jammer is nulled only down to where the noise takes over
(the budget's prediction has both). Runs use linksim.run.inmemory (the flowgraph's objects on arrays).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linksim.budget.nulling import array_geometry, first_order_floor_db  # noqa: E402
from linksim.budget.timeline import compute_timeline  # noqa: E402
from linksim.scenario.model import load_scenario  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "contested-x-array.toml"
ERRORS = ((0.0, 0.0), (0.2, 2.0), (0.5, 5.0), (1.0, 0.0), (0.0, 10.0))


def first_order_db(tl) -> float:
    s = tl.scenario
    geo = array_geometry(s.terminal.array)
    j = tl.jammers[0]
    a_s = geo.steering(tl["azimuth_deg"][:1], tl["elevation_deg"][:1], tl["azimuth_deg"][:1], tl["elevation_deg"][:1])
    a_k = geo.steering(tl["azimuth_deg"][:1], tl["elevation_deg"][:1], j.azimuth_deg[:1], j.elevation_deg[:1])
    return first_order_floor_db(geo, a_s[0], a_k[0])


def main(argv: list[str] | None = None) -> int:
    from linksim.run.inmemory import run_scenario

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=0.3, help="simulated seconds per run (0.3)")
    a = ap.parse_args(argv)
    print("| J/S | error_db | error_deg | predicted null depth | first-order theory | measured | SINR gain "
          "measured / predicted | FER |")
    print("|---|---|---|---|---|---|---|---|")
    for js in (10.0, 30.0):
        for e_db, e_deg in ERRORS:
            s = load_scenario(SCENARIO, {"jammer.0.js_db": js, "terminal.array.error_db": e_db,
                                         "terminal.array.error_deg": e_deg})
            tl = compute_timeline(s)
            pred = float(tl.jammers[0].null_depth_db[0])
            with tempfile.TemporaryDirectory() as tmp:
                sm = run_scenario(s, Path(tmp), duration_s=a.seconds, seed=1, report=False)
            arr = sm["mitigation"]["array"]
            meas = arr["jammers"][0]["null_depth_db"]
            fo = first_order_db(tl)
            fo_s = f"{fo:.1f} dB" if math.isfinite(fo) else "-"
            print(f"| {js:+.0f} dB | {e_db:g} | {e_deg:g} | {pred:.1f} dB | {fo_s} | {meas:.1f} dB | "
                  f"{arr['sinr_gain_db']:.1f} / {arr['predicted_sinr_gain_db']:.1f} dB | {sm['fer']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
