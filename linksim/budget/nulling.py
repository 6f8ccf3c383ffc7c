"""What a terminal array's adaptive combiner leaves of each jammer: the budget's prediction of the null depth, the
post-combiner J/S and C/(N+I+J) ([terminal.array], linksim.geometry.array).

The model is the combiner at convergence: it knows the true covariance of the element streams over the sample band
(no estimation noise), with the same diagonal loading as the real one, and one complex weight per element. Per
Timeline row, on a grid of FREQ_POINTS frequencies across the sample band f (cycles per sample):

    v_x(f) = E(f) . a_x                       element responses (chain errors E, geometry.array) times steering
    R = P_s sum_f s(f) v_s v_s^H + sum_k P_k sum_f j_k(f) v_k v_k^H + P_up sum_f v_s v_s^H / F
        + sigma^2 diag(mean_f |E(f)|^2)
    mvdr:             w = (R + d I)^-1 a_s / (a_s^H (R + d I)^-1 a_s)
    power_inversion:  w = (R + d I)^-1 e_0          (element 0 is the reference)
    none:             w = a_s / N                   (the beam toward the satellite)
    d = 10^(loading_db/10) lambda_min(R)           (the noise floor as the combiner sees it; at least 1e-6 of the
                                                    mean element power)

s(f) is the carrier's raised-cosine power shape, j_k(f) each jammer's spectrum as the IQ channel simulates it
(budget.interference: lines for tones, flat bands clipped to the sample band), both normalised to a sum of 1; P_k
the jammer's simulated power (the budget's in-band J/S over its in-band share); P_up the uplink's noise and jamming,
which arrive with the carrier from the satellite and cannot be nulled without it; sigma^2 the element's thermal
noise per sample (sps / (Es/N0)_down, with unit carrier power). Then, with out_x = sum_f p_x(f) |w^H v_x(f)|^2 and
in_x the same for one element (mean over the elements),

    null depth_k = (out_k / out_s) / (in_k / in_s)          J/S after the combiner over J/S at an element
    array gain   = (out_s / out_noise) / (in_s / in_noise)  thermal SNR gain (10 log10 N at most)
    C/(N+I+J)    = 1 / (1/((Es/N0)_down gain) + N_u/C_u + J_u/C_u + sum_k J_eff,k/S after the combiner)

With element errors that ripple across the band (geometry.array), one weight per element cannot null a wideband
jammer at every frequency: the null depth is what the errors allow. A tone (a single frequency) is nulled as deep as
the loading lets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dbmath import db_to_lin, lin_to_db
from ..geometry import array as geo_array
from ..scenario.model import Jammer, Scenario, TerminalArray
from .interference import inband_fraction, jammer_spectrum, raised_cosine_weight, simulated_band

FREQ_POINTS = 64  # frequencies across the sample band
MAX_ROWS = 512  # rows computed; a longer Timeline is sampled evenly and interpolated (geometry moves slowly)


def freq_grid(n: int = FREQ_POINTS) -> np.ndarray:
    """Bin centres across the sample band, cycles per sample in (-0.5, 0.5)."""
    return (np.arange(n) + 0.5) / n - 0.5


def _bin_weights(f_cyc: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Equal-power spectral samples (cycles per sample) gathered into the grid's bins, summing to 1."""
    n = grid.size
    idx = np.floor((np.mod(np.asarray(f_cyc) + 0.5, 1.0)) * n).astype(int) % n
    w = np.bincount(idx, minlength=n).astype(float)
    return w / w.sum() if w.sum() > 0 else w


def signal_psd(s: Scenario, grid: np.ndarray) -> np.ndarray:
    """The carrier's power shape over the grid (raised cosine), summing to 1."""
    c = s.carrier
    fs = c.symbol_rate_baud * s.channel.sps
    w = raised_cosine_weight(grid * fs, c.symbol_rate_baud, c.rolloff)
    return w / w.sum()


def jammer_psd(j: Jammer, s: Scenario, grid: np.ndarray) -> tuple[np.ndarray, float]:
    """(spectral weights over the grid summing to 1, simulated power over the in-band power) of a jammer as the IQ
    channel simulates it at the scenario's sample rate."""
    c = s.carrier
    fs = c.symbol_rate_baud * s.channel.sps
    kind = j.base if j.type == "pulsed" else j.type
    bw, off = simulated_band(j.type, j.bandwidth_hz, j.offset_hz, fs, j.base)
    kw = dict(bandwidth_hz=bw, offset_hz=off, fraction=j.fraction, n_tones=j.n_tones,
              modulated_bw_hz=(j.symbol_rate_baud or c.symbol_rate_baud) * (1.0 + c.rolloff))
    lines, _ = jammer_spectrum(kind, c.occupied_bw_hz, **kw)  # type: ignore[arg-type]
    frac = inband_fraction(kind, c.occupied_bw_hz, **kw)
    return _bin_weights(lines / fs, grid), (1.0 / frac if frac > 0 else 0.0)


