"""The transponder in the budget: its operating point, output back-off, power robbing and intermodulation, from the
amplifier model of [satellite.amplifier] (linksim.budget.transponder) and the carrier's own signal.

- Operating point: the input back-off is satellite.amplifier.ibo_db (default 0 dB), or, with satellite.sfd_dbw_m2 and
  an [uplink], SFD less the uplink's flux density at the satellite, row by row. The output back-off is the model's
  for the carrier's signal at that drive (budget.distortion.operating_point), so the carrier's EIRP is the saturated
  EIRP less it; with `carriers` N > 1 sharing the amplifier, the input back-off is the total drive's and each carrier
  gets 1/N of the output.
- Power robbing in a bent pipe: the transponder amplifies the carrier, the uplink noise and any uplink jamming in its
  band (transponder_bw_hz) together. Without an amplifier model the transponder keeps its output power (a linear
  transponder at a fixed operating point, or automatic level control), so the carrier's share of the output is
  C / (C + N_u + J_u) in the transponder band. With an amplifier model the drive is fixed at the nominal operating
  point (carrier and uplink noise at the input back-off): uplink jamming adds drive, pushes the amplifier into
  compression and the carrier keeps |alpha_s|^2 C of the output, alpha_s its Bussgang gain in the composite (signal
  + Gaussian noise and jamming), computed on the reference signal for each jamming level.
- C/IM: N equal carriers (the carrier's MODCOD, spacing carrier_spacing_hz) driven together at the input back-off;
  the Bussgang distortion that falls in the centre carrier's matched filter over its useful power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..scenario import modcods
from ..scenario.model import AmplifierSection, Scenario
from . import transponder as tp
from . import waveform
from .distortion import OperatingPoint, operating_point

IBO_STEP_DB = 0.1  # operating points are computed on this grid of input back-off
ROBBING_GRID_DB = np.arange(-40.0, 30.01, 1.0)  # (noise + jamming) over carrier at the amplifier's input


def amplifier_model(a: AmplifierSection | None) -> tp.AmplifierModel | None:
    """The transfer model of a scenario amplifier section (None for none or "linear")."""
    if a is None or a.model == "linear":
        return None
    if a.model == "saleh":
        return tp.Saleh(a.alpha_a, a.beta_a, a.alpha_phi, a.beta_phi)
    if a.model == "rapp":
        return tp.Rapp(a.smoothness)
    return tp.TableAmplifier(tuple(r.pin_db for r in a.table), tuple(r.pout_db for r in a.table),
                             tuple(r.phase_deg for r in a.table))


def given_rings(s: Scenario) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The transmitted APSK rings the scenario gives ([satellite.amplifier] ring_ratios, ring_phase_deg), or None."""
    a = s.satellite.amplifier
    if a is None or a.ring_ratios is None:
        return None
    phases = a.ring_phase_deg or [0.0] * len(a.ring_ratios)
    return tuple(float(x) for x in a.ring_ratios), tuple(math.radians(float(x)) for x in phases)


def transponder_bw_hz(s: Scenario) -> float:
    """The transponder's band (its input filter in the bent pipe): given, or 1.25 x the carrier's occupied band."""
    return float(s.satellite.transponder_bw_hz or 1.25 * s.carrier.occupied_bw_hz)


def satellite_ibo_db(s: Scenario, uplink_flux_dbw_m2: np.ndarray | None, n: int) -> np.ndarray:
    """The satellite amplifier's input back-off per row."""
    sat = s.satellite
    if sat.sfd_dbw_m2 is not None and uplink_flux_dbw_m2 is not None:
        return sat.sfd_dbw_m2 - np.asarray(uplink_flux_dbw_m2, dtype=float)
    ibo = sat.amplifier.ibo_db if sat.amplifier is not None and sat.amplifier.ibo_db is not None else 0.0
    return np.full(n, float(ibo))


@dataclass
class AmplifierRows:
    """The amplifier's terms per row: output back-off, and the operating point each row uses."""

    obo_db: np.ndarray
    points: list[OperatingPoint]  # one per row (shared objects)


def _grid(ibo: float) -> float:
    return round(round(ibo / IBO_STEP_DB) * IBO_STEP_DB, 6)


def amplifier_rows(s: Scenario, ibo_db: np.ndarray, modcod: str | None = None) -> AmplifierRows | None:
    model = amplifier_model(s.satellite.amplifier)
    if model is None:
        return None
    c = s.carrier
    pre = bool(s.satellite.amplifier.predistortion) if s.satellite.amplifier is not None else False
    rings = given_rings(s) if (modcod or c.modcod) == c.modcod else None
    if modcods.get(modcod or c.modcod).vlsnr:
        # a DVB-S2X VL-SNR MODCOD (pi/2-BPSK or QPSK, an envelope that varies no more than QPSK's) is given QPSK
        # 1/4's operating point: its degradation is an upper bound for them
        modcod, rings = "QPSK 1/4", None
    cache: dict[float, OperatingPoint] = {}
    pts = []
    for v in np.nan_to_num(ibo_db, nan=0.0):
        key = _grid(float(v))
        if key not in cache:
            cache[key] = operating_point(model, modcod or c.modcod, key, c.rolloff, c.pilots, pre, rings)
        pts.append(cache[key])
    obo = np.array([p.obo_db for p in pts])
    return AmplifierRows(obo, pts)


