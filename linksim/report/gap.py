"""Where a run's measurement disagrees with its budget: per-bin differences and the intervals where they exceed a
tolerance (|measured - predicted Es/N0| in dB, goodput difference in % of the prediction)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import RunData

ESN0_TOL_DB = 1.0
GOODPUT_TOL_PCT = 10.0


@dataclass
class BinGaps:
    """Per measured bin (arrays of length n_bins)."""

    d_esn0_db: np.ndarray  # measured - predicted Es/N0 (NaN where either is missing)
    d_goodput_pct: np.ndarray  # 100 (measured - predicted) / predicted; +inf if predicted 0 and measured > 0
    esn0_flag: np.ndarray  # bool: |d_esn0_db| > tolerance
    goodput_flag: np.ndarray  # bool: |d_goodput_pct| > tolerance and more than one frame's bits per bin
    esn0_tol_db: float = ESN0_TOL_DB
    goodput_tol_pct: float = GOODPUT_TOL_PCT

    @property
    def flagged(self) -> np.ndarray:
        return self.esn0_flag | self.goodput_flag


@dataclass
class GapInterval:
    """Consecutive flagged bins with the same kind of disagreement."""

    first: int  # bin index
    last: int  # bin index (inclusive)
    t_start_s: float  # scenario time of the first bin's start
    t_end_s: float  # and of the last bin's end
    kinds: tuple[str, ...]  # "Es/N0", "goodput"
    d_esn0_db_mean: float
    d_esn0_db_max: float  # the largest |difference|, with its sign
    d_goodput_pct_mean: float
    d_goodput_pct_max: float
    predicted_goodput_bps_mean: float
    goodput_bps_mean: float

    @property
    def n_bins(self) -> int:
        return self.last - self.first + 1


def frame_quantum_bps(r: RunData) -> np.ndarray:
    """Per bin: the goodput one frame of the MODCOD(s) sent adds (information bits / bin_s); 0 if unknown.
    A bin of n whole frames cannot match a prediction closer than this."""
    from ..dvbs2.params import frame_params
    from ..errors import InputError

    car = r.scenario.get("carrier") or {}
    frame, pilots = str(car.get("frame", "normal")), bool(car.get("pilots", True))
    bin_s = r.num("measured", "bin_s")
    out = np.zeros(r.n_bins)
    cache: dict[str, int] = {}
    for k, name in enumerate(r.text("measured", "modcod")):
        bits = 0
        for part in str(name).split("+"):
            if part not in cache:
                try:
                    cache[part] = frame_params(part, frame, pilots).data_field_bits
                except (InputError, KeyError, ValueError):
                    cache[part] = 0
            bits = max(bits, cache[part])
        if bin_s[k] > 0:
            out[k] = bits / bin_s[k]
    return out


def bin_gaps(r: RunData, esn0_tol_db: float = ESN0_TOL_DB, goodput_tol_pct: float = GOODPUT_TOL_PCT) -> BinGaps:
    """Per-bin differences. Goodput counts as off when it differs from the prediction by more than goodput_tol_pct
    AND by more than one frame's worth of bits in the bin (short bins hold whole frames only)."""
    est = r.num("measured", "esn0_est_db")
    pred = r.num("measured", "predicted_esn0_db")
    g = r.num("measured", "goodput_bps")
    pg = r.num("measured", "predicted_goodput_bps")
    d_e = est - pred
    d_g = np.full(len(g), np.nan)
    pos = pg > 0
    d_g[pos] = 100.0 * (g[pos] - pg[pos]) / pg[pos]
    zero = (pg == 0) & np.isfinite(g)
    d_g[zero & (g > 0)] = np.inf
    d_g[zero & (g == 0)] = 0.0
    with np.errstate(invalid="ignore"):
        e_flag = np.abs(d_e) > esn0_tol_db
        g_flag = (np.abs(d_g) > goodput_tol_pct) & (np.abs(g - pg) > frame_quantum_bps(r) * (1 + 1e-9))
    return BinGaps(d_e, d_g, e_flag, g_flag, esn0_tol_db, goodput_tol_pct)


def _signed_max(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    if not x.size:
        return math.nan
    return float(x[np.argmax(np.abs(x))])


def _mean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.mean(x)) if x.size else math.nan


def gap_intervals(r: RunData, gaps: BinGaps) -> list[GapInterval]:
    """Group consecutive flagged bins (adjacent in time and of the same kind) into intervals."""
    t0 = r.num("measured", "time_s")
    t1 = t0 + r.num("measured", "bin_s")
    g = r.num("measured", "goodput_bps")
    pg = r.num("measured", "predicted_goodput_bps")
    out: list[GapInterval] = []
    k = 0
    n = len(t0)
    while k < n:
        if not gaps.flagged[k]:
            k += 1
            continue
        kind = (bool(gaps.esn0_flag[k]), bool(gaps.goodput_flag[k]))
        j = k
        while (j + 1 < n and (bool(gaps.esn0_flag[j + 1]), bool(gaps.goodput_flag[j + 1])) == kind
               and t0[j + 1] <= t1[j] + 1e-6):
            j += 1
        sl = slice(k, j + 1)
        dg = gaps.d_goodput_pct[sl]
        out.append(GapInterval(
            first=k, last=j, t_start_s=float(t0[k]), t_end_s=float(t1[j]),
            kinds=tuple(name for name, on in zip(("Es/N0", "goodput"), kind, strict=True) if on),
            d_esn0_db_mean=_mean(gaps.d_esn0_db[sl]), d_esn0_db_max=_signed_max(gaps.d_esn0_db[sl]),
            d_goodput_pct_mean=_mean(dg) if np.all(np.isfinite(dg)) else math.inf,
            d_goodput_pct_max=_signed_max(dg) if np.all(np.isfinite(dg)) else math.inf,
            predicted_goodput_bps_mean=_mean(pg[sl]), goodput_bps_mean=_mean(g[sl]),
        ))
        k = j + 1
    return out