@dataclass(frozen=True)
class ArrayGeometry:
    """An array's element positions, its chains' errors and their responses over the frequency grid."""

    config: TerminalArray
    positions_wl: np.ndarray  # (N, 2)
    errors: geo_array.ElementErrors
    grid: np.ndarray  # (F,) cycles per sample
    response: np.ndarray  # (N, F)

    @property
    def elements(self) -> int:
        return self.positions_wl.shape[0]

    def steering(self, sat_az_deg: np.ndarray, sat_el_deg: np.ndarray, az_deg: np.ndarray,
                 el_deg: np.ndarray) -> np.ndarray:
        """(rows, N) steering vectors toward (az, el) of a panel facing (sat_az, sat_el)."""
        axes = geo_array.panel_axes(sat_az_deg, sat_el_deg, self.config.orientation_deg)
        return geo_array.steering_vectors(self.positions_wl, axes, geo_array.direction_enu(az_deg, el_deg))


def array_geometry(cfg: TerminalArray, n_freq: int = FREQ_POINTS) -> ArrayGeometry:
    pos = geo_array.element_positions_wl(cfg.elements, cfg.layout, cfg.spacing_wavelengths)
    err = geo_array.element_errors(cfg.elements, cfg.error_db, cfg.error_deg, cfg.error_seed)
    grid = freq_grid(n_freq)
    return ArrayGeometry(cfg, pos, err, grid, err.response(grid))


def combiner_weights(r: np.ndarray, a_s: np.ndarray, nulling: str, loading_db: float) -> np.ndarray:
    """(rows, N) weights of the combiner for covariances r (rows, N, N) and the satellite's steering a_s (rows, N)."""
    n = r.shape[-1]
    if nulling == "none":
        return a_s / n
    lam = np.linalg.eigvalsh(r)[..., 0]
    tr = np.real(np.trace(r, axis1=-2, axis2=-1)) / n
    # the loading, at least a millionth of the mean element power (a rank-deficient covariance: no noise, a zero
    # stretch), and a silent window gets the beam toward the satellite
    d = np.maximum(db_to_lin(loading_db) * np.maximum(lam, 0.0), 1e-6 * tr)
    silent = ~(tr > 0)
    rl = r + np.where(silent, 1.0, d)[..., None, None] * np.eye(n)
    if nulling == "mvdr":
        v = np.linalg.solve(rl, a_s[..., None])[..., 0]
        w = v / np.sum(np.conj(a_s) * v, axis=-1, keepdims=True).conj()
    else:
        e0 = np.zeros(a_s.shape, dtype=complex)
        e0[..., 0] = 1.0
        v = np.linalg.solve(rl, e0[..., None])[..., 0]
        w = v / v[..., :1]
    return np.where(silent[..., None], a_s / n, w)


def response_power(w: np.ndarray, v: np.ndarray, psd: np.ndarray) -> np.ndarray:
    """sum_f psd(f) |w^H v(f)|^2 for weights w (rows, N) and v (rows, N, F): a component's power out of the
    combiner per unit power in."""
    out = np.einsum("rn,rnf->rf", np.conj(w), v)
    return np.sum(psd * np.abs(out) ** 2, axis=-1)


def element_power(v: np.ndarray, psd: np.ndarray) -> np.ndarray:
    """The same component's power at one element (mean over the elements)."""
    return np.sum(psd * np.mean(np.abs(v) ** 2, axis=-2), axis=-1)


def first_order_floor_db(geo: ArrayGeometry, a_s: np.ndarray, a_k: np.ndarray) -> float:
    """First-order theory of the deepest null the element errors allow against a strong jammer (dB): the chains'
    ripple across the band (the drawn errors, ln gain + j phase, less each element's mean over the band, which the
    weights learn) through the MVDR weights, whose norm is 1 / (N (1 - rho^2)) for one jammer with spatial
    correlation rho^2 = |a_k^H a_s|^2 / (N^2) with the satellite. -inf without errors."""
    n = a_s.size
    rho2 = abs(np.vdot(a_k, a_s) / n) ** 2
    z = np.log(geo.errors.knots)
    var = float(np.mean(np.abs(z - z.mean(axis=1, keepdims=True)) ** 2))
    return float(10 * np.log10(var / (n * (1 - rho2)))) if var > 0 else -np.inf


