"""The IP traffic part of a run's report (runs made with `linksim run --traffic`): traffic.csv and the summary's
"traffic" entry as a figure (application, IP, PHY and predicted goodput on one time axis; RTT, retransmits) and a
table (means, efficiency, UDP loss against the frame-loss model, TCP's recovery after each jammer)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..plots import _pyplot, save_png
from .data import read_csv_columns

FIGURE = "traffic.png"


def plot_traffic(run_dir: Path, summary: dict[str, Any]) -> Path | None:
    """traffic.png from traffic.csv (None when the run carried no traffic)."""
    path = run_dir / "traffic.csv"
    if not path.exists():
        return None
    c = read_csv_columns(path)
    t = np.asarray(c.get("time_s", []), dtype=float)
    if t.size == 0:
        return None
    plt = _pyplot()
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, height_ratios=[2, 1])
    for col, label, style in (("predicted_goodput_bps", "predicted (budget)", dict(color="0.5", ls="--")),
                              ("phy_goodput_bps", "PHY (decoded data fields)", dict(color="tab:blue")),
                              ("ip_goodput_bps", "IP at the terminal's TUN", dict(color="tab:green", alpha=0.6)),
                              ("app_goodput_bps", "application (receiver)", dict(color="tab:red", lw=2))):
        y = np.asarray(c.get(col, np.full(t.size, np.nan)), dtype=float)
        if np.isfinite(y).any():
            ax.step(t, y / 1e3, where="post", label=label, **style)
    for j in summary.get("jammer_windows", []):
        ax.axvspan(j[0], j[1], color="red", alpha=0.08)
        ax2.axvspan(j[0], j[1], color="red", alpha=0.08)
    ax.set_ylabel("goodput (kbit/s)")
    ax.legend(loc="lower left", fontsize=8)
    tr = summary.get("traffic", {})
    ax.set_title(f"{tr.get('spec', '')}: application {_k(tr.get('app_goodput_bps_mean'))} of PHY "
                 f"{_k(tr.get('phy_goodput_bps_mean'))} kbit/s", fontsize=10)
    rtt = np.asarray(c.get("rtt_ms", np.full(t.size, np.nan)), dtype=float)
    if np.isfinite(rtt).any():
        ax2.plot(t, rtt, "o-", color="tab:purple", ms=3, label="RTT (ms)")
    ax2.set_ylabel("RTT (ms)")
    re = np.asarray(c.get("retransmits", np.full(t.size, np.nan)), dtype=float)
    if np.isfinite(re).any() and np.nansum(re) > 0:
        tw = ax2.twinx()
        tw.bar(t + 0.5, re, width=0.8, color="tab:orange", alpha=0.5, label="retransmits")
        tw.set_ylabel("retransmits per s")
    ax2.set_xlabel("scenario time (s)")
    ax2.set_xlim(float(t[0]), float(t[-1]) + 1.0)
    return save_png(fig, run_dir / FIGURE, dpi=110)


def _k(v: Any) -> str:
    return f"{v / 1e3:.1f}" if isinstance(v, (int, float)) and math.isfinite(v) else "n/a"


def traffic_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, value) rows for the report's traffic table."""
    tr = summary.get("traffic")
    if not tr:
        return []
    rows = [("traffic", str(tr.get("spec"))),
            ("measured from - to", f"{tr.get('measured_from_s')} - {tr.get('measured_to_s')} s"),
            ("application goodput", f"{_k(tr.get('app_goodput_bps_mean'))} kbit/s"),
            ("PHY goodput (same seconds)", f"{_k(tr.get('phy_goodput_bps_mean'))} kbit/s"),
            ("predicted goodput (budget)", f"{_k(tr.get('predicted_goodput_bps_mean'))} kbit/s"),
            ("efficiency (application / PHY)", _f(tr.get("efficiency"), 3)),
            ("RTT (median)", f"{_f(tr.get('rtt_ms_median'), 0)} ms"),
            ("forward / return delay", f"{_f(1e3 * (tr.get('forward_delay_s') or math.nan), 0)} / "
                                       f"{_f(1e3 * (tr.get('return_delay_s_mean') or math.nan), 0)} ms"),
            ("return link", str(tr.get("return_link")))]
    if tr.get("retransmits") is not None:
        rows.append(("TCP retransmits", _f(tr.get("retransmits"), 0)))
    if tr.get("window_limit_bps") is not None:
        rows.append(("window / RTT (theory)", f"{_k(tr.get('window_limit_bps'))} kbit/s"))
    for rec in tr.get("recovery") or []:
        rows.append((f"after jammer {rec['jammer']} stops at {rec['stop_s']:g} s",
                     f"PHY back in {rec['phy_recovery_s']} s, application in {rec['app_recovery_s']} s"))
    u = tr.get("udp_loss")
    if u and u.get("expected_loss_ratio") is not None:
        rows.append(("UDP loss (iperf3) vs frame-loss model",
                     f"{_f(u.get('iperf3_loss_ratio'), 4)} vs {_f(u['expected_loss_ratio'], 4)} "
                     f"(95 % interval {_f(u['iperf3_interval_95'][0], 4)} - {_f(u['iperf3_interval_95'][1], 4)}, "
                     f"FER {_f(u['fer'], 4)})" if u.get("iperf3_interval_95") else
                     f"model {_f(u['expected_loss_ratio'], 4)} (FER {_f(u['fer'], 4)})"))
    return rows


def _f(v: Any, digits: int) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) and math.isfinite(v) else "n/a"


__all__ = ["FIGURE", "plot_traffic", "traffic_rows"]
