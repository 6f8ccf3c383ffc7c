"""The scenario's channel applied to an external signal, on its sample clock (the core of `linksim emulate`; no
GNU Radio here: linksim.gr.emulator wraps it in a block, linksim.run.emulate runs it between devices).

    emulation_scenario(s, bandwidth_hz=None) -> Scenario
        The scenario whose carrier is the external signal: with bandwidth_hz (the signal's occupied bandwidth), the
        carrier's symbol rate becomes bandwidth_hz / (1 + rolloff), so the budget's Es/N0 and every jammer's in-band
        J/S refer to the signal that is really there. The carrier frequency stays the scenario's.
    EmulatedChannel(tl, sample_rate_hz, start_s=0, span_s=None, loop=False, center_hz=0, seed=0, threads=1,
                    input_power=None, probe_every_s=1.0)
        The Timeline's channel over scenario time [start_s, start_s + span_s] for a stream at sample_rate_hz whose
        signal is centred center_hz from the middle of the band: the satellite's amplifier ([satellite.amplifier],
        driven relative to the signal's power) if any, then the whole one-way delay (the delay line's fixed
        16-sample latency and the amplifier's taken off, so the realised delay is the scenario's), Doppler and its
        rate, gain and Es/N0 (weather), fast fading, phase noise, and the jammers and the budget's interference
        placed relative to the signal's centre. The noise is calibrated on the signal's power (declared, or
        measured by the caller on the first samples: set_input_power). A bent pipe is refused. With loop=True
        scenario time wraps back to start_s at the end of the span (the carrier phase and every random stream
        continue; the delay jumps back). process(x, out) applies it chunk by chunk; scenario_time_s(n),
        applied(n) tell what sample n got; .probe measures what was realised.
    build_emulation(scenario_path, sample_rate_hz, start_s=0, span_s=None, loop=False, center_hz=0,
                    bandwidth_hz=None, input_power=None, seed=None, threads=None, overrides=None)
        -> EmulatedChannel from a scenario file (its Timeline over the span; seed: the scenario's propagation seed
        by default; threads: every CPU this process may use). The GRC block and `linksim emulate` build it here.
    RealisedProbe(fs, expected, window=65536, every_s=1.0, first_s=0.5)
        Measures on the two streams themselves the delay and Doppler the channel realised: every every_s it keeps
        `window` input samples, and once the output that carries them has passed, correlates the two around the
        expected delay (after taking off the expected Doppler): the correlation peak (interpolated) gives the
        delay in samples, the phase step between 16 successive segments of output x conj(input) the Doppler left
        over. `.results`: one dict per
        measurement (scenario time, expected and realised delay and Doppler, correlation coefficient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..budget.timeline import Timeline, compute_timeline
from ..errors import InputError
from ..scenario.model import Scenario, load_scenario
from .core import Channel
from .delay import LATENCY
from .from_budget import (
    channel_profile,
    fading_model,
    interference_specs,
    jammer_specs,
    phase_noise_model,
    satellite_amplifier,
)
from .parallel import default_threads


def emulation_scenario(s: Scenario, bandwidth_hz: float | None = None) -> Scenario:
    """The scenario with its carrier's symbol rate set from the external signal's occupied bandwidth."""
    if bandwidth_hz is None:
        return s
    if not (np.isfinite(bandwidth_hz) and bandwidth_hz > 0):
        raise InputError(f"--bandwidth-hz: must be > 0, got {bandwidth_hz}")
    return replace(s, carrier=replace(s.carrier, symbol_rate_baud=float(bandwidth_hz) / (1.0 + s.carrier.rolloff)))


class _Window:
    """Collects stream samples [lo, hi) from chunks that arrive in order."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.buf = np.zeros(hi - lo, dtype=np.complex64)
        self.got = 0

    def feed(self, n0: int, x: np.ndarray) -> bool:
        a, b = max(self.lo, n0), min(self.hi, n0 + x.size)
        if b > a:
            self.buf[a - self.lo : b - self.lo] = x[a - n0 : b - n0]
            self.got += b - a
        return self.got >= self.hi - self.lo


