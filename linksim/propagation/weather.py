"""Synthesized weather time series in the manner of ITU-R P.1853-2, driven by a site's ITU-R statistics.

:func:`synthesize_weather` returns, on a uniform time grid (any step from 0.01 s up), the rain, cloud, gas
(oxygen + water vapour), tropospheric scintillation and low-elevation scintillation/multipath attenuation (dB), the
rain rate (mm/h) and the cloud liquid water (kg/m^2) of one seeded realisation. Each marginal distribution follows
the long-term ITU-R statistics of the site; the time structure follows P.1853.

How each term is made (details and measured accuracy in docs/weather.md):

- **One weather driver.** As in P.1853-2's total-attenuation method (MS_TOT), one white Gaussian noise n(k) feeds
  (a) a two-pole Gauss-Markov process G = g1 X1 + g2 X2 (beta1 = 9.0186e-4 /s, beta2 = 5.0990e-5 /s,
  g1 = 0.3746, g2 = 0.7738; unit variance) shared by rain and cloud, so rain only falls from cloud, and (b) a
  one-pole process G_wv (beta = 3.65e-6 /s) for water vapour. The processes start in their stationary
  distribution (initial states drawn from the exact joint covariance), so no start-up samples are discarded.
- **Rain** (``synthesis="P.1853-2"``, default): truncated conditional mapping of G. P_rain = P0 (P.837); where
  G > Q^-1(P_rain), z = Q^-1(Q(G) / P_rain) and A = A_P618(p = P_rain Q(z)), read from P.618's own exceedance
  curve tabulated at 0.001-5 % (log-linear in z, extended linearly beyond the end points): the series has P.618's
  statistics at every percentage (``rain_marginal="p618"``). ``rain_marginal="lognormal"`` is P.1853-2 as
  published: ln A = m + s z with (m, s) a least-squares fit to P.618 at 0.01-5 % (errors up to -2.8 dB at
  0.01 %, see docs/weather.md). ``synthesis="P.1853-1"``: Maseng-Bakken: one Gauss-Markov X (beta = 2e-4 /s), fit
  ln A_i = m + s Q^-1(p_i), A = max(exp(m + s X) - A_offset, 0), A_offset = exp(m + s Q^-1(P_rain)). The rain
  rate R(t) (mm/h) uses the same construction on P.837 R(p), so it is co-monotone with rain attenuation (it drives
  wet-antenna events, :mod:`linksim.propagation.antenna_events`).
- **Elevation varies with time** (HEO/LEO passes): the P.618 rain table (or fit) is made on an elevation grid
  (0.5 deg steps over the span of the input) and interpolated linearly in elevation, so rain follows P.618's
  elevation dependence (its path reduction), not a 1/sin law; the driver is the same at every elevation. Cloud:
  liquid water L(t) (P.840's log-normal approximation m, s, P_clw, truncated and driven by G as in P.1853-2)
  times K_l(f, 0 C) times the path factor of :func:`linksim.propagation.itu.cloud_db` (1/sin(el) from 5 deg up, a
  2 km layer over a curved Earth below); during rain L is capped at 1 kg/m^2 (P.1853-2 MS_TOT_6: the rain
  attenuation already holds the cloud). Gas: the zenith water-vapour attenuation with P.1853-2's Weibull law,
  fitted to P.676 with P.836 V(p) at 0.1-50 %, times the water-vapour path factor, plus the oxygen attenuation,
  both exactly as :func:`linksim.propagation.itu.gas_db` computes them at each elevation.
- **Tropospheric scintillation** (el >= 5 deg): P.1853-2 MS_TOT_7-13: sigma(el) (P.618 2.4.1) x sci0 x C_x x Z
  (:mod:`linksim.propagation.scintillation`), Z = Gamma(10, 0.1) quantile of the water-vapour driver (the slowly varying
  scintillation intensity), times A_rain^(5/12) while A_rain > 1 dB (``rain_scintillation=True``).
- **Low elevation** (el < 5 deg): P.618 2.4.2/2.4.3 fade distribution, reached by quantile mapping of the same
  sci0 x C_x x Z process (its exact distribution is known), enhancements as at 5 deg. Reported in
  ``low_elevation_db``; ``scintillation_db`` is zero there (and ``low_elevation_db`` zero at 5 deg and above).

The statistics come from :mod:`linksim.propagation.itu` (``rec`` is its P.618 revision), so a synthesized series and
the statistical budget agree; only the P.840 log-normal coefficients and K_l are read from itur directly. P.1853 is
specified for 4-55 GHz and 5-90 deg: a ValidityWarning is issued outside that range (once per call). Rows at or
below 0 deg elevation (satellite below the horizon) or with NaN elevation are NaN; rows between 0 and 0.5 deg are
computed at 0.5 deg.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal, special
from scipy import stats as sstats

from ..errors import InputError, ValidityWarning
from . import itu as prop
from . import scintillation as _sc

__all__ = [
    "WeatherSeries",
    "SiteWeatherStats",
    "site_weather_stats",
    "synthesize_weather",
    "SYNTHESIS_RECS",
    "RAIN_MARGINALS",
]

SYNTHESIS_RECS = ("P.1853-2", "P.1853-1")

# P.1853-2 filter constants
_BETA1, _BETA2, _GAMMA1, _GAMMA2 = 9.0186e-4, 5.0990e-5, 0.3746, 0.7738
_BETA_WV = 3.65e-6
_BETA_RAIN_1 = 2e-4  # P.1853-1 Maseng-Bakken
_P_FIT = np.array([0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0])  # P.1853 fit set
_P_TABLE = np.array(
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0]
)  # P.618 range
_EL_MIN_DEG = 0.5  # below this the low-elevation models are not specified: rows are computed at 0.5 deg
RAIN_MARGINALS = ("p618", "lognormal")
_P_WV = np.array([0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0])
_CHUNK = 1 << 20


# ---------------------------------------------------------------------------------------------------------------
# itur access for what linksim.propagation.itu does not expose (P.840 log-normal cloud coefficients, K_l)
# ---------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _p840_cloud_lognormal(lat: float, lon: float, f_ghz: float) -> tuple[float, float, float, float]:
    """(m, s, P_clw %, K_l dB/(kg/m^2) at 0 C) from itur's P.840 log-normal approximation; np.geterr restored."""
    saved = np.geterr()
    try:
        from itur.models import itu840

        m, s, pc = (
            float(np.asarray(getattr(v, "value", v))) for v in itu840.lognormal_approximation_coefficient(lat, lon)
        )
        kl = itu840.specific_attenuation_coefficients(f_ghz, T=0)
        kl = float(np.asarray(getattr(kl, "value", kl)))
    finally:
        np.seterr(**saved)
    return m, s, pc, kl


