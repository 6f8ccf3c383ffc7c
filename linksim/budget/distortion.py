"""What an amplifier costs a DVB-S2 carrier, computed from its transfer curves and the carrier's own signal.

`operating_point(model, modcod, ibo_db)` drives the MODCOD's reference stretch (budget.waveform: its constellation,
pilots and headers, RRC-shaped at 8 samples per symbol) through the amplifier at input back-off ibo_db and returns:
- obo_db: output back-off (saturated CW output over the signal's total mean output power): the EIRP the carrier
  gets is the saturated EIRP less this;
- useful_db, sdr_db: the Bussgang decomposition of the data symbols at the matched filter's output: the useful
  signal's power over the total output power, and the useful over the in-band distortion power;
- pilot_gain_db, pilot_sdr_db: what the receiver's Es/N0 estimator sees. It measures the carrier on the PLHEADER and
  pilot symbols (unit modulus, compressed as the average), so it reports
      1/Es/N0_meas = (1/Es/N0) / g_p + 1/SDR_p
  with Es/N0 referred to the total output power, g_p the pilots' power gain and SDR_p their distortion;
- degradation_db: how much more Es/N0 (referred to the total output power) the MODCOD needs than in a linear channel
  (infinite when it never closes). The receiver demaps each bit against the standard's constellation scaled by the
  pilots' gain, so ring compression, AM/PM and in-band distortion all count. The degradation is where the bit-wise
  generalised mutual information of that receiver on the distorted symbols plus noise reaches the value the linear
  channel has at the MODCOD's Table 13 threshold; the LLRs are the receiver's (max-log, scaled by the noise variance
  it measures on the pilots, which the corrected min-sum LDPC decoder takes as true), so over-confident LLRs on
  distorted data cost what they cost the decoder. Checked against the DVB-S2 receiver's measured FER in
  benchmarks/amplifier_fer.py (docs/satellite.md).

A pre-distorting transmitter (`predistortion=True`) moves each APSK ring's radius and phase so that after the
curves the rings sit at the standard's ratios with a common phase (`ring_predistortion`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from ..scenario import modcods
from . import transponder as tp
from . import waveform

GMI_SYMBOLS = 20000  # data symbols in each mutual-information estimate (one fixed noise realisation: smooth in Es/N0)
SEARCH_DB = 15.0  # a MODCOD that needs more than this above its threshold is counted as never closing


@dataclass(frozen=True)
class OperatingPoint:
    modcod: str
    ibo_db: float
    obo_db: float
    useful_db: float
    sdr_db: float
    pilot_gain_db: float
    pilot_sdr_db: float
    degradation_db: float
    ring_ratios: tuple[float, ...]
    ring_phase_rad: tuple[float, ...]

    def measured_esn0_db(self, esn0_db: np.ndarray | float) -> np.ndarray:
        """The Es/N0 the receiver's estimator reports for a carrier whose Es/N0 (referred to the amplifier's total
        output power) is esn0_db."""
        e = np.asarray(esn0_db, dtype=float)
        inv = 10.0 ** (-e / 10.0) / 10.0 ** (self.pilot_gain_db / 10.0) + 10.0 ** (-self.pilot_sdr_db / 10.0)
        return -10.0 * np.log10(inv)

    @property
    def threshold_offset_db(self) -> float:
        """How far above its Table 13 threshold the receiver's Es/N0 estimate must be for the MODCOD to decode:
        the estimate at (threshold + degradation) less the threshold."""
        t = modcods.get(self.modcod).esn0_qef_db
        if not math.isfinite(self.degradation_db):
            return math.inf
        return float(self.measured_esn0_db(t + self.degradation_db)) - t


def _bit_table(constellation: str) -> np.ndarray:
    labels = modcods.CONSTELLATION_LABELS[constellation]
    m = int(len(labels)).bit_length() - 1
    lab = np.arange(len(labels))
    return ((lab[:, None] >> (m - 1 - np.arange(m))[None, :]) & 1).astype(bool)


def _signed_llrs(z: np.ndarray, label: np.ndarray, points: np.ndarray, bits: np.ndarray, n0: float, extra: float,
                 noise: np.ndarray) -> np.ndarray:
    """Max-log LLRs times the sign of the sent bit (positive: right), all bits of all symbols."""
    y = z + noise * math.sqrt(n0 / 2.0)
    d = -(np.abs(y[:, None] - points[None, :]) ** 2) / (n0 + extra)
    out = np.empty((z.size, bits.shape[1]))
    for j in range(bits.shape[1]):
        b1 = bits[:, j]
        llr = d[:, ~b1].max(axis=1) - d[:, b1].max(axis=1)  # log P(b=0) / P(b=1)
        out[:, j] = np.where(bits[label, j], -llr, llr)
    return out


def _gmi(signed: np.ndarray) -> float:
    """Bit-wise GMI (bits per symbol) of signed LLRs taken at face value."""
    return signed.shape[1] * (1.0 - float(np.mean(np.logaddexp(0.0, -signed))) / math.log(2.0))


def _noise(n: int) -> np.ndarray:
    rng = np.random.default_rng(20240601)
    return rng.standard_normal(n) + 1j * rng.standard_normal(n)


@lru_cache(maxsize=64)
def _linear_gmi_at_threshold(modcod: str, pilots: bool) -> float:
    ref = waveform.reference(modcod, pilots=pilots)
    data = ~ref.known
    z, lab = ref.symbols[data][:GMI_SYMBOLS], ref.label[data][:GMI_SYMBOLS]
    bits = _bit_table(modcods.get(modcod).constellation)
    n0 = 10.0 ** (-modcods.get(modcod).esn0_qef_db / 10.0)
    return _gmi(_signed_llrs(z, lab, ref.points, bits, n0, 0.0, _noise(z.size)))


def ring_predistortion(model: tp.AmplifierModel, modcod: str, ibo_db: float, rolloff: float = 0.2,
                       pilots: bool = True) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Transmit ring ratios (to the inner ring) and ring phase offsets (rad) that put the rings back at the
    standard's ratios and a common phase after the amplifier (static ring predistortion): iterating, each inner
    ring's radius is scaled until the ratio of the rings' mean output radii (at the matched filter) is the
    standard's, and its phase turned by the residual difference of the rings' AM/PM; the transmitter keeps unit
    average energy. PSK constellations are returned unchanged."""
    m = modcods.get(modcod)
    target = modcods.ring_ratios(m.constellation, str(m.rate))
    if len(target) == 1:
        return target, (0.0,)
    ratios = list(target)
    phases = [0.0] * len(target)
    ring_of = np.array([r for _, (r, _) in sorted(modcods.CONSTELLATION_LABELS[m.constellation].items())])
    std = waveform.reference(modcod, pilots=pilots).points
    for _ in range(6):  # fixed-point iteration: the rings interact through the RRC filter
        ref = waveform.reference(modcod, pilots=pilots, ring_ratios=tuple(ratios), ring_phase_rad=tuple(phases))
        z = _received(model, ref, ibo_db, rolloff)
        data = ~ref.known
        rings = ring_of[ref.label[data]]
        pts = std[ref.label[data]]
        w = z[data] / pts * np.abs(pts)  # each ring's output, turned back by its point's standard phase
        mean = [np.mean(w[rings == k]) for k in range(len(target))]
        outer = len(target) - 1
        for k in range(outer):
            want = abs(mean[outer]) * target[k] / target[outer]
            ratios[k] *= want / abs(mean[k])
            phases[k] -= float(np.angle(mean[k] / mean[outer]))
        scale = ratios[0]
        ratios = [r / scale for r in ratios]
    return tuple(ratios), tuple(phases)


