"""DVB-S2X VL-SNR receiver synchronisation: finding the 990 known symbols (PLHEADER + VL-SNR header) at Es/N0 down
to -10 dB, with a carrier offset, and deciding which of the 9 VL-SNR MODCODs the header names.

The nine headers share one 990-symbol signature up to the sign of the PLSC (set 1 or 2) and one sign per 56-symbol
block of the VL-SNR header (`vlsnr.header_structure`). Two stages:

1. `differential_search`: multi-lag differential correlation. For lags l = 1..K, the products y[k+l] y*[k] are
   correlated with the signature's h[k+l] h*[k] wherever both symbols lie in the same block (the unknown signs
   cancel); each lag's sum turns with the carrier offset f (cycles/symbol) as exp(j 2 pi f l), so the K sums are
   added over a grid of offsets. Insensitive to the carrier phase and, within the grid, to the offset; at
   Es/N0 = -8.9 dB (the most robust MODCOD + 1 dB) 8 lags give the true header a deflection of about 90 (noise 1).
2. `coherent_check`: at a few candidate positions, the coherent correlation over all 990 symbols with each MODCOD's
   signs, over a fine offset grid around the stage-1 estimate: rho = |sum y h*| / sqrt(990 sum |y|^2), about
   sqrt(S / (S + N)) at a header (0.30 at -10 dB) and below 0.1 for noise or another frame's symbols. It names the
   MODCOD and measures the offset to about 1e-4 cycles/symbol.

Offsets are in cycles per symbol; positions index the symbol buffer given (the PLHEADER's first symbol).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import oaconvolve

from .params import PLHEADER_SYMBOLS, VLSNR_BY_HEADER, VLSNR_CODES, VLSNR_PLS
from .plframe import pi2_bpsk
from .vlsnr import HEADER_BLOCK_BITS, HEADER_BLOCKS, KNOWN_HEAD_SYMBOLS, header_structure, plheader_s2x

SOF_LEN = 26
_FIRST_BLOCK = PLHEADER_SYMBOLS + 2  # the VL-SNR header's 896-bit sequence starts after 2 zero bits


@dataclass(frozen=True)
class Signature:
    """The common 990-symbol signature h (PLS code 129, every block sign +1), its segments (start, stop) within
    which the relative signs are fixed, and per MODCOD the sign of each segment (names: the MODCOD names)."""

    h: np.ndarray  # (990,) complex64
    segments: tuple[tuple[int, int], ...]
    seg_of: np.ndarray  # (990,) segment index of each symbol
    names: tuple[str, ...]
    signs: np.ndarray  # (modcods, segments) float32


@lru_cache(maxsize=1)
def signature() -> Signature:
    common, chips = header_structure()
    bits = np.zeros(KNOWN_HEAD_SYMBOLS - PLHEADER_SYMBOLS, dtype=np.uint8)
    bits[2:898] = common
    h = np.concatenate([plheader_s2x(VLSNR_PLS[1]), pi2_bpsk(bits)]).astype(np.complex64)
    segs = [(0, SOF_LEN), (SOF_LEN, PLHEADER_SYMBOLS), (PLHEADER_SYMBOLS, _FIRST_BLOCK)]
    segs += [(_FIRST_BLOCK + HEADER_BLOCK_BITS * b, _FIRST_BLOCK + HEADER_BLOCK_BITS * (b + 1))
             for b in range(HEADER_BLOCKS)]
    segs += [(KNOWN_HEAD_SYMBOLS - 2, KNOWN_HEAD_SYMBOLS)]
    seg_of = np.empty(KNOWN_HEAD_SYMBOLS, dtype=np.int64)
    for i, (a, b) in enumerate(segs):
        seg_of[a:b] = i
    # PLSC of set 2 (PLS 131) is set 1's with every symbol negated (the generator row 0xFFFFFFFF)
    assert np.allclose(plheader_s2x(VLSNR_PLS[2])[SOF_LEN:], -h[SOF_LEN:PLHEADER_SYMBOLS])
    names = tuple(VLSNR_CODES)
    signs = np.ones((len(names), len(segs)), dtype=np.float32)
    for i, name in enumerate(names):
        c = VLSNR_CODES[name]
        signs[i, 1] = 1.0 if c.set == 1 else -1.0
        signs[i, 3 : 3 + HEADER_BLOCKS] = chips[c.header]
    for arr in (h, seg_of, signs):
        arr.setflags(write=False)
    assert {VLSNR_BY_HEADER[VLSNR_CODES[n].header] for n in names} == set(names)
    return Signature(h, tuple(segs), seg_of, names, signs)


@lru_cache(maxsize=4)
def _lag_refs(max_lag: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Per lag l = 1..max_lag: conj(r_l) reversed (for a valid convolution), r_l[k] = h[k+l] h*[k] where k and
    k+l share a segment (else 0), k < 990 - l; and the number of valid terms per lag."""
    sig = signature()
    refs = []
    counts = np.zeros(max_lag)
    for lag in range(1, max_lag + 1):
        k = np.arange(KNOWN_HEAD_SYMBOLS - lag)
        ok = sig.seg_of[k] == sig.seg_of[k + lag]
        r = np.where(ok, sig.h[k + lag] * np.conj(sig.h[k]), 0).astype(np.complex64)
        c = np.ascontiguousarray(np.conj(r)[::-1])
        c.setflags(write=False)
        refs.append(c)
        counts[lag - 1] = np.count_nonzero(ok)
    return tuple(refs), counts


