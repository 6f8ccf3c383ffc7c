"""Implementation losses in the budget: what the channel's phase noise and fast fading cost the receiver's Es/N0.

Phase noise. The scenario gives the oscillator's level L at 10 kHz (`channel.phase_noise_dbc_hz`); the mask is
`phase_noise_mask` (the channel's phase noise is made from the same mask): L + 40 dBc/Hz at 100 Hz, -20 dB/decade to
100 kHz, L - 30 at 1 MHz, flat beyond and below. What is left after the receiver's carrier tracking is phase error:
    sigma^2 = integral over f of S_phi(f) |1 - H(f)|^2 G(f) df,    S_phi(f) = L(|f|) (two-sided, small angle)
- |1 - H(f)|^2: the DVB-S2 receiver with pilots estimates the phase of each known block (the 90-symbol PLHEADER and
  the 36-symbol pilot blocks, 1476 symbols apart) as its mean, fits a line through the block phases over the frame,
  smooths the residuals over three blocks and interpolates linearly (linksim.dvbs2.sync.pilot_phase). That is a
  linear operator on the phase: applied to a sinusoidal phase at each offset f over one frame of the carrier's
  MODCOD, it gives the mean residual power, separately over the data symbols (what decoding sees) and over the known
  symbols (what the receiver's Es/N0 estimator sees). Without pilots the receiver runs a second-order PLL of noise
  bandwidth B_L T = 2e-3 (linksim.dvbs2.rx): |1 - H|^2 of that loop.
- G(f): phase noise much faster than the symbol rate is averaged by the matched filter, so at the symbol samples a
  phase component at offset f keeps the share sum_nu RC(nu) RC(nu - f) / sum_nu RC(nu)^2 of its power (RC the
  raised-cosine power response).
The phase error acts as noise of power sigma^2 relative to the symbol energy: 1/Es/N0' = 1/Es/N0 + sigma^2. What
decoding sees is that with the mean sigma^2 over the data symbols. What the receiver reports varies from frame to
frame with each frame's own phase error on its known symbols, and runs average those reports in dB: the budget's
measured Es/N0 is that average, over the distribution of the per-frame phase error (`known_phase_error_spread`).

Fast fading. The channel's Rician, Loo and Lutz processes vary within a frame and from frame to frame; the receiver
measures each frame's Es/N0 and the report averages those in dB. The budget's term is the mean loss in dB of the
received power, -E[10 log10 |h|^2] over the model's distribution, computed by numerical integration (Rician: its
noncentral chi-square; Loo: lognormal line of sight plus Rayleigh; Lutz: the two states weighted by their shares).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .interference import raised_cosine_weight
from .waveform import data_symbols_per_frame, frame_known_mask

PLL_BN_T = 2e-3  # the receiver's PLL noise bandwidth x symbol period (linksim.dvbs2.rx, no pilots)


def phase_noise_mask(level_dbc_hz: float) -> tuple[tuple[float, float], ...]:
    """The oscillator mask of a level at 10 kHz offset: ((offset_hz, dBc/Hz), ...), -20 dB/decade from 100 Hz to
    100 kHz, -10 dB/decade to 1 MHz (the channel holds it flat outside)."""
    lvl = float(level_dbc_hz)
    return ((1e2, lvl + 40.0), (1e3, lvl + 20.0), (1e4, lvl), (1e5, lvl - 20.0), (1e6, lvl - 30.0))


def mask_dbc_hz(mask: tuple[tuple[float, float], ...], f_hz: np.ndarray) -> np.ndarray:
    """L(f) of a mask, linear in log-frequency between points, flat outside (as the channel synthesises it)."""
    m = np.asarray(mask, dtype=float)
    return np.interp(np.log10(np.maximum(f_hz, 1e-9)), np.log10(m[:, 0]), m[:, 1])


def _known_blocks(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, length) of each run of known symbols in a frame."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    starts = np.flatnonzero(d == 1)
    return starts, np.flatnonzero(d == -1) - starts


def _pilot_tracker(theta: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The receiver's pilot-aided phase estimate (small-angle, linear) of phases theta (N symbols x F columns)."""
    starts, lens = _known_blocks(known)
    n = theta.shape[0]
    blocks = np.stack([theta[s : s + m].mean(axis=0) for s, m in zip(starts, lens, strict=True)])  # (B, F)
    kc = starts + (lens - 1) / 2.0
    w = lens.astype(float)
    # weighted least-squares line through the block phases (weights = block lengths, as polyfit with sqrt(w))
    a_mat = np.stack([kc, np.ones_like(kc)], axis=1) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(a_mat, blocks * np.sqrt(w)[:, None], rcond=None)
    res = blocks - (kc[:, None] * coef[0] + coef[1])
    if res.shape[0] >= 3:
        padded = np.concatenate([res[:1], res, res[-1:]])
        res = (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0
    k = np.arange(n, dtype=float)
    # linear interpolation between block centres, held beyond the first and last (np.interp)
    j = np.clip(np.searchsorted(kc, k, side="right") - 1, 0, len(kc) - 1)
    j1 = np.minimum(j + 1, len(kc) - 1)
    span = np.where(j1 > j, kc[j1] - kc[j], 1.0)
    t = np.clip((k - kc[j]) / span, 0.0, 1.0)[:, None]
    interp = res[j] * (1.0 - t) + res[j1] * t
    return k[:, None] * coef[0] + coef[1] + interp


@lru_cache(maxsize=32)
def tracking_residual(modcod: str, pilots: bool = True, frame: str = "normal",
                      n_freq: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets in cycles/symbol, |1-H|^2 over data symbols, |1-H|^2 over known symbols) of the receiver's carrier
    tracking for one frame of this MODCOD (see the module docstring)."""
    f = np.geomspace(1e-7, 0.6, n_freq)
    if not pilots:
        # second-order PLL, zeta = 0.707, noise bandwidth B_L T: |1 - H|^2 = w^4 / ((wn^2 - w^2)^2 + (2 zeta wn w)^2)
        zeta = 1.0 / math.sqrt(2.0)
        wn = 2.0 * PLL_BN_T / (zeta + 1.0 / (4.0 * zeta)) * 2.0 * math.pi
        w = 2.0 * math.pi * f
        h = w**4 / ((wn**2 - w**2) ** 2 + (2.0 * zeta * wn * w) ** 2)
        return f, h, h
    known = frame_known_mask(data_symbols_per_frame(modcod, frame), pilots)
    k = np.arange(known.size, dtype=float)[:, None]
    out_d = np.zeros(f.size)
    out_k = np.zeros(f.size)
    for sl in np.array_split(np.arange(f.size), 8):  # a few frequencies at a time: bounded memory
        ph = 2.0 * np.pi * k * f[sl][None, :]
        for th in (np.cos(ph), np.sin(ph)):
            e = th - _pilot_tracker(th, known)
            out_d[sl] += np.mean(e[~known] ** 2, axis=0)
            out_k[sl] += np.mean(e[known] ** 2, axis=0)
    return f, out_d, out_k


def matched_filter_share(f_cyc: np.ndarray, rolloff: float) -> np.ndarray:
    """G(f): the share of a phase component at offset f (cycles/symbol) that reaches the symbol samples."""
    nu = np.linspace(-1.5, 1.5, 3001)
    rc = raised_cosine_weight(nu, 1.0, rolloff)
    norm = float(np.sum(rc * rc))
    return np.array([float(np.sum(rc * raised_cosine_weight(nu - x, 1.0, rolloff))) / norm for x in f_cyc])


@lru_cache(maxsize=64)
def phase_error_variance(level_dbc_hz: float, symbol_rate_baud: float, modcod: str, rolloff: float = 0.2,
                         pilots: bool = True, frame: str = "normal",
                         sample_rate_hz: float | None = None) -> tuple[float, float]:
    """(sigma^2 over data symbols, sigma^2 over known symbols) in rad^2 of the phase error the receiver keeps, for
    the scenario's phase-noise mask at this level; the channel's phase noise extends to sample_rate_hz / 2
    (default: 2 samples per symbol)."""
    f_cyc, h_d, h_k = tracking_residual(modcod, pilots, frame)
    f_top = (sample_rate_hz or 2.0 * symbol_rate_baud) / 2.0 / symbol_rate_baud
    grid = np.geomspace(1e-7, min(f_top, 0.6 + rolloff), 600)
    g = matched_filter_share(grid, rolloff)
    s_phi = 10.0 ** (mask_dbc_hz(phase_noise_mask(level_dbc_hz), grid * symbol_rate_baud) / 10.0)
    out = []
    for h in (h_d, h_k):
        hh = np.interp(np.log(grid), np.log(f_cyc), h, right=1.0)
        # two-sided: 2 x the integral over positive offsets (in Hz: d f_hz = Rs d f_cyc)
        out.append(float(2.0 * np.trapz(s_phi * hh * g, grid) * symbol_rate_baud))
    return out[0], out[1]


@lru_cache(maxsize=64)
def known_phase_error_spread(level_dbc_hz: float, symbol_rate_baud: float, modcod: str, rolloff: float = 0.2,
                             pilots: bool = True, frame: str = "normal",
                             sample_rate_hz: float | None = None) -> np.ndarray:
    """Per-frame phase error over the known symbols, as a distribution: 2000 draws of sigma_f^2 (rad^2).

    The receiver's Es/N0 estimate of a frame sees that frame's own phase error, which varies from frame to frame
    (the residual is dominated by a few hundred hertz of the mask: a few cycles per frame), and the run's report
    averages the estimates in dB. The residual on the known symbols is e = (I - P) theta_K, P the pilot tracker
    restricted to the known symbols (it only uses them), theta_K Gaussian with the covariance of the mask's PSD
    (times G(f)); sigma_f^2 = e'e / n is a sum of independent chi-square terms over the eigenvalues of
    (I - P) C (I - P)'."""
    if not pilots:
        _, k = phase_error_variance(level_dbc_hz, symbol_rate_baud, modcod, rolloff, pilots, frame, sample_rate_hz)
        return np.full(2000, k)
    known = frame_known_mask(data_symbols_per_frame(modcod, frame), pilots)
    idx = np.flatnonzero(known)
    unit = np.zeros((known.size, idx.size))
    unit[idx, np.arange(idx.size)] = 1.0
    a = np.eye(idx.size) - _pilot_tracker(unit, known)[idx]
    # covariance of the phase at symbol lags 0..N-1 from the PSD (FFT of the two-sided PSD on a fine grid)
    n_fft = 1 << 20
    f = np.fft.rfftfreq(n_fft)  # cycles/symbol
    f_top = (sample_rate_hz or 2.0 * symbol_rate_baud) / 2.0 / symbol_rate_baud
    s_phi = 10.0 ** (mask_dbc_hz(phase_noise_mask(level_dbc_hz), np.maximum(f, 1e-12) * symbol_rate_baud) / 10.0)
    s_phi = np.where(f <= f_top, s_phi * np.interp(f, *_mf_share_table(rolloff)), 0.0) * symbol_rate_baud
    r = np.fft.irfft(s_phi, n_fft)[: known.size]  # R(tau): the two-sided PSD summed over bins of 1/N
    lags = np.abs(idx[:, None] - idx[None, :])
    c = r[lags]
    lam = np.clip(np.linalg.eigvalsh(a @ c @ a.T), 0.0, None) / idx.size
    z2 = np.random.default_rng(11).standard_normal((idx.size, 2000)) ** 2
    return lam @ z2


@lru_cache(maxsize=8)
def _mf_share_table(rolloff: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(0.0, 1.6, 321)
    return x, matched_filter_share(x, rolloff)


def measured_esn0_db(inv_rest: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """The mean over frames, in dB, of the Es/N0 the receiver estimates when everything but the phase error
    contributes inv_rest (1 / Es/N0, per row) and the frames' phase errors are the draws `spread`."""
    x = np.asarray(inv_rest, dtype=float)
    grid = np.geomspace(1e-7, 1e3, 401)
    table = np.array([np.mean(-10.0 * np.log10(g + spread)) for g in grid])
    with np.errstate(divide="ignore"):
        lx = np.log(np.clip(x, grid[0], grid[-1]))
    return np.interp(lx, np.log(grid), table)


def esn0_with_noise_db(esn0_db: np.ndarray | float, extra_noise: float) -> np.ndarray:
    """Es/N0 with extra noise-like power (relative to the symbol energy) added: 1/(1/Es/N0 + extra)."""
    e = np.asarray(esn0_db, dtype=float)
    return -10.0 * np.log10(10.0 ** (-e / 10.0) + extra_noise)


# --------------------------------------------------------------------------------------------------- fading


def _rician_db_mean(k_lin: float) -> float:
    """E[10 log10 |h|^2] for a Rician gain of unit mean power and K factor k_lin: numerical integration of the
    noncentral chi-square density on a logarithmic grid (|h|^2 = e^u, dx = x du)."""
    u = np.linspace(-40.0, np.log(60.0), 40001)
    x = np.exp(u)
    if k_lin <= 0:
        pdf = np.exp(-x)
    else:
        from scipy.special import i0e

        arg = 2.0 * np.sqrt(k_lin * (k_lin + 1.0) * x)
        pdf = (k_lin + 1.0) * np.exp(-(k_lin + 1.0) * x - k_lin + arg) * i0e(arg)
    w = pdf * x
    return float(np.trapz(10.0 * np.log10(x) * w, u) / np.trapz(w, u))


def _loo_db_mean(los_mean_db: float, los_std_db: float, multipath_db: float) -> float:
    """E[10 log10 |h|^2] for Loo's model: a lognormal line of sight (dB mean, dB std) plus Rayleigh multipath of
    mean power 10^(multipath_db/10) (Gauss-Hermite over the shadowing, the Rician mean for each)."""
    z, wts = np.polynomial.hermite_e.hermegauss(41)
    wts = wts / wts.sum()
    mp = 10.0 ** (multipath_db / 10.0)
    total = 0.0
    for zi, wi in zip(z, wts, strict=True):
        los = 10.0 ** ((los_mean_db + los_std_db * zi) / 10.0)
        p = los + mp
        total += wi * (10.0 * math.log10(p) + _rician_db_mean(los / mp))
    return float(total)


# The scenario's [channel] fading gives the model, its K factor and Doppler; the other parameters are these (the
# channel builds its fading processes from the same values: linksim.channel.from_budget.fading_model).
LOO_PARAMS = {"los_mean_db": 0.0, "los_std_db": 1.0, "multipath_db": -15.0, "shadow_corr_s": 1.0}
LUTZ_PARAMS = {"mean_good_s": 5.0, "mean_bad_s": 1.0, "bad_mean_db": -10.0, "bad_std_db": 3.0, "shadow_corr_s": 0.5}


def scenario_fading_params(fading: str) -> dict[str, float]:
    """The fast-fading parameters beyond K and Doppler of a scenario's fading model (with Lutz's bad_fraction)."""
    if fading == "loo":
        return dict(LOO_PARAMS)
    if fading == "lutz":
        p = dict(LUTZ_PARAMS)
        p["bad_fraction"] = p["mean_bad_s"] / (p["mean_good_s"] + p["mean_bad_s"])
        return p
    return {}


def fading_loss_db(fading: str, k_factor_db: float, params: dict[str, float] | None = None) -> float:
    """-E[10 log10 |h|^2] (dB, >= 0 for a unit-mean-power Rician) of the scenario's fast fading; params are the
    model's other parameters (Loo: los_mean_db, los_std_db, multipath_db; Lutz: bad_fraction, bad_mean_db,
    bad_std_db), as linksim.channel.fading defines them."""
    p = params or {}
    k = 10.0 ** (k_factor_db / 10.0)
    if fading == "none":
        return 0.0
    if fading == "rician":
        return -_rician_db_mean(k)
    if fading == "loo":
        return -_loo_db_mean(p["los_mean_db"], p["los_std_db"], p["multipath_db"])
    if fading == "lutz":
        # good state Rician(K) of unit mean power; bad state Rayleigh with a lognormal mean power whose dB
        # mean is bad_mean_db (the dB spread averages out of the dB mean)
        bad = p["bad_fraction"]
        good = _rician_db_mean(k)
        bad_db = p["bad_mean_db"] + _rician_db_mean(0.0)
        return -((1.0 - bad) * good + bad * bad_db)
    raise ValueError(fading)


__all__ = ["LOO_PARAMS", "LUTZ_PARAMS", "esn0_with_noise_db", "fading_loss_db", "known_phase_error_spread",
           "matched_filter_share", "measured_esn0_db",
           "phase_error_variance", "phase_noise_mask", "scenario_fading_params", "tracking_residual"]
