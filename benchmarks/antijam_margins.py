"""Jamming margins from the anti-jam campaign: per jammer type, mitigation and MODCOD, the J/S at which the goodput
falls to half its value with no jammer; a markdown table, and one goodput-vs-J/S figure per jammer type.

    linksim sweep campaigns/antijam-margins.toml --out sweeps/antijam --runner linksim.run.inmemory:run_scenario
    .venv/bin/python benchmarks/antijam_margins.py sweeps/antijam [--img docs/img]

Each curve's reference is its own goodput at the lowest J/S of the grid (-12 dB: the jammer far below the noise). A
cell gives the J/S intervals (dB) where the goodput is at least half of it, edges interpolated linearly between grid
points: "up to +12" is the jamming margin of the issue (the J/S where the goodput first halves); a second interval,
"+2 to +17", is where a mitigation takes the jammer out once it is strong enough to be found; ">40": still at the
grid's top.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linksim.campaign.db import CampaignDB  # noqa: E402

JAMMERS = ("cw", "multitone", "swept", "partial_band", "pulsed", "barrage", "follower")
MITIGATIONS = ("none", "fft", "notch", "blanking", "nulling4")
LABELS = {"none": "none", "fft": "FFT excision", "notch": "notch bank", "blanking": "pulse blanking",
          "nulling4": "4-element MVDR"}
MODCODS = ("QPSK 1/2", "8PSK 3/4")


def curves(db_path: Path) -> dict[tuple[str, str, str], list[tuple[float, float]]]:
    """{(jammer, mitigation, modcod): [(J/S dB, goodput b/s)] sorted by J/S} of the finished points."""
    db = CampaignDB(db_path)
    out: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    try:
        for r in db.rows():
            if r["status"] != "done":
                continue
            p = json.loads(r["params"])
            jam, mit = str(p["case"]).split("/")
            out[(jam, mit, p["carrier.modcod"])].append((float(p["jammer.0.js_db"]), float(r["goodput_bps_mean"])))
    finally:
        db.close()
    return {k: sorted(v) for k, v in out.items()}


def windows_db(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The J/S intervals where the goodput is at least half its value at the lowest J/S, edges interpolated linearly
    between grid points (-inf / +inf where an interval runs off the grid)."""
    if not points or points[0][1] <= 0:
        return []
    half = 0.5 * points[0][1]

    def cross(a: tuple[float, float], b: tuple[float, float]) -> float:
        (j0, g0), (j1, g1) = a, b
        return j0 + (j1 - j0) * (g0 - half) / (g0 - g1) if g0 != g1 else j1

    out: list[tuple[float, float]] = []
    lo: float | None = -math.inf
    for a, b in zip(points, points[1:], strict=False):
        up_a, up_b = a[1] >= half, b[1] >= half
        if up_a and not up_b:
            out.append((lo if lo is not None else a[0], cross(a, b)))
            lo = None
        elif up_b and not up_a:
            lo = cross(a, b)
    if lo is not None and points[-1][1] >= half:
        out.append((lo, math.inf))
    return out


def margin_db(points: list[tuple[float, float]]) -> float:
    """The issue's jamming margin: the J/S where the goodput first falls below half its value at the lowest J/S
    (nan: no reference; +inf: never on the grid)."""
    w = windows_db(points)
    return w[0][1] if w else math.nan


def fmt_windows(w: list[tuple[float, float]], lo: float, hi: float) -> str:
    if not w:
        return "n/a"
    parts = []
    for a, b in w:
        a_s = f"<{lo:g}" if a == -math.inf else f"{a:+.0f}"
        b_s = f">{hi:g}" if b == math.inf else f"{b:+.0f}"
        parts.append(f"up to {b_s}" if a == -math.inf else f"{a_s} to {b_s}")
    return "; ".join(parts)


def table(cv: dict[tuple[str, str, str], list[tuple[float, float]]]) -> str:
    js_all = sorted({j for pts in cv.values() for j, _ in pts})
    lo, hi = (js_all[0], js_all[-1]) if js_all else (math.nan, math.nan)
    lines = ["| jammer | MODCOD | " + " | ".join(LABELS[m] for m in MITIGATIONS) + " |",
             "|---|---|" + "---|" * len(MITIGATIONS)]
    for jam in JAMMERS:
        for mc in MODCODS:
            cells = [fmt_windows(windows_db(cv.get((jam, m, mc), [])), lo, hi) for m in MITIGATIONS]
            lines.append(f"| {jam} | {mc} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figures(cv: dict[tuple[str, str, str], list[tuple[float, float]]], img: Path) -> list[Path]:
    from linksim.plots import _pyplot, save_png

    plt = _pyplot()
    img.mkdir(parents=True, exist_ok=True)
    out = []
    styles = {"none": ("k", "-"), "fft": ("tab:blue", "-"), "notch": ("tab:green", "--"),
              "blanking": ("tab:orange", "-."), "nulling4": ("tab:red", ":")}
    for jam in JAMMERS:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=False)
        for ax, mc in zip(axes, MODCODS, strict=True):
            for m in MITIGATIONS:
                pts = cv.get((jam, m, mc), [])
                if not pts:
                    continue
                c, ls = styles[m]
                ax.plot([p[0] for p in pts], [p[1] / 1e6 for p in pts], color=c, ls=ls, marker="o", ms=3,
                        label=LABELS[m])
            ax.set_title(f"{jam}: {mc}")
            ax.set_xlabel("J/S at the terminal (dB, in the occupied band)")
            ax.set_ylabel("goodput (Mb/s)")
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=8, loc="lower left")
        out.append(save_png(fig, img / f"antijam-{jam}.png", dpi=90))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("campaign_dir", type=Path, help="the directory linksim sweep wrote (campaign.sqlite)")
    ap.add_argument("--img", type=Path, default=None, help="write the figures there (antijam-JAMMER.png)")
    a = ap.parse_args(argv)
    cv = curves(a.campaign_dir / "campaign.sqlite")
    print(table(cv))
    if a.img is not None:
        for p in figures(cv, a.img):
            print(f"figure: {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
