"""Root-raised-cosine pulse shaping (DVB-S2 roll-offs 0.35, 0.25, 0.20) and a stateful polyphase interpolator.

`rrc_taps` gives the closed-form impulse response sampled at `sps` samples per symbol, normalised to
unit energy (sum h^2 = 1), so a transmit/matched filter pair has a unit peak and zero ISI at symbol spacing.

`RrcInterpolator` turns symbols into samples with gain sqrt(sps): for unit-energy symbols the output has mean
sample power 1 (so with complex noise of variance s2 per sample, Es/N0 = sps / s2).
"""

from __future__ import annotations

import numba
import numpy as np

from ..errors import InputError

DVBS2_ROLLOFFS = (0.35, 0.25, 0.20)
# 40 symbols keeps the truncated TX/matched-filter pair ISI below 4e-4 of the peak for every roll-off.
DEFAULT_SPAN_SYMBOLS = 40


def rrc_impulse(t_sym: np.ndarray, rolloff: float) -> np.ndarray:
    """Closed-form RRC impulse response at times t (in symbol periods), peak 1 + a(4/pi - 1) at t = 0."""
    a = float(rolloff)
    t = np.asarray(t_sym, dtype=np.float64)
    out = np.empty_like(t)
    at0 = np.abs(t) < 1e-12
    sing = np.abs(np.abs(t) - 1 / (4 * a)) < 1e-9 if a > 0 else np.zeros_like(at0)
    reg = ~(at0 | sing)
    tr = t[reg]
    num = np.sin(np.pi * tr * (1 - a)) + 4 * a * tr * np.cos(np.pi * tr * (1 + a))
    den = np.pi * tr * (1 - (4 * a * tr) ** 2)
    out[reg] = num / den
    out[at0] = 1 + a * (4 / np.pi - 1)
    if a > 0:
        out[sing] = (
            a / np.sqrt(2) * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * a)) + (1 - 2 / np.pi) * np.cos(np.pi / (4 * a)))
        )
    return out


def rrc_taps(rolloff: float, sps: float, span_symbols: int = DEFAULT_SPAN_SYMBOLS) -> np.ndarray:
    """RRC FIR taps (float64, symmetric, unit energy) sampled every 1/sps symbol: length span_symbols*sps + 1
    for an integer sps; for any other sps >= 1 (a receiver whose sample rate is not a multiple of the symbol
    rate) the nearest odd length, centred on the peak."""
    if not 0 < rolloff <= 1:
        raise InputError(f"roll-off must be in (0, 1], not {rolloff}")
    if not np.isfinite(sps) or sps < 1:
        raise InputError(f"samples per symbol must be a number >= 1, not {sps}")
    if int(span_symbols) != span_symbols or span_symbols < 2 or span_symbols % 2:
        raise InputError(f"span must be an even number of symbols >= 2, not {span_symbols}")
    n = 2 * int(round(span_symbols * sps / 2))
    t = (np.arange(n + 1) - n / 2) / sps
    h = rrc_impulse(t, rolloff)
    return h / np.sqrt(np.sum(h * h))


@numba.njit(cache=True, nogil=True)
def _polyphase(buf, phases, out):  # pragma: no cover - compiled
    """out[n, p] = sum_k phases[p, k] * buf[n + L - 1 - k], L = phases.shape[1] (buf holds L-1 history)."""
    sps, L = phases.shape
    n_out = out.shape[0]
    for n in range(n_out):
        for p in range(sps):
            ar = np.float32(0.0)
            ai = np.float32(0.0)
            for k in range(L):
                v = buf[n + L - 1 - k]
                h = phases[p, k]
                ar += h * v.real
                ai += h * v.imag
            out[n, p] = complex(ar, ai)


class RrcInterpolator:
    """Stateful polyphase RRC interpolator: symbols in, sps samples per symbol out (complex64).

    Consecutive `__call__`s give exactly the samples one call on the concatenated input would give. The filter
    delay is span_symbols/2 symbols: the peak of symbol k's pulse is output sample (k + span/2)*sps.
    `flush()` returns the tail (span_symbols*sps samples) that pushes the last symbols out with zeros.
    """

    def __init__(self, rolloff: float = 0.2, sps: int = 2, span_symbols: int = DEFAULT_SPAN_SYMBOLS) -> None:
        if int(sps) != sps or sps < 1:
            raise InputError(f"the transmitter needs a whole number of samples per symbol, not {sps}")
        self.sps = int(sps)
        self.rolloff = float(rolloff)
        self.span_symbols = int(span_symbols)
        taps = rrc_taps(rolloff, sps, span_symbols) * np.sqrt(sps)
        taps = np.concatenate([taps, np.zeros(self.sps * (self.span_symbols + 1) - taps.size)])
        # phase p: y[n*sps + p] = sum_k taps[p + k*sps] x[n - k]
        # (sps, span+1)
        self._phases = np.ascontiguousarray(taps.reshape(self.span_symbols + 1, self.sps).T, dtype=np.float32)
        self._hist = np.zeros(self.span_symbols, dtype=np.complex64)

    @property
    def delay_samples(self) -> int:
        return self.span_symbols * self.sps // 2

    def reset(self) -> None:
        self._hist[:] = 0

    def __call__(self, symbols: np.ndarray) -> np.ndarray:
        x = np.asarray(symbols, dtype=np.complex64).reshape(-1)
        n = x.size
        if n == 0:
            return np.zeros(0, dtype=np.complex64)
        buf = np.concatenate([self._hist, x])
        out = np.empty((n, self.sps), dtype=np.complex64)
        _polyphase(buf, self._phases, out)
        self._hist = buf[-self.span_symbols :].copy()
        return out.reshape(-1)

    def flush(self) -> np.ndarray:
        """Samples that drain the filter (feeds span_symbols zero symbols)."""
        return self(np.zeros(self.span_symbols, dtype=np.complex64))
