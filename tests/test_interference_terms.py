"""Interference from other carriers in the budget (linksim.budget.neighbours, .payload) and in the IQ
(linksim.channel.from_budget.interference_specs): adjacent satellites through the off-axis pattern, cross-polar
interference with P.618-13 section 4.1 depolarisation, C/IM of a multi-carrier transponder."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linksim.budget import payload
from linksim.budget import transponder as tp
from linksim.budget.timeline import compute_timeline
from linksim.channel.core import measure_power
from linksim.channel.from_budget import channel_from_timeline
from linksim.dbmath import C_M_S
from linksim.dvbs2.rrc import rrc_taps
from linksim.propagation.xpd import rain_xpd_db
from linksim.scenario.model import scenario_from_dict


def ku_geo(**extra) -> dict:
    d = {
        "scenario": {"name": "ku", "start": "2026-01-01T00:00:00Z", "duration_s": 2.0, "step_s": 1.0},
        "site": {"lat_deg": 50.0, "lon_deg": 8.0},
        "terminal": {"antenna_diameter_m": 0.9, "noise_temp_k": 80.0, "pattern": "S.465"},
        "satellite": {"geo_lon_deg": 10.0, "eirp_dbw": 50.0},
        "carrier": {"freq_hz": 12.0e9, "symbol_rate_baud": 1.0e6, "modcod": "QPSK 3/4"},
        "propagation": {"mode": "clear_sky"},
    }
    for k, v in extra.items():
        d.setdefault(k, {})
        if isinstance(v, dict):
            d[k].update(v)
        else:
            d[k] = v
    return d


def test_adjacent_satellite_through_the_off_axis_pattern():
    """A neighbour 3 deg east radiating -20 dBW/Hz over the carrier's band: I = EIRP density + 10 log B_eff -
    FSPL - A + G(theta), theta the topocentric separation (about 1.1 x 3 deg from mid-latitudes), G the S.465
    envelope 32 - 25 log theta (a 0.9 m dish at 12 GHz: D/lambda 36, phi_min 2.3 deg)."""
    s = scenario_from_dict(ku_geo(adjacent_satellite=[{"name": "east", "separation_deg": 3.0,
                                                        "eirp_density_dbw_hz": -20.0}]))
    tl = compute_timeline(s)
    r = tl.row(0)
    # the topocentric angle from the geometry of the two GEO positions, written out here
    lat, lon = math.radians(50.0), math.radians(8.0)
    re, rg = 6378.137e3, 42164.17e3
    site = np.array([re * math.cos(lat) * math.cos(lon), re * math.cos(lat) * math.sin(lon), re * math.sin(lat)])
    sats = [rg * np.array([math.cos(math.radians(x)), math.sin(math.radians(x)), 0.0]) for x in (10.0, 13.0)]
    u, v = sats[0] - site, sats[1] - site
    theta = math.degrees(math.acos(float(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))))
    assert theta == pytest.approx(3.0 * 1.1, abs=0.25)
    g_theta = 32.0 - 25.0 * math.log10(theta)
    d_n = float(np.linalg.norm(v))
    fspl_n = 20 * math.log10(4 * math.pi * d_n * 12e9 / C_M_S)
    b_eff = 1.0e6  # a flat spectrum over the occupied band passes the matched filter as noise in Rs
    c_rx = r["eirp_dbw"] - r["fspl_db"] - r["atmospheric_db"] + 10 * math.log10(0.65 * (math.pi * 0.9 * 12e9 / C_M_S)
                                                                                 ** 2)
    i_rx = -20.0 + 10 * math.log10(b_eff) - fspl_n - r["atmospheric_db"] + g_theta
    assert r["ci_asi_db"] == pytest.approx(c_rx - i_rx, abs=0.15)  # the antenna model's joins, within 0.15 dB
    assert r["cnij_db"] < r["esn0_db"]  # and it counts in C/(N+I+J)
    inv = 10 ** (-r["esn0_db"] / 10) + 10 ** (-r["ci_asi_db"] / 10)
    assert r["cnij_db"] == pytest.approx(-10 * math.log10(inv), abs=1e-6)


def test_adjacent_satellite_is_a_signal_in_the_iq():
    """The ASI carrier is there in the IQ channel: its power through the receiver's matched filter over the
    carrier's is the budget's I/C within 0.3 dB."""
    s = scenario_from_dict(ku_geo(adjacent_satellite=[{"name": "east", "separation_deg": 2.5,
                                                        "eirp_density_dbw_hz": -18.0}]))
    tl = compute_timeline(s)
    ch = channel_from_timeline(tl, 0.0, 1.0, 4, seed=3)
    rng = np.random.default_rng(1)
    sym = np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, 50_000)))
    h = rrc_taps(0.2, 4)
    up = np.zeros(sym.size * 4, complex)
    up[::4] = sym
    x = np.convolve(up, h, mode="same")
    x = (x / math.sqrt(measure_power(x))).astype(np.complex64)
    parts = ch.process_parts(x)
    mf = lambda y: np.convolve(y.astype(complex), h[::-1].conj(), mode="same")[::4]  # noqa: E731
    ci = 10 * math.log10(measure_power(mf(parts.signal)) / measure_power(mf(parts.jammers[-1])))
    assert ci == pytest.approx(float(tl["ci_asi_db"][0]), abs=0.3)


def test_cross_polar_interference_with_rain_and_ice_depolarisation():
    """P.618-13 section 4.1 against the recommendation's validation examples (ITU-R SG3 tables, as itur's tests
    carry them), and the C/I of a co-frequency carrier on the other polarisation: 1/XPD = sum of 1/XPD_k."""
    # p, f (GHz), elevation, tilt, A_p (dB) -> XPD (dB): ITURP618-13_A_xpd.csv rows
    for p, f, el, tau, ap, want in [(1, 14.25, 31.07699124, 0, 0.49531707, 49.47769944),
                                    (0.01, 14.25, 40.232036, 0, 8.22326501, 33.12027301),
                                    (0.1, 29, 46.35969261, 0, 7.80832251, 39.12690283),
                                    (0.001, 29, 31.07699124, 0, 45.19865638, 23.54893495)]:
        assert float(rain_xpd_db(ap, f * 1e9, el, p, tau)) == pytest.approx(want, abs=1e-6)
    d = ku_geo(satellite={"cross_pol_carrier_db": 0.0, "xpd_db": 30.0}, terminal={"xpd_db": 28.0},
               propagation={"mode": "statistical", "exceedance_pct": 0.1})
    s = scenario_from_dict(d)
    r = compute_timeline(s).row(0)
    assert r["rain_db"] > 0.5
    xr = float(rain_xpd_db(r["rain_db"], 12e9, r["elevation_deg"], 0.1, 45.0))
    assert r["xpd_rain_db"] == pytest.approx(xr, abs=1e-9)
    want = -10 * math.log10(10 ** (-xr / 10) + 10 ** (-3.0) + 10 ** (-2.8))
    assert r["ci_xpol_db"] == pytest.approx(want, abs=1e-9)


def test_cim_of_a_multicarrier_transponder():
    """Three QPSK carriers sharing an amplifier: C/IM rises with back-off at the slope of the amplifier's lowest
    nonlinear order: 2 dB per dB for a cubic compression (Saleh's AM/AM alone, the textbook 2:1 of third-order
    products), 4 dB per dB for Rapp p = 2 (fifth order). Saleh's AM/PM (beta_phi 9.1) saturates early, so the full
    TWT model's C/IM grows more slowly at these back-offs, and is lower. Each carrier gets a third of the output."""

    def cim(model: object, ibo: float) -> float:
        return payload.multicarrier_point(model, ibo, 3, 1.5e6, 1.0e6, 0.2, "QPSK 3/4")[0]

    am_only = tp.Saleh(alpha_phi=1e-9)
    assert (cim(am_only, 22.0) - cim(am_only, 14.0)) / 8.0 == pytest.approx(2.0, abs=0.2)
    assert (cim(tp.Rapp(2.0), 22.0) - cim(tp.Rapp(2.0), 14.0)) / 8.0 == pytest.approx(4.0, abs=0.3)
    full = [cim(tp.Saleh(), ibo) for ibo in (4.0, 10.0, 14.0)]
    assert full[0] < full[1] < full[2] and full[2] < cim(am_only, 14.0)
    d = ku_geo(satellite={"carriers": 3, "carrier_spacing_hz": 1.5e6})
    d["satellite"]["amplifier"] = {"model": "saleh", "ibo_db": 10.0}
    r = compute_timeline(scenario_from_dict(d)).row(0)
    assert r["cim_db"] == pytest.approx(full[1], abs=1e-9)
    assert r["obo_db"] > 10 * math.log10(3)  # the total output back-off plus the 1/3 share