def measure_delay_doppler(x: np.ndarray, y: np.ndarray, lag0: int, fs: float, f_exp_hz: float,
                          n0: int) -> tuple[float, float, float]:
    """Delay (samples) and Doppler (Hz) that take input window x (samples n0.. of the input) to the output y,
    which holds output samples n0 + lag0 .. n0 + lag0 + len(x) + 2 S - 1 (S = search half-width, (len(y) -
    len(x)) / 2): (realised delay in samples, realised Doppler in Hz, correlation coefficient)."""
    w = x.size
    search = (y.size - w) // 2
    k = np.arange(y.size)
    # the expected Doppler off, on the output's own sample clock (absolute output index n0 + lag0 - search + k)
    start = n0 + lag0 - search
    yd = y * np.exp(-2j * np.pi * ((f_exp_hz / fs * (start + k)) % 1.0)).astype(np.complex64)
    c = np.array([np.vdot(x, yd[j : j + w]) for j in range(2 * search + 1)])
    mag = np.abs(c)
    i = int(np.argmax(mag))
    frac = 0.0
    if 0 < i < mag.size - 1:
        den = mag[i - 1] - 2 * mag[i] + mag[i + 1]
        frac = 0.5 * (mag[i - 1] - mag[i + 1]) / den if den < 0 else 0.0
    seg = yd[i : i + w]
    ex = float(np.vdot(x, x).real)
    ey = float(np.vdot(seg, seg).real)
    rho = float(mag[i] / np.sqrt(ex * ey)) if ex > 0 and ey > 0 else 0.0
    # Doppler left over: the phase step between successive segments of output x conj(input), from the sum of
    # their products (power-weighted, nothing to unwrap; unambiguous to fs / (2 w / 16)), refined below
    p = seg * np.conj(x)
    m = 16
    L = w // m
    s = p[: m * L].reshape(m, L).sum(axis=1)
    step = float(np.angle(np.sum(s[1:] * np.conj(s[:-1]))))  # rad per L samples
    # then the straight-line fit of the segment phases with that step taken off (nearly flat: nothing to unwrap)
    k = np.arange(m)
    ph = np.unwrap(np.angle(s * np.exp(-1j * step * k)))
    step += float(np.polyfit(k, ph, 1)[0])
    return lag0 - search + i + frac, f_exp_hz + step / L * fs / (2 * np.pi), rho


class RealisedProbe:
    """Delay and Doppler realised, measured on the input and output streams (see the module doc).

    expected(n) -> (delay in samples, Doppler in Hz, scenario time s) expected for input sample n."""

    SEARCH = 8

    def __init__(self, fs: float, expected: Callable[[int], tuple[float, float, float]], window: int = 1 << 16,
                 every_s: float = 1.0, first_s: float = 0.5) -> None:
        self.fs = float(fs)
        self.expected = expected
        self.window = int(window)
        self.every = max(int(round(every_s * fs)), self.window)
        self._next = int(round(first_s * fs))
        self._cap: tuple[_Window, float, float, float] | None = None  # input window and its expectations
        self._outs: list[tuple[_Window, np.ndarray, int, float, float, float, int]] = []
        self.results: list[dict[str, float]] = []

    def reset(self) -> None:
        """Drop the measurements under way (the delay jumped: a loop wrap)."""
        self._cap = None
        self._outs = []

    def feed(self, n0: int, x: np.ndarray, y: np.ndarray) -> None:
        """Input chunk x and output chunk y, both for samples n0 .. n0 + len - 1."""
        n1 = n0 + x.size
        if self._cap is None and self._next < n1:
            a = max(self._next, n0)
            d, f, t = self.expected(a)
            self._cap = (_Window(a, a + self.window), d, f, t)
            self._next = a + self.every
        if self._cap is not None:
            win, d, f, t = self._cap
            if win.feed(n0, x):
                self._cap = None
                lag0 = int(round(d))
                lo = win.lo + lag0 - self.SEARCH
                if lo >= 0:
                    out = _Window(lo, lo + self.window + 2 * self.SEARCH)
                    self._outs.append((out, win.buf, lag0, d, f, t, win.lo))
        keep = []
        for item in self._outs:
            out, xin, lag0, d, f, t, a = item
            if out.feed(n0, y):
                dr, fr, rho = measure_delay_doppler(xin, out.buf, lag0, self.fs, f, a)
                self.results.append({"time_s": t, "input_sample": a, "delay_samples_expected": d,
                                     "delay_samples_realised": dr, "doppler_hz_expected": f,
                                     "doppler_hz_realised": fr, "rho": rho})
            else:
                keep.append(item)
        self._outs = keep


