"""Hydrometeor depolarisation: the cross-polarisation discrimination (XPD) not exceeded p % of the time, from the
co-polar rain attenuation exceeded p % of the time, ITU-R P.618-13 section 4.1 (rain and ice).

    XPD_rain = C_f - C_A + C_tau + C_theta + C_sigma                                   (dB)
    C_f     = 60 log f - 28.3 (6 <= f < 9 GHz), 26 log f + 4.1 (9-36), 35.9 log f - 11.3 (36-55)
    C_A     = V(f) log A_p,  V = 30.8 f^-0.21 (6-9), 12.8 f^0.19 (9-20), 22.6 (20-40), 13.0 f^0.15 (40-55)
    C_tau   = -10 log(1 - 0.484 (1 + cos 4 tau))          (tau: polarisation tilt to the horizontal; 45 deg circular)
    C_theta = -40 log(cos theta)                          (theta: elevation, <= 60 deg)
    C_sigma = 0.0053 sigma^2, sigma = 0, 5, 10, 15 deg for p = 1, 0.1, 0.01, 0.001 %
    C_ice   = XPD_rain (0.3 + 0.1 log p) / 2,   XPD_p = XPD_rain - C_ice
Between 4 and 6 GHz the 6 GHz value is scaled by -20 log(f / 6) (the recommendation's frequency scaling at a fixed
tilt). The recommendation covers 4 to 55 GHz and elevations up to 60 deg: outside, the value is computed and a
ValidityWarning issued. Where A_p is 0 (no rain) the XPD is infinite.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError, ValidityWarning


def _c_sigma(p_pct: float) -> float:
    sigma = 0.0 if p_pct > 0.1 else 5.0 if p_pct > 0.01 else 10.0 if p_pct > 0.001 else 15.0
    return 0.0053 * sigma**2


def rain_xpd_db(rain_db: ArrayLike, freq_hz: float, elevation_deg: ArrayLike, p_pct: float,
                tilt_deg: float = 45.0, rec: str = "P.618-13") -> np.ndarray:
    """XPD (dB) not exceeded p_pct % of the time for a co-polar rain attenuation rain_db exceeded p_pct % of the time
    (vectorised over rain_db and elevation_deg); +inf where rain_db <= 0."""
    if rec != "P.618-13":
        raise InputError(f"rain XPD: revision {rec!r} is not implemented (use 'P.618-13')")
    a = np.asarray(rain_db, dtype=float)
    el = np.asarray(elevation_deg, dtype=float)
    f = float(freq_hz) / 1e9
    if not 0.0 < p_pct <= 100.0:
        raise InputError(f"rain XPD: p = {p_pct} % is outside (0, 100]")
    if f < 4.0 or f > 55.0 or np.any(el > 60.0):
        warnings.warn(f"rain XPD (P.618-13 4.1): {f:g} GHz / elevation up to {np.nanmax(el):.1f} deg is outside "
                      "4-55 GHz, <= 60 deg", ValidityWarning, stacklevel=2)
    fc = min(max(f, 6.0), 55.0)
    if fc < 9.0:
        c_f, v = 60.0 * np.log10(fc) - 28.3, 30.8 * fc**-0.21
    elif fc < 20.0:
        c_f, v = 26.0 * np.log10(fc) + 4.1, 12.8 * fc**0.19
    elif fc < 36.0:
        c_f, v = 26.0 * np.log10(fc) + 4.1, 22.6
    elif fc < 40.0:
        c_f, v = 35.9 * np.log10(fc) - 11.3, 22.6
    else:
        c_f, v = 35.9 * np.log10(fc) - 11.3, 13.0 * fc**0.15
    c_tau = -10.0 * np.log10(1.0 - 0.484 * (1.0 + np.cos(np.radians(4.0 * tilt_deg))))
    with np.errstate(divide="ignore", invalid="ignore"):
        c_a = v * np.log10(a)
        c_theta = -40.0 * np.log10(np.cos(np.radians(el)))
        xpd_rain = c_f - c_a + c_tau + c_theta + _c_sigma(p_pct)
        xpd = xpd_rain - xpd_rain * (0.3 + 0.1 * np.log10(p_pct)) / 2.0
    if f < 6.0:
        xpd = xpd - 20.0 * np.log10(f / 6.0)
    return np.where(a > 0.0, xpd, np.inf)


__all__ = ["rain_xpd_db"]
