"""Scintillation models (linksim.propagation.scintillation) and the scintillation part of linksim.propagation.weather.

Outside authorities: the ITU-R P.618-13 validation examples (tests/data/itu_p618_13_rain_scintillation.csv) for
sigma and a(p) sigma; P.618 section 2.4.1 a(p) for the synthesized series; P.618 sections 2.4.2/2.4.3 (their
internal anchors: 25 dB at theta_1, the section 2.4.1 fade at 5 deg) for low elevation; the Nakagami-m /
Gamma-intensity definition S4^2 = var(I)/E[I]^2 = 1/m for ionospheric scintillation.

Series lengths: the tropospheric marginal test uses 40 years at a 300 s step (4.2 million samples; at that step the
0.1 Hz process is white, and the slowly varying intensity factor Z, correlated over about 3 days, gets about 2000
independent values: the standard error of std/sigma is about 0.01). Spectrum and unit variance use 1e6 samples.
"""

from __future__ import annotations

import csv
import math
import warnings

import numpy as np
import pytest
from scipy import signal

from linksim.errors import InputError, ValidityWarning
from linksim.propagation import scintillation as sc
from linksim.propagation import weather

YEAR_S = 365.25 * 86400.0
LYR = dict(site_lat_deg=78.22, site_lon_deg=15.65, site_alt_m=10.0, freq_hz=20.2e9)


def _itu_rows(data_dir):
    with open(data_dir / "itu_p618_13_rain_scintillation.csv") as fh:
        rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")]
    return [dict(zip(rows[0], map(float, r), strict=True)) for r in rows[1:]]


def test_sigma_and_fade_match_itu_validation_examples(data_dir):
    rows = _itu_rows(data_dir)
    assert len(rows) >= 60
    for r in rows:
        sig = sc.p618_sigma_db(r["f_ghz"] * 1e9, r["el_deg"], r["nwet"], r["d_m"], r["eta"])
        a = float(sc.p618_fade_factor(r["p_pct"]))
        assert a * float(sig) == pytest.approx(r["a_scin_db"], rel=1e-6), r


@pytest.mark.parametrize("dt_s", [0.01, 0.1, 1.0, 30.0])
def test_unit_process_has_unit_variance(dt_s):
    x = sc.unit_scintillation(1_000_000, dt_s, np.random.default_rng(4))
    assert abs(float(x.std()) - 1.0) < 0.03
    assert abs(float(x.mean())) < 0.03


def test_unit_process_spectrum_flat_then_minus_8_3():
    dt = 0.01
    x = sc.unit_scintillation(2_000_000, dt, np.random.default_rng(5))
    f, pxx = signal.welch(x, fs=1.0 / dt, nperseg=1 << 16)
    band = (f >= 0.5) & (f <= 5.0)
    slope = np.polyfit(np.log10(f[band]), np.log10(pxx[band]), 1)[0]
    assert slope == pytest.approx(-8.0 / 3.0, abs=0.25)
    low = pxx[(f > 0.004) & (f < 0.02)].mean() / pxx[(f > 0.02) & (f < 0.04)].mean()
    assert 0.8 < low < 1.25  # flat below the 0.1 Hz corner


def test_product_ccdf_matches_monte_carlo():
    rng = np.random.default_rng(6)
    g = rng.standard_normal(2_000_000)
    z = rng.gamma(10.0, 0.1, g.size)
    u = g * sc.fade_enhancement_correction(g) * z
    for p in (10.0, 1.0, 0.1):
        q = float(np.quantile(u, 1.0 - p / 100.0))
        assert float(sc.product_ccdf_pct(q)) == pytest.approx(p, rel=0.06)


@pytest.fixture(scope="module")
def scint_series():
    t = np.arange(int(40 * YEAR_S / 300.0)) * 300.0
    return weather.synthesize_weather(**LYR, elevation_deg=10.0, t_s=t, seed=21, rain_scintillation=False)


def test_series_std_within_10_percent_of_p618_sigma(scint_series):
    sigma = float(scint_series.scint_sigma_db[0])
    ratio = float(np.std(scint_series.scintillation_db)) / sigma
    assert 0.9 < ratio < 1.1, ratio


@pytest.mark.parametrize("p_pct", [1.0, 0.1])
def test_series_fades_match_p618_a_of_p(scint_series, p_pct):
    sigma = float(scint_series.scint_sigma_db[0])
    ref = float(sc.p618_fade_factor(p_pct)) * sigma
    got = float(np.quantile(scint_series.scintillation_db, 1.0 - p_pct / 100.0))
    assert abs(got - ref) < 1.0
    assert abs(got - ref) < 0.1 * ref, (p_pct, got, ref)


