"""Direct-sequence spreading of the DVB-S2 symbol stream: a seeded chip code, the spreader and the despreader.

Each PLFRAME symbol (PLHEADER, pilots and data alike) is multiplied by N chips of a seeded QPSK code
c[q] = ((1 - 2 a_q) + j (1 - 2 b_q)) / sqrt(2) (|c| = 1, bits from numpy's PCG64 seeded with (seed, N)); the chip
stream is RRC-shaped at the chip rate R_c = N R_s. The code repeats every `code_period_chips(N)` chips, a whole
number of symbols (at least 16, and at least 4096 chips), so symbol boundaries fall on code boundaries and any
code phase appears within one period of a capture.

Despreader (`Despreader.process`): chip matched filter (RRC, `sync.MatchedFilter`) -> code-phase and carrier
acquisition -> tracking -> one value per symbol, sum_k y(t_k) c*[q + k] / N:

- acquisition: for every code phase h of one period (every sample, `sps` per chip) and every carrier bin
  (0.25 R_s apart over +-max_cfo_cyc), the metric mean_m |sum_k y[h + (mN + k) sps] c*[mN + k]|^2 / E_m(h) over
  ACQ_SYMBOLS symbols (coherent over each symbol, whatever the data, then non-coherent; E_m(h) the symbol's energy
  sum_k |y|^2, so the test holds its false-alarm rate whatever the noise, jamming or signal level does inside the
  window), computed with batched FFT correlations. It is about 1 + Es/N0 (linear, per symbol) at the right phase
  and Gamma(M)/M (1 +- 1/sqrt(M)) elsewhere; the phase is accepted above the gamma quantile that gives one false
  alarm in 1/FALSE_ALARM searches. Sub-sample timing from a
  parabola through the peak; the carrier from the half-symbol correlations (angle of sum b_m a_m*, the two halves
  of each symbol's correlation).
- tracking, per symbol: prompt, early and late (+-1/2 chip) correlations on the interpolated matched-filter output
  (8-tap windowed sinc), an NCO that removes the carrier offset; a second-order delay-locked loop on
  Re((L - E) P*) (data-independent), the carrier from the phase step b a* between the two half-symbol
  correlations (estimated over CARRIER_SYMBOLS symbols before the first symbol leaves, then checked every
  CARRIER_BLOCK symbols and moved only when Doppler drift takes the residual past CARRIER_STEP_CYC: the
  demodulator tracks the rest), and a lock detector that compares the prompt power with the power of a
  correlation against the code half a period away (noise and jamming only): below LOCK_RATIO over LOCK_SYMBOLS,
  the despreader searches again.

Processing gain: a symbol collects N chips of signal coherently (power N^2 S) and N chips of noise or jamming
incoherently (power N (N0 R_c + J)), so Es/(N0 + J0) per symbol is (C/J) N in a tone's case and (C/J) N (1 + a)
for a barrage over the occupied band R_c (1 + a): 10 log10(N) (and the roll-off share) over the chip SNR. With the
code's finite period a tone at offset f meets Q = period/N different code words; `tone_pass_fraction` gives the
share of its power that passes for a given code, offset and chip pulse (1/N on average over codes).
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
from scipy import fft as sp_fft
from scipy.stats import gamma

from ..errors import InputError
from .sync import MatchedFilter, _interp, _interp_table

MAX_SPREADING_FACTOR = 512
MIN_CODE_CHIPS = 4096
MIN_CODE_SYMBOLS = 16


def check_spreading_factor(n: int) -> int:
    if isinstance(n, bool) or int(n) != n or not 1 <= int(n) <= MAX_SPREADING_FACTOR:
        raise InputError(f"spreading factor must be an integer from 1 to {MAX_SPREADING_FACTOR}, not {n}")
    return int(n)


def code_period_chips(spreading_factor: int) -> int:
    """Chips per code period: a whole number of symbols, at least MIN_CODE_SYMBOLS and MIN_CODE_CHIPS."""
    n = check_spreading_factor(spreading_factor)
    return n * max(MIN_CODE_SYMBOLS, -(-MIN_CODE_CHIPS // n))


def chip_code(spreading_factor: int, seed: int) -> np.ndarray:
    """One period of the QPSK chip code (complex64, |c| = 1) for spreading factor N and a seed >= 0."""
    n = check_spreading_factor(spreading_factor)
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise InputError(f"spreading seed must be an integer >= 0, not {seed}")
    return _chip_code(n, int(seed))


@lru_cache(maxsize=32)
def _chip_code(n: int, seed: int) -> np.ndarray:
    bits = np.random.default_rng([seed, n]).integers(0, 2, size=(code_period_chips(n), 2))
    c = ((1 - 2 * bits[:, 0]) + 1j * (1 - 2 * bits[:, 1])) / np.sqrt(2.0)
    out = c.astype(np.complex64)
    out.setflags(write=False)
    return out


def processing_gain_db(spreading_factor: int) -> float:
    return float(10.0 * np.log10(check_spreading_factor(spreading_factor)))


class Spreader:
    """Symbols in, N chips per symbol out (stateful: the code phase continues across calls)."""

    def __init__(self, spreading_factor: int, seed: int = 1) -> None:
        self.n = check_spreading_factor(spreading_factor)
        self.code = chip_code(self.n, seed)
        self._q = 0

    def __call__(self, symbols: np.ndarray) -> np.ndarray:
        s = np.asarray(symbols, dtype=np.complex64).reshape(-1)
        if self.n == 1:
            return s.copy()
        nc = s.size * self.n
        idx = (self._q + np.arange(nc)) % self.code.size
        self._q = int((self._q + nc) % self.code.size)
        return np.repeat(s, self.n) * self.code[idx]


def tone_pass_fraction(spreading_factor: int, seed: int, offset_cyc_per_chip: float, rolloff: float) -> float:
    """Share of a tone's power (relative to the signal's, per symbol) that the despreader passes: the tone at
    offset f (cycles per chip) through the chip matched filter (|H(f)|^2 of the raised cosine) and the
    correlation with each of the code's Q symbol words, mean_m |sum_k c*_mN+k exp(j 2 pi f k)|^2 / N^2.
    A tone of J/S j leaves a per-symbol signal-to-interference of 1 / (j x this)."""
    from ..budget.interference import raised_cosine_weight

    n = check_spreading_factor(spreading_factor)
    c = chip_code(n, seed).astype(np.complex128).reshape(-1, n)
    k = np.arange(n)
    s = np.abs(np.conj(c) @ np.exp(2j * np.pi * offset_cyc_per_chip * k)) ** 2
    h2 = float(raised_cosine_weight(np.array([offset_cyc_per_chip]), 1.0, rolloff)[0])
    return float(np.mean(s) / n**2 * h2)


# ------------------------------------------------------------------------------------------------ tracking


@numba.njit(cache=True, nogil=True)
def _track(y, t, tc_nom, q, code, n, half, w, theta, st, gains, tab, out, pos):  # pragma: no cover - compiled
    """Despread symbols from y (matched-filter output) while whole symbols remain.

    t: buffer position of the current symbol's first chip; tc = tc_nom (1 + st[0]); q: code index of the symbol's
    first chip; w: NCO frequency (rad/sample); theta: NCO phase at t. st = [dll integrator, prompt power average,
    off-code power average, output power average, symbols since lock, unlocked symbols in a row, sum Re(b a*),
    sum Im(b a*),
    symbols in the carrier block, carrier blocks done]. gains = [dll kp pull-in, dll ki pull-in, dll kp, dll ki,
    carrier block (symbols), power average weight, half-symbol centres apart (chips), pull-in symbols, lock ratio,
    lock symbols, dll slope kd, carrier step threshold (cycles/symbol), symbols in the output power average at
    lock]. Returns (symbols made, t, q, theta, w,
    lost): lost is True when the lock detector ended the lock (at the returned t)."""
    period = code.shape[0]
    m = 0
    lim = y.shape[0] - 6.0
    off_shift = period // 2
    nmax = out.shape[0]
    lost = False
    while m < nmax:
        tc = tc_nom * (1.0 + st[0])
        if t + (n - 1) * tc + 0.5 * tc >= lim or t - 0.5 * tc < 4.0:
            break
        rr = np.cos(theta)
        ri = -np.sin(theta)
        sr = np.cos(w * tc)
        si = -np.sin(w * tc)
        par = 0.0
        pai = 0.0
        pbr = 0.0
        pbi = 0.0
        er = 0.0
        ei = 0.0
        lr = 0.0
        li = 0.0
        orr = 0.0
        oi = 0.0
        for k in range(n):
            tk = t + k * tc
            p = _interp(y, tk, tab)
            e = _interp(y, tk - 0.5 * tc, tab)
            lt = _interp(y, tk + 0.5 * tc, tab)
            c = code[(q + k) % period]
            co = code[(q + k + off_shift) % period]
            # rotation by the NCO and correlation with the code: x * rot * conj(c)
            xr = rr * c.real + ri * c.imag
            xi = ri * c.real - rr * c.imag
            vr = p.real * xr - p.imag * xi
            vi = p.real * xi + p.imag * xr
            if k < half:
                par += vr
                pai += vi
            else:
                pbr += vr
                pbi += vi
            er += e.real * xr - e.imag * xi
            ei += e.real * xi + e.imag * xr
            lr += lt.real * xr - lt.imag * xi
            li += lt.real * xi + lt.imag * xr
            xr2 = rr * co.real + ri * co.imag
            xi2 = ri * co.real - rr * co.imag
            orr += p.real * xr2 - p.imag * xi2
            oi += p.real * xi2 + p.imag * xr2
            tr = rr * sr - ri * si
            ri = rr * si + ri * sr
            rr = tr
        pr = par + pbr
        pi = pai + pbi
        pos[m] = t
        if pr == 0.0 and pi == 0.0 and er == 0.0 and lr == 0.0:  # blanked input: coast, no loop updates
            out[m] = 0.0
            m += 1
            t += n * tc
            theta = theta + w * n * tc
            theta -= 2.0 * np.pi * np.floor(theta / (2.0 * np.pi))
            q = (q + n) % period
            continue
        # unit mean power (signal, noise and jamming): the mean of the symbols so far (gains[12] of them before
        # the lock, from the acquisition), then an average over the last 1024
        pw = pr * pr + pi * pi
        st[3] += (pw - st[3]) / min(1024.0, gains[12] + st[4] + 1.0)
        g = 1.0 / np.sqrt(max(st[3], 1e-30))
        out[m] = complex(pr * g, pi * g)
        m += 1
        a = gains[5]
        st[1] += a * (pr * pr + pi * pi - st[1])
        st[2] += a * (orr * orr + oi * oi - st[2])
        pulling = st[4] < gains[7]
        kp = gains[0] if pulling else gains[2]
        ki = gains[1] if pulling else gains[3]
        # delay-locked loop: Re((L - E) P*) / <|P|^2> / kd: minus the timing error in chips (tau = t - peak)
        e_dll = ((lr - er) * pr + (li - ei) * pi) / max(st[1], 1e-30) / gains[10]
        if e_dll > 1.0:
            e_dll = 1.0
        elif e_dll < -1.0:
            e_dll = -1.0
        st[0] += ki * e_dll / n
        # carrier: sum b a* of the half-symbol correlations over blocks of gains[4] symbols; the NCO takes a
        # block's residual only when it exceeds gains[11] cycles/symbol (Doppler drift): a steady carrier for the
        # demodulator, which tracks the small rest itself
        st[6] += pbr * par + pbi * pai
        st[7] += pbi * par - pbr * pai
        st[8] += 1.0
        w_old = w
        if st[8] >= gains[4]:
            f_err = np.arctan2(st[7], st[6]) / (2.0 * np.pi * gains[6] / n)
            if abs(f_err) > gains[11]:
                w += 2.0 * np.pi * f_err / (n * tc)
            st[9] += 1.0
            st[6] = 0.0
            st[7] = 0.0
            st[8] = 0.0
        dt = n * tc + kp * e_dll * tc
        theta = theta + w_old * dt
        theta -= 2.0 * np.pi * np.floor(theta / (2.0 * np.pi))
        t += dt
        q = (q + n) % period
        st[4] += 1.0
        if gains[9] > 0:
            if st[1] < gains[8] * st[2]:
                st[5] += 1.0
            else:
                st[5] = 0.0
            if st[5] >= gains[9]:
                lost = True
                break
    return m, t, q, theta, w, lost


# ------------------------------------------------------------------------------------------------ despreader


class Despreader:
    """Streaming despreader (see the module docstring).

    spreading_factor N >= 2, seed: the code's; sps: input samples per chip (integer >= 2); rolloff: the chip
    pulse's; max_cfo_cyc: carrier offsets searched, +- cycles per symbol; acq_symbols: symbols per acquisition;
    genie_first_chip: input sample index where chip 0 of the code peaks (known timing and no carrier offset:
    no acquisition, the loops held). `process(x)` returns (despread symbols complex64, positions float64: the
    input sample index at which each symbol's first chip peaks); `flush()` ends the stream.
    """

    ACQ_SYMBOLS = 512
    FALSE_ALARM = 1e-3  # per acquisition over every code phase and carrier bin
    BIN_CYC = 0.25  # carrier bins (cycles per symbol) of the acquisition: the default +-0.125 needs one
    DLL_BN_T = 2e-3  # loop noise bandwidths per symbol
    DLL_BN_T_PULL = 2e-2  # over the first PULL_SYMBOLS after an acquisition
    PULL_SYMBOLS = 400
    CARRIER_SYMBOLS = 4096  # symbols of the carrier-offset estimate at acquisition
    CARRIER_BLOCK = 8192  # symbols per carrier-offset check after lock
    CARRIER_STEP_CYC = 0.1  # the NCO moves only for a residual above this (cycles/symbol): Doppler drift
    POWER_AVG = 1.0 / 256  # weight of the power averages (prompt, off-code, cross products)
    LOCK_RATIO = 1.12  # prompt power over off-code power below which a symbol counts as unlocked
    LOCK_SYMBOLS = 2048  # unlocked symbols in a row that end the lock

    def __init__(self, spreading_factor: int, seed: int = 1, sps: int = 2, rolloff: float = 0.2,
                 max_cfo_cyc: float = 0.125, acq_symbols: int | None = None,
                 genie_first_chip: float | None = None) -> None:
        self.n = check_spreading_factor(spreading_factor)
        if self.n < 2:
            raise InputError("the despreader needs a spreading factor >= 2 (1 means no spreading)")
        if int(sps) != sps or sps < 2:
            raise InputError(f"the despreader needs a whole number >= 2 of samples per chip, not {sps}")
        if not (np.isfinite(max_cfo_cyc) and 0 <= max_cfo_cyc <= 0.5):
            raise InputError(f"max_cfo_cyc must be within [0, 0.5] cycles per symbol, not {max_cfo_cyc}")
        self.sps = int(sps)
        self.code = chip_code(self.n, seed)
        self.period = self.code.size
        self.rolloff = float(rolloff)
        self.max_cfo_cyc = float(max_cfo_cyc)
        self.acq_symbols = int(acq_symbols or self.ACQ_SYMBOLS)
        self._mf = MatchedFilter(self.sps, self.rolloff)
        self._tab = _interp_table()
        self._y = np.zeros(0, dtype=np.complex64)
        self._base = 0  # matched-filter output index of _y[0]
        self._locked = False
        self._t = 0.0
        self._q = 0
        self._w = 0.0
        self._theta = 0.0
        self._st = np.zeros(10)
        self._genie = genie_first_chip is not None
        self._found: tuple[float, float, float] | None = None  # code phase found, carrier still to estimate
        self.stats = {"acquisitions": 0, "lost_lock": 0, "searches": 0}
        self.last_metric = 0.0  # the last acquisition's peak metric (about 1 + Es/N0 at the signal)
        half = self.n // 2
        self._half = half
        c_a = (half - 1) / 2.0
        c_b = half + (self.n - half - 1) / 2.0
        self._sep = c_b - c_a  # chips between the half-symbol centres
        self._kd = self._dll_slope()
        if self._genie:
            assert genie_first_chip is not None
            self._locked = True
            self._t = float(genie_first_chip) + self._mf.delay  # absolute until the first buffer arrives
            self._t_abs = True
        else:
            self._t_abs = False
        self._flushed = False

    # -------------------------------------------------------------------------------------- properties
    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def cfo_cyc(self) -> float:
        """Carrier offset the NCO removes, cycles per symbol."""
        return float(self._w * self.n * self.sps / (2 * np.pi))

    @property
    def lock_metric(self) -> float:
        """Prompt power over off-code power, minus 1: about the despread Es/N0 (linear) while locked."""
        return float(self._st[1] / max(self._st[2], 1e-30) - 1.0) if self._locked else 0.0

    def _dll_slope(self) -> float:
        """d/dtau of Re((L - E) P*) / |P|^2 at tau = 0 (per chip of timing error), raised-cosine chip pulse."""
        from .rrc import rrc_taps

        h = rrc_taps(self.rolloff, 64, 24)
        rc = np.convolve(h, h)
        c = (rc.size - 1) // 2
        d = (rc[c + 32 + 1] - rc[c + 32 - 1]) / (2.0 / 64)  # RC'(0.5 chip)
        return float(-2.0 * d / rc[c])

    # -------------------------------------------------------------------------------------- streaming
    def process(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._flushed:
            raise InputError("this Despreader was flushed; make a new one for a new stream")
        y = self._mf.process(np.asarray(x, dtype=np.complex64).reshape(-1))
        return self._run(y)

    def flush(self) -> tuple[np.ndarray, np.ndarray]:
        if self._flushed:
            return np.zeros(0, np.complex64), np.zeros(0)
        out = self._run(self._mf.process(np.zeros(self._mf.delay + 8 * self.sps, dtype=np.complex64)))
        self._flushed = True
        return out

    def _run(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._y = np.concatenate([self._y, y]) if self._y.size else y.copy()
        if self._t_abs:
            self._t -= self._base
            self._t_abs = False
        syms: list[np.ndarray] = []
        poss: list[np.ndarray] = []
        while True:
            if not self._locked:
                searches = self.stats["searches"]
                if not self._acquire():
                    if self.stats["searches"] > searches and self._found is None:
                        continue  # that code period held no signal: search the next one
                    break
            s, p = self._track_some()
            if s.size:
                syms.append(s)
                poss.append(p)
            if self._locked:
                break  # waits for more samples (after a lost lock: search the rest of the buffer)
        self._trim()
        if not syms:
            return np.zeros(0, np.complex64), np.zeros(0)
        return np.concatenate(syms), np.concatenate(poss)

    def _trim(self) -> None:
        if self._locked:
            keep = max(0, int(np.floor(self._t - self.sps)) - 8)
        else:
            keep = 0  # _acquire drops what it searched
        if keep > 0:
            self._y = self._y[keep:]
            self._base += keep
            self._t -= keep

    def _track_some(self) -> tuple[np.ndarray, np.ndarray]:
        from .sync import loop_gains

        tc = float(self.sps)
        nmax = int(self._y.size / (self.n * tc)) + 2
        out = np.empty(nmax, dtype=np.complex64)
        pos = np.empty(nmax, dtype=np.float64)
        if self._genie:
            gains = np.array([0.0, 0.0, 0.0, 0.0, 1e18, self.POWER_AVG, self._sep, 0.0, 0.0, 0.0, self._kd, 1.0, 0.0])
        else:
            kp0 = 4.0 * self.DLL_BN_T_PULL  # first order while pulling in (a second-order loop's integrator
            ki0 = 0.0  # would pick up noise there: the clock-rate error is tiny, the timing error is not)
            kp, ki = loop_gains(self.DLL_BN_T, 1.0)
            gains = np.array([kp0, ki0, kp, ki, self.CARRIER_BLOCK, self.POWER_AVG, self._sep, self.PULL_SYMBOLS,
                              self.LOCK_RATIO, self.LOCK_SYMBOLS, self._kd, self.CARRIER_STEP_CYC,
                              float(self.acq_symbols)])
        m, t, q, theta, w, lost = _track(self._y, self._t, tc, self._q, self.code, self.n, self._half, self._w,
                                         self._theta, self._st, gains, self._tab, out, pos)
        self._t, self._q, self._theta, self._w = float(t), int(q), float(theta), float(w)
        out = out[:m]
        pos = pos[:m] + self._base - self._mf.delay
        if lost:
            self._locked = False
            self.stats["lost_lock"] += 1
            drop = max(0, int(np.floor(self._t)))
            self._y = self._y[drop:]
            self._base += drop
        return out, pos

    # -------------------------------------------------------------------------------------- acquisition
    def _acquire(self) -> bool:
        """Search the buffer's first code period for the code phase; True when found (the loops are set)."""
        if self._found is not None:
            return self._finish_acquisition()
        n, sps, period = self.n, self.sps, self.period
        m_sym = self.acq_symbols
        need = (period + m_sym * n + n) * sps + 16
        if self._y.size < need:
            return False
        self.stats["searches"] += 1
        y = self._y[:need]
        bins = self._bins()
        best = (-1.0, 0, 0.0, None)  # (metric, h, bin, metric row)
        for f in bins:
            rot = np.exp(-2j * np.pi * (f / (n * sps)) * np.arange(y.size)).astype(np.complex64)
            met = self._metric(y * rot, m_sym)  # (period * sps,)
            h = int(np.argmax(met))
            r = float(met[h])
            if r > best[0]:
                best = (r, h, f, met)
        r, h, f, met = best
        self.last_metric = r
        hyp = period * sps * len(bins)
        thr = float(gamma.isf(self.FALSE_ALARM / hyp, m_sym) / m_sym)
        if r < thr:
            # nothing in this window: drop what was integrated (every code phase recurs in any period of the next
            # window, so a signal that started in this one is still found, whole, in the next)
            drop = max(period, m_sym * n) * sps
            self._y = self._y[drop:]
            self._base += drop
            return False
        # sub-sample timing: a parabola through the peak and its neighbours
        assert met is not None
        L = met.size
        y0, y1, y2 = met[(h - 1) % L], met[h], met[(h + 1) % L]
        den = y0 - 2 * y1 + y2
        frac = float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)) if den < 0 else 0.0
        t0 = h + frac
        self._found = (float(t0), float(f), r)
        return self._finish_acquisition()

    def _finish_acquisition(self) -> bool:
        """With the code phase found: the carrier offset from the half-symbol correlations' phase step over
        CARRIER_SYMBOLS symbols at the found timing (waits for them), then lock."""
        assert self._found is not None
        t0, f, r = self._found
        n, sps, period = self.n, self.sps, self.period
        m_sym = self.CARRIER_SYMBOLS
        if self._y.size < t0 + (m_sym * n + n) * sps + 16:
            return False
        self._found = None
        k = np.arange(m_sym * n)
        rot = np.exp(-2j * np.pi * (f / (n * sps)) * (t0 + k * sps))
        ys = _sample(self._y, t0 + k * sps, self._tab)
        z = (ys * rot * np.conj(self.code[k % period])).reshape(m_sym, n)
        a = z[:, : self._half].sum(axis=1)
        b = z[:, self._half :].sum(axis=1)
        df = float(np.angle(np.sum(b * np.conj(a))) / (2 * np.pi * self._sep / n))
        # lock: the loops start at the acquisition's estimates, from the code's first chip
        self._locked = True
        self.stats["acquisitions"] += 1
        self._t = float(t0)
        self._q = 0
        self._w = 2 * np.pi * (f + df) / (n * sps)
        self._theta = 0.0
        p_sig = float(np.mean(np.abs(a + b) ** 2))
        self._st[:] = 0.0
        self._st[1] = p_sig
        self._st[2] = p_sig / max(r, 1.0 + 1e-6)
        self._st[3] = p_sig
        return True

    def _bins(self) -> np.ndarray:
        nb = int(np.ceil(self.max_cfo_cyc / self.BIN_CYC - 0.5 + 1e-9))
        return self.BIN_CYC * np.arange(-nb, nb + 1)

    def _metric(self, y: np.ndarray, m_sym: int) -> np.ndarray:
        """For every code phase h in [0, period * sps): the mean over M symbols of |per-symbol correlation|^2 over
        the symbol's energy sum_k |y|^2: exponential with mean 1 for noise or jamming, whatever their level does
        within the window; about 1 + Es/N0 (linear) at the signal's phase."""
        n, sps, period = self.n, self.sps, self.period
        win = period + n - 1
        tf = self._template_fft(m_sym)
        L = tf.shape[1]
        out = np.empty(period * sps)
        for ph in range(sps):
            z = np.ascontiguousarray(y[ph::sps][: (m_sym - 1) * n + win])
            e = np.abs(z) ** 2
            cs = np.concatenate([[0.0], np.cumsum(e, dtype=np.float64)])
            e_sym = (cs[n:] - cs[:-n]).astype(np.float32)  # energy of the N chips from each index
            np.maximum(e_sym, 1e-30, out=e_sym)
            acc = np.zeros(period, dtype=np.float64)
            batch = max(1, (1 << 21) // L)
            for m0 in range(0, m_sym, batch):
                mm = min(batch, m_sym - m0)
                w = np.lib.stride_tricks.as_strided(z[m0 * n :], shape=(mm, win), strides=(n * z.itemsize,
                                                                                            z.itemsize))
                c = sp_fft.ifft(sp_fft.fft(w, L, axis=1) * tf[m0 : m0 + mm], axis=1)[:, :period]
                en = np.lib.stride_tricks.as_strided(e_sym[m0 * n :], shape=(mm, period),
                                                     strides=(n * e_sym.itemsize, e_sym.itemsize))
                acc += np.sum((c.real * c.real + c.imag * c.imag) / en, axis=0, dtype=np.float64)
            out[ph::sps] = acc / m_sym
        return out

    def _template_fft(self, m_sym: int) -> np.ndarray:
        """conj(FFT) of the code's first m_sym symbol words, each zero-padded to the correlation length (cached)."""
        if getattr(self, "_tf", None) is None or self._tf.shape[0] != m_sym:
            n, period = self.n, self.period
            L = sp_fft.next_fast_len(period + n - 1)
            tmpl = self.code[np.arange(m_sym * n) % period].reshape(m_sym, n)
            self._tf = np.conj(sp_fft.fft(tmpl, L, axis=1)).astype(np.complex64)
        return self._tf


def _sample(y: np.ndarray, t: np.ndarray, tab: np.ndarray) -> np.ndarray:
    out = np.empty(t.size, dtype=np.complex128)
    _sample_many(np.ascontiguousarray(y, dtype=np.complex64), np.ascontiguousarray(t, dtype=np.float64), tab, out)
    return out


@numba.njit(cache=True, nogil=True)
def _sample_many(y, t, tab, out):  # pragma: no cover - compiled
    for i in range(t.shape[0]):
        out[i] = _interp(y, t[i], tab)


__all__ = ["Despreader", "Spreader", "chip_code", "code_period_chips", "processing_gain_db", "tone_pass_fraction"]
