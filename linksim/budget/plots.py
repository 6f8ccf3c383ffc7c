"""PNG figures of a budget Timeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..plots import _pyplot, save_png, time_scale
from .timeline import Timeline


def time_axis(tl: Timeline) -> tuple[np.ndarray, str]:
    unit_s, label = time_scale(tl.time_s)
    return tl.time_s / unit_s, label


def plot_budget(tl: Timeline, path: str | Path) -> Path:
    """Elevation, each loss term, Es/N0 and C/(N+I+J) with the MODCOD threshold, and J/S per jammer."""
    from ..scenario import modcods

    plt = _pyplot()
    x, xlabel = time_axis(tl)
    n_axes = 4 if tl.jammers else 3
    fig, axes = plt.subplots(n_axes, 1, figsize=(10, 2.4 * n_axes + 0.6), sharex=True)
    ax = axes[0]
    ax.plot(x, tl["elevation_deg"], color="tab:blue")
    ax.set_ylabel("elevation (deg)")
    ax.grid(alpha=0.3)
    ax.set_title(f"{tl.scenario.name}: link budget")
    ax = axes[1]
    for name, label in (("gas_db", "gas"), ("cloud_db", "cloud"), ("rain_db", "rain"),
                        ("scintillation_db", "scintillation"), ("iono_scintillation_db", "ionospheric"),
                        ("antenna_event_db", "antenna events"), ("atmospheric_db", "total atmospheric")):
        y = np.asarray(tl[name], dtype=float)
        if np.nanmax(np.abs(np.nan_to_num(y))) > 0.0:
            ax.plot(x, y, label=label, lw=1.6 if name == "atmospheric_db" else 1.0)
    ax.set_ylabel("loss (dB)")
    ax.legend(loc="upper right", fontsize=7, ncol=3)
    ax.grid(alpha=0.3)
    ax = axes[2]
    ax.plot(x, tl["esn0_db"], label="Es/N0 (thermal)")
    ax.plot(x, tl["cnij_db"], label="C/(N+I+J)")
    thr = modcods.get(tl.scenario.carrier.modcod).esn0_qef_db
    ax.axhline(thr, color="k", ls="--", lw=0.8, label=f"{tl.scenario.carrier.modcod} threshold")
    ax.set_ylabel("dB")
    ax.legend(loc="lower right", fontsize=7)
    ax.grid(alpha=0.3)
    if tl.jammers:
        ax = axes[3]
        for j in tl.jammers:
            ax.plot(x, np.where(j.active, j.js_db, np.nan), label=f"J/S {j.name}")
        ax.set_ylabel("J/S (dB)")
        ax.legend(loc="upper right", fontsize=7)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(xlabel)
    return save_png(fig, path, dpi=110)
