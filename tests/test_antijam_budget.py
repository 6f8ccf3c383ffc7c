"""Spreading and hopping in the scenario (closed keys, every bad one named), the budget (processing gain against
each kind of jammer, worked by hand; the hop loss), the channel's jammers for a hopped carrier, and the CLI
(`linksim dvbs2 tx|rx|ber --spreading --hopping`, bad input one line and exit code 2)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from linksim.budget.timeline import compute_timeline
from linksim.channel import jammers as jw
from linksim.channel.from_budget import jammer_waveform
from linksim.cli import main
from linksim.dvbs2.waveform import scenario_waveform
from linksim.errors import ScenarioError
from linksim.run.metrics import predicted_goodput_bps
from linksim.scenario import modcods
from linksim.scenario.model import load_scenario, scenario_from_dict

RS = 100e3


def bench(carrier: dict | None = None, jammers: list | None = None) -> dict:
    """A fixed-geometry X-band link at 100 kBd with Es/N0 about 33.6 dB (thermal noise far below the jammers)."""
    d = {
        "scenario": {"name": "bench", "start": "2026-01-01T00:00:00Z", "duration_s": 2.0, "step_s": 1.0},
        "site": {"lat_deg": 60.0, "lon_deg": 10.0},
        "terminal": {"antenna_diameter_m": 1.2, "noise_temp_k": 100.0},
        "satellite": {"eirp_dbw": 40.0},
        "geometry": {"elevation_deg": 30.0, "range_km": 38000.0},
        "carrier": {"freq_hz": 7.5e9, "symbol_rate_baud": RS, "modcod": "QPSK 1/2", **(carrier or {})},
        "propagation": {"mode": "clear_sky", "gas": False, "cloud": False},
    }
    if jammers:
        d["jammer"] = jammers
    return d


def row(d: dict) -> dict:
    s = scenario_from_dict(d)
    return compute_timeline(s).flat_columns()


def combine_db(*snr_db: float) -> float:
    return -10 * math.log10(sum(10 ** (-x / 10) for x in snr_db))


# ------------------------------------------------------------------------------------------------ scenario keys

@pytest.mark.parametrize("carrier,key,words", [
    ({"spreading_factor": 0}, "carrier.spreading_factor", "out of range"),
    ({"spreading_factor": 1024}, "carrier.spreading_factor", "out of range"),
    ({"spreading_factor": 2.5}, "carrier.spreading_factor", "expected an integer"),
    ({"spreading_seed": -1}, "carrier.spreading_seed", "out of range"),
    ({"hopping": {"channels": 1, "spacing_hz": 1e5, "dwell_s": 0.1}}, "carrier.hopping.channels", "out of range"),
    ({"hopping": {"channels": 4, "spacing_hz": 0.0, "dwell_s": 0.1}}, "carrier.hopping.spacing_hz",
     "out of range"),
    ({"hopping": {"channels": 4, "spacing_hz": 1e5}}, "carrier.hopping.dwell_s", "one of them"),
    ({"hopping": {"channels": 4, "spacing_hz": 1e5, "dwell_s": 0.1, "dwell_frames": 2}},
     "carrier.hopping.dwell_s", "one of them"),
    ({"hopping": {"channels": 4, "spacing_hz": 1e5, "dwell_s": 0.1, "hops": 3}}, "carrier.hopping.hops",
     "unknown key"),
])
def test_bad_spreading_and_hopping_keys_are_named(carrier, key, words):
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(bench(carrier), "x.toml")
    assert e.value.key == key and words in str(e.value) and "\n" not in str(e.value)


def test_keys_resolve_override_and_set_the_sample_rate():
    s = scenario_from_dict(bench({"spreading_factor": 8, "hopping": {"channels": 4, "spacing_hz": 1.2e6,
                                                                    "dwell_frames": 2}}))
    t = s.resolved()["carrier"]
    assert t["spreading_factor"] == 8 and t["hopping"] == {"channels": 4, "spacing_hz": 1.2e6, "dwell_frames": 2.0,
                                                           "seed": 1}
    assert scenario_from_dict(s.resolved()).carrier == s.carrier  # the resolved table round-trips
    c = s.carrier
    assert c.chip_rate_hz == 8 * RS and c.occupied_bw_hz == pytest.approx(8 * RS * 1.2)
    assert c.hop_offsets_hz == pytest.approx([-1.8e6, -0.6e6, 0.6e6, 1.8e6])
    assert c.victim_band_hz == pytest.approx(3 * 1.2e6 + 0.96e6)
    assert c.hop_dwell_s == pytest.approx(2 * 33282 / RS)  # two normal QPSK PLFRAMEs with pilots
    w = scenario_waveform(s)
    assert w.sample_rate_hz >= 1.25 * c.victim_band_hz and w.samples_per_symbol % (8 * 2) == 0
    from linksim.scenario.model import apply_overrides

    d = apply_overrides(bench(), {"carrier.spreading_factor": 4, "carrier.hopping.channels": 6,
                                  "carrier.hopping.spacing_hz": 5e5, "carrier.hopping.dwell_s": 0.01})
    s2 = scenario_from_dict(d)
    assert s2.carrier.spreading_factor == 4 and s2.carrier.hopping is not None
    assert s2.carrier.hopping.channels == 6


# ------------------------------------------------------------------------------------------------ budget

def test_spreading_keeps_thermal_esn0_and_divides_jamming_by_n():
    """Hand-worked, N = 16, J/S 10 dB (fixed) in the victim's occupied band (16 x 100 kHz x 1.2):
    barrage over that band: Es/J0 = -10 + 10 log10(16 x 1.2) = 2.83 dB; a tone at 0.3 of the chip rate off the
    carrier (flat part of the chip pulse): -10 + 10 log10(16) = 2.04 dB; each combined with thermal Es/N0 (the
    same as unspread: Es/N0 = C/N0 - 10 log10(R_s))."""
    n = 16
    plain = row(bench())
    spread = row(bench({"spreading_factor": n}))
    assert spread["esn0_db"][0] == pytest.approx(plain["esn0_db"][0], abs=1e-9)
    e = float(plain["esn0_db"][0])
    bw = n * RS * 1.2
    barrage = row(bench({"spreading_factor": n}, [{"name": "b", "type": "barrage", "js_db": 10.0,
                                                   "bandwidth_hz": bw}]))
    assert barrage["cnij_db"][0] == pytest.approx(combine_db(e, -10 + 10 * math.log10(n * 1.2)), abs=0.02)
    tone = row(bench({"spreading_factor": n}, [{"name": "t", "type": "cw", "js_db": 10.0,
                                                "offset_hz": 0.3 * n * RS}]))
    assert tone["cnij_db"][0] == pytest.approx(combine_db(e, -10 + 10 * math.log10(n)), abs=0.02)
    # the same tone on the unspread carrier counts all of it
    tone1 = row(bench({}, [{"name": "t", "type": "cw", "js_db": 10.0, "offset_hz": 0.3 * RS}]))
    assert tone1["cnij_db"][0] == pytest.approx(combine_db(e, -10.0), abs=0.02)
    # a positioned jammer's J/S counts its power in the (spread) occupied band: a 1 MHz barrage lands whole in
    # the 1.92 MHz band of N = 16, 0.12/1 of it in the 120 kHz band of N = 1
    j = [{"name": "b", "type": "barrage", "eirp_dbw": 0.0, "bandwidth_hz": 1e6, "lat_deg": 60.05, "lon_deg": 10.1,
          "alt_m": 100.0}]
    js16 = float(row(bench({"spreading_factor": n}, j))["js_db[b]"][0])
    js1 = float(row(bench({}, j))["js_db[b]"][0])
    assert js16 - js1 == pytest.approx(-10 * math.log10(0.12), abs=0.01)


def test_hopping_budget_partial_band_and_follower():
    """8 channels 1 MHz apart, dwell 4 PLFRAMEs: a partial-band jammer over 2 channels at J/S 20 dB in the hop
    set's band loses exactly 2/8 of the hops; a follower that reacts in 2.5 frames loses the last 2 frames of each
    4 (the frame it lands in counts whole); with the dwell in seconds, the follower's time share."""
    hop = {"channels": 8, "spacing_hz": 1e6, "dwell_frames": 4}
    s = scenario_from_dict(bench({"hopping": hop}))
    c = s.carrier
    w_band = c.victim_band_hz
    offs = np.array(c.hop_offsets_hz)
    pb = [{"name": "pb", "type": "partial_band", "js_db": 20.0, "bandwidth_hz": w_band, "fraction": 2e6 / w_band,
           "offset_hz": float(np.mean(offs[3:5]))}]  # channels 3 and 4, inside the hop set's band
    r = row(bench({"hopping": hop}, pb))
    assert r["hop_loss_fraction"][0] == pytest.approx(0.25)
    # the budget's C/(N+I+J) takes the jamming averaged over hops: a jammed hop's matched filter takes
    # R_s / (2 MHz) of the jammer's power (J/S 20 dB), i.e. Es/J0 = -20 + 10 log10(2e6 / R_s) = -6.99 dB, below
    # QPSK 1/2's 1.00 dB; 2 hops of 8
    e = float(r["esn0_db"][0])
    jam = 10 ** (-(-20 + 10 * math.log10(2e6 / RS)) / 10) * 2 / 8
    assert r["cnij_db"][0] == pytest.approx(-10 * math.log10(10 ** (-e / 10) + jam), abs=0.02)
    t_f = modcods.plframe_symbols("QPSK 1/2", "normal", True) / RS
    fol = [{"name": "f", "type": "follower", "js_db": 15.0, "bandwidth_hz": 120e3, "reaction_time_s": 2.5 * t_f}]
    r = row(bench({"hopping": hop}, fol))
    assert r["hop_loss_fraction"][0] == pytest.approx(0.5)
    hop_s = {"channels": 8, "spacing_hz": 1e6, "dwell_s": 4 * t_f}
    r = row(bench({"hopping": hop_s}, fol))
    assert r["hop_loss_fraction"][0] == pytest.approx(1 - 2.5 / 4)
    slow = [{**fol[0], "reaction_time_s": 5 * t_f}]  # slower than a dwell: nothing
    r = row(bench({"hopping": hop}, slow))
    assert r["hop_loss_fraction"][0] == 0.0 and r["cnij_db"][0] == pytest.approx(r["esn0_db"][0])
    # the prediction of a CCM run: the MODCOD's rate over the frames not lost
    s = scenario_from_dict(bench({"hopping": hop}, fol))
    rate = RS * modcods.get("QPSK 1/2").eta_pilots
    assert predicted_goodput_bps(s, 5.0, False, None, hop_loss=0.5) == pytest.approx(0.5 * rate)
    # without hopping the column is NaN (no hops to lose)
    assert np.isnan(row(bench())["hop_loss_fraction"][0])


