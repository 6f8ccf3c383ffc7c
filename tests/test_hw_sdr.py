"""The SDR factory: loopback, zmq and sigmf pseudo-devices build and run in GNU Radio flowgraphs with the same
interface as real devices; TX safety (enabled twice), gain clamping, half duplex, missing devices.

Power checks use the loopback's documented path model rx = g_rx (g_path g_tx tx + n) and the variance of complex
white Gaussian noise; the tolerance (0.1 dB) is about 5 standard errors of a 2e5-sample power estimate.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from linksim.errors import DeviceError, InputError
from linksim.hw.profiles import load_profile, profile_from_dict
from linksim.hw.sdr import make_sink, make_source
from linksim.hw.sigmf_io import read_sigmf


def _tone(n: int, amp: float = 0.5) -> np.ndarray:
    return (amp * np.exp(2j * np.pi * 0.013 * np.arange(n))).astype(np.complex64)


def _run_loopback(gr, x, *, channel, tx_gain_db, rx_gain_db, path_gain_db, noise_dbfs, seed=3):
    from gnuradio import blocks

    tb = gr.top_block()
    src = blocks.vector_source_c(x.tolist(), False)
    opts = {"channel": channel, "path_gain_db": path_gain_db, "noise_dbfs": noise_dbfs, "seed": seed}
    tx = make_sink("loopback", sample_rate_sps=1e6, tx_enable=True, gains_db={"TX": tx_gain_db}, options=opts)
    rx = make_source("loopback", sample_rate_sps=1e6, gains_db={"RX": rx_gain_db}, options=opts)
    snk = blocks.vector_sink_c()
    tb.connect(src, tx)
    tb.connect(rx, snk)
    tb.run()
    return np.array(snk.data(), dtype=np.complex64), rx


def test_loopback_path_gain_and_noise(gr):
    x = _tone(200_000)
    y, rx = _run_loopback(gr, x, channel="t1", tx_gain_db=10, rx_gain_db=20, path_gain_db=-40, noise_dbfs=-50)
    assert y.size == x.size and rx.link_stats().ok
    # signal: 0.25 * 10^((10 - 40 + 20)/10); noise: 10^((-50 + 20)/10)
    sig = 0.25 * 10 ** (-10 / 10)
    noise = 10 ** (-30 / 10)
    measured_db = 10 * np.log10(np.mean(np.abs(y) ** 2))
    assert measured_db == pytest.approx(10 * np.log10(sig + noise), abs=0.1)
    # noise alone: subtract the known tone (scaled) and check the residual power
    resid = y - x * 10 ** ((10 - 40 + 20) / 20)
    assert 10 * np.log10(np.mean(np.abs(resid) ** 2)) == pytest.approx(-30.0, abs=0.1)


def test_loopback_same_seed_is_bit_identical(gr):
    x = _tone(20_000)
    y1, _ = _run_loopback(gr, x, channel="t2a", tx_gain_db=0, rx_gain_db=0, path_gain_db=-10, noise_dbfs=-30)
    y2, _ = _run_loopback(gr, x, channel="t2b", tx_gain_db=0, rx_gain_db=0, path_gain_db=-10, noise_dbfs=-30)
    assert np.array_equal(y1, y2)


def test_tx_needs_profile_and_caller(gr):
    with pytest.raises(InputError, match="enable it explicitly"):
        make_sink("loopback", sample_rate_sps=1e6, options={"channel": "t3"})
    for name in ("b210", "hackrf", "x310", "pluto", "limesdr"):
        with pytest.raises(InputError, match="tx_allowed = false"):
            make_sink(name, tx_enable=True)  # shipped hardware profiles keep TX off
    with pytest.raises(InputError, match="receive only"):
        make_sink("rtlsdr", tx_enable=True)


def test_gains_clamped_to_profile(gr):
    rx = make_source("loopback", sample_rate_sps=1e6, gains_db={"RX": 99}, options={"channel": "t4"})
    assert rx.gains_db == {"RX": 40.0}
    assert "RX 99 dB -> 40 dB" in rx.notes[0]
    assert rx.set_gains({"RX": -5}) == {"RX": 0.0}
    rx.close()
    with pytest.raises(InputError, match="no rx gain stage LNA"):
        make_source("loopback", sample_rate_sps=1e6, gains_db={"LNA": 1}, options={"channel": "t4b"})
    hackrf = load_profile("hackrf")
    gains, notes = hackrf.clamp_gains("tx", {"AMP": 14, "VGA": 47})
    assert sum(gains.values()) <= 47 and notes  # TX total capped by tx_limits.max_gain_db


def test_rate_and_frequency_limits(gr):
    with pytest.raises(InputError, match="sample rate 3e\\+07 S/s outside 2e\\+06..2e\\+07"):
        make_source("hackrf", sample_rate_sps=30e6)
    with pytest.raises(InputError, match="frequency"):
        make_source("rtlsdr", center_freq_hz=2.4e9)
    with pytest.raises(InputError, match="start_time_s needs a gr-uhd profile"):
        make_source("b210", start_time_s=2.0)  # soapy: no timed start


def test_half_duplex_refuses_rx_and_tx_on_one_device(gr):
    prof = profile_from_dict(
        {
            "name": "half",
            "kind": "loopback",
            "driver": "loopback",
            "duplex": "half",
            "tx": True,
            "tx_allowed": True,
            "options": {"channel": "t5"},
        }
    )
    rx = make_source(prof, sample_rate_sps=1e6)
    with pytest.raises(InputError, match="half duplex"):
        make_sink(prof, sample_rate_sps=1e6, tx_enable=True)
    rx.close()
    make_sink(prof, sample_rate_sps=1e6, tx_enable=True).close()  # free again once the RX side is closed


@pytest.mark.parametrize("name", ["hackrf", "rtlsdr", "x310"])
def test_missing_device_is_one_line_device_error(gr, name):
    t0 = time.monotonic()
    with pytest.raises(DeviceError) as e:
        make_source(name)
    assert "\n" not in str(e.value) and f"profile {name}: cannot open" in str(e.value)
    assert time.monotonic() - t0 < 10


def test_zmq_pseudo_device_between_flowgraphs(gr):
    from gnuradio import blocks

    x = _tone(100_000)
    tx = make_sink("zmq", sample_rate_sps=1e6, tx_enable=True, options={"tx_address": "tcp://127.0.0.1:*"})
    endpoint = tx.zmq_block.sender.endpoint
    rx = make_source("zmq", sample_rate_sps=1e6, options={"rx_address": endpoint})
    tb_tx, tb_rx = gr.top_block(), gr.top_block()
    tb_tx.connect(blocks.vector_source_c(x.tolist(), False), tx)
    snk = blocks.vector_sink_c()
    tb_rx.connect(rx, snk)
    tb_rx.start()
    tb_tx.run()
    tb_rx.wait()
    y = np.array(snk.data(), dtype=np.complex64)
    assert np.array_equal(x, y)
    stats = rx.link_stats()
    assert stats.ok and stats.eos and stats.samples_received == x.size
    assert rx.metadata()["link"]["ok"] is True


def test_sigmf_record_then_replay_at_real_rate(gr, tmp_path):
    from gnuradio import blocks

    rate = 200_000.0
    x = _tone(60_000)
    base = tmp_path / "cap"
    tb = gr.top_block()
    rec = make_sink(
        "sigmf",
        sample_rate_sps=rate,
        center_freq_hz=2.2e9,
        tx_enable=True,
        options={"path": str(base)},
        sigmf_metadata={"scenario_sha256": "ab" * 32, "attenuation_db": 30.0},
    )
    tb.connect(blocks.vector_source_c(x.tolist(), False), rec)
    tb.run()
    rec.finalize({"rotator": {"az_deg": 180.0, "el_deg": 5.0}})
    y, meta = read_sigmf(base)
    assert np.array_equal(x, y)
    g = meta["global"]
    assert g["core:sample_rate"] == rate and g["linksim:samples"] == x.size
    assert g["linksim:attenuation_db"] == 30.0 and g["linksim:rotator"]["el_deg"] == 5.0
    assert meta["captures"][0]["core:frequency"] == 2.2e9

    tb2 = gr.top_block()
    src = make_source("sigmf", options={"path": str(base) + ".sigmf-meta"})
    assert src.sample_rate_sps == rate and src.center_freq_hz == 2.2e9
    snk = blocks.vector_sink_c()
    tb2.connect(src, snk)
    t0 = time.monotonic()
    tb2.run()
    elapsed = time.monotonic() - t0
    assert np.array_equal(np.array(snk.data(), dtype=np.complex64), x)
    assert elapsed == pytest.approx(x.size / rate, rel=0.25)  # throttled to the recorded 0.3 s
    with pytest.raises(InputError, match="recorded at 200000 S/s"):
        make_source("sigmf", sample_rate_sps=1e6, options={"path": str(base)})


def test_hil_metadata_for_recordings(gr, tmp_path):
    from linksim.hw.attenuator import open_attenuator
    from linksim.hw.fakes import FakeAttenuator, FakeRotctld, serve_tcp
    from linksim.hw.rotator import open_rotator
    from linksim.hw.sigmf_io import hil_metadata, read_meta, scenario_hash, write_sigmf

    rx = make_source("loopback", gains_db={"RX": 12}, options={"channel": "t-meta"})
    with serve_tcp(FakeAttenuator()) as a_srv, serve_tcp(FakeRotctld(az_deg=181.0, el_deg=4.5)) as r_srv:
        with open_attenuator(a_srv.url, timeout_s=0.3) as att, open_rotator(r_srv.tcp_url, timeout_s=0.3) as rot:
            att.set_db(17.5)
            meta = hil_metadata(rx=rx, attenuator=att, rotator=rot, scenario_text="name = 'x'\n")
    rx.close()
    assert meta["gains_db"] == {"RX": 12.0} and meta["attenuation_db"] == 17.5
    assert (meta["rotator"]["az_deg"], meta["rotator"]["el_deg"]) == (181.0, 4.5)
    assert meta["scenario_sha256"] == scenario_hash(b"name = 'x'\n") and len(meta["scenario_sha256"]) == 64
    assert meta["sample_clock"]["sample_rate_sps"] == 1e6 and meta["device"]["profile"]["name"] == "loopback"
    write_sigmf(tmp_path / "r", np.zeros(4, np.complex64), sample_rate_sps=1e6, linksim=meta)
    assert read_meta(tmp_path / "r.sigmf-data")["global"]["linksim:attenuation_db"] == 17.5
