"""Decibel helpers and physical constants (SI)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

C_M_S = 299_792_458.0
BOLTZMANN_DBW_K_HZ = -228.5991631  # 10 log10(1.380649e-23)
T0_K = 290.0
EARTH_RADIUS_EQ_M = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
GEO_RADIUS_M = 42_164_170.0


def db_to_lin(x_db: ArrayLike) -> np.ndarray:
    return np.power(10.0, np.asarray(x_db, dtype=float) / 10.0)


def lin_to_db(x: ArrayLike) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(x, dtype=float))


def noise_figure_to_temp_k(nf_db: ArrayLike) -> np.ndarray:
    return T0_K * (db_to_lin(nf_db) - 1.0)


def fspl_db(freq_hz: ArrayLike, range_m: ArrayLike) -> np.ndarray:
    """Free-space path loss 20 log10(4 pi d f / c)."""
    f = np.asarray(freq_hz, dtype=float)
    d = np.asarray(range_m, dtype=float)
    return 20.0 * np.log10(4.0 * np.pi * d * f / C_M_S)