def test_channel_jammers_for_a_hopped_carrier():
    """The channel realises the budget's J/S in the hop set's band; a follower becomes a hop follower whose J/S is
    all on the carrier's channel."""
    d = bench({"hopping": {"channels": 4, "spacing_hz": 200e3, "dwell_s": 0.05}},
              [{"name": "b", "type": "barrage", "js_db": 0.0, "bandwidth_hz": 400e3},
               {"name": "f", "type": "follower", "js_db": 10.0, "reaction_time_s": 0.01}])
    s = scenario_from_dict(d)
    fs = scenario_waveform(s).sample_rate_hz
    jb = jammer_waveform(s.jammers[0], s, fs)
    w_band = s.carrier.victim_band_hz  # 3 x 200 kHz + 120 kHz = 720 kHz: the 400 kHz barrage lies inside
    assert isinstance(jb.waveform, jw.BarrageJammer) and jb.js_offset_db == pytest.approx(0.0, abs=0.01)
    assert w_band == pytest.approx(720e3)
    jf = jammer_waveform(s.jammers[1], s, fs)
    assert isinstance(jf.waveform, jw.HopFollowerJammer) and jf.js_offset_db == 0.0
    assert jf.waveform.bandwidth_hz == pytest.approx(s.carrier.occupied_bw_hz)


