"""Scheduled antenna events: wet feed window, wet reflector, snow on the reflector (extra loss and noise).

Each event is a lossy layer in front of (or on) the antenna. Over its schedule it adds a loss L (dB) and, being at
a physical temperature T_phys, a noise temperature T = T_phys (1 - 10^(-L/10)) (K) at the antenna output. The sky
noise behind the layer is attenuated by the same 10^(-L/10): a budget uses
``T_antenna' = T_antenna 10^(-L/10) + noise_temp_k``.

Physics (so one anchor value scales to any frequency):

- Water permittivity: the double-Debye model of ITU-R P.840 (eq. 6-10, valid to 1 THz).
- A water film on a feed window or radome: a lossy dielectric slab in free space at normal incidence
  (:func:`water_film_loss_db`, ``backing="none"``). A film on a reflector: a layer on a perfect conductor
  (``backing="metal"``); the wave crosses it twice.
- Snow on a reflector: a layer on metal with the permittivity of a wet-snow mixture (ice, liquid water and air by
  volume, Looyenga's cube-root mixing rule), so the loss depends on thickness, density and liquid-water fraction;
  dry snow is nearly transparent, wet snow is lossy.
- Anchors (reference notes of the project, measured values reported in the literature for Ka band): a wet feed
  window costs 4 dB at 20.2 GHz and a wet reflector plus feed 6.3 dB at 20.2 GHz in heavy rain. The film
  thickness that gives the anchor is solved for, then reused at the link frequency.
- Rain-driven films (``follow_rain=True``): the film thickness follows Gibble's laminar-flow law, proportional to
  R^(1/3) (rain rate R), scaled so the anchor holds at ``ref_rain_mm_h`` (25 mm/h, "heavy rain"; a project
  choice), and the film dries with time constant ``drying_s`` after the rain stops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from ..dbmath import C_M_S
from ..errors import InputError

__all__ = [
    "AntennaEvent",
    "AntennaEventSeries",
    "WET_FEED_LOSS_DB_20G",
    "WET_REFLECTOR_AND_FEED_LOSS_DB_20G",
    "water_permittivity",
    "water_film_loss_db",
    "snow_layer_loss_db",
    "film_thickness_for_loss_m",
    "steady_loss_db",
    "event_loss_db",
    "from_scenario",
    "antenna_event_series",
    "noise_temperature_k",
]

WET_FEED_LOSS_DB_20G = 4.0  # wet feed window, 20.2 GHz, heavy rain
WET_REFLECTOR_AND_FEED_LOSS_DB_20G = 6.3  # wet reflector and feed, 20.2 GHz, heavy rain
WET_RADOME_LOSS_DB_20G = 7.0  # wet radome: 6 to 8 dB reported at 20 GHz, the middle is used
ANCHOR_FREQ_HZ = 20.2e9
KINDS = ("wet_feed", "wet_reflector", "wet_radome", "snow", "loss")
SNOW_WET_LIQUID_FRACTION = 0.05  # "wet snow" of a scenario: 5 % liquid water by volume (project choice)
# scenario event types (linksim.scenario.model.AntennaEvent.type) -> kinds here
SCENARIO_TYPES = {"wet_antenna": "wet_reflector", "wet_radome": "wet_radome", "snow": "snow"}


def water_permittivity(freq_hz: ArrayLike, temp_k: float = 283.15) -> np.ndarray:
    """Complex relative permittivity eps' - j eps'' of liquid water, double-Debye model of ITU-R P.840."""
    f = np.asarray(freq_hz, dtype=float) / 1e9
    theta = 300.0 / temp_k
    e0 = 77.66 + 103.3 * (theta - 1.0)
    e1 = 0.0671 * e0
    e2 = 3.52
    fp = 20.20 - 146.0 * (theta - 1.0) + 316.0 * (theta - 1.0) ** 2
    fs = 39.8 * fp
    e_im = f * (e0 - e1) / (fp * (1.0 + (f / fp) ** 2)) + f * (e1 - e2) / (fs * (1.0 + (f / fs) ** 2))
    e_re = (e0 - e1) / (1.0 + (f / fp) ** 2) + (e1 - e2) / (1.0 + (f / fs) ** 2) + e2
    return e_re - 1j * e_im