class EmulatedChannel:
    """The scenario's channel on an external signal's sample clock (see the module doc)."""

    def __init__(self, tl: Timeline, sample_rate_hz: float, *, start_s: float = 0.0, span_s: float | None = None,
                 loop: bool = False, center_hz: float = 0.0, seed: int = 0, threads: int = 1,
                 input_power: float | None = None, probe_every_s: float | None = 1.0) -> None:
        s = tl.scenario
        fs = float(sample_rate_hz)
        if not (np.isfinite(fs) and fs > 0):
            raise InputError(f"--sample-rate: must be > 0, got {sample_rate_hz}")
        span = s.span_s(start_s, span_s)
        c = s.carrier
        if abs(center_hz) + c.occupied_bw_hz / 2 > fs / 2 * (1 + 1e-9):
            raise InputError(f"--center-hz/--bandwidth-hz: the signal ({center_hz:g} Hz +- {c.occupied_bw_hz / 2:g} Hz)"
                             f" does not fit in the sample rate {fs:g} Hz")
        self.scenario = s
        self.timeline = tl
        self.fs = fs
        self.start_s = float(start_s)
        self.span_s = float(span)
        self.loop = bool(loop)
        self.center_hz = float(center_hz)
        self.sps = fs / c.symbol_rate_baud
        t1 = self.start_s + self.span_s
        if s.uplink is not None and s.uplink.bent_pipe:
            raise InputError("uplink.bent_pipe: the emulator applies the downlink (with the satellite's amplifier), "
                             "not the uplink and transponder of a bent pipe; emulate with --set uplink.bent_pipe=false")
        # the satellite's amplifier ([satellite.amplifier]) before the downlink channel, made once the signal's
        # power is known (its drive refers to it); its filters' latency comes off the delay line with the line's own
        self.amplifier = None
        amp_probe, _ = satellite_amplifier(tl, self.start_s, t1, self.sps, 1.0)
        self._amp_latency = 0 if amp_probe is None else amp_probe.latency_samples  # type: ignore[attr-defined]
        self._has_amplifier = amp_probe is not None
        prof = channel_profile(tl, self.start_s, t1, absolute_delay_less_s=(LATENCY + self._amp_latency) / fs)
        self.channel = Channel(
            fs, self.sps, prof, input_power=1.0, fading=fading_model(s), phase_noise=phase_noise_model(s),
            jammers=jammer_specs(tl, fs, self.start_s, t1, center_hz=self.center_hz)
            + interference_specs(tl, fs, self.start_s, t1, center_hz=self.center_hz),
            seed=seed, t0_s=self.start_s, threads=threads,
            max_delay_s=float(np.max(prof.delay_s)) + 1e-3,
        )
        self.jammer_names = [j.name for j in s.jammers]
        self.ready = False
        self.input_power: float | None = None
        if input_power is not None:
            self.set_input_power(input_power)
        self._span_samples = self.span_s * fs
        self._wraps = 0
        self._next_wrap = int(round(self._span_samples)) if self.loop else None
        self.probe = None if probe_every_s is None else RealisedProbe(fs, self._expected, every_s=probe_every_s)
        self._probe_from = 0  # first sample the probe has not seen

    def set_input_power(self, p: float) -> None:
        """The signal's mean power: the amplifier's drive refers to it, and the channel's levels to what comes
        out of the amplifier (its nominal output power), or to it without one."""
        if self._has_amplifier:
            t1 = self.start_s + self.span_s
            self.amplifier, p_channel = satellite_amplifier(self.timeline, self.start_s, t1, self.sps, float(p),
                                                            threads=self.channel.threads)
        else:
            p_channel = float(p)
        self.channel.set_input_power(p_channel)
        self.input_power = float(p)
        self.ready = True

    @property
    def amplifier_info(self) -> dict[str, object] | None:
        """The satellite amplifier applied: model, input and output back-off (dB), latency (samples)."""
        a = self.amplifier
        if a is None:
            return None
        obo = -10.0 * np.log10(self.channel.input_power)  # the nominal output power, saturated = 1
        return {"model": a.model.name, "ibo_db": a.ibo_db, "obo_db": float(obo),  # type: ignore[attr-defined]
                "latency_samples": self._amp_latency}

    @property
    def n_processed(self) -> int:
        return self.channel.n_processed

    def scenario_time_s(self, n: int) -> float:
        """Scenario time of sample n (wrapped into the span with loop)."""
        t = n / self.fs
        if self.loop:
            k = int(n // self._span_samples)
            while self._wrap_at(k + 1) <= n:
                k += 1
            while k > 0 and self._wrap_at(k) > n:
                k -= 1
            t = (n - self._wrap_at(k)) / self.fs
        return self.start_s + t

    def _wrap_at(self, k: int) -> int:
        return int(round(k * self._span_samples))

    def applied(self, n: int) -> dict[str, object]:
        """What sample n gets: scenario time, gain, Doppler, delay (the whole one-way delay realised), Es/N0 and
        each jammer's J/S (the channel's values: in-band J/S plus the simulated-band share)."""
        t = self.scenario_time_s(n)
        a = self.channel.applied_at(t)
        a["delay_s"] = float(a["delay_s"]) + (LATENCY + self._amp_latency) / self.fs  # type: ignore[arg-type]
        return {"scenario_time_s": t, **a}

    def _expected(self, n: int) -> tuple[float, float, float]:
        a = self.applied(n)
        return float(a["delay_s"]) * self.fs, float(a["doppler_hz"]), float(a["scenario_time_s"])  # type: ignore[arg-type]

    def process(self, x: np.ndarray, out: np.ndarray) -> None:
        """Apply the channel to the next chunk (out: complex64 of the same length); wraps scenario time with loop."""
        if not self.ready:
            raise InputError("EmulatedChannel: the input power is not known yet (set_input_power)")
        n0 = self.channel.n_processed
        xin = x
        if self.amplifier is not None:
            x = self.amplifier.process(x)  # type: ignore[attr-defined]
        lo = 0
        while lo < x.size:
            hi = x.size
            if self._next_wrap is not None and n0 + hi > self._next_wrap:
                hi = self._next_wrap - n0
            if hi > lo:
                self.channel.process(x[lo:hi], out=out[lo:hi])
            if self._next_wrap is not None and n0 + hi == self._next_wrap:
                self._wraps += 1
                self.channel.t0_s = self.start_s - self._next_wrap / self.fs
                self._next_wrap = self._wrap_at(self._wraps + 1)
                if self.probe is not None:  # the delay jumps back: no measurement across the wrap
                    self.probe.feed(n0, xin[:hi], out[:hi])
                    self.probe.reset()
                    self._probe_from = n0 + hi
            lo = hi
        if self.probe is not None:
            a = max(self._probe_from - n0, 0)
            self.probe.feed(n0 + a, xin[a:], out[a:])

    @property
    def wraps(self) -> int:
        return self._wraps


def build_emulation(scenario: str, sample_rate_hz: float, *, start_s: float = 0.0, span_s: float | None = None,
                    loop: bool = False, center_hz: float = 0.0, bandwidth_hz: float | None = None,
                    input_power: float | None = None, seed: int | None = None, threads: int | None = None,
                    overrides: dict | None = None) -> EmulatedChannel:
    """The EmulatedChannel for a scenario file (see the module doc)."""
    s = emulation_scenario(load_scenario(scenario, overrides), bandwidth_hz)
    span = s.span_s(start_s, span_s)
    tl = compute_timeline(s, duration_s=max(start_s + span, s.meta.step_s))
    seed_v = int(s.propagation.seed if seed is None else seed)
    if seed_v < 0:
        raise InputError(f"--seed: must be a non-negative integer, got {seed_v}")
    if threads is not None and threads < 1:
        raise InputError(f"--threads: must be >= 1, got {threads}")
    if input_power is not None and not (np.isfinite(input_power) and input_power > 0):
        raise InputError(f"--input-power: must be > 0, got {input_power}")
    return EmulatedChannel(tl, sample_rate_hz, start_s=start_s, span_s=span, loop=loop, center_hz=center_hz,
                           seed=seed_v, threads=threads or default_threads(), input_power=input_power)
