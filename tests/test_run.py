"""End-to-end loopback runs: prediction and measurement close, jammers bite where the budget says, ACM adapts,
runs are reproducible and interruptible, and every shipped scenario runs in a short form."""

from __future__ import annotations

import csv
import json
import math
import threading

import pytest

from linksim.report.data import check_run_dir
from linksim.run.loop import run_scenario
from linksim.scenario import modcods
from linksim.scenario.model import list_shipped, load_scenario, scenario_from_dict


def bench(modcod: str = "QPSK 1/2", eirp_dbw: float = 40.0, jammers: list | None = None) -> dict:
    """A fixed-geometry X-band bench link at 1 Msym/s (Es/N0 about 13.6 dB at EIRP 40 dBW)."""
    d = {
        "scenario": {"name": "bench", "start": "2026-01-01T00:00:00Z", "duration_s": 10.0, "step_s": 1.0},
        "site": {"lat_deg": 60.0, "lon_deg": 10.0},
        "terminal": {"antenna_diameter_m": 1.2, "noise_temp_k": 100.0},
        "satellite": {"eirp_dbw": eirp_dbw},
        "geometry": {"elevation_deg": 30.0, "range_km": 38000.0},
        "carrier": {"freq_hz": 7.5e9, "symbol_rate_baud": 1.0e6, "modcod": modcod},
        "propagation": {"mode": "clear_sky", "gas": False, "cloud": False},
    }
    if jammers:
        d["jammer"] = jammers
    return d


