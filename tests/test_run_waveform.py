"""Spread and hopped carriers through the GNU Radio run (TX, Timeline-driven channel with its jammers, RX with
dehopping, despreading and hop blanking): measured against the budget, and swept by a campaign."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from linksim.campaign.runner import run_campaign
from linksim.campaign.spec import load_spec
from linksim.report.data import check_run_dir
from linksim.run.loop import run_scenario
from linksim.scenario.model import load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.usefixtures("gr")
def test_spread_carrier_holds_where_the_plain_one_fails(tmp_path):
    """contested-x-spread: a CW tone 4.7 dB above the carrier. Spread by 16, every frame decodes and the receiver
    measures the budget's C/(N+I+J) (the despread tone counted as 1/16 of its power) within 0.5 dB; unspread, the
    budget says no MODCOD closes and no frame decodes."""
    s = load_scenario(ROOT / "scenarios/contested-x-spread.toml")
    sm = run_scenario(s, tmp_path / "spread", duration_s=2.0, seed=1, report=False)
    assert sm["frames_total"] >= 12 and sm["fer"] == 0.0
    assert abs(sm["esn0_bias_db"]) < 0.5
    assert sm["waveform"]["spreading_factor"] == 16 and sm["waveform"]["sample_rate_hz"] == 2e6
    s1 = load_scenario(ROOT / "scenarios/contested-x-spread.toml", {"carrier.spreading_factor": 1})
    sm1 = run_scenario(s1, tmp_path / "plain", duration_s=2.0, seed=1, report=False)
    assert sm1["frames_total"] >= 12 and sm1["frames_ok"] == 0 and sm1["predicted_goodput_bps_mean"] == 0.0
    assert abs(sm1["esn0_bias_db"]) < 0.5
    assert check_run_dir(tmp_path / "spread") == []


@pytest.mark.usefixtures("gr")
def test_hopper_against_a_follower_loses_what_the_budget_says(tmp_path):
    """contested-x-hopping: dwell 2 PLFRAMEs, a follower that lands 0.25 s (1.5 frames) into each hop: the second
    frame of every dwell is lost, the budget's hop_loss_fraction 0.5."""
    s = load_scenario(ROOT / "scenarios/contested-x-hopping.toml")
    sm = run_scenario(s, tmp_path, duration_s=3.0, seed=1, report=False)
    n = sm["frames_total"]
    assert n >= 16
    assert abs(sm["fer"] * n - 0.5 * n) <= 2
    head, *frames = (tmp_path / "frames.csv").read_text().splitlines()
    col = head.split(",")
    rows = [dict(zip(col, r.split(","), strict=True)) for r in frames]
    ok = [int(r["ok"]) for r in rows if float(r["share"]) > 0]  # the frames in the run's window, from t = 0
    # the frame that starts each hop (even frames: hops fall on frame boundaries from scenario time 0) decodes
    assert sum(ok[0::2]) >= len(ok[0::2]) - 1 and sum(ok[1::2]) <= 1
    assert json.loads((tmp_path / "summary.json").read_text())["waveform"]["hop_channels"] == 8


@pytest.mark.usefixtures("gr")
def test_campaign_sweeps_spreading_factor(tmp_path):
    """The shipped spreading campaign, two points of it: the CW jammer at 0 dBW takes QPSK 1/2 down unspread and
    not spread by 16."""
    spec = load_spec(ROOT / "campaigns/contested-x-spreading.toml")
    body = (ROOT / "campaigns/contested-x-spreading.toml").read_text()
    body = body.replace('"carrier.spreading_factor" = [1, 4, 16]', '"carrier.spreading_factor" = [1, 16]')
    body = body.replace('"jammer.0.eirp_dbw" = [-20.0, -12.0, -6.0, 0.0, 6.0]', '"jammer.0.eirp_dbw" = [0.0]')
    body = body.replace("duration_s = 2.0", "duration_s = 1.0").replace(
        'base = "../scenarios/contested-x-spread.toml"', f'base = "{ROOT / "scenarios/contested-x-spread.toml"}"')
    small = tmp_path / "small.toml"
    small.write_text(body)
    assert len(spec.points) == 15
    res = run_campaign(small, tmp_path / "out", workers=1, progress=None, figures=False)
    assert (res.points, res.done, res.failed) == (2, 2, 0)
    con = sqlite3.connect(tmp_path / "out" / "campaign.sqlite")
    got = dict(con.execute('SELECT "carrier.spreading_factor", goodput_bps_mean FROM runs').fetchall())
    con.close()
    assert got[1] == 0.0 and got[16] > 30e3


@pytest.mark.usefixtures("gr")
def test_split_hopped_run_equals_in_process(tmp_path):
    """The hopping scenario split over ZMQ: the receive half knows the hop timing from the plan both halves share
    (the channel's latency and delay), and measures what the in-process run measures, frame by frame."""
    from test_split import frames, free_base_port, start_tx

    from linksim.run.split import SplitLink, run_rx_half

    scen = "scenarios/contested-x-hopping.toml"
    s = load_scenario(ROOT / scen)
    base = free_base_port()
    tx = start_tx(str(ROOT / scen), base, "--duration", "2.2", "--seed", "11", "--ccm")
    try:
        sm = run_rx_half(s, tmp_path / "split", SplitLink.on_host("127.0.0.1", base), duration_s=2.2, seed=11,
                         acm=False, report=False)
        _, err = tx.communicate(timeout=300)
    finally:
        tx.kill()
    assert tx.returncode == 0, err
    ref = run_scenario(s, tmp_path / "local", duration_s=2.2, seed=11, acm=False, report=False)
    a, b = frames(tmp_path / "split"), frames(tmp_path / "local")
    assert len(a) == len(b) >= 12
    for fa, fb in zip(a, b, strict=True):
        assert [fa[k] for k in ("time_s", "sample_index", "ok", "found")] == [fb[k] for k in
                                                                             ("time_s", "sample_index", "ok", "found")]
        # float32 filters (decimation, despreading) over the chunks each side was handed: the MER moves a little
        if fa["esn0_est_db"] and fb["esn0_est_db"]:
            assert float(fa["esn0_est_db"]) == pytest.approx(float(fb["esn0_est_db"]), abs=0.05)
    assert sm["frames_ok"] == ref["frames_ok"] > 0 and sm["mode"] == "split"


def test_traffic_runs_refuse_a_spread_or_hopped_carrier():
    """IP traffic rides linksim.gr.ip's plain transmit chain: a spread or hopped scenario is one line naming the
    key, before any namespace or device is touched."""
    from linksim.errors import InputError
    from linksim.run.traffic import check_plain_carrier

    with pytest.raises(InputError, match=r"^carrier\.spreading_factor 16: --traffic"):
        check_plain_carrier(load_scenario(ROOT / "scenarios/contested-x-spread.toml"))
    with pytest.raises(InputError, match=r"^carrier\.hopping: --traffic"):
        check_plain_carrier(load_scenario(ROOT / "scenarios/contested-x-hopping.toml"))
    check_plain_carrier(load_scenario(ROOT / "scenarios/contested-x-spread.toml", {"carrier.spreading_factor": 1}))