def test_scintillation_intensity_varies_slowly(scint_series):
    # sigma * Z: the local standard deviation over 1-day blocks spreads like Gamma(10, 0.1) (cv about 0.32)
    x = scint_series.scintillation_db
    per_day = int(86400 / 300)
    blocks = x[: (x.size // per_day) * per_day].reshape(-1, per_day).std(axis=1)
    cv = float(blocks.std() / blocks.mean())
    assert 0.2 < cv < 0.45, cv


LOW = dict(freq_hz=20.2e9, lat_deg=78.22, nwet=19.3, antenna_diameter_m=1.2, antenna_efficiency=0.65)


def test_low_elevation_joins_section_2_4_1_at_5_deg():
    p = np.array([10.0, 1.0, 0.1, 0.01])
    at5 = sc.low_elevation_fade_db(p, np.full(p.size, 5.0), **LOW)
    ref = sc.p618_fade_factor(p) * sc.p618_sigma_db(20.2e9, 5.0, 19.3, 1.2, 0.65)
    np.testing.assert_allclose(at5, ref, rtol=1e-3)


def test_low_elevation_is_25_db_at_theta_1_and_monotonic():
    # P.618 eq. 57 (theta_1: where the deep-fading law of eq. 54 reaches A1 = 25 dB) ties the two parts together
    p = 0.01
    el = np.linspace(0.5, 4.99, 400)
    a = sc.low_elevation_fade_db(np.full(el.size, p), el, **LOW, p_l_pct=20.0)
    assert np.all(np.diff(a) < 0), "fade must fall as elevation rises"
    i = int(np.argmin(np.abs(a - 25.0)))
    assert 0 < i < el.size - 1 and abs(a[i] - 25.0) < 0.5
    ps = np.array([10.0, 1.0, 0.1, 0.01])
    a3 = sc.low_elevation_fade_db(ps, np.full(ps.size, 3.0), **LOW)
    assert np.all(np.diff(a3) > 0), "fade must grow as p falls"


def test_apparent_elevation_p834_against_saemundsson_refraction():
    # Saemundsson's astronomical refraction for a true altitude h: R = 1.02 cot(h + 10.3/(h + 5.11)) arcmin (standard
    # 10 C, 1010 hPa). P.834's reference atmosphere (N0 = 315) bends a little more: agreement within 0.1 deg.
    for el in (1.0, 3.0, 5.0):
        r_deg = 1.02 / math.tan(math.radians(el + 10.3 / (el + 5.11))) / 60.0
        tau = float(sc.apparent_elevation_deg(el)) - el
        assert 0.0 < tau - r_deg < 0.1, (el, tau, r_deg)


def test_low_elevation_series_follows_the_distribution():
    t = np.arange(int(6 * YEAR_S / 300.0)) * 300.0
    with pytest.warns(ValidityWarning):
        ws = weather.synthesize_weather(**LYR, elevation_deg=3.0, t_s=t, seed=8)
    assert np.all(ws.scintillation_db == 0.0)
    for p in (1.0, 0.1):
        ref = float(sc.low_elevation_fade_db(p, 3.0, 20.2e9, 78.22, ws.stats.nwet, 1.2, 0.65, ws.stats.alt_m))
        got = float(np.quantile(ws.low_elevation_db, 1.0 - p / 100.0))
        assert abs(got - ref) < 1.0, (p, got, ref)


# --------------------------------------------------------------------------------------------------- ionospheric


@pytest.mark.parametrize("s4", [0.3, 0.6, 1.0])
def test_nakagami_amplitude_has_the_set_s4(s4):
    t = np.arange(1_000_000) * 0.05
    amp_db, _ = sc.ionospheric_scintillation(1.5e9, t, s4=s4, tau_s=1.0, seed=7)
    i = 10.0 ** (amp_db / 10.0)
    s4_meas = math.sqrt(float(i.var()) / float(i.mean()) ** 2)
    assert s4_meas == pytest.approx(s4, rel=0.05)
    assert float(i.mean()) == pytest.approx(1.0, rel=0.03)


def test_s4_scales_as_f_to_minus_1_5_and_phase_as_1_over_f():
    t = np.arange(600_000) * 0.05
    amp, ph = sc.ionospheric_scintillation(3.0e9, t, s4=0.6, tau_s=1.0, seed=9, ref_freq_hz=1.5e9, sigma_phi_rad=1.0)
    i = 10.0 ** (amp / 10.0)
    assert math.sqrt(float(i.var())) / float(i.mean()) == pytest.approx(0.6 * 2.0**-1.5, rel=0.05)
    assert float(ph.std()) == pytest.approx(0.5, rel=0.05)


def test_decorrelation_time():
    dt, tau = 0.05, 2.0
    t = np.arange(400_000) * dt
    _, ph = sc.ionospheric_scintillation(1.5e9, t, s4=0.5, tau_s=tau, seed=10, sigma_phi_rad=1.0)
    lag = int(round(tau / dt))
    x = ph - ph.mean()
    rho = float(np.dot(x[:-lag], x[lag:]) / np.dot(x, x))
    assert rho == pytest.approx(math.exp(-1.0), abs=0.05)


def test_ionospheric_seeded_and_auroral_preset():
    t = np.arange(2000) * 0.1
    p = sc.AURORAL
    a1 = sc.ionospheric_scintillation(1.5e9, t, p.s4, p.tau_s, 3, p.ref_freq_hz, p.sigma_phi_rad)
    a2 = sc.ionospheric_scintillation(1.5e9, t, p.s4, p.tau_s, 3, p.ref_freq_hz, p.sigma_phi_rad)
    assert np.array_equal(a1[0], a2[0]) and np.array_equal(a1[1], a2[1])
    assert (p.s4, p.tau_s, p.ref_freq_hz) == (0.6, 1.0, 1.57542e9)
    a3 = sc.ionospheric_scintillation(1.5e9, t, None, None, 3, preset="auroral")
    assert np.array_equal(a1[0], a3[0]) and np.array_equal(a1[1], a3[1])
    with pytest.raises(InputError, match="preset"):
        sc.ionospheric_scintillation(1.5e9, t, None, None, 3, preset="storm")
    with pytest.raises(InputError, match="sqrt"):
        sc.ionospheric_scintillation(0.4e9, t, 0.6, 1.0, 3, ref_freq_hz=1.57542e9)  # S4 2.9 at UHF
    with pytest.raises(InputError, match="uniformly"):
        sc.ionospheric_scintillation(1.5e9, np.array([0.0, 1.0, 3.0]), 0.3, 1.0, 3)


def test_no_runtime_warnings_from_models():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sc.low_elevation_fade_db(np.array([49.9, 10.0, 1e-4]), np.array([0.5, 2.0, 4.9]), **LOW)
        sc.fade_enhancement_correction(np.array([-40.0, 0.0, 40.0]))
