"""DVB-S2 constellations (ETSI EN 302 307-1 clause 5.4, Figures 9 to 12) and soft demapping.

Every constellation is normalised to unit average symbol energy (as gr-dtv 3.10.5's modulator).
`points[label]` is the point carrying the bit label `label`, whose most significant bit is the first bit of
the symbol in the interleaved stream.

Soft demapping (`llrs`) gives per-bit log-likelihood ratios log P(b=0|y) / P(b=1|y) for complex AWGN with
E|n|^2 = noise_var (= N0 for unit-energy symbols): positive means bit 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numba
import numpy as np

from ..errors import InputError

# the bit labels (Figures 9 to 12) and ring ratios (Tables 9 and 10) live with the MODCOD table: the budget uses them
from ..scenario.modcods import APSK16_GAMMA, APSK32_GAMMA, CONSTELLATION_LABELS
from .params import frame_params


@dataclass(frozen=True)
class Constellation:
    """A labelled constellation: points[label] (complex128, unit average energy), label bits MSB first."""

    name: str  # "QPSK", "8PSK", "16APSK", "32APSK"
    points: np.ndarray  # complex128, shape (2**bits_per_symbol,)
    radii: tuple[float, ...]  # ring radii, inner first

    @property
    def bits_per_symbol(self) -> int:
        return int(self.points.size).bit_length() - 1

    @property
    def labels_bits(self) -> np.ndarray:
        """(M, m) uint8 table: bit j (MSB first) of each label."""
        m = self.bits_per_symbol
        lab = np.arange(self.points.size)
        return ((lab[:, None] >> (m - 1 - np.arange(m))[None, :]) & 1).astype(np.uint8)


def _build(name: str, table: dict[int, tuple[int, float]], radii: tuple[float, ...]) -> Constellation:
    pts = np.zeros(len(table), dtype=np.complex128)
    for label, (ring, phase) in table.items():
        pts[label] = radii[ring] * np.exp(1j * np.pi * phase)
    pts.setflags(write=False)
    return Constellation(name, pts, radii)


@cache
def constellation(name: str, rate: str | None = None) -> Constellation:
    """The constellation `name` ("QPSK", "8PSK", "16APSK", "32APSK"); APSK needs the code `rate` ("3/4")."""
    name = name.upper()
    if name == "QPSK":
        return _build(name, CONSTELLATION_LABELS[name], (1.0,))
    if name == "8PSK":
        return _build(name, CONSTELLATION_LABELS[name], (1.0,))
    if name == "16APSK":
        if rate not in APSK16_GAMMA:
            raise InputError(f"16APSK has no ring ratio for rate {rate!r}; rates: {', '.join(APSK16_GAMMA)}")
        g = APSK16_GAMMA[rate]
        r1 = np.sqrt(16.0 / (4 + 12 * g * g))
        return _build(name, CONSTELLATION_LABELS[name], (r1, g * r1))
    if name == "32APSK":
        if rate not in APSK32_GAMMA:
            raise InputError(f"32APSK has no ring ratio for rate {rate!r}; rates: {', '.join(APSK32_GAMMA)}")
        g1, g2 = APSK32_GAMMA[rate]
        r1 = np.sqrt(32.0 / (4 + 12 * g1 * g1 + 16 * g2 * g2))
        return _build(name, CONSTELLATION_LABELS[name], (r1, g1 * r1, g2 * r1))
    raise InputError(f"unknown constellation {name!r}; expected QPSK, 8PSK, 16APSK or 32APSK")


def with_rings(name: str, ratios: tuple[float, ...], ring_phase_rad: tuple[float, ...]) -> Constellation:
    """The labelled constellation `name` with other ring radii (ratios to the inner ring) and each ring turned by
    ring_phase_rad, unit average energy: what a pre-distorting transmitter sends (linksim.budget.distortion)."""
    from ..scenario.modcods import constellation_points

    pts = constellation_points(name, tuple(ratios), tuple(ring_phase_rad))
    radii = tuple(sorted({round(float(abs(p)), 12) for p in pts}))
    pts.setflags(write=False)
    return Constellation(name, pts, radii)


def for_modcod(modcod: str) -> Constellation:
    """The constellation of a MODCOD ("16APSK 3/4")."""
    p = frame_params(modcod)
    return constellation(p.constellation, p.rate)


def map_symbols(labels: np.ndarray, const: Constellation) -> np.ndarray:
    """Symbol labels (integers 0 .. M-1) -> complex64 points."""
    return const.points.astype(np.complex64)[np.asarray(labels)]


def bits_to_labels(bits: np.ndarray, bits_per_symbol: int) -> np.ndarray:
    """Group bits (uint8 0/1, length a multiple of m) MSB first into uint8 labels."""
    b = np.asarray(bits, dtype=np.uint8).reshape(-1, bits_per_symbol)
    weights = (1 << np.arange(bits_per_symbol - 1, -1, -1)).astype(np.uint8)
    return (b * weights).sum(axis=1, dtype=np.uint8)


# ---------------------------------------------------------------------------------------------- soft demappin


@numba.njit(cache=True, nogil=True, fastmath=True)
def _llr_maxlog(y, pr, pi, idx0, idx1, inv_n0, out):  # pragma: no cover - compiled
    n = y.shape[0]
    M = pr.shape[0]
    m = idx0.shape[0]
    h = idx0.shape[1]
    d = np.empty(M)
    for i in range(n):
        yr = y[i].real
        yi = y[i].imag
        s = inv_n0[i]
        for k in range(M):
            dr = yr - pr[k]
            di = yi - pi[k]
            d[k] = -(dr * dr + di * di) * s
        for j in range(m):
            m0 = -1e308
            m1 = -1e308
            for q in range(h):
                m0 = max(m0, d[idx0[j, q]])
                m1 = max(m1, d[idx1[j, q]])
            out[i, j] = m0 - m1


def _bit_subsets(const: Constellation) -> tuple[np.ndarray, np.ndarray]:
    """(m, M/2) index arrays: the labels whose bit j is 0, and those whose bit j is 1."""
    b = const.labels_bits
    idx0 = np.stack([np.nonzero(b[:, j] == 0)[0] for j in range(b.shape[1])]).astype(np.int64)
    idx1 = np.stack([np.nonzero(b[:, j] == 1)[0] for j in range(b.shape[1])]).astype(np.int64)
    return idx0, idx1


_EXACT_LIMIT = 75.0  # |LLR| above which the exact mode returns the max-log value
_CHUNK = 4096  # symbols per vectorised block (keeps the (chunk, M) work arrays in cache)


def _llr_exact(y: np.ndarray, const: Constellation, inv: np.ndarray, out: np.ndarray) -> None:
    """Exact log-MAP in float32 blocks: numpy's SIMD exp and a matrix product for the subset sums."""
    pts = const.points.astype(np.complex64)
    pr, pim = pts.real[None, :], pts.imag[None, :]
    b1 = const.labels_bits.astype(np.float32)
    b0 = np.float32(1) - b1
    for a in range(0, y.size, _CHUNK):
        yy = y[a : a + _CHUNK]
        dr = yy.real.astype(np.float32)[:, None] - pr
        di = yy.imag.astype(np.float32)[:, None] - pim
        d = dr * dr
        d += di * di
        d *= -inv[a : a + _CHUNK, None].astype(np.float32)
        d -= d.max(axis=1, keepdims=True)
        np.maximum(d, np.float32(-80.0), out=d)  # no float32 denormals in exp
        e = np.exp(d)
        out[a : a + _CHUNK] = np.log(e @ b0) - np.log(e @ b1)
    # beyond |LLR| = 75 a subset's terms may sit at the clamp: use the max-log value there (within log(M/2))
    big = np.abs(out) > _EXACT_LIMIT
    if big.any():
        rows = np.nonzero(big.any(axis=1))[0]
        tmp = np.empty((rows.size, out.shape[1]), dtype=np.float32)
        idx0, idx1 = _bit_subsets(const)
        _llr_maxlog(
            np.ascontiguousarray(y[rows]),
            np.ascontiguousarray(const.points.real),
            np.ascontiguousarray(const.points.imag),
            idx0,
            idx1,
            np.ascontiguousarray(inv[rows]),
            tmp,
        )
        sub = out[rows]
        sub[big[rows]] = tmp[big[rows]]
        out[rows] = sub


