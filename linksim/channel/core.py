"""Sample-clocked IQ channel: complex gain, Doppler (with rate), fractional delay, fading, phase noise, AWGN, jammers.

The channel runs on the SAMPLE clock: sample n (counted from the first sample ever given to the channel) is at
t = t0_s + n / sample_rate_hz. Nothing depends on the wall clock or on how a stream is cut into chunks:
processing a stream at once or in chunks of any sizes gives bit-identical output, and the same seed gives
bit-identical output. Memory is constant in stream length (the delay line is sized by the largest delay).

Parameters over time come from a `ChannelProfile` (rows at `time_s`): gain_db, doppler_hz, delay_s, esn0_db.
Each column is interpolated with a monotone cubic (PCHIP, no overshoot) and held constant outside the rows'
span. The interpolant is evaluated on a control grid every CONTROL_BLOCK = 256 samples (at absolute sample
indices) and linearly between grid points; for profile rows >= 1 ms apart at >= 1 Msps the difference from
per-sample evaluation is negligible (< 1e-6 relative).

What each sample gets, in order:
    x_d[n]  = x(n - delay_s(n) * fs)                       windowed-sinc fractional delay (`delay.py`)
    s[n]    = sqrt(g(n)) * exp(j (2 pi phi[n] + phase0)) * h[n] * exp(j theta[n]) * x_d[n]
              g = 10^(gain_db/10); phi[n+1] = phi[n] + f_D[n] / fs (Doppler integrated on the sample clock);
              h = fast fading (unit mean power, `fading.py`); theta = phase noise (`phase_noise.py`)
    y[n]    = s[n] + sigma[n] w[n] + sum_k j_k[n]

AWGN calibration (Es/N0 for `sps` samples per symbol). The signal's energy per symbol is the sum of |x|^2 over
the sps samples of one symbol, Es = sps * P_rx with P_rx = input_power * g(n) the mean received power per
sample (input_power is mean |x|^2 of the channel input: declared, or measured by the caller, e.g. the CLI measures
the whole file). Complex white noise of variance sigma^2 per sample has N0 = sigma^2 per unit (sample-rate)
bandwidth, so Es/N0 = sps * P_rx / sigma^2, i.e. sigma^2 = sps * input_power * g(n) / 10^(esn0_db(n)/10).
esn0_db is therefore the Es/N0 realised at each sample (averaged over fast fading, whose mean power is 1);
gain_db scales signal and noise together (the output level). esn0_db = +inf adds no noise.

Jammers: jammer k's waveform has unit mean power and is scaled so its power is P_rx(n) * 10^(js_db_k(n)/10): J/S
relative to the victim's mean received power at that sample, so a victim fade that the profile carries (in
gain_db, with the budget's js_db rising by the same amount) leaves J constant, as geometry says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..compiled import kernel
from ..errors import InputError
from .noise import normal_pair, stream_key

CONTROL_BLOCK = 256  # samples between control-grid points (absolute sample indices k * CONTROL_BLOCK)
GRID_AHEAD = 4096  # control-grid points evaluated at once (interpolants are called per batch, not per chunk)
_NO_NOISE_DB = 400.0  # esn0_db above this adds no noise


# ---------------------------------------------------------------------------------------------- profile


def _as_rows(name: str, v: object, n: int | None) -> np.ndarray:
    a = np.atleast_1d(np.asarray(v, dtype=float))
    if a.ndim != 1:
        raise InputError(f"ChannelProfile.{name}: must be one-dimensional, got shape {a.shape}")
    if n is not None and a.size == 1 and n > 1:
        a = np.full(n, a[0])
    if n is not None and a.size != n:
        raise InputError(f"ChannelProfile.{name}: has {a.size} rows, time_s has {n}")
    return a


@dataclass(frozen=True)
class ChannelProfile:
    """Channel parameters over time (one row per time step; scalars are broadcast to every row).

    time_s:     seconds from scenario start, strictly increasing
    gain_db:    received signal power relative to the input (dB)
    doppler_hz: carrier frequency offset (Hz), integrated on the sample clock (phase-continuous)
    delay_s:    propagation delay applied to the signal (s, >= 0)
    esn0_db:    Es/N0 realised at that time (dB); +inf for no noise
    """

    time_s: np.ndarray
    gain_db: np.ndarray = field(default_factory=lambda: np.zeros(1))
    doppler_hz: np.ndarray = field(default_factory=lambda: np.zeros(1))
    delay_s: np.ndarray = field(default_factory=lambda: np.zeros(1))
    esn0_db: np.ndarray = field(default_factory=lambda: np.full(1, np.inf))

    def __post_init__(self) -> None:
        t = _as_rows("time_s", self.time_s, None)
        n = t.size
        object.__setattr__(self, "time_s", t)
        for name in ("gain_db", "doppler_hz", "delay_s", "esn0_db"):
            object.__setattr__(self, name, _as_rows(name, getattr(self, name), n))
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise InputError("ChannelProfile.time_s: must be finite and strictly increasing")
        for name in ("gain_db", "doppler_hz", "delay_s"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise InputError(f"ChannelProfile.{name}: must be finite")
        if np.any(self.delay_s < 0):
            raise InputError("ChannelProfile.delay_s: must be >= 0")
        if np.any(np.isnan(self.esn0_db)) or np.any(self.esn0_db == -np.inf):
            raise InputError("ChannelProfile.esn0_db: must be a number or +inf")

    @classmethod
    def constant(
        cls,
        gain_db: float = 0.0,
        doppler_hz: float = 0.0,
        delay_s: float = 0.0,
        esn0_db: float = np.inf,
        doppler_rate_hz_s: float = 0.0,
        duration_s: float = 1.0,
    ) -> ChannelProfile:
        """A profile with fixed values, and a Doppler that ramps at doppler_rate_hz_s over [0, duration_s]."""
        if not duration_s > 0:
            raise InputError("ChannelProfile.constant: duration_s must be > 0")
        return cls(
            time_s=np.array([0.0, duration_s]),
            gain_db=gain_db,
            doppler_hz=np.array([doppler_hz, doppler_hz + doppler_rate_hz_s * duration_s]),
            delay_s=delay_s,
            esn0_db=esn0_db,
        )


class Column:
    """One parameter over time: PCHIP through rows (held outside their span), or value + rate * (t - t_ref)."""

    def __init__(self, time_s: np.ndarray | None, values: np.ndarray | float, rate: float = 0.0,
                 t_ref: float = 0.0) -> None:
        self._pchip = None
        self.value = 0.0
        self.rate = float(rate)
        self.t_ref = float(t_ref)
        v = np.atleast_1d(np.asarray(values, dtype=float))
        if time_s is None or v.size == 1 or np.all(v == v[0]):
            self.value = float(v[0])
        else:
            from scipy.interpolate import PchipInterpolator  # on first use: scipy.interpolate takes 0.2 s to import

            self._t = np.asarray(time_s, dtype=float)
            self._pchip = PchipInterpolator(self._t, v, extrapolate=False)

    @property
    def is_const(self) -> bool:
        return self._pchip is None and self.rate == 0.0

    def __call__(self, t: np.ndarray) -> np.ndarray:
        if self._pchip is not None:
            return self._pchip(np.clip(t, self._t[0], self._t[-1]))
        if self.rate == 0.0:
            return np.full(np.shape(t), self.value)
        return self.value + self.rate * (t - self.t_ref)

    def max(self, t_end: float | None = None) -> float:
        if self._pchip is not None:
            tt = np.linspace(self._t[0], self._t[-1], 20 * self._t.size + 1)
            return float(max(np.max(self._pchip(tt)), np.max(self._pchip(self._t))))
        return self.value


def _js_column(js_db: float | tuple[np.ndarray, np.ndarray]) -> Column:
    if isinstance(js_db, tuple):
        t, v = js_db
        t = np.asarray(t, dtype=float)
        v = np.asarray(v, dtype=float)
        if t.shape != v.shape or t.ndim != 1 or np.any(np.diff(t) <= 0) or not np.all(np.isfinite(v)):
            raise InputError("JammerSpec.js_db: (time_s, js_db) must be equal-length rows, time increasing")
        return Column(t, v)
    v = float(js_db)
    if not np.isfinite(v):
        raise InputError("JammerSpec.js_db: must be finite")
    return Column(None, v)


# ---------------------------------------------------------------------------------------------- kernels


@kernel(nogil=True)
def _phase_walk(phi, n0, nn, kblk, freq, fs, phi_blk):
    """Carrier phase (cycles) at the start of every control block that starts inside chunk [n0, n0 + nn):
    phi_blk[lb] for block lb counted from n0 // kblk. phi is the phase at the first block start at or after n0;
    returns the phase at the first block start after the chunk. Sequential and cheap (one step per block), so
    the pieces of a chunk can then be computed in any order, on any thread."""
    b0 = n0 // kblk
    b_first = (n0 + kblk - 1) // kblk
    b_last = (n0 + nn - 1) // kblk
    for b in range(b_first, b_last + 1):
        lb = b - b0
        phi_blk[lb] = phi
        f0 = freq[lb]
        nxt = phi + (kblk * f0 + (freq[lb + 1] - f0) * (kblk - 1) * 0.5) / fs
        phi = nxt - np.floor(nxt)
    return phi


@kernel(nogil=True)
def _main_kernel(x, n0, kblk, fs, amp, sig, freq, phi_blk, h, use_h, key, state, y, s_out, n_out, want_parts, acc):
    """y = amp * exp(j 2 pi phi) * h * x + sig * w/sqrt(2) per sample; amp/sig/freq given on the control grid
    (index lb = n // kblk - n0 // kblk), phi_blk the carrier phase at each block start (_phase_walk).

    state: [unused, z.re, z.im, r.re, r.im, q.re, q.im]; z is the carrier phasor, r its per-sample rotation and q
    the rotation's per-sample change (Doppler rate). z, r and q are set exactly at every block start (absolute
    sample index multiple of kblk) and advanced by recursion inside a block; a chunk that starts inside a block
    continues from state. acc[0] += sum |signal|^2, acc[1] += sum |noise|^2 (float64, before rounding).
    """
    two_pi = 2.0 * np.pi
    zr = state[1]
    zi = state[2]
    rr = state[3]
    ri = state[4]
    qr = state[5]
    qi = state[6]
    use_noise = key != np.uint64(0)
    nn = x.shape[0]
    b0 = n0 // kblk
    m = 0
    ps = 0.0
    pn = 0.0
    while m < nn:
        n = n0 + m
        lb = n // kblk - b0
        k0 = n - (lb + b0) * kblk
        if k0 == 0:
            phi = phi_blk[lb]
            zr = np.cos(two_pi * phi)
            zi = np.sin(two_pi * phi)
            f0 = freq[lb]
            df = (freq[lb + 1] - f0) / kblk
            rr = np.cos(two_pi * f0 / fs)
            ri = np.sin(two_pi * f0 / fs)
            qr = np.cos(two_pi * df / fs)
            qi = np.sin(two_pi * df / fs)
        cnt = min(kblk - k0, nn - m)
        a0 = amp[lb]
        da = (amp[lb + 1] - a0) / kblk
        s0 = sig[lb]
        ds = (sig[lb + 1] - s0) / kblk
        for k in range(k0, k0 + cnt):
            a = a0 + k * da
            xv = x[m]
            xr = np.float64(xv.real)
            xi = np.float64(xv.imag)
            if use_h:
                hv = h[m]
                tr = xr * hv.real - xi * hv.imag
                xi = xr * hv.imag + xi * hv.real
                xr = tr
            sr = a * (xr * zr - xi * zi)
            si = a * (xr * zi + xi * zr)
            tz = zr * rr - zi * ri
            zi = zr * ri + zi * rr
            zr = tz
            tq = rr * qr - ri * qi
            ri = rr * qi + ri * qr
            rr = tq
            ps += sr * sr + si * si
            if use_noise:
                s = s0 + k * ds
                g1, g2 = normal_pair(key, np.uint64(n0 + m))
                wr = s * g1
                wi = s * g2
                pn += wr * wr + wi * wi
            else:
                wr = 0.0
                wi = 0.0
            y[m] = complex(sr + wr, si + wi)
            if want_parts:
                s_out[m] = complex(sr, si)
                n_out[m] = complex(wr, wi)
            m += 1
    state[1] = zr
    state[2] = zi
    state[3] = rr
    state[4] = ri
    state[5] = qr
    state[6] = qi
    acc[0] += ps
    acc[1] += pn


@kernel(nogil=True)
def _add_scaled(y, w, n0, kblk, amp, j_out, want_parts, acc):
    """y += a(n) w (a linear between control-grid points); optionally j_out = a(n) w; acc[0] += sum |a w|^2."""
    nn = y.shape[0]
    b0 = n0 // kblk
    m = 0
    pj = 0.0
    while m < nn:
        n = n0 + m
        lb = n // kblk - b0
        k0 = n - (lb + b0) * kblk
        cnt = min(kblk - k0, nn - m)
        a0 = amp[lb]
        da = (amp[lb + 1] - a0) / kblk
        for k in range(k0, k0 + cnt):
            a = a0 + k * da
            v = w[m]
            jr = np.float32(a * v.real)
            ji = np.float32(a * v.imag)
            y[m] = complex(y[m].real + jr, y[m].imag + ji)
            pj += np.float64(jr) * jr + np.float64(ji) * ji
            if want_parts:
                j_out[m] = complex(jr, ji)
            m += 1
    acc[0] += pj


# ---------------------------------------------------------------------------------------------- channel


@dataclass(frozen=True)
class JammerSpec:
    """One jammer: a waveform (an object from linksim.channel.jammers) and its J/S (dB) relative to the victim's
    mean received power: a constant, or a (time_s, js_db) profile interpolated like ChannelProfile."""

    waveform: object
    js_db: float | tuple[np.ndarray, np.ndarray] = 0.0


@dataclass
class ChannelParts:
    """One processed chunk and its components (complex64): y = signal + noise + sum(jammers)."""

    y: np.ndarray
    signal: np.ndarray
    noise: np.ndarray
    jammers: list[np.ndarray]


class Channel:
    """Stateful sample-clocked channel. Feed chunks in order with `process` (or `process_parts`).

    sample_rate_hz: sample rate of the stream
    sps:            samples per symbol (for the Es/N0 calibration)
    profile:        ChannelProfile (default: unit gain, no Doppler, no delay, no noise)
    input_power:    mean |x|^2 of the input stream (declared; Es = sps * input_power * gain)
    fading:         a fading model from linksim.channel.fading (RicianFading, LooFading, LutzFading) or None
    phase_noise:    a linksim.channel.phase_noise.PhaseNoise or None
    jammers:        JammerSpec list
    seed:           integer seed; every random stream (noise, fading, each jammer) is derived from it
    t0_s:           time of sample 0 on the profile's time axis
    phase0_rad:     carrier phase of the Doppler rotator at sample 0
    max_delay_s:    size of the delay line (default: the profile's largest delay)
    threads:        worker threads for the per-sample kernels (1: the caller's thread only). The output does not
                    depend on it: chunks are cut at control-block boundaries, where every state is set exactly.

    After processing, `power_sums` holds the float64 sums of |signal|^2, |noise|^2 and |jammer k|^2 over every
    sample so far (what the channel added, before rounding to complex64), and `mean_powers()` their means.
    """

    def __init__(
        self,
        sample_rate_hz: float,
        sps: float = 1.0,
        profile: ChannelProfile | None = None,
        *,
        input_power: float = 1.0,
        fading: object | None = None,
        phase_noise: object | None = None,
        jammers: Sequence[JammerSpec] = (),
        seed: int = 0,
        t0_s: float = 0.0,
        phase0_rad: float = 0.0,
        max_delay_s: float | None = None,
        threads: int = 1,
    ) -> None:
        if not (np.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise InputError(f"sample_rate_hz: must be > 0, got {sample_rate_hz}")
        if not (np.isfinite(sps) and sps > 0):
            raise InputError(f"sps: must be > 0, got {sps}")
        if not (np.isfinite(input_power) and input_power > 0):
            raise InputError(f"input_power: must be > 0, got {input_power}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.sps = float(sps)
        self.input_power = float(input_power)
        self.seed = int(seed)
        self._t0_s = float(t0_s)
        self._grid: dict | None = None
        if int(threads) < 1:
            raise InputError(f"threads: must be >= 1, got {threads}")
        self.threads = int(threads)
        self._scratch_bufs: dict[str, np.ndarray] = {}  # see _scratch
        self._n = 0
        self._state = np.zeros(7)
        self._state[0] = (phase0_rad / (2 * np.pi)) % 1.0
        self._noise_key = stream_key(self.seed, "awgn")
        self.set_profile(profile if profile is not None else ChannelProfile(time_s=[0.0]))
        self._fading = fading.runtime(self.sample_rate_hz, stream_key(self.seed, "fading")) if fading else None
        self._pn = phase_noise.runtime(self.sample_rate_hz, stream_key(self.seed, "phase_noise")) \
            if phase_noise else None
        self._jam_specs = list(jammers)
        self._jam_rt = []
        self._js_cols = []
        for i, js in enumerate(self._jam_specs):
            if not isinstance(js, JammerSpec):
                raise InputError(f"jammers[{i}]: must be a JammerSpec")
            self._jam_rt.append(js.waveform.runtime(self.sample_rate_hz, stream_key(self.seed, "jammer", i)))
            self._js_cols.append(_js_column(js.js_db))
        from .delay import DelayLine

        dmax = self._delay.max() if max_delay_s is None else float(max_delay_s)
        self._delay_line = None
        if dmax > 0 or max_delay_s is not None:
            self._delay_line = DelayLine(self.sample_rate_hz, max(dmax, 0.0))
        self.power_sums = np.zeros(2 + len(self._jam_rt))

    def mean_powers(self) -> tuple[float, float, list[float]]:
        """Mean power per sample so far of the signal, the noise and each jammer the channel added."""
        p = self.power_sums / max(self._n, 1)
        return float(p[0]), float(p[1]), [float(v) for v in p[2:]]

    # ---- live parameter updates (take effect at the current sample; the GNU Radio blocks use these)
    def set_profile(self, profile: ChannelProfile) -> None:
        p = profile
        self._const_cache = None
        self._grid = None
        self._gain = Column(p.time_s, p.gain_db)
        self._doppler = Column(p.time_s, p.doppler_hz)
        self._delay = Column(p.time_s, p.delay_s)
        e = np.where(p.esn0_db > _NO_NOISE_DB, _NO_NOISE_DB + 100.0, p.esn0_db)
        self._esn0 = Column(p.time_s, e)

    @property
    def t0_s(self) -> float:
        """Time of sample 0 on the profile's time axis (settable: the emulator's loop moves it back)."""
        return self._t0_s

    @t0_s.setter
    def t0_s(self, v: float) -> None:
        self._t0_s = float(v)
        self._grid = None

    @property
    def time_s(self) -> float:
        """Sample-clock time of the next sample."""
        return self.t0_s + self._n / self.sample_rate_hz

    @property
    def n_processed(self) -> int:
        return self._n

    @property
    def latency_samples(self) -> int:
        """Fixed extra delay of the fractional delay line (samples; 0 when the channel applies no delay)."""
        return 0 if self._delay_line is None else self._delay_line.latency_samples

    def set_input_power(self, input_power: float) -> None:
        """The input's mean |x|^2 (the Es/N0 and J/S calibration), e.g. once measured on the first seconds."""
        if not (np.isfinite(input_power) and input_power > 0):
            raise InputError(f"input_power: must be > 0, got {input_power}")
        self._const_cache = None
        self._grid = None
        self.input_power = float(input_power)

    def set_gain_db(self, gain_db: float) -> None:
        self._const_cache = None
        self._grid = None
        self._gain = Column(None, float(gain_db))

    def set_esn0_db(self, esn0_db: float) -> None:
        self._const_cache = None
        self._grid = None
        e = float(esn0_db)
        if np.isnan(e) or e == -np.inf:
            raise InputError(f"esn0_db: must be a number or +inf, got {esn0_db}")
        self._esn0 = Column(None, min(e, _NO_NOISE_DB + 100.0))

    def set_doppler_hz(self, doppler_hz: float, doppler_rate_hz_s: float = 0.0) -> None:
        self._const_cache = None
        self._grid = None
        self._doppler = Column(None, float(doppler_hz), float(doppler_rate_hz_s), self.time_s)

    def set_delay_s(self, delay_s: float) -> None:
        self._grid = None
        d = float(delay_s)
        if self._delay_line is None or not (0 <= d <= self._delay_line.max_delay_s):
            lim = 0.0 if self._delay_line is None else self._delay_line.max_delay_s
            raise InputError(f"delay_s: must be within [0, {lim}] s (max_delay_s of this channel)")
        self._delay = Column(None, d)

    def set_js_db(self, index: int, js_db: float) -> None:
        if not 0 <= index < len(self._js_cols):
            raise InputError(f"jammer index {index}: this channel has {len(self._js_cols)} jammers")
        self._js_cols[index] = _js_column(float(js_db))
        self._grid = None

    @property
    def jammer_runtimes(self) -> list:
        return self._jam_rt

    def applied_at(self, t_s: float) -> dict[str, object]:
        """What the channel applies at profile time t_s: gain_db, doppler_hz, delay_s (requested, before the delay
        line's fixed latency), esn0_db (None: no noise) and js_db per jammer."""
        t = np.array([float(t_s)])
        e = float(self._esn0(t)[0])
        return {"gain_db": float(self._gain(t)[0]), "doppler_hz": float(self._doppler(t)[0]),
                "delay_s": float(self._delay(t)[0]), "esn0_db": None if e > _NO_NOISE_DB else e,
                "js_db": [float(c(t)[0]) for c in self._js_cols]}

    # ---- processing
    def _control(self, n0: int, n: int) -> tuple[np.ndarray, ...]:
        """Control-grid values for the blocks that chunk [n0, n0+n) touches (one more point at the end)."""
        kb = CONTROL_BLOCK
        b0 = n0 // kb
        b1 = (n0 + n - 1) // kb + 1
        nb_ = b1 - b0 + 1
        const = self._gain.is_const and self._esn0.is_const and self._doppler.is_const
        if const:
            c = self._const_cache
            if c is None or c[0] < nb_:
                m = max(nb_, 1024)
                g_lin = 10.0 ** (self._gain.value / 10.0)
                p_rx = self.input_power * g_lin
                e = self._esn0.value
                sig = 0.0 if e > _NO_NOISE_DB else np.sqrt(0.5 * self.sps * p_rx * 10.0 ** (-e / 10.0))
                c = (m, np.full(m, np.sqrt(g_lin)), np.full(m, sig), np.full(m, self._doppler.value),
                     np.full(m, p_rx), e <= _NO_NOISE_DB)
                self._const_cache = c
            t = None
            if self._delay_line is not None or self._js_cols:
                t = self.t0_s + (np.arange(b0, b1 + 1, dtype=np.int64) * kb) / self.sample_rate_hz
            return t, c[1][:nb_], c[2][:nb_], c[3][:nb_], c[4][:nb_], c[5]
        g = self._grid_slice(b0, b1)
        return g["t"], g["amp"], g["sig"], g["freq"], g["p_rx"], bool(np.any(g["esn0"] <= _NO_NOISE_DB))

    def _grid_slice(self, b0: int, b1: int) -> dict:
        """Every column on the control grid for blocks b0..b1 (inclusive), from a cache that is evaluated
        GRID_AHEAD points at a time: a point's value does not depend on which batch evaluated it."""
        g = self._grid
        if g is None or b0 < g["b0"] or b1 > g["b1"]:
            lo, hi = b0, max(b1, b0 + GRID_AHEAD)
            t = self.t0_s + (np.arange(lo, hi + 1, dtype=np.int64) * CONTROL_BLOCK) / self.sample_rate_hz
            g_lin = 10.0 ** (self._gain(t) / 10.0)
            p_rx = self.input_power * g_lin
            esn0 = self._esn0(t)
            # per-component std of the complex noise: sigma^2 / 2 each for I and Q
            sig = np.sqrt(0.5 * self.sps * p_rx * 10.0 ** (-esn0 / 10.0))
            sig = np.where(esn0 > _NO_NOISE_DB, 0.0, sig)
            g = {"b0": lo, "b1": hi, "t": t, "amp": np.sqrt(g_lin), "sig": sig, "freq": self._doppler(t),
                 "p_rx": p_rx, "esn0": esn0,
                 "delay": self._delay(t) * self.sample_rate_hz if self._delay_line is not None else None,
                 "js": [c(t) for c in self._js_cols]}
            self._grid = g
        i, j = b0 - g["b0"], b1 - g["b0"] + 1
        return {k: (v[i:j] if isinstance(v, np.ndarray) else [a[i:j] for a in v] if isinstance(v, list) else v)
                for k, v in g.items()}

    def _scratch(self, name: str, n: int) -> np.ndarray:
        """A complex64 work buffer of n samples, the same memory from one chunk to the next (grown when needed)."""
        b = self._scratch_bufs.get(name)
        if b is None or b.size < n:
            b = self._scratch_bufs[name] = np.empty(n, dtype=np.complex64)
        return b[:n]

    def process(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Apply the channel to the next chunk of the stream; returns complex64 of the same length (written into
        `out`, a complex64 array of that length, when given)."""
        return self._run(x, False, out).y

    def process_parts(self, x: np.ndarray) -> ChannelParts:
        """Like process, but also returns signal, noise and each jammer's contribution (y is identical)."""
        return self._run(x, True)

    def _run(self, x: np.ndarray, want_parts: bool, out: np.ndarray | None = None) -> ChannelParts:
        from .parallel import pieces, run_pieces, split_points

        x = np.ascontiguousarray(x, dtype=np.complex64)
        if x.ndim != 1:
            raise InputError("channel input: must be a one-dimensional complex stream")
        n = x.size
        n0 = self._n
        if out is None:
            y = np.empty(n, dtype=np.complex64)
        else:
            if out.dtype != np.complex64 or out.shape != (n,) or not out.flags.c_contiguous:
                raise InputError(f"channel output buffer: must be contiguous complex64 of {n} samples")
            y = out
        if n == 0:
            e = np.empty(0, dtype=np.complex64)
            return ChannelParts(y, e, e, [e for _ in self._jam_rt])
        kb = CONTROL_BLOCK
        threads = self.threads
        cuts = split_points(n0, n, kb, pieces(threads))
        t, amp, sig, freq, p_rx, noisy = self._control(n0, n)
        gs = self._grid_slice(n0 // kb, (n0 + n - 1) // kb + 1) if (self._delay_line is not None
                                                                    or self._js_cols) else None
        # the delayed input and the fading gain go into buffers kept from chunk to chunk: a fresh 8 MiB array per
        # chunk costs a page fault per 4 KiB, and with several threads those faults serialise on the kernel's lock
        if self._delay_line is not None:
            x = self._delay_line.process(x, n0, gs["delay"], kb, threads, out=self._scratch("delayed", n))
        h = None
        if self._fading is not None:
            h = self._fading.gains(n0, n, threads, out=self._scratch("gain", n))
        if self._pn is not None:
            ph = self._pn.phasors(n0, n)
            if h is None:
                h = ph
            else:
                np.multiply(h, ph, out=h)
        # separate signal and noise outputs only when asked or a jammer senses the victim
        need_sig = want_parts or any(getattr(r, "needs_victim", False) for r in self._jam_rt)
        # (their own arrays: returned with the parts, and a jammer may keep views of the victim between calls)
        s_out = np.empty(n if need_sig else 0, dtype=np.complex64)
        n_out = np.empty(n if need_sig else 0, dtype=np.complex64)
        key = self._noise_key if noisy else np.uint64(0)
        phi_blk = np.empty(amp.size, dtype=np.float64)
        self._state[0] = _phase_walk(self._state[0], np.int64(n0), np.int64(n), np.int64(kb), freq,
                                     self.sample_rate_hz, phi_blk)
        b0 = n0 // kb
        empty = np.empty(0, np.complex64)
        states = [self._state.copy() for _ in cuts[:-1]]
        accs = [np.zeros(2) for _ in cuts[:-1]]
        n_jam = len(self._jam_rt)
        jaccs = np.zeros((len(cuts) - 1, max(n_jam, 1)))
        j_outs = [np.empty(n if want_parts else 0, dtype=np.complex64) for _ in range(n_jam)]
        jamps = [np.sqrt(p_rx * 10.0 ** (js / 10.0)) for js in (gs["js"] if gs is not None else [])]
        # jammers are added in order; those before the first one that senses the victim are added piece by piece
        # right after the signal (made piece by piece too when their waveform is a pure function of the index)
        first_victim = next((k for k, r in enumerate(self._jam_rt) if r.needs_victim), n_jam)
        waves: list[np.ndarray | None] = [
            None if (k >= first_victim or rt.piecewise) else rt.generate(n0, n, None, None)
            for k, rt in enumerate(self._jam_rt)
        ]

        def add(k: int, i: int, lo: int, hi: int, w: np.ndarray) -> None:
            c = (n0 + lo) // kb - b0
            _add_scaled(y[lo:hi], w, np.int64(n0 + lo), np.int64(kb), jamps[k][c:],
                        j_outs[k][lo:hi] if want_parts else empty, want_parts, jaccs[i, k : k + 1])

        def main(lo: int, hi: int) -> None:
            i = cuts.index(lo)
            c = (n0 + lo) // kb - b0  # control-grid row of the piece's first block
            _main_kernel(
                x[lo:hi], np.int64(n0 + lo), np.int64(kb), self.sample_rate_hz, amp[c:], sig[c:], freq[c:],
                phi_blk[c:], h[lo:hi] if h is not None else empty, h is not None, key, states[i], y[lo:hi],
                s_out[lo:hi] if need_sig else empty, n_out[lo:hi] if need_sig else empty, need_sig, accs[i],
            )
            for k in range(first_victim):
                wk = waves[k]
                add(k, i, lo, hi, self._jam_rt[k].generate(n0 + lo, hi - lo, None, None) if wk is None
                    else wk[lo:hi])

        run_pieces(threads, main, cuts)
        self._state[1:] = states[-1][1:]
        self.power_sums[:2] += np.sum(accs, axis=0)
        if first_victim < n_jam:  # victim mean received power per sample, for jammers that sense the victim
            grid = (np.arange(p_rx.size, dtype=np.int64) + b0) * kb
            p_rx_n = np.interp(np.arange(n0, n0 + n, dtype=np.int64), grid, p_rx)
            for k in range(first_victim, n_jam):
                w = self._jam_rt[k].generate(n0, n, s_out, p_rx_n)
                run_pieces(threads, lambda lo, hi, k=k, w=w: add(k, cuts.index(lo), lo, hi, w[lo:hi]), cuts)
        self.power_sums[2:] += jaccs.sum(axis=0)[:n_jam]
        jams = j_outs
        self._n += n
        return ChannelParts(y, s_out, n_out, jams)


def measure_power(x: np.ndarray) -> float:
    """Mean |x|^2 of a stream (float64 accumulation; complex64 input is summed in place, without temporaries)."""
    x = np.asarray(x)
    if x.size == 0:
        return float("nan")
    if x.dtype == np.complex64 and x.ndim == 1:
        return _power_sum(x) / x.size
    return float(np.mean(x.real.astype(np.float64) ** 2 + x.imag.astype(np.float64) ** 2))


@kernel(inline="always")
def _abs2(v):  # noqa: ANN001, ANN202 - numba kernel
    return np.float64(v.real) * np.float64(v.real) + np.float64(v.imag) * np.float64(v.imag)


@kernel(nogil=True)
def _power_sum(x):  # noqa: ANN001, ANN202 - numba kernel
    # eight float64 partial sums (the compiler vectorises them); no array temporaries, so no page faults per chunk,
    # and no allocation, so the kernel can be compiled ahead of time (linksim.compiled)
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    n = x.size
    m = n - n % 8
    for i in range(0, m, 8):
        a0 += _abs2(x[i])
        a1 += _abs2(x[i + 1])
        a2 += _abs2(x[i + 2])
        a3 += _abs2(x[i + 3])
        a4 += _abs2(x[i + 4])
        a5 += _abs2(x[i + 5])
        a6 += _abs2(x[i + 6])
        a7 += _abs2(x[i + 7])
    t = 0.0
    for i in range(m, n):
        t += _abs2(x[i])
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + t
