"""DVB-S2 receiver synchronisation: matched filter, symbol timing, PLHEADER detection, PLSC decoding, carrier.

All stages are streaming (state kept between calls) and work on complex64 blocks of any size.

- `MatchedFilter`: RRC FIR (same taps as the transmitter), output sample i is the filter output whose centre tap
  sits on input sample i - delay (delay = (len(taps) - 1) / 2 samples).
- `GardnerTiming`: closed-loop Gardner timing recovery at `sps` >= 2 samples per symbol (integer or not), with an
  8-tap windowed-sinc polyphase interpolator (fractional delays), a second-order loop (noise bandwidth `bn_t`
  in units of the symbol rate) and an AGC that scales the output to unit mean power.
- `header_metric`: differential correlation against the SOF and the PLSC pair structure (insensitive to any
  carrier offset below half the symbol rate); also returns the complex correlations whose angle is 2 pi f T.
- `decode_plsc`: soft maximum-likelihood PLS decoding over the whole 90-symbol PLHEADER, non-coherent in phase.
- `track_phase`: per-frame second-order PLL, data-aided on PLHEADER and pilots, decision-directed on data.

Frequencies inside this module are in cycles per symbol (f * T); phases in radians.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

from ..errors import InputError
from .plframe import plsc_codewords, sof_symbols
from .rrc import rrc_taps

PLHEADER_SYMBOLS = 90
SOF_LEN = 26
PLSC_LEN = 64


# ------------------------------------------------------------------------------------------------ matched filter


class MatchedFilter:
    """Streaming RRC matched filter. `process(x)` returns as many samples as it gets (complex64)."""

    def __init__(self, sps: float, rolloff: float, span_symbols: int = 24) -> None:
        taps = rrc_taps(rolloff, sps, span_symbols)
        self.taps = taps.astype(np.float32)
        self._taps_rev = np.ascontiguousarray(self.taps[::-1])
        self.delay = (taps.size - 1) // 2
        self._hist = np.zeros(taps.size - 1, dtype=np.complex64)

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.complex64)
        if x.size == 0:
            return x
        buf = np.concatenate([self._hist, x])
        out = np.empty(x.size, dtype=np.complex64)
        _fir_real(buf, self._taps_rev, out)  # direct form, without the GIL (the receiver's front end on a thread)
        self._hist = buf[-(self.taps.size - 1):].copy() if self.taps.size > 1 else self._hist
        return out


@numba.njit(cache=True, nogil=True)
def _fir_real(buf, taps_rev, out):  # pragma: no cover - compiled
    """out[i] = sum_k taps_rev[k] buf[i + k] (real taps, complex samples; 'valid' convolution with the taps
    reversed), summed tap by tap over the whole block (vectorised)."""
    n = out.size
    re = np.zeros(n, np.float32)
    im = np.zeros(n, np.float32)
    for k in range(taps_rev.size):
        h = taps_rev[k]
        for i in range(n):
            v = buf[i + k]
            re[i] += h * v.real
            im[i] += h * v.imag
    for i in range(n):
        out[i] = complex(re[i], im[i])


# ------------------------------------------------------------------------------------------------ timing recovery

_NTAPS = 8
_NPHASES = 256


@lru_cache(maxsize=1)
def _interp_table() -> np.ndarray:
    """(NPHASES + 1, 8) float32: windowed-sinc taps for fractional delays mu = p / NPHASES over x[i-3 .. i+4]."""
    mu = np.arange(_NPHASES + 1) / _NPHASES
    k = np.arange(-3, 5)
    t = k[None, :] - mu[:, None]
    w = np.kaiser(_NTAPS * 2 + 1, 6.0)  # window sampled over +-4 samples
    win = np.interp(t, np.linspace(-4, 4, w.size), w)
    h = np.sinc(t * 0.92) * 0.92 * win  # slight low-pass: the signal occupies |f| < 0.6/sps of fs
    h /= h.sum(axis=1, keepdims=True)
    return h.astype(np.float32)


@numba.njit(cache=True, nogil=True)
def _interp(x, t, tab):  # pragma: no cover - compiled
    i = int(np.floor(t))
    mu = t - i
    p = int(mu * 256.0 + 0.5)
    re = 0.0
    im = 0.0
    for k in range(8):
        v = x[i - 3 + k]
        c = tab[p, k]
        re += c * v.real
        im += c * v.imag
    return complex(re, im)


@numba.njit(cache=True, nogil=True)
def _gardner_run(x, t, sps, state, gains, n_acq, tab, out, pos):  # pragma: no cover - compiled
    """Produce symbols while the interpolator has samples. state = [integrator, prev.re, prev.im, agc, count];
    gains = [initial bn_t, tracking bn_t, kp, ki, kd]: over the first n_acq symbols the loop bandwidth shrinks
    from the initial value to the tracking one (fast pull-in, then low jitter)."""
    n = 0
    integ = state[0]
    prev = complex(state[1], state[2])
    agc = state[3]
    count = state[4]
    half = sps * 0.5
    nmax = out.shape[0]
    while n < nmax and t + 5.0 < x.shape[0]:
        if count < n_acq:
            # bandwidth shrinking from gains[0] (at count 0) as 1/(count + c) down to the tracking bandwidth
            bn = gains[0] * 200.0 / (count + 200.0)
            if bn < gains[1]:
                bn = gains[1]
            th = bn / 1.0607
            d = (1.0 + 1.4142 * th + th * th) * gains[4]
            kp = 2.8284 * th / d
            ki = 4.0 * th * th / d
        else:
            kp = gains[2]
            ki = gains[3]
        y = _interp(x, t, tab)
        ym = _interp(x, t - half, tab)
        g = 1.0 / np.sqrt(agc)
        y = y * g
        ym = ym * g
        e = (ym.real * (prev.real - y.real) + ym.imag * (prev.imag - y.imag))
        if e > 2.0:
            e = 2.0
        elif e < -2.0:
            e = -2.0
        integ += ki * e
        out[n] = y
        pos[n] = t
        n += 1
        count += 1
        p = y.real * y.real + y.imag * y.imag
        agc += 1e-3 * (p / g / g - agc)
        prev = y
        t += sps * (1.0 + kp * e + integ)
    state[0] = integ
    state[1] = prev.real
    state[2] = prev.imag
    state[3] = agc
    state[4] = count
    return n, t


def loop_gains(bn_t: float, kd: float, zeta: float = 0.7071) -> tuple[float, float]:
    """Proportional and integral gains of a second-order loop with noise bandwidth bn_t (per update)."""
    th = bn_t / (zeta + 0.25 / zeta)
    d = 1 + 2 * zeta * th + th * th
    return 4 * zeta * th / (d * kd), 4 * th * th / (d * kd)


class GardnerTiming:
    """Streaming Gardner symbol-timing recovery. `process(x)` -> (symbols complex64, positions float64).

    `positions` are the (fractional) input-sample indices, counted from the first sample ever given, at which each
    symbol was interpolated. `bn_t` is the loop noise bandwidth times the symbol period; `acq_bn_t` the bandwidth it
    starts from (default BN_T_ACQ).
    """

    KD = 0.25  # measured S-curve slope (per unit timing error in symbols) for RRC, unit-power signal, low rolloff
    BN_T_ACQ = 1e-2  # loop bandwidth over the first N_ACQ symbols (fast pull-in), then bn_t
    N_ACQ = 20000

    def __init__(self, sps: float, bn_t: float = 2e-3, rolloff: float = 0.2, initial_offset: float = 0.0,
                 acq_bn_t: float | None = None) -> None:
        if sps < 2:
            raise InputError(f"timing recovery needs at least 2 samples per symbol, not {sps}")
        self.sps = float(sps)
        kd = self.KD * (rolloff / 0.2) ** 0.5 * 2.0 * np.pi
        kp, ki = loop_gains(bn_t, kd)
        acq = self.BN_T_ACQ if acq_bn_t is None else acq_bn_t
        self._gains = np.array([max(bn_t, acq), bn_t, kp, ki, kd])
        self._buf = np.zeros(4, dtype=np.complex64)  # leading zeros: interpolator history
        self._base = -4  # absolute index of _buf[0]
        self._t = 4.0 + float(initial_offset) + self.sps  # relative to _buf; first symbol needs t - sps/2 - 3 >= 0
        self._state = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
        self._tab = _interp_table()

    @property
    def sps_estimate(self) -> float:
        """Current estimate of the samples per symbol (nominal times the loop's integrator)."""
        return self.sps * (1.0 + self._state[0])

    INIT_SYMBOLS = 4096  # the loop starts from a feed-forward (Oerder & Meyr) estimate over this many symbols, times
    INIT_BN_T = 1e-3  # INIT_BN_T / bn_t for a narrower loop (VL-SNR: 5e-5), which corrects a start error more slowly

    def _initial_phase(self) -> None:
        """Oerder & Meyr: the phase of the symbol-rate line of |x|^2 (x interpolated to 4 samples per symbol)
        puts the first strobe on a symbol peak, so the loop starts without a pull-in transient."""
        from scipy.signal import resample_poly

        # the first INIT_SYMBOLS (more for a narrow loop) of what is buffered, not the whole first block: resampling
        # all of it in complex128, holding the GIL, held up the receiver's other threads during acquisition
        n_init = self.INIT_SYMBOLS * max(1.0, self.INIT_BN_T / self._gains[1])
        seg = self._buf[4 : 4 + int(n_init * self.sps)]
        if seg.size < 8 * self.sps:
            return
        up = 4.0 / self.sps
        num, den = (2, 1) if abs(self.sps - 2) < 1e-12 else (int(round(up * 16)), 16)
        y = resample_poly(seg.astype(np.complex128), num, den)
        fs_ratio = num / den  # output samples per input sample
        k = np.arange(y.size)
        c = np.sum(np.abs(y) ** 2 * np.exp(-2j * np.pi * k / (self.sps * fs_ratio)))
        eps = -np.angle(c) / (2 * np.pi)  # symbol peaks at (n + eps) symbols from seg[0]
        t0 = (eps % 1.0) * self.sps
        while t0 < self.sps / 2 + 4:
            t0 += self.sps
        self._t = 4.0 + t0
        self._state[3] = float(np.mean(np.abs(seg) ** 2)) or 1.0

    def restart(self) -> None:
        """Start over as at the beginning of a stream (feed-forward initial phase, acquisition bandwidth, clock
        offset forgotten): for a signal that appears after noise, during which the loop's clock-offset
        integrator wanders (by 1e-3 over a second of noise, a slip of 30 symbols per long frame)."""
        self._state[:] = 0.0

    def process(self, x: np.ndarray, final: bool = False) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.complex64)
        self._buf = np.concatenate([self._buf, x])
        if self._state[3] == 0:
            if self._buf.size < self.INIT_SYMBOLS * self.sps + 4 and not final:
                return np.zeros(0, dtype=np.complex64), np.zeros(0)
            self._initial_phase()
            if self._state[3] == 0:
                self._state[3] = float(np.mean(np.abs(self._buf) ** 2)) or 1.0
        nmax = int(self._buf.size / self.sps) + 4
        out = np.empty(nmax, dtype=np.complex64)
        pos = np.empty(nmax, dtype=np.float64)
        n, t = _gardner_run(self._buf, self._t, self.sps, self._state, self._gains, self.N_ACQ, self._tab, out,
                            pos)
        # keep what the next symbols still need: from t - sps/2 - 4 on
        keep_from = max(0, int(np.floor(t - self.sps / 2)) - 4)
        self._buf = self._buf[keep_from:]
        self._t = t - keep_from
        pos = pos[:n] + self._base
        self._base += keep_from
        return out[:n], pos