def read_csv(path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.usefixtures("gr")
def test_clear_sky_closure(tmp_path):
    s = scenario_from_dict(bench("8PSK 3/4", eirp_dbw=34.0))
    sm = run_scenario(s, tmp_path, duration_s=2.0, seed=3)
    assert sm["status"] == "complete" and sm["frames_total"] >= 40
    # measured Es/N0 within 0.5 dB of the budget's
    assert abs(sm["esn0_bias_db"]) < 0.5
    # goodput within 2 % of symbol rate x eta_pilots x (1 - FER)
    eta = modcods.get("8PSK 3/4").eta_pilots
    bound = 1.0e6 * eta * (1.0 - sm["fer"])
    assert sm["goodput_bps_mean"] == pytest.approx(bound, rel=0.02)
    assert sm["fer"] == 0.0
    # every bin, the last one too, holds the frames that overlap it pro rata: exactly what fits in it, and no bin
    # carries more than the link (whole frames counted by their start put 46 frames in some 1 s bins, 45 in others)
    from linksim.dvbs2.params import frame_params

    per_s = 1.0e6 / frame_params("8PSK 3/4").plframe_symbols
    for r in read_csv(tmp_path / "measured.csv"):
        assert float(r["frames"]) == pytest.approx(per_s * float(r["bin_s"]), abs=1e-3)
        assert float(r["goodput_bps"]) <= 1.0e6 * eta * (1 + 1e-6)
    assert check_run_dir(tmp_path) == []
    for name in ("report.html", "summary.json", "measured.csv", "frames.csv", "timeline.csv", "scenario.toml"):
        assert (tmp_path / name).stat().st_size > 0
    assert any(p.stat().st_size > 10_000 for p in tmp_path.glob("*.png"))


@pytest.mark.usefixtures("gr")
def test_barrage_measured_esn0_tracks_cnij(tmp_path):
    """Under barrage noise the receiver's Es/N0 (MER) is the budget's C/(N+I+J), not its thermal Es/N0."""
    jam = [{"name": "b", "type": "barrage", "js_db": -6.0, "bandwidth_hz": 2.0e6}]
    s = scenario_from_dict(bench("QPSK 1/2", eirp_dbw=40.0, jammers=jam))
    sm = run_scenario(s, tmp_path, duration_s=1.5, seed=4)
    rows = read_csv(tmp_path / "measured.csv")
    pred = [float(r["predicted_esn0_db"]) for r in rows]
    meas = [float(r["esn0_est_db"]) for r in rows]
    thermal = float(read_csv(tmp_path / "timeline.csv")[0]["esn0_db"])
    assert all(abs(m - p) < 0.5 for m, p in zip(meas, pred, strict=True))
    assert thermal - pred[0] > 3.0  # the jammer costs several dB ...
    assert thermal - meas[0] > 3.0  # ... and the receiver sees it
    assert sm["fer"] == 0.0  # QPSK 1/2 still closes at about 6 dB


@pytest.mark.usefixtures("gr")
def test_jammer_breaks_ccm_and_acm_steps_down(tmp_path):
    """The horizon-jammer scenario at t = 250 s: 8PSK 3/4 (CCM) fails, ACM moves to a QPSK MODCOD that closes."""
    ccm = load_scenario("scenarios/arctic-horizon-jammer-ccm.toml")
    lines: list[str] = []
    sm = run_scenario(ccm, tmp_path / "ccm", every_s=250.0, dwell_s=1.0, seed=5, report=False,
                      progress=lines.append)
    # each stretch's line gives that stretch's figures, not the run's running totals (which would say FER 0.5
    # for the jammed second stretch)
    stretch_lines = [ln for ln in lines if ln.startswith("stretch ")]
    assert len(stretch_lines) == 3
    assert "FER 0.000" in stretch_lines[0] and "FER 1.000" in stretch_lines[1] and "goodput 0.0 kb/s" in \
        stretch_lines[1] and "FER 0.000" in stretch_lines[2]
    rows = read_csv(tmp_path / "ccm" / "measured.csv")
    jammed = [r for r in rows if 250.0 <= float(r["time_s"]) < 450.0]
    clear = [r for r in rows if float(r["time_s"]) < 200.0 or float(r["time_s"]) >= 450.0]
    assert jammed and clear
    assert all(float(r["frame_errors"]) == float(r["frames"]) for r in jammed)
    assert all(float(r["frame_errors"]) == 0 for r in clear)
    acm = load_scenario("scenarios/arctic-horizon-jammer-acm.toml")
    sa = run_scenario(acm, tmp_path / "acm", every_s=250.0, dwell_s=1.0, seed=5, report=False)
    rows = read_csv(tmp_path / "acm" / "measured.csv")
    jammed = [r for r in rows if 250.0 <= float(r["time_s"]) < 450.0]
    assert all(r["modcod"].startswith("QPSK") for r in jammed)
    assert all(float(r["frame_errors"]) == 0 for r in jammed)
    assert sa["goodput_bps_mean"] > sm["goodput_bps_mean"]
    assert sa["fer"] == 0.0


@pytest.mark.usefixtures("gr")
def test_same_seed_same_results(tmp_path):
    jam = [{"name": "c", "type": "cw", "js_db": -3.0, "offset_hz": 1e5}]
    s = scenario_from_dict(bench("QPSK 3/4", eirp_dbw=33.0, jammers=jam))
    run_scenario(s, tmp_path / "a", duration_s=1.0, seed=9, report=False)
    run_scenario(s, tmp_path / "b", duration_s=1.0, seed=9, report=False)
    # the channel's IQ is bit-identical and the receiver's reports do not depend on how GNU Radio cuts the stream:
    # the same bytes, Es/N0 estimates and LDPC iteration counts included
    assert len(read_csv(tmp_path / "a" / "frames.csv")) > 20
    for name in ("frames.csv", "measured.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.usefixtures("gr")
def test_interrupted_run_is_a_valid_partial_run(tmp_path):
    s = scenario_from_dict(bench())
    stop = threading.Event()
    calls = []

    def progress(msg: str) -> None:
        if msg.startswith("stretch"):
            calls.append(msg)
            stop.set()  # "Ctrl-C" after the first stretch

    with pytest.raises(KeyboardInterrupt):
        run_scenario(s, tmp_path, every_s=3.0, dwell_s=0.5, progress=progress, stop=stop, seed=1)
    sm = json.loads((tmp_path / "summary.json").read_text())
    assert sm["status"] == "partial" and sm["frames_total"] > 0
    assert len(calls) == 1
    assert check_run_dir(tmp_path) == []
    assert (tmp_path / "report.html").exists()


@pytest.mark.usefixtures("gr")
@pytest.mark.timeout(240)  # a hang guard (a sample-clock wait that cannot be met), not a speed target
@pytest.mark.parametrize("path", list_shipped(), ids=lambda p: p.stem)
def test_shipped_scenario_runs_short(path, tmp_path):
    s = load_scenario(path)
    # a short stretch from the first moment the satellite is up
    from linksim.budget import timeline as budget

    tl = budget.compute_timeline(s)
    start = float(tl.time_s[tl["visible"]][0])
    sm = run_scenario(s, tmp_path, start_s=start, duration_s=min(0.4, s.meta.duration_s - start), seed=2)
    assert sm["status"] == "complete"
    assert check_run_dir(tmp_path) == []
    html = (tmp_path / "report.html").read_text()
    assert s.name in html and "data:image/png;base64," in html
    assert sm["bins"] >= 1 and sm["frames_total"] > 0 and math.isfinite(sm["goodput_bps_mean"])


@pytest.mark.usefixtures("gr")
def test_ctrl_c_on_the_command_line_leaves_a_partial_run(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    p = subprocess.Popen([sys.executable, "-m", "linksim", "run", "scenarios/contested-x-cw.toml", "--every", "10",
                          "--dwell", "0.5", "--out", str(tmp_path)], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    t_end = time.monotonic() + 300
    for line in p.stderr:  # wait for the first stretch to be measured
        if "stretch 1/" in line or time.monotonic() > t_end:
            break
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "partial results in" in err and "Traceback" not in err
    sm = json.loads((tmp_path / "summary.json").read_text())
    assert sm["status"] == "partial" and sm["frames_total"] > 0
    assert check_run_dir(tmp_path) == []


def test_demo_script_on_a_checkout_without_runs(tmp_path):
    """README's main job, `bash scripts/demo.sh`, as on a fresh clone: the run directory's parent does not exist yet
    (`linksim run --out` refuses a missing parent, so the script makes it). Short dwells; the README's figures
    come from the full demo."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "runs" / "demo"  # tmp_path/runs does not exist
    r = subprocess.run(["bash", str(root / "scripts" / "demo.sh"), "--dwell", "0.3"], capture_output=True, text=True,
                       timeout=600, env=dict(os.environ, LINKSIM_DEMO_OUT=str(out)))
    assert r.returncode == 0, r.stderr[-2000:]
    assert (out / "report.html").is_file() and (out / "summary.json").is_file()
    assert f"report: {out}/report.html" in r.stdout
