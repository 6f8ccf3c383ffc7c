"""Antenna gain against hand calculation from the ITU-R texts (S.465-6, S.580-6, RR Appendix 8) and the reference
notes' X-band jamming worked example."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from linksim.dbmath import C_M_S, fspl_db
from linksim.errors import InputError, ValidityWarning
from linksim.geometry import antenna as a
from linksim.geometry.orbit import geo_range_closed_form_m

# the X-band terminal of the worked example: 1.2 m, 7.5 GHz, efficiency 0.65
D_M, ETA, F_HZ = 1.2, 0.65, 7.5e9
# lambda = 299792458 / 7.5e9 = 0.03997233 m; D/lambda = 1.2 / 0.03997233 = 30.0208
# G_max = 10 log10(0.65 * (pi * 30.0208)^2) = 10 log10(0.65 * 94.3131^2) = 10 log10(0.65 * 8894.96)
#       = 10 log10(5781.7) = 37.621 dBi
GMAX_HAND_DBI = 37.621


def test_peak_gain_and_beamwidth_hand_calculated():
    assert float(a.peak_gain_dbi(D_M, ETA, F_HZ)) == pytest.approx(GMAX_HAND_DBI, abs=0.002)
    # 70 lambda / D = 70 / 30.0208 = 2.3317 deg
    assert float(a.beamwidth_3db_deg(D_M, F_HZ)) == pytest.approx(2.3317, abs=1e-4)
    # a 4.5 m Ku dish at 12 GHz, eta 0.7: D/lambda = 180.125, pi * 180.125 = 565.88, 565.88^2 = 320 220,
    # G = 10 log10(0.7 * 320 220) = 10 log10(224 154) = 53.505 dBi
    assert float(a.peak_gain_dbi(4.5, 0.7, 12e9)) == pytest.approx(53.505, abs=0.002)


def test_s465_envelope_hand_values():
    # S.465-6: 32 - 25 log10(phi) for phi_min <= phi < 48 deg, -10 dBi from 48 to 180 deg
    #   3 deg: 32 - 25 * 0.477121 = 20.072    5 deg: 32 - 25 * 0.698970 = 14.526
    #  10 deg: 32 - 25 * 1        =  7.000   20 deg: 32 - 25 * 1.301030 = -0.526
    #  48 deg and 60 deg: -10
    phi = [3.0, 5.0, 10.0, 20.0, 48.0, 60.0]
    expect = [20.072, 14.526, 7.000, -0.526, -10.0, -10.0]
    np.testing.assert_allclose(a.gain_dbi(phi, D_M, ETA, F_HZ, "S.465"), expect, atol=0.001)
    # just below 48 deg the envelope is still 32 - 25 log10(47.99) = -10.03
    assert float(a.gain_dbi(47.99, D_M, ETA, F_HZ)) == pytest.approx(-10.03, abs=0.005)


def test_s465_phi_min_and_main_lobe_for_small_dish():
    # D/lambda = 30.02 < 50: phi_min = max(2, 114 * 30.0208^-1.09) = max(2, 114 / 40.78) = 2.796 deg
    angles = a.pattern_angles_deg(D_M, ETA, F_HZ, "S.465")
    assert float(angles["phi_min"]) == pytest.approx(2.796, abs=0.001)
    # AP8 near-in: G1 = 2 + 15 log10(30.0208) = 24.161 dBi; phi_m = 20 / 30.0208 * sqrt(37.621 - 24.161) = 2.444
    assert float(angles["g1_dbi"]) == pytest.approx(24.161, abs=0.001)
    assert float(angles["phi_m"]) == pytest.approx(2.444, abs=0.001)
    # main lobe at 1 deg: 37.621 - 2.5e-3 * (30.0208 * 1)^2 = 37.621 - 2.253 = 35.367
    assert float(a.gain_dbi(1.0, D_M, ETA, F_HZ)) == pytest.approx(35.367, abs=0.002)
    assert float(a.gain_dbi(0.0, D_M, ETA, F_HZ)) == pytest.approx(GMAX_HAND_DBI, abs=0.002)
    # between phi_m and phi_min: G1; at phi_min the S.465 envelope takes over, 32 - 25 log10(2.796) = 20.84
    assert float(a.gain_dbi(2.6, D_M, ETA, F_HZ)) == pytest.approx(24.161, abs=0.001)
    assert float(a.gain_dbi(2.8, D_M, ETA, F_HZ)) == pytest.approx(32 - 25 * math.log10(2.8), abs=1e-9)


def test_worked_example_x_band_ground_jammer():
    """NOTES worked example: X band 7.5 GHz, 1.2 m terminal, GEO EIRP 40 dBW, a 10 dBW ground jammer 10 km away:
    J/S about +25, +19, +12, +4 dB at 3, 5, 10, 20 deg off axis.

    J/S = (EIRP_J - L_fs(10 km) + G(theta)) - (EIRP_sat - L_fs(d_sat) + G(0))
        = 10 - 40 + 20 log10(d_sat / 10 km) + G(theta) - G(0)
    The example does not state d_sat; a low-elevation Arctic terminal sees GEO at about 41 400 km (Longyearbyen to
    1 W: closed form 41 392 km), so 20 log10(41392 / 10) = 72.34 dB and
    J/S = -30 + 72.34 - 37.62 + G(theta) = 4.72 + G(theta):
      3 deg: 4.72 + 20.07 = 24.79    5 deg: 4.72 + 14.53 = 19.25
     10 deg: 4.72 +  7.00 = 11.72   20 deg: 4.72 -  0.53 =  4.19
    The quoted values are rounded to 1 dB, hence a 0.5 dB tolerance."""
    theta = np.array([3.0, 5.0, 10.0, 20.0])
    g_theta = a.gain_dbi(theta, D_M, ETA, F_HZ, "S.465")
    np.testing.assert_allclose(g_theta, [20.07, 14.53, 7.00, -0.53], atol=0.01)
    d_sat_m = float(geo_range_closed_form_m(78.22, -1.0 - 15.65))
    assert d_sat_m == pytest.approx(41_392e3, abs=2e3)
    s_dbw = 40.0 - fspl_db(F_HZ, d_sat_m) + a.gain_dbi(0.0, D_M, ETA, F_HZ)
    j_dbw = 10.0 - fspl_db(F_HZ, 10e3) + g_theta
    np.testing.assert_allclose(j_dbw - s_dbw, [24.79, 19.25, 11.72, 4.19], atol=0.02)
    np.testing.assert_allclose(j_dbw - s_dbw, [25.0, 19.0, 12.0, 4.0], atol=0.5)


def test_ap8_large_dish_hand_values_and_continuity():
    # 4.5 m at 12 GHz, eta 0.7: lambda = 0.024983 m, D/lambda = 180.125 (>= 100)
    d, eta, f = 4.5, 0.7, 12e9
    x = d * f / C_M_S
    gmax = 10 * math.log10(eta * (math.pi * x) ** 2)
    g1 = 2 + 15 * math.log10(x)  # 35.83 dBi
    phi_m = 20 / x * math.sqrt(gmax - g1)  # 0.463 deg
    phi_r = 15.85 * x**-0.6  # 0.702 deg
    angles = a.pattern_angles_deg(d, eta, f, "AP8")
    assert float(angles["phi_r"]) == pytest.approx(phi_r, rel=1e-12)
    assert g1 == pytest.approx(35.83, abs=0.01) and phi_r == pytest.approx(0.702, abs=0.001)
    phi = np.array([0.2, 0.6, 2.0, 30.0, 100.0])
    expect = [gmax - 2.5e-3 * (x * 0.2) ** 2, g1, 32 - 25 * math.log10(2.0), 32 - 25 * math.log10(30.0), -10.0]
    np.testing.assert_allclose(a.gain_dbi(phi, d, eta, f, "AP8"), expect, atol=1e-9)
    # continuous at phi_m and phi_r (the recommendation's own construction; at phi_r to 0.0007 dB because AP8
    # writes 15.85 for 10^1.2 = 15.849: 32 - 25 log10(15.85) = 1.9993, not 2), 0.03 dB step at 48 deg
    for edge, step_db in ((phi_m, 1e-6), (phi_r, 1e-3)):
        lo, hi = a.gain_dbi([edge * (1 - 1e-9), edge * (1 + 1e-9)], d, eta, f, "AP8")
        assert abs(hi - lo) < step_db
    lo, hi = a.gain_dbi([48 - 1e-9, 48.0], d, eta, f, "AP8")
    assert hi - lo == pytest.approx(-10 - (32 - 25 * math.log10(48)), abs=1e-6)  # +0.031 dB


def test_ap8_small_dish_branch():
    # 1.2 m at 7.5 GHz, D/lambda = 30.02 < 100: phi_r = 100 / 30.02 = 3.331 deg,
    # sidelobes 52 - 10 log10(30.02) - 25 log10(phi) = 37.226 - 25 log10(phi), beyond 48: 10 - 14.774 = -4.774
    x = D_M * F_HZ / C_M_S
    phi = np.array([3.0, 10.0, 20.0, 90.0])
    expect = [24.161, 37.226 - 25.0, 37.226 - 25 * math.log10(20.0), 10 - 10 * math.log10(x)]
    np.testing.assert_allclose(a.gain_dbi(phi, D_M, ETA, F_HZ, "AP8"), expect, atol=0.001)
    # continuous at phi_r = 100 lambda/D: G1 = 2 + 15 log x = 52 - 10 log x - 25 log(100/x)
    lo, hi = a.gain_dbi([100 / x - 1e-9, 100 / x + 1e-9], D_M, ETA, F_HZ, "AP8")
    assert abs(hi - lo) < 1e-6


def test_s580_design_objective():
    # 2.4 m at 12 GHz: D/lambda = 96.06 >= 50, phi_min = max(1, 100 / 96.06) = 1.041 deg
    d, eta, f = 2.4, 0.65, 12e9
    phi = np.array([2.0, 5.0, 20.0, 22.0, 26.0, 30.0, 60.0])
    expect = [29 - 25 * math.log10(2.0), 29 - 25 * math.log10(5.0), 29 - 25 * math.log10(20.0), -3.5, -3.5,
              32 - 25 * math.log10(30.0), -10.0]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(a.gain_dbi(phi, d, eta, f, "S.580"), expect, atol=1e-9)
    # 3 dB below S.465 where both are defined
    s465 = a.gain_dbi([2.0, 5.0, 15.0], d, eta, f, "S.465")
    np.testing.assert_allclose(a.gain_dbi([2.0, 5.0, 15.0], d, eta, f, "S.580"), s465 - 3.0, atol=1e-9)
    # the -3.5 dBi plateau joins S.465 at 26.3 deg: 32 - 25 log10(26.3) = -3.4989 (a 0.001 dB step)
    lo, hi = a.gain_dbi([26.3, 26.3 + 1e-9], d, eta, f, "S.580")
    assert abs(hi - lo) < 0.002
    # S.580-6 applies to D/lambda >= 50: the 1.2 m X-band terminal (30) gets a ValidityWarning
    with pytest.warns(ValidityWarning, match="D/lambda < 50"):
        a.gain_dbi(10.0, D_M, ETA, F_HZ, "S.580")


def test_gain_never_exceeds_peak_and_is_monotone_envelope():
    phi = np.linspace(0.0, 180.0, 18001)
    for d, f in [(0.6, 12e9), (1.2, 7.5e9), (2.4, 20e9), (9.0, 14e9), (0.45, 30e9)]:
        gmax = a.peak_gain_dbi(d, 0.65, f)
        for pattern in ("S.465", "AP8"):
            g = a.gain_dbi(phi, d, 0.65, f, pattern)
            assert np.all(g <= gmax + 1e-12)
            assert g[0] == pytest.approx(float(gmax))
            assert np.all(np.diff(g) <= 0.05)  # never rises by more than the 48-deg step (0.03 dB)


def test_scalar_matches_array_and_broadcasts():
    phi = np.array([0.5, 3.0, 70.0])
    arr = a.gain_dbi(phi, D_M, ETA, F_HZ)
    for i, p in enumerate(phi):
        assert float(a.gain_dbi(float(p), D_M, ETA, F_HZ)) == arr[i]
    both = a.gain_dbi(phi[:, None], np.array([1.2, 2.4]), ETA, F_HZ)
    assert both.shape == (3, 2)
    assert both[1, 0] == arr[1]


def test_bad_input_is_refused():
    with pytest.raises(InputError, match=r"antenna pattern 'S.999' is not known"):
        a.gain_dbi(1.0, D_M, ETA, F_HZ, "S.999")
    with pytest.raises(InputError, match="efficiency"):
        a.gain_dbi(1.0, D_M, 1.5, F_HZ)
    with pytest.raises(InputError, match="diameter_m"):
        a.peak_gain_dbi(-1.0, ETA, F_HZ)
    with pytest.raises(InputError, match="off-axis angle"):
        a.gain_dbi(-1.0, D_M, ETA, F_HZ)
    with pytest.raises(InputError, match="off-axis angle"):
        a.gain_dbi(181.0, D_M, ETA, F_HZ)
    # aliases with the revision are accepted
    assert float(a.gain_dbi(10.0, D_M, ETA, F_HZ, "S.465-6")) == pytest.approx(7.0)


def test_s465_outside_frequency_range_warns():
    with pytest.warns(ValidityWarning, match="2 to 31 GHz"):
        a.gain_dbi(10.0, 0.6, 0.65, 40e9, "S.465")