def test_shipped_spread_and_hopping_scenarios_budget():
    s = load_scenario("scenarios/contested-x-spread.toml")
    r = compute_timeline(s, duration_s=2.0).flat_columns()
    # the tone is 4.7 dB above the carrier; spread by 16 it leaves C/(N+I+J) above QPSK 1/2's threshold
    assert r["js_db[tone]"][0] > 4.0 and r["cnij_db"][0] > modcods.get("QPSK 1/2").esn0_qef_db + 3
    s1 = load_scenario("scenarios/contested-x-spread.toml", {"carrier.spreading_factor": 1})
    assert compute_timeline(s1, duration_s=2.0)["cnij_db"][0] < 0
    h = load_scenario("scenarios/contested-x-hopping.toml")
    assert compute_timeline(h, duration_s=2.0)["hop_loss_fraction"][0] == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------------ CLI

def test_cli_tx_rx_round_trip_spread_and_hopped(tmp_path, capsys):
    iq, ts = tmp_path / "x.cf32", tmp_path / "x.ts"
    wf = ["--spreading", "8", "--spreading-seed", "3", "--hopping", "channels=4,spacing_hz=120e3,dwell_frames=1",
          "--symbol-rate-baud", "10e3"]
    assert main(["dvbs2", "tx", "--modcod", "QPSK 1/2", "--frame", "short", "--frames", "4", "--out", str(iq),
                 "--save-ts", str(ts), "--json", *wf]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["waveform"]["samples_per_symbol"] == 64 and d["samples"] == np.fromfile(iq, np.complex64).size
    got = tmp_path / "rx.ts"
    assert main(["dvbs2", "rx", "--in", str(iq), "--ts-out", str(got), "--json", "--modcod", "QPSK 1/2", "--frame",
                 "short", *wf]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["frames"] == 4 and r["frame_errors"] == 0 and r["despreader"]["despreader_acquisitions"] == 1
    sent = ts.read_bytes()
    assert got.read_bytes() == sent[: len(got.read_bytes())] and len(got.read_bytes()) >= 188 * 14
    # another code seed despreads nothing
    assert main(["dvbs2", "rx", "--in", str(iq), "--json", "--modcod", "QPSK 1/2", "--frame", "short",
                 *[a if a != "3" else "4" for a in wf]]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 0


def test_cli_ber_with_spreading_and_a_jammer(capsys):
    assert main(["dvbs2", "ber", "--modcod", "QPSK 1/2", "--frame", "short", "--esn0-db", "30", "--frames", "3",
                 "--spreading", "16", "--symbol-rate-baud", "10e3", "--jammer", "type=cw,js_db=8",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["fer"] == 0.0 and d["waveform"]["processing_gain_db"] == pytest.approx(12.041, abs=1e-3)
    assert d["esn0_est_db"] == pytest.approx(12.04 - 8, abs=0.6)  # the tone, despread, as noise


@pytest.mark.parametrize("args,words", [
    (["--spreading", "600"], "--spreading: 600 is out of range"),
    (["--hopping", "channels=4,spacing_hz=1e5"], "give dwell_s or dwell_frames"),
    (["--hopping", "channels=1,spacing_hz=1e5,dwell_s=0.1"], "--hopping: hopping channels"),
    (["--hopping", "channels=4,spacing_hz=1e5,dwell_s=0.1", "--sps", "2.5"], "--sps"),
    (["--jammer", "type=cw"], "js_db is missing"),
    (["--hopping", "channels=1024,spacing_hz=1e9,dwell_s=0.1", "--spreading", "512"], "samples per symbol"),
    (["--hopping", "channels=4,spacing_hz=nan,dwell_s=0.1"], "spacing_hz"),
    (["--spreading", "4", "--timing-offset", "0.3"], "--timing-offset"),
])
def test_cli_bad_waveform_options_one_line_exit_2(args, words):
    argv = [sys.executable, "-m", "linksim", "dvbs2", "ber", "--modcod", "QPSK 1/2", "--esn0-db", "3", *args]
    if "--sps" in args:  # the receiver takes a fractional sps, but not with hopping or spreading
        argv = [sys.executable, "-m", "linksim", "dvbs2", "rx", "--in", __file__, *args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
