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
    HopFollowerJammer(bandwidth_hz, reaction_time_s, look_time_s=1e-4, threshold_db=-10)
                                                          a follower of a frequency-hopping carrier: band noise
                                                          centred where the victim was (the band of its width
                                                          with the most victim power over a look window),
                                                          reaction_time_s after the window began
    ModulatedJammer(symbol_rate_hz, order=4, rolloff=0.35, offset_hz=0)
                                                          a random M-PSK carrier (M = 2, 4, 8) with root-raised-
                                                          cosine pulses, at any symbol rate (co-channel with
                                                          offset 0, adjacent channel with an offset)
`parse_jammer(spec, sample_rate_hz=None)` reads the CLI's comma list (`type=cw,js_db=0,offset_hz=1000`) into a
JammerSpec; the scenario's names are accepted for the same parameters (duty_cycle for duty, fraction for rho,
symbol_rate_baud for symbol_rate_hz) and every message names the key as it was typed.

Every parameter has a range (FieldError naming it otherwise: a finite number, and the physical limits in each
class's check), and `check_rate(sample_rate_hz)` refuses what the sample rate cannot carry without aliasing or
losing the waveform: a tone, band or carrier outside +-fs/2, a pulse or a sweep shorter than a sample, a
follower's look window under a sample. parse_jammer calls it when given the sample rate; of the runtimes only
the noise bands (barrage, partial band) call it themselves.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any

import numpy as np
from scipy import fft as sp_fft
from scipy.signal import firwin

from ..compiled import kernel
from ..errors import FieldError, InputError, check_number
from .noise import GAMMA, _mix, complex_normal, stream_key
from .spec_list import parse_spec_list

_TONE_BLOCK = 1024
NOISE_BATCH = 1 << 15
FFT_MIN = 1 << 15
DIRECT_FIR_MAX = 255  # band filters up to this many taps run as direct-form FIR, longer ones by FFT


JS_DB_RANGE = (-100.0, 100.0)  # J/S a jammer spec may set: -100 dB is off (as from_budget uses), +100 dB keeps
# the jammer (1e5 x the signal amplitude) far from float32 overflow
MAX_TONES = 1024
MAX_FOLLOWER_WINDOWS = 1 << 20  # reaction_time_s / look_time_s: the follower keeps that many decisions


def _pos(name: str, v: float, strict: bool = True, hi: float | None = None) -> float:
    return check_number("jammer", name, v, 0.0, hi, lo_open=strict)


def _finite(name: str, v: float) -> float:
    return check_number("jammer", name, v)


def _in_band(name: str, lo_hz: float, hi_hz: float, fs: float, what: str) -> None:
    """FieldError unless [lo_hz, hi_hz] lies inside the sampled band +-fs/2 (a little rounding allowed)."""
    half = fs / 2.0
    if lo_hz < -half * (1 + 1e-6) or hi_hz > half * (1 + 1e-6):
        where = f"at {lo_hz:g} Hz is" if lo_hz == hi_hz else f"from {lo_hz:g} to {hi_hz:g} Hz reaches"
        raise FieldError("jammer", name, f"{what} {where} outside the band the sample rate carries (+-{half:g} Hz "
                         f"at {fs:g} S/s): it would alias")


# ---------------------------------------------------------------------------------------------- helpers


@kernel(nogil=True)
def _anchor(n, cyc, phase, blk):
    """(k0, cos, sin) of the exact phase 2 pi cyc (n - k0) + phase at the table block holding sample n
    (k0 = n mod blk): the tone kernels multiply it by table[k0:] so rounding never accumulates past one block."""
    k0 = n % blk
    c = cyc * (n - k0)
    ph = 2.0 * np.pi * (c - np.floor(c)) + phase
    return k0, np.cos(ph), np.sin(ph)


@kernel(nogil=True)
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


@kernel(nogil=True, fastmath=True)
def _fir_real(w, taps, out):
    """out[i] = sum_t taps[t] w[i + t] (float32). The summation order depends only on len(taps), so an output
    sample never depends on where a chunk starts."""
    L = taps.shape[0]
    for i in range(out.shape[0]):
        acc = np.float32(0.0)
        for t in range(L):
            acc += taps[t] * w[i + t]
        out[i] = acc


@kernel(nogil=True)
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

    def check_rate(self, fs: float) -> None:
        _in_band("offset_hz", self.offset_hz, self.offset_hz, fs, "the tone")

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
        if int(self.n_tones) != self.n_tones or not 1 <= self.n_tones <= MAX_TONES:
            raise FieldError("jammer", "n_tones", f"must be an integer in [1, {MAX_TONES}], got {self.n_tones}")
        _pos("bandwidth_hz", self.bandwidth_hz, strict=self.n_tones > 1)
        _finite("offset_hz", self.offset_hz)

    def check_rate(self, fs: float) -> None:
        f = self.offsets_hz()
        _in_band("bandwidth_hz" if self.n_tones > 1 and abs(self.offset_hz) < fs / 2 else "offset_hz",
                 float(f.min()), float(f.max()), fs, "the tones")

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

    def check_rate(self, fs: float, field: str = "bandwidth_hz") -> None:
        if abs(self.offset_hz) >= fs / 2:
            field = "offset_hz"
        _in_band(field, self.offset_hz - self.bandwidth_hz / 2, self.offset_hz + self.bandwidth_hz / 2, fs,
                 "the band")

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        self.check_rate(fs)
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
        check_number("jammer", "rho", self.rho, 0.0, 1.0, lo_open=True)
        _finite("offset_hz", self.offset_hz)

    @property
    def bandwidth_hz(self) -> float:
        return self.rho * self.band_hz

    def check_rate(self, fs: float) -> None:
        BarrageJammer(self.bandwidth_hz, self.offset_hz).check_rate(fs, "band_hz")

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return BarrageJammer(self.bandwidth_hz, self.offset_hz).runtime(fs, key)


@kernel(nogil=True)
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

    def check_rate(self, fs: float) -> None:
        BarrageJammer(self.bandwidth_hz, self.offset_hz).check_rate(fs)
        if self.period_s < 2.0 / fs:
            raise FieldError("jammer", "sweep_rate_hz_s", f"{self.sweep_rate_hz_s:g} Hz/s sweeps the "
                             f"{self.bandwidth_hz:g} Hz band in less than two samples at {fs:g} S/s (must be <= "
                             f"{self.bandwidth_hz * fs / 2:g} Hz/s)")

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
        check_number("jammer", "duty", self.duty, 0.0, 1.0, lo_open=True)
        _pos("prf_hz", self.prf_hz)
        check_number("jammer", "delay_s", self.delay_s, 0.0, 1e6, unit="s")
        if not hasattr(self.base, "runtime") or isinstance(self.base, PulsedJammer):
            raise FieldError("jammer", "base", "must be a jammer other than pulsed (cw, barrage, ...)")

    def check_rate(self, fs: float) -> None:
        self.base.check_rate(fs)
        if self.duty < 1.0 and self.duty / self.prf_hz < 1.0 / fs:
            raise FieldError("jammer", "prf_hz", f"pulses of duty/prf_hz = {self.duty / self.prf_hz:g} s are "
                             f"shorter than a sample at {fs:g} S/s (must be <= {self.duty * fs:g} Hz at this duty)")

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return _PulsedRuntime(self, fs, self.base.runtime(fs, key))


@kernel(nogil=True)
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


@kernel(nogil=True)
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


def _check_follower_timing(reaction_time_s: float, look_time_s: float, threshold_db: float) -> None:
    """A follower's (or hop follower's) reaction, look window and threshold, each in its range."""
    _pos("reaction_time_s", reaction_time_s, strict=False, hi=10.0)
    _pos("look_time_s", look_time_s, hi=10.0)
    check_number("jammer", "threshold_db", threshold_db, -100.0, 100.0, unit="dB")
    if reaction_time_s / look_time_s > MAX_FOLLOWER_WINDOWS:
        raise FieldError("jammer", "reaction_time_s", f"is more than {MAX_FOLLOWER_WINDOWS} look windows "
                         f"(look_time_s {look_time_s:g} s)")


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
        _check_follower_timing(self.reaction_time_s, self.look_time_s, self.threshold_db)

    def check_rate(self, fs: float) -> None:
        BarrageJammer(self.bandwidth_hz, self.offset_hz).check_rate(fs)
        if self.look_time_s * fs < 1.0:
            raise FieldError("jammer", "look_time_s", f"{self.look_time_s:g} s is shorter than a sample at {fs:g} "
                             f"S/s (must be >= {1 / fs:g} s)")

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
        pw = np.require(pw, np.float64, ["C", "W"])  # a writable C array: the compiled kernel's argument type
        _follower_kernel(np.int64(n0), victim, pw, self.fir, self.cyc, self.hist, self.look, self.react,
                         self.thresh_rel, self.dec, self.acc, gate)
        self.last_gate = gate
        return np.where(gate, self.noise.get(n0, n), np.complex64(0)).astype(np.complex64)


@dataclass(frozen=True)
class HopFollowerJammer:
    """A follower against a frequency-hopping carrier: over each look window of look_time_s it finds where the
    victim is (the band of its own width that holds the most victim power, from an averaged periodogram) and,
    reaction_time_s after the window began, transmits noise of bandwidth_hz centred there for one window (if the
    victim's power in the window reached threshold_db of its mean). After each hop it is on the new channel from
    between reaction_time_s and reaction_time_s + look_time_s later (reaction_time_s + look_time_s / 2 on average:
    the window that straddles the hop aims at whichever channel held more power in it): a dwell of D seconds is
    jammed for max(0, D - reaction_time_s - look_time_s / 2) on average; before that it jams the channel just left.
    js_db is J/S while transmitting."""

    bandwidth_hz: float
    reaction_time_s: float = 1e-3
    look_time_s: float = 1e-4
    threshold_db: float = -10.0

    def __post_init__(self) -> None:
        _pos("bandwidth_hz", self.bandwidth_hz)
        _check_follower_timing(self.reaction_time_s, self.look_time_s, self.threshold_db)

    def check_rate(self, fs: float) -> None:
        BarrageJammer(self.bandwidth_hz, 0.0).check_rate(fs)
        if self.look_time_s * fs < 2.0:
            raise FieldError("jammer", "look_time_s", f"{self.look_time_s:g} s is shorter than two samples at "
                             f"{fs:g} S/s (must be >= {2 / fs:g} s)")

    def runtime(self, fs: float, key: np.uint64) -> _Runtime:
        return _HopFollowerRuntime(self, fs, key)


class _HopFollowerRuntime(_Runtime):
    needs_victim = True
    NFFT = 2048

    def __init__(self, p: HopFollowerJammer, fs: float, key: np.uint64) -> None:
        self.fs = fs
        self.noise = _BandNoise(fs, p.bandwidth_hz, 0.0, key)
        self.look = max(2, int(round(p.look_time_s * fs)))
        self.react = max(0, int(round(p.reaction_time_s * fs)) - self.look)
        self.thresh_rel = 10.0 ** (p.threshold_db / 10.0)
        self.nfft = int(min(self.NFFT, 1 << int(np.floor(np.log2(self.look)))))
        width = max(1, int(round(p.bandwidth_hz / fs * self.nfft)))
        self._box = np.ones(width) / width
        self._win: list[np.ndarray] = []  # victim samples of the current window
        self._pw = 0.0  # victim mean-power sum of the current window
        self._decisions: dict[int, float | None] = {}  # window -> frequency (cycles/sample), None: off
        self.last_gate = np.empty(0, dtype=np.bool_)
        self.last_cyc = np.empty(0)

    def _decide(self, v: np.ndarray, pw_sum: float) -> float | None:
        power = float(np.sum(np.abs(v) ** 2))
        if power <= 0 or power < self.thresh_rel * pw_sum:
            return None
        nseg = v.size // self.nfft
        seg = v[: nseg * self.nfft].reshape(nseg, self.nfft) if nseg else v[None, :]
        spec = np.fft.fftshift(np.mean(np.abs(np.fft.fft(seg, self.nfft, axis=1)) ** 2, axis=0))
        band = np.convolve(np.concatenate([spec[-self._box.size:], spec, spec[: self._box.size]]), self._box,
                           mode="same")[self._box.size : self._box.size + spec.size]
        return (int(np.argmax(band)) - self.nfft // 2) / self.nfft

    def generate(self, n0: int, n: int, victim: np.ndarray | None = None,
                 victim_power: np.ndarray | None = None) -> np.ndarray:
        if victim is None:
            raise InputError("follower jammer: needs the victim signal (use it through linksim.channel.core.Channel)")
        pw = np.ones(n) if victim_power is None else np.broadcast_to(np.asarray(victim_power, float), (n,))
        look = self.look
        i = 0
        while i < n:  # collect the windows that end in this chunk and decide them
            w = (n0 + i) // look
            end = min(n, (w + 1) * look - n0)
            self._win.append(np.asarray(victim[i:end]))
            self._pw += float(np.sum(pw[i:end]))
            if n0 + end == (w + 1) * look:
                self._decisions[w] = self._decide(np.concatenate(self._win), self._pw)
                self._win, self._pw = [], 0.0
            i = end
        idx = n0 + np.arange(n)
        wp = np.where(idx - self.react >= 0, (idx - self.react) // look - 1, -1)
        gate = np.zeros(n, dtype=np.bool_)
        cyc = np.zeros(n)
        for w in np.unique(wp):
            f = self._decisions.get(int(w)) if w >= 0 else None
            if f is not None:
                sel = wp == w
                gate[sel] = True
                cyc[sel] = f
        for w in [k for k in self._decisions if k < (n0 - self.react) // look - 2]:
            del self._decisions[w]
        self.last_gate = gate
        self.last_cyc = cyc
        ph = cyc * idx
        rot = np.exp(2j * np.pi * (ph - np.floor(ph)))
        return np.where(gate, self.noise.get(n0, n) * rot, 0).astype(np.complex64)


@kernel(nogil=True)
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
            raise FieldError("jammer", "order", f"must be 2, 4 or 8 (PSK), got {self.order}")
        check_number("jammer", "rolloff", self.rolloff, 0.0, 1.0, lo_open=True)
        _finite("offset_hz", self.offset_hz)

    def check_rate(self, fs: float) -> None:
        half = self.symbol_rate_hz * (1.0 + self.rolloff) / 2.0
        _in_band("offset_hz" if abs(self.offset_hz) >= fs / 2 else "symbol_rate_hz", self.offset_hz - half,
                 self.offset_hz + half, fs, "the modulated carrier")

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
    "hop_follower": HopFollowerJammer,
    "modulated": ModulatedJammer,
    "pulsed": PulsedJammer,
}
_ALIASES = {"partial-band": "partial_band", "partialband": "partial_band", "swept": "chirp", "tone": "cw",
            "psk": "modulated"}
# the scenario's names for the same parameters (linksim.scenario.model.Jammer), accepted in a spec
_KEY_ALIASES = {"duty_cycle": "duty", "fraction": "rho", "symbol_rate_baud": "symbol_rate_hz"}
_PULSE_FIELDS = ("duty", "prf_hz", "delay_s")
_INT_FIELDS = ("n_tones", "order")


def _fields(kind: str) -> dict[str, Any]:
    return {f.name: f for f in fields(JAMMER_TYPES[kind]) if f.name != "base"}


def parse_jammer(spec: str, sample_rate_hz: float | None = None):
    """'type=cw,js_db=0,offset_hz=1000' -> linksim.channel.core.JammerSpec. Pulsed: 'type=pulsed,base=barrage,
    duty=0.1,prf_hz=1000,bandwidth_hz=1e6,js_db=0' (the base's fields in the same list). With sample_rate_hz,
    also refuse what that rate cannot carry (check_rate). InputError naming the key as typed otherwise."""
    from .core import JammerSpec

    head = f"jammer '{spec}'"
    kw, typed = parse_spec_list(spec, head, _KEY_ALIASES)  # typed: field name -> the key as the user typed it
    kind = kw.pop("type", None)
    if kind is None:
        raise InputError(f"{head}: type is missing (one of {', '.join(JAMMER_TYPES)})")
    kind = _ALIASES.get(kind.lower(), kind.lower())
    if kind not in JAMMER_TYPES:
        raise InputError(f"{head}: type: unknown '{kind}' (one of {', '.join(JAMMER_TYPES)})")
    js = kw.pop("js_db", None)
    if js is None:
        raise InputError(f"{head}: js_db is missing (the J/S in dB, {JS_DB_RANGE[0]:g} to {JS_DB_RANGE[1]:g})")
    try:
        js_db = check_number("jammer", "js_db", js, *JS_DB_RANGE, unit="dB")
    except FieldError as e:
        raise InputError(f"{head}: js_db: {e.problem}") from None
    base_kind = None
    if kind == "pulsed":
        base_kind = kw.pop("base", "cw").lower()
        base_kind = _ALIASES.get(base_kind, base_kind)
        if base_kind not in JAMMER_TYPES or base_kind == "pulsed":
            kinds = ", ".join(k for k in JAMMER_TYPES if k != "pulsed")
            raise InputError(f"{head}: {typed.get('base', 'base')}: unknown '{base_kind}' (one of {kinds})")
    own = _fields(base_kind or kind)
    allowed = list(own) + (list(_PULSE_FIELDS) if kind == "pulsed" else [])
    for name in kw:
        if name not in allowed:
            what = f"pulsed (base {base_kind})" if kind == "pulsed" else kind
            hint = ", ".join(allowed) + (", base" if kind == "pulsed" else "")
            raise InputError(f"{head}: {what} has no parameter '{typed[name]}' (its parameters: {hint})")
    values: dict[str, float | int] = {}
    for name, v in kw.items():
        try:
            values[name] = int(v) if name in _INT_FIELDS else float(v)
        except ValueError:
            want = "an integer" if name in _INT_FIELDS else "a number"
            raise InputError(f"{head}: {typed[name]}: '{v}' is not {want}") from None
    missing = [n for n, f in own.items() if f.default is MISSING and n not in values]
    if kind == "pulsed":
        missing += [n for n in ("duty", "prf_hz") if n not in values]
    if missing:
        raise InputError(f"{head}: {kind} needs {', '.join(missing)}")
    try:
        wf = JAMMER_TYPES[base_kind or kind](**{k: v for k, v in values.items() if k in own})
        if kind == "pulsed":
            wf = PulsedJammer(wf, **{k: v for k, v in values.items() if k in _PULSE_FIELDS})  # type: ignore[arg-type]
        if sample_rate_hz is not None:
            wf.check_rate(sample_rate_hz)
    except FieldError as e:
        raise InputError(f"{head}: {typed.get(e.field, e.field)}: {e.problem}") from None
    return JammerSpec(waveform=wf, js_db=js_db)


def jammer_key(seed: int, index: int) -> np.uint64:
    """The key the channel gives jammer `index` for `seed` (for using a runtime on its own)."""
    return stream_key(seed, "jammer", index)
