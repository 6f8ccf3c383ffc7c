"""A SigMF recording made by the hardware layer (with its HIL metadata) decodes with `linksim dvbs2 rx`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from linksim.dvbs2.tx import Transmitter, random_ts_frames
from linksim.hw.sigmf_io import write_sigmf


def test_hw_recording_replays_through_dvbs2_rx(tmp_path):
    tx = Transmitter(sps=2)
    frames, ts_in = random_ts_frames(tx, "8PSK 3/4", 4, seed=3)
    x = np.concatenate([tx.shape(f) for f in frames] + [tx.flush(), np.zeros(200, np.complex64)])
    rng = np.random.default_rng(1)
    x = (x + 0.05 * (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size))).astype(np.complex64)
    meta = write_sigmf(tmp_path / "rec", x, sample_rate_sps=2e6, center_freq_hz=1.2e9, hw="loopback",
                       linksim={"gains_db": {"RX": 10.0}, "attenuation_db": 60.0})
    ts_out = tmp_path / "out.ts"
    r = subprocess.run([sys.executable, "-m", "linksim", "dvbs2", "rx", "--in", str(meta), "--sps", "2",
                        "--ts-out", str(ts_out), "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    sent = out["per_modcod"]["8PSK 3/4"]
    assert sent["frames"] == 4 and sent["errors"] == 0
    got = ts_out.read_bytes()
    # the TS packets that came out are the ones that went in (the last, straddling packet may be incomplete)
    assert len(got) >= 188 * 60 and got == ts_in[: len(got)]


def test_run_records_the_receiver_input_as_sigmf(gr, tmp_path):
    from linksim.dvbs2.rx import Receiver
    from linksim.hw.sigmf_io import read_sigmf
    from linksim.run.loop import Devices, run_scenario
    from linksim.scenario.model import load_scenario

    s = load_scenario("scenarios/contested-x-cw.toml")
    dev = Devices("loopback", "loopback", tx_enable=True)
    sm = run_scenario(s, tmp_path / "run", duration_s=0.5, seed=2, devices=dev, record=tmp_path / "rec",
                      report=False)
    assert sm["mode"] == "hardware" and sm["devices"][1]["profile"]["name"] == "loopback"
    x, meta = read_sigmf(tmp_path / "rec-stretch0.sigmf-meta")
    g = meta["global"]
    assert g["core:sample_rate"] == 2e6 and g["linksim:samples"] == x.size
    assert len(g["linksim:scenario_sha256"]) == 64 and g["linksim:device"]["direction"] == "rx"
    assert g["linksim:sample_clock"]["scenario_time_of_sample_0_s"] < 0.0  # the lead-in before t = 0
    rx = Receiver(sps=2)
    reports = rx.process(x) + rx.flush()
    ok = [r for r in reports if r.ok]
    assert len(ok) >= sm["frames_ok"]  # the recording holds every frame the run decoded (and the lead-in)
