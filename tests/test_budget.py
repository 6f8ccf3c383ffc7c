"""Hand-worked link budgets checked against the Timeline, and the `linksim budget` outputs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from linksim.budget import timeline as budget
from linksim.errors import ValidityWarning
from linksim.propagation import itu as propagation
from linksim.scenario.model import scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
C = 299_792_458.0
K_DBW = -228.5991631


def ka_geo_table() -> dict:
    return tomllib.loads((ROOT / "scenarios" / "longyearbyen-ka-geo.toml").read_text())


def test_hand_worked_arctic_ka_geo():
    """Longyearbyen (78.22 N) to a GEO satellite at 1 W, 20.2 GHz, 1.2 m, p = 1 %: every term by hand."""
    s = scenario_from_dict(ka_geo_table())
    tl = budget.compute_timeline(s, duration_s=10.0)
    r = tl.row(0)
    # geometry: spherical-Earth closed form (NOTES: 2.6 deg at Longyearbyen); the ellipsoid differs by < 0.1 deg
    phi, dlon = math.radians(78.22), math.radians(-1.0 - 15.65)
    cc = math.cos(phi) * math.cos(dlon)
    el_sph = math.degrees(math.atan2(cc - 6378.137 / 42164.17, math.sqrt(1 - cc * cc)))
    d_km = math.sqrt(42164.17**2 + 6378.137**2 - 2 * 42164.17 * 6378.137 * cc)
    assert el_sph == pytest.approx(2.6, abs=0.05)
    assert r["elevation_deg"] == pytest.approx(el_sph, abs=0.1)
    assert r["slant_range_km"] == pytest.approx(d_km, abs=25.0)  # ellipsoid vs sphere at 78 N
    # free-space loss with the Timeline's own range: 92.45 + 20 log f_GHz + 20 log d_km
    assert r["fspl_db"] == pytest.approx(92.45 + 20 * math.log10(20.2) + 20 * math.log10(r["slant_range_km"]),
                                         abs=0.01)
    # atmosphere from the ITU-R adapter (validated against the ITU tables in test_propagation)
    with pytest.warns(ValidityWarning, match="between 0 and 5 deg"):  # 2.6 deg is below P.618's 5 deg
        al = propagation.atmospheric_losses(78.22, 15.65, 450.0, 20.2e9, np.array([r["elevation_deg"]]), 1.0, 1.2,
                                            0.65)
    gas, cloud, rain, sci = (float(np.asarray(x)[0]) for x in (al.gas_db, al.cloud_db, al.rain_db,
                                                               al.scintillation_db))
    a_tot = gas + math.sqrt((rain + cloud) ** 2 + sci**2)  # P.618 section 2.5
    assert r["atmospheric_db"] == pytest.approx(a_tot, abs=0.01)
    assert 8.0 < a_tot < 25.0  # low-elevation Ka band: gas, cloud and scintillation dominate
    # receive side
    lam = C / 20.2e9
    g_peak = 10 * math.log10(0.65 * (math.pi * 1.2 / lam) ** 2)
    assert g_peak == pytest.approx(46.23, abs=0.01)
    a_sky = gas + cloud + rain
    t_sky = 275.0 * (1 - 10 ** (-a_sky / 10)) + 2.7 * 10 ** (-a_sky / 10)
    lf = 10 ** (0.3 / 10)
    t_sys = (t_sky + 20.0) / lf + 290.0 * (1 - 1 / lf) + 120.0
    gt = g_peak - 0.3 - 10 * math.log10(t_sys)
    assert r["system_temp_k"] == pytest.approx(t_sys, rel=1e-6)
    assert r["gt_dbk"] == pytest.approx(gt, abs=0.005)
    cn0 = 52.0 - r["fspl_db"] - a_tot - 0.2 + gt - K_DBW
    assert r["cn0_dbhz"] == pytest.approx(cn0, abs=0.01)
    esn0 = cn0 - 60.0
    assert r["esn0_db"] == pytest.approx(esn0, abs=0.01)
    assert r["margin_db"] == pytest.approx(esn0 - 1.00, abs=0.01)  # QPSK 1/2 Table 13: 1.00 dB
    assert r["delay_s"] == pytest.approx(r["slant_range_km"] * 1e3 / C, rel=1e-9)


def xband_jammer_table(theta_deg: float) -> dict:
    """X band 7.5 GHz, 1.2 m terminal, GEO EIRP 40 dBW; a 10 dBW jammer 10 km away on the ground, straight
    below the line of sight, so the off-axis angle is the elevation plus the jammer's depression."""
    return {
        "scenario": {"name": "xband-jam", "start": "2026-01-01T00:00:00Z", "duration_s": 1.0, "step_s": 1.0},
        "site": {"lat_deg": 60.0, "lon_deg": 10.0, "alt_m": 0.0},
        "terminal": {"antenna_diameter_m": 1.2, "antenna_efficiency": 0.65, "pattern": "S.465",
                     "noise_temp_k": 100.0},
        "satellite": {"eirp_dbw": 40.0},
        "geometry": {"elevation_deg": theta_deg, "azimuth_deg": 180.0, "range_km": 38000.0},
        "carrier": {"freq_hz": 7.5e9, "symbol_rate_baud": 1e6, "modcod": "QPSK 1/2"},
        "propagation": {"mode": "clear_sky", "gas": False, "cloud": False},
        "jammer": [{"name": "ground", "type": "barrage", "eirp_dbw": 10.0, "bandwidth_hz": 1.2e6,
                    "lat_deg": 60.0 - 10.0 / 111.2, "lon_deg": 10.0, "alt_m": 0.0}],
    }


