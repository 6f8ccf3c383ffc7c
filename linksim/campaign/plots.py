"""The standard campaign figures (PNG, matplotlib Agg), drawn from the rows of a campaign database.

- `goodput_vs_js.png`: goodput (Mbit/s) against total J/S (dB), one line per jammer type, MODCOD and ACM setting;
  points that share a J/S (a seed sweep) are averaged, with their min-max spread as error bars.
- `efficiency_vs_esn0.png`: goodput as spectral efficiency (goodput / symbol rate, bit/symbol) against the measured
  Es/N0 (dB; the budget's prediction, drawn hollow, where the receiver gave no estimate), next to the Shannon
  bound (eta = log2(1 + Es/N0)) and the DVB-S2 Table 13 staircase (the most efficient MODCOD whose
  quasi-error-free threshold is met).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..plots import _pyplot, save_png
from ..scenario.modcods import best_closing_arrays, shannon_esn0_db, table13


def _usable(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("status") == "done" and not r.get("stale")
            and isinstance(r.get("goodput_bps_mean"), int | float)]


def _esn0(r: dict[str, Any]) -> tuple[float | None, bool]:
    """A row's Es/N0 (dB) for the efficiency figure: the receiver's estimate, else the budget's prediction
    (a jammed receiver that never locks has no estimate). The flag says which."""
    for key, measured in (("esn0_db_mean", True), ("predicted_esn0_db_mean", False)):
        v = r.get(key)
        if isinstance(v, int | float) and np.isfinite(v):
            return float(v), measured
    return None, False


def _group_label(r: dict[str, Any]) -> str:
    jam = r.get("jammer_types") or "no jammer"
    mode = "ACM" if r.get("acm") else (r.get("modcod") or "?")
    vl = r.get("run.acm_vlsnr")  # a swept VL-SNR ladder (run.acm_vlsnr) splits the ACM curves
    if r.get("acm") and vl is not None:
        mode += " with the VL-SNR ladder" if str(vl).lower() in ("1", "true") else " (DVB-S2 only)"
    return f"{jam}, {mode}"


def plot_goodput_vs_js(rows: Sequence[dict[str, Any]], path: str | Path) -> Path | None:
    """Goodput against J/S per jammer type and MODCOD. Returns None when no finished point has a J/S."""
    pts = [r for r in _usable(rows) if isinstance(r.get("js_db"), int | float)]
    if not pts:
        return None
    groups: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in pts:
        groups[_group_label(r)][round(float(r["js_db"]), 6)].append(float(r["goodput_bps_mean"]) / 1e6)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    for label in sorted(groups):
        js = np.array(sorted(groups[label]))
        vals = [groups[label][x] for x in js]
        mean = np.array([np.mean(v) for v in vals])
        lo = mean - np.array([np.min(v) for v in vals])
        hi = np.array([np.max(v) for v in vals]) - mean
        ax.errorbar(js, mean, yerr=[lo, hi], marker="o", capsize=3, label=label)
    ax.set_xlabel("J/S, total over jammers (dB)")
    ax.set_ylabel("goodput (Mbit/s)")
    ax.set_title("Goodput against J/S")
    ax.grid(True, alpha=0.3)
    ax.set_ylim(bottom=0.0)
    ax.legend(fontsize=8)
    return save_png(fig, path, dpi=120)


def plot_efficiency_vs_esn0(rows: Sequence[dict[str, Any]], path: str | Path) -> Path | None:
    """Spectral efficiency (bit/symbol) against measured Es/N0, with the Shannon bound and the Table 13
    staircase. Returns None when no finished point has a measured Es/N0 and a symbol rate."""
    pts = [r for r in _usable(rows) if _esn0(r)[0] is not None
           and isinstance(r.get("symbol_rate_baud"), int | float) and r["symbol_rate_baud"] > 0]
    if not pts:
        return None
    pilots = sum(1 for r in pts if r.get("pilots")) * 2 >= len(pts)
    x = np.array([_esn0(r)[0] for r in pts], dtype=float)
    lo, hi = min(-4.0, float(x.min()) - 1.0), max(17.0, float(x.max()) + 1.0)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    eta = np.linspace(0.05, 5.5, 400)
    sh = shannon_esn0_db(eta)
    keep = (sh >= lo) & (sh <= hi)
    ax.plot(sh[keep], eta[keep], "k-", lw=1.2, label="Shannon bound")
    grid = np.linspace(lo, hi, 2000)
    _, eff = best_closing_arrays(grid, 0.0, pilots)
    ax.step(grid, eff, where="post", color="0.5", lw=1.2,
            label=f"DVB-S2 Table 13 QEF ({'with' if pilots else 'no'} pilots)")
    for m in table13():
        e = m.efficiency(pilots)
        ax.plot([m.esn0_qef_db], [e], ".", color="0.5", ms=3)
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in pts:
        by_label[_group_label(r)].append(r)
    for k, label in enumerate(sorted(by_label)):
        color = f"C{k % 10}"
        for measured in (True, False):
            rs = [r for r in by_label[label] if _esn0(r)[1] is measured]
            if rs:
                ax.plot([_esn0(r)[0] for r in rs], [r["goodput_bps_mean"] / r["symbol_rate_baud"] for r in rs],
                        "o", ms=5, color=color, mfc=color if measured else "none",
                        label=label if measured else f"{label} (no Es/N0 estimate: budget's)")
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("Es/N0, measured by the receiver (dB)")
    ax.set_ylabel("goodput / symbol rate (bit/symbol)")
    ax.set_title("Spectral efficiency against Es/N0")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(fig, path, dpi=120)


def make_figures(rows: Sequence[dict[str, Any]], fig_dir: str | Path) -> list[Path]:
    """Draw every standard figure the rows have data for into `fig_dir`; returns the files written."""
    d = Path(fig_dir)
    d.mkdir(parents=True, exist_ok=True)
    made = [plot_goodput_vs_js(rows, d / "goodput_vs_js.png"),
            plot_efficiency_vs_esn0(rows, d / "efficiency_vs_esn0.png")]
    return [p for p in made if p is not None]
