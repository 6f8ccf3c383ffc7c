"""The bent pipe on the sample clock (uplink channel -> transponder filter -> amplifier -> downlink channel): an
uplink barrage jammer robs the carrier's power in the IQ, and the receiver's measured Es/N0 follows the budget's
power-robbing prediction (scenarios/bent-pipe-uplink-jamming.toml, Saleh TWTA at 1 dB input back-off)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from linksim.budget.timeline import compute_timeline
from linksim.channel.from_budget import link_channels
from linksim.dvbs2.rx import Receiver
from linksim.dvbs2.tx import Transmitter
from linksim.scenario.model import load_scenario, scenario_from_dict

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "bent-pipe-uplink-jamming.toml"


def _measure(s, frames: int = 8, seed: int = 7) -> float:
    """Mean receiver Es/N0 (dB) over frames sent through the scenario's link stages at t = 1 s (numpy, no GR)."""
    tl = compute_timeline(s)
    ch = link_channels(tl, 1.0, 3.0, 2, seed)
    rng = np.random.default_rng(seed)
    tx = Transmitter(sps=2, stream="generic")
    cap = tx.frame_capacity_bytes(s.carrier.modcod)
    sy = [tx.frame_symbols(s.carrier.modcod, rng.integers(0, 256, cap, dtype=np.uint8).tobytes())
          for _ in range(frames)]
    y = ch.process(np.concatenate([tx.shape(np.concatenate(sy)), tx.flush()]))
    rx = Receiver(sps=2)
    est = [r.esn0_est_db for r in rx.process(y) + rx.flush() if r.modcod != "DUMMY" and math.isfinite(r.esn0_est_db)]
    return float(np.mean(est))


def test_linear_transponder_shares_its_output_as_the_budget_says():
    """Without an amplifier model the transponder keeps its output power (level control): the carrier's share is
    C / (C + N_u + J_u) in the transponder's band, and the measured Es/N0 is the budget's within 0.2 dB."""
    import tomllib

    d = tomllib.loads(SCENARIO.read_text())
    d["satellite"].pop("amplifier")
    for js in (-10.0, 0.0):
        d["jammer"][0]["js_db"] = js
        s = scenario_from_dict(d)
        tl = compute_timeline(s)
        n_tp = 10 ** (-tl["esn0_up_db"][1] / 10) * 1.5  # uplink noise in the 1.5 MHz transponder band
        j_tp = 10 ** (js / 10) * 1.5 / 1.2  # the 2 MHz barrage's power in 1.5 MHz, J/S given in the 1.2 MHz band
        robbing = -10 * math.log10(1 + n_tp + j_tp)
        assert tl["eirp_dbw"][1] == pytest.approx(46.0 + robbing, abs=1e-3)  # in-band shares to 1/4001
        assert _measure(s) == pytest.approx(float(tl["cnij_db"][1]), abs=0.2)


@pytest.mark.usefixtures("gr")
@pytest.mark.parametrize("js_db", [-10.0, -3.0, 0.0])
def test_bent_pipe_run_measures_the_power_robbing_through_the_twta(tmp_path, js_db):
    """The acceptance check: a loopback run of the bent pipe with the uplink barrage jammer at three levels; the
    receiver's measured downlink Es/N0 is the budget's prediction (robbing through the Saleh TWTA) within 0.5 dB."""
    from linksim.run.loop import run_scenario

    s = load_scenario(SCENARIO, {"jammer.0.js_db": js_db})
    sm = run_scenario(s, tmp_path, duration_s=0.6, start_s=1.0, seed=2, report=False)
    assert sm["status"] == "complete" and sm["frames_total"] >= 10
    assert sm["esn0_est_db_mean"] == pytest.approx(sm["predicted_esn0_db_mean"], abs=0.5)
    # and the robbing is real: the carrier keeps less of the transponder's output the stronger the jammer
    tl = compute_timeline(s)
    assert tl["eirp_dbw"][1] < 46.0 - tl["obo_db"][1] - (0.5 if js_db >= -3 else 0.1)
