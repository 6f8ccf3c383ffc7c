"""`linksim emulate`: the scenario's channel on an external signal, in real time, between stock GNU Radio endpoints.

Authorities: the scenario's budget Timeline (one-way delay, Doppler, C/(N+I+J)) against what is measured on the
streams by an independent instrument (correlation against the known transmitted signal); GNU Radio's gr-dtv
DVB-S2 transmitter as the external modem; linksim's receiver's Es/N0 estimate (checked against Table 13 elsewhere).
The 60 s, 10 Msps acceptance run is benchmarks/bench_emulate.py (docs/emulate.md); here a short one.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from linksim.budget.timeline import compute_timeline
from linksim.channel.delay import LATENCY
from linksim.channel.emulation import EmulatedChannel, build_emulation, emulation_scenario, measure_delay_doppler
from linksim.cli import main
from linksim.errors import InputError
from linksim.scenario.model import load_scenario

ROOT = Path(__file__).parent.parent
SCEN = ROOT / "scenarios" / "emulator-geo-ka-cw.toml"
sys.path.insert(0, str(Path(__file__).parent))


def qpsk(n: int, sps: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, -(-n // sps))))
    return np.repeat(s, sps)[:n].astype(np.complex64)


@pytest.fixture(scope="module")
def geo_timeline():
    s = emulation_scenario(load_scenario(SCEN, {"jammer.0.offset_hz": 2e5}), bandwidth_hz=1.2e6)
    return compute_timeline(s, duration_s=30.0)


def test_bandwidth_sets_the_carrier_and_the_budget_follows(geo_timeline):
    s = geo_timeline.scenario
    assert s.carrier.symbol_rate_baud == pytest.approx(1e6) and s.carrier.occupied_bw_hz == pytest.approx(1.2e6)
    full = compute_timeline(load_scenario(SCEN), duration_s=2.0)
    # Es/N0 = C/N0 - 10 log10(Rs): 5 Msym/s -> 1 Msym/s is +6.99 dB
    assert geo_timeline["esn0_db"][0] - full["esn0_db"][0] == pytest.approx(10 * np.log10(5), abs=1e-6)
    with pytest.raises(InputError, match="--bandwidth-hz"):
        emulation_scenario(s, bandwidth_hz=-1.0)


def test_emulated_channel_realises_the_scenario_delay_and_doppler(geo_timeline):
    fs = 2e6
    emu = EmulatedChannel(geo_timeline, fs, input_power=1.0, threads=2, span_s=20.0)
    a = emu.applied(0)
    tl = geo_timeline
    # the whole one-way delay (the delay line's latency taken off the request), and the budget's Doppler
    assert a["delay_s"] == pytest.approx(float(tl["delay_s"][0]), abs=1e-9)
    assert a["doppler_hz"] == pytest.approx(float(tl["doppler_hz"][0]), abs=1e-6)
    assert 0.12 < a["delay_s"] < 0.14 and 10 < abs(a["doppler_hz"]) < 100
    x = qpsk(int(1.8 * fs))
    y = np.empty_like(x)
    for i in range(0, x.size, 150_001):
        emu.process(x[i : i + 150_001], y[i : i + 150_001])
    res = emu.probe.results
    assert len(res) == 2
    for r in res:  # within a tenth of a sample and a tenth of a hertz of the scenario's
        assert abs(r["delay_samples_realised"] - r["delay_samples_expected"]) < 0.1
        assert abs(r["doppler_hz_realised"] - r["doppler_hz_expected"]) < 0.1
        assert r["rho"] > 0.7
    # independently: the output is the input delayed by the scenario's delay (to the sample) and shifted by its
    # Doppler, checked with the same estimator against the known input
    d = tl["delay_s"][1] * fs
    k = int(1.2 * fs)
    dr, fr, rho = measure_delay_doppler(x[k - int(round(d)) + 8 : k - int(round(d)) + 8 + 65536], y[k : k + 65552],
                                        int(round(d)), fs, 0.0, k - int(round(d)) + 8)
    assert dr == pytest.approx(d, abs=0.1)
    assert fr == pytest.approx(float(tl["doppler_hz"][1]), abs=0.2)


def test_jammer_sits_relative_to_the_signal_centre(geo_timeline):
    fs = 2e6
    emu = EmulatedChannel(geo_timeline, fs, input_power=1.0, center_hz=-3e5, span_s=5.0, probe_every_s=None)
    x = np.zeros(1 << 18, np.complex64)
    x[0] = 1.0  # nothing but the jammer (and noise) in the output once the delay line has let the pulse by
    y = np.empty_like(x)
    emu.process(x, y)
    spec = np.abs(np.fft.fftshift(np.fft.fft(y))) ** 2
    f = np.fft.fftshift(np.fft.fftfreq(y.size, 1 / fs))
    assert f[np.argmax(spec)] == pytest.approx(-3e5 + 2e5, abs=fs / y.size * 2)
    with pytest.raises(InputError, match="does not fit"):
        EmulatedChannel(geo_timeline, fs, input_power=1.0, center_hz=6e5, span_s=5.0)


def test_loop_replays_the_span(geo_timeline):
    fs = 2e6
    emu = EmulatedChannel(geo_timeline, fs, input_power=1.0, span_s=0.3, loop=True, probe_every_s=None)
    x = qpsk(int(0.75 * fs))
    y = np.empty_like(x)
    for i in range(0, x.size, 70_001):
        emu.process(x[i : i + 70_001], y[i : i + 70_001])
    assert emu.wraps == 2
    assert emu.scenario_time_s(int(0.75 * fs) - 1) == pytest.approx(0.15, abs=1e-5)
    assert emu.applied(int(0.62 * fs))["scenario_time_s"] == pytest.approx(0.02, abs=1e-9)
    assert emu.channel.time_s == pytest.approx(0.15, abs=1e-9)  # the channel's clock followed


@pytest.mark.parametrize("bandwidth_hz, latency", [(1.2e5, 0), (1.2e6, 16)])
def test_the_satellite_amplifier_compresses_before_the_downlink(bandwidth_hz, latency):
    """[satellite.amplifier] in the emulation: the external signal goes through the Saleh TWTA at the scenario's
    input back-off before the downlink channel. Authority: Saleh's AM/AM normalised to saturation, 2u/(1 + u^2)
    (Saleh 1981; independent of alpha_a, beta_a). A signal whose second half is 6.02 dB quieter comes out only
    1.29 dB quieter at 1 dB IBO; the delay is still the scenario's (the amplifier's filters' latency, at 2 samples
    per symbol, comes off the delay line)."""
    s = load_scenario(ROOT / "scenarios" / "longyearbyen-ka-geo-ip.toml",
                      {"satellite.amplifier.model": "saleh", "satellite.amplifier.ibo_db": 1.0,
                       "satellite.eirp_dbw": 90.0})  # Es/N0 66 dB and more: the noise does not bias the powers
    tl = compute_timeline(emulation_scenario(s, bandwidth_hz=bandwidth_hz), duration_s=5.0)
    fs, n, p_in = 2e6, 1_600_000, 0.625
    emu = EmulatedChannel(tl, fs, input_power=p_in, span_s=4.0, probe_every_s=0.2, threads=1)
    info = emu.amplifier_info
    assert info["model"] == "saleh" and info["ibo_db"] == 1.0 and info["latency_samples"] == latency
    assert info["obo_db"] == pytest.approx(float(tl["obo_db"][0]), abs=1e-9)  # the budget's back-off
    x = qpsk(n, sps=1, seed=3)
    x[n // 2 :] *= np.float32(0.5)
    y = np.empty_like(x)
    for i in range(0, n, 100_003):
        emu.process(x[i : i + 100_003], y[i : i + 100_003])
    d = int(round(float(tl["delay_s"][0]) * fs))
    assert emu.applied(0)["delay_s"] * fs == pytest.approx(float(tl["delay_s"][0]) * fs, abs=1e-6)
    p1 = np.mean(np.abs(y[d + 50_000 : d + 750_000]) ** 2)
    p2 = np.mean(np.abs(y[d + 850_000 :]) ** 2)
    u = np.array([1.0, 0.5]) * 10 ** (-1.0 / 20) / np.sqrt(p_in)
    a = 2 * u / (1 + u**2)
    want_db = 20 * np.log10(a[0] / a[1])  # 1.29 dB
    # memoryless at 20 samples per symbol; at 2 the output filter keeps the regrowth out (0.06 dB less)
    assert 10 * np.log10(p1 / p2) == pytest.approx(want_db, abs=0.01 if latency == 0 else 0.1)
    r = emu.probe.results[0]
    assert abs(r["delay_samples_realised"] - r["delay_samples_expected"]) < 0.1 and r["rho"] > 0.9
    with pytest.raises(InputError, match="bent_pipe"):
        build_emulation(str(ROOT / "scenarios" / "bent-pipe-uplink-jamming.toml"), 4e6, span_s=2.0)


def test_build_emulation_refuses_bad_values():
    with pytest.raises(InputError, match="outside the scenario"):
        build_emulation(str(SCEN), 1e6, start_s=9999.0)
    with pytest.raises(InputError, match="--input-power"):
        build_emulation(str(SCEN), 1e7, input_power=-1.0, span_s=2.0)
    with pytest.raises(InputError, match="does not fit"):
        build_emulation(str(SCEN), 4e6, span_s=2.0)  # 6 MHz of signal in 4 Msps
    # the scenario's CW (js_db -10 dB, an in-band J/S) 1.5 MHz off a 1.2 MHz-wide signal: the budget would count
    # it whole while the IQ puts nothing in the band (it used to predict 9.45 dB where the receiver saw 18.8 dB)
    with pytest.raises(InputError, match=r"jammer tone: js_db = -10 dB is an in-band J/S, but its cw at offset "
                                         r"1\.5e\+06 Hz \(at 1e\+06 Hz at 2e\+06 S/s\) puts nothing inside"):
        build_emulation(str(SCEN), 2e6, span_s=2.0, bandwidth_hz=1.2e6)
    build_emulation(str(SCEN), 2e6, span_s=2.0, bandwidth_hz=1.2e6, overrides={"jammer.0.offset_hz": 3e5})
    # the shipped amplifier bench case (its CW 100 kHz off: in band at 1 Msps) builds with its Saleh TWT
    emu = build_emulation(str(ROOT / "scenarios" / "emulator-geo-ka-saleh.toml"), 1e6, span_s=2.0,
                          bandwidth_hz=0.6e6, input_power=1.0)
    assert emu.amplifier_info["model"] == "saleh" and emu.amplifier_info["ibo_db"] == pytest.approx(3.0)


# ------------------------------------------------------------------------------------------------ GNU Radio


def test_block_equals_the_channel_and_fills_overflows(gr, geo_timeline):
    import pmt
    from gnuradio import blocks

    from linksim.gr.emulator import emulator_cc

    fs = 1.5e6
    x = qpsk(600_000)
    # declared power: the block's output is the EmulatedChannel's
    ref = np.empty_like(x)
    EmulatedChannel(geo_timeline, fs, input_power=1.0, span_s=5.0, probe_every_s=None).process(x, ref)
    tb = gr.top_block()
    blk = emulator_cc(emulation=EmulatedChannel(geo_timeline, fs, input_power=1.0, span_s=5.0), duration_s=0.4)
    snk = blocks.vector_sink_c()
    tb.connect(blocks.vector_source_c(x.tolist(), False), blk, snk)
    tb.run()
    y = np.asarray(snk.data(), np.complex64)
    assert y.size == x.size and np.array_equal(y, ref)
    assert blk.samples_in == blk.samples_out == x.size and blk.gap_samples == 0
    # measured power, and a device that lost 5000 samples (its rx_time tags say so): zeros fill the gap
    t0 = pmt.make_tuple(pmt.from_uint64(100), pmt.from_double(0.0))
    t1 = pmt.make_tuple(pmt.from_uint64(100), pmt.from_double(0.2 + 5000 / fs))
    tags = [gr.tag_utils.python_to_tag((0, pmt.intern("rx_time"), t0)),
            gr.tag_utils.python_to_tag((300_000, pmt.intern("rx_time"), t1))]
    tb = gr.top_block()
    blk = emulator_cc(emulation=EmulatedChannel(geo_timeline, fs, span_s=5.0), power_window_s=0.1)
    snk = blocks.vector_sink_c()
    tb.connect(blocks.vector_source_c((2 * x).tolist(), False, 1, tags), blk, snk)
    tb.run()
    y = np.asarray(snk.data(), np.complex64)
    assert blk.overflow_events == 1 and blk.gap_samples == 5000
    assert y.size == x.size + 5000
    xg = np.concatenate([2 * x[:300_000], np.zeros(5000, np.complex64), 2 * x[300_000:]])
    ref = np.empty_like(xg)
    emu = EmulatedChannel(geo_timeline, fs, input_power=4.0, span_s=5.0, probe_every_s=None)
    emu.set_input_power(float(np.mean(np.abs(2 * x[:150_000].astype(np.complex128)) ** 2)))
    emu.process(xg, ref)
    assert np.allclose(y, ref, atol=1e-5)
    assert [r["samples_out"] >= r["time_s"] * fs for r in blk.records] == [True] * len(blk.records)


def test_emulate_between_stock_zmq_endpoints_decodes_grdtv_dvbs2(gr, tmp_path):
    """A stock gr-dtv DVB-S2 signal (QPSK 1/2, 1 Msym/s at 2 Msps) from a stock push_sink, through `linksim emulate`
    (GEO delay, Doppler, AWGN, a CW tone in band), into a stock pull_source: every sample arrives, bit for bit the
    channel's output computed offline on the same input and seed; the delay and Doppler measured against the known
    transmitted signal are the scenario's, and linksim's receiver decodes it at the budget's C/(N+I+J) +- 0.3 dB."""
    from grdtv_dvbs2 import grdtv_samples, ts_packets
    from stock_zmq import StockRx, StockTx, free_port, realised_from_capture

    from linksim.dvbs2.rx import Receiver

    fs, dur = 2e6, 2.0
    x = grdtv_samples("QPSK 1/2", ts_packets(1500), sps=2)
    x = (x / np.sqrt(np.mean(np.abs(x) ** 2))).astype(np.complex64)
    path = tmp_path / "modem.cf32"
    x.tofile(path)
    p_in, p_out = free_port(), free_port()
    n = int(dur * fs)
    tx = StockTx(str(path), f"tcp://127.0.0.1:{p_in}", fs)
    rx = StockRx(f"tcp://127.0.0.1:{p_out}", n, [(0, n)])
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "linksim", "emulate", str(SCEN), "--in", f"zmq:tcp://127.0.0.1:{p_in}",
           "--out", f"zmq:tcp://127.0.0.1:{p_out}", "--sample-rate", str(fs), "--bandwidth-hz", "1.2e6",
           "--span-s", "10", "--duration", str(dur), "--set", "jammer.0.offset_hz=3e5", "--run-dir", str(run),
           "--input-power", "1.0", "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rx.start()
        # the modem starts once the emulator's flowgraph runs (its first progress line)
        assert p.stderr is not None
        line = p.stderr.readline()
        assert "channel" in line, line
        tx.start()
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-3000:]
        rx.wait_count(n, 20.0)
    finally:
        if p.poll() is None:
            p.kill()
        rx.stop()
        tx.stop()
    sm = json.loads(out)
    assert sm["status"] == "complete" and sm["samples_in"] == sm["samples_out"] == n and sm["drops"] == 0
    assert rx.capture.count == n  # every sample reached the stock receiver
    assert sm["realised_measurements"] >= 1 and sm["realised_delay_error_samples_max"] < 0.2
    assert sm["realised_doppler_error_hz_max"] < 1.0
    rows = list(csv.DictReader(open(run / "applied.csv")))
    assert len(rows) == 2 and {"delay_s", "doppler_hz", "esn0_db", "js_db[tone]", "behind_s"} <= set(rows[0])
    assert (run / "timeline.csv").exists() and (run / "scenario.toml").exists()
    tl = compute_timeline(emulation_scenario(load_scenario(SCEN, {"jammer.0.offset_hz": 3e5}), 1.2e6),
                          duration_s=10.0)  # the reference, in full precision

    def at(col: str, t: float) -> float:
        return float(np.interp(t, tl.time_s, np.asarray(tl[col], dtype=float)))

    y = rx.capture.windows[0][1]
    # nothing lost, duplicated or reordered anywhere: the stream is exactly the channel's output on the modem's
    # samples from the first on (the same scenario, seed and declared input power, computed here)
    emu = build_emulation(str(SCEN), fs, bandwidth_hz=1.2e6, span_s=10.0, input_power=1.0,
                          overrides={"jammer.0.offset_hz": 3e5})
    ref = np.empty(n, np.complex64)
    emu.process(x[np.arange(n) % x.size], ref)
    assert np.array_equal(y, ref)
    # the instrument's own measurement, against the transmitted signal: the scenario's delay and Doppler
    for c in (600_000, 3_000_000):
        d_exp = at("delay_s", c / fs - at("delay_s", c / fs)) * fs
        d, f, rho = realised_from_capture(x, c, y[c : c + 65536 + 16], d_exp, at("doppler_hz", c / fs), fs)
        assert abs(d - d_exp) < 0.2 and abs(f - at("doppler_hz", c / fs)) < 1.0 and rho > 0.5
    assert LATENCY == 16  # (the delay line's latency is taken off the requested delay: realised = scenario)
    reps = [r for r in Receiver(sps=2).process(y) if r.modcod != "DUMMY"]
    ok = [r for r in reps if r.ok]
    assert len(ok) >= 45 and len(ok) >= len(reps) - 1
    predicted = at("cnij_db", 1.0)
    measured = float(np.mean([r.esn0_est_db for r in ok]))
    assert measured == pytest.approx(predicted, abs=0.3)


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    base = ["emulate", str(SCEN), "--sample-rate", "1e7", "--run-dir", str(tmp_path / "r")]
    for extra, word, code in [
        (["--in", "zmq:tcp://127.0.0.1", "--out", "zmq:tcp://*:5556"], "--in", 2),
        (["--in", "nosuchprofile", "--out", "zmq:tcp://*:5556"], "--in", 2),
        (["--in", "zmq:tcp://127.0.0.1:5555", "--out", "zmq:tcp://*:99999"], "--out", 2),
        (["--in", "zmq:tcp://127.0.0.1:5555", "--out", "zmq:tcp://*:5556", "--duration", "-1"], "--duration", 2),
        (["--in", "zmq:tcp://127.0.0.1:5555", "--out", "zmq:tcp://*:5556", "--out-scale", "2"], "--out-scale", 2),
        (["--in", "zmq:tcp://127.0.0.1:5555", "--out", "zmq:tcp://*:5556", "--start-s", "1e6"], "outside", 2),
    ]:
        rc = main([*base, *extra])
        err = capsys.readouterr().err
        assert rc == code, (extra, err)
        assert err.startswith("linksim: error:") and word in err and err.count("\n") == 1, err
