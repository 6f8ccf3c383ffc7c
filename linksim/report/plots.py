"""PNG figures of a run directory (matplotlib, Agg backend): the overview on one time axis, goodput against
Es/N0 with the Shannon bound and the DVB-S2 Table 13 staircase, and per-frame Es/N0 statistics."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..plots import _pyplot, save_png, time_scale
from ..scenario import modcods
from .data import RunData
from .gap import BinGaps

LOSS_TERMS = (("gas_db", "gas"), ("cloud_db", "cloud"), ("rain_db", "rain"),
              ("scintillation_db", "tropospheric scint."), ("iono_scintillation_db", "ionospheric scint."),
              ("antenna_event_db", "antenna events"), ("atmospheric_db", "total atmospheric"))
JAM_SHADE = "#f4c7c3"
GAP_SHADE = "#ffe9a8"
C_PRED = "tab:blue"
C_MEAS = "tab:orange"


def bps_unit(max_bps: float) -> tuple[float, str]:
    """(bits/s per unit, unit) for an axis reaching max_bps."""
    if max_bps >= 1e6:
        return 1e6, "Mbit/s"
    if max_bps >= 1e3:
        return 1e3, "kbit/s"
    return 1.0, "bit/s"


def _symbol_rate(r: RunData) -> float:
    v = r.summary.get("symbol_rate_baud")
    if isinstance(v, int | float) and v > 0:
        return float(v)
    return float((r.scenario.get("carrier") or {}).get("symbol_rate_baud", np.nan))


def _pilots(r: RunData) -> bool:
    return bool((r.scenario.get("carrier") or {}).get("pilots", True))


def _eff(m: modcods.Modcod, pilots: bool) -> float:
    return m.efficiency(pilots)


def _modcod_parts(name: str) -> list[str]:
    return [p.strip() for p in str(name).split("+") if p.strip()]


def _jammer_windows(r: RunData) -> list[tuple[float, float]]:
    """Scenario-time intervals where any jammer is active (from the timeline's active[NAME] columns)."""
    t = r.num("timeline", "time_s")
    if not t.size:
        return []
    on = np.zeros(t.size, dtype=bool)
    for name in r.jammer_names:
        a = r.num("timeline", f"active[{name}]")
        on |= a > 0.5
    out = []
    k = 0
    step = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    while k < t.size:
        if on[k]:
            j = k
            while j + 1 < t.size and on[j + 1]:
                j += 1
            out.append((float(t[k]), float(t[j]) + step))
            k = j + 1
        else:
            k += 1
    return out


def run_window(r: RunData) -> tuple[float, float]:
    """The scenario-time span the run covers (s): from its first bin for summary duration_s (the planned span, so
    a partial run shows how far it got), clipped to the timeline; the whole timeline when nothing was measured."""
    tt = r.num("timeline", "time_s")
    t0 = r.num("measured", "time_s")
    t1 = t0 + r.num("measured", "bin_s")
    lo_tl = float(np.nanmin(tt)) if tt.size else math.nan
    hi_tl = float(np.nanmax(tt)) if tt.size else math.nan
    if not t0.size:
        return (lo_tl, hi_tl) if tt.size and hi_tl > lo_tl else (0.0, 1.0)
    start = float(np.nanmin(t0))
    end = float(np.nanmax(t1))
    dur = r.summary.get("duration_s")
    if isinstance(dur, int | float) and math.isfinite(dur) and dur > 0:
        end = max(end, start + float(dur))
    if tt.size:
        start, end = max(start, lo_tl), min(end, hi_tl) if hi_tl > start else end
        end = max(end, float(np.nanmax(t1)))
    if end <= start:
        end = start + 1.0
    return start, end


def _shade(axes: Any, windows: list[tuple[float, float]], unit_s: float, color: str, label: str | None) -> None:
    for ax in axes:
        for k, (a, b) in enumerate(windows):
            ax.axvspan(a / unit_s, b / unit_s, color=color, alpha=0.45, lw=0, zorder=0,
                       label=label if (k == 0 and ax is axes[0]) else None)


def _bins_hlines(ax: Any, t0: np.ndarray, t1: np.ndarray, y: np.ndarray, color: str, label: str,
                 predicted: bool = False) -> None:
    """Per-bin values: a segment over the bin (wide and pale for a prediction) and, for a measurement, a marker
    at its centre."""
    ok = np.isfinite(y)
    if not np.any(ok):
        return
    if predicted:  # a pale band over the bin, and a pale square that stays visible when bins are short
        ax.hlines(y[ok], t0[ok], t1[ok], color=color, lw=5, alpha=0.35)
        ax.plot(0.5 * (t0[ok] + t1[ok]), y[ok], ls="none", marker="s", ms=7 if ok.sum() < 200 else 4, alpha=0.35,
                color=color, mew=0, label=label)
        return
    ax.hlines(y[ok], t0[ok], t1[ok], color=color, lw=1.4)
    ax.plot(0.5 * (t0[ok] + t1[ok]), y[ok], ls="none", marker="o", ms=3.5 if ok.sum() < 200 else 2,
            color=color, label=label)


def _legend_out(ax: Any, twin: bool = False, handles: list[Any] | None = None,
                labels: list[str] | None = None) -> None:
    """Legend to the right of the panel (beyond a twin axis' labels when there is one)."""
    kw = {"loc": "upper left", "bbox_to_anchor": (1.11 if twin else 1.01, 1.0), "fontsize": 7, "frameon": False,
          "borderaxespad": 0.0}
    if handles is not None:
        ax.legend(handles, labels, **kw)
    else:
        ax.legend(**kw)


def _min_span(ax: Any, y: np.ndarray, span: float) -> None:
    """Keep a nearly constant series from being drawn as noise: the y axis covers at least `span`."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    if y.size and float(np.max(y) - np.min(y)) < span:
        c = 0.5 * float(np.max(y) + np.min(y))
        ax.set_ylim(c - 0.5 * span, c + 0.5 * span)


def plot_overview(r: RunData, path: str | Path, gaps: BinGaps | None = None) -> Path:
    """One time axis: geometry, loss terms, J/S, MODCOD sent vs best, Es/N0 and goodput (predicted vs measured)."""
    plt = _pyplot()
    tt = r.num("timeline", "time_s")
    t0 = r.num("measured", "time_s")
    bin_s = r.num("measured", "bin_s")
    t1 = t0 + bin_s
    x_lo, x_hi = run_window(r)
    unit_s, xlabel = time_scale(np.array([x_lo, x_hi]))
    all_t = np.array([x_lo, x_hi])
    if tt.size:  # draw the budget over the run's span only (one row of context either side)
        k0 = max(int(np.searchsorted(tt, x_lo, side="right")) - 1, 0)
        k1 = int(np.searchsorted(tt, x_hi, side="left")) + 1
        r = replace(r, timeline={k: v[k0:k1] for k, v in r.timeline.items()})
        tt = r.num("timeline", "time_s")
    x = tt / unit_s
    m0, m1 = t0 / unit_s, t1 / unit_s
    jammers = r.jammer_names
    doppler = r.num("timeline", "doppler_hz")
    has_doppler = bool(np.any(np.abs(np.nan_to_num(doppler)) > 0.0))
    panels = ["geometry", *(["doppler"] if has_doppler else []), "loss", *(["js"] if jammers else []), "modcod",
              "esn0", "goodput"]
    heights = {"geometry": 1.6, "doppler": 1.5, "loss": 2.2, "js": 1.6, "esn0": 2.4, "goodput": 2.4,
               "modcod": max(2.0, 0.6 + 0.2 * len(_modcods_shown(r)))}
    fig, axes = plt.subplots(len(panels), 1, figsize=(12.5, sum(heights[p] for p in panels) + 1.2), sharex=True,
                             gridspec_kw={"height_ratios": [heights[p] for p in panels]})
    ax_of = dict(zip(panels, axes, strict=True))
    windows = _jammer_windows(r)
    if len(windows) == 1 and tt.size and windows[0][0] <= tt[0] and windows[0][1] >= tt[-1]:
        windows = []  # on throughout: shading everything would only hide the grid
    _shade(axes, windows, unit_s, JAM_SHADE, "jammer on" if windows else None)
    if gaps is not None and np.any(gaps.flagged):
        min_w = 0.004 * float(np.nanmax(all_t) - np.nanmin(all_t)) / unit_s  # short dwell bins stay visible
        spans = [(float(m0[k]), max(float(m1[k] - m0[k]), min_w)) for k in np.nonzero(gaps.flagged)[0]]
        for ax in (ax_of["esn0"], ax_of["goodput"]):  # one artist however many bins
            ax.broken_barh(spans, (0.0, 1.0), transform=ax.get_xaxis_transform(), color=GAP_SHADE, alpha=0.8,
                           lw=0, zorder=0)
    status = r.summary.get("status", "?")
    title = f"{r.summary.get('scenario') or (r.scenario.get('scenario') or {}).get('name', r.run_dir.name)}"
    fig.suptitle(f"{title}: budget (lines) and measurement (per-bin markers)"
                 + ("  [PARTIAL RUN]" if status == "partial" else ""), fontsize=11)

    ax = ax_of["geometry"]
    if tt.size:
        el = r.num("timeline", "elevation_deg")
        ax.plot(x, el, color="tab:blue", label="elevation (left)")
        _min_span(ax, el, 1.0)
        ax2 = ax.twinx()
        rng = r.num("timeline", "slant_range_km")
        ax2.plot(x, rng, color="tab:gray", ls="--", label="slant range (right)")
        _min_span(ax2, rng, 200.0)
        ax2.set_ylabel("slant range (km)", fontsize=8)
        ax2.tick_params(labelsize=7)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        _legend_out(ax, True, h1 + h2, l1 + l2)
    ax.set_ylabel("elevation (deg)")

    if has_doppler:
        ax = ax_of["doppler"]
        ax.plot(x, doppler / 1e3, color="tab:purple", label="Doppler (left)")
        ax.set_ylabel("Doppler (kHz)")
        ax2 = ax.twinx()
        ax2.plot(x, r.num("timeline", "doppler_rate_hz_s"), color="tab:gray", ls="--", lw=0.9,
                 label="Doppler rate (right)")
        ax2.set_ylabel("Doppler rate (Hz/s)", fontsize=8)
        ax2.tick_params(labelsize=7)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        _legend_out(ax, True, h1 + h2, l1 + l2)

    ax = ax_of["loss"]
    if tt.size:
        for col, label in LOSS_TERMS:
            y = r.num("timeline", col)
            if np.any(np.nan_to_num(np.abs(y)) > 0.0):
                ax.plot(x, y, label=label, lw=1.8 if col == "atmospheric_db" else 1.0)
        fspl = r.num("timeline", "fspl_db")
        if np.any(np.isfinite(fspl)):
            ax2 = ax.twinx()
            ax2.plot(x, fspl, color="k", ls=":", lw=1.0, label="free space (right)")
            ax2.set_ylabel("free-space loss (dB)", fontsize=8)
            ax2.tick_params(labelsize=7)
            _min_span(ax2, fspl, 1.0)
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = ax2.get_legend_handles_labels()
            _legend_out(ax, True, h1 + h2, l1 + l2)
        else:
            _legend_out(ax)
        ax.set_ylim(bottom=0)
    ax.set_ylabel("loss (dB)")

    if jammers:
        ax = ax_of["js"]
        for name in jammers:
            js = r.num("timeline", f"js_db[{name}]")
            act = r.num("timeline", f"active[{name}]")
            if tt.size:
                ax.plot(x, np.where(act > 0.5, js, np.nan), label=f"J/S {name} (budget)")
            mj = r.num("measured", f"js_db[{name}]")
            if np.any(np.isfinite(mj)):
                ax.plot(0.5 * (m0 + m1), mj, ls="none", marker=".", ms=3, color="k", label=f"J/S {name} per bin")
        ax.set_ylabel("J/S (dB)")
        _min_span(ax, np.concatenate([r.num("timeline", f"js_db[{n}]") for n in jammers]), 4.0)
        _legend_out(ax)

    _modcod_panel(r, ax_of["modcod"], x, m0, m1)

    ax = ax_of["esn0"]
    if tt.size:
        ax.plot(x, r.num("timeline", "cnij_db"), color=C_PRED, lw=1.2, label="predicted C/(N+I+J)")
        th = r.num("timeline", "esn0_db")
        if np.nanmax(np.abs(np.nan_to_num(th - r.num("timeline", "cnij_db")))) > 0.05:
            ax.plot(x, th, color=C_PRED, lw=0.8, ls="--", label="predicted Es/N0 (thermal only)")
    if not tt.size:  # no budget file: the per-bin prediction from measured.csv
        _bins_hlines(ax, m0, m1, r.num("measured", "predicted_esn0_db"), C_PRED, "predicted C/(N+I+J)",
                     predicted=True)
        for name in ("geometry", "loss"):
            ax_of[name].text(0.5, 0.5, "timeline.csv missing", transform=ax_of[name].transAxes, ha="center",
                             color="0.4")
    _bins_hlines(ax, m0, m1, r.num("measured", "esn0_est_db"), C_MEAS, "measured Es/N0 (receiver estimate)")
    if not r.n_bins:
        ax.text(0.5, 0.5, "no measurements", transform=ax.transAxes, ha="center", color="0.4")
    ax.set_ylabel("Es/N0 (dB)")
    _legend_out(ax)

    ax = ax_of["goodput"]
    pg = r.num("measured", "predicted_goodput_bps")
    g = r.num("measured", "goodput_bps")
    cs = r.summary.get("clear_sky_goodput_bps")
    ref = [v for v in (np.nanmax(pg) if np.any(np.isfinite(pg)) else np.nan,
                       np.nanmax(g) if np.any(np.isfinite(g)) else np.nan,
                       cs if isinstance(cs, int | float) else np.nan) if np.isfinite(v)]
    scale, unit = bps_unit(max(ref) if ref else _symbol_rate(r))
    _bins_hlines(ax, m0, m1, pg / scale, C_PRED, "predicted goodput", predicted=True)
    _bins_hlines(ax, m0, m1, g / scale, C_MEAS, "measured goodput")
    if isinstance(cs, int | float) and np.isfinite(cs):
        ax.axhline(cs / scale, color="tab:green", ls="--", lw=0.9, label="clear-sky goodput")
    if not r.n_bins:
        ax.text(0.5, 0.5, "no measurements", transform=ax.transAxes, ha="center", color="0.4")
    if gaps is not None and np.any(gaps.flagged):
        ax.fill_between([], [], color=GAP_SHADE, label="bins off prediction")
    ax.set_ylabel(f"goodput ({unit})")
    ax.set_ylim(0.0, 1.12 * max(ref) / scale if ref and max(ref) > 0 else None)
    _legend_out(ax)
    if status == "partial" and r.n_bins:
        for a in axes:
            a.axvline(m1[-1], color="crimson", lw=1.0, ls="-.")
        axes[0].text(m1[-1], 1.0, " run stopped", color="crimson", fontsize=7, va="bottom",
                     transform=axes[0].get_xaxis_transform())
    for a in axes:
        a.grid(alpha=0.3)
        a.tick_params(labelsize=8)
    axes[-1].set_xlim(x_lo / unit_s, x_hi / unit_s)
    start = r.start_unix_s
    if start is not None:
        from ..geometry.orbit import format_utc

        xlabel = xlabel.replace("start", f"start ({format_utc(start).replace('T', ' ').replace('Z', ' UTC')})")
    axes[-1].set_xlabel(xlabel)
    return save_png(fig, path, dpi=100)


def _modcods_shown(r: RunData) -> list[str]:
    """MODCODs the budget picks, the run sent or the carrier is configured with, by increasing efficiency."""
    names: set[str] = {str(n) for n in r.text("timeline", "best_modcod") if n}
    for s in r.text("measured", "modcod"):
        names.update(_modcod_parts(s))
    carrier = (r.scenario.get("carrier") or {}).get("modcod")
    if carrier and not _acm(r):
        names.add(str(carrier))
    known = {m.name: m for m in modcods.all_modcods(vlsnr=True)}
    return sorted((n for n in names if n in known), key=lambda n: _eff(known[n], _pilots(r)))


def _acm(r: RunData) -> bool:
    return bool(r.summary.get("acm", (r.scenario.get("run") or {}).get("acm", False)))


def _modcod_panel(r: RunData, ax: Any, x: np.ndarray, m0: np.ndarray, m1: np.ndarray) -> None:
    pilots = _pilots(r)
    best = r.text("timeline", "best_modcod")
    sent = r.text("measured", "modcod")
    carrier = (r.scenario.get("carrier") or {}).get("modcod")
    acm = _acm(r)
    known = {m.name: m for m in modcods.all_modcods(vlsnr=True)}
    used = _modcods_shown(r)
    pos = {n: k + 1 for k, n in enumerate(used)}  # 0 = no MODCOD closes
    if x.size and best.size:
        yb = np.array([pos.get(str(n), 0) for n in best], dtype=float)
        ax.step(x, yb, where="post", color=C_PRED, lw=1.2, label="best MODCOD the budget closes")
    if carrier and not acm and carrier in pos:
        ax.axhline(pos[carrier], color="tab:gray", ls="--", lw=0.8, label=f"configured (CCM) {carrier}")
    ys, k_of = [], []
    for k, s in enumerate(sent):
        for part in _modcod_parts(s):
            if part in pos:
                ys.append(pos[part])
                k_of.append(k)
    if ys:
        kk = np.array(k_of)
        ax.hlines(ys, m0[kk], m1[kk], color=C_MEAS, lw=4)
        ax.plot(0.5 * (m0[kk] + m1[kk]), ys, ls="none", marker="o", ms=3 if len(ys) < 200 else 1.5, color=C_MEAS,
                label="MODCOD sent")
    ax.set_yticks([0, *pos.values()])
    ax.set_yticklabels(["none closes"] + [f"{n} ({_eff(known[n], pilots):.2f} b/sym)" for n in used], fontsize=7)
    ax.set_ylim(-0.5, len(used) + 0.5)
    ax.set_ylabel("MODCOD")
    _legend_out(ax)


def plot_goodput_vs_esn0(r: RunData, path: str | Path) -> Path:
    """Measured goodput per bin against the measured Es/N0, with the budget's predictions, Shannon's bound
    (Rs log2(1 + Es/N0)) and the DVB-S2 Table 13 staircase (Rs x efficiency of the best MODCOD at QEF)."""
    plt = _pyplot()
    rs = _symbol_rate(r)
    pilots = _pilots(r)
    est = r.num("measured", "esn0_est_db")
    pred = r.num("measured", "predicted_esn0_db")
    g = r.num("measured", "goodput_bps")
    pg = r.num("measured", "predicted_goodput_bps")
    sent = r.text("measured", "modcod")
    known = {m.name: m for m in modcods.all_modcods(vlsnr=True)}
    vals = np.concatenate([est, pred])
    vals = vals[np.isfinite(vals)]
    lo = float(np.min(vals)) - 2.0 if vals.size else -3.0
    hi = float(np.max(vals)) + 2.0 if vals.size else 17.0
    lo, hi = max(min(lo, -3.0), -10.0), min(max(hi, lo + 6.0), 25.0)
    xs = np.linspace(lo, hi, 800)
    vl = bool((r.scenario.get("run") or {}).get("acm_vlsnr", False))
    _, eta_stair = modcods.best_closing_arrays(xs, 0.0, pilots, vlsnr=vl)
    top = max(float(np.max(eta_stair)), float(np.nanmax(g) / rs) if np.any(np.isfinite(g)) else 0.0)
    scale, unit = bps_unit(rs * max(top, 1.0))
    fig, ax = plt.subplots(figsize=(9, 5.6))
    ax.plot(xs, rs * np.log2(1.0 + 10.0 ** (xs / 10.0)) / scale, color="k", lw=1.2,
            label="Shannon bound  Rs log2(1 + Es/N0)")
    ax.step(xs, rs * eta_stair / scale, where="post", color="tab:gray", lw=1.2,
            label=f"DVB-S2 Table 13{' + VL-SNR' if vl else ''} staircase (QEF, {'pilots' if pilots else 'no pilots'})")
    ok = np.isfinite(pred) & np.isfinite(pg)
    if np.any(ok):
        ax.plot(pred[ok], pg[ok] / scale, ls="none", marker="x", ms=7, mew=1.5, color=C_PRED, zorder=5,
                label="predicted (budget Es/N0, goodput)")
    groups: dict[str, list[int]] = {}
    for k, s in enumerate(sent):
        key = "no frame" if not s else "several MODCODs (ACM switched within the bin)" if "+" in str(s) else str(s)
        groups.setdefault(key, []).append(k)
    cmap = plt.get_cmap("tab10")
    for c, (name, idx) in enumerate(sorted(groups.items(), key=lambda kv: (_qef_or_inf(kv[0]), kv[0]))):
        ii = np.array(idx)
        okm = np.isfinite(est[ii]) & np.isfinite(g[ii])
        ax.plot(est[ii][okm], g[ii][okm] / scale, ls="none", marker="o", ms=5, alpha=0.75,
                color=cmap((c + 1) % 10), label=f"measured, {name}" + (" sent" if name in known else ""))
    for part in sorted({p for s in sent for p in _modcod_parts(s) if p in known}):
        m = known[part]
        ax.plot(m.esn0_qef_db, rs * _eff(m, pilots) / scale, marker="D", ms=4, color="0.3")
        ax.annotate(f"{part} QEF", (m.esn0_qef_db, rs * _eff(m, pilots) / scale), textcoords="offset points",
                    xytext=(5, -11), fontsize=7, color="0.3")
    no_est = np.isnan(est) & np.isfinite(g)
    if np.any(no_est):
        ax.plot(pred[no_est], g[no_est] / scale, ls="none", marker="o", mfc="none", ms=5, color=C_MEAS,
                label="measured goodput, no Es/N0 estimate (at predicted Es/N0)")
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Es/N0 (dB)  [measured: receiver estimate per bin]")
    ax.set_ylabel(f"goodput ({unit})")
    sec = ax.secondary_yaxis("right", functions=(lambda y: y * scale / rs, lambda e: e * rs / scale))
    sec.set_ylabel("spectral efficiency (information bit/symbol)")
    title = "Goodput per measurement bin against Es/N0"
    if not r.n_bins:
        title += " (no measured bins)"
    ax.set_title(f"{title}; Rs = {rs / 1e6:g} Msym/s")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return save_png(fig, path, dpi=100)


def plot_frame_esn0(r: RunData, path: str | Path) -> Path | None:
    """Per decoded frame: the distribution of the receiver's Es/N0 estimates, good and failed frames stacked, with
    the Table 13 QEF threshold of each MODCOD sent. None if no frame has an Es/N0 estimate."""
    if not r.n_frames:
        return None
    e = r.num("frames", "esn0_est_db")
    ok = r.num("frames", "ok") > 0.5
    mc = r.text("frames", "modcod")
    fin = np.isfinite(e)
    if not np.any(fin):
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    lo = float(np.min(e[fin]))
    hi = float(np.max(e[fin]))
    bins = np.arange(np.floor(lo * 4) / 4, hi + 0.5, 0.25)
    if bins.size < 2:
        bins = np.array([lo - 0.25, lo + 0.25])
    ax.hist([e[fin & ok], e[fin & ~ok]], bins=bins, stacked=True, color=["tab:green", "tab:red"],
            label=[f"decoded ({int(np.sum(fin & ok))} frames)", f"failed ({int(np.sum(fin & ~ok))} frames)"])
    ax.set_yscale("log")
    colors = ("tab:blue", "tab:purple", "tab:brown", "tab:orange", "tab:pink", "tab:cyan", "tab:olive", "tab:gray")
    names = sorted({str(n) for n in mc[fin] if n}, key=lambda n: _qef_or_inf(n))
    for c, name in enumerate(names):
        q = _qef_or_inf(name)
        if np.isfinite(q):
            ax.axvline(q, color=colors[c % len(colors)], ls="--", lw=1.1, label=f"{name} QEF threshold {q:.2f} dB")
    lost = int(np.sum(~fin))
    ax.set_title("Receiver Es/N0 estimate per frame" + (f" ({lost} frames without an estimate not shown)"
                                                       if lost else ""), fontsize=10)
    ax.set_xlabel("frame Es/N0 estimate (dB), 0.25 dB bins")
    ax.set_ylabel("frames (log scale)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, borderaxespad=0.0)
    return save_png(fig, path, dpi=100)


def _qef_or_inf(name: str) -> float:
    try:
        return modcods.get(name).esn0_qef_db
    except Exception:  # noqa: BLE001 - a name outside Table 13 has no threshold
        return math.inf