# ---------------------------------------------------------------------------------------------- PLHEADER detection


@lru_cache(maxsize=1)
def _header_refs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Differential references: SOF (25), PLSC pairs (32, sign of b7 = +1) and all 128 PLHEADERs (128, 90)."""
    sof = sof_symbols().astype(np.complex128)
    r_sof = sof[1:] * np.conj(sof[:-1])
    pls = plsc_codewords().astype(np.complex128)
    # pilots flag (LSB) = 0 codewords have equal pairs before scrambling: pair ratio is the reference
    r_pls = pls[0, 1::2] * np.conj(pls[0, 0::2])
    table = np.concatenate([np.broadcast_to(sof, (128, SOF_LEN)), pls], axis=1)
    return r_sof, r_pls, table.astype(np.complex64)


def header_metric(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Differential-correlation PLHEADER metric for every start index p with p + 90 <= len(y).

    Returns (metric, c_sof, c_pls): metric in [0, 1] (1 = noiseless header), c_sof and c_pls the complex sums of
    y[k+1] conj(y[k]) against the references, whose angle is 2 pi times the carrier offset in cycles per symbol
    (c_pls carries an extra sign: the pilots flag).
    """
    y = np.asarray(y, dtype=np.complex64)
    n = y.size - PLHEADER_SYMBOLS + 1
    if n <= 0:
        z = np.zeros(0)
        return z, z.astype(np.complex128), z.astype(np.complex128)
    r_sof, r_pls, _ = _header_refs()
    d = (y[1:] * np.conj(y[:-1])).astype(np.complex64)
    c_sof = correlate_valid(d[: n + 24], r_sof.astype(np.complex64))[:n]
    # PLSC pairs: d at p + 26 + 2i, i = 0..31
    ref = np.zeros(63, dtype=np.complex64)
    ref[0::2] = r_pls
    c_pls = correlate_valid(d[26 : 26 + n + 62], ref)[:n]
    a = np.abs(d)
    cs = np.concatenate([[0.0], np.cumsum(a, dtype=np.float64)])
    e_sof = cs[25 : 25 + n] - cs[0:n]
    # energy of the 32 pair terms: sum of |d| at p+26+2i; use a strided cumulative sum per parity
    e_pls = np.empty(n)
    for par in (0, 1):
        sub = a[26 + par :: 2]
        cp = np.concatenate([[0.0], np.cumsum(sub, dtype=np.float64)])
        idx = np.arange(par, n, 2)
        j = (idx - par) // 2
        e_pls[idx] = cp[j + 32] - cp[j]
    # a window that falls mostly on zeros (blanked samples, a receiver's drop-out) holds a few products at its edge,
    # which correlate with anything: the energy is floored at a quarter of the typical window's
    e = e_sof + e_pls
    floor = 0.25 * float(np.median(e)) if e.size else 0.0
    metric = (np.abs(c_sof) + np.abs(c_pls)) / np.maximum(e, max(floor, 1e-30))
    return metric, c_sof.astype(np.complex128), c_pls.astype(np.complex128)


