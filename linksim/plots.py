"""Figure helpers shared by the budget, report and campaign plots (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: str | Path, dpi: int) -> Path:
    """Lay out `fig`, write it to `path` (PNG at `dpi`, or the format the extension names) and close it; returns
    the path. Written whole or not at all (linksim.files.AtomicOutput)."""
    from .files import AtomicOutput

    out = Path(path)
    try:
        fig.tight_layout()
        with AtomicOutput(out, "figure") as o:
            fig.savefig(o.tmp_path, dpi=dpi)
    finally:
        _pyplot().close(fig)
    return out


def time_scale(time_s: np.ndarray) -> tuple[float, str]:
    """The unit for a time axis spanning these times (s from start): (seconds per unit, axis label)."""
    t = np.asarray(time_s, dtype=float)
    span = float(t[-1] - t[0]) if len(t) > 1 else 0.0
    if span > 3 * 3600:
        return 3600.0, "time from start (h)"
    if span > 600:
        return 60.0, "time from start (min)"
    return 1.0, "time from start (s)"