def add_array_columns(tl: object, esn0_down_db: np.ndarray, n_up: np.ndarray, j_up_share: np.ndarray,
                      eff_offsets_db: list[float]) -> None:
    """Add the array's prediction to a Timeline: columns array_gain_db and cnij_array_db, and per downlink jammer
    js_nulled_db and null_depth_db (see the module docstring)."""
    s: Scenario = tl.scenario  # type: ignore[attr-defined]
    cfg = s.terminal.array
    assert cfg is not None
    n_rows = len(tl)  # type: ignore[arg-type]
    rows = np.unique(np.linspace(0, n_rows - 1, min(n_rows, MAX_ROWS)).round().astype(int))
    geo = array_geometry(cfg)
    grid, e = geo.grid, geo.response
    sat_az = np.asarray(tl["azimuth_deg"], dtype=float)[rows]  # type: ignore[index]
    sat_el = np.asarray(tl["elevation_deg"], dtype=float)[rows]  # type: ignore[index]
    a_s = geo.steering(sat_az, sat_el, sat_az, sat_el)
    v_s = a_s[:, :, None] * e[None]
    s_f = signal_psd(s, grid)
    sps = s.channel.sps
    e_down = np.nan_to_num(np.asarray(esn0_down_db, dtype=float)[rows], nan=-30.0)
    sigma2 = sps / db_to_lin(e_down)
    p_up = sps * (np.nan_to_num(np.asarray(n_up, dtype=float)) + np.asarray(j_up_share, dtype=float))[rows]
    flat = np.full(grid.size, 1.0 / grid.size)
    e_noise = np.mean(np.abs(e) ** 2, axis=1)  # (N,)
    r = np.einsum("f,rnf,rmf->rnm", s_f, v_s, np.conj(v_s))
    r += p_up[:, None, None] * np.einsum("f,rnf,rmf->rnm", flat, v_s, np.conj(v_s))
    r += sigma2[:, None, None] * np.diag(e_noise)[None]
    downs = []
    for js, j in zip(tl.jammers, s.jammers, strict=True):  # type: ignore[attr-defined]
        if js.target != "downlink" or js.azimuth_deg is None:
            continue
        psd, scale = jammer_psd(j, s, grid)
        p = np.where(js.active[rows], db_to_lin(np.nan_to_num(js.js_db[rows], nan=-200.0)) * scale, 0.0)
        a_k = geo.steering(sat_az, sat_el, js.azimuth_deg[rows], js.elevation_deg[rows])
        v_k = a_k[:, :, None] * e[None]
        r += p[:, None, None] * np.einsum("f,rnf,rmf->rnm", psd, v_k, np.conj(v_k))
        downs.append((js, psd, v_k))
    w = combiner_weights(r, a_s, cfg.nulling, cfg.loading_db)
    s_out, s_in = response_power(w, v_s, s_f), element_power(v_s, s_f)
    n_out = np.sum(np.abs(w) ** 2 * e_noise[None], axis=1)
    n_in = float(np.mean(e_noise))
    gain = lin_to_db((s_out / n_out) / (s_in / n_in))
    t_all = np.arange(n_rows)

    def full(x: np.ndarray) -> np.ndarray:
        return np.interp(t_all, rows, x) if rows.size < n_rows else x

    vis = np.asarray(tl["visible"], dtype=bool)  # type: ignore[index]
    gain_full = full(gain)
    inv = 1.0 / db_to_lin(np.asarray(esn0_down_db, dtype=float) + gain_full) + np.asarray(n_up) + j_up_share
    for js, psd, v_k in downs:
        depth = full(lin_to_db((response_power(w, v_k, psd) / s_out) / (element_power(v_k, psd) / s_in)))
        js.null_depth_db = np.where(vis, depth, np.nan)
        js.js_nulled_db = np.where(vis, js.js_db + depth, np.nan)
    for js, eff_db in zip(tl.jammers, eff_offsets_db, strict=True):  # type: ignore[attr-defined]
        if js.target != "downlink":
            continue
        jsn = js.js_nulled_db if js.js_nulled_db is not None else js.js_db  # no direction: not nulled
        inv = inv + np.where(js.active, db_to_lin(np.nan_to_num(jsn, nan=-200.0) + eff_db), 0.0)
    tl.columns["array_gain_db"] = np.where(vis, gain_full, np.nan)  # type: ignore[attr-defined]
    tl.columns["cnij_array_db"] = np.where(vis, -lin_to_db(inv), np.nan)  # type: ignore[attr-defined]
