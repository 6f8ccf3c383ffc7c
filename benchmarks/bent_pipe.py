"""Power robbing through the transponder, measured: the bent-pipe scenario (scenarios/bent-pipe-uplink-jamming.toml:
uplink channel -> transponder filter -> Saleh TWTA at 1 dB input back-off -> downlink channel, QPSK 1/2 at 1 Msym/s)
run in loopback (`linksim run`'s flowgraph) with its uplink barrage jammer at several J/S; per level, the carrier's
share of the transponder output and the receiver's Es/N0 that the budget predicts through the amplifier model, the
share the classic linear-transponder formula C/(C+N_u+J_u) gives, and the receiver's measured Es/N0 (mean of its
per-frame estimates over the run, the first frame after acquisition included). --linear runs the same scenario
without the amplifier model (a transponder with ideal level control, where the linear formula is the model).

    .venv/bin/python benchmarks/bent_pipe.py --seconds 1.0
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.budget.timeline import compute_timeline  # noqa: E402
from linksim.run.loop import run_scenario  # noqa: E402
from linksim.scenario.model import scenario_from_dict  # noqa: E402

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "bent-pipe-uplink-jamming.toml"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--levels", default="-20,-10,-3,0")
    ap.add_argument("--linear", action="store_true")
    a = ap.parse_args()
    d = tomllib.loads(SCENARIO.read_text())
    if a.linear:
        d["satellite"].pop("amplifier")
    print("| uplink J/S | transponder input over nominal | carrier share: budget | linear formula | "
          "Es/N0 predicted | Es/N0 measured | measured - predicted | frames decoded |")
    print("|---|---|---|---|---|---|---|---|")
    for js in (float(x) for x in a.levels.split(",")):
        d["jammer"][0]["js_db"] = js
        s = scenario_from_dict(d)
        tl = compute_timeline(s)
        i = 1
        share = tl["eirp_dbw"][i] - (s.satellite.eirp_dbw - tl["obo_db"][i])
        n_tp = 10 ** (-tl["esn0_up_db"][i] / 10) * 1.5e6 / 1e6
        linear = -10 * math.log10(1 + n_tp) - tl["transponder_drive_db"][i]
        with tempfile.TemporaryDirectory() as out:
            sm = run_scenario(s, out, duration_s=a.seconds, start_s=1.0, seed=2, report=False)
        meas, pred = sm["esn0_est_db_mean"], sm["predicted_esn0_db_mean"]
        print(f"| {js:+.0f} dB | {tl['transponder_drive_db'][i]:.2f} dB | {share:.2f} dB | {linear:.2f} dB | "
              f"{pred:.2f} dB | {meas:.2f} dB | {meas - pred:+.2f} dB | {sm['frames_ok']} of {sm['frames_total']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
