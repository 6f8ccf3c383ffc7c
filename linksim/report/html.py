"""The report of a run: PNG figures and one self-contained HTML page (figures embedded as base64 data URIs).

`build_report(run_dir)` reads a run directory (see linksim.report.data), writes `overview.png`,
`goodput_vs_esn0.png`, `frame_esn0_hist.png` (when frames.csv has rows) and `report.html` into it, and returns
the path of report.html. The page holds the scenario (site, satellite and orbit, band, waveform, weather,
jammers), a results table, the figures, the places where the measurement departs from the budget (bins where
|measured - predicted Es/N0| > 1 dB or goodput differs from the prediction by more than 10 %), the consistency
checks of the run directory, the run's notes and the software versions.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..files import AtomicOutput
from . import plots as report_plots
from .data import AVAILABLE_FER, RunData, check_run, load_run_dir
from .gap import ESN0_TOL_DB, GOODPUT_TOL_PCT, BinGaps, GapInterval, bin_gaps, gap_intervals
from .payload import satellite_section

MAX_GAP_ROWS = 60
MAX_BIN_ROWS = 2000
FIGURES = ("overview.png", "goodput_vs_esn0.png", "frame_esn0_hist.png")

# ------------------------------------------------------------------------------------------------ formatting


def _isnum(v: Any) -> bool:
    return isinstance(v, int | float | np.floating | np.integer) and not isinstance(v, bool)


def fmt(v: Any, unit: str = "", digits: int = 2, signed: bool = False) -> str:
    """A number with its unit ('n/a' for missing/NaN)."""
    if not _isnum(v) or math.isnan(float(v)):
        return "n/a"
    f = float(v)
    if math.isinf(f):
        return ("+" if f > 0 else "-") + "inf"
    f = round(f, digits) + 0.0  # no "-0.00"
    s = f"{f:+.{digits}f}" if signed else f"{f:.{digits}f}"
    return f"{s} {unit}".strip() if unit and unit != "%" else s + unit


def fmt_bps(v: Any, digits: int = 3) -> str:
    if not _isnum(v) or math.isnan(float(v)):
        return "n/a"
    f = float(v)
    scale, unit = report_plots.bps_unit(abs(f))
    return f"{f / scale:.{digits}g} {unit}" if f != 0 else "0 bit/s"


def fmt_ratio(v: Any) -> str:
    """A ratio such as a frame error ratio: 4 decimals, or 3 significant digits below 1e-3."""
    if not _isnum(v) or math.isnan(float(v)):
        return "n/a"
    f = float(v)
    return "0" if f == 0 else f"{f:.2e}" if abs(f) < 1e-3 else f"{f:.4f}"


def fmt_duration(s: Any) -> str:
    if not _isnum(s) or not math.isfinite(float(s)):
        return "n/a"
    s = float(s)
    if s >= 3 * 3600:
        return f"{s:.0f} s ({s / 3600:.2f} h)"
    if s >= 600:
        return f"{s:.0f} s ({s / 60:.1f} min)"
    return f"{s:.3g} s"


def _e(x: Any) -> str:
    return html.escape(str(x))


class _Raw(str):
    """A table cell that is already HTML (not escaped)."""


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...] | None = None, cls: str = "") -> str:
    out = ["<div class='scroll'>" + (f'<table class="{cls}">' if cls else "<table>")]
    if header:
        out.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{c if isinstance(c, _Raw) else _e(c)}</td>" for c in r) + "</tr>")
    out.append("</table></div>")
    return "\n".join(out)


def _utc(r: RunData, t_s: float) -> str:
    from ..geometry.orbit import format_utc

    start = r.start_unix_s
    if start is None or not math.isfinite(t_s):
        return "n/a"
    return format_utc(round(start + t_s, 3)).replace("T", " ").replace("Z", " UTC")


# ------------------------------------------------------------------------------------------------ scenario

def band_name(freq_hz: float) -> str:
    """Letter band of a carrier frequency (IEEE 521 letters, with the satcom habit of calling 18-40 GHz Ka)."""
    bands = ((0.3e9, 1e9, "UHF"), (1e9, 2e9, "L"), (2e9, 4e9, "S"), (4e9, 8e9, "C"), (8e9, 12e9, "X"),
             (12e9, 18e9, "Ku"), (18e9, 40e9, "Ka"), (40e9, 75e9, "V"), (75e9, 110e9, "W"))
    for lo, hi, name in bands:
        if lo <= freq_hz < hi:
            return name
    return "VHF" if freq_hz < 0.3e9 else "?"


def orbit_text(sat: dict[str, Any], geom: dict[str, Any] | None) -> str:
    if geom:
        return (f"fixed geometry: elevation {fmt(geom.get('elevation_deg'), 'deg', 1)}, range "
                f"{fmt(geom.get('range_km'), 'km', 0)}")
    if _isnum(sat.get("geo_lon_deg")):
        lon = float(sat["geo_lon_deg"])
        lon = lon - 360.0 if lon > 180.0 else lon
        return f"GEO at {abs(lon):.1f} deg {'E' if lon >= 0 else 'W'}"
    tle = sat.get("tle") or []
    if len(tle) >= 2:
        l2 = tle[-1]
        try:
            inc = float(l2[8:16])
            ecc = float("0." + l2[26:33].strip())
            mm = float(l2[52:63])
        except ValueError:
            return "TLE orbit"
        period_h = 24.0 / mm
        kind = ("GEO" if abs(mm - 1.0027) < 0.05 and ecc < 0.05 else "HEO" if ecc > 0.25 else
                "LEO" if mm > 11.25 else "MEO")
        name = f" ({tle[0].strip()})" if len(tle) == 3 else ""
        return f"{kind} from TLE{name}: inclination {inc:.1f} deg, eccentricity {ecc:.3f}, period {period_h:.2f} h"
    return "n/a"


def _series(r: RunData, col: str) -> np.ndarray:
    a = r.num("timeline", col)
    return a[np.isfinite(a)]


def _range_text(a: np.ndarray, unit: str, digits: int = 1) -> str:
    if not a.size:
        return "n/a"
    lo, hi = round(float(np.min(a)), digits) + 0.0, round(float(np.max(a)), digits) + 0.0
    if lo == hi:
        return fmt(lo, unit, digits)
    return f"{lo:.{digits}f} to {hi:.{digits}f} {unit}"


def _weather_text(sc: dict[str, Any]) -> str:
    p = sc.get("propagation") or {}
    mode = p.get("mode", "statistical")
    rec = p.get("rec", "P.618-13")
    terms = [k for k in ("gas", "cloud", "rain", "scintillation") if p.get(k, True)]
    if mode == "clear_sky":
        text = "clear sky (median gas and cloud, no rain or scintillation)"
    elif mode == "timeseries":
        text = f"synthesized time series (ITU-R {rec} statistics, seed {p.get('seed', '?')})"
    else:
        text = f"statistical: losses exceeded {p.get('exceedance_pct', 1.0):g} % of the time (ITU-R {rec})"
    text += f"; terms: {', '.join(terms) if terms else 'none'}"
    iono = p.get("ionosphere")
    if iono:
        ref_ghz = fmt(float(iono.get("ref_freq_hz", 0.0)) / 1e9, "GHz", 2)
        text += (f"; ionospheric scintillation S4 = {iono.get('s4', 0)} at {ref_ghz}"
                 + (f" ({iono['preset']})" if iono.get("preset") else ""))
    return text


def _losses_text(r: RunData) -> str:
    """The range of each non-zero loss term over the timeline."""
    from .plots import LOSS_TERMS

    parts = []
    for col, label in LOSS_TERMS:
        a = _series(r, col)
        if a.size and np.max(np.abs(a)) > 0.0:
            parts.append(f"{label} {_range_text(a, 'dB', 2)}")
    return "losses: " + ("; ".join(parts) if parts else "none")


def _jammer_rows(r: RunData) -> list[tuple[Any, ...]]:
    rows = []
    sj = {str(j.get("name")): j for j in (r.summary.get("jammers") or []) if isinstance(j, dict)}
    for k, j in enumerate(r.scenario.get("jammer") or []):
        name = str(j.get("name", f"jammer {k}"))
        power = (f"EIRP {fmt(j['eirp_dbw'], 'dBW', 1)}" if _isnum(j.get("eirp_dbw")) else
                 f"fixed J/S {fmt(j.get('js_db'), 'dB', 1)}" if _isnum(j.get("js_db")) else "n/a")
        if j.get("track"):
            where = f"moving, {len(j['track'])}-point track"
        elif _isnum(j.get("lat_deg")) and _isnum(j.get("lon_deg")):
            where = f"{j['lat_deg']:.3f} N, {j['lon_deg']:.3f} E, {fmt(j.get('alt_m', 0.0), 'm', 0)}"
        else:
            where = "no position (bench J/S)"
        rng = _series(r, f"jammer_range_km[{name}]")
        off = _series(r, f"off_axis_deg[{name}]")
        if rng.size:
            where += f"; range {_range_text(rng, 'km', 1)}"
        act = r.num("timeline", f"active[{name}]") > 0.5
        js = r.num("timeline", f"js_db[{name}]")[act]
        js = js[np.isfinite(js)]
        stop = j.get("stop_s")
        window = f"{fmt(j.get('start_s', 0.0), 's', 0)} to {fmt(stop, 's', 0) if _isnum(stop) else 'end'}"
        js_text = (f"{np.mean(js):.1f} dB (min {np.min(js):.1f}, max {np.max(js):.1f})" if js.size else
                   "never active")
        sm = sj.get(name, {}).get("js_db_mean")
        bw = j.get("bandwidth_hz", 0.0)
        rows.append((name, j.get("type", "?") + (f", {fmt(bw / 1e6, 'MHz', 3)}" if _isnum(bw) and bw > 0 else ""),
                     j.get("target", "downlink"), power, where,
                     _range_text(off, "deg", 1) if off.size else "n/a", window, js_text,
                     fmt(sm, "dB", 1) if _isnum(sm) else "n/a"))
    return rows


def _scenario_section(r: RunData) -> str:
    sc = r.scenario
    if not sc:
        return "<p class='warn'>scenario.toml is missing: the scenario cannot be described.</p>"
    meta = sc.get("scenario") or {}
    site = sc.get("site") or {}
    term = sc.get("terminal") or {}
    sat = sc.get("satellite") or {}
    car = sc.get("carrier") or {}
    run = sc.get("run") or {}
    ch = sc.get("channel") or {}
    f = float(car.get("freq_hz", math.nan))
    acm = r.summary.get("acm", run.get("acm", False))
    rs = float(car.get("symbol_rate_baud", math.nan))
    mode = f"ACM (adaptive, margin {fmt(run.get('acm_margin_db'), 'dB', 1)})" if acm else "CCM (constant)"
    occupied = fmt(rs * (1 + float(car.get("rolloff", 0))) / 1e6, "MHz", 3)
    waveform = (f"DVB-S2, {mode}, configured MODCOD {car.get('modcod', '?')}, {car.get('frame', 'normal')} frames, "
                f"pilots {'on' if car.get('pilots', True) else 'off'}, {fmt(rs / 1e6, 'Msym/s', 3)}, roll-off "
                f"{car.get('rolloff', '?')}, occupied bandwidth {occupied}")
    term_text = (f"{fmt(term.get('antenna_diameter_m'), 'm', 2)} dish, efficiency {term.get('antenna_efficiency')}, "
                 f"{term.get('pattern', 'S.465')} side-lobe envelope, LNA "
                 + (fmt(term['noise_temp_k'], 'K', 0) if _isnum(term.get("noise_temp_k")) else
                    f"NF {fmt(term.get('noise_figure_db'), 'dB', 1)}")
                 + f", G/T {_range_text(_series(r, 'gt_dbk'), 'dB/K', 1)}")
    events = sc.get("antenna_event") or []
    ev_text = "; ".join(f"{e.get('type')} from {fmt(e.get('start_s'), 's', 0)} for {fmt(e.get('duration_s'), 's', 0)}"
                        for e in events) or "none"
    fading = ch.get("fading", "none")
    rows = [
        ("Site", f"{site.get('name') or '(unnamed)'}: {fmt(site.get('lat_deg'), 'deg N', 3)}, "
                 f"{fmt(site.get('lon_deg'), 'deg E', 3)}, {fmt(site.get('alt_m', 0.0), 'm', 0)} altitude"),
        ("Satellite", f"{sat.get('name') or '(unnamed)'}: {orbit_text(sat, sc.get('geometry'))}; EIRP "
                      f"{fmt(sat.get('eirp_dbw'), 'dBW', 1)}"
                      + (f", output back-off {fmt(sat.get('output_backoff_db'), 'dB', 1)}"
                         if sat.get("output_backoff_db") else "")),
        ("Geometry over the run", f"elevation {_range_text(_series(r, 'elevation_deg'), 'deg', 2)}; slant range "
                                  f"{_range_text(_series(r, 'slant_range_km'), 'km', 0)}; Doppler "
                                  f"{_range_text(_series(r, 'doppler_hz') / 1e3, 'kHz', 2)}"),
        ("Band", f"{band_name(f)} band, downlink {fmt(f / 1e9, 'GHz', 3)}"
                 + (f"; uplink {fmt(float(sc['uplink']['freq_hz']) / 1e9, 'GHz', 3)} (EIRP "
                    f"{fmt(sc['uplink'].get('eirp_dbw'), 'dBW', 1)}, "
                    f"{'bent pipe' if sc['uplink'].get('bent_pipe', True) else 'regenerative'})"
                    if sc.get("uplink") else "")),
        ("Terminal", term_text),
        ("Waveform", waveform),
        ("Weather and propagation", _weather_text(sc) + "; " + _losses_text(r)),
        ("Antenna events", ev_text),
        ("Channel", f"{ch.get('sps', '?')} samples/symbol; fast fading {fading}"
                    + (f" (K = {ch.get('rician_k_db')} dB)" if fading == "rician" else "")
                    + (f"; phase noise {fmt(ch['phase_noise_dbc_hz'], 'dBc/Hz', 0)} at 10 kHz"
                       if _isnum(ch.get("phase_noise_dbc_hz")) else "")),
        ("Scenario time", f"{_utc(r, 0.0)}, {fmt_duration(meta.get('duration_s'))}, budget step "
                          f"{fmt(meta.get('step_s'), 's', 3)}"),
    ]
    out = _table(rows, cls="kv")
    jr = _jammer_rows(r)
    if jr:
        out += "<h3>Jammers</h3>" + _table(jr, ("name", "type", "target", "power", "position", "off-axis angle",
                                                 "active (scenario time)", "J/S while active (budget)",
                                                 "J/S mean (summary)"))
        out += ("<p class='small'>J/S: in-band jammer-to-signal power ratio at the jammed receiver's input, from "
                "the jammer's EIRP, path and the terminal's antenna gain toward it (off-axis angle).</p>")
    else:
        out += "<p>No jammers.</p>"
    return out


# ------------------------------------------------------------------------------------------------ results

def _results_section(r: RunData) -> str:
    s = r.summary
    fo, ft = s.get("frames_ok"), s.get("frames_total")
    rows = [
        ("Mean goodput", fmt_bps(s.get("goodput_bps_mean")), "information bits decoded per second, mean over bins"),
        ("Predicted goodput", fmt_bps(_mean_or_nan(r.num("measured", "predicted_goodput_bps"))),
         "the budget's prediction for the same bins, mean"),
        ("Clear-sky goodput", fmt_bps(s.get("clear_sky_goodput_bps")), "this terminal without weather or jamming"),
        ("Predicted Es/N0", _predicted_text(r), "budget C/(N+I+J) over the scenario (timeline.csv)"),
        ("Degradation", fmt(s.get("degradation_pct"), "%", 1), "1 - mean / clear-sky goodput"),
        ("Availability", fmt(s.get("availability_pct"), "%", 1),
         f"share of measured bins with frame error ratio <= {s.get('availability_fer_max', AVAILABLE_FER):g}"),
        ("Frames good / total", f"{fo if _isnum(fo) else 'n/a'} / {ft if _isnum(ft) else 'n/a'}",
         "DVB-S2 PLFRAMEs"),
        ("Frame error ratio", fmt_ratio(s.get("fer")), "failed frames / frames"),
        ("Es/N0 bias", fmt(s.get("esn0_bias_db"), "dB", 2, signed=True),
         "mean over bins of measured minus predicted Es/N0"),
        ("Measured time", fmt_duration(float(np.sum(r.num("measured", "bin_s"))) if r.n_bins else 0.0),
         "scenario time inside the measurement bins"),
        ("Run span", fmt_duration(s.get("duration_s")), "scenario time the run was asked to cover"),
        ("Symbol rate", fmt(float(s["symbol_rate_baud"]) / 1e6, "Msym/s", 3) if _isnum(s.get("symbol_rate_baud"))
         else "n/a", f"{s.get('sps', '?')} samples per symbol"),
        ("Wall time / real-time factor",
         f"{fmt(s.get('wall_time_s'), 's', 1)} / {fmt(s.get('realtime_factor'), '', 2)}",
         "simulated time / wall-clock time"),
        ("Seed", str(s.get("seed", "n/a")), "same scenario and seed give identical results"),
    ]
    return _table(rows, ("quantity", "value", "meaning"), cls="results")


def _mean_or_nan(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(np.mean(a)) if a.size else math.nan


def _predicted_text(r: RunData) -> str:
    a = _series(r, "cnij_db")
    if not a.size:
        return "n/a"
    return f"mean {np.mean(a):.2f} dB, {_range_text(a, 'dB', 2)}"


def _headline(r: RunData) -> str:
    s = r.summary
    if not r.n_bins:
        return ""
    t0 = r.num("measured", "time_s")
    t1 = t0 + r.num("measured", "bin_s")
    covered = float(np.sum(t1 - t0))
    text = (f"Over {fmt_duration(covered)} of measured scenario time ({r.n_bins} bins) the terminal kept a mean "
            f"goodput of <b>{fmt_bps(s.get('goodput_bps_mean'))}</b> (budget prediction "
            f"{fmt_bps(_mean_or_nan(r.num('measured', 'predicted_goodput_bps')))})")
    if _isnum(s.get("clear_sky_goodput_bps")) and _isnum(s.get("degradation_pct")):
        text += (f", <b>{fmt(s.get('degradation_pct'), '%', 1)}</b> below its clear-sky "
                 f"{fmt_bps(s.get('clear_sky_goodput_bps'))}")
    text += (f"; availability {fmt(s.get('availability_pct'), '%', 1)}, frame error ratio {fmt_ratio(s.get('fer'))}"
             f", measured Es/N0 {fmt(s.get('esn0_bias_db'), 'dB', 2, signed=True)} from the budget on average.")
    return f"<p class='headline'>{text}</p>"


def _status_banner(r: RunData) -> str:
    s = r.summary
    status = s.get("status", "unknown")
    if not r.n_bins:
        return ("<div class='banner bad'>No measurements: the run stopped before its first measurement bin "
                "(measured.csv has no rows). Only the budget prediction is shown.</div>")
    if status == "partial":
        t0 = r.num("measured", "time_s")
        end = float(t0[-1] + r.num("measured", "bin_s")[-1])
        dur = (r.scenario.get("scenario") or {}).get("duration_s")
        return (f"<div class='banner warn'>PARTIAL RUN: the run was stopped before the end of the scenario. "
                f"{r.n_bins} bins were measured, up to scenario time {fmt(end, 's', 1)}"
                + (f" of {fmt(dur, 's', 0)}" if _isnum(dur) else "") + ". All numbers cover the measured part only."
                "</div>")
    if status == "complete":
        return "<div class='banner ok'>Complete run.</div>"
    return f"<div class='banner warn'>Run status {_e(status)!s} (expected complete or partial).</div>"


# ------------------------------------------------------------------------------------------------ gap

def _gap_section(r: RunData, gaps: BinGaps | None) -> str:
    if not r.n_bins or gaps is None:
        return "<p>No measured bins: nothing to compare with the prediction.</p>"
    esn0_tol_db, goodput_tol_pct = gaps.esn0_tol_db, gaps.goodput_tol_pct
    n = r.n_bins
    d = gaps.d_esn0_db[np.isfinite(gaps.d_esn0_db)]
    n_e = int(np.sum(gaps.esn0_flag))
    n_g = int(np.sum(gaps.goodput_flag))
    paras = []
    if d.size:
        paras.append(f"Es/N0: the receiver's estimate is within {esn0_tol_db:g} dB of the budget's C/(N+I+J) in "
                     f"{d.size - n_e} of {d.size} bins with an estimate (mean difference "
                     f"{np.mean(d):+.2f} dB, RMS {np.sqrt(np.mean(d ** 2)):.2f} dB, largest "
                     f"{d[np.argmax(np.abs(d))]:+.2f} dB).")
    else:
        paras.append("Es/N0: no bin has both a measured and a predicted value.")
    no_est = int(np.sum(~np.isfinite(r.num("measured", "esn0_est_db"))))
    if no_est:
        paras.append(f"{no_est} bin(s) have no Es/N0 estimate (no frame was acquired).")
    paras.append(f"Goodput: measured within {goodput_tol_pct:g} % of the prediction in {n - n_g} of {n} bins.")
    out = "".join(f"<p>{p}</p>" for p in paras)
    intervals = gap_intervals(r, gaps)
    if not intervals:
        return out + ("<p class='okline'>Measurement and prediction agree within these tolerances in every "
                      "measured bin.</p>")
    out += (f"<p>They disagree in {int(np.sum(gaps.flagged))} bin(s), grouped below into {len(intervals)} "
            "interval(s) of consecutive bins (shaded yellow in the overview). Differences are measured minus "
            "predicted.</p>")
    rows = [_gap_row(r, iv) for iv in intervals[:MAX_GAP_ROWS]]
    out += _table(rows, ("from (UTC)", "scenario time", "bins", "disagrees in", "MODCOD sent", "failed frames",
                         "Es/N0 difference, mean (largest)", "predicted goodput", "measured goodput",
                         "goodput difference, mean (largest)", "J/S during the interval"), cls="gap")
    if len(intervals) > MAX_GAP_ROWS:
        out += (f"<p class='small'>{len(intervals) - MAX_GAP_ROWS} more interval(s) not listed; see the per-bin "
                "table below or measured.csv.</p>")
    return out


def _gap_row(r: RunData, iv: GapInterval) -> tuple[Any, ...]:
    sl = slice(iv.first, iv.last + 1)
    sent = sorted({p for m in r.text("measured", "modcod")[sl] for p in str(m).split("+") if p})
    js = []
    for name in r.jammer_names:
        a = r.num("measured", f"js_db[{name}]")[sl]
        a = a[np.isfinite(a)]
        if a.size:
            js.append(f"{name} {np.mean(a):.1f} dB")
    if math.isinf(iv.d_goodput_pct_mean):
        dg = "measured > 0 where none predicted"
    else:
        dg = f"{iv.d_goodput_pct_mean:+.1f} % ({iv.d_goodput_pct_max:+.1f} %)"
    de = (f"{iv.d_esn0_db_mean:+.2f} dB ({iv.d_esn0_db_max:+.2f} dB)" if math.isfinite(iv.d_esn0_db_mean)
          else "no estimate")
    frames = r.num("measured", "frames")[sl]
    errors = r.num("measured", "frame_errors")[sl]
    errs = f"{np.nansum(errors):g} of {np.nansum(frames):g}"
    if any("+" in str(m) for m in r.text("measured", "modcod")[sl]):
        errs += " (ACM changed MODCOD within a bin)"
    return (_utc(r, iv.t_start_s), f"{iv.t_start_s:g} to {iv.t_end_s:g} s", iv.n_bins, " and ".join(iv.kinds),
            ", ".join(sent), errs, de, fmt_bps(iv.predicted_goodput_bps_mean), fmt_bps(iv.goodput_bps_mean), dg,
            "; ".join(js) or "none")


def _bins_table(r: RunData, g: BinGaps | None) -> str:
    if not r.n_bins or g is None:
        return ""
    t0 = r.num("measured", "time_s")
    cols = [r.num("measured", c) for c in ("bin_s", "frames", "frame_errors", "esn0_est_db", "predicted_esn0_db",
                                          "goodput_bps", "predicted_goodput_bps")]
    mc = r.text("measured", "modcod")
    rows = []
    for k in range(min(r.n_bins, MAX_BIN_ROWS)):
        flag = " &#9888;" if g.flagged[k] else ""
        rows.append((f"{t0[k]:g}", fmt(cols[0][k], "", 3), mc[k], f"{cols[1][k]:g}", f"{cols[2][k]:g}",
                     fmt(cols[3][k], "", 2), fmt(cols[4][k], "", 2), fmt(g.d_esn0_db[k], "", 2, signed=True),
                     fmt_bps(cols[5][k]), fmt_bps(cols[6][k]),
                     _Raw(_e(fmt(g.d_goodput_pct[k], "", 1, True)) + flag)))
    more = (f"<p class='small'>first {MAX_BIN_ROWS} of {r.n_bins} bins shown; all are in measured.csv.</p>"
            if r.n_bins > MAX_BIN_ROWS else "")
    return ("<details><summary>All measured bins (" + str(r.n_bins) + ")</summary>"
            + _table(rows, ("time (s)", "bin (s)", "MODCOD", "frames", "errors", "Es/N0 meas. (dB)",
                            "Es/N0 pred. (dB)", "diff (dB)", "goodput meas.", "goodput pred.", "diff (%)"),
                     cls="bins") + more + "</details>")


# ------------------------------------------------------------------------------------------------ page

CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1180px;margin:24px auto;
 padding:0 18px;color:#1b1f24;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.1em}h2{border-bottom:2px solid #d0d7de;padding-bottom:3px;margin-top:1.6em}
h3{margin-bottom:.3em}.sub{color:#57606a;margin-top:0}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}table.kv td:first-child,table.results td:first-child{font-weight:600;white-space:nowrap}
table.results td:nth-child(2){font-variant-numeric:tabular-nums;white-space:nowrap;font-weight:600}
table.bins td,table.gap td{font-variant-numeric:tabular-nums}.scroll{overflow-x:auto}
.banner{padding:8px 12px;border-radius:4px;margin:10px 0;font-weight:600}
.ok{background:#dafbe1;border:1px solid #4ac26b}.warn{background:#fff8c5;border:1px solid #d4a72c}
.bad{background:#ffebe9;border:1px solid #ff8182}.okline{color:#1a7f37;font-weight:600}
.headline{font-size:1.08em;background:#f6f8fa;padding:10px 12px;border-left:4px solid #0969da}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #d0d7de}figcaption{color:#57606a;font-size:.9em}
.small{color:#57606a;font-size:.88em}code{background:#f3f5f7;padding:1px 4px}
details summary{cursor:pointer;font-weight:600;margin:.5em 0}
"""