# ---------------------------------------------------------------------------------------------------------------
# Site statistics
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteWeatherStats:
    """Fitted parameters of the synthesis for one site, frequency and elevation span (SI units, dB, %)."""

    lat_deg: float
    lon_deg: float
    alt_m: float  # station height used (given, or P.1511 topography)
    freq_hz: float
    synthesis: str
    rain_marginal: str
    p_rain_pct: float  # P.837 P0
    el_span_deg: tuple[float, float]  # elevations covered (after clipping to 0.5-90 deg)
    elevation_grid_deg: np.ndarray  # rain table elevations
    rain_fit_p_pct: np.ndarray  # P.618 exceedance percentages tabulated (below P_rain, 0.001-5 %)
    rain_fit_db: np.ndarray  # P.618 rain attenuation at those percentages, shape (grid, p)
    rate_table_mm_h: np.ndarray  # P.837 rain rate at rain_fit_p_pct
    rain_m: np.ndarray  # log-normal fit per grid elevation (ln dB)
    rain_s: np.ndarray
    rate_m: float
    rate_s: float
    cloud_m: float  # P.840 log-normal of liquid water, ln(kg/m^2)
    cloud_s: float
    cloud_p_pct: float
    cloud_kl_db_per_kg_m2: float  # K_l(f, 0 C), dB per kg/m^2 at zenith
    wv_kappa: float  # Weibull fit of the zenith water-vapour attenuation (P.676 with P.836 V(p))
    wv_lambda_db: float
    wv_zenith_p_pct: np.ndarray
    wv_zenith_db: np.ndarray
    path_el_deg: np.ndarray  # elevation table of the path factors
    oxygen_db_el: np.ndarray  # oxygen attenuation on the slant path (linksim.propagation.itu.gas_db, V = 0)
    wv_factor_el: np.ndarray  # slant / zenith factor of water vapour (as linksim.propagation.itu.gas_db)
    cloud_factor_el: np.ndarray  # slant / zenith factor of cloud (as linksim.propagation.itu.cloud_db)
    nwet: float  # P.453 median Nwet
    antenna_diameter_m: float
    antenna_efficiency: float
    tau_deg: float
    rec: str
    extra: dict = field(default_factory=dict)