def llrs(
    symbols: np.ndarray,
    const: Constellation | np.ndarray,
    noise_var: float | np.ndarray,
    maxlog: bool = False,
) -> np.ndarray:
    """Per-bit LLRs of received symbols, shape (n_symbols, bits_per_symbol), float32, positive = bit 0.

    symbols: complex received symbols on the unit-energy constellation scale (any shape; flattened).
    const: a Constellation, or an array of 2^m complex points indexed by label (points[label]).
    noise_var: complex noise variance E|n|^2 (N0 when Es = 1), scalar or one value per symbol.
    maxlog: False gives the exact log-MAP (log-sum-exp) value, computed in float32, for |LLR| <= 75 (beyond,
    the max-log value, which is within log(M/2) of it); True the max-log approximation everywhere.
    Column j is the j-th bit (MSB first) of each symbol's label, i.e. the j-th interleaver column.
    """
    if not isinstance(const, Constellation):
        pts = np.asarray(const, dtype=np.complex128).reshape(-1)
        if pts.size < 2 or pts.size & (pts.size - 1):
            raise InputError(f"a constellation needs 2^m points, not {pts.size}")
        const = Constellation("custom", pts, tuple(np.unique(np.round(np.abs(pts), 12))))
    y = np.ascontiguousarray(np.asarray(symbols).reshape(-1), dtype=np.complex128)
    nv = np.asarray(noise_var, dtype=np.float64)
    if np.any(nv <= 0) or not np.all(np.isfinite(nv)):
        raise InputError("noise_var must be positive and finite")
    if nv.ndim and nv.size != y.size:
        raise InputError(f"noise_var has {nv.size} values for {y.size} symbols")
    inv = np.ascontiguousarray(np.broadcast_to(1.0 / nv.reshape(-1) if nv.ndim else 1.0 / nv, y.shape))
    out = np.empty((y.size, const.bits_per_symbol), dtype=np.float32)
    if maxlog:
        idx0, idx1 = _bit_subsets(const)
        pr = np.ascontiguousarray(const.points.real)
        pi = np.ascontiguousarray(const.points.imag)
        _llr_maxlog(y, pr, pi, idx0, idx1, inv, out)
    else:
        _llr_exact(y, const, inv, out)
    return out
