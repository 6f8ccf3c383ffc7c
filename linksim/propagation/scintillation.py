"""Scintillation time series: tropospheric (P.1853-2 style), low elevation (P.618 2.4.2/2.4.3), ionospheric.

Three models, all seeded and vectorised:

- **Tropospheric scintillation** (elevation >= 5 deg). A unit-variance Gaussian process ``sci0`` made by filtering
  white noise so that its power spectrum is flat below a corner frequency (0.1 Hz, P.1853) and falls as f^-8/3
  above it (the Kolmogorov/Tatarskii log-amplitude spectrum). ITU-R P.1853-2 then forms
  ``A_s = sigma * sci0 * C_x * Z``: ``C_x`` (:func:`fade_enhancement_correction`) stretches the fade side so that
  fades follow P.618's a(p) and enhancements P.1853's a_E(p); ``Z`` is a slowly varying Gamma(10, 0.1) factor
  (mean 1) driven by the water-vapour process (it is made in :mod:`linksim.propagation.weather`); sigma is P.618 section
  2.4.1. Measured on 2e7 samples (see docs/weather.md) the product's standard deviation is 1.08 sigma and its
  fade quantiles are within 3 % of a(p) sigma for 0.1 % <= p <= 10 % (8 % low at 0.01 %).
- **Low elevation (< 5 deg)**: the deep-fading (fades >= 25 dB, P.618-14 eq. 50-56) and shallow-fading
  (P.618-14 eq. 57-64) parts of the scintillation/multipath distribution, with the apparent elevation of
  P.834 section 4. :func:`low_elevation_fade_db` gives the fade exceeded for p % of the average year; a time
  series maps the same ``sci0 * C_x * Z`` process through that distribution (quantile mapping), so it has
  P.618's long-term statistics at every elevation and the P.1853 spectrum and intensity modulation.
- **Ionospheric scintillation** (UHF to X band): :func:`ionospheric_scintillation` gives a Nakagami-m amplitude
  (intensity Gamma(m, 1/m), m = 1/S4^2) and a Gaussian phase, both time-correlated with decorrelation time tau,
  with S4 scaled as f^-1.5 and the phase standard deviation as f^-1 from a reference frequency.

Signs: the tropospheric and low-elevation ``*_db`` values are attenuations (positive = fade, negative =
enhancement), to be added to the path loss; the ionospheric ``amplitude_db`` is a gain (negative in a fade).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal, special

from ..errors import InputError

__all__ = [
    "SCINTILLATION_CORNER_HZ",
    "IonosphericPreset",
    "AURORAL",
    "QUIET",
    "PRESETS",
    "p618_sigma_db",
    "p618_fade_factor",
    "p1853_enhancement_factor",
    "fade_enhancement_correction",
    "scintillation_filter",
    "unit_scintillation",
    "product_ccdf_pct",
    "apparent_elevation_deg",
    "low_elevation_fade_db",
    "ionospheric_scintillation",
]

SCINTILLATION_CORNER_HZ = 0.1  # P.1853: corner frequency of the scintillation spectrum
_CHUNK = 1 << 20


# ---------------------------------------------------------------------------------------------------------------
# P.618 section 2.4.1 and P.1853 fade/enhancement factors
# ---------------------------------------------------------------------------------------------------------------


def _g_antenna(x: np.ndarray) -> np.ndarray:
    """P.618 eq. 45: antenna averaging factor g(x); 0 where the square-root argument is negative (x >= 7)."""
    arg = 3.86 * (x * x + 1.0) ** (11.0 / 12.0) * np.sin(11.0 / 6.0 * np.arctan(1.0 / x)) - 7.08 * x ** (5.0 / 6.0)
    return np.sqrt(np.maximum(arg, 0.0))


def p618_sigma_db(
    freq_hz: ArrayLike,
    elevation_deg: ArrayLike,
    nwet: ArrayLike,
    antenna_diameter_m: ArrayLike,
    antenna_efficiency: ArrayLike = 0.5,
    turbulent_layer_m: float = 1000.0,
) -> np.ndarray:
    """Standard deviation of tropospheric scintillation (dB), ITU-R P.618-13/14 section 2.4.1 steps 3-7.

    ``nwet`` is the median wet refractivity (P.453, N-units). Valid 4-55 GHz and elevation >= 5 deg; the formula is
    evaluated as written at any positive elevation (the low-elevation model uses it at exactly 5 deg).
    """
    f_ghz = np.asarray(freq_hz, dtype=float) / 1e9
    el = np.radians(np.asarray(elevation_deg, dtype=float))
    sigma_ref = 3.6e-3 + 1e-4 * np.asarray(nwet, dtype=float)
    sin_el = np.sin(el)
    path_m = 2.0 * turbulent_layer_m / (np.sqrt(sin_el**2 + 2.35e-4) + sin_el)
    d_eff = np.sqrt(np.asarray(antenna_efficiency, dtype=float)) * np.asarray(antenna_diameter_m, dtype=float)
    x = 1.22 * d_eff**2 * f_ghz / path_m
    return sigma_ref * f_ghz ** (7.0 / 12.0) * _g_antenna(x) / sin_el**1.2


def p618_fade_factor(p_pct: ArrayLike) -> np.ndarray:
    """P.618 eq. 48: a(p), fade exceeded for p % of the time in units of sigma (0.01 < p <= 50)."""
    lp = np.log10(np.asarray(p_pct, dtype=float))
    return -0.061 * lp**3 + 0.072 * lp**2 - 1.71 * lp + 3.0


def p1853_enhancement_factor(p_pct: ArrayLike) -> np.ndarray:
    """P.1853 a_E(p): scintillation enhancement exceeded for p % of the time in units of sigma."""
    lp = np.log10(np.asarray(p_pct, dtype=float))
    return -0.0597 * lp**3 - 0.0835 * lp**2 - 1.258 * lp + 2.672


def fade_enhancement_correction(sci0: ArrayLike) -> np.ndarray:
    """P.1853-2 C_x for a unit Gaussian sample: a(p)/a_E(p) on the fade side (sci0 > 0), limited to >= 1, and 1
    where the Gaussian exceedance is above 45 % or on the enhancement side."""
    s = np.asarray(sci0, dtype=float)
    out = np.ones(s.shape)
    idx = s > 0.12566  # Gaussian exceedance below about 45 %
    q_pct = 100.0 * special.ndtr(-s[idx])
    with np.errstate(divide="ignore", invalid="ignore"):
        cx = p618_fade_factor(q_pct) / p1853_enhancement_factor(q_pct)
    ok = (q_pct <= 45.0) & (cx >= 1.0) & np.isfinite(cx)
    out[idx] = np.where(ok, cx, 1.0)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Unit-variance scintillation process with the P.1853 spectrum
# ---------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def scintillation_filter(dt_s: float, corner_hz: float = SCINTILLATION_CORNER_HZ) -> tuple[np.ndarray, np.ndarray]:
    """IIR filter (b, a) turning unit white noise at step ``dt_s`` into a unit-variance process whose power
    spectrum is flat below ``corner_hz`` and falls as f^-8/3 above it (up to the Nyquist frequency).

    Design: |H| must fall as f^-4/3. One real pole at the corner gives f^-1; the remaining f^-1/3 comes from
    pole-zero pairs spaced a half decade apart (pole at f_k, zero at f_k 10^(0.5/3)), the classical rational
    approximation of a fractional slope (ripple below 0.3 dB). Poles and zeros are mapped with the matched-z
    transform; those above the Nyquist frequency are dropped (so at steps >= 5 s the process is white, as the
    scintillation correlation time is about 1/(2 pi f_c) = 1.6 s). The gain is set for unit variance from the
    impulse response energy.
    """
    if not dt_s > 0.0:
        raise InputError(f"time step must be > 0 s, got {dt_s}")
    nyq = 0.5 / dt_s
    poles_hz: list[float] = []
    zeros_hz: list[float] = []
    if corner_hz < nyq:
        poles_hz.append(corner_hz)
        spacing = 10.0**0.5
        fk = corner_hz * 10.0**0.25
        while fk < nyq:
            zk = fk * spacing ** (1.0 / 3.0)
            if zk >= nyq:
                break
            poles_hz.append(fk)
            zeros_hz.append(zk)
            fk *= spacing
    if not poles_hz:
        return np.array([1.0]), np.array([1.0])
    zp = np.exp(-2.0 * np.pi * np.array(poles_hz) * dt_s)
    zz = np.exp(-2.0 * np.pi * np.array(zeros_hz) * dt_s) if zeros_hz else np.array([])
    b = np.real(np.poly(zz)) if zz.size else np.array([1.0])
    a = np.real(np.poly(zp))
    # impulse response energy -> unit variance
    slowest = 1.0 / (2.0 * np.pi * poles_hz[0] * dt_s)  # time constant in samples
    n_imp = int(min(max(60.0 * slowest, 256), 5_000_000))
    imp = np.zeros(n_imp)
    imp[0] = 1.0
    h = signal.lfilter(b, a, imp)
    b = b / math.sqrt(float(np.sum(h * h)))
    return b, a


def unit_scintillation(n_samples: int, dt_s: float, rng: np.random.Generator) -> np.ndarray:
    """``n_samples`` of the unit-variance P.1853 scintillation process at step ``dt_s`` (float64), stationary from
    the first sample (a burn-in of 60 corner time constants is filtered and discarded)."""
    b, a = scintillation_filter(float(dt_s))
    out = np.empty(int(n_samples))
    if a.size == 1:
        for s in range(0, out.size, _CHUNK):
            out[s : s + _CHUNK] = rng.standard_normal(min(_CHUNK, out.size - s))
        return out
    burn = int(min(60.0 / (2.0 * np.pi * SCINTILLATION_CORNER_HZ * dt_s) + 16, 2_000_000))
    zi = np.zeros(max(len(a), len(b)) - 1)
    for s in range(0, burn, _CHUNK):
        _, zi = signal.lfilter(b, a, rng.standard_normal(min(_CHUNK, burn - s)), zi=zi)
    for s in range(0, out.size, _CHUNK):
        out[s : s + _CHUNK], zi = signal.lfilter(b, a, rng.standard_normal(min(_CHUNK, out.size - s)), zi=zi)
    return out


@functools.lru_cache(maxsize=1)
def _product_ccdf_table() -> tuple[np.ndarray, np.ndarray]:
    """Table (u, P(sci0 C_x Z > u) in %) for u >= 0, sci0 ~ N(0,1), Z ~ Gamma(10, 0.1) independent (quadrature)."""
    g = np.linspace(0.0, 12.0, 24001)
    h = np.maximum.accumulate(g * fade_enhancement_correction(g))
    t, w = special.roots_genlaguerre(80, 9.0)  # weight t^9 e^-t: Gamma(10, 1)
    z = t / 10.0
    w = w / np.sum(w)
    u = np.concatenate([np.linspace(0.0, 4.0, 2001), np.linspace(4.0, 12.0, 801)[1:]])
    ginv = np.interp(u[None, :] / z[:, None], h, g, right=np.inf)
    p = 100.0 * np.sum(w[:, None] * special.ndtr(-ginv), axis=0)
    return u, p


def product_ccdf_pct(u: ArrayLike) -> np.ndarray:
    """Percentage of time the P.1853 product ``sci0 * C_x * Z`` exceeds ``u`` (u >= 0; 50 % at u = 0)."""
    uu, pp = _product_ccdf_table()
    lp = np.interp(np.abs(np.asarray(u, dtype=float)), uu, np.log(np.maximum(pp, 1e-300)))
    return np.exp(lp)


# ---------------------------------------------------------------------------------------------------------------
# P.618 sections 2.4.2 / 2.4.3: elevation below 5 deg
# ---------------------------------------------------------------------------------------------------------------


def apparent_elevation_deg(elevation_deg: ArrayLike, site_alt_m: ArrayLike = 0.0) -> np.ndarray:
    """Apparent (refracted) elevation for a free-space elevation, ITU-R P.834 section 4 (eq. 11 of P.834-9):
    theta = theta_0 + tau_s(h, theta_0), h in km, angles in degrees."""
    th = np.asarray(elevation_deg, dtype=float)
    h = np.asarray(site_alt_m, dtype=float) / 1000.0
    tau = 1.0 / (
        1.728
        + 0.5411 * th
        + 0.03723 * th**2
        + h * (0.1815 + 0.06272 * th + 0.01380 * th**2)
        + h**2 * (0.01727 + 0.008288 * th)
    )
    return th + tau


def _geoclimatic_kw(lat_deg: float, p_l_pct: float, site_alt_m: float, water_fraction: float) -> float:
    """P.618 eq. 50-53 and Table 3: K_w = p_L^1.5 10^(0.1 (C0 + C_Lat))."""
    alat = abs(lat_deg)
    if site_alt_m > 700.0:
        c0 = 70.0
    else:
        c0 = 76.0 + 6.0 * water_fraction
    c_lat = 0.0 if alat <= 53.0 else (-53.0 + alat if alat <= 60.0 else 7.0)
    return p_l_pct**1.5 * 10.0 ** (0.1 * (c0 + c_lat))


def _v_factor(lat_deg: float) -> float:
    """P.618 eq. 55 (average year): v = -1.8 - 5.6 log10(1.1 +/- |cos 2 psi|^0.7), + for |psi| <= 45 deg."""
    c = abs(math.cos(math.radians(2.0 * lat_deg))) ** 0.7
    return -1.8 - 5.6 * math.log10(1.1 + c if abs(lat_deg) <= 45.0 else 1.1 - c)


def low_elevation_fade_db(
    p_pct: ArrayLike,
    elevation_deg: ArrayLike,
    freq_hz: float,
    lat_deg: float,
    nwet: float,
    antenna_diameter_m: float,
    antenna_efficiency: float = 0.5,
    site_alt_m: float = 0.0,
    p_l_pct: float = 5.0,
    water_fraction: float = 0.0,
) -> np.ndarray:
    """Scintillation/multipath fade (dB) exceeded for ``p_pct`` % of the average year at free-space elevation
    ``elevation_deg`` < 5 deg: ITU-R P.618-13/14 section 2.4.2 (deep fading, A >= 25 dB, eq. 54) below the apparent
    elevation theta_1(p) where the deep-fading law reaches 25 dB, and section 2.4.3 (eq. 57-64, cubic-exponential
    interpolation between (theta_1, 25 dB) and the section 2.4.1 fade at 5 deg) above it.

    ``p_l_pct``: % of time the refractivity gradient in the lowest 100 m is below -100 N/km (P.453 Figs 8-11, May
    or August maps above 60 deg latitude; itur has no such map, so it is an input). ``water_fraction``: the
    fraction r of the path over water or coast (C0 = 76 + 6 r; 70 for sites above 700 m). Validity stated by
    P.618: 1-45 GHz, 0.5-5 deg.
    """
    p = np.clip(np.asarray(p_pct, dtype=float), 1e-6, 50.0)
    el0 = np.asarray(elevation_deg, dtype=float)
    f_ghz = freq_hz / 1e9
    kw = _geoclimatic_kw(lat_deg, p_l_pct, site_alt_m, water_fraction)
    v = _v_factor(lat_deg)
    theta = np.radians(apparent_elevation_deg(el0, site_alt_m)) * 1000.0  # mrad
    theta2 = math.radians(float(apparent_elevation_deg(5.0, site_alt_m))) * 1000.0
    a1 = 25.0
    # deep fading (eq. 54)
    deep = 10.0 * math.log10(kw) - v + 9.0 * math.log10(f_ghz) - 59.5 * np.log10(1.0 + theta) - 10.0 * np.log10(p)
    # shallow fading (eq. 57-64)
    theta1 = (kw * 10.0 ** (-v / 10.0) * f_ghz**0.9 / (p * 10.0 ** (a1 / 10.0))) ** (1.0 / 5.95) - 1.0
    a1p = -59.5 * math.log10(math.e) / (1.0 + theta1)
    sig5 = float(p618_sigma_db(freq_hz, 5.0, nwet, antenna_diameter_m, antenna_efficiency))
    a2 = np.maximum(p618_fade_factor(p) * sig5, 1e-3)
    d_mrad = 1.0  # d ln sigma / d theta at 5 deg (eq. 60-63), by central difference over +-1 mrad
    el_hi = 5.0 + math.degrees(d_mrad / 1000.0)
    el_lo = 5.0 - math.degrees(d_mrad / 1000.0)
    dln = (
        math.log(float(p618_sigma_db(freq_hz, el_hi, nwet, antenna_diameter_m, antenna_efficiency)))
        - math.log(float(p618_sigma_db(freq_hz, el_lo, nwet, antenna_diameter_m, antenna_efficiency)))
    ) / (2.0 * d_mrad)
    a2p = a2 * dln
    delta = theta2 - theta1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        alpha = a1p / a1
        beta = (np.log(a2 / a1) - alpha * delta) / delta**2
        gamma = (a2p - a2 * (alpha + 2.0 * beta * delta)) / (a2 * delta**2)
        d1 = theta - theta1
        shallow = a1 * np.exp(alpha * d1 + beta * d1**2 + gamma * d1**2 * (theta - theta2))
    use_deep = (theta < theta1) | (delta <= 0.0)
    return np.where(use_deep, np.maximum(deep, a1), shallow)


# ---------------------------------------------------------------------------------------------------------------
# Ionospheric scintillation
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IonosphericPreset:
    """Scintillation activity at a reference frequency: S4 (intensity index), decorrelation time, phase sigma."""

    name: str
    s4: float
    tau_s: float
    sigma_phi_rad: float
    ref_freq_hz: float
    source: str


AURORAL = IonosphericPreset(
    name="auroral",
    s4=0.6,
    tau_s=1.0,
    sigma_phi_rad=1.0,
    ref_freq_hz=1.57542e9,
    source=(
        "stress case for a disturbed auroral oval at GPS L1: S4 0.6 and tau 1 s as set by the project (issue 3 "
        "brief), sigma_phi 1 rad; CHAIN/GISTM climatology (Prikryl et al., Ann. Geophys. 33, 531-545, 2015) shows "
        "high-latitude L1 scintillation is phase-dominated, sigma_phi reaching about 1 rad in substorms while S4 "
        "mostly stays below 0.3, so S4 0.6 is a severe, not a typical, case"
    ),
)


QUIET = IonosphericPreset(
    name="quiet",
    s4=0.05,
    tau_s=2.0,
    sigma_phi_rad=0.05,
    ref_freq_hz=1.57542e9,
    source=(
        "quiet high-latitude conditions at GPS L1: at Alert (82.5 N) 93 % of the phase-scintillation indices were "
        "0-0.1 rad over 2008-2010 (Homam, Warrington and Stocker, 2013); S4 0.05 is about the noise floor of "
        "scintillation monitors"
    ),
)
PRESETS = {p.name: p for p in (AURORAL, QUIET)}


def _correlated_gaussian(n: int, dt_s: float, tau_s: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance Gaussian process, two cascaded AR(1) sections (ACF (1 + |t|/T) exp(-|t|/T)), T chosen so the
    ACF is 1/e at lag tau_s. Stationary from the first sample (burn-in of 40 T)."""
    big_t = tau_s / 2.1462  # (1 + x) e^-x = e^-1 at x = 2.1462
    r = math.exp(-dt_s / big_t)
    a = np.array([1.0, -2.0 * r, r * r])
    # variance of white -> AR(1)^2 output: (1 + r^2) / (1 - r^2)^3
    b = np.array([math.sqrt((1.0 - r * r) ** 3 / (1.0 + r * r))])
    burn = int(min(40.0 * big_t / dt_s + 8, 4_000_000))
    zi = np.zeros(2)
    for s in range(0, burn, _CHUNK):
        _, zi = signal.lfilter(b, a, rng.standard_normal(min(_CHUNK, burn - s)), zi=zi)
    out = np.empty(n)
    for s in range(0, n, _CHUNK):
        out[s : s + _CHUNK], zi = signal.lfilter(b, a, rng.standard_normal(min(_CHUNK, n - s)), zi=zi)
    return out


