"""Oscillator phase noise for the sample-clocked channel: a Wiener (random-walk) part and a PSD-mask part.

PhaseNoise(linewidth_hz=0, mask=()):
    linewidth_hz: full 3 dB linewidth of a free-running oscillator (Lorentzian line). The phase is a random
        walk with increment variance 2 pi linewidth / fs per sample (rad^2).
    mask: ((offset_hz, dbc_hz), ...) single-sideband phase-noise mask L(f) in dBc/Hz, interpolated linearly in
        log-frequency, held flat below the first and above the last offset. The phase's two-sided PSD is L(|f|)
        (small-angle: L(f) = S_phi(f)/2 with S_phi one-sided). Realised with 4096-tap FIRs on white Gaussian
        noise in two bands: above the crossover f_c = 8 fs / 4096 at the sample rate, and below it at a rate
        fs_L = fs / D (D = floor(fs / (20 f_c)), 80 kHz at 2 Msps) interpolated linearly to fs, so the mask is
        resolved down to about fs_L / 4096 (20 Hz at 2 Msps) rather than fs / 4096: the slopes below a few kHz,
        where a receiver's carrier tracking leaves its residual, come out as the mask says. The bands cross over
        with complementary raised-cosine weights between f_c and 2 f_c. Generated in fixed batches of 8192
        samples (of each rate).
The runtime's `phasors(n0, n)` returns exp(j theta[n]) as complex64 for absolute samples n0..n0+n-1,
independent of chunking (same key -> bit-identical).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from ..compiled import kernel
from ..errors import InputError
from .noise import standard_normal, stream_key

MASK_TAPS = 4096
BATCH = 8192


@dataclass(frozen=True)
class PhaseNoise:
    """Phase noise: Wiener linewidth (Hz) and/or an SSB mask ((offset_hz, dBc/Hz), ...)."""

    linewidth_hz: float = 0.0
    mask: Sequence[tuple[float, float]] = ()

    def __post_init__(self) -> None:
        if not (np.isfinite(self.linewidth_hz) and self.linewidth_hz >= 0):
            raise InputError(f"phase_noise linewidth_hz: must be >= 0, got {self.linewidth_hz}")
        m = np.asarray(self.mask, dtype=float).reshape(-1, 2) if len(self.mask) else np.empty((0, 2))
        if m.size and (np.any(m[:, 0] <= 0) or np.any(np.diff(m[:, 0]) <= 0) or not np.all(np.isfinite(m))):
            raise InputError("phase_noise mask: offsets must be > 0 and increasing, levels finite")

    def runtime(self, sample_rate_hz: float, key: np.uint64) -> _PhaseNoiseRuntime:
        return _PhaseNoiseRuntime(self, sample_rate_hz, key)


def crossover_weight(f_hz: np.ndarray, f_c: float) -> np.ndarray:
    """The low band's share of the mask: 1 below f_c, a raised cosine to 0 at 2 f_c (the high band has 1 - it)."""
    x = np.clip((np.abs(f_hz) - f_c) / f_c, 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * x))


def mask_fir(mask: np.ndarray, fs: float, taps: int = MASK_TAPS, band: str = "all",
             f_c: float | None = None) -> np.ndarray:
    """Real FIR with |H(f)|^2 = fs * 10^(L(|f|)/10) (times the crossover weight of `band` "low" or "high" at f_c),
    so unit-variance white input gives two-sided PSD L(|f|)."""
    nfft = 4 * taps
    f = np.abs(np.fft.fftfreq(nfft, d=1.0 / fs))
    lf = np.log10(np.maximum(f, mask[0, 0]))
    level_db = np.interp(lf, np.log10(mask[:, 0]), mask[:, 1])
    psd = fs * 10.0 ** (level_db / 10.0)
    if band != "all":
        w = crossover_weight(f, float(f_c))
        psd = psd * (w if band == "low" else 1.0 - w)
    amp = np.sqrt(psd)
    h = np.fft.fftshift(np.fft.ifft(amp).real)
    c = nfft // 2
    return h[c - taps // 2 : c - taps // 2 + taps] * np.kaiser(taps, 5.0)


@kernel(nogil=True)
def _walk(w, step, start, out):
    s = start
    for i in range(w.shape[0]):
        s = s + step * w[i]
        out[i] = s
    return s


class _PhaseNoiseRuntime:
    def __init__(self, p: PhaseNoise, fs: float, key: np.uint64) -> None:
        self.fs = fs
        self._wkey = stream_key(int(key), "wiener")
        self._mkey = stream_key(int(key), "mask")
        self._step = float(np.sqrt(2.0 * np.pi * p.linewidth_hz / fs))
        self._theta = 0.0
        self._fir = None
        self._low_fir = None
        self._decim = 1
        if len(p.mask):
            m = np.asarray(p.mask, dtype=float).reshape(-1, 2)
            f_c = 8.0 * fs / MASK_TAPS
            self._decim = int(fs // (20.0 * f_c))
            if self._decim >= 2:  # two bands: the low one at fs / decim resolves the mask's low offsets
                self._fir = mask_fir(m, fs, band="high", f_c=f_c)
                self._low_fir = mask_fir(m, fs / self._decim, band="low", f_c=f_c)
            else:
                self._fir = mask_fir(m, fs)
        self._lkey = stream_key(int(key), "mask-low")
        self._cache: dict[int, np.ndarray] = {}
        self._low_cache: dict[int, np.ndarray] = {}

    def _batch(self, cache: dict[int, np.ndarray], key: np.uint64, fir: np.ndarray, b: int) -> np.ndarray:
        got = cache.get(b)
        if got is None:
            w = standard_normal(key, b * BATCH - MASK_TAPS + 1 + (1 << 40), BATCH + MASK_TAPS - 1)
            got = fftconvolve(w, fir, mode="valid")
            cache[b] = got
            for old in [k for k in cache if k < b - 2]:
                del cache[old]
        return got

    def _mask_batch(self, b: int) -> np.ndarray:
        return self._batch(self._cache, self._mkey, self._fir, b)

    def _low(self, n0: int, n: int) -> np.ndarray:
        """The low band at absolute samples n0..n0+n-1: linear interpolation of the fs / decim process."""
        d = self._decim
        pos = np.arange(n0, n0 + n, dtype=np.int64)
        i = pos // d
        frac = (pos - i * d) / d
        lo, hi = int(i[0]), int(i[-1]) + 1
        b_lo, b_hi = lo // BATCH, hi // BATCH
        a = np.concatenate([self._batch(self._low_cache, self._lkey, self._low_fir, b) for b in range(b_lo, b_hi + 1)])
        j = i - b_lo * BATCH
        return a[j] * (1.0 - frac) + a[j + 1] * frac

    def phases(self, n0: int, n: int) -> np.ndarray:
        """Phase theta (rad, float64) for absolute samples n0..n0+n-1; chunks must come in order."""
        th = np.zeros(n)
        if self._step > 0:
            w = standard_normal(self._wkey, n0, n)
            self._theta = _walk(w, self._step, self._theta, th)
        if self._fir is not None and n:
            b_lo, b_hi = n0 // BATCH, (n0 + n - 1) // BATCH
            a = np.concatenate([self._mask_batch(b) for b in range(b_lo, b_hi + 1)])
            off = n0 - b_lo * BATCH
            th += a[off : off + n]
        if self._low_fir is not None and n:
            th += self._low(n0, n)
        return th

    def phasors(self, n0: int, n: int) -> np.ndarray:
        th = self.phases(n0, n)
        return np.exp(1j * th).astype(np.complex64)