def differential_search(y: np.ndarray, max_lag: int = 8, max_offset_cyc: float = 0.1,
                        candidates: int = 4) -> list[tuple[int, float, float]]:
    """Stage 1 over every start position p with p + 990 <= len(y): the multi-lag differential metric, best over an
    offset grid 1/(4 max_lag) apart within +-max_offset_cyc. Returns the `candidates` best positions (no two
    within 3 symbols) as (p, offset estimate, metric), metric ~ 1 for noise (exponential), about 1 + deflection at
    a header."""
    y = np.asarray(y, dtype=np.complex64)
    n = y.size - KNOWN_HEAD_SYMBOLS + 1
    if n <= 0:
        return []
    refs, counts = _lag_refs(max_lag)
    d_sum = np.empty((max_lag, n), dtype=np.complex64)
    for lag in range(1, max_lag + 1):
        d = y[lag:] * np.conj(y[:-lag])
        # D_l(p) = sum_k d[p + k] conj(r_l[k]), k < 990 - l: a valid convolution with the reversed reference
        d_sum[lag - 1] = oaconvolve(d, refs[lag - 1], mode="valid")[:n]
    step = 1.0 / (4 * max_lag)
    nf = int(np.floor(max_offset_cyc / step))
    freqs = step * np.arange(-nf, nf + 1)
    rot = np.exp(-2j * np.pi * np.outer(np.arange(1, max_lag + 1), freqs)).astype(np.complex64)  # (lags, f)
    s = np.abs(d_sum.T @ rot) ** 2  # (n, f)
    best_f = np.argmax(s, axis=1)
    metric = s[np.arange(n), best_f]
    # noise level: every term has variance P^2 (P the mean power per symbol)
    e = np.abs(y) ** 2
    cs = np.concatenate([[0.0], np.cumsum(e, dtype=np.float64)])
    p_loc = (cs[KNOWN_HEAD_SYMBOLS : KNOWN_HEAD_SYMBOLS + n] - cs[:n]) / KNOWN_HEAD_SYMBOLS
    metric = metric / (np.sum(counts) * np.maximum(p_loc, 1e-30) ** 2)
    out: list[tuple[int, float, float]] = []
    m = metric.copy()
    for _ in range(candidates):
        p = int(np.argmax(m))
        if m[p] <= 0:
            break
        out.append((p, float(freqs[best_f[p]]), float(metric[p])))
        m[max(0, p - 3) : p + 4] = 0
    return out


_NFFT = 4096  # offset resolution 1/4096 cycles/symbol of the FFT path
_FFT_SPAN = 0.005  # wider offset ranges go through the FFT, narrower ones through a cached grid


@lru_cache(maxsize=32)
def _offset_grid(nf: int, step: float) -> np.ndarray:
    """(2 nf + 1, 990) complex64: exp(-j 2 pi f (k - 494.5)) for f = step * (-nf..nf)."""
    k = np.arange(KNOWN_HEAD_SYMBOLS) - (KNOWN_HEAD_SYMBOLS - 1) / 2
    g = np.exp(-2j * np.pi * np.outer(step * np.arange(-nf, nf + 1), k)).astype(np.complex64)
    g.setflags(write=False)
    return g


@lru_cache(maxsize=1)
def _segment_starts() -> np.ndarray:
    return np.array([a for a, _ in signature().segments])