def _received(model: tp.AmplifierModel | None, ref: waveform.Reference, ibo_db: float, rolloff: float) -> np.ndarray:
    """Matched-filter symbols of the reference through the amplifier, total output power normalised to 1."""
    x = waveform.shape(ref.symbols, rolloff)
    y = x if model is None else tp.operate(model, x, ibo_db, float(np.mean(np.abs(x) ** 2)))
    y = y / math.sqrt(float(np.mean(np.abs(y) ** 2)))
    return waveform.matched(y, rolloff)


@lru_cache(maxsize=256)
def operating_point(model: tp.AmplifierModel, modcod: str, ibo_db: float, rolloff: float = 0.2, pilots: bool = True,
                    predistortion: bool = False,
                    rings: tuple[tuple[float, ...], tuple[float, ...]] | None = None) -> OperatingPoint:
    """The carrier's operating point and what it costs (see the module docstring); `rings` (ratios, phases in rad)
    are transmitted rings a user gives instead of the standard's or the computed predistortion."""
    m = modcods.get(modcod)
    if rings is not None:
        ratios, phases = rings
        predistortion = True  # transmitted rings other than the standard's
    elif predistortion:
        ratios, phases = ring_predistortion(model, modcod, ibo_db, rolloff, pilots)
    else:
        ratios, phases = modcods.ring_ratios(m.constellation, str(m.rate)), (0.0,) * len(modcods.ring_ratios(
            m.constellation, str(m.rate)))
    ref = waveform.reference(modcod, pilots=pilots, ring_ratios=ratios if predistortion else None,
                             ring_phase_rad=phases if predistortion else None)
    std = waveform.reference(modcod, pilots=pilots)  # the receiver demaps against the standard's points
    x = waveform.shape(ref.symbols, rolloff)
    y = tp.operate(model, x, ibo_db, float(np.mean(np.abs(x) ** 2)))
    p_out = float(np.mean(np.abs(y) ** 2))
    z = waveform.matched(y / math.sqrt(p_out), rolloff)
    known, data = ref.known, ~ref.known
    a = complex(np.vdot(ref.symbols[known], z[known]) / np.vdot(ref.symbols[known], ref.symbols[known]))
    zp = z / a
    ev_p = float(np.mean(np.abs(zp[known] - ref.symbols[known]) ** 2))
    sym_std = std.points[ref.label[data]]
    bg = tp.bussgang(sym_std, z[data])
    bits = _bit_table(m.constellation)
    zd, lab = zp[data][:GMI_SYMBOLS], ref.label[data][:GMI_SYMBOLS]
    noise = _noise(zd.size)
    i0 = _linear_gmi_at_threshold(modcod, pilots)
    g_p = abs(a) ** 2
    t = m.esn0_qef_db

    def excess(d_db: float) -> float:
        n0 = 10.0 ** (-(t + d_db) / 10.0) / g_p  # noise on zp: N0 of the total output power over the pilots' gain
        return _gmi(_signed_llrs(zd, lab, std.points, bits, n0, ev_p, noise)) - i0

    if excess(SEARCH_DB) < 0:
        deg = math.inf
    elif excess(-3.0) >= 0:
        deg = -3.0
    else:
        deg = float(brentq(excess, -3.0, SEARCH_DB, xtol=0.01))
    useful_db = 10.0 * math.log10(abs(bg.alpha) ** 2 * float(np.mean(np.abs(sym_std) ** 2)))
    return OperatingPoint(modcod, float(ibo_db), -10.0 * math.log10(p_out), useful_db, bg.sdr_db,
                          10.0 * math.log10(g_p), -10.0 * math.log10(ev_p), deg, tuple(ratios), tuple(phases))


__all__ = ["OperatingPoint", "operating_point", "ring_predistortion"]