def _layer_loss_db(freq_hz: np.ndarray, eps: np.ndarray, thickness_m: np.ndarray, backing: str) -> np.ndarray:
    """Loss (dB, >= 0) of a homogeneous layer at normal incidence: transmission through a free-standing slab
    (``backing="none"``) or reflection from the layer on a perfect conductor, relative to the bare conductor."""
    n = np.sqrt(eps)  # eps = e' - j e'': principal root has Im(n) < 0 (lossy for exp(+j w t - j k z))
    k0 = 2.0 * np.pi * freq_hz / C_M_S
    phi = k0 * n * thickness_m
    if backing == "none":
        r = (1.0 - n) / (1.0 + n)
        t = (1.0 - r * r) * np.exp(-1j * phi) / (1.0 - r * r * np.exp(-2j * phi))
        mag = np.abs(t)
    elif backing == "metal":
        z = 1j * np.tan(phi) / n  # normalised input impedance of the layer on a short
        gam = (z - 1.0) / (z + 1.0)
        mag = np.abs(gam)
    else:
        raise InputError(f"backing must be 'none' or 'metal', got {backing!r}")
    with np.errstate(divide="ignore"):
        return np.maximum(-20.0 * np.log10(mag), 0.0)


def water_film_loss_db(
    freq_hz: ArrayLike, thickness_m: ArrayLike, backing: str = "none", temp_k: float = 283.15
) -> np.ndarray:
    """Loss (dB) of a uniform liquid-water film of ``thickness_m`` at ``freq_hz`` (see module docstring)."""
    f = np.asarray(freq_hz, dtype=float)
    d = np.asarray(thickness_m, dtype=float)
    if np.any(d < 0):
        raise InputError("film thickness must be >= 0 m")
    return _layer_loss_db(f, water_permittivity(f, temp_k), d, backing)


def _snow_permittivity(freq_hz: np.ndarray, density_g_cm3: float, liquid_fraction: float) -> np.ndarray:
    """Wet snow: ice (3.17 - j 1e-3), liquid water (P.840 at 0 C) and air, Looyenga mixing by volume."""
    v_w = liquid_fraction
    v_i = (density_g_cm3 - v_w * 1.0) / 0.917  # ice volume fraction from the dry part of the density
    if v_i < 0.0 or v_i + v_w > 1.0:
        raise InputError(f"snow density {density_g_cm3} g/cm^3 and liquid fraction {liquid_fraction} are inconsistent")
    e_w = water_permittivity(freq_hz, 273.15)
    e_i = 3.17 - 1e-3j
    cube = v_i * e_i ** (1.0 / 3.0) + v_w * e_w ** (1.0 / 3.0) + (1.0 - v_i - v_w)
    return cube**3


def snow_layer_loss_db(
    freq_hz: ArrayLike, thickness_m: float, liquid_fraction: float = 0.0, density_g_cm3: float = 0.3
) -> np.ndarray:
    """Loss (dB) of a snow layer on a reflector: thickness (m), liquid water by volume (0-0.2), bulk density."""
    if thickness_m < 0 or not 0.0 <= liquid_fraction <= 0.2 or not 0.05 <= density_g_cm3 <= 0.917:
        raise InputError("snow: need thickness >= 0 m, liquid fraction 0-0.2, density 0.05-0.917 g/cm^3")
    f = np.asarray(freq_hz, dtype=float)
    return _layer_loss_db(f, _snow_permittivity(f, density_g_cm3, liquid_fraction), np.asarray(thickness_m), "metal")


def film_thickness_for_loss_m(
    loss_db: float, freq_hz: float = ANCHOR_FREQ_HZ, backing: str = "none", temp_k: float = 283.15
) -> float:
    """Water film thickness (m) that gives ``loss_db`` at ``freq_hz`` (the thinnest solution)."""
    if loss_db <= 0:
        return 0.0

    def f(d: float) -> float:
        return float(water_film_loss_db(freq_hz, d, backing, temp_k)) - loss_db

    hi = 1e-5
    while f(hi) < 0.0:
        hi *= 1.5
        if hi > 0.05:
            raise InputError(f"no water film gives {loss_db} dB at {freq_hz:g} Hz")
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-10))


