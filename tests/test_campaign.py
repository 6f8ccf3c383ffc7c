"""Campaigns (`linksim sweep`): spec validation, the runs table, resume, spec changes, worker death, Ctrl-C, Dask,
the standard figures, and one tiny real campaign through linksim.run.run_scenario.

The machinery tests use tests/campaign_runners.py:fake_run, a closed-form stand-in for run_scenario (no IQ), whose
goodput is symbol rate x Table 13 efficiency when the MODCOD closes; the integration test at the end runs the real
runner.
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linksim.campaign.db import CampaignDB, total_js_db
from linksim.campaign.plots import make_figures
from linksim.campaign.runner import load_spec, run_campaign
from linksim.cli import main
from linksim.errors import InputError
from linksim.scenario import modcods

ROOT = Path(__file__).parent.parent
TESTS = Path(__file__).parent
BASE = ROOT / "scenarios" / "contested-x-barrage.toml"  # 8PSK 3/4, one positioned barrage jammer, 1 Msym/s
FAKE = "campaign_runners:fake_run"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_spec(path: Path, body: str, base: Path | str = BASE) -> Path:
    path.write_text(f'base = "{base}"\n' + body)
    return path


def rows(out: Path, include_stale: bool = False) -> list[dict]:
    db = CampaignDB(out / "campaign.sqlite")
    try:
        return db.rows(include_stale)
    finally:
        db.close()


def calls(out: Path) -> list[str]:
    log = out / "calls.log"
    return log.read_text().split() if log.exists() else []


def env_with_tests() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(ROOT), env.get("PYTHONPATH", "")])
    return env


# -- spec validation --------------------------------------------------------------------------------------------
GRID = '[grid]\n"jammer.0.eirp_dbw" = [-30.0, -13.0]\n'


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (GRID + "[bogus]\nx = 1\n", "unknown key 'bogus'"),
        (GRID + "[run]\nduration_sec = 2.0\n", "unknown run option 'duration_sec'"),
        (GRID + "[run]\nduration_s = -1.0\n", "run.duration_s: expected a duration in seconds > 0"),
        (GRID + "[run]\nseed = 1.5\n", "run.seed: expected an integer seed"),
        (GRID + "[run]\nacm = \"yes\"\n", "run.acm: expected true or false"),
        ('[grid]\n"carrier.modcodd" = ["QPSK 1/2"]\n', "carrier.modcodd: unknown key"),
        ('[grid]\n"carier.modcod" = ["QPSK 1/2"]\n', "unknown section 'carier'"),
        ('[grid]\n"carrier.modcod" = ["QPSK 1/2", "QPSK 9/7"]\n', "point 2 (carrier.modcod='QPSK 9/7')"),
        ('[grid]\n"jammer.3.eirp_dbw" = [1.0]\n', "index '3' is out of range"),
        ('[grid]\n"jammer.0.eirp_dbw" = [-30.0, 500.0]\n', "jammer[0].eirp_dbw: 500.0 is out of range"),
        ('[grid]\n"jammer.0.eirp_dbw" = []\n', "empty list"),
        ('[grid]\n"jammer.0.eirp_dbw" = 5.0\n', "expected a list of values"),
        ('[grid]\n"jammer.0.eirp_dbw" = [1.0, 1.0]\n', "listed twice"),
        ('[grid]\nseed = [1, 2]\n[run]\nseed = 3\n', "also set in [run]"),
        ('[grid]\n"run.acm" = [true, false]\n[run]\nacm = true\n', "overrides it"),
        ('[grid]\nprogress = [1]\n', "set by the campaign itself"),
        ('[[point]]\n"jammer.0.eirp_dbw" = "high"\n', "point 1 (jammer.0.eirp_dbw=high)"),
        ("[[point]]\n", "point[0]: empty point"),
        ('[[point]]\n"jammer.0.js_db" = 3.0\n', "give js_db alone"),
        ("retries = 9\n" + GRID, "retries: expected an integer 0..5"),
    ],
)
def test_bad_spec_is_one_clear_input_error(tmp_path: Path, body: str, fragment: str) -> None:
    spec = write_spec(tmp_path / "bad.toml", body)
    with pytest.raises(InputError) as e:
        load_spec(spec, runner=FAKE)
    msg = str(e.value)
    assert fragment in msg
    assert "\n" not in msg


def test_missing_base_and_runner_are_input_errors(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.toml", GRID, base="no-such-scenario.toml")
    with pytest.raises(InputError, match="base: no such scenario file 'no-such-scenario.toml'"):
        load_spec(spec, runner=FAKE)
    (tmp_path / "nobase.toml").write_text(GRID)
    with pytest.raises(InputError, match="base: required key is missing"):
        load_spec(tmp_path / "nobase.toml", runner=FAKE)
    with pytest.raises(InputError, match="no such campaign spec file"):
        load_spec(tmp_path / "absent.toml", runner=FAKE)
    with pytest.raises(InputError, match="cannot be imported"):
        load_spec(write_spec(tmp_path / "ok.toml", GRID), runner="no_such_module:run")


def test_cli_bad_spec_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "bad.toml", '[grid]\n"carrier.modcod" = ["QPSK 1/2", "QPSK 9/7"]\n')
    rc = main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--runner", FAKE])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("linksim: error: ") and err.count("\n") == 1 and "QPSK 9/7" in err
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was created


def test_points_expand_in_spec_order_with_relative_base(tmp_path: Path) -> None:
    (tmp_path / "scen").mkdir()
    (tmp_path / "scen" / "base.toml").write_text(BASE.read_text())
    spec = write_spec(tmp_path / "s.toml", (
        '[grid]\n"jammer.0.eirp_dbw" = [-30.0, -13.0]\n"carrier.modcod" = ["QPSK 1/2", "8PSK 3/4", "16APSK 3/4"]\n'
        '[[point]]\n"jammer.0.type" = "cw"\n"jammer.0.bandwidth_hz" = 0.0\nseed = 7\n'
        '[[point]]\n"jammer.0.eirp_dbw" = -30.0\n"carrier.modcod" = "QPSK 1/2"\n'  # the same run as grid point 1
        "[run]\nduration_s = 2.0\n"), base="scen/base.toml")
    s = load_spec(spec, runner=FAKE)
    assert s.base_path == (tmp_path / "scen" / "base.toml").resolve()
    assert len(s.points) == 2 * 3 + 1 and s.duplicates == 1
    assert [p.params for p in s.points[:3]] == [
        {"jammer.0.eirp_dbw": -30.0, "carrier.modcod": m} for m in ("QPSK 1/2", "8PSK 3/4", "16APSK 3/4")]
    assert s.points[3].params["jammer.0.eirp_dbw"] == -13.0
    last = s.points[-1]
    assert last.scenario.jammers[0].type == "cw" and last.run_options == {"duration_s": 2.0, "seed": 7}
    assert s.keys == ["jammer.0.eirp_dbw", "carrier.modcod", "jammer.0.type", "jammer.0.bandwidth_hz", "seed"]
    assert len({p.hash for p in s.points}) == len(s.points)


CASES = ('[grid]\n"jammer.0.eirp_dbw" = [-30.0, -13.0]\n'
         '[[grid.case]]\nname = "cw"\n"jammer.0.type" = "cw"\n"jammer.0.bandwidth_hz" = 0.0\n'
         '[[grid.case]]\nname = "partial"\n"jammer.0.type" = "partial_band"\n"jammer.0.fraction" = 0.3\n')


def test_grid_case_axis_varies_settings_together(tmp_path: Path) -> None:
    s = load_spec(write_spec(tmp_path / "s.toml", CASES + "[run]\nseed = 2\n"), runner=FAKE)
    assert len(s.points) == 4
    assert s.keys == ["jammer.0.eirp_dbw", "case", "jammer.0.type", "jammer.0.bandwidth_hz", "jammer.0.fraction"]
    p = s.points[1]
    assert p.params == {"jammer.0.eirp_dbw": -30.0, "case": "partial", "jammer.0.type": "partial_band",
                        "jammer.0.fraction": 0.3}
    assert p.label() == "jammer.0.eirp_dbw=-30 case=partial" and p.run_options == {"seed": 2}
    assert [(q.scenario.jammers[0].type, q.scenario.jammers[0].bandwidth_hz) for q in s.points] == [
        ("cw", 0.0), ("partial_band", 2.0e6), ("cw", 0.0), ("partial_band", 2.0e6)]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('[grid]\n"jammer.0.eirp_dbw" = [1.0]\n[[grid.case]]\n"jammer.0.type" = "cw"\n', "needs a non-empty name"),
        ('[[grid.case]]\nname = "a"\n[[grid.case]]\nname = "a"\n', "case 'a' is listed twice"),
        ('[grid]\n"jammer.0.type" = ["cw"]\n[[grid.case]]\nname = "a"\n"jammer.0.type" = "cw"\n', "also a [grid] key"),
        ('[[grid.case]]\nname = "a"\n"jammer.0.type" = "laser"\n', "'laser' is not one of"),
        ('[[grid.case]]\nname = "a"\nspeed = 3\n', "unknown run option 'speed'"),
    ],
)
def test_bad_grid_case_is_input_error(tmp_path: Path, body: str, fragment: str) -> None:
    with pytest.raises(InputError) as e:
        load_spec(write_spec(tmp_path / "bad.toml", body), runner=FAKE)
    assert fragment in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("path", sorted((ROOT / "campaigns").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_campaign_specs_validate(path: Path) -> None:
    s = load_spec(path)  # against the real runner's keywords
    assert s.points and s.base_path.is_file() and s.description
    assert s.name == path.stem


# -- running, the database, resume ------------------------------------------------------------------------------
def test_campaign_rows_resume_and_figures(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "js.toml", (
        '[grid]\n"jammer.0.eirp_dbw" = [-30.0, -16.0, -13.0]\n"carrier.modcod" = ["QPSK 1/2", "8PSK 3/4"]\n'
        "[run]\nduration_s = 1.0\nseed = 3\n"))
    out = tmp_path / "out"
    lines: list[str] = []
    res = run_campaign(spec, out, workers=2, runner=FAKE, progress=lines.append)
    assert (res.points, res.done, res.failed, res.pending, res.ran) == (6, 6, 0, 0, 6)
    assert sum(1 for ln in lines if " done " in ln) == 6  # one progress line per finished point
    con = sqlite3.connect(out / "campaign.sqlite")
    cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    for c in ("jammer.0.eirp_dbw", "carrier.modcod", "goodput_bps_mean", "fer", "availability_pct",
              "degradation_pct", "esn0_bias_db", "frames_total", "frames_ok", "clear_sky_goodput_bps", "status",
              "error", "run_dir", "started_utc", "finished_utc", "point_hash"):
        assert c in cols
    got = con.execute('SELECT "jammer.0.eirp_dbw", "carrier.modcod", goodput_bps_mean, fer, js_db, status, '
                      "run_dir, seq FROM runs ORDER BY seq").fetchall()
    con.close()
    assert [g[:2] for g in got] == [(e, m) for e in (-30.0, -16.0, -13.0) for m in ("QPSK 1/2", "8PSK 3/4")]
    for eirp, modcod, goodput, fer, js_db, status, run_dir, _ in got:
        assert status == "done"
        # each row carries its own point's result: goodput = Rs x eta_pilots (Table 13) x (1 - FER)
        eta = modcods.get(modcod).eta_pilots
        assert goodput == pytest.approx(1.0e6 * eta * (1.0 - fer), rel=1e-12)
        assert js_db == pytest.approx(eirp + 10.0, abs=1e-9)  # the summary's jammers[].js_db_mean
        summary = json.loads((Path(run_dir) / "summary.json").read_text())
        assert summary["seed"] == 3 and summary["duration_s"] == 1.0
    # QPSK 1/2 (QEF 1.00 dB) closes at every J/S here; 8PSK 3/4 (QEF 7.91 dB) only at the lowest
    assert [g[3] for g in got] == [0.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    with (out / "campaign.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [(float(r["jammer.0.eirp_dbw"]), r["carrier.modcod"], float(r["goodput_bps_mean"])) for r in table] == [
        (g[0], g[1], g[2]) for g in got]
    figs = {p.name: p for p in res.figures}
    assert set(figs) == {"goodput_vs_js.png", "efficiency_vs_esn0.png"}
    for p in figs.values():
        assert p.read_bytes()[:8] == PNG_MAGIC and p.stat().st_size > 10_000

    # Resume: the same spec into the same directory runs nothing again.
    n_calls = len(calls(out))
    res2 = run_campaign(spec, out, workers=1, runner=FAKE, progress=None, figures=False)
    assert (res2.skipped_done, res2.ran, res2.new, res2.done) == (6, 0, 0, 6)
    assert len(calls(out)) == n_calls == 6


def test_spec_change_adds_points_and_marks_stale(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = tmp_path / "s.toml"
    write_spec(spec, '[grid]\n"jammer.0.eirp_dbw" = [-30.0, -20.0]\n')
    run_campaign(spec, out, workers=1, runner=FAKE, progress=None, figures=False)
    assert len(calls(out)) == 2
    # One more value: only the new point runs.
    write_spec(spec, '[grid]\n"jammer.0.eirp_dbw" = [-30.0, -20.0, -13.0]\n')
    lines: list[str] = []
    res = run_campaign(spec, out, workers=1, runner=FAKE, progress=lines.append, figures=False)
    assert (res.new, res.ran, res.done, res.spec_changed) == (1, 1, 3, True)
    assert len(calls(out)) == 3 and any("spec changed" in ln for ln in lines)
    # A new key whose only value is the base's (8PSK 3/4) changes no run: nothing new, the column is filled in.
    write_spec(spec, '[grid]\n"jammer.0.eirp_dbw" = [-30.0, -20.0, -13.0]\n"carrier.modcod" = ["8PSK 3/4"]\n')
    res = run_campaign(spec, out, workers=1, runner=FAKE, progress=None, figures=False)
    assert (res.new, res.ran, res.stale) == (0, 0, 0) and len(calls(out)) == 3
    assert [r["carrier.modcod"] for r in rows(out)] == ["8PSK 3/4"] * 3
    # Dropping values keeps their rows, marked stale, and runs nothing.
    write_spec(spec, '[grid]\n"jammer.0.eirp_dbw" = [-30.0]\n"carrier.modcod" = ["8PSK 3/4"]\n')
    res = run_campaign(spec, out, workers=1, runner=FAKE, progress=None, figures=False)
    assert (res.points, res.stale, res.ran, res.done) == (1, 2, 0, 1)
    all_rows = rows(out, include_stale=True)
    assert sorted((r["jammer.0.eirp_dbw"], r["stale"], r["status"]) for r in all_rows) == [
        (-30.0, 0, "done"), (-20.0, 1, "done"), (-13.0, 1, "done")]
    con = sqlite3.connect(out / "campaign.sqlite")
    assert con.execute("SELECT COUNT(*) FROM spec_history").fetchone()[0] == 4
    con.close()
    # Another campaign into the same directory is refused before anything changes.
    other = write_spec(tmp_path / "other.toml", '[grid]\n"jammer.0.eirp_dbw" = [-30.0]\n')
    with pytest.raises(InputError, match="holds campaign 's', not 'other'"):
        run_campaign(other, out, workers=1, runner=FAKE, progress=None, figures=False)
    assert len(rows(out, include_stale=True)) == 3


def test_worker_death_and_errors_do_not_lose_the_campaign(tmp_path: Path) -> None:
    marker = tmp_path / "crashed-once"
    spec = write_spec(tmp_path / "s.toml", (
        '[grid]\n"scenario.description" = ["", "crash", "raise", "crash-once:' + str(marker) + '"]\n'
        "seed = [1, 2]\n"))
    out = tmp_path / "out"
    lines: list[str] = []
    res = run_campaign(spec, out, workers=2, runner=FAKE, progress=lines.append, figures=False)
    by = {(r["scenario.description"].split(":")[0], r["seed"]): r for r in rows(out)}
    assert (res.points, res.done, res.failed, res.pending) == (8, 4, 4, 0)
    for seed in (1, 2):
        assert by[("", seed)]["status"] == "done"
        assert by[("crash", seed)]["status"] == "failed"
        assert "worker process died" in by[("crash", seed)]["error"]
        assert by[("raise", seed)]["status"] == "failed"
        assert by[("raise", seed)]["error"] == "RuntimeError: synthetic runner failure"
        assert "synthetic runner failure" in (Path(by[("raise", seed)]["run_dir"]) / "error.txt").read_text()
    # crash-once: the first run killed its worker; the point was re-queued and then finished.
    once = [by[("crash-once", s)] for s in (1, 2)]
    assert sorted(r["status"] for r in once) == ["done", "done"]
    n = {h: calls(out).count(h) for h in {Path(r["run_dir"]).name for r in by.values()}}
    for seed in (1, 2):
        assert n[Path(by[("crash", seed)]["run_dir"]).name] >= 2  # run once more (retries = 1), then failed
        # a Python error is not retried; a point that was running beside a worker that died is re-queued once
        # (a process pool loses every task in flight when one of its workers dies), so it may have run twice
        assert n[Path(by[("raise", seed)]["run_dir"]).name] in (1, 2)
    assert any("requeue" in ln for ln in lines)
    # A re-run leaves failed points alone; --retry-failed runs them again.
    res = run_campaign(spec, out, workers=1, runner=FAKE, progress=None, figures=False)
    assert res.ran == 0 and res.failed == 4


def test_retry_failed_runs_failed_points_again(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.toml", '[grid]\n"scenario.description" = ["", "raise"]\n')
    out = tmp_path / "out"
    res = run_campaign(spec, out, workers=1, runner=FAKE, progress=None, figures=False)
    assert (res.done, res.failed) == (1, 1) and len(calls(out)) == 2
    res = run_campaign(spec, out, workers=1, runner=FAKE, progress=None, figures=False, retry_failed=True)
    assert (res.ran, res.done, res.failed) == (1, 1, 1) and len(calls(out)) == 3
    failed = [r for r in rows(out) if r["status"] == "failed"]
    assert failed[0]["attempts"] == 2 and failed[0]["error"] == "RuntimeError: synthetic runner failure"


def test_ctrl_c_leaves_a_consistent_database_and_resumes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.toml", '[grid]\n"scenario.description" = ["sleep:1.0"]\nseed = [1, 2, 3, 4]\n')
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "linksim", "sweep", str(spec), "--out", str(out), "--workers", "1",
           "--runner", FAKE, "--no-figures"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_with_tests())
    assert proc.stdout is not None
    t0 = time.monotonic()
    for line in proc.stdout:  # wait for the first finished point, then interrupt
        if "] done" in line:
            break
        assert time.monotonic() - t0 < 60.0
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    st = [r["status"] for r in rows(out)]
    assert "running" not in st and st.count("done") >= 1 and st.count("pending") >= 1
    assert st.count("done") + st.count("pending") == 4
    # Resume finishes only what was not done.
    done_before = {r["point_hash"] for r in rows(out) if r["status"] == "done"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env_with_tests(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert all(r["status"] == "done" for r in rows(out))
    assert f"{len(done_before)} already done" in proc.stdout


def test_total_js_is_the_power_sum_of_the_jammers() -> None:
    two = {"jammers": [{"name": "a", "js_db_mean": 0.0}, {"name": "b", "js_db_mean": 0.0}]}
    assert total_js_db(two, {}) == pytest.approx(10 * math.log10(2.0), abs=1e-12)
    assert total_js_db({}, {"jammer.0.js_db": -3.0}) == -3.0  # the swept value when the summary has none
    assert total_js_db({}, {"jammer.0.eirp_dbw": -3.0}) is None


def test_figures_skip_what_the_rows_cannot_show(tmp_path: Path) -> None:
    row = {"status": "done", "stale": 0, "goodput_bps_mean": 1e6, "js_db": None, "esn0_db_mean": 5.0,
           "symbol_rate_baud": 1e6, "pilots": 1, "modcod": "QPSK 1/2", "jammer_types": "", "acm": 0}
    made = make_figures([row], tmp_path / "figs")
    assert [p.name for p in made] == ["efficiency_vs_esn0.png"]
    assert make_figures([dict(row, status="failed")], tmp_path / "figs2") == []


# -- Dask -------------------------------------------------------------------------------------------------------
def test_dask_cluster_on_loopback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import dask
    from distributed import LocalCluster

    spec = write_spec(tmp_path / "s.toml", (
        'retries = 0\n[grid]\n"scenario.description" = ["", "crash"]\n"carrier.modcod" = ["QPSK 1/2", "8PSK 3/4"]\n'))
    out = tmp_path / "out"
    # allowed-failures = 0: a task whose worker dies is not retried by Dask (KilledWorker at once).
    # temporary-directory: Dask's scratch space inside tmp_path, not /tmp/dask-scratch-space
    with dask.config.set({"distributed.scheduler.allowed-failures": 0, "temporary-directory": str(tmp_path)}), \
            LocalCluster(processes=True, n_workers=1, threads_per_worker=1, host="127.0.0.1",
                         dashboard_address=None) as cluster:
        t0 = time.monotonic()
        rc = main(["sweep", str(spec), "--out", str(out), "--scheduler", cluster.scheduler_address,
                   "--runner", FAKE, "--no-figures"])
        assert time.monotonic() - t0 < 90.0
    text = capsys.readouterr().out
    assert rc == 1  # some points failed
    assert "Dask scheduler tcp://127.0.0.1:" in text
    by = {(r["scenario.description"], r["carrier.modcod"]): r for r in rows(out)}
    for m in ("QPSK 1/2", "8PSK 3/4"):
        assert by[("", m)]["status"] == "done"
        assert by[("", m)]["goodput_bps_mean"] == pytest.approx(1e6 * modcods.get(m).eta_pilots
                                                                * (1.0 - by[("", m)]["fer"]))
        assert by[("crash", m)]["status"] == "failed" and "Dask worker died" in by[("crash", m)]["error"]


def test_bad_scheduler_address_is_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "s.toml", GRID)
    rc = main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--scheduler", "localhost", "--runner", FAKE])
    assert rc == 2 and "expected an address like tcp://HOST:PORT" in capsys.readouterr().err


# -- a tiny real campaign through linksim.run.run_scenario ------------------------------------------------------
def test_real_campaign_through_run_scenario(gr, tmp_path: Path) -> None:
    from linksim.dvbs2.params import frame_params

    spec = write_spec(tmp_path / "real.toml", (
        '[grid]\n"carrier.modcod" = ["QPSK 1/2", "8PSK 3/4"]\n'
        "[run]\nduration_s = 0.3\nseed = 1\nreport = false\n"))
    out = tmp_path / "out"
    res = run_campaign(spec, out, workers=1, progress=None)  # the default runner, linksim.run:run_scenario
    assert (res.done, res.failed) == (2, 0)
    for r in rows(out):
        summary = json.loads((Path(r["run_dir"]) / "summary.json").read_text())
        # the row holds the run's own numbers
        for k in ("goodput_bps_mean", "fer", "frames_total", "frames_ok", "availability_pct", "esn0_bias_db"):
            assert r[k] == pytest.approx(summary[k], rel=1e-12), k
        assert r["js_db"] == pytest.approx(summary["jammers"][0]["js_db_mean"], abs=1e-9)
        # goodput against DVB-S2 Table 13: Rs x eta_pilots x (1 - FER), within 2 % and the +-1.5 frames a
        # 0.3 s run can gain or lose at its edges
        m = modcods.get(r["carrier.modcod"])
        fp = frame_params(m.name, "normal", True)
        rs = 1.0e6
        frame_bps = fp.data_field_bits / 0.3
        expected = rs * m.eta_pilots * (1.0 - r["fer"])
        assert r["frames_total"] >= 5
        assert abs(r["goodput_bps_mean"] - expected) <= 0.02 * expected + 1.5 * frame_bps
        # Es/N0 from measured.csv agrees with the summary's bias (measured minus predicted)
        assert r["esn0_db_mean"] - r["predicted_esn0_db_mean"] == pytest.approx(r["esn0_bias_db"], abs=0.05)
    assert {p.name for p in res.figures} == {"goodput_vs_js.png", "efficiency_vs_esn0.png"}
