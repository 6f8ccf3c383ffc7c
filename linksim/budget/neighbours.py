"""Interference from other carriers in the budget: adjacent satellites, the cross-polar carrier, and the
interference allocations a published budget gives.

- Adjacent-satellite interference (ASI): each [[adjacent_satellite]] is a GEO neighbour at an orbital separation
  from the wanted satellite, radiating an EIRP density toward the terminal over its bandwidth. It reaches the
  terminal through the off-axis pattern at the topocentric angle between the two satellites (geometry.antenna;
  the same slant-path atmosphere as the wanted carrier):
      I = EIRP density + 10 log10(B_I x share through the matched filter) - FSPL_I - A - L_pol + G(theta)
  and C/I_ASI = C - I with C the wanted carrier as the budget receives it; the share through the receiver's
  matched filter is budget.interference's (noise-equivalent power in the symbol-rate bandwidth).
- Cross-polar interference (XPI): with frequency reuse (satellite.cross_pol_carrier_db, the level of the carrier on
  the other polarisation relative to the wanted one), the depolarisation of the satellite antenna (satellite.xpd_db),
  of the terminal's antenna (terminal.xpd_db) and of rain and ice (ITU-R P.618-13 section 4.1, from the row's rain
  attenuation: propagation.xpd) add as powers: 1/XPD = sum of 1/XPD_k, and C/I_XP = XPD - level.
- Published allocations ([[interference]]): a C/I0 (dBHz), a C/I in the symbol-rate bandwidth, or a degradation
  allowance (dB) that lowers the combined C/N0 by that much, as the publication states them.
All C/I here are in the symbol-rate bandwidth, so they add to 1/(C/(N+I+J)) directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..dbmath import fspl_db, lin_to_db
from ..geometry import antenna
from ..geometry import orbit as geometry
from ..scenario.model import Scenario
from .interference import matched_filter_fraction


@dataclass
class InterferenceRows:
    """Per-row C/I terms (dB; +inf where there is none) and the published degradation allowance (dB)."""

    ci_asi_db: np.ndarray
    xpd_rain_db: np.ndarray
    ci_xpol_db: np.ndarray
    ci_alloc_db: np.ndarray
    degradation_db: float
    asi_off_axis_deg: dict[str, np.ndarray] = field(default_factory=dict)

    def inverse_sum(self) -> np.ndarray:
        """Sum of I/C (linear) over the terms."""
        return sum(10.0 ** (-np.asarray(x, dtype=float) / 10.0) for x in (self.ci_asi_db, self.ci_xpol_db,
                                                                         self.ci_alloc_db))


def _inv_db(terms: list[np.ndarray], n: int) -> np.ndarray:
    if not terms:
        return np.full(n, np.inf)
    inv = sum(10.0 ** (-t / 10.0) for t in terms)
    with np.errstate(divide="ignore"):
        return -lin_to_db(inv)


def adjacent_satellites(s: Scenario, t_unix: np.ndarray, boresight_ecef: np.ndarray, atmospheric_db: np.ndarray,
                        carrier_rx_dbw: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """C/I_ASI (dB) per row, all neighbours together, and each neighbour's off-axis angle (deg)."""
    n = len(t_unix)
    c, term = s.carrier, s.terminal
    site = geometry.Site(s.site.lat_deg, s.site.lon_deg, s.site.alt_m)
    terms, angles = [], {}
    for a in s.adjacent_satellites:
        assert s.satellite.geo_lon_deg is not None
        pos, _ = geometry.geo_ecef(s.satellite.geo_lon_deg + a.separation_deg, t_unix)
        off = np.broadcast_to(geometry.off_axis_deg(site, boresight_ecef, pos), (n,)).astype(float)
        rng = np.broadcast_to(geometry.look_angles(site, pos, np.zeros(3)).range_m, (n,)).astype(float)
        g_off = antenna.gain_dbi(off, term.antenna_diameter_m, term.antenna_efficiency, c.freq_hz, term.pattern)
        bw = a.bandwidth_hz or c.occupied_bw_hz
        share = matched_filter_fraction("barrage", c.symbol_rate_baud, c.rolloff, bandwidth_hz=bw,
                                        offset_hz=a.offset_hz)
        i_rx = (a.eirp_density_dbw_hz + float(lin_to_db(bw * max(share, 1e-30))) - fspl_db(c.freq_hz, rng)
                - atmospheric_db - a.polarization_loss_db + g_off)
        terms.append(carrier_rx_dbw - i_rx)
        angles[a.name] = off
    return _inv_db(terms, n), angles


def cross_polar(s: Scenario, rain_db: np.ndarray, elevation_deg: np.ndarray, p_pct: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """(XPD of rain and ice, C/I_XP) per row, dB (+inf without frequency reuse or without rain)."""
    n = len(rain_db)
    sat, term = s.satellite, s.terminal
    from ..propagation.xpd import rain_xpd_db

    with np.errstate(invalid="ignore"):
        xpd_rain = rain_xpd_db(np.nan_to_num(rain_db), s.carrier.freq_hz, np.clip(np.nan_to_num(elevation_deg),
                                                                                 0.0, 90.0), p_pct,
                               s.carrier.polarization_tilt_deg, rec=s.propagation.rec)
    if sat.cross_pol_carrier_db is None:
        return xpd_rain, np.full(n, np.inf)
    parts = [xpd_rain] + [np.full(n, float(x)) for x in (sat.xpd_db, term.xpd_db) if x is not None]
    xpd = _inv_db(parts, n)
    return xpd_rain, xpd - sat.cross_pol_carrier_db


def allocations(s: Scenario) -> tuple[float, float]:
    """(combined C/I of the published allocations in the symbol-rate bandwidth (dB), their degradation allowance)."""
    rs_db = float(lin_to_db(s.carrier.symbol_rate_baud))
    terms, degr = [], 0.0
    for it in s.interference:
        if it.c_over_i0_dbhz is not None:
            terms.append(np.array([it.c_over_i0_dbhz - rs_db]))
        elif it.c_over_i_db is not None:
            terms.append(np.array([it.c_over_i_db]))
        else:
            degr += float(it.degradation_db or 0.0)
    return float(_inv_db(terms, 1)[0]), degr


__all__ = ["InterferenceRows", "adjacent_satellites", "allocations", "cross_polar"]
