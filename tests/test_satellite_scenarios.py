"""Scenario keys of the satellite work: amplifiers, the ground HPA, given transmit rings, SFD uplinks and published
terminals; bad values are refused with the dotted key named (and a one-line error, exit code 2, on the CLI)."""

from __future__ import annotations

import copy
import math
import subprocess
import sys

import pytest
import tomli_w
from test_run import bench

from linksim.budget import distortion, payload
from linksim.budget import transponder as tp
from linksim.budget.timeline import compute_timeline
from linksim.channel.amplifier import Amplifier
from linksim.channel.from_budget import link_channels, ring_geometry
from linksim.errors import ScenarioError
from linksim.scenario.model import scenario_from_dict


def with_uplink(**hpa) -> dict:
    d = bench("16APSK 3/4", eirp_dbw=50.0)
    d["satellite"]["g_over_t_dbk"] = 0.0
    d["uplink"] = {"freq_hz": 8.0e9, "eirp_dbw": 60.0, "bent_pipe": True}
    if hpa:
        d["terminal"]["hpa"] = hpa
    return d


def test_ground_hpa_backs_off_the_uplink_and_sits_in_the_iq_chain():
    plain = compute_timeline(scenario_from_dict(with_uplink()))
    s = scenario_from_dict(with_uplink(model="saleh", ibo_db=2.0))
    tl = compute_timeline(s)
    obo = distortion.operating_point(tp.Saleh(), "16APSK 3/4", 2.0).obo_db
    assert payload.hpa_obo_db(s) == pytest.approx(obo)
    assert plain["uplink_flux_dbw_m2"][0] - tl["uplink_flux_dbw_m2"][0] == pytest.approx(obo, abs=1e-9)
    ch = link_channels(tl, 0.0, 1.0, 2, seed=1)
    assert isinstance(ch.hpa, Amplifier) and ch.uplink is not None and ch.transponder is not None
    assert ch.latency_samples == ch.hpa.latency_samples + ch.transponder.latency_samples + \
        ch.downlink.latency_samples + ch.uplink.latency_samples


def test_given_transmit_rings_reach_the_budget_and_the_transmitter():
    d = bench("16APSK 3/4", eirp_dbw=50.0)
    d["satellite"]["amplifier"] = {"model": "saleh", "ibo_db": 0.0, "ring_ratios": [1.0, 4.9], "ring_phase_deg":
                                   [7.7, 0.0]}
    s = scenario_from_dict(d)
    tl = compute_timeline(s)
    rings = ((1.0, 4.9), (math.radians(7.7), 0.0))
    assert ring_geometry(tl, 0.0, 1.0) == {"16APSK 3/4": rings}
    op = distortion.operating_point(tp.Saleh(), "16APSK 3/4", 0.0, rings=rings)
    plain = distortion.operating_point(tp.Saleh(), "16APSK 3/4", 0.0)
    assert op.degradation_db < plain.degradation_db - 1.0  # close to the computed predistortion's 1.5 dB
    assert tl["obo_db"][0] == pytest.approx(op.obo_db)


BAD = [
    (lambda d: d["satellite"].update(amplifier={"model": "twt"}), "satellite.amplifier.model"),
    (lambda d: d["satellite"].update(amplifier={"model": "saleh", "ibo_db": 50.0}), "satellite.amplifier.ibo_db"),
    (lambda d: d["satellite"].update(amplifier={"model": "table", "table": [{"pin_db": 0, "pout_db": 0}]}),
     "satellite.amplifier.table"),
    (lambda d: d["satellite"].update(amplifier={"model": "saleh", "table": [{"pin_db": 0, "pout_db": 0},
                                                                            {"pin_db": 1, "pout_db": 1}]}),
     "satellite.amplifier.table"),
    (lambda d: d["satellite"].update(amplifier={"model": "saleh"}, output_backoff_db=3.0),
     "satellite.output_backoff_db"),
    (lambda d: d["satellite"].update(amplifier={"model": "saleh", "ring_ratios": [1.0, 3.0]}),
     "satellite.amplifier.ring_ratios"),  # QPSK has one ring
    (lambda d: d["terminal"].pop("antenna_diameter_m"), "terminal.antenna_diameter_m"),
    (lambda d: d["terminal"].update(g_over_t_dbk=10.0, system_noise_temp_k=100.0), "terminal.g_over_t_dbk"),
    (lambda d: d["terminal"].update(hpa={"model": "rapp"}), "terminal.hpa"),
    (lambda d: d.update(uplink={"freq_hz": 8e9, "ibo_db": 3.0}) or d["satellite"].update(g_over_t_dbk=0.0),
     "uplink.ibo_db"),
    (lambda d: d.update(interference=[{"name": "x", "c_over_i_db": 20.0, "degradation_db": 1.0}]), "interference[0]"),
    (lambda d: d.update(adjacent_satellite=[{"name": "n", "separation_deg": 2.0, "eirp_density_dbw_hz": -20.0}]),
     "adjacent_satellite[0]"),  # the bench has a fixed geometry, no GEO arc
    (lambda d: d["propagation"].update(p_l_pct=0.0), "propagation.p_l_pct"),
]


@pytest.mark.parametrize("edit, key", BAD, ids=[k for _, k in BAD])
def test_bad_satellite_keys_are_named(edit, key):
    d = copy.deepcopy(bench())
    edit(d)
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(d)
    assert e.value.key == key


def test_cli_refuses_a_bad_amplifier_in_one_line(tmp_path):
    d = bench()
    d["satellite"]["amplifier"] = {"model": "saleh", "smoothness": 0.0}
    p = tmp_path / "bad.toml"
    p.write_text(tomli_w.dumps(d))
    r = subprocess.run([sys.executable, "-m", "linksim", "budget", str(p)], capture_output=True, text=True)
    assert r.returncode == 2 and "satellite.amplifier.smoothness" in r.stderr and r.stderr.count("\n") == 1