@dataclass(frozen=True)
class AntennaEvent:
    """One scheduled event between ``start_s`` and ``end_s`` (same time base as the series).

    kind:
      - ``"wet_feed"``: water film on the feed window; ``loss_db`` at ``ref_freq_hz`` (default 4 dB at 20.2 GHz).
      - ``"wet_reflector"``: wet reflector AND feed; ``loss_db`` (default 6.3 dB at 20.2 GHz) is the total, the feed
        part being ``WET_FEED_LOSS_DB_20G`` scaled like the total.
      - ``"wet_radome"``: water film on a radome in front of the antenna (default 7 dB at 20.2 GHz).
      - ``"snow"``: snow layer on the reflector: ``snow_thickness_m``, ``snow_liquid_fraction``,
        ``snow_density_g_cm3``.
      - ``"loss"``: a frequency-independent extra loss ``loss_db`` (e.g. a measured value).
    ``ramp_s``: linear onset and decay of the loss (dB) at both ends. ``follow_rain`` (wet kinds only): the film is
    present only while the given rain rate is > 0 inside the window, thickness ~ R^(1/3) with the anchor at
    ``ref_rain_mm_h``, drying with time constant ``drying_s``. ``physical_temp_k``: temperature of the layer.
    """

    kind: str
    start_s: float
    end_s: float
    loss_db: float | None = None
    ref_freq_hz: float = ANCHOR_FREQ_HZ
    snow_thickness_m: float = 0.0
    snow_liquid_fraction: float = 0.0
    snow_density_g_cm3: float = 0.3
    physical_temp_k: float = 278.0
    ramp_s: float = 0.0
    follow_rain: bool = False
    ref_rain_mm_h: float = 25.0
    drying_s: float = 600.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"antenna event kind {self.kind!r} unknown (choose {', '.join(KINDS)})")
        if not self.end_s >= self.start_s:
            raise InputError(f"antenna event {self.kind}: end_s {self.end_s} before start_s {self.start_s}")
        if self.loss_db is not None and self.loss_db < 0:
            raise InputError(f"antenna event {self.kind}: loss_db must be >= 0")
        if self.ramp_s < 0 or self.drying_s <= 0 or self.ref_rain_mm_h <= 0 or self.physical_temp_k <= 0:
            raise InputError(f"antenna event {self.kind}: ramp_s >= 0, drying_s, ref_rain_mm_h, T > 0 required")
        if self.follow_rain and self.kind not in ("wet_feed", "wet_reflector", "wet_radome"):
            raise InputError("follow_rain applies to wet_feed, wet_reflector and wet_radome events only")


def _wet_parts(ev: AntennaEvent) -> list[tuple[float, str]]:
    """(film thickness at the anchor, backing) for the layers of a wet event."""
    if ev.kind in ("wet_feed", "wet_radome"):
        default = WET_FEED_LOSS_DB_20G if ev.kind == "wet_feed" else WET_RADOME_LOSS_DB_20G
        total = default if ev.loss_db is None else ev.loss_db
        return [(film_thickness_for_loss_m(total, ev.ref_freq_hz, "none"), "none")]
    total = WET_REFLECTOR_AND_FEED_LOSS_DB_20G if ev.loss_db is None else ev.loss_db
    feed = total * WET_FEED_LOSS_DB_20G / WET_REFLECTOR_AND_FEED_LOSS_DB_20G
    return [
        (film_thickness_for_loss_m(feed, ev.ref_freq_hz, "none"), "none"),
        (film_thickness_for_loss_m(total - feed, ev.ref_freq_hz, "metal"), "metal"),
    ]


def steady_loss_db(ev: AntennaEvent, freq_hz: float, film_scale: ArrayLike = 1.0) -> np.ndarray:
    """Full (steady) loss of the event at ``freq_hz``; ``film_scale`` multiplies the water-film thickness."""
    scale = np.asarray(film_scale, dtype=float)
    if ev.kind == "loss":
        return np.broadcast_to(np.float64(ev.loss_db or 0.0), scale.shape).copy()
    if ev.kind == "snow":
        val = float(snow_layer_loss_db(freq_hz, ev.snow_thickness_m, ev.snow_liquid_fraction, ev.snow_density_g_cm3))
        return np.broadcast_to(np.float64(val), scale.shape).copy()
    out = np.zeros(scale.shape)
    for d, backing in _wet_parts(ev):
        out = out + water_film_loss_db(freq_hz, d * scale, backing)
    return out


def noise_temperature_k(loss_db: ArrayLike, physical_temp_k: float) -> np.ndarray:
    """Noise temperature (K) added by a passive loss at physical temperature: T (1 - 10^(-L/10))."""
    return physical_temp_k * (1.0 - np.power(10.0, -np.asarray(loss_db, dtype=float) / 10.0))


@dataclass(frozen=True)
class AntennaEventSeries:
    """Per time step: extra loss (dB) and added noise temperature at the antenna output (K)."""

    t_s: np.ndarray
    loss_db: np.ndarray
    noise_temp_k: np.ndarray


def _envelope(t: np.ndarray, ev: AntennaEvent) -> np.ndarray:
    """0..1 schedule with linear ramps of ``ramp_s`` inside the window."""
    inside = (t >= ev.start_s) & (t <= ev.end_s)
    if ev.ramp_s <= 0.0:
        return inside.astype(float)
    up = np.clip((t - ev.start_s) / ev.ramp_s, 0.0, 1.0)
    down = np.clip((ev.end_s - t) / ev.ramp_s, 0.0, 1.0)
    return np.where(inside, np.minimum(up, down), 0.0)


