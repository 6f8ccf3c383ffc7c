"""A bank of adaptive notches that find tones, lock onto them and follow them when they move (swept tones).

Each notch is a complex one-pole resonator that extracts its tone, subtracted from the stream:

    t[n] = rho e^{j w[n]} t[n-1] + (1 - rho) x[n]          (the tone estimate: unit gain at w)
    y[n] = x[n] - t[n]                                      (H(z) = rho (1 - e^{jw} z^-1) / (1 - rho e^{jw} z^-1))

a zero on the unit circle at w and a pole just inside it, so the notch is 2 (1 - rho) fs / (2 pi) Hz wide at -3 dB
and leaves the rest of the band alone. A second-order frequency-locked loop moves w onto the tone: the error is the
tone estimate's phase step beyond w, e[n] = Im(t[n] conj(t[n-1]) e^{-jw}) / |t|^2, and w follows it with a
proportional and an integral (rate) path, so a linear sweep is followed without lag. Notches work in cascade (the
output of one is the input of the next).

Tones are found blockwise: every `block` samples (absolute boundaries) the block's Hann-windowed power spectrum is
compared with a reference, a running median across frequency (the carrier's own spectrum, see `excision`) of the
power spectrum averaged over REFERENCE_BLOCKS blocks (the first block is compared with its own). Each local peak more
than `threshold_db` over it that no notch covers gets a free notch (up to `max_notches`). A swept tone smears over
the block: its sweep rate is the one among {0, the move of its peak between the block's halves, the rates of the
sweeps followed lately} whose dechirped block shows the sharpest line (a sawtooth sweep that wrapped around comes
back at its old rate), and the notch starts on that line's frequency and rate, on the tone's complex amplitude,
at the sub-block where the tone appears. A tracked tone that stops inside a block (a sweep's wrap, a pulse) stops
its notch at that sub-block, so the resonator does not ring on; such a notch, a notch whose tone stayed below half
the detection level for a whole block, and the second of two notches on one tone are released. The block is
searched before it is filtered (one block of look-ahead), so a tone is notched from the block it appears in.

Streaming and sample-aligned: `process(x)` returns the samples of the blocks completed so far, `flush()` the rest;
chunking does not change the output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
from scipy import fft as sp_fft

from ..errors import InputError
from .excision import running_median

ZOOM = 4  # zero-padding of a found tone's spectrum, for its frequency
PRESENCE_SAMPLES = 64  # sub-blocks in which a tracked tone's presence is checked (where it starts and ends)
PRESENCE_FRACTION = 0.1  # a tone is present in a sub-block holding this share of its power, coherently
REFERENCE_BLOCKS = 8  # blocks averaged per update of the search's reference spectrum (the first block: its own)

@nb.njit(cache=True, nogil=True)
def _notch_kernel(x, out, active, state, rho, mu1, mu2, alpha):  # pragma: no cover - compiled
    """Run the active notches over x in cascade. state[m] = [w, rate, e.re, e.im, t.re, t.im, power, min_power,
    start, stop]: w (rad/sample), its rate (rad/sample^2), e = e^{jw}, the tone estimate t, the tone power
    (exponential average with weight alpha), the lowest tone power seen in this call, and the samples of x the
    notch works on (start <= n < stop: where its tone begins and ends inside the block). A cascade of causal
    filters: each notch runs over the whole block before the next takes its output (the same numbers as sample by
    sample, with the notch's state in registers)."""
    g = 1.0 - rho
    nn = x.shape[0]
    bre = np.empty(nn)
    bim = np.empty(nn)
    for n in range(nn):
        bre[n] = x[n].real
        bim[n] = x[n].imag
    for m in range(active.shape[0]):
        if not active[m]:
            continue
        w = state[m, 0]
        rate = state[m, 1]
        er = state[m, 2]
        ei = state[m, 3]
        pr = state[m, 4]
        pi_ = state[m, 5]
        p = state[m, 6]
        pmin = state[m, 7]
        n0 = int(state[m, 8])
        n1 = min(int(state[m, 9]), nn)
        for n in range(n0, n1):
            xr = bre[n]
            xi = bim[n]
            # t = rho e t_prev + g x
            ur = er * pr - ei * pi_
            ui = er * pi_ + ei * pr
            tr = rho * ur + g * xr
            ti = rho * ui + g * xi
            # phase step of t beyond w: Im(t conj(e t_prev))
            cross = ti * ur - tr * ui
            p = p + alpha * (tr * tr + ti * ti - p)
            if p < pmin:
                pmin = p
            err = cross / (rho * p + 1e-30)
            if err > 0.5:
                err = 0.5
            elif err < -0.5:
                err = -0.5
            rate = rate + mu2 * err
            dw = rate + mu1 * err
            w += dw
            # e <- e e^{j dw} (second order), renormalised
            cr = 1.0 - 0.5 * dw * dw
            nr = er * cr - ei * dw
            ni = er * dw + ei * cr
            k = 1.5 - 0.5 * (nr * nr + ni * ni)
            er = nr * k
            ei = ni * k
            pr = tr
            pi_ = ti
            bre[n] = xr - tr
            bim[n] = xi - ti
        state[m, 0] = w
        state[m, 1] = rate
        state[m, 2] = er
        state[m, 3] = ei
        state[m, 4] = pr
        state[m, 5] = pi_
        state[m, 6] = p
        state[m, 7] = pmin
    for n in range(nn):
        out[n] = complex(bre[n], bim[n])


@dataclass
class NotchStats:
    """What the notch bank did so far."""

    samples: int = 0
    notch_samples: int = 0  # sum over samples of the notches active
    tones_found: int = 0
    max_active: int = 0

    @property
    def mean_active(self) -> float:
        return self.notch_samples / self.samples if self.samples else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"tones_found": self.tones_found, "mean_notches_active": self.mean_active,
                "max_notches_active": self.max_active}