def hpa_obo_db(s: Scenario) -> float:
    """The ground HPA's output back-off ([terminal.hpa] at its input back-off, for the carrier's signal); 0 without
    one. With an HPA, uplink.eirp_dbw is the saturated uplink EIRP."""
    hpa = s.terminal.hpa
    model = amplifier_model(hpa)
    if hpa is None or model is None:
        return 0.0
    c = s.carrier
    return operating_point(model, c.modcod, _grid(hpa.ibo_db or 0.0), c.rolloff, c.pilots).obo_db


@lru_cache(maxsize=32)
def _robbing_table(model: tp.AmplifierModel, modcod: str, ibo_db: float, rolloff: float,
                   nominal_noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For extra (noise + jamming) over carrier ratios ROBBING_GRID_DB at the amplifier input: (signal output power
    over the nominal total output power, |alpha_w / alpha_s|^2 for the noise and jamming, in-band distortion over the
    signal output, all linear). nominal_noise is the uplink noise over carrier at the nominal drive."""
    ref = waveform.reference(modcod)
    s_in = waveform.shape(ref.symbols, rolloff)
    rng = np.random.default_rng(7)
    w = waveform.shape(rng.standard_normal(ref.symbols.size) + 1j * rng.standard_normal(ref.symbols.size),
                       rolloff) / math.sqrt(2.0)
    p_s = float(np.mean(np.abs(s_in) ** 2))
    p_w = float(np.mean(np.abs(w) ** 2))
    p_nom = p_s * (1.0 + nominal_noise)
    y_nom = tp.operate(model, s_in + w * math.sqrt(nominal_noise * p_s / p_w), ibo_db, p_nom)
    p_out_nom = float(np.mean(np.abs(y_nom) ** 2))
    share, supp, dist = [], [], []
    for r_db in ROBBING_GRID_DB:
        wn = w * math.sqrt(10.0 ** (r_db / 10.0) * p_s / p_w)  # noise and jamming at r_db over the carrier
        y = tp.operate(model, s_in + wn, ibo_db, p_nom)  # fixed drive: the nominal input at the operating point
        a_s = complex(np.vdot(s_in, y) / np.vdot(s_in, s_in))
        a_w = complex(np.vdot(wn, y) / np.vdot(wn, wn))
        d = y - a_s * s_in - a_w * wn
        z_d = waveform.matched(d, rolloff)
        share.append(abs(a_s) ** 2 * p_s / p_out_nom)
        supp.append(abs(a_w) ** 2 / abs(a_s) ** 2)
        dist.append(float(np.mean(np.abs(z_d) ** 2)) / (abs(a_s) ** 2 * float(np.mean(np.abs(ref.symbols) ** 2))))
    return ROBBING_GRID_DB.copy(), np.array(share), np.array(supp), np.array(dist)


def amplifier_robbing(s: Scenario, ibo_db: float, extra_over_c: np.ndarray, nominal_noise: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(robbing dB (carrier output over nominal output), noise/jamming suppression factor, in-band distortion over
    carrier) per row, for (uplink noise + jamming) over carrier extra_over_c in the transponder band."""
    model = amplifier_model(s.satellite.amplifier)
    assert model is not None
    grid, share, supp, dist = _robbing_table(model, s.carrier.modcod, _grid(ibo_db), s.carrier.rolloff,
                                             round(float(nominal_noise), 6))
    r = 10.0 * np.log10(np.maximum(np.asarray(extra_over_c, dtype=float), 1e-30))
    r = np.clip(r, grid[0], grid[-1])
    return (10.0 * np.log10(np.interp(r, grid, share)), np.interp(r, grid, supp), np.interp(r, grid, dist))


@lru_cache(maxsize=32)
def multicarrier_point(model: tp.AmplifierModel, ibo_db: float, carriers: int, spacing_hz: float,
                       symbol_rate_baud: float, rolloff: float, modcod: str) -> tuple[float, float]:
    """(C/IM dB of the centre carrier, total output back-off dB) of `carriers` equal carriers spaced spacing_hz,
    driven together at ibo_db."""
    span = (carriers - 1) * spacing_hz + symbol_rate_baud * (1.0 + rolloff)
    sps = max(8, 2 * math.ceil(3.0 * span / symbol_rate_baud / 2.0))  # room for third-order products
    refs = [waveform.reference(modcod, n_frames=1, seed=11 + k) for k in range(carriers)]
    n = min(r.symbols.size for r in refs)
    t = np.arange(n * sps) / sps  # in symbols
    offsets = (np.arange(carriers) - (carriers - 1) / 2.0) * spacing_hz / symbol_rate_baud
    x = sum(waveform.shape(r.symbols[:n], rolloff, sps) * np.exp(2j * np.pi * f * t)
            for r, f in zip(refs, offsets, strict=True))
    y = tp.operate(model, x, ibo_db, float(np.mean(np.abs(x) ** 2)))
    b = tp.bussgang(x, y)
    d = y - b.alpha * x
    centre = int(np.argmin(np.abs(offsets)))
    z_d = waveform.matched(d * np.exp(-2j * np.pi * offsets[centre] * t), rolloff, sps)
    useful = abs(b.alpha) ** 2 * float(np.mean(np.abs(refs[centre].symbols[:n]) ** 2))
    return 10.0 * math.log10(useful / float(np.mean(np.abs(z_d) ** 2))), b.obo_db


__all__ = ["AmplifierRows", "amplifier_model", "amplifier_robbing", "amplifier_rows", "given_rings", "hpa_obo_db",
           "multicarrier_point", "satellite_ibo_db", "transponder_bw_hz"]