def _img(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<figure><img alt='{_e(path.name)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{caption}</figcaption></figure>")


def _versions(r: RunData) -> str:
    v = r.summary.get("versions")
    if not isinstance(v, dict) or not v:
        return "<p>No software versions recorded.</p>"
    return _table([(k, str(val)) for k, val in v.items()], ("component", "version"), cls="kv")


def _devices(r: RunData) -> str:
    dev = r.summary.get("devices")
    if not dev:
        return ""
    if isinstance(dev, dict):
        rows = [(k, json.dumps(v) if isinstance(v, dict | list) else str(v)) for k, v in dev.items()]
        return "<h3>Devices</h3>" + _table(rows, ("device", "metadata"), cls="kv")
    return f"<h3>Devices</h3><p>{_e(dev)}</p>"


def _notes(r: RunData, problems: list[str]) -> str:
    notes = [str(n) for n in (r.summary.get("notes") or [])]
    out = ("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>") if notes else "<p>No notes.</p>"
    out += "<h3>Consistency of the run directory</h3>"
    if problems:
        out += ("<p class='warn banner'>" + str(len(problems)) + " problem(s) found; the numbers above may not "
                "follow from the measurement files:</p><ul>" + "".join(f"<li>{_e(p)}</li>" for p in problems)
                + "</ul>")
    else:
        out += ("<p class='okline'>All checks passed: the summary's frame counts, FER, mean goodput, Es/N0 bias and "
                "degradation follow from measured.csv and frames.csv, and the predicted Es/N0 per bin matches "
                "timeline.csv.</p>")
    return out


def _traffic_section(r: RunData) -> list[str]:
    """IP traffic runs: application, PHY and predicted goodput on one time axis, and the traffic table."""
    from . import traffic as report_traffic

    (r.run_dir / report_traffic.FIGURE).unlink(missing_ok=True)
    sm = dict(r.summary)
    sm["jammer_windows"] = [list(w) for w in report_plots._jammer_windows(r)]  # noqa: SLF001 - shared shading
    fig = report_traffic.plot_traffic(r.run_dir, sm)
    if fig is None:
        return []
    return ["<h3>IP traffic</h3>", _table(report_traffic.traffic_rows(sm)),
            _img(fig, "IP traffic on the scenario's time axis: the application's goodput (the receiving socket, "
                      "per second), the IP goodput delivered to the terminal's TUN, the PHY goodput (data fields of "
                      "the frames decoded) and the budget's predicted goodput; red shading: a jammer is on. Below: "
                      "the round trip the TCP stack measures (or ping's), and TCP retransmits per second.")]


def build_report(run_dir: str | Path, *, esn0_tol_db: float = ESN0_TOL_DB,
                 goodput_tol_pct: float = GOODPUT_TOL_PCT) -> Path:
    """Write the figures and report.html into run_dir; return the path of report.html.

    Bins count as off the prediction where |measured - predicted Es/N0| > esn0_tol_db (dB) or the goodput differs
    from the predicted one by more than goodput_tol_pct (% of the prediction). Raises InputError if run_dir is not
    a run directory."""
    r = load_run_dir(run_dir)
    d = r.run_dir
    problems = check_run(r)
    gaps = bin_gaps(r, esn0_tol_db, goodput_tol_pct) if r.n_bins else None
    for name in FIGURES:  # a rebuilt report must not show a stale figure
        (d / name).unlink(missing_ok=True)
    ov = report_plots.plot_overview(r, d / "overview.png", gaps)
    gv = report_plots.plot_goodput_vs_esn0(r, d / "goodput_vs_esn0.png")
    fh = report_plots.plot_frame_esn0(r, d / "frame_esn0_hist.png")
    name = str(r.summary.get("scenario") or (r.scenario.get("scenario") or {}).get("name") or d.name)
    desc = (r.scenario.get("scenario") or {}).get("description", "")
    acm = r.summary.get("acm")
    figs = [_img(ov, "Budget (lines) and measurement (per-bin markers) on one time axis: geometry, each loss term "
                     "(free-space loss dotted, right axis), J/S per jammer (red shading: a jammer is on), the MODCOD "
                     "sent against the best the budget closes, predicted C/(N+I+J) against the receiver's Es/N0 "
                     "estimate, and predicted against measured goodput (yellow: bins off the prediction)."),
            _img(gv, "Measured goodput per bin against the receiver's Es/N0 estimate, with the budget's predictions, "
                     "Shannon's bound and the DVB-S2 Table 13 staircase (best MODCOD at its quasi-error-free "
                     "threshold, AWGN, normal frames). Right axis: information bits per symbol.")]
    traffic_parts = _traffic_section(r)
    if fh is not None:
        figs.append(_img(fh, "The receiver's Es/N0 estimate per frame (decoded and failed frames stacked, log "
                             "scale), with the DVB-S2 Table 13 quasi-error-free threshold of each MODCOD sent."))
    generated = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>linksim report: {_e(name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Link measurement report: {_e(name)}</h1>",
        f"<p class='sub'>{_e(desc)}</p>" if desc else "",
        f"<p class='sub'>Run directory <code>{_e(d.resolve())}</code>; seed {_e(r.summary.get('seed', 'n/a'))}; "
        f"{'ACM' if acm else 'CCM' if acm is not None else 'ACM/CCM n/a'}; "
        f"{_e(r.summary.get('mode', 'loopback'))}; report generated {generated} by linksim "
        f"{_e((r.summary.get('versions') or {}).get('linksim', ''))}.</p>",
        _status_banner(r), _headline(r),
        "<h2>Results</h2>", _results_section(r), *traffic_parts,
        "<h2>Scenario</h2>", _scenario_section(r), satellite_section(r),
        "<h2>Figures</h2>", *figs,
        "<h2>Gap between prediction and measurement</h2>",
        f"<p class='small'>A bin is listed where |measured - predicted Es/N0| &gt; {esn0_tol_db:g} dB or where "
        f"its goodput differs from the predicted goodput by more than {goodput_tol_pct:g} % of the prediction "
        "(and by more than one frame's information bits in the bin: a bin holds whole frames only). "
        "Predicted Es/N0 is the budget's C/(N+I+J) over the bin; measured Es/N0 is the receiver's estimate from "
        "the decoded frames.</p>",
        _gap_section(r, gaps), _bins_table(r, gaps),
        "<h2>Notes</h2>", _notes(r, problems),
        "<h2>Software versions</h2>", _versions(r), _devices(r),
        "</body></html>",
    ]
    out = d / "report.html"
    with AtomicOutput(out, "report") as o:  # whole or not at all
        o.tmp_path.write_text("\n".join(p for p in parts if p))
    return out
