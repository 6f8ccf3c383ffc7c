"""Run reports: consistency checks of a run directory, the gap analysis, the figures and the self-contained HTML.

The run directories are synthetic (tests/synthetic_run.py) but built from a real budget Timeline of a shipped
scenario, following the run-directory contract of `linksim run`; a known disagreement (Es/N0 estimates 2 dB low
and half the frames lost over 300-340 s) is injected so the report must find it, and no more.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, ROOT
from synthetic_run import Gap, write_run_dir

from linksim.budget.timeline import Timeline, compute_timeline
from linksim.cli import main
from linksim.report.data import RunData, check_run_dir, load_run_dir, read_csv_columns
from linksim.report.gap import bin_gaps, frame_quantum_bps, gap_intervals
from linksim.report.html import band_name, build_report, fmt_bps, fmt_ratio, orbit_text
from linksim.report.plots import run_window
from linksim.scenario.model import load_scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GAP = Gap(t_start_s=300.0, t_end_s=340.0, esn0_offset_db=-2.0, extra_loss=0.5)


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return compute_timeline(load_scenario(ROOT / "scenarios" / "arctic-horizon-jammer-acm.toml"))


@pytest.fixture(scope="module")
def run_with_gap(timeline: Timeline, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run_dir(timeline, tmp_path_factory.mktemp("run") / "gap", gap=GAP)


@pytest.fixture(scope="module")
def report(run_with_gap: Path) -> Path:
    return build_report(run_with_gap)


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    for f in ("report.html", "overview.png", "goodput_vs_esn0.png", "frame_esn0_hist.png"):
        (dst / f).unlink(missing_ok=True)
    return dst


def _edit_summary(d: Path, **changes: object) -> None:
    s = json.loads((d / "summary.json").read_text())
    for k, v in changes.items():
        if v is _DELETE:
            del s[k]
        elif callable(v):
            s[k] = v(s[k])
        else:
            s[k] = v
    (d / "summary.json").write_text(json.dumps(s))


_DELETE = object()


def _edit_csv(path: Path, column: str, row: int, fn: Callable[[str], str]) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    j = header.index(column)
    cells = lines[row + 1].split(",")
    cells[j] = fn(cells[j])
    lines[row + 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def _first_ok_frame(d: Path) -> int:
    return int(np.nonzero(read_csv_columns(d / "frames.csv")["ok"] == 1)[0][0])


# ------------------------------------------------------------------------------------------- consistency

def test_consistent_run_directory_passes(run_with_gap: Path) -> None:
    assert check_run_dir(run_with_gap) == []


@pytest.mark.parametrize("tamper, field", [
    (lambda d: _edit_summary(d, frames_total=lambda v: v + 1), "frames_total"),
    (lambda d: _edit_summary(d, frames_ok=lambda v: v - 1), "frames_ok"),
    (lambda d: _edit_summary(d, fer=lambda v: v * 1.01), "fer"),
    (lambda d: _edit_summary(d, goodput_bps_mean=lambda v: v * 1.001), "goodput_bps_mean"),
    (lambda d: _edit_summary(d, esn0_bias_db=lambda v: v + 0.05), "esn0_bias_db"),
    (lambda d: _edit_summary(d, degradation_pct=lambda v: v + 0.5), "degradation_pct"),
    (lambda d: _edit_summary(d, availability_pct=101.0), "availability_pct"),
    (lambda d: _edit_summary(d, availability_pct=lambda v: v - 1.0), "availability_pct"),
    (lambda d: _edit_summary(d, status="done"), "status"),
    (lambda d: _edit_summary(d, seed=_DELETE), "'seed'"),
    (lambda d: _edit_summary(d, jammers=[]), "jammers"),
    (lambda d: _edit_csv(d / "measured.csv", "predicted_esn0_db", 3, lambda c: f"{float(c) + 0.5:.6f}"),
     "predicted_esn0_db"),
    (lambda d: _edit_csv(d / "frames.csv", "ok", 10, lambda c: "0" if c == "1" else "1"), "frames.csv"),
    (lambda d: _edit_csv(d / "frames.csv", "info_bits", _first_ok_frame(d), lambda c: str(int(c) * 2)),
     "info_bits"),
    (lambda d: (d / "timeline.csv").unlink(), "timeline.csv is missing"),
])
def test_check_names_each_inconsistency(run_with_gap: Path, tmp_path: Path, tamper: Callable[[Path], None],
                                        field: str) -> None:
    d = _copy(run_with_gap, tmp_path)
    tamper(d)
    problems = check_run_dir(d)
    assert problems, f"tampering with {field} went unnoticed"
    assert any(field in p for p in problems), problems
    assert all("\n" not in p for p in problems)


def test_frame_totals_follow_from_measured_csv(run_with_gap: Path) -> None:
    """Independent recomputation of the summary's counts from the CSV files (not via check_run_dir)."""
    s = json.loads((run_with_gap / "summary.json").read_text())
    m = read_csv_columns(run_with_gap / "measured.csv")
    f = read_csv_columns(run_with_gap / "frames.csv")
    assert s["frames_total"] == int(m["frames"].sum()) == len(f["ok"])
    assert s["frames_ok"] == int((f["ok"] == 1).sum())
    assert s["fer"] == pytest.approx(m["frame_errors"].sum() / m["frames"].sum(), rel=1e-9)


