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
- **Rain** (``synthesis="P.1853-2"``, default): truncated conditional log-normal. P_rain = P0 (P.837); a
  least-squares fit ln A_i = m + s Q^-1(p_i / P_rain) to P.618 rain attenuation at p_i in {0.01 ... 10} % below
  P_rain; A = exp(m + s Q^-1(Q(G) / P_rain)) where G > Q^-1(P_rain), else 0. ``synthesis="P.1853-1"``: the
  Maseng-Bakken method: one Gauss-Markov X (beta = 2e-4 /s), fit ln A_i = m + s Q^-1(p_i), A = max(exp(m + s X)
  - A_offset, 0), A_offset = exp(m + s Q^-1(P_rain)). The rain rate R(t) (mm/h) uses the same construction
  fitted to P.837 R(p), so it is co-monotone with rain attenuation (for wet-antenna events).
- **Elevation varies with time.** Rain: (m, s) are fitted on an elevation grid (0.5 deg steps over the span of the
  input) and interpolated, so rain follows P.618's elevation dependence, not a 1/sin law. Cloud: liquid water
  L(t) (log-normal of P.840, m, s and P_clw from P.840's log-normal approximation, truncated and driven by G as in
  P.1853-2) times K_l(f, 0 C) / sin(el) (P.840), during rain capped at L = 1 kg/m^2 (P.1853-2 MS_TOT_6). Water
  vapour: zenith attenuation with the Weibull law fitted to P.676/P.836 (P.1853-2 SS_WV), times a path factor;
  oxygen: P.676 zenith oxygen attenuation times a path factor. Path factors are 1/sin(el) at 5 deg and above;
  below 5 deg a spherical-shell factor (layer height 1 km for cloud, 2 km for water vapour, 6 km for oxygen),
  scaled to join 1/sin(el) at 5 deg.
- **Tropospheric scintillation** (el >= 5 deg): P.1853-2 MS_TOT_7-13: sigma(el) (P.618 2.4.1) x sci0 x C_x x Z
  (:mod:`linksim.scintillation`), Z = Gamma(10, 0.1) quantile of the water-vapour driver (the slowly varying
  scintillation intensity), times A_rain^(5/12) while A_rain > 1 dB (``rain_scintillation=True``).
- **Low elevation** (el < 5 deg): P.618 2.4.2/2.4.3 fade distribution, reached by quantile mapping of the same
  sci0 x C_x x Z process (its exact distribution is known), enhancements as at 5 deg. Reported in
  ``low_elevation_db``; ``scintillation_db`` is zero there (and ``low_elevation_db`` zero at 5 deg and above).

The site statistics come from the ``itur`` package (P.618-13, P.837-7, P.840-7, P.836, P.676-12, P.453), which is
what ``rec="P.618-13"`` names; other revisions are refused. P.1853 is specified for 4-55 GHz and 5-90 deg: a
ValidityWarning is issued outside that range. Rows with negative elevation (satellite below the horizon) are NaN.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal, special
from scipy import stats as sstats

from linksim import scintillation as _sc
from linksim.errors import InputError, ValidityWarning

__all__ = ["WeatherSeries", "SiteWeatherStats", "site_weather_stats", "synthesize_weather", "SUPPORTED_RECS"]

SUPPORTED_RECS = ("P.618-13",)
SYNTHESIS_RECS = ("P.1853-2", "P.1853-1")

# P.1853-2 filter constants
_BETA1, _BETA2, _GAMMA1, _GAMMA2 = 9.0186e-4, 5.0990e-5, 0.3746, 0.7738
_BETA_WV = 3.65e-6
_BETA_RAIN_1 = 2e-4  # P.1853-1 Maseng-Bakken
_P_FIT = np.array([0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0])  # P.1853 fit set
_P_TABLE = np.concatenate([[0.001, 0.002, 0.005], _P_FIT])  # P.618 is specified from 0.001 %
RAIN_MARGINALS = ("p618", "lognormal")
_P_WV = np.array([0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0])
_CHUNK = 1 << 20
_H_CLOUD_KM, _H_WV_KM, _H_OX_KM = 1.0, 2.0, 6.0
_RE_KM = 6371.0


