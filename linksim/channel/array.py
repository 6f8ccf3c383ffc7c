"""The IQ channel at each element of a terminal array ([terminal.array]): one stream per element.

Every element sees the same carrier and the same jammer waveforms, each from its own direction, and its own
receiver noise. One `core.Channel` (the single-antenna channel of `from_budget`) makes the carrier (gain, Doppler,
delay, fading, phase noise), the noise of element 0 and each jammer's waveform at the terminal; element m gets

    y_m = a_s,m s + sum_k a_k,m j_k + n_m            then its chain's response: y_m * h_m (geometry.array errors)

with a_s the satellite's steering vector (all ones: the panel faces the satellite), a_k jammer k's, evaluated at
each chunk's start from the Timeline's directions, and n_m (m >= 1) from a noise-only `core.Channel` per element
with its own seed (same profile, so the same Es/N0 per element; independent, counter-based noise). Per element,
Es/N0 and J/S are the budget's: an array of N elements collects N times the carrier power of one.

The element chains' FIR filters (ERROR_KNOTS taps, geometry.array) delay every stream by ERROR_KNOTS / 2 samples;
`latency_samples` includes it. Sample-clocked and chunk-invariant like core.Channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..budget.nulling import ArrayGeometry, array_geometry
from ..budget.timeline import Timeline
from ..errors import InputError
from .core import Channel
from .from_budget import channel_from_timeline, channel_profile

ELEMENT_SEED = 7_777_777  # element m >= 1's noise: seed * ELEMENT_SEED + m (core.Channel derives its streams)


@dataclass(frozen=True)
class Directions:
    """The Timeline's directions over a stretch: the satellite's and each downlink jammer's azimuth and elevation
    (NaN rows for a jammer without a direction), by scenario time."""

    time_s: np.ndarray
    sat_az: np.ndarray
    sat_el: np.ndarray
    jam_az: list[np.ndarray]
    jam_el: list[np.ndarray]

    def at(self, t_s: float) -> tuple[float, float, list[tuple[float, float]]]:
        def f(col: np.ndarray) -> float:
            return float(np.interp(t_s, self.time_s, col))

        return f(self.sat_az), f(self.sat_el), [(f(a), f(e)) for a, e in zip(self.jam_az, self.jam_el, strict=True)]


def timeline_directions(tl: Timeline) -> Directions:
    jam_az, jam_el = [], []
    for js in tl.jammers:
        if js.target != "downlink" or js.azimuth_deg is None or js.elevation_deg is None:
            raise InputError(f"jammer {js.name}: a terminal array needs its direction (a position, or azimuth_deg "
                             "and elevation_deg with js_db); an uplink jammer comes with the carrier")
        jam_az.append(np.asarray(js.azimuth_deg, dtype=float))
        jam_el.append(np.asarray(js.elevation_deg, dtype=float))
    return Directions(np.asarray(tl.time_s, dtype=float), np.asarray(tl["azimuth_deg"], dtype=float),
                      np.asarray(tl["elevation_deg"], dtype=float), jam_az, jam_el)


@dataclass
class ArrayParts:
    """One chunk's components at each element, after the element chains: (N, n) each."""

    signal: np.ndarray
    noise: np.ndarray
    jammers: list[np.ndarray]