def ionospheric_scintillation(
    freq_hz: float,
    t_s: ArrayLike,
    s4: float | None,
    tau_s: float | None,
    seed: int | None,
    ref_freq_hz: float | None = None,
    sigma_phi_rad: float | None = None,
    amp_phase_correlation: float = 0.0,
    preset: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ionospheric scintillation on a uniform time grid: (amplitude_db, phase_rad).

    ``s4`` (and ``sigma_phi_rad``) hold at ``ref_freq_hz`` (default: ``freq_hz``); at ``freq_hz`` S4 scales as
    (f/f_ref)^-1.5 (ITU-R P.531) and sigma_phi as (f/f_ref)^-1 (phase is proportional to TEC/f). The intensity
    I = |a|^2 is Gamma(m, 1/m) with m = 1/S4^2 (Nakagami-m amplitude, mean power 1), obtained by mapping a
    unit Gaussian process g(t) through the Gamma quantile function; the phase is sigma_phi times a second unit
    Gaussian process whose correlation with g is ``amp_phase_correlation``. Both processes have decorrelation
    time ``tau_s`` (their autocorrelation falls to 1/e at that lag). ``sigma_phi_rad`` defaults to S4 (rad).

    ``preset`` (``"auroral"``, ``"quiet"``: :data:`PRESETS`) supplies s4, tau_s, sigma_phi_rad and ref_freq_hz
    wherever those arguments are None; explicit arguments win.

    Returns ``amplitude_db`` = 10 log10(I) = 20 log10|a| (the amplitude gain: negative in a fade; the
    corresponding loss is -amplitude_db) and ``phase_rad`` (zero mean). S4 above 1 (strong scattering,
    Nakagami m < 1) is allowed down to m = 0.5 (S4 = sqrt 2); larger S4 is refused.
    """
    if preset:
        if preset not in PRESETS:
            raise InputError(f"ionospheric preset {preset!r} unknown (choose {', '.join(PRESETS)})")
        pr = PRESETS[preset]
        s4 = pr.s4 if s4 is None else s4
        tau_s = pr.tau_s if tau_s is None else tau_s
        sigma_phi_rad = pr.sigma_phi_rad if sigma_phi_rad is None else sigma_phi_rad
        ref_freq_hz = pr.ref_freq_hz if ref_freq_hz is None else ref_freq_hz
    if s4 is None or tau_s is None:
        raise InputError("ionospheric scintillation needs s4 and tau_s (or a preset)")
    t = np.asarray(t_s, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise InputError("t_s must be a 1-D array of at least 2 uniformly spaced times")
    dt = float(t[1] - t[0])
    if not dt > 0 or not np.allclose(np.diff(t), dt, rtol=1e-6, atol=1e-9):
        raise InputError("t_s must be uniformly spaced and increasing")
    if not freq_hz > 0:
        raise InputError(f"freq_hz must be > 0, got {freq_hz}")
    f_ref = float(freq_hz if ref_freq_hz is None else ref_freq_hz)
    if not (s4 >= 0.0 and tau_s > 0.0 and f_ref > 0.0):
        raise InputError(f"need s4 >= 0, tau_s > 0, ref_freq_hz > 0 (got {s4}, {tau_s}, {f_ref})")
    if not -1.0 <= amp_phase_correlation <= 1.0:
        raise InputError(f"amp_phase_correlation must be in [-1, 1], got {amp_phase_correlation}")
    s4_f = s4 * (freq_hz / f_ref) ** -1.5
    if s4_f > math.sqrt(2.0) + 1e-12:
        raise InputError(f"S4 at {freq_hz:g} Hz is {s4_f:.3f} > sqrt(2): beyond the Nakagami-m range (m >= 0.5)")
    sphi = (s4 if sigma_phi_rad is None else sigma_phi_rad) * (freq_hz / f_ref) ** -1.0
    ss = np.random.SeedSequence(seed)
    rng_a, rng_p = (np.random.default_rng(s) for s in ss.spawn(2))
    g = _correlated_gaussian(t.size, dt, tau_s, rng_a)
    h = _correlated_gaussian(t.size, dt, tau_s, rng_p)
    c = amp_phase_correlation
    phase = sphi * (c * g + math.sqrt(1.0 - c * c) * h)
    if s4_f < 1e-6:
        return np.zeros(t.size), phase
    m = 1.0 / s4_f**2
    # Gamma(m, 1/m) quantile of Phi(g), tabulated on a fine grid of g then interpolated (exact to < 1e-4 dB)
    grid = np.linspace(-8.5, 8.5, 34001)
    with np.errstate(divide="ignore"):
        q_db = 10.0 * np.log10(special.gammaincinv(m, special.ndtr(grid)) / m)
    q_db[~np.isfinite(q_db)] = np.nan
    first = int(np.argmax(np.isfinite(q_db)))
    q_db[:first] = q_db[first]
    amp_db = np.interp(g, grid, q_db)
    return amp_db, phase
