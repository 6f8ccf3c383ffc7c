"""Antenna events (linksim.propagation.antenna_events): scheduled wet-antenna and snow loss, and the noise they add.

Outside authorities: the static permittivity of water (80.1 at 20 C, 87.9 at 0 C, CRC Handbook) and its Debye
relaxation near 17 GHz at 20 C (relaxation time about 9.3 ps, Kaatze 1989) for the P.840 water model; Fabry-Perot
transmission of a lossless slab (transparent at half a wavelength, |T| = 2n/(1+n^2) at a quarter wavelength); the
passive-loss noise formula T = T_phys (1 - 10^(-L/10)); the anchors 4 dB (wet feed window) and 6.3 dB (wet
reflector and feed) at 20.2 GHz.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from linksim.dbmath import C_M_S
from linksim.errors import InputError
from linksim.propagation import antenna_events as ae


def test_water_permittivity_static_limit_and_relaxation():
    assert ae.water_permittivity(1e6, 293.15).real == pytest.approx(80.1, abs=0.5)
    assert ae.water_permittivity(1e6, 273.15).real == pytest.approx(87.9, abs=0.5)
    f = np.linspace(5e9, 40e9, 3501)
    f_peak = f[np.argmax(-ae.water_permittivity(f, 293.15).imag)]
    assert 15e9 < f_peak < 19e9


def test_lossless_slab_fabry_perot():
    f = 10e9
    n = 2.0
    lam = C_M_S / f
    eps = np.array([n * n + 0j])
    half = ae._layer_loss_db(np.array([f]), eps, np.array([lam / (2 * n)]), "none")
    quarter = ae._layer_loss_db(np.array([f]), eps, np.array([lam / (4 * n)]), "none")
    assert float(half[0]) == pytest.approx(0.0, abs=1e-9)
    assert float(quarter[0]) == pytest.approx(-20 * math.log10(2 * n / (1 + n * n)), abs=1e-9)
    metal = ae._layer_loss_db(np.array([f]), eps, np.array([0.003]), "metal")
    assert float(metal[0]) == pytest.approx(0.0, abs=1e-9)  # a lossless layer on metal reflects everything


def test_scheduled_wet_feed_adds_its_loss_and_noise():
    t = np.arange(0.0, 100.0, 0.5)
    ev = ae.AntennaEvent("wet_feed", start_s=20.0, end_s=60.0, physical_temp_k=280.0)
    s = ae.antenna_event_series([ev], t, 20.2e9)
    inside = (t >= 20.0) & (t <= 60.0)
    np.testing.assert_allclose(s.loss_db[inside], ae.WET_FEED_LOSS_DB_20G, atol=1e-6)
    assert np.all(s.loss_db[~inside] == 0.0)
    np.testing.assert_allclose(s.noise_temp_k[inside], 280.0 * (1 - 10 ** (-0.4)), rtol=1e-6)
    assert np.all(s.noise_temp_k[~inside] == 0.0)


def test_wet_reflector_anchor_and_frequency_scaling():
    ev = ae.AntennaEvent("wet_reflector", 0.0, 1.0)
    assert float(ae.steady_loss_db(ev, 20.2e9)) == pytest.approx(ae.WET_REFLECTOR_AND_FEED_LOSS_DB_20G, abs=1e-6)
    f = np.array([4e9, 7.5e9, 12e9, 20.2e9, 30e9])
    feed = [float(ae.steady_loss_db(ae.AntennaEvent("wet_feed", 0, 1), x)) for x in f]
    assert np.all(np.diff(feed) > 0), feed  # a water film costs more at higher frequency
    assert feed[0] < 1.0 < feed[2]


def test_ramps_and_overlapping_events_cascade():
    t = np.arange(0.0, 100.0, 1.0)
    e1 = ae.AntennaEvent("loss", 10.0, 90.0, loss_db=2.0, ramp_s=10.0, physical_temp_k=290.0)
    e2 = ae.AntennaEvent("loss", 40.0, 50.0, loss_db=3.0, physical_temp_k=270.0)
    s = ae.antenna_event_series([e1, e2], t, 12e9)
    assert s.loss_db[15] == pytest.approx(1.0)  # half-way up the ramp
    assert s.loss_db[45] == pytest.approx(5.0)
    g2 = 10 ** (-0.3)
    expect = 290.0 * (1 - 10 ** (-0.2)) * g2 + 270.0 * (1 - g2)
    assert s.noise_temp_k[45] == pytest.approx(expect)


def test_snow_depends_on_wetness():
    dry = float(ae.snow_layer_loss_db(20.2e9, 0.02, 0.0))
    wet = float(ae.snow_layer_loss_db(20.2e9, 0.02, 0.05))
    assert dry < 0.1 < 3.0 < wet
    ev = ae.AntennaEvent("snow", 0.0, 10.0, snow_thickness_m=0.02, snow_liquid_fraction=0.05)
    assert float(ae.steady_loss_db(ev, 20.2e9)) == pytest.approx(wet)


def test_rain_driven_film_follows_rain_rate_and_dries():
    t = np.arange(0.0, 3600.0, 1.0)
    rate = np.zeros(t.size)
    rate[600:1200] = 25.0  # the anchor rain rate: full 4 dB
    rate[1200:1800] = 25.0 / 8.0  # film thickness halves (R^(1/3))
    ev = ae.AntennaEvent("wet_feed", 0.0, 3600.0, follow_rain=True, drying_s=60.0)
    s = ae.antenna_event_series([ev], t, 20.2e9, rain_rate_mm_h=rate)
    assert np.all(s.loss_db[:600] == 0.0)
    assert s.loss_db[900] == pytest.approx(4.0, abs=1e-6)
    d = ae.film_thickness_for_loss_m(4.0)
    assert s.loss_db[1700] == pytest.approx(float(ae.water_film_loss_db(20.2e9, d / 2)), rel=1e-6)
    assert 0.0 < s.loss_db[1900] < s.loss_db[1790]  # drying after the rain stops
    assert s.loss_db[3500] < 1e-3
    with pytest.raises(InputError, match="rain"):
        ae.antenna_event_series([ev], t, 20.2e9)


def test_scenario_events_are_accepted():
    from types import SimpleNamespace as NS

    t = np.arange(0.0, 200.0, 1.0)
    wet = NS(type="wet_antenna", start_s=10.0, duration_s=50.0, loss_db=None, ramp_s=0.0, thickness_mm=5.0, wet=False)
    fixed = NS(type="wet_radome", start_s=100.0, duration_s=50.0, loss_db=5.0, ramp_s=0.0, thickness_mm=0.0, wet=False)
    snow = NS(type="snow", start_s=0.0, duration_s=200.0, loss_db=None, ramp_s=0.0, thickness_mm=20.0, wet=True)
    loss = ae.event_loss_db([wet, fixed], t, 20.2e9)
    assert loss[30] == pytest.approx(ae.WET_REFLECTOR_AND_FEED_LOSS_DB_20G, abs=1e-6)
    assert loss[120] == pytest.approx(5.0, abs=1e-6)  # a scenario's loss_db holds at the carrier frequency
    assert loss[80] == 0.0
    assert ae.event_loss_db([fixed], t, 12e9)[120] == pytest.approx(5.0, abs=1e-6)
    assert ae.event_loss_db([snow], t, 20.2e9)[5] == pytest.approx(float(ae.snow_layer_loss_db(20.2e9, 0.02, 0.05)))
    with pytest.raises(InputError, match="type"):
        ae.event_loss_db([NS(type="fog", start_s=0.0, duration_s=1.0)], t, 20.2e9)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kind="fog", start_s=0.0, end_s=1.0),
        dict(kind="wet_feed", start_s=5.0, end_s=1.0),
        dict(kind="loss", start_s=0.0, end_s=1.0, loss_db=-1.0),
        dict(kind="snow", start_s=0.0, end_s=1.0, follow_rain=True),
    ],
)
def test_bad_event_is_one_clear_error(kwargs):
    with pytest.raises(InputError):
        ae.AntennaEvent(**kwargs)
