"""Jammer waveforms for the sample-clocked channel (complex baseband, victim carrier at 0 Hz).

Every jammer is a frozen dataclass of parameters. `jammer.runtime(sample_rate_hz, key)` gives a generator whose
`generate(n0, n, victim=None, victim_power=None)` returns complex64 samples for absolute sample indices
n0..n0+n-1 with UNIT MEAN POWER; the channel scales them to J = P_rx * 10^(js_db/10) (see linksim.channel.core).
Outputs depend only on (parameters, key, absolute sample index): chunking never changes them.

Types (frequencies are offsets from the victim's carrier, Hz):
    CWJammer(offset_hz=0, phase_rad=0)                   a tone
    MultitoneJammer(n_tones, bandwidth_hz, offset_hz=0)   n equal tones spread evenly over the band, seeded phases
    BarrageJammer(bandwidth_hz, offset_hz=0)              Gaussian noise, flat over the band (noise-equivalent
                                                          bandwidth = bandwidth_hz), nothing outside
    PartialBandJammer(band_hz, rho, offset_hz=0)          barrage over the fraction rho of band_hz (width rho *
                                                          band_hz, centred at offset_hz): density J / (rho W)
    ChirpJammer(bandwidth_hz, sweep_rate_hz_s, offset_hz=0)
                                                          linear sawtooth sweep over offset +- bandwidth/2 at
                                                          sweep_rate_hz_s, phase-continuous across resets
    PulsedJammer(base, duty, prf_hz, delay_s=0)           any base jammer gated on for duty / prf_hz of every
                                                          1 / prf_hz; js_db is the AVERAGE J/S, so the peak
                                                          power is J / duty
    FollowerJammer(bandwidth_hz, offset_hz=0, reaction_time_s, look_time_s, threshold_db=-10)
                                                          senses the victim's received power in its band over
                                                          windows of look_time_s; if the mean in-band power of
                                                          a window is >= threshold_db relative to the victim's
                                                          mean received power, it transmits band noise for one
                                                          window, starting reaction_time_s after that window
                                                          ended. js_db is J/S WHILE transmitting.
    ModulatedJammer(symbol_rate_hz, order=4, rolloff=0.35, offset_hz=0)
                                                          a random M-PSK carrier (M = 2, 4, 8) with root-raised-
                                                          cosine pulses, at any symbol rate (co-channel with
                                                          offset 0, adjacent channel with an offset)
`parse_jammer(spec)` reads the CLI's comma list (`type=cw,js_db=0,offset_hz=1000`) into a JammerSpec.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any

import numba as nb
import numpy as np
from scipy import fft as sp_fft
from scipy.signal import firwin

from ..errors import InputError
from .noise import GAMMA, _mix, complex_normal, stream_key

_TONE_BLOCK = 1024
NOISE_BATCH = 1 << 15
FFT_MIN = 1 << 15
DIRECT_FIR_MAX = 255  # band filters up to this many taps run as direct-form FIR, longer ones by FFT


def _pos(name: str, v: float, strict: bool = True) -> float:
    x = float(v)
    if not np.isfinite(x) or (x <= 0 if strict else x < 0):
        raise InputError(f"jammer {name}: must be {'>' if strict else '>='} 0, got {v}")
    return x


def _finite(name: str, v: float) -> float:
    x = float(v)
    if not np.isfinite(x):
        raise InputError(f"jammer {name}: must be finite, got {v}")
    return x


# ---------------------------------------------------------------------------------------------- helpers


@nb.njit(cache=True, nogil=True)
def _anchor(n, cyc, phase, blk):
    """(k0, cos, sin) of the exact phase 2 pi cyc (n - k0) + phase at the table block holding sample n
    (k0 = n mod blk): the tone kernels multiply it by table[k0:] so rounding never accumulates past one block."""
    k0 = n % blk
    c = cyc * (n - k0)
    ph = 2.0 * np.pi * (c - np.floor(c)) + phase
    return k0, np.cos(ph), np.sin(ph)


@nb.njit(cache=True, nogil=True)
def _tone_kernel(n0, cyc, phase, table, out, acc):
    """out[i] (+)= exp(j(2 pi cyc n + phase)), n = n0 + i; exact anchor every len(table) samples, then table."""
    blk = table.shape[0]
    nn = out.shape[0]
    i = 0
    while i < nn:
        k0, ar, ai = _anchor(n0 + i, cyc, phase, blk)
        cnt = min(blk - k0, nn - i)
        for k in range(k0, k0 + cnt):
            t = table[k]
            v = complex(ar * t.real - ai * t.imag, ar * t.imag + ai * t.real)
            if acc:
                out[i] += v
            else:
                out[i] = v
            i += 1


def _tone_table(cyc: float) -> np.ndarray:
    k = np.arange(_TONE_BLOCK)
    return np.exp(2j * np.pi * ((cyc * k) % 1.0))


@nb.njit(cache=True, nogil=True, fastmath=True)
def _fir_real(w, taps, out):
    """out[i] = sum_t taps[t] w[i + t] (float32). The summation order depends only on len(taps), so an output
    sample never depends on where a chunk starts."""
    L = taps.shape[0]
    for i in range(out.shape[0]):
        acc = np.float32(0.0)
        for t in range(L):
            acc += taps[t] * w[i + t]
        out[i] = acc


@nb.njit(cache=True, nogil=True)
def _rotate_kernel(fr, fi, n0, cyc, table, out):
    """out[i] = (fr[i] + j fi[i]) exp(j 2 pi cyc n), n = n0 + i; exact anchor every len(table) samples."""
    blk = table.shape[0]
    nn = out.shape[0]
    i = 0
    while i < nn:
        k0, ar, ai = _anchor(n0 + i, cyc, 0.0, blk)
        cnt = min(blk - k0, nn - i)
        for k in range(k0, k0 + cnt):
            tr = ar * table[k].real - ai * table[k].imag
            ti = ar * table[k].imag + ai * table[k].real
            out[i] = complex(fr[i] * tr - fi[i] * ti, fr[i] * ti + fi[i] * tr)
            i += 1


def band_filter(bandwidth_hz: float, fs: float) -> np.ndarray | None:
    """Real low-pass FIR (unit energy) whose noise-equivalent bandwidth is bandwidth_hz (two-sided, Hz).
    None when the band covers the whole sample rate (white noise)."""
    if bandwidth_hz >= 0.999 * fs:
        return None
    taps = int(np.clip(16.0 * fs / bandwidth_hz, 63, 4095)) | 1
    cut = bandwidth_hz / 2.0
    for _ in range(4):
        h = firwin(taps, min(cut, 0.4999 * fs), fs=fs, window=("kaiser", 8.0))
        enbw = fs * np.sum(h**2) / np.sum(h) ** 2
        cut *= bandwidth_hz / enbw
    return h / np.sqrt(np.sum(h**2))


class _BandNoise:
    """Unit-power Gaussian noise flat over [offset - bw/2, offset + bw/2], generated in fixed batches.

    Counter-based white noise (linksim.channel.noise) through the band filter: a direct-form FIR for up to 255 taps
    (stateless: each chunk regenerates the taps-1 noise samples before it), else overlap-save FFT convolution
    in fixed batches (batch b holds samples [b B, (b+1) B), B = NFFT - taps + 1), so the output never depends
    on the caller's chunks.
    """

    def __init__(self, fs: float, bandwidth_hz: float, offset_hz: float, key: np.uint64) -> None:
        self.cyc = offset_hz / fs
        self.key = key
        self._cache: dict[int, np.ndarray] = {}
        self._table = _tone_table(self.cyc)
        fir = band_filter(bandwidth_hz, fs)
        self.direct = fir is not None and fir.size <= DIRECT_FIR_MAX
        if self.direct:
            # short filter: direct-form FIR on the counter-based noise, then the shift to the offset
            self._taps = np.ascontiguousarray(fir[::-1], dtype=np.float32)
            self.fir = fir
            return
        # band-pass taps: the low-pass shifted to the offset (white input, so this equals shifting the noise)
        self.fir = None if fir is None else fir * np.exp(2j * np.pi * self.cyc * np.arange(fir.size))
        if self.fir is None:
            self.batch = NOISE_BATCH
        else:
            self.nfft = max(FFT_MIN, 1 << int(np.ceil(np.log2(8 * self.fir.size))))
            self.batch = self.nfft - self.fir.size + 1
            self._h = sp_fft.fft(self.fir, self.nfft).astype(np.complex64)

    def _batch(self, b: int) -> np.ndarray:
        got = self._cache.get(b)
        if got is None:
            m0 = b * self.batch
            if self.fir is None:
                got = complex_normal(self.key, m0, self.batch)
                if self.cyc != 0.0:
                    rot = np.empty(self.batch, dtype=np.complex128)
                    _tone_kernel(np.int64(m0), self.cyc, 0.0, self._table, rot, False)
                    got = (got * rot).astype(np.complex64)
            else:
                lt = self.fir.size
                w = complex_normal(self.key, m0 - lt + 1 + (1 << 40), self.nfft)
                spec = sp_fft.fft(w, overwrite_x=True)
                spec *= self._h
                got = sp_fft.ifft(spec, overwrite_x=True)[lt - 1 :]
            self._cache[b] = got
            for old in [k for k in self._cache if k < b - 1]:
                del self._cache[old]
        return got

    def get(self, n0: int, n: int) -> np.ndarray:
        if n == 0:
            return np.empty(0, np.complex64)
        if self.direct:
            lt = self._taps.size
            w = complex_normal(self.key, n0 - lt + 1 + (1 << 40), n + lt - 1)
            fr = np.empty(n, dtype=np.float32)
            fi = np.empty(n, dtype=np.float32)
            _fir_real(np.ascontiguousarray(w.real), self._taps, fr)
            _fir_real(np.ascontiguousarray(w.imag), self._taps, fi)
            out = np.empty(n, dtype=np.complex64)
            if self.cyc == 0.0:
                out.real = fr
                out.imag = fi
            else:
                _rotate_kernel(fr, fi, np.int64(n0), self.cyc, self._table, out)
            return out
        bs = self.batch
        b_lo, b_hi = n0 // bs, (n0 + n - 1) // bs
        off = n0 - b_lo * bs
        if b_lo == b_hi:
            return self._batch(b_lo)[off : off + n]
        a = np.concatenate([self._batch(b) for b in range(b_lo, b_hi + 1)])
        return a[off : off + n]


class _Runtime:
    needs_victim = False
    # generate(n0, n) is a pure function of the sample indices, safe to call for pieces of a chunk on several
    # threads at once (the channel then makes each piece on the thread that adds it)
    piecewise = False

    def generate(self, n0: int, n: int, victim: np.ndarray | None = None,
                 victim_power: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------- jammers


@dataclass(frozen=True)
class CWJammer:
    offset_hz: float = 0.0
    phase_rad: float = 0.0

    def __post_init__(self) -> None:
        _finite("offset_hz", self.offset_hz)
        _finite("phase_rad", self.phase_rad)

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return _ToneRuntime(fs, [self.offset_hz], [self.phase_rad])


class _ToneRuntime(_Runtime):
    piecewise = True

    def __init__(self, fs: float, offsets_hz: list[float], phases: list[float]) -> None:
        self.cyc = [f / fs for f in offsets_hz]
        self.phases = list(phases)
        self.tables = [_tone_table(c) for c in self.cyc]
        self.scale = 1.0 / np.sqrt(len(self.cyc))

    def generate(self, n0: int, n: int, victim: np.ndarray | None = None,
                 victim_power: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros(n, dtype=np.complex128)
        for c, p, t in zip(self.cyc, self.phases, self.tables, strict=True):
            _tone_kernel(np.int64(n0), c, p, t, out, True)
        if self.scale != 1.0:
            out *= self.scale
        return out.astype(np.complex64)


@dataclass(frozen=True)
class MultitoneJammer:
    n_tones: int
    bandwidth_hz: float
    offset_hz: float = 0.0

    def __post_init__(self) -> None:
        if int(self.n_tones) != self.n_tones or self.n_tones < 1:
            raise InputError(f"jammer n_tones: must be an integer >= 1, got {self.n_tones}")
        _pos("bandwidth_hz", self.bandwidth_hz, strict=self.n_tones > 1)
        _finite("offset_hz", self.offset_hz)

    def offsets_hz(self) -> np.ndarray:
        n = int(self.n_tones)
        if n == 1:
            return np.array([self.offset_hz])
        return self.offset_hz + self.bandwidth_hz * ((np.arange(n) + 0.5) / n - 0.5)

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        rng = np.random.default_rng(int(key))
        ph = rng.uniform(0, 2 * np.pi, int(self.n_tones))
        return _ToneRuntime(fs, list(self.offsets_hz()), list(ph))


@dataclass(frozen=True)
class BarrageJammer:
    bandwidth_hz: float
    offset_hz: float = 0.0

    def __post_init__(self) -> None:
        _pos("bandwidth_hz", self.bandwidth_hz)
        _finite("offset_hz", self.offset_hz)

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        if self.bandwidth_hz > fs * 1.000001 or abs(self.offset_hz) + self.bandwidth_hz / 2 > fs / 2 * 1.000001:
            raise InputError(f"jammer bandwidth_hz/offset_hz: band {self.offset_hz} +- {self.bandwidth_hz / 2} Hz "
                             f"does not fit in the sample rate {fs} Hz")
        return _NoiseRuntime(_BandNoise(fs, self.bandwidth_hz, self.offset_hz, key))


class _NoiseRuntime(_Runtime):
    def __init__(self, src: _BandNoise) -> None:
        self.src = src
        self.piecewise = src.direct  # the direct-form FIR regenerates its history: no state; FFT batches are cached

    def generate(self, n0: int, n: int, victim: np.ndarray | None = None,
                 victim_power: np.ndarray | None = None) -> np.ndarray:
        return self.src.get(n0, n)


@dataclass(frozen=True)
class PartialBandJammer:
    band_hz: float
    rho: float
    offset_hz: float = 0.0

    def __post_init__(self) -> None:
        _pos("band_hz", self.band_hz)
        if not (0 < float(self.rho) <= 1):
            raise InputError(f"jammer rho: must be in (0, 1], got {self.rho}")
        _finite("offset_hz", self.offset_hz)

    @property
    def bandwidth_hz(self) -> float:
        return self.rho * self.band_hz

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return BarrageJammer(self.bandwidth_hz, self.offset_hz).runtime(fs, key)


@nb.njit(cache=True, nogil=True)
def _chirp_kernel(n0, fs, f_lo, rate, period_samples, phase_per_period, out):
    two_pi = 2.0 * np.pi
    for i in range(out.shape[0]):
        n = n0 + i
        k = np.floor(n / period_samples)
        tau = (n - k * period_samples) / fs
        cyc = f_lo * tau + 0.5 * rate * tau * tau
        c0 = k * phase_per_period
        ph = two_pi * ((c0 - np.floor(c0)) + (cyc - np.floor(cyc)))
        out[i] = complex(np.cos(ph), np.sin(ph))


@dataclass(frozen=True)
class ChirpJammer:
    bandwidth_hz: float
    sweep_rate_hz_s: float
    offset_hz: float = 0.0

    def __post_init__(self) -> None:
        _pos("bandwidth_hz", self.bandwidth_hz)
        _pos("sweep_rate_hz_s", self.sweep_rate_hz_s)
        _finite("offset_hz", self.offset_hz)

    @property
    def period_s(self) -> float:
        return self.bandwidth_hz / self.sweep_rate_hz_s

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return _ChirpRuntime(self, fs)


class _ChirpRuntime(_Runtime):
    piecewise = True

    def __init__(self, p: ChirpJammer, fs: float) -> None:
        self.fs = fs
        self.f_lo = p.offset_hz - p.bandwidth_hz / 2
        self.rate = p.sweep_rate_hz_s
        self.period_samples = p.period_s * fs
        T = p.period_s
        c = self.f_lo * T + 0.5 * self.rate * T * T
        self.phase_per_period = c - np.floor(c)

    def generate(self, n0: int, n: int, victim: np.ndarray | None = None,
                 victim_power: np.ndarray | None = None) -> np.ndarray:
        out = np.empty(n, dtype=np.complex64)
        _chirp_kernel(np.int64(n0), self.fs, self.f_lo, self.rate, self.period_samples, self.phase_per_period, out)
        return out


@dataclass(frozen=True)
class PulsedJammer:
    base: Any
    duty: float
    prf_hz: float
    delay_s: float = 0.0

    def __post_init__(self) -> None:
        if not (0 < float(self.duty) <= 1):
            raise InputError(f"jammer duty: must be in (0, 1], got {self.duty}")
        _pos("prf_hz", self.prf_hz)
        _finite("delay_s", self.delay_s)
        if not hasattr(self.base, "runtime"):
            raise InputError("jammer base: must be a jammer (cw, barrage, ...)")

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return _PulsedRuntime(self, fs, self.base.runtime(fs, key))


@nb.njit(cache=True, nogil=True)
def _gate_kernel(n0, cyc_per_sample, start_cyc, duty, scale, x, out):
    for i in range(x.shape[0]):
        c = (n0 + i) * cyc_per_sample - start_cyc
        c = c - np.floor(c)
        out[i] = x[i] * scale if c < duty else 0.0


class _PulsedRuntime(_Runtime):
    def __init__(self, p: PulsedJammer, fs: float, base: _Runtime) -> None:
        self.base = base
        self.needs_victim = base.needs_victim
        self.piecewise = base.piecewise
        self.cyc = p.prf_hz / fs
        self.start = p.delay_s * p.prf_hz
        self.duty = float(p.duty)
        self.scale = np.float32(1.0 / np.sqrt(p.duty))

    def generate(self, n0: int, n: int, victim: np.ndarray | None = None,
                 victim_power: np.ndarray | None = None) -> np.ndarray:
        x = self.base.generate(n0, n, victim, victim_power)
        out = np.empty(n, dtype=np.complex64)
        _gate_kernel(np.int64(n0), self.cyc, self.start, self.duty, self.scale, x, out)
        return out


@nb.njit(cache=True, nogil=True)
def _follower_kernel(n0, victim, vpow, fir, cyc, hist, look, react, thresh, dec, acc, gate):
    """Sense in-band victim power (FIR after shifting the band to 0 Hz), decide per look window, gate output.

    hist: ring (power-of-2 size) of shifted victim samples; acc: [in-band energy of the current window, samples seen,
    victim mean-power sum of the window];
    dec: ring of window decisions (-1 unknown, 0 off, 1 on) indexed by window number mod len(dec).
    """
    L = fir.shape[0]
    mask = hist.shape[0] - 1
    nd = dec.shape[0]
    two_pi = 2.0 * np.pi
    for i in range(victim.shape[0]):
        n = n0 + i
        c = cyc * n
        ph = -two_pi * (c - np.floor(c))
        v = victim[i] * complex(np.cos(ph), np.sin(ph))
        pos = np.int64(acc[1])
        hist[pos & mask] = v
        yr = 0.0
        yi = 0.0
        for k in range(L):
            h = hist[(pos - k) & mask]
            yr += fir[k] * h.real
            yi += fir[k] * h.imag
        acc[1] = pos + 1
        acc[0] += yr * yr + yi * yi
        acc[2] += vpow[i]
        w = n // look
        if n - w * look == look - 1:  # window w complete: in-band power vs threshold x mean victim power
            dec[w % nd] = 1 if acc[0] >= thresh * acc[2] else 0
            acc[0] = 0.0
            acc[2] = 0.0
        # which window's decision drives sample n: the window that ended at least `react` samples earlier
        wp = (n - react) // look - 1 if n - react >= 0 else -1
        if wp >= 0:
            gate[i] = dec[wp % nd] == 1
        else:
            gate[i] = False


@dataclass(frozen=True)
class FollowerJammer:
    bandwidth_hz: float
    offset_hz: float = 0.0
    reaction_time_s: float = 1e-3
    look_time_s: float = 1e-3
    threshold_db: float = -10.0

    def __post_init__(self) -> None:
        _pos("bandwidth_hz", self.bandwidth_hz)
        _finite("offset_hz", self.offset_hz)
        _pos("reaction_time_s", self.reaction_time_s, strict=False)
        _pos("look_time_s", self.look_time_s)
        _finite("threshold_db", self.threshold_db)

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return _FollowerRuntime(self, fs, key)


class _FollowerRuntime(_Runtime):
    needs_victim = True

    def __init__(self, p: FollowerJammer, fs: float, key: np.uint64) -> None:
        self.noise = _BandNoise(fs, p.bandwidth_hz, p.offset_hz, key)
        if p.bandwidth_hz >= 0.999 * fs:
            f = np.ones(1)
        else:  # sensing filter: 129-tap low-pass at the band edge, unit gain in the band
            f = firwin(129, p.bandwidth_hz / 2, fs=fs)
            f = f / np.sum(f)
        self.fir = np.ascontiguousarray(f, dtype=np.float64)
        self.cyc = p.offset_hz / fs
        self.look = max(1, int(round(p.look_time_s * fs)))
        self.react = int(round(p.reaction_time_s * fs))
        self.thresh_rel = 10.0 ** (p.threshold_db / 10.0)
        self.hist = np.zeros(1 << int(np.ceil(np.log2(self.fir.size + 1))), dtype=np.complex128)
        self.dec = -np.ones(self.react // self.look + 4, dtype=np.int8)
        self.acc = np.zeros(3)
        self.last_gate = np.empty(0, dtype=np.bool_)

    def generate(self, n0: int, n: int, victim: np.ndarray | None = None,
                 victim_power: np.ndarray | None = None) -> np.ndarray:
        if victim is None:
            raise InputError("follower jammer: needs the victim signal (use it through linksim.channel.core.Channel)")
        gate = np.empty(n, dtype=np.bool_)
        pw = np.ones(n) if victim_power is None else np.broadcast_to(np.asarray(victim_power, float), (n,))
        _follower_kernel(np.int64(n0), victim, np.ascontiguousarray(pw), self.fir, self.cyc, self.hist, self.look,
                         self.react, self.thresh_rel, self.dec, self.acc, gate)
        self.last_gate = gate
        return np.where(gate, self.noise.get(n0, n), np.complex64(0)).astype(np.complex64)


@nb.njit(cache=True, nogil=True)
def _psk_kernel(n0, fs, rs, order, span, table, ovs, key, phase0, cyc, out):
    """sum_k a_k p(t - k T) with a_k = exp(j(2 pi c_k / M + phase0)), c_k from a counter hash of symbol k."""
    two_pi = 2.0 * np.pi
    half = table.shape[0] // 2  # table centre index (t = 0)
    for i in range(out.shape[0]):
        n = n0 + i
        t_sym = n * rs / fs  # time in symbols
        kc = np.int64(np.floor(t_sym))
        accr = 0.0
        acci = 0.0
        for k in range(kc - span, kc + span + 1):
            u = (t_sym - k) * ovs + half
            j = np.int64(np.floor(u))
            if j < 0 or j >= table.shape[0] - 1:
                continue
            fr = u - j
            p = table[j] + fr * (table[j + 1] - table[j])
            z = _mix(key + np.uint64(k + (1 << 62)) * GAMMA)
            c = np.int64(z >> np.uint64(40)) % order
            ph = two_pi * c / order + phase0
            accr += p * np.cos(ph)
            acci += p * np.sin(ph)
        cc = cyc * n
        ph = two_pi * (cc - np.floor(cc))
        cr = np.cos(ph)
        ci = np.sin(ph)
        out[i] = complex(accr * cr - acci * ci, accr * ci + acci * cr)


def rrc_pulse(t_sym: np.ndarray, rolloff: float) -> np.ndarray:
    """Root-raised-cosine pulse at times t (in symbol periods), peak 1 - b + 4b/pi at t = 0 (unnormalised)."""
    b = rolloff
    t = np.asarray(t_sym, dtype=float)
    out = np.empty_like(t)
    z = np.isclose(t, 0.0)
    s = np.isclose(np.abs(4 * b * t), 1.0) if b > 0 else np.zeros_like(z)
    r = ~(z | s)
    tr = t[r]
    out[r] = (np.sin(np.pi * tr * (1 - b)) + 4 * b * tr * np.cos(np.pi * tr * (1 + b))) / (
        np.pi * tr * (1 - (4 * b * tr) ** 2))
    out[z] = 1 - b + 4 * b / np.pi
    if np.any(s):
        q = np.pi / (4 * b)
        out[s] = b / np.sqrt(2) * ((1 + 2 / np.pi) * np.sin(q) + (1 - 2 / np.pi) * np.cos(q))
    return out


@dataclass(frozen=True)
class ModulatedJammer:
    symbol_rate_hz: float
    order: int = 4
    rolloff: float = 0.35
    offset_hz: float = 0.0

    def __post_init__(self) -> None:
        _pos("symbol_rate_hz", self.symbol_rate_hz)
        if self.order not in (2, 4, 8):
            raise InputError(f"jammer order: must be 2, 4 or 8 (PSK), got {self.order}")
        if not (0 < float(self.rolloff) <= 1):
            raise InputError(f"jammer rolloff: must be in (0, 1], got {self.rolloff}")
        _finite("offset_hz", self.offset_hz)

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return _PskRuntime(self, fs, key)


class _PskRuntime(_Runtime):
    piecewise = True
    SPAN = 8
    OVS = 128

    def __init__(self, p: ModulatedJammer, fs: float, key: np.uint64) -> None:
        self.p = p
        self.fs = fs
        self.key = key
        t = np.arange(-self.SPAN * self.OVS, self.SPAN * self.OVS + 1) / self.OVS
        pulse = rrc_pulse(t, p.rolloff) * np.kaiser(t.size, 4.0)
        # mean power of sum_k a_k p(t - k T) over t (unit-modulus independent symbols) = mean over one period
        # of sum_k p(t - kT)^2 = sum(p^2) / OVS
        pulse /= np.sqrt(np.sum(pulse**2) / self.OVS)
        self.table = pulse
        self.phase0 = np.pi / 4 if p.order == 4 else 0.0

    def generate(self, n0: int, n: int, victim: np.ndarray | None = None,
                 victim_power: np.ndarray | None = None) -> np.ndarray:
        out = np.empty(n, dtype=np.complex64)
        _psk_kernel(np.int64(n0), self.fs, self.p.symbol_rate_hz, self.p.order, self.SPAN, self.table, self.OVS,
                    self.key, self.phase0, self.p.offset_hz / self.fs, out)
        return out


# ---------------------------------------------------------------------------------------------- parsing

JAMMER_TYPES: dict[str, type] = {
    "cw": CWJammer,
    "multitone": MultitoneJammer,
    "barrage": BarrageJammer,
    "partial_band": PartialBandJammer,
    "chirp": ChirpJammer,
    "follower": FollowerJammer,
    "modulated": ModulatedJammer,
    "pulsed": PulsedJammer,
}
_ALIASES = {"partial-band": "partial_band", "partialband": "partial_band", "swept": "chirp", "tone": "cw",
            "psk": "modulated"}


def _build(kind: str, kw: dict[str, str], spec: str) -> Any:
    cls = JAMMER_TYPES[kind]
    names = {f.name: f for f in fields(cls)}
    args: dict[str, Any] = {}
    for k, v in kw.items():
        if k not in names:
            raise InputError(f"jammer '{spec}': {kind} has no field '{k}' (fields: {', '.join(names)})")
        try:
            args[k] = int(v) if k in ("n_tones", "order") else float(v)
        except ValueError:
            raise InputError(f"jammer '{spec}': {k}: '{v}' is not a number") from None
    missing = [n for n, f in names.items() if f.default is MISSING and n not in args]
    if missing:
        raise InputError(f"jammer '{spec}': {kind} needs {', '.join(missing)}")
    return cls(**args)


def parse_jammer(spec: str):
    """'type=cw,js_db=0,offset_hz=1000' -> linksim.channel.core.JammerSpec. Pulsed: 'type=pulsed,base=barrage,
    duty=0.1,prf_hz=1000,bandwidth_hz=1e6,js_db=0' (the base's fields in the same list)."""
    from .core import JammerSpec

    kw: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        k, eq, v = item.partition("=")
        if not eq or not k.strip():
            raise InputError(f"jammer '{spec}': '{item}' is not NAME=VALUE")
        kw[k.strip()] = v.strip()
    kind = kw.pop("type", None)
    if kind is None:
        raise InputError(f"jammer '{spec}': type is missing (one of {', '.join(JAMMER_TYPES)})")
    kind = _ALIASES.get(kind.lower(), kind.lower())
    if kind not in JAMMER_TYPES:
        raise InputError(f"jammer '{spec}': type: unknown '{kind}' (one of {', '.join(JAMMER_TYPES)})")
    js = kw.pop("js_db", None)
    if js is None:
        raise InputError(f"jammer '{spec}': js_db is missing")
    try:
        js_db = float(js)
    except ValueError:
        raise InputError(f"jammer '{spec}': js_db: '{js}' is not a number") from None
    if not np.isfinite(js_db):
        raise InputError(f"jammer '{spec}': js_db: must be finite")
    if kind == "pulsed":
        base_kind = kw.pop("base", "cw").lower()
        base_kind = _ALIASES.get(base_kind, base_kind)
        if base_kind not in JAMMER_TYPES or base_kind == "pulsed":
            raise InputError(f"jammer '{spec}': base: unknown '{base_kind}'")
        pk = {k: kw.pop(k) for k in ("duty", "prf_hz", "delay_s") if k in kw}
        base = _build(base_kind, kw, spec)
        try:
            pargs = {k: float(v) for k, v in pk.items()}
        except ValueError:
            raise InputError(f"jammer '{spec}': duty/prf_hz/delay_s must be numbers") from None
        for need in ("duty", "prf_hz"):
            if need not in pargs:
                raise InputError(f"jammer '{spec}': pulsed needs {need}")
        wf = PulsedJammer(base, **pargs)
    else:
        wf = _build(kind, kw, spec)
    return JammerSpec(waveform=wf, js_db=js_db)


def jammer_key(seed: int, index: int) -> np.uint64:
    """The key the channel gives jammer `index` for `seed` (for using a runtime on its own)."""
    return stream_key(seed, "jammer", index)