@pytest.mark.parametrize("theta, notes_js", [(3.0, 25.0), (5.0, 19.0), (10.0, 12.0), (20.0, 4.0)])
def test_hand_worked_xband_ground_jammer(theta, notes_js):
    tl = budget.compute_timeline(scenario_from_dict(xband_jammer_table(theta)))
    j = tl.jammers[0]
    off = float(j.off_axis_deg[0])
    rng_km = float(j.jammer_range_km[0])
    assert rng_km == pytest.approx(10.0, abs=0.05)
    assert off == pytest.approx(theta + 0.045, abs=0.03)  # depression of a point 10 km away: d / 2R
    g_off = 32.0 - 25.0 * math.log10(off)  # ITU-R S.465 envelope
    lam = C / 7.5e9
    g_peak = 10 * math.log10(0.65 * (math.pi * 1.2 / lam) ** 2)
    fspl = lambda d_m: 20 * math.log10(4 * math.pi * d_m / lam)  # noqa: E731
    js_hand = (10.0 - fspl(rng_km * 1e3) + g_off) - (40.0 - fspl(38000e3) + g_peak)
    assert float(j.js_db[0]) == pytest.approx(js_hand, abs=0.02)
    assert float(j.js_db[0]) == pytest.approx(notes_js, abs=1.5)  # NOTES.md worked example, rounded numbers
    # the barrage jammer fills the 1.2 MHz occupied band B; as noise of density J/B it passes Rs/B = 1/1.2 of its
    # power through the matched filter: C/(N+I+J) = -10 log(1/(Es/N0) + (J/S) Rs/B)
    esn0 = tl["esn0_db"][0]
    inv = 10 ** (-esn0 / 10) + 10 ** (js_hand / 10) / 1.2
    assert tl["cnij_db"][0] == pytest.approx(-10 * math.log10(inv), abs=0.02)


def test_bandwidth_overlap_and_schedule():
    d = xband_jammer_table(10.0)
    d["jammer"][0].update(bandwidth_hz=12e6, start_s=0.5)
    d["scenario"]["duration_s"] = 1.0
    d["scenario"]["step_s"] = 0.5
    tl = budget.compute_timeline(scenario_from_dict(d))
    ref = budget.compute_timeline(scenario_from_dict(xband_jammer_table(10.0)))
    # 10x wider than the 1.2 MHz band: 10 dB less in band
    assert float(tl.jammers[0].js_db[0] - ref.jammers[0].js_db[0]) == pytest.approx(-10.0, abs=0.01)
    assert list(tl.jammers[0].active) == [False, True, True]
    assert tl["cnij_db"][0] == pytest.approx(tl["esn0_db"][0])


