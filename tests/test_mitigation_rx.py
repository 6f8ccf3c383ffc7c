"""Receiver-side mitigation against jammers, end to end: a stock gr-dtv DVB-S2 signal (GNU Radio's own transmitter,
an outside implementation) at Table 13 + 2 dB, a jammer from linksim's channel, then the real `linksim dvbs2 rx`
command with and without --excision / --blanking, counting the TS packets that come out (docs/antijam.md).

The acceptance figures of issue 12: >= 90 % of the TS packets through the mitigation, < 10 % without, for a CW tone
inside the band off centre, a 4-tone multitone and a swept tone at J/S +10 dB, and a pulsed jammer (duty 0.1,
+10 dB average) with blanking; and with no jammer every mitigation leaves the Es/N0 estimate within 0.2 dB and the
decoded frames unchanged, for every MODCOD family.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from linksim.channel import jammers as jw
from linksim.channel.core import Channel, ChannelProfile, JammerSpec
from linksim.scenario import modcods

ROOT = Path(__file__).resolve().parents[1]
RS = 1e6  # symbol rate of the recordings (only sets the jammers' offsets and sweep rates in Hz)
SPS = 2
FS = RS * SPS
N_PACKETS = 12 * 168  # twelve QPSK 1/2 normal frames of TS packets (168 packets ride in about one frame)


@lru_cache(maxsize=1)
def grdtv_qpsk12() -> tuple[np.ndarray, int]:
    """gr-dtv QPSK 1/2 (normal frames, pilots, roll-off 0.2) at 2 samples per symbol, and the packets sent."""
    from grdtv_dvbs2 import grdtv_samples, ts_packets

    ts = ts_packets(N_PACKETS, seed=12)
    return grdtv_samples("QPSK 1/2", ts, sps=SPS), N_PACKETS


def recording(tmp: Path, name: str, jammer: object | None, js_db: float, seed: int = 3) -> Path:
    """The gr-dtv signal at Table 13 + 2 dB with the jammer at js_db (average J/S over the carrier's power), as a
    cf32 file (a tail of zeros lets the last frame through the filters)."""
    x, _ = grdtv_qpsk12()
    esn0 = modcods.get("QPSK 1/2").esn0_qef_db + 2.0
    jams = [JammerSpec(jammer, js_db)] if jammer is not None else []
    ch = Channel(FS, SPS, ChannelProfile.constant(esn0_db=esn0, duration_s=10.0), jammers=jams, seed=seed)
    y = np.concatenate([ch.process(x), np.zeros(20000, dtype=np.complex64)]).astype(np.complex64)
    path = tmp / f"{name}.cf32"
    y.tofile(path)
    return path


def rx_cli(path: Path, *opts: str) -> dict:
    r = subprocess.run([sys.executable, "-m", "linksim", "dvbs2", "rx", "--in", str(path), "--json", *opts],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


JAMMERS = {
    "cw": (jw.CWJammer(offset_hz=0.23 * RS), ["--excision", "fft"]),
    "cw-notch": (jw.CWJammer(offset_hz=-0.31 * RS), ["--excision", "notch"]),
    "multitone": (jw.MultitoneJammer(n_tones=4, bandwidth_hz=0.8 * RS, offset_hz=0.05 * RS), ["--excision", "fft"]),
    "multitone-notch": (jw.MultitoneJammer(n_tones=4, bandwidth_hz=0.8 * RS, offset_hz=0.05 * RS),
                        ["--excision", "notch"]),
    "swept": (jw.ChirpJammer(bandwidth_hz=1.0 * RS, sweep_rate_hz_s=1e8), ["--excision", "fft"]),
    "swept-notch": (jw.ChirpJammer(bandwidth_hz=1.0 * RS, sweep_rate_hz_s=1e7), ["--excision", "notch"]),
    "pulsed": (jw.PulsedJammer(base=jw.BarrageJammer(bandwidth_hz=1.2 * RS), duty=0.1, prf_hz=10e3),
               ["--blanking", "pulse"]),
}


@pytest.mark.parametrize("case", list(JAMMERS))
def test_mitigation_decodes_90_percent_of_the_ts_packets_and_none_without(gr, tmp_path, case):
    jam, opts = JAMMERS[case]
    path = recording(tmp_path, case, jam, 10.0)
    _, sent = grdtv_qpsk12()
    with_m = rx_cli(path, *opts)
    assert with_m["ts_packets"] >= 0.9 * sent, (case, with_m)
    if not case.endswith("-notch"):  # the unmitigated run is the same for both excision kinds
        without = rx_cli(path)
        assert without["ts_packets"] < 0.1 * sent, (case, without)
    st = with_m["mitigation"]
    if "--blanking" in opts:  # duty 0.1, plus the guard samples: a little over a tenth of the samples
        assert 0.1 <= st["blanked_fraction"] <= 0.14, st
    elif opts[1] == "fft":  # the jammer's power is taken out, a small share of the bins with it
        assert st["excised_power_fraction"] > 0.7 and st["excised_fraction"] < 0.05, st
    else:
        assert st["tones_found"] >= (4 if "multitone" in case else 1), st


def test_clear_sky_recording_is_left_alone(gr, tmp_path):
    """No jammer: every mitigation decodes every packet the plain receiver does, with the same Es/N0 to 0.2 dB."""
    path = recording(tmp_path, "clear", None, 0.0)
    _, sent = grdtv_qpsk12()
    base = rx_cli(path)
    assert base["ts_packets"] >= 0.97 * sent and base["frame_errors"] <= 1, base
    e0 = base["per_modcod"]["QPSK 1/2"]["esn0_est_db"]
    for opts in (["--excision", "fft"], ["--excision", "notch"], ["--blanking", "pulse", "--excision", "fft"]):
        r = rx_cli(path, *opts)
        assert r["ts_packets"] == base["ts_packets"] and r["frame_errors"] == base["frame_errors"], (opts, r)
        assert abs(r["per_modcod"]["QPSK 1/2"]["esn0_est_db"] - e0) <= 0.2, (opts, r)