# ---------------------------------------------------------------------------------------------------------------
# itur access (private; numpy error state restored around the import)
# ---------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _itur() -> Any:
    saved = np.geterr()
    try:
        import itur  # noqa: F401  (sets np.seterr(divide="ignore") on import)
        from itur.models import itu453, itu618, itu676, itu835, itu836, itu837, itu840
    finally:
        np.seterr(**saved)

    class _M:
        pass

    m = _M()
    m.itu453, m.itu618, m.itu676, m.itu835 = itu453, itu618, itu676, itu835
    m.itu836, m.itu837, m.itu840 = itu836, itu837, itu840
    return m


def _val(q: Any) -> np.ndarray:
    return np.asarray(getattr(q, "value", q), dtype=float)


# ---------------------------------------------------------------------------------------------------------------
# Site statistics
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteWeatherStats:
    """Fitted parameters of the synthesis for one site, frequency and elevation grid (SI units, dB, %)."""

    lat_deg: float
    lon_deg: float
    alt_m: float
    freq_hz: float
    synthesis: str
    p_rain_pct: float
    elevation_grid_deg: np.ndarray
    rain_m: np.ndarray  # ln-dB, per grid elevation
    rain_s: np.ndarray
    rain_fit_p_pct: np.ndarray  # P.618 exceedance percentages tabulated (below P_rain)
    rain_fit_db: np.ndarray  # P.618 rain attenuation at those percentages, shape (grid, p)
    rate_table_mm_h: np.ndarray  # P.837 rain rate at rain_fit_p_pct
    rain_marginal: str
    rate_m: float
    rate_s: float
    cloud_m: float  # ln(kg/m^2)
    cloud_s: float
    cloud_p_pct: float
    cloud_kl_db_per_kg_m2: float
    wv_kappa: float
    wv_lambda_db: float  # zenith water-vapour attenuation Weibull scale
    oxygen_zenith_db: float
    nwet: float
    scint_sigma_db: np.ndarray  # per grid elevation (el >= 5 deg; NaN below)
    extra: dict = field(default_factory=dict)


def _fit_lognormal(p_pct: np.ndarray, values: np.ndarray, p_ref_pct: float | None) -> tuple[float, float]:
    """Least squares ln v = m + s Q^-1(p / p_ref) (p_ref None: Q^-1(p/100))."""
    good = values > 0
    p = p_pct[good]
    q = -special.ndtri(p / p_ref_pct) if p_ref_pct is not None else -special.ndtri(p / 100.0)
    a = np.vstack([np.ones(q.size), q]).T
    (m, s), *_ = np.linalg.lstsq(a, np.log(values[good]), rcond=None)
    return float(m), float(s)


def _elevation_grid(el: np.ndarray) -> np.ndarray:
    lo, hi = float(np.nanmin(el)), float(np.nanmax(el))
    if hi - lo < 0.05:
        return np.array([0.5 * (lo + hi)])
    return np.arange(math.floor(lo * 2.0) / 2.0, math.ceil(hi * 2.0) / 2.0 + 0.25, 0.5)