def _segment_sums(u: np.ndarray, span_cyc: float, step_cyc: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-segment sums of u exp(-j 2 pi f (k - 494.5)) at offsets f within +-span_cyc: (offsets, (offsets,
    segments) sums, grid step). Wide spans: one FFT per segment (all offsets 1/4096 apart at once); narrow ones: a
    cached grid of `step_cyc`."""
    sig = signature()
    if span_cyc > _FFT_SPAN:
        import scipy.fft

        m = np.zeros((len(sig.segments), _NFFT), dtype=np.complex64)
        m[sig.seg_of, np.arange(KNOWN_HEAD_SYMBOLS)] = u
        spec = scipy.fft.fft(m, axis=1, workers=1)
        nb = int(np.ceil(span_cyc * _NFFT))
        bins = np.arange(-nb, nb + 1)
        fs = bins / _NFFT
        # the FFT counts k from 0: turn each offset's sums to the centre of the 990 symbols
        sums = (spec[:, bins % _NFFT] * np.exp(2j * np.pi * fs * (KNOWN_HEAD_SYMBOLS - 1) / 2)).T
        return fs, sums.astype(np.complex64), 1.0 / _NFFT
    nf = int(np.ceil(span_cyc / step_cyc)) if span_cyc > 0 else 0
    sums = np.add.reduceat(_offset_grid(nf, step_cyc) * u[None, :], _segment_starts(), axis=1)
    return step_cyc * np.arange(-nf, nf + 1), sums, step_cyc


def coherent_check(y990: np.ndarray, f_cyc: float, span_cyc: float, step_cyc: float = 2.5e-4,
                   names: tuple[str, ...] | None = None) -> tuple[str, float, float, complex]:
    """Stage 2 at one position: the coherent correlation of the 990 symbols y990 with each VL-SNR MODCOD's
    signature, at offsets f_cyc +- span_cyc (grid step_cyc, or 1/4096 above +-0.005; then a parabolic refinement).
    Returns (MODCOD name, rho, offset, gain), rho = |sum y h*| / sqrt(990 sum |y|^2) (about sqrt(S/(S+N)) at a
    header, ~0.03 for noise), gain = mean(y h*) at the offset (amplitude and phase at the signature's centre)."""
    sig = signature()
    y = np.asarray(y990, dtype=np.complex64)
    k = np.arange(KNOWN_HEAD_SYMBOLS) - (KNOWN_HEAD_SYMBOLS - 1) / 2
    u = (y * np.conj(sig.h) * np.exp(-2j * np.pi * f_cyc * k)).astype(np.complex64)
    fs, seg_sums, step = _segment_sums(u, span_cyc, step_cyc)
    sel = sig.signs if names is None else sig.signs[[sig.names.index(n) for n in names]]
    corr = seg_sums @ sel.T.astype(np.complex64)  # (f, modcods)
    mag = np.abs(corr)
    fi, vi = np.unravel_index(int(np.argmax(mag)), mag.shape)
    frac = 0.0
    if 0 < fi < fs.size - 1:
        a, b, c = mag[fi - 1, vi] ** 2, mag[fi, vi] ** 2, mag[fi + 1, vi] ** 2
        den = a - 2 * b + c
        frac = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5)) if den < 0 else 0.0
    energy = float(np.vdot(y, y).real)
    rho = float(mag[fi, vi] / np.sqrt(KNOWN_HEAD_SYMBOLS * max(energy, 1e-30)))
    name = (sig.names if names is None else names)[vi]
    return name, rho, float(f_cyc + fs[fi] + frac * step), complex(corr[fi, vi] / KNOWN_HEAD_SYMBOLS)


def block_phase(zk: np.ndarray, starts: list[int], lengths: list[int], n: int,
                smooth: int = 3) -> tuple[np.ndarray, float]:
    """Feed-forward phase trajectory of a VL-SNR frame from its known-symbol blocks, robust at Es/N0 -10 dB.

    zk: symbols times the conjugate of their known reference, the carrier estimate removed (only the blocks are
    used). The blocks' complex sums are averaged over `smooth` neighbouring blocks (odd; fewer at the frame's
    edges) before their angle is taken: in the complex domain a block whose phase noise is large (36 symbols at
    -10 dB scatter by 0.37 rad rms, now and then by 2 rad) only weighs by its amplitude, where unwrapping block by
    block can run away. The smoothed phases are unwrapped, interpolated linearly to every symbol 0..n-1 (held
    beyond the first and last block centres) and fitted with a line (weighted by block length). Returns (phase per
    symbol in radians, fitted slope in cycles/symbol)."""
    c = np.array([np.sum(zk[s : s + m]) for s, m in zip(starts, lengths, strict=True)])
    kc = np.array([s + (m - 1) / 2 for s, m in zip(starts, lengths, strict=True)], dtype=np.float64)
    h = max(smooth, 1) // 2
    cs = np.concatenate([[0], np.cumsum(c)])
    idx = np.arange(c.size)
    lo, hi = np.maximum(idx - h, 0), np.minimum(idx + h + 1, c.size)
    th = np.unwrap(np.angle(cs[hi] - cs[lo]))
    if th.size == 1:
        return np.full(n, th[0]), 0.0
    a, _ = np.polyfit(kc, th, 1, w=np.sqrt(np.asarray(lengths, dtype=np.float64)))
    return np.interp(np.arange(n, dtype=np.float64), kc, th), float(a / (2 * np.pi))
