"""The return link (terminal -> satellite -> gateway) of an IP traffic run, at packet level: rate, delay and loss
per Timeline row.

Return budget (when [return_link] gives the terminal's EIRP), per row:
    Es/N0_ret = EIRP_terminal - FSPL(f_ret, slant range) - A_atm(f_ret, elevation) + (G/T)_sat - k - 10 log10(R_s)
The gateway's downlink is taken as strong (transparent star with a large gateway: its noise is neglected). While
Es/N0_ret meets the return MODCOD's Table 13 threshold the link carries R_s x efficiency (with pilots) and loses
`loss_pct` of the packets; below it, every packet. A fixed `rate_bps` replaces the budget's rate (the link always
closes). The delay is `delay_s`, else twice the Timeline's one-way path delay (terminal to satellite, and satellite
to a gateway at a like range: the same convention as the ACM return path). Without a [return_link] section the
return link is ideal: no rate limit, no loss, the same delay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dbmath import BOLTZMANN_DBW_K_HZ, fspl_db, lin_to_db
from ..scenario import modcods
from .timeline import Timeline


@dataclass(frozen=True)
class ReturnSeries:
    """Per Timeline row: time_s, rate_bps (inf: no limit), loss (0..1), delay_s, esn0_db (NaN without a budget)."""

    time_s: np.ndarray
    rate_bps: np.ndarray
    loss: np.ndarray
    delay_s: np.ndarray
    esn0_db: np.ndarray
    described: str

    def at(self, t_s: float) -> tuple[float, float, float]:
        """(rate_bps, loss, delay_s) at scenario time t_s (the row at or before it)."""
        i = int(np.clip(np.searchsorted(self.time_s, t_s, side="right") - 1, 0, len(self.time_s) - 1))
        return float(self.rate_bps[i]), float(self.loss[i]), float(self.delay_s[i])


def forward_delay_s(tl: Timeline) -> np.ndarray:
    """One-way delay of the forward link (gateway -> satellite -> terminal): twice the path delay per row."""
    return 2.0 * np.asarray(tl["delay_s"], dtype=float)


def return_series(tl: Timeline) -> ReturnSeries:
    """The return link's rate, loss and delay per Timeline row (module docstring)."""
    s = tl.scenario
    r = s.return_link
    t = tl.time_s
    n = len(t)
    delay = forward_delay_s(tl) if r is None or r.delay_s is None else np.full(n, r.delay_s)
    if r is None:
        return ReturnSeries(t, np.full(n, np.inf), np.zeros(n), delay, np.full(n, np.nan),
                            "ideal (no [return_link] section): no rate limit, no loss")
    esn0 = np.full(n, np.nan)
    if r.eirp_dbw is None:
        rate = np.full(n, float(r.rate_bps))  # type: ignore[arg-type]
        loss = np.full(n, r.loss_pct / 100.0)
        text = f"fixed {r.rate_bps / 1e3:g} kb/s, {r.loss_pct:g} % loss"  # type: ignore[operator]
        return ReturnSeries(t, rate, loss, delay, esn0, text)
    from ..propagation import itu

    f = r.freq_hz or s.carrier.freq_hz
    gt = r.g_over_t_dbk if r.g_over_t_dbk is not None else s.satellite.g_over_t_dbk
    el = np.asarray(tl["elevation_deg"], dtype=float)
    rng = np.asarray(tl["slant_range_km"], dtype=float) * 1e3
    vis = np.asarray(tl["visible"], dtype=bool) & (el > 0)
    a = np.zeros(n)
    if vis.any() and s.propagation.mode != "clear_sky":
        pct = s.propagation.exceedance_pct
        al = itu.atmospheric_losses(s.site.lat_deg, s.site.lon_deg, s.site.alt_m, f, np.where(vis, el, 10.0), pct,
                                    s.terminal.antenna_diameter_m, s.terminal.antenna_efficiency,
                                    rec=s.propagation.rec)
        a = np.nan_to_num(np.asarray(al.total_db, dtype=float))
    esn0 = (r.eirp_dbw - fspl_db(f, rng) - a + float(gt) - BOLTZMANN_DBW_K_HZ  # type: ignore[arg-type]
            - lin_to_db(r.symbol_rate_baud))
    esn0 = np.where(vis, esn0, np.nan)
    mc = modcods.get(r.modcod)
    closes = np.nan_to_num(esn0, nan=-99.0) >= mc.esn0_qef_db
    capacity = r.symbol_rate_baud * mc.efficiency(s.carrier.pilots)
    rate = np.where(closes, float(r.rate_bps) if r.rate_bps is not None else capacity, 0.0)
    loss = np.where(closes, r.loss_pct / 100.0, 1.0)
    text = (f"budget: {r.modcod} at {r.symbol_rate_baud / 1e3:g} kbaud, Es/N0 {np.nanmin(esn0):.1f} to "
            f"{np.nanmax(esn0):.1f} dB against {mc.esn0_qef_db:.2f} dB")
    return ReturnSeries(t, rate, loss, delay, esn0, text)


__all__ = ["ReturnSeries", "forward_delay_s", "return_series"]