def _fit_lognormal(p_pct: np.ndarray, values: np.ndarray, p_ref_pct: float | None) -> tuple[float, float]:
    """Least squares ln v = m + s Q^-1(p / p_ref) (p_ref None: Q^-1(p/100))."""
    good = values > 0
    p = p_pct[good]
    q = -special.ndtri(p / p_ref_pct) if p_ref_pct is not None else -special.ndtri(p / 100.0)
    a = np.vstack([np.ones(q.size), q]).T
    (m, s), *_ = np.linalg.lstsq(a, np.log(values[good]), rcond=None)
    return float(m), float(s)


def _elevation_grid(el: np.ndarray, step: float) -> np.ndarray:
    lo, hi = float(np.min(el)), float(np.max(el))
    if hi - lo < 1e-9:
        return np.array([lo])
    a = math.floor(lo / step) * step
    return np.arange(a, hi + step, step)


def site_weather_stats(
    site_lat_deg: float,
    site_lon_deg: float,
    site_alt_m: float | None,
    freq_hz: float,
    elevation_deg: ArrayLike,
    antenna_diameter_m: float = 1.2,
    antenna_efficiency: float = 0.65,
    tau_deg: float = 45.0,
    rec: str = "P.618-13",
    synthesis: str = "P.1853-2",
    rain_marginal: str = "p618",
) -> SiteWeatherStats:
    """Fit the synthesis parameters to the site's ITU-R statistics over the span of ``elevation_deg``.

    The statistics come from :mod:`linksim.propagation.itu` (P.618 rain, P.837 rain rate and P0, P.676/P.836 gas,
    P.840 path factor, P.453 Nwet), so a synthesized series and the statistical budget use the same numbers;
    the P.840 log-normal cloud coefficients and K_l come from itur directly (the adapter does not expose them).

    ``rain_marginal`` (P.1853-2 only): ``"p618"`` maps the rain driver through P.618's own exceedance curve
    (tabulated at 0.001-5 % below P_rain, log-linear in Q^-1(p/P_rain) between points and beyond the ends), so
    the series reproduces P.618 at every percentage; ``"lognormal"`` uses P.1853-2's least-squares log-normal fit
    as published (its error reaches about -2.7 dB at 0.01 % for mid-latitude sites, see docs/weather.md).
    ``synthesis="P.1853-1"`` always uses its log-normal fit with the attenuation offset.
    """
    if synthesis not in SYNTHESIS_RECS:
        raise InputError(f"synthesis {synthesis!r} unknown (choose {', '.join(SYNTHESIS_RECS)})")
    if rain_marginal not in RAIN_MARGINALS:
        raise InputError(f"rain_marginal {rain_marginal!r} unknown (choose {', '.join(RAIN_MARGINALS)})")
    if synthesis == "P.1853-1":
        rain_marginal = "lognormal"
    if not antenna_diameter_m > 0 or not 0 < antenna_efficiency <= 1:
        raise InputError("antenna_diameter_m must be > 0 and antenna_efficiency in (0, 1]")
    lat, lon = float(site_lat_deg), float(site_lon_deg)
    el_in = np.asarray(elevation_deg, dtype=float).ravel()
    el_in = el_in[np.isfinite(el_in) & (el_in > 0.0)]
    if el_in.size == 0:
        raise InputError("no elevation above 0 deg: nothing to synthesize")
    clim = prop.climate(lat, lon, site_alt_m)
    p_rain = clim.p0_rain_pct
    pk = _P_TABLE[_P_TABLE < p_rain]
    if pk[pk >= 0.01].size < 2:
        raise InputError(f"rain probability P0 = {p_rain:.3g} % at this site is too small to fit a rain model")
    el_c = np.clip(el_in, _EL_MIN_DEG, 90.0)
    grid = _elevation_grid(el_c, 0.5)
    grid = np.clip(grid, _EL_MIN_DEG, 90.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityWarning)  # one warning is issued by synthesize_weather
        a_tab = prop.rain_db(lat, lon, freq_hz, grid[:, None], pk[None, :], site_alt_m, tau_deg, rec=rec)
        rates = prop.rain_rate_exceedance_mm_h(lat, lon, pk)
        # gas: zenith water vapour at p (P.836 V(p) through P.676), oxygen and path factors from the adapter
        path_el = _elevation_grid(el_c, 0.02)
        path_el = np.unique(np.concatenate([np.clip(path_el, _EL_MIN_DEG, 90.0), [90.0]]))
        ox = prop.gas_db(lat, lon, freq_hz, path_el, 50.0, site_alt_m, v_t_kg_m2=1e-3)  # V ~ 0: oxygen
        wv_zen = np.array(
            [float(prop.gas_db(lat, lon, freq_hz, np.array([90.0]), p, site_alt_m)[0]) for p in _P_WV]
        ) - float(ox[-1])
        v_ref = 10.0
        wv_slant = prop.gas_db(lat, lon, freq_hz, path_el, 50.0, site_alt_m, v_t_kg_m2=v_ref) - ox
        wv_factor = wv_slant / wv_slant[-1]
        cl = prop.cloud_db(lat, lon, freq_hz, path_el, 1.0)
        cloud_factor = cl / cl[-1]
    p_ref = p_rain if synthesis == "P.1853-2" else None
    in_fit = pk >= 0.01
    fits = [_fit_lognormal(pk[in_fit], a_tab[i, in_fit], p_ref) for i in range(grid.size)]
    rate_m, rate_s = _fit_lognormal(pk[in_fit], rates[in_fit], p_ref)
    cm, cs, cp, kl = _p840_cloud_lognormal(lat, lon, freq_hz / 1e9)
    # Weibull P(A > a) = exp(-(a/lambda)^kappa): ln(-ln(p/100)) = kappa ln a - kappa ln lambda
    kappa, b = np.polyfit(np.log(wv_zen), np.log(-np.log(_P_WV / 100.0)), 1)
    return SiteWeatherStats(
        lat_deg=lat,
        lon_deg=lon,
        alt_m=clim.alt_m,
        freq_hz=float(freq_hz),
        synthesis=synthesis,
        rain_marginal=rain_marginal,
        p_rain_pct=p_rain,
        el_span_deg=(float(el_c.min()), float(el_c.max())),
        elevation_grid_deg=grid,
        rain_fit_p_pct=pk,
        rain_fit_db=a_tab,
        rate_table_mm_h=rates,
        rain_m=np.array([f[0] for f in fits]),
        rain_s=np.array([f[1] for f in fits]),
        rate_m=rate_m,
        rate_s=rate_s,
        cloud_m=cm,
        cloud_s=cs,
        cloud_p_pct=cp,
        cloud_kl_db_per_kg_m2=kl,
        wv_kappa=float(kappa),
        wv_lambda_db=math.exp(-b / kappa),
        wv_zenith_p_pct=_P_WV.copy(),
        wv_zenith_db=wv_zen,
        path_el_deg=path_el,
        oxygen_db_el=ox,
        wv_factor_el=wv_factor,
        cloud_factor_el=cloud_factor,
        nwet=clim.nwet_median,
        antenna_diameter_m=float(antenna_diameter_m),
        antenna_efficiency=float(antenna_efficiency),
        tau_deg=float(tau_deg),
        rec=rec,
    )