def antenna_event_series(
    events: Sequence[Any],
    t_s: ArrayLike,
    freq_hz: float,
    rain_rate_mm_h: ArrayLike | None = None,
) -> AntennaEventSeries:
    """Loss and noise of ``events`` on the grid ``t_s`` at ``freq_hz``. Events overlap by cascading: losses add in
    dB, and each layer's noise is attenuated by the layers after it (in list order). ``rain_rate_mm_h`` (same
    length as ``t_s``, e.g. ``WeatherSeries.rain_rate_mm_h``) is needed by ``follow_rain`` events."""
    t = np.asarray(t_s, dtype=float)
    if t.ndim != 1:
        raise InputError("t_s must be 1-D")
    if not freq_hz > 0:
        raise InputError(f"freq_hz must be > 0, got {freq_hz}")
    total = np.zeros(t.size)
    noise = np.zeros(t.size)
    for ev in (e if isinstance(e, AntennaEvent) else from_scenario(e, freq_hz) for e in events):
        env = _envelope(t, ev)
        if ev.follow_rain:
            if rain_rate_mm_h is None:
                raise InputError(f"{ev.kind} event follows rain but no rain_rate_mm_h was given")
            r = np.asarray(rain_rate_mm_h, dtype=float)
            if r.shape != t.shape:
                raise InputError("rain_rate_mm_h must have the same length as t_s")
            target = np.cbrt(np.maximum(r, 0.0) / ev.ref_rain_mm_h)
            # drying: the film follows rain up instantly and decays with time constant drying_s (peak-hold filter)
            dt = float(t[1] - t[0]) if t.size > 1 else 1.0
            scale = _peak_hold_decay(target, math.exp(-dt / ev.drying_s))
            loss = steady_loss_db(ev, freq_hz, scale * env)
        else:
            loss = steady_loss_db(ev, freq_hz, np.ones(t.size)) * env
        g = np.power(10.0, -loss / 10.0)
        noise = noise * g + noise_temperature_k(loss, ev.physical_temp_k)
        total = total + loss
    return AntennaEventSeries(t_s=t, loss_db=total, noise_temp_k=noise)


def from_scenario(ev: Any, freq_hz: float) -> AntennaEvent:
    """An :class:`AntennaEvent` from a scenario event (``linksim.scenario.model.AntennaEvent``: ``type`` in
    ``SCENARIO_TYPES``, ``start_s``, ``duration_s``, ``loss_db`` at the carrier frequency or None for the model's
    value, ``ramp_s``, snow ``thickness_mm`` and ``wet``)."""
    kind = SCENARIO_TYPES.get(getattr(ev, "type", None))
    if kind is None:
        raise InputError(
            f"antenna event type {getattr(ev, 'type', None)!r} unknown (choose {', '.join(SCENARIO_TYPES)})"
        )
    start = float(ev.start_s)
    loss = getattr(ev, "loss_db", None)
    kw: dict[str, Any] = {}
    if loss is not None:
        kw["ref_freq_hz"] = float(freq_hz)  # a scenario's loss_db holds at the carrier frequency
        kind = "loss" if kind == "snow" else kind
    if kind == "snow":
        kw["snow_thickness_m"] = float(getattr(ev, "thickness_mm", 0.0)) / 1000.0
        kw["snow_liquid_fraction"] = SNOW_WET_LIQUID_FRACTION if getattr(ev, "wet", False) else 0.0
    return AntennaEvent(
        kind, start, start + float(ev.duration_s), loss_db=loss, ramp_s=float(getattr(ev, "ramp_s", 0.0)), **kw
    )


def event_loss_db(
    events: Sequence[Any], t_s: ArrayLike, freq_hz: float, rain_rate_mm_h: ArrayLike | None = None
) -> np.ndarray:
    """Total extra loss (dB) of ``events`` (:class:`AntennaEvent` or scenario events) on the grid ``t_s``.
    Shorthand for ``antenna_event_series(...).loss_db``; the noise follows from the loss and the layer temperature
    (``antenna_event_series(...).noise_temp_k``, or T_phys (1 - 10^(-L/10)) in a cascade)."""
    return antenna_event_series(events, t_s, freq_hz, rain_rate_mm_h).loss_db


def _peak_hold_decay(target: np.ndarray, k: float) -> np.ndarray:
    """y[i] = max(target[i], k y[i-1]) without a per-sample Python loop: y[s+j] = k^j max(c, max_{i<=j}
    target[s+i] k^-i) with c the value carried into the block; blocks are short enough that k^-j stays finite."""
    n = target.size
    out = np.empty(n)
    block = max(1, int(min(n, 200.0 / max(-math.log(k), 1e-300))))  # k^-block stays below e^200
    carry = 0.0
    for s in range(0, n, block):
        seg = target[s : s + block]
        j = np.arange(seg.size)
        kp = np.power(k, -j.astype(float))
        run = np.maximum.accumulate(np.maximum(seg * kp, 0.0))
        run = np.maximum(run, carry)
        seg_out = run * np.power(k, j.astype(float))
        out[s : s + block] = seg_out
        carry = seg_out[-1] * k
    return out