def test_not_a_run_directory(tmp_path: Path) -> None:
    from linksim.errors import InputError

    with pytest.raises(InputError, match="does not exist"):
        check_run_dir(tmp_path / "nope")
    with pytest.raises(InputError, match="not a run directory"):
        build_report(tmp_path)


# ------------------------------------------------------------------------------------------- gap analysis

def test_gap_finds_exactly_the_injected_interval(run_with_gap: Path) -> None:
    r = load_run_dir(run_with_gap)
    g = bin_gaps(r)
    t = r.num("measured", "time_s")
    injected = (t >= GAP.t_start_s) & (t < GAP.t_end_s)
    assert np.array_equal(g.flagged, injected)
    (iv,) = gap_intervals(r, g)
    assert (iv.t_start_s, iv.t_end_s, iv.n_bins) == (300.0, 340.0, 4)
    assert iv.kinds == ("Es/N0", "goodput")
    # estimates offset by -2 dB (per-frame noise 0.2 dB averaged over ~300 frames per bin)
    assert iv.d_esn0_db_mean == pytest.approx(GAP.esn0_offset_db, abs=0.1)
    # half of the frames lost on top of a link that closes: goodput about 50 % below the prediction
    assert iv.d_goodput_pct_mean == pytest.approx(-100.0 * GAP.extra_loss, abs=8.0)
    # outside the interval the synthetic receiver agrees with the budget to a few hundredths of a dB
    assert np.all(np.abs(g.d_esn0_db[~injected]) < 0.2)


def test_gap_tolerances_are_parameters(run_with_gap: Path) -> None:
    r = load_run_dir(run_with_gap)
    assert not np.any(bin_gaps(r, esn0_tol_db=3.0, goodput_tol_pct=60.0).flagged)
    assert np.all(bin_gaps(r, esn0_tol_db=1e-6, goodput_tol_pct=1e-6).esn0_flag)


# ------------------------------------------------------------------------------------------- the report

def _png_ok(p: Path) -> None:
    import matplotlib.image

    b = p.read_bytes()
    assert b[:8] == PNG_MAGIC
    img = matplotlib.image.imread(p)
    assert img.shape[0] > 300 and img.shape[1] > 600
    assert float(np.std(img[..., :3])) > 0.05  # not a blank canvas


def test_report_files_and_figures(report: Path) -> None:
    d = report.parent
    assert report.name == "report.html"
    for name in ("overview.png", "goodput_vs_esn0.png", "frame_esn0_hist.png"):
        _png_ok(d / name)


def test_report_is_self_contained(report: Path) -> None:
    text = report.read_text()
    assert "<link" not in text and "<script" not in text
    assert not re.search(r"""(src|href)\s*=\s*['"](?!data:)""", text)
    imgs = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert len(imgs) == 3
    embedded = {base64.b64decode(i) for i in imgs}
    assert embedded == {(report.parent / n).read_bytes()
                        for n in ("overview.png", "goodput_vs_esn0.png", "frame_esn0_hist.png")}


