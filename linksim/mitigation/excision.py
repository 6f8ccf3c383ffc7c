"""FFT-domain excision of narrowband interference (tones, multitones, slow sweeps, narrow noise) before the matched
filter.

The stream is cut into frames of `fft_size` samples every `fft_size / 2` (50 % overlap). Each frame is weighted by a
periodic sqrt-Hann window w[k] = sin(pi (k + 1/2) / N), transformed, cleaned, transformed back, weighted by w again
and overlap-added: w^2[k] + w^2[k + N/2] = 1 (a constant-overlap-add pair), so a frame left alone comes back exactly
(to float32 rounding) and the excision of a frame touches only its own samples.

Cleaning: a bin whose power exceeds `threshold_db` over the reference at its frequency is removed (mode "zero") or
brought down to the reference level with its phase kept (mode "clip"); `guard_bins` neighbours of each such bin go
with it (the window's leakage). So is every bin whose lasting power (the smallest of the sub-group means below)
stays `persist_db` over the reference: a jammer that stays (a partial-band noise a few dB over the carrier) is
caught however much its single-frame bins fluctuate, and a sweep, which stays nowhere, is not.

The reference is the receiver's own spectrum without the jammer. Per bin, the typical power over `average_frames`
frames (the median of the means of SUBGROUPS sub-groups of them: a sweep that passes through a bin now and then does
not raise it; a tone or a band that stays does); then a running median across frequency over `window_bins` bins
(default a quarter of the frame), which ignores anything narrower than half its window (a tone, a multitone's lines,
a partial band up to an eighth of the sample rate) but follows the carrier's root-raised-cosine shape, its roll-off
and the noise floor outside it (the median of a monotone stretch is its middle value), so the carrier's own band
edges stay under the threshold. The reference and the lasting power are refreshed after every group of
`average_frames` frames (exponential averages over groups, weight REFERENCE_WEIGHT); frames are cleaned against those
of the groups before theirs, and the first group against its own.

Noise or a jammer wider than about half the median window (a barrage, a wide partial-band jammer) becomes part of
the reference and is not excised: there is nothing narrowband to remove.

Streaming and sample-aligned: `process(x)` returns the samples completed so far (the output lags the input by about
one frame), `flush()` the rest; output sample n is input sample n cleaned. The result does not depend on how the
stream is cut into chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sp_fft

from ..errors import InputError

EXCISION_MODES = ("zero", "clip")
REFERENCE_WEIGHT = 0.25  # weight of the newest group in the reference's exponential average
PERSIST_DB = 5.0  # a bin whose averaged power stays this far over the reference is excised in every frame
MEDIAN_STEP = 8  # the running median is evaluated every this many bins and interpolated between


SUBGROUPS = 4  # a group's frames are averaged in this many sub-groups before the per-bin median


@lru_cache(maxsize=64)
def _subgroup_scales(frames: int) -> tuple[float, float]:
    """E[median] and E[min] over SUBGROUPS of the means of frames / SUBGROUPS unit exponentials (the statistics of
    `typical_power` for noise-like bins), by a fixed-seed simulation."""
    rng = np.random.default_rng(12345)
    k = max(frames // SUBGROUPS, 1)
    g = min(SUBGROUPS, frames)
    x = rng.exponential(size=(20000, g, k)).mean(axis=2)
    x.sort(axis=1)
    return float(np.mean(0.5 * (x[:, (g - 1) // 2] + x[:, g // 2]))), float(np.mean(x[:, 0]))


def typical_power(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per bin, from a group of frames' power spectra p (frames, bins), split into SUBGROUPS sub-groups of
    consecutive frames and averaged in each: (the median of the sub-group means, their minimum), both scaled to the
    mean for noise-like bins. A sweep that passes through a bin raises one or two sub-groups: not the median, and
    not the minimum; a tone or a band that stays raises all of them."""
    f = p.shape[0]
    g = min(SUBGROUPS, f)
    k = f // g
    m = p[: g * k].reshape(g, k, -1).mean(axis=1, dtype=np.float64)
    m.sort(axis=0)
    med, low = _subgroup_scales(f)
    return 0.5 * (m[(g - 1) // 2] + m[g // 2]) / med, m[0] / low


def sqrt_hann(n: int) -> np.ndarray:
    """Periodic sqrt-Hann window of n samples (n even): w^2[k] + w^2[k + n/2] = 1."""
    return np.sin(np.pi * (np.arange(n) + 0.5) / n)


def running_median(p: np.ndarray, window: int, averaged: int = 1, step: int = MEDIAN_STEP) -> np.ndarray:
    """The local mean level of a power spectrum p (length a power of two) from a circular running median over
    `window` bins, evaluated every `step` bins and linearly interpolated. A window wider than 32 bins works on the
    means of groups of bins (a power of two per group, so the median sees about 32 of them): a line inside one
    group raises only that group. Each bin of p is taken as the mean of `averaged` exponential variables (noise-like
    bins averaged over that many spectra); the median of such means is (1 - 1/(9k))^3 of their mean (Wilson and
    Hilferty, k variables per median sample), and is divided by it."""
    n = p.size
    d = 1
    while window // (2 * d) >= 32 and n % (2 * d) == 0:
        d *= 2
    q = p.reshape(-1, d).mean(axis=1) if d > 1 else p
    m = q.size
    win = max(3, window // d)
    half = win // 2
    ext = np.concatenate([q[m - half:], q, q[:half]])
    st = max(1, step // d)
    centres = np.arange(0, m, st)
    idx = centres[:, None] + np.arange(2 * half + 1)[None, :]
    med = np.median(ext[idx], axis=1)
    # group c covers bins c d .. c d + d - 1: its centre is at c d + (d - 1) / 2
    xs = np.concatenate([centres * d + (d - 1) / 2.0, [n + (d - 1) / 2.0]])
    ys = np.concatenate([med, med[:1]]) / (1.0 - 1.0 / (9.0 * averaged * d)) ** 3
    return np.interp(np.arange(n), xs, ys, period=n)


@dataclass
class ExcisionStats:
    """What the excision removed so far: time-frequency bins and power."""

    frames: int = 0
    bins: int = 0
    bins_excised: int = 0
    power_in: float = 0.0
    power_excised: float = 0.0

    @property
    def excised_fraction(self) -> float:
        """Share of the time-frequency bins removed or clipped."""
        return self.bins_excised / self.bins if self.bins else 0.0

    @property
    def excised_power_fraction(self) -> float:
        """Share of the input power taken out."""
        return self.power_excised / self.power_in if self.power_in > 0 else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"frames": self.frames, "excised_fraction": self.excised_fraction,
                "excised_power_fraction": self.excised_power_fraction}


class FftExcision:
    """Streaming FFT excision (see the module docstring).

    fft_size: frame length in samples (a power of two, 64 to 65536); threshold_db: how far over the reference a
    bin must be to go (3 to 40 dB); mode: "zero" or "clip"; window_bins: width of the reference's running median
    (default fft_size / 4 + 1); average_frames: frames per reference update; guard_bins: neighbours removed with
    each excised bin (0 to 16); persist_db: how far over the reference a bin's averaged power must stay to go in
    every frame (1 to 40 dB, None: off).
    """

    def __init__(self, fft_size: int = 1024, threshold_db: float = 13.0, mode: str = "zero",
                 window_bins: int | None = None, average_frames: int = 16, guard_bins: int = 1,
                 persist_db: float | None = PERSIST_DB) -> None:
        n = int(fft_size)
        if n != fft_size or n < 64 or n > 65536 or n & (n - 1):
            raise InputError(f"excision fft_size must be a power of two from 64 to 65536, not {fft_size}")
        if not 3.0 <= float(threshold_db) <= 40.0:
            raise InputError(f"excision threshold_db must be from 3 to 40 dB, not {threshold_db}")
        if mode not in EXCISION_MODES:
            raise InputError(f"excision mode must be one of {', '.join(EXCISION_MODES)}, not {mode!r}")
        wb = n // 4 + 1 if window_bins is None else int(window_bins)
        if not 5 <= wb <= n // 2:
            raise InputError(f"excision window_bins must be from 5 to fft_size/2 = {n // 2}, not {window_bins}")
        if not 1 <= int(average_frames) <= 4096:
            raise InputError(f"excision average_frames must be from 1 to 4096, not {average_frames}")
        if not 0 <= int(guard_bins) <= 16:
            raise InputError(f"excision guard_bins must be from 0 to 16, not {guard_bins}")
        if persist_db is not None and not 1.0 <= float(persist_db) <= 40.0:
            raise InputError(f"excision persist_db must be from 1 to 40 dB, not {persist_db}")
        self.persist = None if persist_db is None else float(10.0 ** (float(persist_db) / 10.0))
        self.n = n
        self.hop = n // 2
        self.threshold = float(10.0 ** (float(threshold_db) / 10.0))
        self.mode = mode
        self.window_bins = wb
        self.average_frames = int(average_frames)
        self.guard_bins = int(guard_bins)
        self._w = sqrt_hann(n).astype(np.float32)
        self._w2 = (self._w * self._w).astype(np.float32)
        # input samples from absolute index _in_base; frame t starts at t * hop - hop (one half frame of zeros first)
        self._in = np.zeros(self.hop, dtype=np.complex64)
        self._in_base = -self.hop
        self._t = 0  # next frame
        self._carry = np.zeros(self.hop, dtype=np.complex64)  # second half of the last frame, not yet complete
        self._emitted = 0  # output samples returned so far
        self._n_in = 0
        self._ref: np.ndarray | None = None
        self._avg: np.ndarray | None = None  # per-bin lasting power (the smallest sub-group mean, averaged)
        self._group: list[np.ndarray] = []  # the power spectra of the current group's frames
        self._flushed = False
        self.stats = ExcisionStats()

    @property
    def latency_samples(self) -> int:
        """Input samples the output lags behind (until flush)."""
        return self._n_in - self._emitted

    @property
    def reference(self) -> np.ndarray | None:
        """The current reference power spectrum (FFT bin order), or None before the first group."""
        return None if self._ref is None else self._ref.copy()

    def process(self, x: np.ndarray) -> np.ndarray:
        """Feed the next samples; returns the cleaned samples completed so far (complex64)."""
        if self._flushed:
            raise InputError("this excision processor was flushed; make a new one for a new stream")
        x = np.asarray(x, dtype=np.complex64).reshape(-1)
        self._n_in += x.size
        self._in = np.concatenate([self._in, x])
        return self._run(final=False)

    def flush(self) -> np.ndarray:
        """End of stream: the remaining samples."""
        if self._flushed:
            return np.zeros(0, dtype=np.complex64)
        self._in = np.concatenate([self._in, np.zeros(self.n, dtype=np.complex64)])
        out = self._run(final=True)
        self._flushed = True
        return out

    def _frame_start(self, t: int) -> int:
        return t * self.hop - self.hop

    def _run(self, final: bool) -> np.ndarray:
        outs: list[np.ndarray] = []
        in_end = self._in_base + self._in.size
        while True:
            s0 = self._frame_start(self._t)
            if final and s0 >= self._n_in:
                break  # every real sample is complete
            avail = (in_end - s0 - self.n) // self.hop + 1 if in_end - s0 >= self.n else 0
            if final:
                avail = min(avail, (self._n_in - 1 - s0) // self.hop + 1)
            if avail <= 0:
                break
            a = self.average_frames
            k = min(avail, a - self._t % a)
            if self._ref is None and k < a - self._t % a and not final:
                break  # the first group is cleaned against itself: wait for all of it
            y = self._frames(s0, k)  # samples s0 .. s0 + k hop - 1
            lo = max(self._emitted - s0, 0)
            hi = min(y.size, self._n_in - s0)
            if hi > lo:
                outs.append(y[lo:hi])
                self._emitted = s0 + hi
        keep_from = self._frame_start(self._t) - self._in_base  # keep the input from the next frame's start on
        if keep_from > 0:
            self._in = self._in[keep_from:]
            self._in_base += keep_from
        return np.concatenate(outs) if outs else np.zeros(0, dtype=np.complex64)

    def _frames(self, s0: int, k: int) -> np.ndarray:
        """Clean frames t .. t+k-1 (one reference group at most); returns the k * hop samples they complete."""
        n, h = self.n, self.hop
        off = s0 - self._in_base
        seg = self._in[off : off + (k - 1) * h + n]
        frames = np.lib.stride_tricks.sliding_window_view(seg, n)[::h][:k]
        xw = frames * self._w
        spec = sp_fft.fft(xw, axis=1, workers=1)
        p = spec.real * spec.real
        p += spec.imag * spec.imag  # float32, as spec is complex64
        self._group.append(p)
        if self._ref is None:  # the first group: cleaned against its own reference
            self._update_reference()
        thr = (self._ref * self.threshold).astype(np.float32)
        flag = p > thr[None, :]
        if self.persist is not None and self._avg is not None:  # a jammer that stays: its averaged power is over
            flag |= (self._avg > self._ref * self.persist)[None, :]  # the reference however its bins fluctuate
        rows = np.flatnonzero(flag.any(axis=1))
        st = self.stats
        st.frames += k
        st.bins += k * n
        st.power_in += float(p.sum(dtype=np.float64))
        y = frames * self._w2  # frames left alone come back as x w^2
        if rows.size:
            fl = flag[rows]
            if self.guard_bins:  # circular dilation by guard_bins along frequency
                g = self.guard_bins
                ext = np.concatenate([fl[:, n - g:], fl, fl[:, :g]], axis=1)
                grown = fl.copy()
                for d in range(1, g + 1):
                    grown |= ext[:, g - d:g - d + n]
                    grown |= ext[:, g + d:g + d + n]
                fl = grown
            sp = spec[rows]
            pr = p[rows]
            st.bins_excised += int(np.count_nonzero(fl))
            if self.mode == "zero":
                keep = ~fl
                st.power_excised += float(np.sum(pr, dtype=np.float64) - np.sum(pr * keep, dtype=np.float64))
                sp *= keep
            else:
                ref = np.broadcast_to(self._ref.astype(np.float32), pr.shape)
                scale = np.sqrt(np.minimum(ref[fl] / np.maximum(pr[fl], 1e-30), 1.0)).astype(np.float32)
                st.power_excised += float((pr[fl] * (1.0 - scale * scale)).sum(dtype=np.float64))
                sp[fl] *= scale
            y[rows] = sp_fft.ifft(sp, axis=1, workers=1).astype(np.complex64) * self._w
        # overlap-add: block i of the output = first half of frame i + second half of frame i-1
        out = y[:, :h].copy()
        out[0] += self._carry
        if k > 1:
            out[1:] += y[:-1, h:]
        self._carry = y[-1, h:].copy()
        self._t += k
        if self._t % self.average_frames == 0:
            self._update_reference()
        return out.reshape(-1).astype(np.complex64, copy=False)

    def _update_reference(self) -> None:
        if not self._group:
            return
        p = np.concatenate(self._group)
        self._group = []
        typ, low = typical_power(p)
        new = np.maximum(running_median(typ, self.window_bins, p.shape[0]), 1e-30)
        self._ref = new if self._ref is None else (1.0 - REFERENCE_WEIGHT) * self._ref + REFERENCE_WEIGHT * new
        self._avg = low if self._avg is None else (1.0 - REFERENCE_WEIGHT) * self._avg + REFERENCE_WEIGHT * low
