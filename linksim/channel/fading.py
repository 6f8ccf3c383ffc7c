"""Fast (small-scale) fading for the sample-clocked channel: Rician (Rayleigh for K = 0), Loo, two-state Lutz.

Each model is a frozen dataclass of parameters; `model.runtime(sample_rate_hz, key)` gives a stateful generator
whose `gains(n0, n)` returns the complex gain h for absolute samples n0..n0+n-1 (complex64). Given the same key,
the output does not depend on how the stream is cut into chunks.

How the diffuse (scattered) component is made: complex white Gaussian noise (counter-based, linksim.channel.noise)
at a low rate fs_l = fs / D with D = max(1, floor(fs / (32 f_D))) (at least 32 samples per Doppler period)
goes through a FIR whose amplitude response is the square root of the Jakes (Clarke) Doppler spectrum
S(f) = 1 / sqrt(1 - (f/f_D)^2), |f| < f_D, 8192 taps (256 Doppler periods, Kaiser beta 2): its autocorrelation
follows J0(2 pi f_D tau) within 0.025 over three Doppler periods. The process is generated in fixed batches of
16384 low-rate samples (so batching never depends on the caller's chunks) and interpolated linearly to the
sample rate, with the small power loss of linear interpolation (neighbour correlation J0(2 pi/32) = 0.98)
compensated so that the diffuse part keeps unit mean power. The diffuse component is exactly Gaussian, so Rician and
Rayleigh envelopes have their exact first-order statistics; the autocorrelation approximates J0(2 pi f_D tau).

Models (amplitudes relative to the unfaded signal):
    RicianFading(k_factor, doppler_hz, los_doppler_hz=0, los_phase_rad=0):
        h = sqrt(K/(K+1)) exp(j(2 pi f_LOS t + phase)) + sqrt(1/(K+1)) g(t); E|h|^2 = 1. K = 0 is Rayleigh.
    LooFading(doppler_hz, los_mean_db, los_std_db, multipath_db, shadow_corr_s, los_doppler_hz=0):
        h = 10^(S(t)/20) exp(j 2 pi f_LOS t) + 10^(MP/20) g(t), S Gaussian in dB (mean alpha, std psi),
        Gauss-Markov with correlation time shadow_corr_s (Loo 1985). Absolute: E|h|^2 is the model's mean power.
    LutzFading(k_factor_good, doppler_hz, mean_good_s, mean_bad_s, bad_mean_db, bad_std_db, shadow_corr_s):
        two-state Markov chain (Lutz et al. 1991, durations exponential with the given means); good state is
        Rician(K) with unit LOS power scale; bad state is Rayleigh whose mean power is lognormal (Suzuki),
        10^(S/10) with S ~ N(bad_mean_db, bad_std_db) Gauss-Markov. Absolute, as for Loo.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass

import numpy as np
from scipy.signal import fftconvolve
from scipy.special import ndtr

from ..compiled import kernel
from ..errors import FieldError, InputError, check_number
from .noise import complex_normal, standard_normal, stream_key
from .spec_list import parse_spec_list

SAMPLES_PER_DOPPLER_PERIOD = 32
FIR_TAPS = 8192
FIR_KAISER_BETA = 2.0
BATCH = 16384
MAX_DECIM = 1 << 16


# ranges of the models' parameters (a FieldError names the parameter otherwise); frequencies are also checked
# against the sample rate by check_rate
LIMITS: dict[str, tuple[float | None, float | None, bool]] = {  # name: (lo, hi, lo_open)
    "k_factor": (0.0, 1e6, False), "k_factor_good": (0.0, 1e6, False),
    "doppler_hz": (0.0, None, True), "los_doppler_hz": (None, None, False), "los_phase_rad": (None, None, False),
    "los_mean_db": (-100.0, 40.0, False), "los_std_db": (0.0, 40.0, False), "multipath_db": (-100.0, 40.0, False),
    "bad_mean_db": (-100.0, 40.0, False), "bad_std_db": (0.0, 40.0, False),
    "shadow_corr_s": (0.0, 1e6, False), "mean_good_s": (0.0, 1e6, True), "mean_bad_s": (0.0, 1e6, True),
}


def _check_fields(obj: object) -> None:
    for name in obj.__dataclass_fields__:  # type: ignore[attr-defined]
        lo, hi, lo_open = LIMITS[name]
        check_number("fading", name, getattr(obj, name), lo, hi, lo_open=lo_open)


def _check_rate(doppler_hz: float, los_doppler_hz: float, fs: float) -> None:
    """FieldError for a Doppler the sample rate cannot carry (at or above fs/2) or the model cannot resolve at
    this rate (below fs / (32 x MAX_DECIM): the Jakes filter would be shorter than its spectrum needs)."""
    lo = fs / (SAMPLES_PER_DOPPLER_PERIOD * MAX_DECIM)
    if not lo <= doppler_hz < fs / 2:
        raise FieldError("fading", "doppler_hz", f"{doppler_hz:g} Hz is out of range at {fs:g} S/s (must be in "
                         f"[{lo:.3g}, {fs / 2:g}) Hz: below, the Doppler spectrum is not resolved; above, it "
                         f"aliases)")
    if abs(los_doppler_hz) >= fs / 2:
        raise FieldError("fading", "los_doppler_hz", f"{los_doppler_hz:g} Hz is outside +-{fs / 2:g} Hz, the band "
                         f"{fs:g} S/s carries")


def jakes_fir(doppler_norm: float, taps: int = FIR_TAPS) -> np.ndarray:
    """Unit-energy FIR (complex128) whose power response follows the Jakes spectrum for f_D = doppler_norm * fs."""
    nfft = 1 << int(np.ceil(np.log2(8 * taps)))
    f = np.fft.fftfreq(nfft)
    u = np.abs(f) / doppler_norm
    s = np.zeros(nfft)
    inside = u < 1.0
    s[inside] = 1.0 / np.sqrt(1.0 - u[inside] ** 2)
    # the integrable edge singularity: cap at the value one bin inside the edge
    edge = 1.0 / np.sqrt(1.0 - (1.0 - 1.0 / (doppler_norm * nfft)) ** 2) if doppler_norm * nfft > 1 else 1.0
    s = np.minimum(s, edge)
    if not np.any(inside):
        s[0] = 1.0
    h = np.fft.fftshift(np.fft.ifft(np.sqrt(s)))
    c = nfft // 2
    h = h[c - taps // 2 : c - taps // 2 + taps] * np.kaiser(taps, FIR_KAISER_BETA)
    return h / np.sqrt(np.sum(np.abs(h) ** 2))


class _Diffuse:
    """Unit-power complex Gaussian process with Jakes spectrum at the low rate, in fixed batches."""

    def __init__(self, fs: float, doppler_hz: float, key: np.uint64) -> None:
        self.decim = min(MAX_DECIM, max(1, int(np.floor(fs / (SAMPLES_PER_DOPPLER_PERIOD * doppler_hz)))))
        self.fs_low = fs / self.decim
        self.fir = jakes_fir(doppler_hz / self.fs_low)
        if self.decim > 1:
            # linear interpolation between low-rate samples with correlation rho keeps on average
            # 2/3 + rho/3 of the power: scale it back so the diffuse part has unit mean power
            rho = float(np.vdot(self.fir[:-1], self.fir[1:]).real)
            self.fir = self.fir / np.sqrt(2.0 / 3.0 + rho / 3.0)
        self.key = key
        self._cache: dict[int, np.ndarray] = {}

    def batch(self, b: int) -> np.ndarray:
        got = self._cache.get(b)
        if got is None:
            m0 = b * BATCH
            w = complex_normal(self.key, m0 - FIR_TAPS + 1 + (1 << 40), BATCH + FIR_TAPS - 1)
            got = fftconvolve(w.astype(np.complex128), self.fir, mode="valid")
            self._cache[b] = got
            for old in [k for k in self._cache if k < b - 2]:
                del self._cache[old]
        return got

    def low(self, m_lo: int, m_hi: int) -> np.ndarray:
        """Low-rate samples m_lo..m_hi inclusive."""
        b_lo, b_hi = m_lo // BATCH, m_hi // BATCH
        parts = [self.batch(b) for b in range(b_lo, b_hi + 1)]
        a = np.concatenate(parts) if len(parts) > 1 else parts[0]
        off = m_lo - b_lo * BATCH
        return a[off : off + (m_hi - m_lo + 1)]


@kernel(nogil=True)
def _interp_kernel(n0, decim, low, m_lo, los_amp, anchor, rot, diff_amp, has_los, out):
    """out[i] = los(n) + diff(n) * interp(low, n / decim), n = n0 + i (complex64 out).

    los(n) = los_amp(n) * anchor[m] * rot[n - m decim]: anchor[m] is the exact LOS phasor at sample m * decim and
    rot[k] = exp(j 2 pi f_LOS k / fs), so every sample's value depends only on its absolute index.
    """
    nn = out.shape[0]
    inv = 1.0 / decim
    i = 0
    while i < nn:
        n = n0 + i
        m = n // decim
        k0 = n - m * decim
        j = m - m_lo
        g0 = low[j]
        dg = low[j + 1] - g0
        a0 = diff_amp[j]
        da = diff_amp[j + 1] - a0
        l0 = los_amp[j]
        dl = los_amp[j + 1] - l0
        an = anchor[j]
        cnt = min(decim - k0, nn - i)
        for k in range(k0, k0 + cnt):
            fr = k * inv
            v = (a0 + fr * da) * (g0 + fr * dg)
            if has_los:
                v += (l0 + fr * dl) * an * rot[k]
            out[i] = v
            i += 1


class _FadingRuntime:
    """Common machinery: diffuse process + per-low-rate-sample LOS and diffuse amplitudes (from a subclass)."""

    def __init__(self, fs: float, doppler_hz: float, key: np.uint64, los_doppler_hz: float,
                 los_phase_rad: float) -> None:
        self.fs = fs
        self.diffuse = _Diffuse(fs, doppler_hz, key)
        self.decim = self.diffuse.decim
        self.los_cyc = los_doppler_hz / fs
        self.los_phase = los_phase_rad
        k = np.arange(self.decim)
        self._rot = np.exp(2j * np.pi * ((self.los_cyc * k) % 1.0))
        self._amp_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._next_batch = 0

    def _amps_batch(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        """(los_amp, diffuse_amp) for low-rate batch b; generated strictly in order (may carry state)."""
        while self._next_batch <= b:
            self._amp_cache[self._next_batch] = self._make_amps(self._next_batch)
            self._next_batch += 1
            for old in [k for k in self._amp_cache if k < self._next_batch - 3]:
                del self._amp_cache[old]
        return self._amp_cache[b]

    def _make_amps(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _amps(self, m_lo: int, m_hi: int) -> tuple[np.ndarray, np.ndarray]:
        b_lo, b_hi = m_lo // BATCH, m_hi // BATCH
        parts = [self._amps_batch(b) for b in range(b_lo, b_hi + 1)]
        off = m_lo - b_lo * BATCH
        cnt = m_hi - m_lo + 1
        los = np.concatenate([p[0] for p in parts])[off : off + cnt]
        dif = np.concatenate([p[1] for p in parts])[off : off + cnt]
        return los, dif

    def gains(self, n0: int, n: int, threads: int = 1, out: np.ndarray | None = None) -> np.ndarray:
        """Complex gain for absolute samples n0..n0+n-1 (complex64, written into `out` when given); the per-sample
        interpolation on `threads` threads (the same values whatever the count: each depends on its index only)."""
        out = np.empty(n, dtype=np.complex64) if out is None else out
        if n == 0:
            return out
        m_lo = n0 // self.decim
        m_hi = (n0 + n - 1) // self.decim + 1
        low = self.diffuse.low(m_lo, m_hi)
        los, dif = self._amps(m_lo, m_hi)
        mm = np.arange(m_lo, m_hi + 1, dtype=np.int64) * self.decim
        anchor = np.exp(1j * (2.0 * np.pi * ((self.los_cyc * mm) % 1.0) + self.los_phase))
        has_los = bool(np.any(los != 0.0))

        def piece(lo: int, hi: int) -> None:
            _interp_kernel(np.int64(n0 + lo), np.int64(self.decim), low, np.int64(m_lo), los, anchor, self._rot,
                           dif, has_los, out[lo:hi])

        from .parallel import pieces, run_pieces, split_points

        run_pieces(threads, piece, split_points(n0, n, 1, pieces(threads)))
        return out


class _GaussMarkov:
    """Sequential Gauss-Markov (AR(1)) process in dB, stationary N(mean, std), correlation time tau."""

    def __init__(self, key: np.uint64, mean_db: float, std_db: float, corr_s: float, fs_low: float) -> None:
        self.key = key
        self.mean = mean_db
        self.std = std_db
        self.rho = float(np.exp(-1.0 / (corr_s * fs_low))) if corr_s > 0 else 0.0
        self.state = None

    def batch(self, b: int) -> np.ndarray:
        w = standard_normal(self.key, b * BATCH, BATCH)
        return _ar1(w, self.rho, np.nan if self.state is None else self.state, self._set_state)

    def _set_state(self, v: float) -> None:
        self.state = v

    def to_db(self, x: np.ndarray) -> np.ndarray:
        return self.mean + self.std * x


def _ar1(w: np.ndarray, rho: float, start: float, setter) -> np.ndarray:
    out = np.empty_like(w)
    _ar1_kernel(w, rho, start, out)
    setter(float(out[-1]))
    return out


@kernel(nogil=True)
def _ar1_kernel(w, rho, start, out):
    c = np.sqrt(1.0 - rho * rho)
    s = w[0] if np.isnan(start) else rho * start + c * w[0]
    out[0] = s
    for i in range(1, w.shape[0]):
        s = rho * s + c * w[i]
        out[i] = s


@dataclass(frozen=True)
class RicianFading:
    """Rician fading with K factor (linear; 0 = Rayleigh) and maximum Doppler (spread) doppler_hz."""

    k_factor: float
    doppler_hz: float
    los_doppler_hz: float = 0.0
    los_phase_rad: float = 0.0

    def __post_init__(self) -> None:
        _check_fields(self)

    def check_rate(self, sample_rate_hz: float) -> None:
        _check_rate(self.doppler_hz, self.los_doppler_hz, sample_rate_hz)

    def runtime(self, sample_rate_hz: float, key: np.uint64) -> _FadingRuntime:
        return _RicianRuntime(self, sample_rate_hz, key)


class _RicianRuntime(_FadingRuntime):
    def __init__(self, p: RicianFading, fs: float, key: np.uint64) -> None:
        super().__init__(fs, p.doppler_hz, key, p.los_doppler_hz, p.los_phase_rad)
        k = p.k_factor
        self._los = np.full(BATCH, np.sqrt(k / (k + 1.0)))
        self._dif = np.full(BATCH, np.sqrt(1.0 / (k + 1.0)))

    def _make_amps(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        return self._los, self._dif


@dataclass(frozen=True)
class LooFading:
    """Loo (1985) land-mobile satellite model: lognormal LOS plus Rayleigh multipath (dB parameters)."""

    doppler_hz: float
    los_mean_db: float = 0.0
    los_std_db: float = 1.0
    multipath_db: float = -15.0
    shadow_corr_s: float = 1.0
    los_doppler_hz: float = 0.0

    def __post_init__(self) -> None:
        _check_fields(self)

    def check_rate(self, sample_rate_hz: float) -> None:
        _check_rate(self.doppler_hz, self.los_doppler_hz, sample_rate_hz)

    def runtime(self, sample_rate_hz: float, key: np.uint64) -> _FadingRuntime:
        return _LooRuntime(self, sample_rate_hz, key)


class _LooRuntime(_FadingRuntime):
    def __init__(self, p: LooFading, fs: float, key: np.uint64) -> None:
        super().__init__(fs, p.doppler_hz, key, p.los_doppler_hz, 0.0)
        self._shadow = _GaussMarkov(stream_key(int(key), "loo-shadow"), p.los_mean_db, p.los_std_db,
                                    p.shadow_corr_s, self.diffuse.fs_low)
        self._dif = np.full(BATCH, 10.0 ** (p.multipath_db / 20.0))

    def _make_amps(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        s_db = self._shadow.to_db(self._shadow.batch(b))
        return 10.0 ** (s_db / 20.0), self._dif


@dataclass(frozen=True)
class LutzFading:
    """Lutz et al. (1991) two-state model: good = Rician(K), bad = Rayleigh with lognormal mean power."""

    k_factor_good: float
    doppler_hz: float
    mean_good_s: float = 5.0
    mean_bad_s: float = 1.0
    bad_mean_db: float = -10.0
    bad_std_db: float = 3.0
    shadow_corr_s: float = 0.5

    def __post_init__(self) -> None:
        _check_fields(self)

    def check_rate(self, sample_rate_hz: float) -> None:
        _check_rate(self.doppler_hz, 0.0, sample_rate_hz)

    @property
    def bad_fraction(self) -> float:
        """Long-run fraction of time in the bad state (Lutz's A)."""
        return self.mean_bad_s / (self.mean_good_s + self.mean_bad_s)

    def runtime(self, sample_rate_hz: float, key: np.uint64) -> _FadingRuntime:
        return _LutzRuntime(self, sample_rate_hz, key)


class _LutzRuntime(_FadingRuntime):
    def __init__(self, p: LutzFading, fs: float, key: np.uint64) -> None:
        super().__init__(fs, p.doppler_hz, key, 0.0, 0.0)
        fl = self.diffuse.fs_low
        self._p_gb = 1.0 - np.exp(-1.0 / (p.mean_good_s * fl))
        self._p_bg = 1.0 - np.exp(-1.0 / (p.mean_bad_s * fl))
        self._shadow = _GaussMarkov(stream_key(int(key), "lutz-shadow"), p.bad_mean_db, p.bad_std_db,
                                    p.shadow_corr_s, fl)
        self._ukey = stream_key(int(key), "lutz-state")
        k = p.k_factor_good
        self._good_los = np.sqrt(k / (k + 1.0))
        self._good_dif = np.sqrt(1.0 / (k + 1.0))
        self._bad = p.bad_fraction  # start in the stationary distribution
        self._state = -1  # unknown yet: drawn from the stationary distribution at the first sample
        self.states = np.empty(0, dtype=np.int8)  # last batch's states (1 = bad), for tests and plots

    def _make_amps(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        u = ndtr(standard_normal(self._ukey, b * BATCH, BATCH))  # uniform (0, 1)
        st = np.empty(BATCH, dtype=np.int8)
        s = self._state
        if s < 0:
            s = 1 if u[0] < self._bad else 0
        _markov(u, s, self._p_gb, self._p_bg, st)
        self._state = int(st[-1])
        self.states = st
        shadow_db = self._shadow.to_db(self._shadow.batch(b))
        bad = st == 1
        los = np.where(bad, 0.0, self._good_los)
        dif = np.where(bad, 10.0 ** (shadow_db / 20.0), self._good_dif)
        return los, dif


@kernel(nogil=True)
def _markov(u, s, p_gb, p_bg, out):
    for i in range(u.shape[0]):
        if i > 0:
            if s == 0 and u[i] < p_gb:
                s = 1
            elif s == 1 and u[i] < p_bg:
                s = 0
        out[i] = s


def parse_fading(spec: str, sample_rate_hz: float | None = None) -> RicianFading | LooFading | LutzFading:
    """Parse 'rician:K=4,doppler_hz=50', 'rayleigh:doppler_hz=50', 'loo:doppler_hz=20,los_mean_db=-3,...',
    'lutz:k_factor_good=10,doppler_hz=50,...'. With sample_rate_hz, also refuse what that rate cannot carry
    (check_rate). Raises InputError naming the bad parameter as it was typed."""
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    head = f"--fading '{spec}'"
    if kind in ("rician", "rayleigh"):
        cls: type[RicianFading] | type[LooFading] | type[LutzFading] = RicianFading
        alias = {"K": "k_factor", "k": "k_factor"}
    elif kind == "loo":
        cls, alias = LooFading, {}
    elif kind == "lutz":
        cls, alias = LutzFading, {"K": "k_factor_good", "k": "k_factor_good"}
    else:
        raise InputError(f"{head}: unknown model '{kind}' (rician, rayleigh, loo, lutz)")
    names = list(cls.__dataclass_fields__)
    text, typed = parse_spec_list(rest, head, alias)
    kw: dict[str, float] = {}
    for name, val in text.items():
        key = typed[name]
        if name not in names or (kind == "rayleigh" and name == "k_factor"):
            usable = [n for n in names if not (kind == "rayleigh" and n == "k_factor")]
            extra = " (K)" if alias and kind != "rayleigh" else ""
            raise InputError(f"{head}: {kind} has no parameter '{key}' (its parameters: {', '.join(usable)}{extra})")
        try:
            kw[name] = float(val)
        except ValueError:
            raise InputError(f"{head}: {key}: '{val}' is not a number") from None
    if kind == "rayleigh":
        kw["k_factor"] = 0.0
    missing = [f for f, d in cls.__dataclass_fields__.items() if d.default is MISSING and f not in kw]
    if missing:
        raise InputError(f"{head}: {kind} needs {', '.join(missing)}")
    try:
        model = cls(**kw)
        if sample_rate_hz is not None:
            model.check_rate(sample_rate_hz)
    except FieldError as e:
        raise InputError(f"{head}: {typed.get(e.field, e.field)}: {e.problem}") from None
    return model