def correlate_valid(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """np.correlate(a, v, "valid") for complex64: out[i] = sum_j a[i + j] conj(v[j]), in a numba loop that releases
    the GIL (numpy's holds it, and the header search runs on the receiver's thread while its front end and decoder
    threads wait for it). float32 sums in the vectorizer's order (fastmath): within 1e-6 of numpy's, relative."""
    a = np.ascontiguousarray(a, dtype=np.complex64)
    vc = np.ascontiguousarray(np.conj(v), dtype=np.complex64)
    out = np.empty(max(a.size - vc.size + 1, 0), dtype=np.complex64)
    _correlate_valid(a, vc, out)
    return out


@numba.njit(cache=True, nogil=True, fastmath=True)
def _correlate_valid(a, vc, out):  # pragma: no cover - compiled
    m = vc.size
    for i in range(out.size):
        sr = np.float32(0.0)
        si = np.float32(0.0)
        for j in range(m):
            x = a[i + j]
            w = vc[j]
            sr += x.real * w.real - x.imag * w.imag
            si += x.real * w.imag + x.imag * w.real
        out[i] = complex(sr, si)


def sof_metric(y: np.ndarray, f_cyc: float, spread_cyc: float = 0.01) -> np.ndarray:
    """Coherent SOF correlation for every start index p with p + 90 <= len(y), once the carrier offset is known
    to about +-spread_cyc (cycles/symbol): rho^2 = |sum y conj(sof)|^2 / (26 sum |y|^2) over the 26 SOF symbols,
    the best of three offsets f_cyc - spread_cyc, f_cyc, f_cyc + spread_cyc. About S / (S + N) at a PLHEADER
    (0.37 at Es/N0 -2.35 dB); for noise, exponential with mean 1/26. Coherent, it finds headers that the
    differential `header_metric` misses near the lowest thresholds (about 3 dB more sensitive)."""
    y = np.asarray(y, dtype=np.complex64)
    n = y.size - PLHEADER_SYMBOLS + 1
    if n <= 0:
        return np.zeros(0)
    sof = sof_symbols().astype(np.complex128)
    k = np.arange(SOF_LEN)
    e = np.abs(y[: n + SOF_LEN - 1]) ** 2
    cs = np.concatenate([[0.0], np.cumsum(e, dtype=np.float64)])
    energy = cs[SOF_LEN : SOF_LEN + n] - cs[:n]
    energy = np.maximum(energy, max(0.25 * float(np.median(energy)), 1e-30))  # see header_metric
    best = np.zeros(n)
    for f in (f_cyc - spread_cyc, f_cyc, f_cyc + spread_cyc):
        ref = (sof * np.exp(2j * np.pi * f * k)).astype(np.complex64)
        c = correlate_valid(y[: n + SOF_LEN - 1], ref)[:n]
        np.maximum(best, np.abs(c) ** 2, out=best)
    return best / (SOF_LEN * energy)


def combined_offset_phasor(c_sof: complex, c_pls: complex) -> complex:
    """SOF and PLSC differential correlations added with the PLSC sign that aligns them."""
    s = 1.0 if (c_sof * np.conj(c_pls)).real >= 0 else -1.0
    return complex(c_sof + s * c_pls)


@lru_cache(maxsize=64)
def _offset_grid(n: int) -> np.ndarray:
    """(2n+1, 90) complex64: exp(-j 2 pi (i/400) (k - 44.5)) for offsets i = -n..n."""
    k = np.arange(PLHEADER_SYMBOLS) - 44.5
    fs = 0.0025 * np.arange(-n, n + 1)
    g = np.exp(-2j * np.pi * fs[:, None] * k[None, :]).astype(np.complex64)
    g.setflags(write=False)
    return g


@lru_cache(maxsize=1)
def _header_table_conj_t() -> np.ndarray:
    t = np.ascontiguousarray(np.conj(_header_refs()[2]).T)
    t.setflags(write=False)
    return t


def decode_plsc(y90: np.ndarray, f_cyc: float = 0.0, span_cyc: float = 0.0) -> tuple[int, float, complex]:
    """Soft ML decoding of a PLHEADER (90 symbols starting at the SOF) with unknown phase.

    The carrier offset is taken as f_cyc (cycles/symbol) give or take span_cyc: with span_cyc > 0 the decision
    is the best (PLS code, offset) pair over a grid of offsets 1/400 cycles/symbol apart (generalised
    likelihood ratio). Returns (pls_code 0..127, confidence, gain) where gain = mean(y conj(h)) for the decided
    header h after removing the offset (amplitude and phase at the header centre) and confidence = best over
    second-best metric (>= 1).
    """
    k = np.arange(PLHEADER_SYMBOLS) - 44.5
    n = int(np.ceil(span_cyc / 0.0025)) if span_cyc > 0 else 0
    y = np.asarray(y90, dtype=np.complex64) * np.exp(-2j * np.pi * f_cyc * k).astype(np.complex64)
    corr = (_offset_grid(n) * y[None, :]) @ _header_table_conj_t()  # (offsets, 128)
    mag = np.abs(corr).max(axis=0)
    order = np.argsort(mag)
    best, second = int(order[-1]), int(order[-2])
    conf = float(mag[best] / max(mag[second], 1e-30))
    fi = int(np.argmax(np.abs(corr[:, best])))
    return best, conf, complex(corr[fi, best] / PLHEADER_SYMBOLS)


def coherent_header_check(headers: list[np.ndarray], codes: list[int], f_cyc: float,
                          span_cyc: float = 0.1) -> tuple[np.ndarray, float]:
    """Coherent correlation of several received PLHEADERs (90-symbol slices) with their known headers (PLS codes
    `codes`), all under one carrier offset searched within f_cyc +- span_cyc (grid 1/400 cycles/symbol), the
    offset that maximises the sum of the normalised squared correlations (each header with its own phase).

    Returns (rho, offset): rho[i] = |sum y conj(h)| / sqrt(90 sum |y|^2) of header i at that offset, in [0, 1]:
    the amplitude share of the signal, sqrt(S / (S + N)) for a header (0.58 at Es/N0 -2.85 dB); for noise rho^2
    is exponential with mean 1/90 (rho > 0.35 has probability 2e-5 per header and offset). Coherent over all 90
    symbols, this holds up about 3 dB lower in Es/N0 than the differential `header_metric`.
    """
    n = int(np.ceil(span_cyc / 0.0025)) if span_cyc > 0 else 0
    k = np.arange(PLHEADER_SYMBOLS) - 44.5
    rot = np.exp(-2j * np.pi * f_cyc * k).astype(np.complex64)
    table = _header_refs()[2]
    mags = np.empty((len(headers), 2 * n + 1))
    for i, (y, c) in enumerate(zip(headers, codes, strict=True)):
        y = np.asarray(y, dtype=np.complex64)
        e = float(np.vdot(y, y).real)
        corr = _offset_grid(n) @ (y * rot * np.conj(table[c]))
        mags[i] = np.abs(corr) / np.sqrt(PLHEADER_SYMBOLS * max(e, 1e-30))
    best = int(np.argmax(np.sum(mags**2, axis=0)))
    return mags[:, best], float(f_cyc + 0.0025 * (best - n))


def header_symbols(pls: int) -> np.ndarray:
    """The 90 PLHEADER symbols of PLS code `pls` (complex64)."""
    return _header_refs()[2][pls]


# ------------------------------------------------------------------------------------------------- carrier phase


@numba.njit(cache=True, nogil=True)
def _pll(z, known, ref, pts, gain_inv, phase0, nu0, kp, ki, out):  # pragma: no cover - compiled
    """Second-order PLL over one frame. z: symbols (descrambled payload, header as is), known[k]: ref[k] valid;
    otherwise the nearest point of pts (scaled by 1/gain_inv) is the decision. Returns (phase, nu) after the
    last symbol; out receives the de-rotated symbols."""
    ph = phase0
    nu = nu0
    npts = pts.shape[0]
    for k in range(z.shape[0]):
        c = np.cos(ph)
        s = np.sin(ph)
        v = z[k] * complex(c, -s)
        out[k] = v
        if known[k]:
            r = ref[k]
        else:
            u = v * gain_inv
            best = 0
            bd = 1e30
            for m in range(npts):
                dr = u.real - pts[m].real
                di = u.imag - pts[m].imag
                dd = dr * dr + di * di
                if dd < bd:
                    bd = dd
                    best = m
            r = pts[best]
        # phase error: angle of v conj(r), small-angle form normalised by |r|^2
        q = v * np.conj(r)
        rr = r.real * r.real + r.imag * r.imag
        e = q.imag * gain_inv / (rr if rr > 0 else 1.0)
        if e > 1.0:
            e = 1.0
        elif e < -1.0:
            e = -1.0
        nu += ki * e
        ph += kp * e + nu
    return ph, nu


def track_phase(z: np.ndarray, known: np.ndarray, ref: np.ndarray, points: np.ndarray, gain: float,
                phase0: float, nu0: float, bn_t: float = 2e-3) -> tuple[np.ndarray, float, float]:
    """Run the frame PLL: returns (derotated symbols, phase after the last symbol, frequency in rad/symbol)."""
    kp, ki = loop_gains(bn_t, 1.0)
    out = np.empty(z.size, dtype=np.complex64)
    ph, nu = _pll(np.ascontiguousarray(z, dtype=np.complex64), np.ascontiguousarray(known),
                  np.ascontiguousarray(ref, dtype=np.complex64), np.ascontiguousarray(points, dtype=np.complex64),
                  1.0 / max(gain, 1e-9), float(phase0), float(nu0), kp, ki, out)
    return out, float(ph), float(nu)


def pilot_phase(zk: np.ndarray, starts: list[int], lengths: list[int], n: int) -> tuple[np.ndarray, float]:
    """Feed-forward phase trajectory from known-symbol blocks (PLHEADER, pilot blocks).

    zk: symbols times the conjugate of their known reference (only the blocks are used); blocks
    zk[s:s+len]. Each block gives a phase at its centre; the phases are unwrapped by a second-order tracker,
    fitted with a straight line (weighted by block length) and the residuals smoothed over 3 blocks, then
    interpolated linearly to every symbol 0..n-1. Blocks whose mean |zk| is under a quarter of the median block's
    (blanked) are left out. Returns (phase per symbol in radians, fitted slope in
    cycles/symbol). The receiver takes the trajectory as PilotPhase (pilot_phase_fit) and applies it with derotate.
    """
    fit = pilot_phase_fit(zk, starts, lengths)
    k = np.arange(n, dtype=np.float64)
    return fit.a * k + fit.b0 + np.interp(k, fit.kc, fit.sm), fit.slope_cyc


@dataclass(frozen=True)
class PilotPhase:
    """pilot_phase's trajectory: phase(i) = a i + b0 + (sm linearly interpolated at i between the block centres
    kc, held flat outside them), radians."""

    a: float
    b0: float
    kc: np.ndarray
    sm: np.ndarray

    @property
    def slope_cyc(self) -> float:
        return float(self.a / (2 * np.pi))


def pilot_phase_fit(zk: np.ndarray, starts: list[int], lengths: list[int]) -> PilotPhase:
    """The fit of pilot_phase (see there), without evaluating it at every symbol."""
    c = np.array([np.sum(zk[s : s + m]) for s, m in zip(starts, lengths, strict=True)])
    kc = np.array([s + (m - 1) / 2 for s, m in zip(starts, lengths, strict=True)], dtype=np.float64)
    w = np.array(lengths, dtype=np.float64)
    # a block that was blanked (zeros, or erased symbols set to zero) has no phase: leave it out
    mag = np.abs(c) / w
    keep = mag >= 0.25 * float(np.median(mag))
    if 2 <= int(keep.sum()) < c.size:
        c, kc, w = c[keep], kc[keep], w[keep]
    th = np.angle(c)
    if th.size == 1:
        return PilotPhase(0.0, float(th[0]), np.zeros(1), np.zeros(1))
    # unwrap with a tracker: predicted phase from the last phase and the running slope
    un = np.empty_like(th)
    un[0] = th[0]
    slope = 0.0  # rad/symbol
    for b in range(1, th.size):
        dk = kc[b] - kc[b - 1]
        pred = un[b - 1] + slope * dk
        innov = np.angle(np.exp(1j * (th[b] - pred)))
        un[b] = pred + innov
        slope += 0.5 * innov / dk
    a, b0 = np.polyfit(kc, un, 1, w=np.sqrt(w))
    res = un - (a * kc + b0)
    if res.size >= 3:
        sm = np.convolve(np.concatenate([[res[0]], res, [res[-1]]]), np.ones(3) / 3, mode="valid")
    else:
        sm = res
    return PilotPhase(float(a), float(b0), kc, np.ascontiguousarray(sm, dtype=np.float64))


def derotate(seg: np.ndarray, descr: np.ndarray, w_rad: float, fit: PilotPhase) -> np.ndarray:
    """seg * descr * exp(-j (w_rad i + phase(i))) for i = 0..len(seg)-1, phase the pilot trajectory `fit`, as
    complex64: the phasor is set exactly (cos, sin) at the start of each piece where the trajectory is linear and
    turned by a constant rotation inside it (float64), in a numba loop that releases the GIL. The same as computing
    the phase of every symbol and its cosine and sine (pilot_phase), to about 1e-12 rad, in a fifth of the time."""
    seg = np.ascontiguousarray(seg, dtype=np.complex64)
    descr = np.ascontiguousarray(descr, dtype=np.complex64)
    out = np.empty(seg.size, dtype=np.complex64)
    _derotate(seg, descr, float(w_rad) + fit.a, fit.b0, fit.kc, fit.sm, out)
    return out


@numba.njit(cache=True, nogil=True)
def _derotate(seg, descr, slope0, b0, kc, sm, out):  # pragma: no cover - compiled
    n = seg.shape[0]
    nb = kc.shape[0]
    i = 0
    for piece in range(nb + 1):
        # piece 0: before kc[0] (sm[0] held); piece p: kc[p-1] .. kc[p]; piece nb: after kc[-1] (sm[-1] held)
        if piece == 0:
            end = n if nb == 0 else min(n, int(np.ceil(kc[0])))
            ds, off = 0.0, sm[0]
        elif piece < nb:
            end = min(n, int(np.ceil(kc[piece])))
            ds = (sm[piece] - sm[piece - 1]) / (kc[piece] - kc[piece - 1])
            off = sm[piece - 1] - kc[piece - 1] * ds
        else:
            end = n
            ds, off = 0.0, sm[nb - 1]
        if i >= end:
            continue
        sl = slope0 + ds
        ph = sl * i + b0 + off
        pr = np.cos(ph)
        pi = -np.sin(ph)
        rr = np.cos(sl)
        ri = -np.sin(sl)
        while i < end:
            ph32 = complex(np.float32(pr), np.float32(pi))
            out[i] = seg[i] * descr[i] * np.complex64(ph32)
            t = pr * rr - pi * ri
            pi = pr * ri + pi * rr
            pr = t
            i += 1


# ------------------------------------------------------------------------------------------------- soft demapping


@numba.njit(cache=True, nogil=True, fastmath=True)
def _llr_fast(y, pr, pi, bit_of, inv_n0, out):  # pragma: no cover - compiled
    """Exact log-MAP LLRs; points whose metric is more than 20 below the best are skipped (no exp), which caps
    |LLR| near 24 (the sums start at exp(-24)); each bit takes a single log of the ratio of the two sums."""
    cut = np.float32(-20.0)
    floor = np.float32(np.exp(-24.0))
    n = y.shape[0]
    M = pr.shape[0]
    m = bit_of.shape[1]
    d = np.empty(M, dtype=np.float32)
    s0 = np.empty(m, dtype=np.float32)
    s1 = np.empty(m, dtype=np.float32)
    for i in range(n):
        yr = np.float32(y[i].real)
        yi = np.float32(y[i].imag)
        dmax = np.float32(-1e30)
        for k in range(M):
            dr = yr - pr[k]
            di = yi - pi[k]
            v = -(dr * dr + di * di) * inv_n0
            d[k] = v
            if v > dmax:
                dmax = v
        for j in range(m):
            s0[j] = floor
            s1[j] = floor
        for k in range(M):
            v = d[k] - dmax
            if v > cut:
                w = np.exp(v)
                for j in range(m):
                    if bit_of[k, j]:
                        s1[j] += w
                    else:
                        s0[j] += w
        for j in range(m):
            out[i, j] = np.log(s0[j] / s1[j])


_MAXLOG_BLOCK = 256  # symbols per block of the max-log demapper: its running minima stay in L1 cache


@numba.njit(cache=True, nogil=True, fastmath=True)
def _llr_maxlog(y, pr, pi, bit_of, inv_n0, out):  # pragma: no cover - compiled
    """Max-log LLRs: (min distance over points with the bit 1 - min over points with the bit 0) / N0. Blocks of
    symbols are swept point by point so that every inner loop runs over symbols without a branch (vectorized)."""
    n = y.shape[0]
    M = pr.shape[0]
    m = bit_of.shape[1]
    B = _MAXLOG_BLOCK
    yr = np.empty(B, dtype=np.float32)
    yi = np.empty(B, dtype=np.float32)
    v = np.empty(B, dtype=np.float32)
    b0 = np.empty((m, B), dtype=np.float32)
    b1 = np.empty((m, B), dtype=np.float32)
    big = np.float32(1e30)
    for i0 in range(0, n, B):
        nb = min(B, n - i0)
        for i in range(nb):
            yr[i] = np.float32(y[i0 + i].real)
            yi[i] = np.float32(y[i0 + i].imag)
        for j in range(m):
            for i in range(nb):
                b0[j, i] = big
                b1[j, i] = big
        for k in range(M):
            ar = pr[k]
            ai = pi[k]
            for i in range(nb):
                dr = yr[i] - ar
                di = yi[i] - ai
                v[i] = dr * dr + di * di
            for j in range(m):
                if bit_of[k, j]:
                    for i in range(nb):
                        b1[j, i] = min(b1[j, i], v[i])
                else:
                    for i in range(nb):
                        b0[j, i] = min(b0[j, i], v[i])
        for i in range(nb):
            for j in range(m):
                out[i0 + i, j] = (b1[j, i] - b0[j, i]) * inv_n0


def soft_demap(symbols: np.ndarray, points: np.ndarray, labels_bits: np.ndarray, noise_var: float,
               maxlog: bool = False) -> np.ndarray:
    """Per-bit LLRs, float32 (n, m), positive = bit 0, for one noise variance E|n|^2: exact log-sum-exp
    (same definition as `constellations.llrs`, single precision) or, with maxlog, the max-log approximation.
    QPSK uses the exact closed form either way.
    """
    y = np.ascontiguousarray(symbols, dtype=np.complex64).reshape(-1)
    m = labels_bits.shape[1]
    lb = labels_bits.astype(np.int64)
    if m == 2 and np.allclose(np.abs(points), 1.0) and np.allclose(
            np.sign(points.real), 1 - 2 * lb[:, 0]) and np.allclose(np.sign(points.imag), 1 - 2 * lb[:, 1]):
        s = np.float32(2 * np.sqrt(2) / noise_var)
        out = np.empty((y.size, 2), dtype=np.float32)
        out[:, 0] = y.real * s
        out[:, 1] = y.imag * s
        return out
    out = np.empty((y.size, m), dtype=np.float32)
    (_llr_maxlog if maxlog else _llr_fast)(y, np.ascontiguousarray(points.real, dtype=np.float32),
              np.ascontiguousarray(points.imag, dtype=np.float32), np.ascontiguousarray(labels_bits),
              np.float32(1.0 / noise_var), out)
    return out


# ------------------------------------------------------------------------------------------- coarse carrier (blind)


@lru_cache(maxsize=8)
def _rc_power_shapes(sps: float, rolloff: float, max_offset_cyc: float, nfft: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (cycles/symbol, 0.002 apart) and the raised-cosine power shape |H(f - offset)|^2 on the nfft
    periodogram bins (fftshifted) for each: (offsets, (offsets, nfft) matrix)."""
    f = (np.arange(nfft) - nfft // 2) / nfft * sps
    a = rolloff
    shifts = np.arange(-max_offset_cyc, max_offset_cyc + 1e-9, 0.002)
    af = np.abs(f[None, :] - shifts[:, None])
    mid = 0.5 * (1 + np.cos(np.pi / a * (np.clip(af, (1 - a) / 2, (1 + a) / 2) - (1 - a) / 2)))
    shapes = np.where(af <= (1 - a) / 2, 1.0, np.where(af <= (1 + a) / 2, mid, 0.0))
    shifts.setflags(write=False)
    shapes.setflags(write=False)
    return shifts, shapes


def coarse_offset_psd(x: np.ndarray, sps: float, rolloff: float, max_offset_cyc: float = 0.35,
                      nfft: int = 1024) -> tuple[float, float]:
    """Blind carrier-offset estimate (cycles per symbol) from the power spectrum: the shift that best matches
    the averaged periodogram of x (sps samples per symbol) to the raised-cosine power shape |H(f)|^2 (white noise
    adds a constant and does not move the match). Accuracy about 0.2 % of the symbol rate with 30 000 samples;
    used before the matched filter so that offsets up to +-35 % of the symbol rate lose no signal in the filter.

    Returns (offset, contrast): contrast is the mean power density inside the matched band's flat part over the
    mean outside its edges, minus 1 (about Es/N0 for a signal alone in the band, near 0 for white noise, whose
    estimate means nothing). With sps <= 1 + rolloff there is no "outside": contrast is then inf.
    """
    x = np.asarray(x, dtype=np.complex64)
    nseg = x.size // nfft
    if nseg < 4:
        return 0.0, 0.0
    seg = x[: nseg * nfft].reshape(nseg, nfft) * np.hanning(nfft).astype(np.float32)
    raw = np.fft.fftshift(np.mean(np.abs(np.fft.fft(seg, axis=1)) ** 2, axis=0))
    psd = raw - np.median(raw)  # remove most of the white-noise floor
    f = (np.arange(nfft) - nfft // 2) / nfft * sps  # cycles per symbol
    a = rolloff
    shifts, shapes = _rc_power_shapes(float(sps), float(rolloff), float(max_offset_cyc), nfft)
    score = shapes @ psd
    i = int(np.argmax(score))
    frac = 0.0
    if 0 < i < shifts.size - 1:
        y0, y1, y2 = score[i - 1], score[i], score[i + 1]
        den = y0 - 2 * y1 + y2
        frac = float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)) if den < 0 else 0.0
    f_hat = float(shifts[i] + frac * 0.002)
    d = np.abs((f - f_hat + sps / 2) % sps - sps / 2)  # distance from the band centre, wrapped
    inside = d <= 0.9 * (1 - a) / 2
    outside = d >= 1.1 * (1 + a) / 2
    if not outside.any():
        return f_hat, float("inf")
    return f_hat, float(np.mean(raw[inside]) / max(float(np.mean(raw[outside])), 1e-30) - 1.0)
