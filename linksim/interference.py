"""Jammer power that lands in the victim's band: spectral overlap per jammer type and received J from geometry.

The budget's J/S for a jammer is its received in-band power over the victim's received carrier power, both at the
victim antenna's output. What fraction of the jammer's power falls in the victim's occupied band
[-B/2, +B/2] (B = symbol rate x (1 + roll-off)) depends on the jammer type:

- barrage, swept (time average over the sweep), follower, modulated: uniform over `bandwidth_hz` around `offset_hz`;
- partial_band: uniform over fraction x bandwidth_hz (the jammed part) around `offset_hz`;
- cw: 1 if the tone is inside the band, else 0;
- multitone: tones evenly spaced over `bandwidth_hz`; the in-band share is the share of tones in the band;
- pulsed: the average power is the peak EIRP x duty cycle; the spectral share is its base type's.
"""

from __future__ import annotations

import numpy as np

from .dbmath import lin_to_db


def band_overlap_fraction(center_hz: float, width_hz: float, victim_bw_hz: float) -> float:
    """Share of a flat spectrum [center - width/2, center + width/2] inside [-victim_bw/2, +victim_bw/2]."""
    half = victim_bw_hz / 2.0
    if width_hz <= 0.0:
        return 1.0 if -half <= center_hz <= half else 0.0
    lo = max(center_hz - width_hz / 2.0, -half)
    hi = min(center_hz + width_hz / 2.0, half)
    return max(hi - lo, 0.0) / width_hz


def inband_fraction(
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
) -> float:
    """Average share of the jammer's (peak) EIRP that falls in the victim's band, duty cycle included."""
    if jam_type == "pulsed":
        return duty_cycle * inband_fraction(
            base, victim_bw_hz, bandwidth_hz=bandwidth_hz, offset_hz=offset_hz, fraction=fraction,
            n_tones=n_tones, modulated_bw_hz=modulated_bw_hz,
        )
    if jam_type == "cw":
        return band_overlap_fraction(offset_hz, 0.0, victim_bw_hz)
    if jam_type == "multitone":
        if n_tones == 1 or bandwidth_hz <= 0.0:
            return band_overlap_fraction(offset_hz, 0.0, victim_bw_hz)
        tones = offset_hz + np.linspace(-bandwidth_hz / 2.0, bandwidth_hz / 2.0, n_tones)
        return float(np.mean(np.abs(tones) <= victim_bw_hz / 2.0))
    if jam_type == "partial_band":
        return band_overlap_fraction(offset_hz, bandwidth_hz * fraction, victim_bw_hz)
    if jam_type == "modulated":
        bw = modulated_bw_hz if modulated_bw_hz is not None else victim_bw_hz
        return band_overlap_fraction(offset_hz, bw, victim_bw_hz)
    if jam_type == "follower" and bandwidth_hz <= 0.0:
        return 1.0  # a follower centres itself on the victim
    return band_overlap_fraction(offset_hz, bandwidth_hz, victim_bw_hz)


def fraction_db(frac: float) -> float:
    """10 log10 of an in-band fraction; -inf when nothing lands in band."""
    return float(lin_to_db(frac)) if frac > 0.0 else -np.inf


def raised_cosine_weight(f_hz: np.ndarray, symbol_rate_baud: float, rolloff: float) -> np.ndarray:
    """|H(f)|^2 of the receiver's root-raised-cosine matched filter (a raised cosine, unit peak)."""
    x = np.abs(np.asarray(f_hz, dtype=float)) / symbol_rate_baud
    lo, hi = (1.0 - rolloff) / 2.0, (1.0 + rolloff) / 2.0
    w = np.where(x <= lo, 1.0, 0.0)
    mid = (x > lo) & (x < hi)
    return np.where(mid, 0.5 * (1.0 + np.cos(np.pi / rolloff * (x - lo))), w)


def matched_filter_fraction(
    jam_type: str,
    symbol_rate_baud: float,
    rolloff: float,
    *,
    bandwidth_hz: float = 0.0,
    offset_hz: float = 0.0,
    fraction: float = 1.0,
    n_tones: int = 1,
    duty_cycle: float = 1.0,
    base: str = "barrage",
    modulated_bw_hz: float | None = None,
) -> float:
    """Share of the jammer's (peak) power that gets through the victim's matched filter, expressed as an
    equivalent noise power in the symbol-rate bandwidth: sum over the jammer spectrum of |H(f)|^2.

    This is what C/(N+I+J) needs: a barrage over the occupied band B = Rs (1 + a) passes Rs / B of its power (as
    noise of density J/B would), while a tone in the flat part of the band passes all of it."""
    if jam_type == "pulsed":
        return duty_cycle * matched_filter_fraction(
            base, symbol_rate_baud, rolloff, bandwidth_hz=bandwidth_hz, offset_hz=offset_hz, fraction=fraction,
            n_tones=n_tones, modulated_bw_hz=modulated_bw_hz,
        )
    if jam_type == "cw" or (jam_type == "multitone" and (n_tones == 1 or bandwidth_hz <= 0.0)):
        return float(raised_cosine_weight(np.array([offset_hz]), symbol_rate_baud, rolloff)[0])
    if jam_type == "multitone":
        tones = offset_hz + np.linspace(-bandwidth_hz / 2.0, bandwidth_hz / 2.0, n_tones)
        return float(np.mean(raised_cosine_weight(tones, symbol_rate_baud, rolloff)))
    width = bandwidth_hz
    if jam_type == "partial_band":
        width = bandwidth_hz * fraction
    elif jam_type == "modulated":
        width = modulated_bw_hz if modulated_bw_hz is not None else symbol_rate_baud * (1.0 + rolloff)
    elif jam_type == "follower" and bandwidth_hz <= 0.0:
        width = symbol_rate_baud * (1.0 + rolloff)
    if width <= 0.0:
        return float(raised_cosine_weight(np.array([offset_hz]), symbol_rate_baud, rolloff)[0])
    f = offset_hz + np.linspace(-width / 2.0, width / 2.0, 4001)
    return float(np.trapz(raised_cosine_weight(f, symbol_rate_baud, rolloff), f) / width)