class NotchBank:
    """Streaming adaptive notch bank (see the module docstring).

    bandwidth_cyc: notch width at -3 dB in cycles per sample (1e-5 to 0.05); max_notches: 1 to 32; block: search
    block in samples (a power of two, 256 to 65536); threshold_db: detection level over the local spectrum (6 to 40
    dB); track_bn: loop noise bandwidth of the frequency tracking as a fraction of the notch width (0.01 to 1).
    """

    def __init__(self, bandwidth_cyc: float = 0.001, max_notches: int = 8, block: int = 1024,
                 threshold_db: float = 15.0, track_bn: float = 0.25) -> None:
        if not 1e-5 <= float(bandwidth_cyc) <= 0.05:
            raise InputError(f"notch bandwidth must be from 1e-5 to 0.05 cycles per sample, not {bandwidth_cyc}")
        if not 1 <= int(max_notches) <= 32 or int(max_notches) != max_notches:
            raise InputError(f"notch max_notches must be an integer from 1 to 32, not {max_notches}")
        b = int(block)
        if b != block or b < 256 or b > 65536 or b & (b - 1):
            raise InputError(f"notch block must be a power of two from 256 to 65536, not {block}")
        if not 6.0 <= float(threshold_db) <= 40.0:
            raise InputError(f"notch threshold_db must be from 6 to 40 dB, not {threshold_db}")
        if not 0.01 <= float(track_bn) <= 1.0:
            raise InputError(f"notch track_bn must be from 0.01 to 1, not {track_bn}")
        self.bandwidth_cyc = float(bandwidth_cyc)
        self.block = b
        self.threshold = float(10.0 ** (float(threshold_db) / 10.0))
        # -3 dB width of the notch: 2 (1 - rho) / (2 pi) cycles per sample
        self.rho = 1.0 - np.pi * self.bandwidth_cyc
        # loop: natural frequency from the loop noise bandwidth (zeta = 1: Bn = 0.625 wn / (2 pi) Hz-ish per sample)
        bn = float(track_bn) * self.bandwidth_cyc * 2 * np.pi  # rad/sample
        wn = bn / 0.625 * 0.5
        self.mu1 = 2.0 * wn
        self.mu2 = wn * wn
        self.alpha = min(1.0, 2.0 * (1.0 - self.rho))  # tone power average over about the resonator's memory
        self.max_notches = int(max_notches)
        self._active = np.zeros(self.max_notches, dtype=np.bool_)
        self._state = np.zeros((self.max_notches, 10))
        self._win = np.hanning(b + 1)[:b].astype(np.float32)
        self._win_half = np.hanning(b // 2 + 1)[: b // 2].astype(np.float32)
        self._cg = float(np.sum(self._win)) ** 2  # a tone of power A^2 peaks at A^2 cg in the block's spectrum
        self._median_bins = b // 16 + 1
        self._psum = np.zeros(b)
        self._pcount = 0
        self._ref: np.ndarray | None = None
        self._level = np.zeros(b)
        self._n = np.arange(b, dtype=np.float64)
        self._recent_rates: list[float] = []
        self._buf = np.zeros(0, dtype=np.complex64)
        self._n_in = 0
        self._flushed = False
        self.stats = NotchStats()

    @property
    def frequencies_cyc(self) -> np.ndarray:
        """Frequencies of the active notches, cycles per sample in [-0.5, 0.5)."""
        w = self._state[self._active, 0] / (2 * np.pi)
        return (w + 0.5) % 1.0 - 0.5

    def process(self, x: np.ndarray) -> np.ndarray:
        if self._flushed:
            raise InputError("this notch bank was flushed; make a new one for a new stream")
        x = np.asarray(x, dtype=np.complex64).reshape(-1)
        self._n_in += x.size
        self._buf = np.concatenate([self._buf, x])
        nb_ = self._buf.size // self.block
        if nb_ == 0:
            return np.zeros(0, dtype=np.complex64)
        out = self._blocks(self._buf[: nb_ * self.block].reshape(nb_, self.block))
        self._buf = self._buf[nb_ * self.block:]
        return out

    def flush(self) -> np.ndarray:
        if self._flushed:
            return np.zeros(0, dtype=np.complex64)
        self._flushed = True
        n = self._buf.size
        if n == 0:
            return np.zeros(0, dtype=np.complex64)
        pad = np.concatenate([self._buf, np.zeros(self.block - n, dtype=np.complex64)])
        return self._blocks(pad.reshape(1, -1))[:n]

    def _blocks(self, xb: np.ndarray) -> np.ndarray:
        """Search and filter whole blocks (rows of xb), in order."""
        nb_, b = xb.shape
        spec = sp_fft.fft(xb * self._win, axis=1, workers=1)
        p = (spec.real * spec.real + spec.imag * spec.imag).astype(np.float64)
        # local maxima of each block's spectrum (the level they must pass depends on the reference, per block)
        peak = (p >= np.roll(p, 1, axis=1)) & (p >= np.roll(p, -1, axis=1))
        out = np.empty_like(xb)
        st = self.stats
        for i in range(nb_):
            self._psum += p[i]
            self._pcount += 1
            if self._ref is None or self._pcount == REFERENCE_BLOCKS:
                ref = running_median(self._psum / self._pcount, self._median_bins, self._pcount)
                self._ref = ref if self._ref is None else 0.5 * (self._ref + ref)
                self._level = self._ref * self.threshold
                self._psum[:] = 0.0
                self._pcount = 0
            self._release()
            self._state[:, 8] = 0.0
            self._state[:, 9] = b
            self._ends(xb[i])
            cand = np.flatnonzero(peak[i] & (p[i] > self._level))
            if cand.size:
                self._search(xb[i], p[i], cand)
            self._state[:, 7] = np.inf
            _notch_kernel(xb[i], out[i], self._active, self._state, self.rho, self.mu1, self.mu2, self.alpha)
            n_act = int(self._active.sum())
            st.samples += b
            st.notch_samples += n_act * b
            st.max_active = max(st.max_active, n_act)
        return out.reshape(-1)

    def _release(self) -> None:
        """Release a notch whose tone stayed below half the detection level for the whole last block, and the second
        of two notches that ended up on the same tone."""
        b = self.block
        kept: list[float] = []
        for m in np.flatnonzero(self._active):
            f = float(((self._state[m, 0] / (2 * np.pi)) + 0.5) % 1.0 - 0.5)
            k = int(round(f * b)) % b
            dup = any(abs(((f - h) + 0.5) % 1.0 - 0.5) < self.bandwidth_cyc for h in kept)
            ended = self._state[m, 9] < b
            if ended or dup or self._state[m, 7] * self._cg < 0.5 * self._level[k]:
                self._active[m] = False
            else:
                kept.append(f)

    def _presence(self, x: np.ndarray, f0: float, rate: float) -> np.ndarray:
        """|mean|^2 over each sub-block of x taken down by the tone path f0 + rate n (cycles per sample): a tone on
        that path adds its power there, the rest averages out."""
        n = self._n
        d = x * np.exp(-2j * np.pi * (f0 * n + 0.5 * rate * n * n)).astype(np.complex64)
        c = d.reshape(-1, PRESENCE_SAMPLES).mean(axis=1)
        return c.real * c.real + c.imag * c.imag

    def _ends(self, x: np.ndarray) -> None:
        """A notch whose tone stops inside the block stops with it (a resonator left running would ring on for
        its memory, some hundreds of samples of the tone it no longer has), and is released after the block."""
        last = slice(x.size - PRESENCE_SAMPLES, x.size)
        for m in np.flatnonzero(self._active):
            w, rate = self._state[m, 0], self._state[m, 1]
            f0, r = w / (2 * np.pi), rate / (2 * np.pi)
            floor = PRESENCE_FRACTION * self._state[m, 6]
            nl = self._n[last]  # the usual case first: the tone is still there in the last sub-block
            c = complex(np.mean(x[last] * np.exp(-2j * np.pi * (f0 * nl + 0.5 * r * nl * nl))))
            if c.real * c.real + c.imag * c.imag > floor:
                continue
            pres = self._presence(x, f0, r) > floor
            if not pres[-1]:
                on = np.flatnonzero(pres)
                self._state[m, 9] = (on[-1] + 1) * PRESENCE_SAMPLES if on.size else 0.0

    def _search(self, x: np.ndarray, p: np.ndarray, cand: np.ndarray) -> None:
        """Give the block's tones (candidate peak bins) that no notch covers a notch."""
        b = self.block
        cand = cand[np.argsort(p[cand])[::-1]]
        # where each notch will be in the middle of this block (the block's spectrum shows a sweep there)
        act = np.flatnonzero(self._active)
        mid = (self._state[act, 0] + self._state[act, 1] * b / 2) / (2 * np.pi)
        tol = max(2.0 / b, 2.0 * self.bandwidth_cyc)
        # (frequency, reach): a sweeping notch covers the smear of its tone over the block
        have = list(zip((mid + 0.5) % 1.0 - 0.5, tol + np.abs(self._state[act, 1]) / (2 * np.pi) * b / 2,
                        strict=True))
        halves: tuple[np.ndarray, np.ndarray] | None = None
        n = np.arange(b)
        for k in cand:
            fk = ((k / b) + 0.5) % 1.0 - 0.5
            if any(abs(((fk - h) + 0.5) % 1.0 - 0.5) < r + 1.0 / b for h, r in have):
                continue
            free = np.flatnonzero(~self._active)
            if free.size == 0:
                break
            f_mid = _peak_cyc(p, int(k))
            if halves is None:  # the spectra of the block's two halves (zero-padded): a sweep moves between them
                h = b // 2
                halves = tuple(np.abs(sp_fft.fft(x[i * h:(i + 1) * h] * self._win_half, n=b, workers=1)) ** 2
                               for i in (0, 1))
            # sweep rate candidates (cycles per sample^2): none, the move between the halves, and the rates of the
            # sweeps followed lately (a sawtooth sweep that wrapped around comes back at the same rate). The one
            # whose dechirped block shows the sharpest line wins; the line is the frequency at the block's start.
            reach = max(4, int(0.02 * b))
            f1, f2 = (_peak_cyc(q, int(k), reach) for q in halves)
            rates = [0.0, (((f2 - f1) + 0.5) % 1.0 - 0.5) / (b / 2), *self._recent_rates]
            best = (-1.0, 0.0, f_mid, x)
            for r in rates:
                if r != 0.0 and abs(r) * b * b < 2.0:  # moves less than two bins over the block: a steady tone
                    continue
                xd = x * np.exp(-1j * np.pi * r * n * n).astype(np.complex64) if r != 0.0 else x
                # 4x zero-padded: the line's frequency to a small fraction of a bin
                q = np.abs(sp_fft.fft(xd * self._win, n=ZOOM * b, workers=1)) ** 2
                k0 = int(round((f_mid - r * b / 2) * ZOOM * b)) % (ZOOM * b)
                f0 = _peak_cyc(q, k0, ZOOM * reach)
                kk = int(round(f0 * ZOOM * b)) % (ZOOM * b)
                if q[kk] > best[0]:
                    best = (float(q[kk]), r, f0, xd)
            _, rate, f0, xd = best
            # where the tone starts in the block: the notch starts there, on the tone's complex amplitude
            pres = self._presence(x, f0, rate)
            on = np.flatnonzero(pres > PRESENCE_FRACTION * pres.max())
            j0 = int(on[0]) if on.size else 0
            start = j0 * PRESENCE_SAMPLES
            seg = slice(start, start + PRESENCE_SAMPLES)
            nn = self._n[seg]
            c = complex(np.mean(x[seg] * np.exp(-2j * np.pi * (f0 * nn + 0.5 * rate * nn * nn))))
            ph0 = 2 * np.pi * (f0 * (start - 1) + 0.5 * rate * (start - 1) ** 2)
            t0 = c * complex(np.cos(ph0), np.sin(ph0))
            w = 2 * np.pi * (f0 + rate * start)
            m = int(free[0])
            self._state[m] = [w, 2 * np.pi * rate, np.cos(w), np.sin(w), t0.real, t0.imag, abs(c) ** 2, np.inf,
                              start, b]
            self._active[m] = True
            have.append((f_mid, tol + abs(rate) * b / 2))
            self.stats.tones_found += 1
            if rate != 0.0:
                self._recent_rates = [rate, *[r for r in self._recent_rates if abs(r - rate) > 0.1 * abs(rate)]][:3]


def _peak_cyc(p: np.ndarray, k: int, reach: int = 0) -> float:
    """Frequency (cycles per sample, [-0.5, 0.5)) of the largest bin of p within +-reach of bin k, refined by a
    parabola through the log powers around it."""
    b = p.size
    if reach:
        idx = (k + np.arange(-reach, reach + 1)) % b
        k = int(idx[np.argmax(p[idx])])
    lm, l0, lp = (math.log(float(p[(k + i) % b]) + 1e-30) for i in (-1, 0, 1))
    den = lm - 2 * l0 + lp
    delta = min(max(0.5 * (lm - lp) / den, -0.5), 0.5) if den < 0 else 0.0
    return ((k + delta) / b + 0.5) % 1.0 - 0.5
