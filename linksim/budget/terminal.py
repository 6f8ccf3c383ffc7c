"""The terminal's receive side in the budget: peak gain, sky and system noise temperature, G/T, and the losses that
fall on the carrier alone.

Three ways to give a terminal (scenario [terminal]):
- modelled (the default): gain from antenna_diameter_m and antenna_efficiency (or gain_dbi); the system noise
  temperature from the sky (P.618 section 3), ground spill, a dry radome (radome_loss_db at physical_temp_k), antenna
  events, the feed and the LNA:
      T_sys = (((T_sky + T_ground) / L_rad + T_p (1 - 1/L_rad)) / L_ev + T_p (1 - 1/L_ev)) / L_feed
              + T_p (1 - 1/L_feed) + T_LNA
      G/T   = G - L_rad - L_ev - L_feed - 10 log10 T_sys
- by gain and system noise temperature as a published budget gives them (gain_dbi, system_noise_temp_k):
  G/T = G - 10 log10 T_sys, no noise model;
- by G/T as published (g_over_t_dbk), no noise model.
In the last two, feed_loss_db and radome_loss_db are losses on the carrier (rows of their own, as a published budget
that quotes G/T lists them). polarization_loss_db is always a loss on the carrier only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dbmath import db_to_lin, lin_to_db
from ..geometry import antenna
from ..scenario.model import Scenario

T_MR_K = 275.0  # mean radiating temperature of the atmosphere (P.618 section 3)
T_COSMIC_K = 2.7


@dataclass
class ReceiveSide:
    g_peak_dbi: float
    sky_temp_k: np.ndarray
    system_temp_k: np.ndarray
    gt_dbk: np.ndarray
    carrier_loss_db: float  # losses on the carrier only (polarisation; feed and radome for a published terminal)
    published: bool


def peak_gain_dbi(s: Scenario) -> float:
    t = s.terminal
    if t.gain_dbi is not None:
        return float(t.gain_dbi)
    assert t.antenna_diameter_m is not None
    return float(antenna.peak_gain_dbi(t.antenna_diameter_m, t.antenna_efficiency, s.carrier.freq_hz))


def sky_temp_k(absorption_db: np.ndarray) -> np.ndarray:
    """T_sky = T_mr (1 - 10^(-A/10)) + 2.7 x 10^(-A/10) for an absorptive loss A (dB)."""
    return T_MR_K * (1.0 - db_to_lin(-absorption_db)) + T_COSMIC_K * db_to_lin(-absorption_db)


def receive_side(s: Scenario, absorption_db: np.ndarray, events_db: np.ndarray) -> ReceiveSide:
    term = s.terminal
    g_peak = peak_gain_dbi(s)
    t_sky = sky_temp_k(absorption_db)
    n = np.shape(absorption_db)
    if term.g_over_t_dbk is not None or term.system_noise_temp_k is not None:
        if term.g_over_t_dbk is not None:
            gt = np.full(n, float(term.g_over_t_dbk))
        else:
            gt = np.full(n, g_peak - float(lin_to_db(term.system_noise_temp_k)))
        t_sys = db_to_lin(g_peak - gt)
        loss = term.polarization_loss_db + term.feed_loss_db + term.radome_loss_db
        return ReceiveSide(g_peak, t_sky, t_sys, gt - events_db, loss, True)
    t_p = term.physical_temp_k
    l_rad = db_to_lin(term.radome_loss_db)
    t_ant = (t_sky + term.ground_spill_temp_k) / l_rad + t_p * (1.0 - 1.0 / l_rad)
    l_ev = db_to_lin(events_db)
    l_feed = db_to_lin(term.feed_loss_db)
    t_after_ev = t_ant / l_ev + t_p * (1.0 - 1.0 / l_ev)
    t_sys = t_after_ev / l_feed + t_p * (1.0 - 1.0 / l_feed) + term.lna_temp_k
    gt = g_peak - term.radome_loss_db - term.feed_loss_db - events_db - lin_to_db(t_sys)
    return ReceiveSide(g_peak, t_sky, t_sys, gt, term.polarization_loss_db, False)


__all__ = ["ReceiveSide", "peak_gain_dbi", "receive_side", "sky_temp_k"]