def test_report_content(report: Path) -> None:
    d = report.parent
    text = report.read_text()
    s = json.loads((d / "summary.json").read_text())
    plain = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    for want in ("Link measurement report: arctic-horizon-jammer-acm", "Complete run", "Longyearbyen",
                 "GEO at 1.0 deg W", "Ka band, downlink 20.200 GHz", "8PSK 3/4", "ACM", "ridge", "barrage",
                 "EIRP -2.0 dBW", "rain", "Results", "Scenario", "Gap between prediction and measurement",
                 "Software versions", "3.10.5.1", "All checks passed"):
        assert want in plain, want
    assert fmt_bps(s["goodput_bps_mean"]) in plain
    assert fmt_bps(s["clear_sky_goodput_bps"]) in plain
    assert f"{s['degradation_pct']:.1f}%" in plain
    assert f"Frame error ratio {fmt_ratio(s['fer'])} " in plain and float(fmt_ratio(s["fer"])) == pytest.approx(
        s["fer"], rel=0.01)
    assert f"{s['esn0_bias_db']:+.2f} dB" in plain
    assert f"{s['frames_ok']} / {s['frames_total']}" in plain
    # the gap table lists the injected interval with its size and the jammer that was on (QPSK 3/5: ACM's choice at
    # the budget's 3.6 dB with P.618's low-elevation fading at 2.6 deg)
    row = re.search(r"<tr><td>2026-01-01 00:05:00 UTC</td><td>300 to 340 s</td><td>4</td><td>Es/N0 and goodput"
                    r"</td><td>QPSK 3/5</td><td>(\d+) of (\d+)</td><td>(-[0-9.]+) dB", text)
    assert row is not None and float(row.group(3)) == pytest.approx(-2.0, abs=0.1)
    m = read_csv_columns(d / "measured.csv")
    inside = (m["time_s"] >= 300.0) & (m["time_s"] < 340.0)
    assert (int(row.group(1)), int(row.group(2))) == (m["frame_errors"][inside].sum(), m["frames"][inside].sum())
    assert "They disagree in 4 bin(s)" in plain


def test_partial_run_is_reported_as_such(timeline: Timeline, tmp_path: Path) -> None:
    d = write_run_dir(timeline, tmp_path / "partial", n_bins=25, status="partial")
    assert check_run_dir(d) == []
    text = build_report(d).read_text()
    assert "PARTIAL RUN" in text and "up to scenario time 250.0 s of 600 s" in text
    _png_ok(d / "overview.png")


def test_dwell_mode_run(timeline: Timeline, tmp_path: Path) -> None:
    d = write_run_dir(timeline, tmp_path / "dwell", dwell_every_s=120.0)
    r = load_run_dir(d)
    assert list(r.num("measured", "time_s")) == [0.0, 120.0, 240.0, 360.0, 480.0]
    assert check_run_dir(d) == []
    text = build_report(d).read_text()
    assert "agree within these tolerances in every measured bin" in text
    _png_ok(d / "overview.png")


@pytest.mark.parametrize("empty", ["header", "zero_bytes"])
def test_run_stopped_before_first_bin(run_with_gap: Path, tmp_path: Path, empty: str) -> None:
    d = _copy(run_with_gap, tmp_path)
    m = d / "measured.csv"
    m.write_text(m.read_text().splitlines()[0] + "\n" if empty == "header" else "")
    (d / "frames.csv").write_text((d / "frames.csv").read_text().splitlines()[0] + "\n")
    _edit_summary(d, status="partial", frames_total=0, frames_ok=0, fer=None, goodput_bps_mean=None,
                  degradation_pct=None, availability_pct=None, esn0_bias_db=None, duration_s=0.0)
    assert check_run_dir(d) == []
    out = build_report(d)
    text = out.read_text()
    assert "No measurements" in text and "no measured bins" in text.lower()
    _png_ok(d / "overview.png")
    _png_ok(d / "goodput_vs_esn0.png")
    assert not (d / "frame_esn0_hist.png").exists()


# ------------------------------------------------------------------------------------------- helpers, CLI