class ArrayChannel:
    """N element streams from one transmitted stream (see the module docstring). `process(x)` -> (N, len(x))."""

    def __init__(self, base: Channel, noise: list[Channel], geometry: ArrayGeometry, directions: Directions) -> None:
        n = geometry.elements
        if len(noise) != n - 1:
            raise InputError(f"an array of {n} elements needs {n - 1} noise channels, got {len(noise)}")
        self.base = base
        self.noise = noise
        self.geometry = geometry
        self.directions = directions
        self._taps = geometry.errors.taps  # (N, K)
        self._hist = np.zeros((n, self._taps.shape[1] - 1), dtype=np.complex64)
        self._part_hist: dict[str, np.ndarray] = {}  # process_parts: each component's own chain history
        self.last_steering: tuple[np.ndarray, list[np.ndarray]] | None = None

    @property
    def elements(self) -> int:
        return self.geometry.elements

    @property
    def sample_rate_hz(self) -> float:
        return self.base.sample_rate_hz

    @property
    def n_processed(self) -> int:
        return self.base.n_processed

    @property
    def latency_samples(self) -> int:
        return int(self.base.latency_samples + self.geometry.errors.delay_samples)

    def steering(self, t_s: float) -> tuple[np.ndarray, list[np.ndarray]]:
        """(a_s, [a_k]) at scenario time t_s."""
        saz, sel, jd = self.directions.at(t_s)
        a_s = self.geometry.steering(np.array(saz), np.array(sel), np.array(saz), np.array(sel)).reshape(-1)
        a_k = [self.geometry.steering(np.array(saz), np.array(sel), np.array(az), np.array(el)).reshape(-1)
               for az, el in jd]
        return a_s, a_k

    def process(self, x: np.ndarray) -> np.ndarray:
        """The element streams (N, len(x)) of the next chunk."""
        return self._run(x, False)[0]

    def process_parts(self, x: np.ndarray) -> tuple[np.ndarray, ArrayParts]:
        """Like process, and each component at each element after its chain: signal, noise and each jammer
        (their sum is the output, to float rounding). Use it for every chunk of a stream whose parts you need."""
        y, parts = self._run(x, True)
        assert parts is not None
        return y, parts

    def _run(self, x: np.ndarray, want_parts: bool) -> tuple[np.ndarray, ArrayParts | None]:
        t = self.base.time_s
        p = self.base.process_parts(x)
        a_s, a_k = self.steering(t)
        self.last_steering = (a_s, a_k)
        n = p.y.size
        sig = (a_s[:, None] * p.signal[None, :]).astype(np.complex64)
        jams = [(a[:, None] * j[None, :]).astype(np.complex64) for a, j in zip(a_k, p.jammers, strict=True)]
        noise = np.empty((self.elements, n), dtype=np.complex64)
        noise[0] = p.noise
        z = np.zeros(n, dtype=np.complex64)
        for m, ch in enumerate(self.noise, start=1):
            noise[m] = ch.process(z)
        y = sig + noise
        for j in jams:
            y += j
        out, self._hist = self._chains(y, self._hist)
        if not want_parts:
            return out, None
        comps = {"signal": sig, "noise": noise, **{f"j{i}": j for i, j in enumerate(jams)}}
        filt = {}
        for key, c in comps.items():  # each component through the chains with its own history
            filt[key], self._part_hist[key] = self._chains(c, self._part_hist.get(key, np.zeros_like(self._hist)))
        return out, ArrayParts(filt["signal"], filt["noise"], [filt[f"j{i}"] for i in range(len(jams))])

    def _chains(self, y: np.ndarray, hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each element's chain filter over y, `hist` holding the samples before it: (output, the new history)."""
        k = self._taps.shape[1]
        buf = np.concatenate([hist, y], axis=1)
        out = np.empty_like(y)
        for m in range(y.shape[0]):
            # FFT-free direct form over the real and imaginary parts (complex np.convolve is slow)
            t = self._taps[m]
            if np.count_nonzero(t) == 1:  # no errors: a pure delay
                d = int(np.flatnonzero(t)[0])
                out[m] = (t[d] * buf[m, k - 1 - d: buf.shape[1] - d]).astype(np.complex64)
                continue
            re, im = buf[m].real.astype(np.float64), buf[m].imag.astype(np.float64)
            tr, ti = t.real, t.imag
            cr = np.convolve(re, tr, mode="valid") - np.convolve(im, ti, mode="valid")
            ci = np.convolve(re, ti, mode="valid") + np.convolve(im, tr, mode="valid")
            out[m].real = cr
            out[m].imag = ci
        return out, buf[:, buf.shape[1] - (k - 1):]


def array_channel_from_timeline(tl: Timeline, t0_s: float, t1_s: float, sps: int, seed: int) -> ArrayChannel:
    """The element streams for scenario time [t0_s, t1_s] (sample 0 at t0_s) of a scenario with [terminal.array]."""
    s = tl.scenario
    cfg = s.terminal.array
    if cfg is None:
        raise InputError("the scenario has no [terminal.array]")
    base = channel_from_timeline(tl, t0_s, t1_s, sps, seed)
    fs = s.carrier.symbol_rate_baud * sps
    prof = channel_profile(tl, t0_s, t1_s)
    noise = [Channel(fs, sps, prof, seed=seed * ELEMENT_SEED + m, t0_s=t0_s) for m in range(1, cfg.elements)]
    return ArrayChannel(base, noise, array_geometry(cfg), timeline_directions(tl))