def test_uplink_power_robbing():
    """A bent pipe shares its output among carrier, uplink noise and uplink jamming in proportion to their powers in
    the transponder's band (default 1.25 x the occupied band, 1.5 Rs here); at the receiver the uplink noise and the
    jamming count as what passes the matched filter."""
    d = xband_jammer_table(30.0)
    d.pop("jammer")
    d["satellite"]["g_over_t_dbk"] = 0.0
    d["uplink"] = {"freq_hz": 8.0e9, "eirp_dbw": 60.0}
    clean = budget.compute_timeline(scenario_from_dict(d))
    up = float(clean["esn0_up_db"][0])
    # hand: C/N0 up = EIRP - FSPL(38000 km, 8 GHz) - A(clear sky, gas only off... gas on for uplink) + G/T - k
    share_clean = 1.0 / (1.0 + 1.5 * 10 ** (-up / 10))
    assert float(clean["eirp_dbw"][0]) == pytest.approx(40.0 + 10 * math.log10(share_clean), abs=1e-6)
    d["jammer"] = [{"name": "up", "type": "barrage", "js_db": 0.0, "bandwidth_hz": 1.2e6, "target": "uplink"}]
    jam = budget.compute_timeline(scenario_from_dict(d))
    share = 1.0 / (1.0 + 1.5 * 10 ** (-up / 10) + 1.0)  # J = C in the transponder's band
    assert float(jam["eirp_dbw"][0]) == pytest.approx(40.0 + 10 * math.log10(share), abs=1e-6)  # about -3 dB
    # end to end: 1/(C/N) = 1/(C/N)_up + 1/(C/N)_down + J/S, J passing the matched filter as noise of density J/B
    inv = 10 ** (-up / 10) + 10 ** (-float(jam["esn0_down_db"][0]) / 10) + 1.0 / 1.2
    assert float(jam["cnij_db"][0]) == pytest.approx(-10 * math.log10(inv), abs=1e-6)
    assert float(jam["cnij_db"][0]) < 10 * math.log10(1.2)  # J/S = 0 dB in band: C/(N+J) cannot beat B/Rs


def test_cli_budget_outputs(tmp_path):
    path = ROOT / "scenarios" / "longyearbyen-ka-geo.toml"
    csv_path, png = tmp_path / "t.csv", tmp_path / "t.png"
    r = subprocess.run(
        [sys.executable, "-m", "linksim", "budget", str(path), "--at", "2026-01-01T00:05:00Z", "--json",
         "--csv", str(csv_path), "--plot", str(png), "--duration", "300"],
        capture_output=True, text=True, check=True,
    )
    row = json.loads(r.stdout)
    for k in ("elevation_deg", "azimuth_deg", "slant_range_km", "range_rate_m_s", "doppler_hz", "delay_s", "fspl_db",
              "gas_db", "cloud_db", "rain_db", "scintillation_db", "atmospheric_db", "eirp_dbw", "gt_dbk",
              "cn0_dbhz", "esn0_db", "cnij_db", "margin_db", "best_modcod", "jammers"):
        assert k in row
    assert row["time_s"] == 300.0
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 302 and lines[0].startswith("time_utc,time_s,elevation_deg")
    assert png.stat().st_size > 10_000
    r = subprocess.run([sys.executable, "-m", "linksim", "budget", str(path)], capture_output=True, text=True,
                       check=True)
    assert "G/T" in r.stdout and "dB/K" in r.stdout and "margin" in r.stdout
    r = subprocess.run([sys.executable, "-m", "linksim", "budget", str(path), "--at", "2027-01-01T00:00:00Z"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "outside the scenario" in r.stderr and r.stderr.count("\n") == 1
