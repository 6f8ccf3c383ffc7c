"""Hardware-in-the-loop tests: real SDRs and lab gear. They are collected only when the lab sets LINKSIM_HIL=1
(tests/conftest.py deselects them otherwise) and each needs its device variable (procedure, wiring and expected
values: hw/HIL-PROCEDURE.md); a test whose device is not named skips with the reason.

    LINKSIM_HIL=1                      enable
    LINKSIM_HIL_RX=b210                RX profile (name or .toml path)
    LINKSIM_HIL_TX=b210                TX profile for the cabled loopback (its profile must have tx_allowed = true)
    LINKSIM_HIL_ATTENUATION_DB=60      fixed attenuation in the cable, dB (default 60)
    LINKSIM_HIL_FREQ_HZ=2.2e9          centre frequency (default 915e6)
    LINKSIM_HIL_ATTENUATOR=URL         programmable attenuator (optional)
    LINKSIM_HIL_ROTATOR=URL            rotator (optional), LINKSIM_HIL_ROTATOR_MODEL=gs232a|gs232b|rotctld
"""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.hil


def _need(var: str) -> str:
    if os.environ.get("LINKSIM_HIL") != "1":
        pytest.skip("hardware test: set LINKSIM_HIL=1 and the device variables (hw/HIL-PROCEDURE.md)")
    value = os.environ.get(var)
    if not value:
        pytest.skip(f"hardware test: {var} not set")
    return value


def _freq() -> float:
    return float(os.environ.get("LINKSIM_HIL_FREQ_HZ", "915e6"))


def test_hil_rx_opens_and_reference(gr):
    from linksim.hw.profiles import load_profile
    from linksim.hw.reference import require_lock
    from linksim.hw.sdr import make_source

    prof = load_profile(_need("LINKSIM_HIL_RX"))
    blk = make_source(prof, center_freq_hz=_freq())
    status = blk.reference()
    require_lock(status, prof)  # DeviceError if the profile requires lock and it is not locked
    meta = blk.metadata()
    assert meta["sample_rate_sps"] == prof.default_sps


def test_hil_receive_noise_floor(gr):
    """One second of RX with no signal: finite samples, below full scale, and the expected count."""
    import numpy as np
    from gnuradio import blocks

    from linksim.hw.sdr import make_source

    blk = make_source(_need("LINKSIM_HIL_RX"), center_freq_hz=_freq())
    n = int(blk.sample_rate_sps)
    tb = gr.top_block()
    snk = blocks.vector_sink_c()
    tb.connect(blk, blocks.head(gr.sizeof_gr_complex, n), snk)
    tb.run()
    y = np.asarray(snk.data())
    assert y.size == n and np.all(np.isfinite(y))
    assert np.mean(np.abs(y) ** 2) < 0.5


def test_hil_cabled_loopback_calibration(gr):
    """Expected (HIL-PROCEDURE.md): received power rises 1 dB per dB of TX gain (0.8 to 1.2 over the sweep,
    below compression) and the best path SNR is at least 30 dB with the documented attenuation."""
    from linksim.hw.calibrate import calibrate

    tx, rx = _need("LINKSIM_HIL_TX"), _need("LINKSIM_HIL_RX")
    att_db = float(os.environ.get("LINKSIM_HIL_ATTENUATION_DB", "60"))
    res = calibrate(tx, rx, attenuation_db=att_db, tx_enable=True, center_freq_hz=_freq(), points=5)
    assert 0.8 <= res.slope_db_per_db <= 1.2, res.warnings
    assert res.best_snr_db >= 30.0


def test_hil_attenuator_steps():
    from linksim.hw.attenuator import open_attenuator

    with open_attenuator(_need("LINKSIM_HIL_ATTENUATOR")) as att:
        assert att.get_db() == pytest.approx(att.max_db, abs=att.step_db / 2)  # max at start
        for value in (0.0, 10.25, 30.0):
            applied = att.set_db(value)
            assert att.get_db() == pytest.approx(applied, abs=1e-6)


def test_hil_rotator_reads_and_stops():
    """Reads the position and sends stop; it does not move the antenna."""
    from linksim.hw.rotator import open_rotator

    model = os.environ.get("LINKSIM_HIL_ROTATOR_MODEL", "rotctld")
    with open_rotator(_need("LINKSIM_HIL_ROTATOR"), model) as rot:
        az, el = rot.position()
        assert 0 <= az <= 450 and -5 <= el <= 185
        rot.stop()
