"""Calibration estimator on synthetic captures (known tone and noise powers, LO offset, DC leakage, arbitrary
alignment) and the reference-lock precondition with fake sensors.

Reference values: a tone of power S in complex white Gaussian noise of power N per sample has SNR 10 log10(S/N).
Tolerances: 0.1 dB at 0 dB SNR and above; 0.5 dB at -15 dB (estimator variance with 48 windows of 1024)."""

from __future__ import annotations

import numpy as np
import pytest

from linksim.errors import DeviceError, InputError
from linksim.hw.calibrate import split_levels, window_powers
from linksim.hw.profiles import load_profile, profile_from_dict
from linksim.hw.reference import read_reference, require_lock, sensor_bool


def _capture(snr_db: float, *, offset_cps: float = 0.0, dc: float = 0.0, lead: int = 777, seed: int = 5):
    rng = np.random.default_rng(seed)
    n = 50_000
    k = np.arange(n)
    tone = np.sqrt(10 ** (snr_db / 10)) * np.exp(2j * np.pi * (1 / 16 + offset_cps) * k)
    x = np.concatenate([np.zeros(n + lead), tone, np.zeros(n)])
    noise = (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)) * np.sqrt(0.5)
    return x + noise + dc


@pytest.mark.parametrize(
    "snr_db, offset_cps, dc, tol",
    [(40.0, 0.0, 0.0, 0.1), (20.0, 0.0013, 0.0, 0.1), (0.0, -0.002, 0.3, 0.1), (-15.0, 0.0007, 0.0, 0.5)],
)
def test_snr_estimate(snr_db, offset_cps, dc, tol):
    noise, sig = split_levels(*window_powers(_capture(snr_db, offset_cps=offset_cps, dc=dc)))
    # DC leakage counts as part of the measured floor (it is there in a real RF path)
    assert 10 * np.log10(noise) == pytest.approx(10 * np.log10(1 + dc**2), abs=0.05)
    assert 10 * np.log10(sig / noise) == pytest.approx(snr_db - 10 * np.log10(1 + dc**2), abs=tol)


def test_no_signal_is_refused():
    rng = np.random.default_rng(1)
    y = rng.standard_normal(150_000) + 1j * rng.standard_normal(150_000)
    with pytest.raises(InputError, match="no signal received"):
        split_levels(*window_powers(y))


class _FakeSoapy:
    def __init__(self, values):
        self.values = values

    def read_sensor(self, name):
        if name not in self.values:
            raise RuntimeError(f"no sensor {name}")
        return self.values[name]


class _UhdValue:
    def __init__(self, v):
        self.v = v

    def to_bool(self):
        return self.v

    def to_pp_string(self):
        return f"Ref: {'locked' if self.v else 'unlocked'}"


class _FakeUhd:
    def get_mboard_sensor(self, name, mboard=0):
        return _UhdValue(name == "ref_locked")


PROF = profile_from_dict(
    {
        "name": "labref",
        "kind": "soapy",
        "driver": "uhd",
        "gains": {"rx": {"PGA": {"min_db": 0, "max_db": 76}}},
        "reference": {"clock_source": "external", "lock_sensors": ["ref_locked", "gps_locked"], "require_lock": True},
    }
)


def test_reference_lock_read_and_required():
    ok = read_reference(_FakeSoapy({"ref_locked": "true", "gps_locked": "true"}), PROF)
    assert ok.locked is True and ok.sensors == {"ref_locked": "true", "gps_locked": "true"}
    require_lock(ok, PROF)
    bad = read_reference(_FakeSoapy({"ref_locked": "true", "gps_locked": "false"}), PROF)
    assert bad.locked is False
    with pytest.raises(DeviceError, match="reference not locked"):
        require_lock(bad, PROF)
    missing = read_reference(_FakeSoapy({}), PROF)
    assert missing.locked is None and "unreadable" in missing.sensors["ref_locked"]
    with pytest.raises(DeviceError):
        require_lock(missing, PROF)
    uhd = read_reference(_FakeUhd(), PROF)
    assert uhd.locked is False and uhd.sensors["ref_locked"] == "Ref: locked"
    assert read_reference(None, load_profile("loopback")).note.startswith("pseudo-device")


def test_sensor_bool():
    assert sensor_bool("true") is True and sensor_bool("false") is False and sensor_bool(True) is True
    assert sensor_bool("1.5 dB") is None and sensor_bool(_UhdValue(True)) is True
