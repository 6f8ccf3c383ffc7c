"""From C/(N+I+J) on the link to what the receiver measures and what decoding needs: the implementation losses.

The link's C/(N+I+J) (`cnij_link_db`: thermal noise, jamming and interference) is what the channel's noise and
jammer powers realise. The receiver then also loses to the scenario's amplifier, phase noise and fast fading
(budget.distortion, budget.impairments), each counted as noise-like power relative to the carrier:

  measured  1/Es/N0_m = F/C_link / g_p + 1/SDR_p + sigma^2_known          -> cnij_db (the report's prediction;
            averaged in dB over the per-frame sigma^2_known, as runs average the receiver's reports)
  decoding  1/Es/N0_d = F/C_link + x_m + sigma^2_data                     -> esn0_decode_db, margin, best MODCOD
with 1/C_link the link's 1/(C/(N+I+J)), F the fading's mean loss (linear), g_p and SDR_p the amplifier's pilot gain
and pilot distortion (what the Es/N0 estimator on the PLHEADER and pilots sees), sigma^2 the phase error the carrier
tracking leaves (over the known and over the data symbols) and x_m the amplifier's decoding degradation D_m of
MODCOD m as equivalent noise at its threshold T_m: x_m = 10^(-T_m/10) - 10^(-(T_m + D_m)/10). Without these
impairments both equal C/(N+I+J) of the link.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scenario import modcods
from ..scenario.model import Scenario
from . import impairments
from .distortion import OperatingPoint


@dataclass
class Prediction:
    cnij_db: np.ndarray
    esn0_decode_db: np.ndarray
    margin_db: np.ndarray
    best_modcod: np.ndarray
    best_eta: np.ndarray
    amp_loss_db: np.ndarray
    phase_noise_loss_db: np.ndarray
    fading_loss_db: np.ndarray
    notes: list[str]
    threshold_offsets_db: dict[str, float]


def _x_of(point: OperatingPoint | None, modcod: str) -> float:
    if point is None:
        return 0.0
    t = modcods.get(modcod).esn0_qef_db
    if not math.isfinite(point.degradation_db):
        return math.inf
    return 10.0 ** (-t / 10.0) - 10.0 ** (-(t + point.degradation_db) / 10.0)


def predict(s: Scenario, inv_link: np.ndarray, points: list[OperatingPoint] | None,
            other_points: dict[str, list[OperatingPoint]] | None = None, amp_in_link: bool = False) -> Prediction:
    """The receiver's measured and decoding Es/N0 per row from the link's 1/(C/(N+I+J)) inv_link.

    points: the amplifier's operating point per row for the carrier's MODCOD (None: no amplifier model);
    other_points: the same for other MODCODs, for the best MODCOD (computed by the caller for those that may close);
    amp_in_link: the amplifier's useful share and distortion are already in inv_link (a bent pipe through the
    amplifier), so only its decoding degradation is added here."""
    c, ch = s.carrier, s.channel
    n = inv_link.size
    notes: list[str] = []
    fade_db = impairments.fading_loss_db(ch.fading, ch.rician_k_db, impairments.scenario_fading_params(ch.fading))
    inv_f = inv_link * 10.0 ** (fade_db / 10.0)
    sig_d = 0.0
    spread = np.zeros(1)  # per-frame phase error over the known symbols (draws)
    if ch.phase_noise_dbc_hz is not None:
        args = (float(ch.phase_noise_dbc_hz), float(c.symbol_rate_baud), c.modcod, c.rolloff, c.pilots, c.frame,
                float(c.symbol_rate_baud * ch.sps))
        sig_d, _ = impairments.phase_error_variance(*args)
        spread = impairments.known_phase_error_spread(*args)
    if points is not None and not amp_in_link:
        g_p = np.array([10.0 ** (p.pilot_gain_db / 10.0) for p in points])
        d_p = np.array([10.0 ** (-p.pilot_sdr_db / 10.0) for p in points])
    else:
        g_p, d_p = np.ones(n), np.zeros(n)
    x_m = np.array([_x_of(p, c.modcod) for p in points]) if points is not None else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        amp_only = inv_f / g_p + d_p
        meas = impairments.measured_esn0_db(amp_only, spread) if spread.any() else -10.0 * np.log10(amp_only)
        dec = -10.0 * np.log10(inv_f + x_m + sig_d)
        base = -10.0 * np.log10(inv_f)
        amp_loss = base - (-10.0 * np.log10(amp_only))
        pn_loss = -10.0 * np.log10(amp_only) - meas
    mc = modcods.get(c.modcod)
    margin = dec - mc.esn0_qef_db
    vl = s.run.acm_vlsnr  # a terminal that takes VL-SNR frames closes with them below QPSK 1/4
    # best MODCOD: each one's decoding Es/N0 (its own amplifier degradation) against its threshold
    if points is None:  # the same loss for every MODCOD: the ladder on the decoding Es/N0
        names, etas = modcods.best_closing_arrays(dec, 0.0, c.pilots, vlsnr=vl)
    else:
        best_idx = np.full(n, -1)
        mods = sorted(modcods.all_modcods(vl), key=lambda m: m.efficiency(c.pilots))
        for k, m in enumerate(mods):
            if m.name == c.modcod:
                xm = x_m
            elif other_points and m.name in other_points:
                xm = np.array([_x_of(p, m.name) for p in other_points[m.name]])
            else:
                continue  # not characterised: it cannot close anywhere in the Timeline
            with np.errstate(divide="ignore", invalid="ignore"):
                eff = -10.0 * np.log10(inv_f + xm + sig_d)
            best_idx[np.nan_to_num(eff, nan=-np.inf) >= m.esn0_qef_db] = k
        names = np.array([""] + [m.name for m in mods], dtype=object)[best_idx + 1]
        etas = np.array([0.0] + [m.efficiency(c.pilots) for m in mods])[best_idx + 1]
    offsets = _threshold_offsets(s, points, other_points, sig_d, spread, amp_in_link)
    if fade_db:
        notes.append(f"fast fading ({ch.fading}) costs {fade_db:.2f} dB on average (budget.impairments)")
    if ch.phase_noise_dbc_hz is not None:
        notes.append(f"phase noise {ch.phase_noise_dbc_hz:g} dBc/Hz at 10 kHz leaves "
                     f"{math.degrees(math.sqrt(sig_d)):.1f} deg rms of phase error on the data after carrier tracking")
    return Prediction(meas, dec, margin, names, etas, np.nan_to_num(amp_loss), np.nan_to_num(pn_loss),
                      np.full(n, fade_db), notes, offsets)


def _threshold_offsets(s: Scenario, points: list[OperatingPoint] | None,
                       other_points: dict[str, list[OperatingPoint]] | None, sig_d: float, spread: np.ndarray,
                       amp_in_link: bool) -> dict[str, float]:
    """Per MODCOD: how far above its Table 13 threshold the receiver's Es/N0 estimate is when decoding is at its
    threshold (the losses the estimate does not see); +inf if it never closes. Empty without such losses."""
    if points is None and sig_d == 0.0:
        return {}
    out: dict[str, float] = {}
    for m in modcods.all_modcods(s.run.acm_vlsnr):
        if points is not None:
            pts = points if m.name == s.carrier.modcod else (other_points or {}).get(m.name)
            if pts is None:
                continue
            p = pts[0]
            x = _x_of(p, m.name)
            g_p, d_p = (1.0, 0.0) if amp_in_link else (10.0 ** (p.pilot_gain_db / 10.0),
                                                       10.0 ** (-p.pilot_sdr_db / 10.0))
        else:
            x, g_p, d_p = 0.0, 1.0, 0.0
        inv = 10.0 ** (-m.esn0_qef_db / 10.0) - x - sig_d  # the link noise at which decoding is at threshold
        if inv <= 0:
            out[m.name] = math.inf
            continue
        meas = impairments.measured_esn0_db(np.array([inv / g_p + d_p]), spread)[0] if spread.any() else \
            -10.0 * math.log10(inv / g_p + d_p)
        out[m.name] = float(meas) - m.esn0_qef_db
    return out


__all__ = ["Prediction", "predict"]