def test_orbit_and_band_descriptions() -> None:
    lines = [ln.rstrip("\n") for ln in (DATA / "tles.txt").read_text().splitlines() if not ln.startswith("#")]
    tles = {lines[k].split()[0]: lines[k:k + 3] for k in range(0, len(lines) - 2, 3)}
    heo = orbit_text({"tle": tles["SYNTH-TAP-HEO"]}, None)
    # mean motion 1.50404703 rev/day: period 24 / 1.504 = 15.96 h; e = 0.5500629
    assert heo.startswith("HEO") and "inclination 63.4 deg" in heo and "eccentricity 0.550" in heo
    assert "period 15.96 h" in heo
    assert orbit_text({"tle": tles["SYNTH-TUNDRA"]}, None).startswith("HEO")  # e = 0.27, 1 rev/day
    assert orbit_text({"geo_lon_deg": 359.0}, None) == "GEO at 1.0 deg W"
    assert [band_name(f) for f in (0.4e9, 1.6e9, 7.5e9, 20.2e9, 30e9, 12.5e9)] == ["UHF", "L", "C", "Ka", "Ka", "Ku"]


def test_cli_report(run_with_gap: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = _copy(run_with_gap, tmp_path)
    _edit_summary(d, notes=["<script>alert(1)</script> & more"])  # text from files is escaped, never markup
    assert main(["report", str(d)]) == 0
    assert capsys.readouterr().out.strip() == f"report: {d / 'report.html'}"
    text = (d / "report.html").read_text()
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text
    assert main(["report", str(d), "--check"]) == 0
    assert capsys.readouterr().out.strip() == "run directory consistent"
    _edit_summary(d, frames_total=lambda v: v + 1)
    assert main(["report", str(d), "--check", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert len(out["problems"]) == 1 and out["problems"][0].startswith("summary.json: frames_total")
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("linksim: error: run directory")
    assert main(["report", str(d), "--esn0-tol", "0"]) == 2


def _tiny_run(measured: dict[str, list], duration_s: float, tl_end_s: float) -> RunData:
    tt = np.arange(0.0, tl_end_s + 0.5, 1.0)
    cols = {k: np.array(v, dtype=object if k == "modcod" else float) for k, v in measured.items()}
    return RunData(Path("."), {"duration_s": duration_s}, {"carrier": {"frame": "normal", "pilots": True}},
                   {"time_s": tt, "cnij_db": np.full(tt.size, 14.9)}, cols, {})


def test_goodput_gap_ignores_one_frame_quantisation() -> None:
    # 8PSK 3/4 normal frame: K_bch 48408 (EN 302 307-1 Table 5a) - 80-bit BBHEADER = 48328 bits; in a 0.5 s bin
    # one frame is 96.656 kbit/s. Predicted 544.4 kbit/s: 5 frames (-11 %) is within a frame, 4 frames (-29 %) not.
    r = _tiny_run({"time_s": [380.0, 380.5], "bin_s": [0.5, 0.5], "modcod": ["8PSK 3/4", "8PSK 3/4"],
                   "goodput_bps": [5 * 48328 / 0.5, 4 * 48328 / 0.5], "predicted_goodput_bps": [544381.25] * 2,
                   "esn0_est_db": [14.9, 14.9], "predicted_esn0_db": [14.9, 14.9]}, 8.0, 388.0)
    assert list(frame_quantum_bps(r)) == [96656.0, 96656.0]
    assert list(bin_gaps(r).goodput_flag) == [False, True]


def test_overview_spans_the_run() -> None:
    m = {"time_s": [380.0, 380.5], "bin_s": [0.5, 0.5], "modcod": ["8PSK 3/4"] * 2}
    assert run_window(_tiny_run(m, 8.0, 388.0)) == (380.0, 388.0)  # started 380 s into the scenario
    m = {"time_s": [0.0, 10.0], "bin_s": [10.0, 10.0], "modcod": ["8PSK 3/4"] * 2}
    assert run_window(_tiny_run(m, 600.0, 600.0)) == (0.0, 600.0)  # partial: the planned span, not the bins


def test_report_without_timeline_or_frames(run_with_gap: Path, tmp_path: Path) -> None:
    d = _copy(run_with_gap, tmp_path)
    (d / "timeline.csv").unlink()
    (d / "frames.csv").unlink()
    assert sorted(check_run_dir(d)) == ["frames.csv is missing", "timeline.csv is missing"]
    text = build_report(d).read_text()
    assert "timeline.csv is missing" in text and "frames.csv is missing" in text
    _png_ok(d / "overview.png")
    assert not (d / "frame_esn0_hist.png").exists()