# ---------------------------------------------------------------------------------------------------------------
# Synthesis
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeatherSeries:
    """One realisation on the grid ``t_s``. Attenuations in dB (positive = loss), rain rate in mm/h."""

    t_s: np.ndarray
    elevation_deg: np.ndarray
    rain_db: np.ndarray
    cloud_db: np.ndarray
    gas_db: np.ndarray
    scintillation_db: np.ndarray
    low_elevation_db: np.ndarray
    rain_rate_mm_h: np.ndarray
    cloud_liquid_kg_m2: np.ndarray
    scint_sigma_db: np.ndarray
    stats: SiteWeatherStats
    seed: int | None

    @property
    def low_elevation(self) -> np.ndarray:
        """True where the elevation is below 5 deg (outside P.1853's range; low_elevation_db applies) or unknown."""
        return ~(self.elevation_deg >= 5.0)

    @property
    def total_db(self) -> np.ndarray:
        """Sum of all terms (dB)."""
        return self.rain_db + self.cloud_db + self.gas_db + self.scintillation_db + self.low_elevation_db


def _table_lookup(
    z: np.ndarray, el: np.ndarray | None, zk: np.ndarray, tab: np.ndarray, grid: np.ndarray
) -> np.ndarray:
    """Piecewise-linear interpolation of ``tab[grid_row, knot]`` in z (linear extrapolation beyond the end knots)
    and, when ``el`` is given, linear in elevation between grid rows."""
    i = np.clip(np.searchsorted(zk, z) - 1, 0, zk.size - 2)
    w = (z - zk[i]) / (zk[i + 1] - zk[i])
    if el is None or grid.size == 1:
        row = tab[0]
        return row[i] + w * (row[i + 1] - row[i])
    j = np.clip(np.searchsorted(grid, el) - 1, 0, grid.size - 2)
    v = np.clip((el - grid[j]) / (grid[j + 1] - grid[j]), 0.0, 1.0)
    lo = tab[j, i] + w * (tab[j, i + 1] - tab[j, i])
    hi = tab[j + 1, i] + w * (tab[j + 1, i + 1] - tab[j + 1, i])
    return lo + v * (hi - lo)