def site_weather_stats(
    site_lat_deg: float,
    site_lon_deg: float,
    site_alt_m: float,
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

    ``rain_marginal`` (P.1853-2 only): ``"p618"`` maps the rain driver through P.618's own exceedance curve
    (tabulated at 0.001-10 % below P_rain, log-linear in Q^-1(p/P_rain) between points and beyond the ends), so
    the series reproduces P.618 at every percentage; ``"lognormal"`` uses P.1853-2's least-squares log-normal fit
    as published (its error grows to about -2.7 dB at 0.01 % for mid-latitude sites, see docs/weather.md).
    """
    if rec not in SUPPORTED_RECS:
        raise InputError(f"rec {rec!r} not supported for weather synthesis (supported: {', '.join(SUPPORTED_RECS)})")
    if synthesis not in SYNTHESIS_RECS:
        raise InputError(f"synthesis {synthesis!r} unknown (choose {', '.join(SYNTHESIS_RECS)})")
    if rain_marginal not in RAIN_MARGINALS:
        raise InputError(f"rain_marginal {rain_marginal!r} unknown (choose {', '.join(RAIN_MARGINALS)})")
    if synthesis == "P.1853-1":
        rain_marginal = "lognormal"
    m = _itur()
    lat, lon, hs_km, f_ghz = float(site_lat_deg), float(site_lon_deg), float(site_alt_m) / 1000.0, freq_hz / 1e9
    el_in = np.asarray(elevation_deg, dtype=float)
    el_in = el_in[np.isfinite(el_in) & (el_in >= 0.0)]
    if el_in.size == 0:
        raise InputError("no elevation at or above 0 deg: nothing to synthesize")
    grid = _elevation_grid(np.maximum(el_in, 0.5))
    grid = np.maximum(grid, 0.5)
    p_rain = float(_val(m.itu837.rainfall_probability(lat, lon)))
    pk = _P_TABLE[_P_TABLE < p_rain]
    if pk[pk >= 0.01].size < 2:
        raise InputError(f"rain probability P0 = {p_rain:.3g} % at this site is too small to fit a rain model")
    a_fit = np.empty((grid.size, pk.size))
    for j, p in enumerate(pk):
        a_fit[:, j] = np.atleast_1d(_val(m.itu618.rain_attenuation(lat, lon, f_ghz, grid, hs=hs_km, p=p, tau=tau_deg)))
    p_ref = p_rain if synthesis == "P.1853-2" else None
    in_fit = pk >= 0.01
    fits = [_fit_lognormal(pk[in_fit], a_fit[i, in_fit], p_ref) for i in range(grid.size)]
    rates = np.atleast_1d(_val(m.itu837.rainfall_rate(lat, lon, pk)))
    rate_m, rate_s = _fit_lognormal(pk[in_fit], rates[in_fit], p_ref)
    cm, cs, cp = (float(_val(v)) for v in m.itu840.lognormal_approximation_coefficient(lat, lon))
    kl = float(_val(m.itu840.specific_attenuation_coefficients(f_ghz, T=0)))
    v_p = np.atleast_1d(_val(m.itu836.total_water_vapour_content(lat, lon, _P_WV, alt=hs_km)))
    a_wv = np.atleast_1d(_val(m.itu676.zenit_water_vapour_attenuation(lat, lon, 50.0, f_ghz, V_t=v_p, h=hs_km)))
    # Weibull P(A > a) = exp(-(a/lambda)^kappa): ln(-ln(p/100)) = kappa ln a - kappa ln lambda
    kappa, b = np.polyfit(np.log(a_wv), np.log(-np.log(_P_WV / 100.0)), 1)
    lam = math.exp(-b / kappa)
    # oxygen at zenith: P.676 slant path at 90 deg minus its water-vapour part (median conditions)
    v50 = float(np.atleast_1d(_val(m.itu836.total_water_vapour_content(lat, lon, 50.0, alt=hs_km)))[0])
    rho50 = float(np.atleast_1d(_val(m.itu836.surface_water_vapour_density(lat, lon, 50.0, alt=hs_km)))[0])
    p_hpa = float(_val(m.itu835.standard_pressure(hs_km)))
    t_k = float(_val(m.itu835.standard_temperature(hs_km)))
    with warnings.catch_warnings():  # itur warns at exactly 90 deg although P.676 covers it
        warnings.simplefilter("ignore")
        a_tot90 = float(_val(m.itu676.gaseous_attenuation_slant_path(f_ghz, 90.0, rho50, p_hpa, t_k, V_t=v50, h=hs_km)))
    a_w90 = float(
        np.atleast_1d(_val(m.itu676.zenit_water_vapour_attenuation(lat, lon, 50.0, f_ghz, V_t=v50, h=hs_km)))[0]
    )
    oxygen = max(a_tot90 - a_w90, 0.0)
    nwet = float(np.atleast_1d(_val(m.itu453.map_wet_term_radio_refractivity(lat, lon, 50.0)))[0])
    sig = np.where(
        grid >= 5.0,
        _sc.p618_sigma_db(freq_hz, np.maximum(grid, 5.0), nwet, antenna_diameter_m, antenna_efficiency),
        np.nan,
    )
    return SiteWeatherStats(
        lat_deg=lat,
        lon_deg=lon,
        alt_m=float(site_alt_m),
        freq_hz=float(freq_hz),
        synthesis=synthesis,
        p_rain_pct=p_rain,
        elevation_grid_deg=grid,
        rain_m=np.array([f[0] for f in fits]),
        rain_s=np.array([f[1] for f in fits]),
        rain_fit_p_pct=pk,
        rain_fit_db=a_fit,
        rate_table_mm_h=rates,
        rain_marginal=rain_marginal,
        rate_m=rate_m,
        rate_s=rate_s,
        cloud_m=cm,
        cloud_s=cs,
        cloud_p_pct=cp,
        cloud_kl_db_per_kg_m2=kl,
        wv_kappa=float(kappa),
        wv_lambda_db=lam,
        oxygen_zenith_db=oxygen,
        nwet=nwet,
        scint_sigma_db=sig,
        extra={
            "antenna_diameter_m": antenna_diameter_m,
            "antenna_efficiency": antenna_efficiency,
            "tau_deg": tau_deg,
            "rec": rec,
        },
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


def _path_factor(el_deg: np.ndarray, h_km: float) -> np.ndarray:
    """1/sin(el) at >= 5 deg; below, the spherical-shell factor L(h)/h scaled to join at 5 deg."""

    def shell(e: np.ndarray) -> np.ndarray:
        s = np.sin(np.radians(e))
        return (np.sqrt((_RE_KM + h_km) ** 2 - (_RE_KM * np.cos(np.radians(e))) ** 2) - _RE_KM * s) / h_km

    e = np.asarray(el_deg, dtype=float)
    out = 1.0 / np.sin(np.radians(np.maximum(e, 5.0)))
    low = e < 5.0
    if np.any(low):
        k = (1.0 / math.sin(math.radians(5.0))) / float(shell(np.array(5.0)))
        out = np.array(out, copy=True)
        out[low] = k * shell(np.maximum(e[low], 0.0))
    return out


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
    site_alt_m: float,
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
    :func:`linksim.scintillation.low_elevation_fade_db`). ``stats``: reuse a :func:`site_weather_stats` result
    (its elevation grid must cover ``elevation_deg``). Memory: the outputs plus about 10 work arrays of 2^20
    samples.
    """
    t, dt = _check_time(t_s)
    n = t.size
    el = np.broadcast_to(np.asarray(elevation_deg, dtype=float), t.shape).astype(float)
    if not np.all(np.isfinite(el)):
        raise InputError("elevation_deg contains NaN or inf")
    if not 1e8 <= freq_hz <= 1e12:
        raise InputError(f"freq_hz {freq_hz:g} out of range")
    visible = el >= 0.0
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
            "P.676 at the actual elevation and scintillation follows P.618 2.4.2/2.4.3",
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
    el_c = np.clip(el, 0.5, 90.0)
    grid = stats.elevation_grid_deg
    if el_c[visible].size and (el_c[visible].min() < grid[0] - 0.5 or el_c[visible].max() > grid[-1] + 0.5):
        raise InputError("elevation_deg outside the elevation grid of the given stats")

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

    cloud = liquid * stats.cloud_kl_db_per_kg_m2 * _path_factor(el_c, _H_CLOUD_KM)
    gas = stats.oxygen_zenith_db * _path_factor(el_c, _H_OX_KM) + awv_zen * _path_factor(el_c, _H_WV_KM)

    # scintillation
    sci0 = _sc.unit_scintillation(n, dt, np.random.default_rng(s_scint))
    u = sci0 * _sc.fade_enhancement_correction(sci0) * zfac
    hi = el_c >= 5.0
    ad, ae = stats.extra["antenna_diameter_m"], stats.extra["antenna_efficiency"]
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
