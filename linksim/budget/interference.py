"""Jammer power that reaches the victim: its spectrum per jammer type, weighed two ways.

A jammer's spectrum is described once (`jammer_spectrum`): spectral lines for tones, or a flat band. Two shares
of its (peak) power follow, both including a pulsed jammer's duty cycle:

- `inband_fraction`: the share inside the victim's occupied band [-B/2, +B/2], B = symbol rate x (1 + roll-off).
  The budget's J/S is this in-band power over the carrier power.
- `matched_filter_fraction`: the share that passes the victim's root-raised-cosine matched filter, counted as an
  equivalent noise power in the symbol-rate bandwidth (the sum of |H(f)|^2 over the spectrum, H unit peak). This is
  what C/(N+I+J) needs: a barrage over the occupied band passes Rs/B of its power, as noise of density J/B would; a
  tone in the flat part of the band passes all of it.

Spectra by type: barrage, swept (time average over the sweep), follower and modulated are flat over their
bandwidth around `offset_hz` (a follower with no bandwidth, and a modulated carrier, take the victim's occupied
bandwidth or their own symbol rate x (1 + roll-off)); partial_band is flat over fraction x bandwidth_hz; cw is a line
at `offset_hz`; multitone is n equal lines spread evenly over `bandwidth_hz`; pulsed is its base type's spectrum.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..dbmath import lin_to_db

FLAT_POINTS = 4001  # samples of a flat band (the shares are exact to about 1/FLAT_POINTS)
SIM_BANDWIDTH_SHARE = 0.9  # a simulated jammer band is clipped to this share of the sample rate


def simulated_band(jam_type: str, bandwidth_hz: float, offset_hz: float, sample_rate_hz: float,
                   base: str = "barrage") -> tuple[float, float]:
    """(bandwidth, offset) of a jammer as an IQ channel at this sample rate simulates it: bands are clipped to
    SIM_BANDWIDTH_SHARE of the sample rate, except that centred noise wider than the sample rate is white over it
    (no filter needed); offsets are clipped to +-fs/2."""
    fmax = SIM_BANDWIDTH_SHARE * sample_rate_hz
    bw = min(bandwidth_hz, fmax)
    noise_like = jam_type in ("barrage", "follower") or (jam_type == "pulsed" and base in ("barrage", "follower"))
    if noise_like and bandwidth_hz >= sample_rate_hz and abs(offset_hz) < 1.0:
        bw = sample_rate_hz
    return bw, float(np.clip(offset_hz, -sample_rate_hz / 2, sample_rate_hz / 2))


def jammer_spectrum(
    jam_type: str,
    victim_bw_hz: float,
    *,
    bandwidth_hz: float = 0.0,
    offset_hz: float = 0.0,
    fraction: float = 1.0,
    n_tones: int = 1,
    duty_cycle: float = 1.0,
    base: str = "barrage",
    modulated_bw_hz: float | None = None,
) -> tuple[np.ndarray, float]:
    """(frequencies of equal-power spectral samples, average power factor) of a jammer relative to the victim's
    carrier: lines for tones, FLAT_POINTS samples across a flat band. The factor is the duty cycle (1 unless
    pulsed)."""
    if jam_type == "pulsed":
        f, _ = jammer_spectrum(base, victim_bw_hz, bandwidth_hz=bandwidth_hz, offset_hz=offset_hz,
                               fraction=fraction, n_tones=n_tones, modulated_bw_hz=modulated_bw_hz)
        return f, duty_cycle
    if jam_type == "cw" or (jam_type == "multitone" and (n_tones == 1 or bandwidth_hz <= 0.0)):
        return np.array([offset_hz]), 1.0
    if jam_type == "multitone":
        return offset_hz + np.linspace(-bandwidth_hz / 2.0, bandwidth_hz / 2.0, n_tones), 1.0
    width = bandwidth_hz
    if jam_type == "partial_band":
        width = bandwidth_hz * fraction
    elif jam_type == "modulated":
        width = modulated_bw_hz if modulated_bw_hz is not None else victim_bw_hz
    elif jam_type == "follower" and bandwidth_hz <= 0.0:
        width = victim_bw_hz  # a follower centres itself on the victim
    if width <= 0.0:
        return np.array([offset_hz]), 1.0
    # midpoints of FLAT_POINTS equal slices: the mean of a weight over them is its average over the band
    edges = np.linspace(-width / 2.0, width / 2.0, FLAT_POINTS + 1)
    return offset_hz + 0.5 * (edges[1:] + edges[:-1]), 1.0


def _share(weight: Callable[[np.ndarray], np.ndarray], jam_type: str, victim_bw_hz: float, **kw: object) -> float:
    f, factor = jammer_spectrum(jam_type, victim_bw_hz, **kw)  # type: ignore[arg-type]
    return float(factor * np.mean(weight(f)))


def inband_fraction(jam_type: str, victim_bw_hz: float, **kw: object) -> float:
    """Average share of the jammer's (peak) EIRP inside the victim's occupied band, duty cycle included."""
    return _share(lambda f: (np.abs(f) <= victim_bw_hz / 2.0).astype(float), jam_type, victim_bw_hz, **kw)


def raised_cosine_weight(f_hz: np.ndarray, symbol_rate_baud: float, rolloff: float) -> np.ndarray:
    """|H(f)|^2 of the receiver's root-raised-cosine matched filter (a raised cosine, unit peak)."""
    x = np.abs(np.asarray(f_hz, dtype=float)) / symbol_rate_baud
    lo, hi = (1.0 - rolloff) / 2.0, (1.0 + rolloff) / 2.0
    w = np.where(x <= lo, 1.0, 0.0)
    mid = (x > lo) & (x < hi)
    return np.where(mid, 0.5 * (1.0 + np.cos(np.pi / rolloff * (x - lo))), w)


def matched_filter_fraction(jam_type: str, symbol_rate_baud: float, rolloff: float, **kw: object) -> float:
    """Share of the jammer's (peak) power through the victim's matched filter as noise-equivalent power in the
    symbol-rate bandwidth, duty cycle included."""
    return _share(lambda f: raised_cosine_weight(f, symbol_rate_baud, rolloff), jam_type,
                  symbol_rate_baud * (1.0 + rolloff), **kw)


def fraction_db(frac: float) -> float:
    """10 log10 of a power share; -inf when nothing gets through."""
    return float(lin_to_db(frac)) if frac > 0.0 else -np.inf