def _stationary_states(rhos: list[float], rng: np.random.Generator) -> np.ndarray:
    """Joint stationary draw of AR(1) processes x_i = rho_i x_i + sqrt(1-rho_i^2) n driven by the same noise."""
    r = np.array(rhos)
    c = np.sqrt(1.0 - r[:, None] ** 2) * np.sqrt(1.0 - r[None, :] ** 2) / (1.0 - r[:, None] * r[None, :])
    w, v = np.linalg.eigh(c)
    return v @ (np.sqrt(np.maximum(w, 0.0)) * rng.standard_normal(r.size))


def _check_time(t_s: ArrayLike) -> tuple[np.ndarray, float]:
    t = np.asarray(t_s, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise InputError("t_s must be a 1-D array of at least 2 uniformly spaced times (s)")
    dt = float(t[1] - t[0])
    if not dt > 0.0 or not np.allclose(np.diff(t), dt, rtol=1e-6, atol=1e-9 * max(1.0, abs(float(t[-1])))):
        raise InputError("t_s must be uniformly spaced and increasing")
    if dt < 0.01 - 1e-12:
        raise InputError(f"time step {dt:g} s is below the 0.01 s minimum")
    return t, dt


def synthesize_weather(
    site_lat_deg: float,
    site_lon_deg: float,
    site_alt_m: float | None,
    freq_hz: float,
    elevation_deg: ArrayLike,
    t_s: ArrayLike,
    seed: int | None,
    antenna_diameter_m: float = 1.2,
    antenna_efficiency: float = 0.65,
    rec: str = "P.618-13",
    synthesis: str = "P.1853-2",
    tau_deg: float = 45.0,
    rain_scintillation: bool = True,
    p_l_pct: float = 5.0,
    water_fraction: float = 0.0,
    stats: SiteWeatherStats | None = None,
    rain_marginal: str = "p618",
) -> WeatherSeries:
    """Synthesize rain, cloud, gas, scintillation and low-elevation fading on the uniform grid ``t_s`` (s).

    ``elevation_deg``: scalar or array like ``t_s`` (it may vary, e.g. along a HEO/LEO pass). ``seed``: seeds a
    numpy Generator; the same arguments and seed give bit-identical output. ``tau_deg``: polarisation tilt (45 =
    circular). ``p_l_pct`` and ``water_fraction``: low-elevation inputs (see
    :func:`linksim.propagation.scintillation.low_elevation_fade_db`). ``stats``: reuse a
    :func:`site_weather_stats` result (its elevation span must cover ``elevation_deg``; its synthesis and
    rain_marginal are then used). Memory: the
    10 output arrays, about 6 full-length temporaries (scintillation) and about 10 work arrays of 2^20 samples
    (the weather drivers run chunk by chunk): roughly 130 bytes per sample.
    """
    t, dt = _check_time(t_s)
    n = t.size
    el = np.broadcast_to(np.asarray(elevation_deg, dtype=float), t.shape).astype(float)
    if np.any(np.isinf(el)):
        raise InputError("elevation_deg contains inf")
    if not 1e8 <= freq_hz <= 1e12:
        raise InputError(f"freq_hz {freq_hz:g} out of range")
    visible = el > 0.0  # NaN (no geometry) counts as not visible
    f_ghz = freq_hz / 1e9
    if not 4.0 <= f_ghz <= 55.0:
        warnings.warn(
            f"P.1853/P.618 weather synthesis is specified for 4-55 GHz, used at {f_ghz:g} GHz",
            ValidityWarning,
            stacklevel=2,
        )
    if np.any(visible & (el < 5.0)):
        warnings.warn(
            "P.1853 is specified for elevations 5-90 deg; below 5 deg rain/cloud/gas follow P.618/P.840/"
            "P.676 at the actual elevation (as linksim.propagation.itu, rows below 0.5 deg at 0.5 deg) and "
            "scintillation follows P.618 2.4.2/2.4.3",
            ValidityWarning,
            stacklevel=2,
        )
    if stats is None:
        stats = site_weather_stats(
            site_lat_deg,
            site_lon_deg,
            site_alt_m,
            freq_hz,
            el[visible],
            antenna_diameter_m,
            antenna_efficiency,
            tau_deg,
            rec,
            synthesis,
            rain_marginal,
        )
    elif synthesis != stats.synthesis:
        raise InputError(f"stats were fitted for {stats.synthesis}, not {synthesis}")
    el_c = np.clip(el, _EL_MIN_DEG, 90.0)
    grid = stats.elevation_grid_deg
    ev = el_c[visible]
    if ev.size and (ev.min() < stats.el_span_deg[0] - 1e-6 or ev.max() > stats.el_span_deg[1] + 1e-6):
        raise InputError("elevation_deg outside the elevation span of the given stats")

    ss = np.random.SeedSequence(seed)
    s_init, s_weather, s_scint = ss.spawn(3)
    rng_w = np.random.default_rng(s_weather)
    rng_i = np.random.default_rng(s_init)

    r1, r2, rw, r0 = (math.exp(-b * dt) for b in (_BETA1, _BETA2, _BETA_WV, _BETA_RAIN_1))
    x0 = _stationary_states([r1, r2, rw, r0], rng_i)
    zi = [np.array([r * x]) for r, x in zip((r1, r2, rw, r0), x0, strict=True)]
    coef = [(np.array([math.sqrt(1.0 - r * r)]), np.array([1.0, -r])) for r in (r1, r2, rw, r0)]

    p_rain = stats.p_rain_pct
    zk = -special.ndtri(stats.rain_fit_p_pct / p_rain)  # decreasing with p: increasing order reversed below
    order = np.argsort(zk)
    zk = zk[order]
    with np.errstate(divide="ignore"):
        ln_a = np.log(np.maximum(stats.rain_fit_db[:, order], 1e-6))
        ln_r = np.log(np.maximum(stats.rate_table_mm_h[order], 1e-6))[None, :]
    alpha_r = -special.ndtri(p_rain / 100.0)
    alpha_c = -special.ndtri(stats.cloud_p_pct / 100.0)
    # Z: Gamma(10, 0.1) quantile of the water-vapour driver, tabulated
    zgrid = np.linspace(-9.0, 9.0, 18001)
    ztab = _gamma_z_ppf(special.ndtr(zgrid))

    rain = np.empty(n)
    rate = np.empty(n)
    liquid = np.empty(n)
    awv_zen = np.empty(n)
    zfac = np.empty(n)
    for s in range(0, n, _CHUNK):
        e = min(n, s + _CHUNK)
        w = rng_w.standard_normal(e - s)
        out = []
        for k in range(4):
            y, zi[k] = signal.lfilter(coef[k][0], coef[k][1], w, zi=zi[k])
            out.append(y)
        g = _GAMMA1 * out[0] + _GAMMA2 * out[1]
        gwv = out[2]
        cloudy = np.flatnonzero(g > alpha_c)
        qg = special.ndtr(-g[cloudy])  # Q(G) where it matters (G > alpha_c >= alpha_r in practice)
        rain_c = np.zeros(e - s)
        rate_c = np.zeros(e - s)
        if stats.synthesis == "P.1853-2":
            wet = cloudy[g[cloudy] > alpha_r]
            qn = -special.ndtri(np.minimum(special.ndtr(-g[wet]) / (p_rain / 100.0), 1.0))
            el_w = el_c[s:e][wet]
            if stats.rain_marginal == "p618":
                rain_c[wet] = np.exp(_table_lookup(qn, el_w, zk, ln_a, grid))
                rate_c[wet] = np.exp(_table_lookup(qn, None, zk, ln_r, grid))
            else:
                m_el = np.interp(el_w, grid, stats.rain_m)
                rain_c[wet] = np.exp(m_el + np.interp(el_w, grid, stats.rain_s) * qn)
                rate_c[wet] = np.exp(stats.rate_m + stats.rate_s * qn)
        else:
            x = out[3]
            wet = np.flatnonzero(x > alpha_r)
            el_w = el_c[s:e][wet]
            m_el = np.interp(el_w, grid, stats.rain_m)
            s_el = np.interp(el_w, grid, stats.rain_s)
            rain_c[wet] = np.maximum(np.exp(m_el + s_el * x[wet]) - np.exp(m_el + s_el * alpha_r), 0.0)
            rate_c[wet] = np.maximum(
                np.exp(stats.rate_m + stats.rate_s * x[wet]) - math.exp(stats.rate_m + stats.rate_s * alpha_r), 0.0
            )
        rain[s:e] = rain_c
        rate[s:e] = rate_c
        lw = np.zeros(e - s)
        qc = -special.ndtri(np.minimum(qg / (stats.cloud_p_pct / 100.0), 1.0))
        lw[cloudy] = np.exp(stats.cloud_m + stats.cloud_s * qc)
        liquid[s:e] = np.where(rain_c > 0.0, np.minimum(lw, 1.0), lw)
        with np.errstate(divide="ignore"):
            awv_zen[s:e] = stats.wv_lambda_db * (-np.log(special.ndtr(-gwv))) ** (1.0 / stats.wv_kappa)
        zfac[s:e] = np.interp(gwv, zgrid, ztab)

    pe = stats.path_el_deg
    cloud = liquid * stats.cloud_kl_db_per_kg_m2 * np.interp(el_c, pe, stats.cloud_factor_el)
    gas = np.interp(el_c, pe, stats.oxygen_db_el) + awv_zen * np.interp(el_c, pe, stats.wv_factor_el)

    # scintillation
    sci0 = _sc.unit_scintillation(n, dt, np.random.default_rng(s_scint))
    u = sci0 * _sc.fade_enhancement_correction(sci0) * zfac
    hi = el_c >= 5.0
    ad, ae = stats.antenna_diameter_m, stats.antenna_efficiency
    sigma = np.zeros(n)
    if np.any(hi):
        el_hi = el_c[hi]
        if np.ptp(el_hi) < 1e-9:
            sigma[hi] = float(_sc.p618_sigma_db(freq_hz, el_hi[0], stats.nwet, ad, ae))
        else:
            sigma[hi] = _sc.p618_sigma_db(freq_hz, el_hi, stats.nwet, ad, ae)
    scint = sigma * u
    if rain_scintillation:
        scint = np.where(rain > 1.0, scint * np.maximum(rain, 1.0) ** (5.0 / 12.0), scint)
    scint = np.where(hi, scint, 0.0)
    low = np.zeros(n)
    lo_mask = ~hi & visible
    if np.any(lo_mask):
        sig5 = float(_sc.p618_sigma_db(freq_hz, 5.0, stats.nwet, ad, ae))
        ul = u[lo_mask]
        fade = _sc.low_elevation_fade_db(
            _sc.product_ccdf_pct(ul),
            el_c[lo_mask],
            freq_hz,
            stats.lat_deg,
            stats.nwet,
            ad,
            ae,
            stats.alt_m,
            p_l_pct,
            water_fraction,
        )
        low[lo_mask] = np.where(ul > 0.0, fade, sig5 * ul)

    nan = np.where(visible, 1.0, np.nan)
    return WeatherSeries(
        t_s=t,
        elevation_deg=el,
        rain_db=rain * nan,
        cloud_db=cloud * nan,
        gas_db=gas * nan,
        scintillation_db=scint * nan,
        low_elevation_db=low * nan,
        rain_rate_mm_h=rate,
        cloud_liquid_kg_m2=liquid,
        scint_sigma_db=sigma * nan,
        stats=stats,
        seed=seed,
    )


def _gamma_z_ppf(q: np.ndarray) -> np.ndarray:
    """Gamma(10, scale 0.1) quantile function (the P.1853-2 scintillation intensity factor Z)."""
    return sstats.gamma.ppf(q, 10.0, scale=0.1)
