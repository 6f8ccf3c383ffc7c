"""Long-term atmospheric propagation statistics (ITU-R) through the `itur` package.

A thin adapter over `itur` 0.4.0:

- `itur` is imported lazily, on the first call that needs it (not at `import linksim`), and numpy's error
  settings (`np.geterr()`) are saved before and restored after the import and after every call into `itur`
  (`import itur` sets ``divide="ignore"`` for the whole process).
- Inputs are plain floats / numpy arrays with the unit in the name (`freq_hz`, `elevation_deg`, `alt_m`,
  `p_pct`); outputs are plain numpy float arrays (no astropy Quantity leaks out).
- A recommendation's revision is a parameter (`rec="P.618-13"`, `gas_rec="P.676-12"`,
  `cloud_rec="P.840-8"`, `rain_rate_rec="P.837-7"`, `rain_height_rec="P.839-4"`). The adapter swaps the
  `itur` model object for the requested revision in, computes, and puts the previous object back: `itur`'s
  global revision is the same after every call as before it. Revisions `itur` does not implement are refused
  with `InputError`.

Elevation handling (all functions are vectorised over `elevation_deg`; lat/lon/frequency are scalars):

- elevation <= 0 deg (satellite below the horizon, e.g. the ends of a LEO pass): NaN, with the
  low-elevation flag set in `atmospheric_losses`.
- 0 < elevation < 5 deg: P.676 (slant-path approximation), P.840 and P.618 section 2.4.1 (scintillation)
  are specified for 5 to 90 deg. The results are returned with the `low_elevation` flag set and ONE
  `ValidityWarning` per call (never one per row). What is computed there:

  * gas (P.676): itur 0.4.0 has no low-elevation form of the Annex 2 slant-path approximation (its only
    alternative is the Annex 1 ray tracing, `mode="exact"`: about 0.2 s a point, not vectorised, and it
    starts from sea level with standard profiles, ignoring the station height and the P.836 water vapour).
    Below 5 deg the adapter keeps the P.676 zenith oxygen and water-vapour attenuations and replaces the flat-Earth
    1/sin(el) path factor by the curved-Earth factor of the earlier P.676 Annex 2 low-elevation formula,
    m(el, h) = sqrt(Re/h) F(tan(el) sqrt(Re/h)) / cos(el), F(x) = 1/(0.661 x + 0.339 sqrt(x^2 + 5.51)),
    Re = 8500 km, with the oxygen and water-vapour equivalent heights h0, hw of P.676 Annex 2; each factor is
    scaled so that it equals 1/sin(5 deg) at 5 deg (the result is continuous there). It stays finite at 0 deg.
    Its elevation dependence follows itur's Annex 1 ray tracing within 7 % from 5 down to 0.5 deg: at a
    sea-level site at 78.22 N, 20.2 GHz, 1 %, the ratio to the ray-traced value is 1.545 at 5 deg, 1.537 at
    3 deg, 1.483 at 1 deg and 1.443 at 0.5 deg (the constant part of the offset is Annex 2's integrated
    water vapour at p against the ray tracing's standard profile); with 1/sin(el) the ratio would reach 2.26
    at 1 deg and 3.34 at 0.5 deg.
  * cloud (P.840): zenith attenuation times the curved-Earth path factor through a layer of thickness
    h = 2 km (a project assumption, P.618 eq. 2 geometry), 2 / (sqrt(sin^2 el + 2 h/Re) + sin el),
    scaled to be continuous at 5 deg. Finite at 0 deg.
  * rain (P.618 section 2.2.1.1): P.618 covers low elevation itself (its eq. 2); itur's value is used as is.
  * scintillation and multipath fading: P.618 sections 2.4.2 (deep fading) and 2.4.3 (shallow fading) in place
    of 2.4.1 (itur has neither; linksim.propagation.scintillation.low_elevation_fade_db): the fade exceeded p %
    of the time at the apparent elevation, joining the 2.4.1 value at 5 deg. Its geoclimatic inputs are p_L
    (% of time the refractivity gradient is below -100 N/km, default 5 %, P.453 maps) and the path's water
    fraction (default 0). P.618 gives the method for 0.5 to 5 deg; below 0.5 deg the value is computed and noted.

Long timelines: `atmospheric_losses` computes the site/frequency/percentage constants once (zenith gas
and cloud attenuation, Nwet, and rain on a grid of elevations: every `grid_step_deg` = 0.025 deg from 0 to
90 deg, refined geometrically within 1 deg of 0 and 90 deg, with the P.618 eq. 1/eq. 2 switch at 5 deg kept
as a grid break), caches them per (site, frequency, p, antenna, polarization, revisions), and evaluates any
number of elevations in closed form (gas, cloud, scintillation: no interpolation) and by linear
interpolation (rain: at most 0.0025 dB from direct evaluation at the three validation-style sites tested in
tests/test_propagation.py, which asserts < 0.01 dB). 86400 elevations take about 40 ms once cached.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError, ValidityWarning

__all__ = [
    "AtmosphericLosses",
    "Climate",
    "atmospheric_losses",
    "climate",
    "cloud_db",
    "gas_db",
    "gas_specific_attenuation_db_km",
    "rain_db",
    "rain_db_at_exceedance",
    "rain_path_probability_pct",
    "rain_probability_pct",
    "rain_rate_exceedance_mm_h",
    "scintillation_db",
    "scintillation_factor_a",
    "scintillation_sigma_db",
    "sky_noise_temp_k",
]

EFFECTIVE_EARTH_RADIUS_KM = 8500.0  # P.618 / P.676 effective Earth radius
LOW_ELEVATION_DEG = 5.0  # lower validity limit of P.676 Annex 2 slant path, P.840 and P.618 section 2.4.1
CLOUD_LAYER_KM = 2.0  # layer thickness used for the cloud path factor below 5 deg (project assumption)
MAP_MIN_P_PCT = 0.1  # the P.836 water-vapour and P.840 cloud maps start at 0.1 %
T_MR_DEFAULT_K = 275.0
T_COSMIC_K = 2.7

# itur module for each recommendation, and the revisions itur 0.4.0 implements that this adapter accepts.
_ITUR_MODULES = {
    "P.618": "itu618",
    "P.676": "itu676",
    "P.840": "itu840",
    "P.837": "itu837",
    "P.839": "itu839",
    "P.453": "itu453",
    "P.835": "itu835",
    "P.836": "itu836",
    "P.1510": "itu1510",
    "P.1511": "itu1511",
}
# Every itur call runs with all of these revisions swapped in (a call's explicit revisions override them), so
# results never depend on itur's global state (what another module may have set). The supporting
# recommendations without a revision parameter are pinned at itur 0.4.0's defaults.
_PINNED = {
    "P.618": 13,
    "P.676": 12,
    "P.840": 8,
    "P.837": 7,
    "P.839": 4,
    "P.453": 13,
    "P.835": 6,
    "P.836": 6,
    "P.1510": 1,
    "P.1511": 2,
}
_SUPPORTED = {
    "P.618": (12, 13),
    "P.676": (10, 11, 12),
    "P.840": (6, 7, 8),
    "P.837": (6, 7),
    "P.839": (2, 3, 4),
}

_lock = threading.RLock()
_itur: Any = None
_instances: dict[tuple[str, int], Any] = {}


# ----------------------------------------------------------------------------------------------------
# itur plumbing: lazy import, numpy error state, revisions
# ----------------------------------------------------------------------------------------------------


def _load_itur() -> Any:
    """Import itur on first use, keeping numpy's error settings as they were."""
    global _itur
    if _itur is None:
        with _lock:
            if _itur is None:
                saved = np.geterr()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        import itur  # lazy on purpose: slow, and it changes np.seterr
                        import itur.models  # noqa: F401
                finally:
                    np.seterr(**saved)
                _itur = itur
    return _itur


def _parse_rec(rec: str, family: str) -> int:
    """'P.618-13' -> 13 for family 'P.618'; InputError for another family or a revision itur lacks."""
    text = str(rec).strip().upper().replace("ITU-R ", "")
    prefix = family.upper() + "-"
    if not text.startswith(prefix) or not text[len(prefix) :].isdigit():
        example = f"{family}-{_SUPPORTED[family][-1]}"
        raise InputError(f"recommendation {rec!r}: expected '{family}-N' (e.g. '{example}')")
    version = int(text[len(prefix) :])
    if version not in _SUPPORTED[family]:
        known = ", ".join(f"{family}-{v}" for v in _SUPPORTED[family])
        raise InputError(f"recommendation {rec!r} is not available (itur 0.4.0 implements {known})")
    return version


def _model_instance(family: str, version: int) -> Any:
    """The itur model object for one revision (created once and cached: it holds the loaded maps)."""
    key = (family, version)
    inst = _instances.get(key)
    if inst is None:
        mod = getattr(_load_itur().models, _ITUR_MODULES[family])
        current = mod.__dict__["__model"]
        if current.__version__ == version:
            inst = current
        else:
            try:
                mod.change_version(version)
                inst = mod.__dict__["__model"]
            finally:
                mod.__dict__["__model"] = current
        _instances[key] = inst
    return inst


@contextlib.contextmanager
def _itur_call(revisions: dict[str, int] | None = None) -> Iterator[Any]:
    """Run itur code with the given revisions swapped in, its warnings silenced and numpy's error state kept.

    Everything is put back afterwards (the very same model objects), so itur's global state is unchanged.
    """
    itur = _load_itur()
    with _lock:
        saved_err = np.geterr()
        swapped: list[tuple[Any, Any]] = []
        try:
            for family, version in {**_PINNED, **(revisions or {})}.items():
                mod = getattr(itur.models, _ITUR_MODULES[family])
                inst = _model_instance(family, version)
                swapped.append((mod, mod.__dict__["__model"]))
                mod.__dict__["__model"] = inst
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield itur
        finally:
            for mod, previous in reversed(swapped):
                mod.__dict__["__model"] = previous
            np.seterr(**saved_err)


def _value(q: Any) -> np.ndarray:
    """Plain float ndarray from an astropy Quantity (or anything array-like)."""
    return np.array(getattr(q, "value", q), dtype=float)


# ----------------------------------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------------------------------


def _scalar(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    try:
        arr = None if isinstance(value, (str, bytes)) else np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 0 or not math.isfinite(float(arr)):
        raise InputError(f"{name}: expected one finite number, got {value!r}")
    x = float(arr)
    if lo is not None and x < lo:
        raise InputError(f"{name}: {x:g} is below {lo:g}")
    if hi is not None and x > hi:
        raise InputError(f"{name}: {x:g} is above {hi:g}")
    return x


def _site(lat_deg: Any, lon_deg: Any) -> tuple[float, float]:
    lat = _scalar("lat_deg", lat_deg, -90.0, 90.0)
    lon = _scalar("lon_deg", lon_deg, -360.0, 360.0)
    return lat, lon


def _freq_ghz(freq_hz: Any) -> float:
    f = _scalar("freq_hz", freq_hz, 1e6, 1e12)
    return f / 1e9


def _p(p_pct: Any, lo: float = 0.001, hi: float = 50.0) -> float:
    return _scalar("p_pct", p_pct, lo, hi)


def _elevation(elevation_deg: ArrayLike) -> np.ndarray:
    try:
        el = np.asarray(elevation_deg, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"elevation_deg: expected numbers, got {elevation_deg!r}") from None
    if np.any(el > 90.0):
        raise InputError(f"elevation_deg: {float(np.nanmax(el)):g} is above 90 deg")
    return el


def _alt_km(lat: float, lon: float, alt_m: Any) -> float:
    if alt_m is None:
        return climate(lat, lon).alt_m / 1000.0
    return _scalar("alt_m", alt_m, -500.0, 9000.0) / 1000.0


def _warn_low(where: str, el: np.ndarray, extra: list[str] | None = None, stacklevel: int = 3) -> None:
    """ONE ValidityWarning for a call: elevations in (0, 5) deg, plus any other validity issue in `extra`."""
    issues = list(extra or [])
    n = int(np.count_nonzero((el > 0.0) & (el < LOW_ELEVATION_DEG)))
    if n:
        issues.insert(
            0,
            f"{n} elevation(s) between 0 and {LOW_ELEVATION_DEG:g} deg are outside the validity range of the "
            "P.676 slant-path approximation / P.840 / P.618 section 2.4.1; values are flagged",
        )
    if issues:
        warnings.warn(f"{where}: " + "; ".join(issues), ValidityWarning, stacklevel=stacklevel)


# ----------------------------------------------------------------------------------------------------
# climate (P.837, P.839, P.453, P.1510, P.1511)
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Climate:
    """ITU-R climatology of a site (annual statistics from the ITU-R digital maps)."""

    lat_deg: float
    lon_deg: float
    alt_m: float  # station height above mean sea level (given, or P.1511 topography)
    r001_mm_h: float  # rain rate exceeded 0.01 % of an average year (P.837)
    p0_rain_pct: float  # probability of rain in an average year (P.837), %
    rain_height_km: float  # rain height above mean sea level (P.839: 0 deg isotherm + 0.36 km)
    zero_isotherm_km: float  # mean annual 0 deg C isotherm height (P.839)
    nwet_median: float  # median wet term of the surface refractivity, N-units (P.453 map, 50 %)
    surface_temp_k: float  # annual mean surface temperature (P.1510)
    surface_pressure_hpa: float  # standard pressure at the station height (P.835)


@functools.lru_cache(maxsize=256)
def _climate_cached(lat: float, lon: float, alt_m: float | None, v837: int, v839: int) -> Climate:
    with _itur_call({"P.837": v837, "P.839": v839}) as itur:
        m = itur.models
        if alt_m is None:
            alt_m = float(_value(m.itu1511.topographic_altitude(lat, lon))) * 1000.0
        return Climate(
            lat_deg=lat,
            lon_deg=lon,
            alt_m=float(alt_m),
            r001_mm_h=float(_value(m.itu837.rainfall_rate(lat, lon, 0.01))),
            p0_rain_pct=float(_value(m.itu837.rainfall_probability(lat, lon))),
            rain_height_km=float(_value(m.itu839.rain_height(lat, lon))),
            zero_isotherm_km=float(_value(m.itu839.isoterm_0(lat, lon))),
            nwet_median=float(_value(m.itu453.map_wet_term_radio_refractivity(lat, lon, 50))),
            surface_temp_k=float(_value(m.itu1510.surface_mean_temperature(lat, lon))),
            surface_pressure_hpa=float(_value(m.itu835.standard_pressure(float(alt_m) / 1000.0))),
        )


def climate(
    lat_deg: float,
    lon_deg: float,
    alt_m: float | None = None,
    rain_rate_rec: str = "P.837-7",
    rain_height_rec: str = "P.839-4",
) -> Climate:
    """ITU-R climatology at a site: R0.01, rain probability, rain height, Nwet, mean temperature, height.

    `alt_m` None takes the station height from the P.1511 topography map. Cached per site.
    """
    lat, lon = _site(lat_deg, lon_deg)
    alt = None if alt_m is None else _scalar("alt_m", alt_m, -500.0, 9000.0)
    v837 = _parse_rec(rain_rate_rec, "P.837")
    return _climate_cached(lat, lon, alt, v837, _parse_rec(rain_height_rec, "P.839"))


def rain_rate_exceedance_mm_h(
    lat_deg: float, lon_deg: float, p_pct: ArrayLike, rain_rate_rec: str = "P.837-7"
) -> np.ndarray:
    """Point rain rate (mm/h) exceeded `p_pct` % of an average year (P.837). Vectorised over p_pct."""
    lat, lon = _site(lat_deg, lon_deg)
    p = np.asarray(p_pct, dtype=float)
    if np.any(~np.isfinite(p)) or np.any(p <= 0.0) or np.any(p > 100.0):
        raise InputError("p_pct: expected percentages in (0, 100]")
    v = _parse_rec(rain_rate_rec, "P.837")
    with _itur_call({"P.837": v}) as itur:
        out = [float(_value(itur.models.itu837.rainfall_rate(lat, lon, float(x)))) for x in p.ravel()]
    return np.asarray(out, dtype=float).reshape(p.shape)


def rain_probability_pct(lat_deg: float, lon_deg: float, rain_rate_rec: str = "P.837-7") -> float:
    """Probability of rain at the site in an average year, % (P.837 P0)."""
    lat, lon = _site(lat_deg, lon_deg)
    return climate(lat, lon, rain_rate_rec=rain_rate_rec).p0_rain_pct


def rain_path_probability_pct(
    lat_deg: float, lon_deg: float, elevation_deg: float, alt_m: float | None = None, rec: str = "P.618-13"
) -> float:
    """Probability of non-zero rain attenuation on the slant path, % (P.618 section 2.2.1.2)."""
    lat, lon = _site(lat_deg, lon_deg)
    el = _scalar("elevation_deg", elevation_deg, 0.0, 90.0)
    hs = _alt_km(lat, lon, alt_m)
    with _itur_call({"P.618": _parse_rec(rec, "P.618")}) as itur:
        return float(_value(itur.models.itu618.rain_attenuation_probability(lat, lon, el, hs)))


# ----------------------------------------------------------------------------------------------------
# gas (P.676 Annex 2 slant path, P.836 water vapour, P.835 pressure, P.1510 temperature)
# ----------------------------------------------------------------------------------------------------


def gas_specific_attenuation_db_km(
    freq_hz: ArrayLike,
    pressure_hpa: ArrayLike,
    temp_k: ArrayLike,
    rho_g_m3: ArrayLike,
    gas_rec: str = "P.676-12",
) -> tuple[np.ndarray, np.ndarray]:
    """Specific attenuation (dB/km) of dry air (oxygen) and water vapour, P.676 Annex 1 line-by-line sum.

    Returns (gamma_oxygen_db_km, gamma_water_db_km); their sum is the total specific attenuation.
    """
    f_ghz = np.asarray(freq_hz, dtype=float) / 1e9
    p, t, rho = (np.asarray(x, dtype=float) for x in (pressure_hpa, temp_k, rho_g_m3))
    f_ghz, p, t, rho = np.broadcast_arrays(f_ghz, p, t, rho)
    if np.any(f_ghz < 1.0) or np.any(f_ghz > 1000.0):
        raise InputError("freq_hz: P.676 Annex 1 covers 1 to 1000 GHz")
    v = _parse_rec(gas_rec, "P.676")
    with _itur_call({"P.676": v}) as itur:
        m = itur.models.itu676
        args = list(zip(f_ghz.ravel(), p.ravel(), rho.ravel(), t.ravel(), strict=True))
        go = np.array([float(_value(m.gamma0_exact(*a))) for a in args])
        gw = np.array([float(_value(m.gammaw_exact(*a))) for a in args])
    return go.reshape(f_ghz.shape), gw.reshape(f_ghz.shape)


@dataclass(frozen=True)
class _GasZenith:
    oxygen_db: float  # zenith oxygen attenuation A_o = gamma_o h_o
    water_db: float  # zenith water-vapour attenuation A_w
    h_oxygen_km: float  # equivalent heights (P.676 Annex 2)
    h_water_km: float


@functools.lru_cache(maxsize=1024)
def _gas_zenith(
    lat: float,
    lon: float,
    f_ghz: float,
    p: float,
    hs_km: float,
    v676: int,
    rho: float | None,
    pressure_hpa: float | None,
    temp_k: float | None,
    v_t: float | None,
) -> _GasZenith:
    if temp_k is None:
        temp_k = climate(lat, lon).surface_temp_k
    with _itur_call({"P.676": v676}) as itur:
        m = itur.models
        if pressure_hpa is None:
            pressure_hpa = float(_value(m.itu835.standard_pressure(hs_km)))
        if v_t is None:
            v_t = float(_value(m.itu836.total_water_vapour_content(lat, lon, p, hs_km)))
        if rho is None:
            rho = float(_value(m.itu836.surface_water_vapour_density(lat, lon, p, hs_km)))
        # The Annex 2 slant-path approximation is (A_o + A_w) / sin(el); evaluate it at 45 deg (inside its
        # validity range) and take the zenith value back out: exact, and one itur call per site.
        el_ref = 45.0
        slant = m.itu676.gaseous_attenuation_slant_path(f_ghz, el_ref, rho, pressure_hpa, temp_k, v_t, hs_km)
        total = float(_value(slant))
        zenith = total * math.sin(math.radians(el_ref))
        water = float(_value(m.itu676.zenit_water_vapour_attenuation(lat, lon, p, f_ghz, v_t, hs_km)))
        h0, hw = m.itu676.slant_inclined_path_equivalent_height(f_ghz, pressure_hpa, rho, temp_k)
    return _GasZenith(zenith - water, water, float(_value(h0)), float(_value(hw)))


def _f_annex2(x: np.ndarray) -> np.ndarray:
    return 1.0 / (0.661 * x + 0.339 * np.sqrt(x * x + 5.51))


def _low_elevation_path_factor(el_deg: np.ndarray, curved: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """1/sin(el) from LOW_ELEVATION_DEG up; below it `curved(el)` (a curved-Earth path factor), scaled to be
    continuous at LOW_ELEVATION_DEG. NaN at or below 0 deg."""
    el = np.asarray(el_deg, dtype=float)
    out = np.full(el.shape, np.nan)
    hi = el >= LOW_ELEVATION_DEG
    out[hi] = 1.0 / np.sin(np.radians(el[hi]))
    lo = (el > 0.0) & ~hi
    if np.any(lo):
        scale = (1.0 / math.sin(math.radians(LOW_ELEVATION_DEG))) / curved(np.array(LOW_ELEVATION_DEG))
        out[lo] = curved(el[lo]) * scale
    return out


def _exponential_path_factor(el_deg: np.ndarray, h_km: float) -> np.ndarray:
    """Path factor through an exponential atmosphere of scale height h: 1/sin(el) from 5 deg up; below 5 deg
    the curved-Earth P.676 Annex 2 form, scaled to be continuous at 5 deg. NaN at or below 0 deg."""
    k = math.sqrt(EFFECTIVE_EARTH_RADIUS_KM / h_km)

    def curved(e: np.ndarray) -> np.ndarray:
        r = np.radians(e)
        return k * _f_annex2(np.tan(r) * k) / np.cos(r)

    return _low_elevation_path_factor(el_deg, curved)


def _layer_path_factor(el_deg: np.ndarray, h_km: float) -> np.ndarray:
    """Path factor through a layer of thickness h: 1/sin(el) from 5 deg up; below, the curved-Earth layer
    geometry (P.618 eq. 2 form) scaled to be continuous at 5 deg. NaN at or below 0 deg."""
    c = 2.0 * h_km / EFFECTIVE_EARTH_RADIUS_KM

    def curved(e: np.ndarray) -> np.ndarray:
        s = np.sin(np.radians(e))
        return 2.0 / (np.sqrt(s * s + c) + s)

    return _low_elevation_path_factor(el_deg, curved)


def _gas_from_zenith(z: _GasZenith, el: np.ndarray) -> np.ndarray:
    return z.oxygen_db * _exponential_path_factor(el, z.h_oxygen_km) + z.water_db * _exponential_path_factor(
        el, z.h_water_km
    )


def gas_db(
    lat_deg: float,
    lon_deg: float,
    freq_hz: float,
    elevation_deg: ArrayLike,
    p_pct: float,
    alt_m: float | None = None,
    gas_rec: str = "P.676-12",
    *,
    rho_g_m3: float | None = None,
    pressure_hpa: float | None = None,
    temp_k: float | None = None,
    v_t_kg_m2: float | None = None,
) -> np.ndarray:
    """Gaseous attenuation (dB) on the slant path exceeded `p_pct` % of the time: P.676 Annex 2 approximation
    (zenith oxygen + zenith water vapour by the integrated-water-vapour method) over 1/sin(el).

    Meteorological inputs default to the ITU-R maps: surface water-vapour density and integrated water
    vapour at p (P.836), standard pressure at the station height (P.835), annual mean temperature (P.1510).
    Give `rho_g_m3`, `pressure_hpa`, `temp_k`, `v_t_kg_m2` to override them (e.g. local data). The P.836 maps
    start at 0.1 %: for p < 0.1 % the 0.1 % water vapour is used (as in the ITU-R validation examples).
    Below 5 deg see the module docstring (curved-Earth path factor, ValidityWarning); NaN at el <= 0.
    """
    el = _elevation(elevation_deg)
    _warn_low("gas_db", el)
    met = (rho_g_m3, pressure_hpa, temp_k, v_t_kg_m2)
    return _gas_db(lat_deg, lon_deg, freq_hz, el, p_pct, alt_m, gas_rec, *met)


def _gas_db(
    lat_deg: Any,
    lon_deg: Any,
    freq_hz: Any,
    el: np.ndarray,
    p_pct: Any,
    alt_m: Any,
    gas_rec: str,
    rho: Any = None,
    pressure: Any = None,
    temp: Any = None,
    v_t: Any = None,
) -> np.ndarray:
    lat, lon = _site(lat_deg, lon_deg)
    f = _freq_ghz(freq_hz)
    p = max(_p(p_pct), MAP_MIN_P_PCT)
    hs = _alt_km(lat, lon, alt_m)
    named = (("rho_g_m3", rho), ("pressure_hpa", pressure), ("temp_k", temp), ("v_t_kg_m2", v_t))
    opt = [None if x is None else _scalar(n, x, 0.0) for n, x in named]
    z = _gas_zenith(lat, lon, f, p, hs, _parse_rec(gas_rec, "P.676"), *opt)
    return _gas_from_zenith(z, el)


# ----------------------------------------------------------------------------------------------------
# cloud (P.840)
# ----------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _cloud_zenith(lat: float, lon: float, f_ghz: float, p: float, v840: int) -> float:
    with _itur_call({"P.840": v840}) as itur:
        return float(_value(itur.models.itu840.cloud_attenuation(lat, lon, 90.0, f_ghz, p)))


def cloud_db(
    lat_deg: float,
    lon_deg: float,
    freq_hz: float,
    elevation_deg: ArrayLike,
    p_pct: float,
    cloud_rec: str = "P.840-8",
) -> np.ndarray:
    """Cloud attenuation (dB) exceeded `p_pct` % of the time (P.840: L_red(p) K_l(f) / sin(el)).

    The P.840 maps start at 0.1 %: for p < 0.1 % the 0.1 % value is used (as in the ITU-R validation examples).

    Below 5 deg see the module docstring (layer path factor, ValidityWarning); NaN at el <= 0.
    """
    el = _elevation(elevation_deg)
    _warn_low("cloud_db", el)
    return _cloud_db(lat_deg, lon_deg, freq_hz, el, p_pct, cloud_rec)


def _cloud_db(lat_deg: Any, lon_deg: Any, freq_hz: Any, el: np.ndarray, p_pct: Any, cloud_rec: str) -> np.ndarray:
    lat, lon = _site(lat_deg, lon_deg)
    p = max(_p(p_pct), MAP_MIN_P_PCT)
    z = _cloud_zenith(lat, lon, _freq_ghz(freq_hz), p, _parse_rec(cloud_rec, "P.840"))
    return z * _layer_path_factor(el, CLOUD_LAYER_KM)


# ----------------------------------------------------------------------------------------------------
# rain (P.618 section 2.2.1.1 with P.837, P.838, P.839)
# ----------------------------------------------------------------------------------------------------


def rain_db(
    lat_deg: float,
    lon_deg: float,
    freq_hz: float,
    elevation_deg: ArrayLike,
    p_pct: ArrayLike,
    alt_m: float | None = None,
    polarization_tilt_deg: float = 45.0,
    r001_mm_h: float | None = None,
    rec: str = "P.618-13",
    rain_rate_rec: str = "P.837-7",
    rain_height_rec: str = "P.839-4",
) -> np.ndarray:
    """Rain attenuation (dB) exceeded `p_pct` % of an average year (P.618 section 2.2.1.1).

    Broadcasts over `elevation_deg` and `p_pct` (one itur evaluation per distinct p). `polarization_tilt_deg`
    is the tilt to the horizontal (45 for circular). `r001_mm_h` None takes R0.01 from P.837. P.618 gives this
    method for 0.001 % <= p <= 5 %: outside it a ValidityWarning is emitted. P.618 covers low elevation itself
    (eq. 2), so no low-elevation flag here. NaN at el <= 0.
    """
    el = _elevation(elevation_deg)
    p = np.asarray(p_pct, dtype=float)
    if np.any(~np.isfinite(p)) or np.any(p <= 0.0) or np.any(p > 50.0):
        raise InputError("p_pct: expected percentages in (0, 50]")
    issues = []
    if np.any((p < 0.001) | (p > 5.0)):
        issues.append("P.618 rain attenuation is given for 0.001 % <= p <= 5 %; values outside are extrapolated")
    f_ghz = _freq_ghz(freq_hz)
    if not 1.0 <= f_ghz <= 55.0:
        issues.append(f"{f_ghz:g} GHz: P.618 rain attenuation is given for 1 to 55 GHz")
    if issues:
        warnings.warn("rain_db: " + "; ".join(issues), ValidityWarning, stacklevel=2)
    el_b, p_b = np.broadcast_arrays(el, p)
    out = np.full(el_b.shape, np.nan)
    for pv in np.unique(p_b):
        sel = p_b == pv
        out[sel] = _rain_direct(
            lat_deg,
            lon_deg,
            freq_hz,
            el_b[sel],
            float(pv),
            alt_m,
            polarization_tilt_deg,
            r001_mm_h,
            rec,
            rain_rate_rec,
            rain_height_rec,
        )
    return out


def _rain_direct(
    lat_deg: Any,
    lon_deg: Any,
    freq_hz: Any,
    el: np.ndarray,
    p: float,
    alt_m: Any,
    tau_deg: Any,
    r001_mm_h: Any,
    rec: str,
    rain_rate_rec: str,
    rain_height_rec: str,
) -> np.ndarray:
    lat, lon = _site(lat_deg, lon_deg)
    f = _freq_ghz(freq_hz)
    tau = _scalar("polarization_tilt_deg", tau_deg, -90.0, 180.0)
    r001 = None if r001_mm_h is None else _scalar("r001_mm_h", r001_mm_h, 0.0, 500.0)
    hs = _alt_km(lat, lon, alt_m)
    revs = {
        "P.618": _parse_rec(rec, "P.618"),
        "P.837": _parse_rec(rain_rate_rec, "P.837"),
        "P.839": _parse_rec(rain_height_rec, "P.839"),
    }
    el = np.asarray(el, dtype=float)
    out = np.full(el.shape, np.nan)
    ok = el > 0.0
    if np.any(ok):
        with _itur_call(revs) as itur:
            a = itur.models.itu618.rain_attenuation(lat, lon, f, el[ok], hs, p, r001, tau)
        out[ok] = np.ravel(_value(a))
    return out


def rain_db_at_exceedance(
    lat_deg: float,
    lon_deg: float,
    freq_hz: float,
    elevation_deg: float,
    p_pct: ArrayLike,
    alt_m: float | None = None,
    polarization_tilt_deg: float = 45.0,
    rec: str = "P.618-13",
) -> np.ndarray:
    """Rain-attenuation exceedance curve at one elevation: A(p_i) in dB for each p_i in `p_pct` (P.618).

    The input of a P.1853 lognormal fit (weather synthesis). Same model as `rain_db`.
    """
    el = _scalar("elevation_deg", elevation_deg, 0.0, 90.0)
    p = np.atleast_1d(np.asarray(p_pct, dtype=float))
    return rain_db(lat_deg, lon_deg, freq_hz, np.full(p.shape, el), p, alt_m, polarization_tilt_deg, rec=rec)


# ----------------------------------------------------------------------------------------------------
# scintillation (P.618 section 2.4.1, P.453 Nwet)
# ----------------------------------------------------------------------------------------------------


def scintillation_factor_a(p_pct: ArrayLike) -> np.ndarray:
    """P.618 time-percentage factor a(p) = -0.061 lg^3 p + 0.072 lg^2 p - 1.71 lg p + 3.0 (0.01 <= p <= 50)."""
    lp = np.log10(np.asarray(p_pct, dtype=float))
    return -0.061 * lp**3 + 0.072 * lp**2 - 1.71 * lp + 3.0


def _sigma_from_nwet(
    nwet: float, f_ghz: float, el: np.ndarray, d_m: float, eta: float, h_l_m: float = 1000.0
) -> np.ndarray:
    el = np.asarray(el, dtype=float)
    out = np.full(el.shape, np.nan)
    ok = el > 0.0
    s = np.sin(np.radians(el[ok]))
    sigma_ref = 3.6e-3 + 1e-4 * nwet
    path_m = 2.0 * h_l_m / (np.sqrt(s * s + 2.35e-4) + s)
    d_eff = math.sqrt(eta) * d_m
    x = 1.22 * d_eff**2 * f_ghz / path_m
    arg = 3.86 * (x * x + 1.0) ** (11.0 / 12.0) * np.sin(11.0 / 6.0 * np.arctan2(1.0, x))
    arg = arg - 7.08 * x ** (5.0 / 6.0)
    g = np.where(x >= 7.0, 0.0, np.sqrt(np.maximum(arg, 0.0)))  # P.618: zero once the argument is negative
    out[ok] = sigma_ref * f_ghz ** (7.0 / 12.0) * g / s**1.2
    return out


def scintillation_sigma_db(
    lat_deg: float,
    lon_deg: float,
    freq_hz: float,
    elevation_deg: ArrayLike,
    antenna_diameter_m: float,
    antenna_efficiency: float,
) -> np.ndarray:
    """Standard deviation (dB) of tropospheric scintillation, P.618 section 2.4.1 steps 1 to 7, implemented
    here with the median Nwet of the P.453 map (from itur):

    sigma_ref = 3.6e-3 + 1e-4 Nwet; L = 2 h_L / (sqrt(sin^2 el + 2.35e-4) + sin el), h_L = 1000 m;
    D_eff = sqrt(eta) D; x = 1.22 D_eff^2 f_GHz / L;
    g = sqrt(3.86 (x^2+1)^(11/12) sin(11/6 atan(1/x)) - 7.08 x^(5/6)) (0 when x >= 7);
    sigma = sigma_ref f_GHz^(7/12) g / sin(el)^1.2. The fade depth exceeded p % of the time is a(p) sigma
    (`scintillation_factor_a`). Specified for el >= 5 deg (ValidityWarning below); NaN at el <= 0.
    """
    el = _elevation(elevation_deg)
    _warn_low("scintillation_sigma_db", el)
    lat, lon = _site(lat_deg, lon_deg)
    d = _scalar("antenna_diameter_m", antenna_diameter_m, 0.0)
    eta = _scalar("antenna_efficiency", antenna_efficiency, 0.0, 1.0)
    return _sigma_from_nwet(climate(lat, lon).nwet_median, _freq_ghz(freq_hz), el, d, eta)


def scintillation_db(
    lat_deg: float,
    lon_deg: float,
    freq_hz: float,
    elevation_deg: ArrayLike,
    p_pct: float,
    antenna_diameter_m: float,
    antenna_efficiency: float,
    rec: str = "P.618-13",
) -> np.ndarray:
    """Tropospheric scintillation fade depth (dB) exceeded `p_pct` % of the time (itur's P.618 section 2.4.1).

    P.618 gives a(p) for 0.01 % <= p <= 50 % and the method for el >= 5 deg: outside either a ValidityWarning
    is emitted and the value is still returned. NaN at el <= 0.
    """
    el = _elevation(elevation_deg)
    p = _p(p_pct)
    _warn_low("scintillation_db", el, [f"p = {p:g} %: P.618 a(p) is given for 0.01 to 50 %"] if p < 0.01 else [])
    lat, lon = _site(lat_deg, lon_deg)
    f = _freq_ghz(freq_hz)
    d = _scalar("antenna_diameter_m", antenna_diameter_m, 0.0)
    eta = _scalar("antenna_efficiency", antenna_efficiency, 0.0, 1.0)
    out = np.full(el.shape, np.nan)
    ok = el > 0.0
    if np.any(ok):
        with _itur_call({"P.618": _parse_rec(rec, "P.618")}) as itur:
            a = itur.models.itu618.scintillation_attenuation(lat, lon, f, el[ok], p, d, eta)
        out[ok] = np.ravel(_value(a))
    return out


# ----------------------------------------------------------------------------------------------------
# total (P.618 section 2.5) for long timelines, and sky noise (P.618 section 3)
# ----------------------------------------------------------------------------------------------------


@dataclass
class AtmosphericLosses:
    """Atmospheric losses (dB) on a slant path, one value per elevation, exceeded p % of the time.

    `gas_db` and `cloud_db` are the values that enter the P.618 section 2.5 combination: taken at max(p, 1 %)
    (P.618: for p < 1 % they are the 1 % values). `total_db` = gas + sqrt((rain + cloud)^2 + scintillation^2).
    `low_elevation` is True where el < 5 deg (including el <= 0, where every value is NaN).
    """

    elevation_deg: np.ndarray
    gas_db: np.ndarray
    cloud_db: np.ndarray
    rain_db: np.ndarray
    scintillation_db: np.ndarray
    total_db: np.ndarray
    low_elevation: np.ndarray
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _SiteTable:
    gas: _GasZenith
    cloud_zenith_db: float
    nwet: float
    scint_a: float
    rain_el_lo: np.ndarray  # grid for 0 < el < 5 (P.618 eq. 2), last node just below 5
    rain_lo: np.ndarray
    rain_el_hi: np.ndarray  # grid for 5 <= el <= 90 (P.618 eq. 1)
    rain_hi: np.ndarray


_TABLES: dict[tuple[Any, ...], _SiteTable] = {}
_TABLES_MAX = 64


def _rain_grid(step: float) -> tuple[np.ndarray, np.ndarray]:
    """Elevation nodes for the rain table: uniform every `step`, plus geometric refinement within 1 deg of 0 deg
    and of 90 deg (P.618 rain has square-root-like ends: sqrt(sin el) in v0.01 and sqrt(L_G) in r0.01, with
    L_G -> 0 at zenith), split at 5 deg where P.618 switches from eq. 2 to eq. 1 (a small step)."""
    uniform = np.arange(0.0, 90.0 + step / 2, step)
    geometric = np.geomspace(1e-6, 1.0, 400)
    nodes = np.unique(np.concatenate([uniform, geometric, 90.0 - geometric, [90.0]]))
    nodes = nodes[(nodes > 0.0) & (nodes <= 90.0)]
    lo = np.concatenate([nodes[nodes < LOW_ELEVATION_DEG], [LOW_ELEVATION_DEG - 1e-9]])
    hi = nodes[nodes >= LOW_ELEVATION_DEG]
    return lo, hi


def _site_table(key: tuple[Any, ...]) -> _SiteTable:
    table = _TABLES.get(key)
    if table is not None:
        return table
    lat, lon, hs, f, p, d, eta, tau, v618, v676, v840, step = key
    pcg = max(p, 1.0)
    gas = _gas_zenith(lat, lon, f, pcg, hs, v676, None, None, None, None)
    cloud = _cloud_zenith(lat, lon, f, pcg, v840)
    nwet = climate(lat, lon).nwet_median
    el_lo, el_hi = _rain_grid(step)
    revs = {"P.618": v618, "P.837": 7, "P.839": 4}
    with _itur_call(revs) as itur:
        grid = np.concatenate([el_lo, el_hi])
        r = np.ravel(_value(itur.models.itu618.rain_attenuation(lat, lon, f, grid, hs, p, None, tau)))
    table = _SiteTable(
        gas, cloud, nwet, float(scintillation_factor_a(p)), el_lo, r[: el_lo.size], el_hi, r[el_lo.size :]
    )
    if len(_TABLES) >= _TABLES_MAX:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[key] = table
    return table


def atmospheric_losses(
    lat_deg: float,
    lon_deg: float,
    alt_m: float | None,
    freq_hz: float,
    elevation_deg: ArrayLike,
    p_pct: float,
    antenna_diameter_m: float,
    antenna_efficiency: float,
    rec: str = "P.618-13",
    *,
    gas_rec: str = "P.676-12",
    cloud_rec: str = "P.840-8",
    polarization_tilt_deg: float = 45.0,
    grid_step_deg: float = 0.025,
    p_l_pct: float = 5.0,
    water_fraction: float = 0.0,
) -> AtmosphericLosses:
    """Gas, cloud, rain, scintillation and total attenuation (dB) exceeded `p_pct` % of the time, P.618
    section 2.5: A_T = A_G + sqrt((A_R + A_C)^2 + A_S^2), with A_G and A_C at max(p, 1 %).

    Built for long timelines: the per-site constants and a rain table over 0 to 90 deg (every
    `grid_step_deg`) are computed once and cached per (site, frequency, p, antenna, polarization, revisions);
    each call then costs a few numpy operations per row (rain interpolated linearly, < 0.01 dB from direct
    evaluation; gas, cloud and scintillation in closed form). `alt_m` None takes the P.1511 topographic
    height. Rows at or below 0 deg come back NaN with `low_elevation` True; rows between 0 and 5 deg are
    flagged and one ValidityWarning is emitted per call (see the module docstring for what is computed
    there). P.618 gives the combination for 0.001 % <= p <= 50 % (the rain part for 0.001 to 5 %, the
    scintillation part for 0.01 to 50 %) and 1 to 55 GHz: outside these the values are returned with a note
    and the same single ValidityWarning. The rain table uses P.837-7 and P.839-4.
    """
    el = _elevation(elevation_deg)
    lat, lon = _site(lat_deg, lon_deg)
    f = _freq_ghz(freq_hz)
    p = _p(p_pct)
    d = _scalar("antenna_diameter_m", antenna_diameter_m, 0.0)
    eta = _scalar("antenna_efficiency", antenna_efficiency, 0.0, 1.0)
    tau = _scalar("polarization_tilt_deg", polarization_tilt_deg, -90.0, 180.0)
    step = _scalar("grid_step_deg", grid_step_deg, 0.001, 0.5)
    hs = _alt_km(lat, lon, alt_m)
    key = (
        lat,
        lon,
        hs,
        f,
        p,
        d,
        eta,
        tau,
        _parse_rec(rec, "P.618"),
        _parse_rec(gas_rec, "P.676"),
        _parse_rec(cloud_rec, "P.840"),
        step,
    )
    table = _site_table(key)

    gas = _gas_from_zenith(table.gas, el)
    cloud = table.cloud_zenith_db * _layer_path_factor(el, CLOUD_LAYER_KM)
    scint = np.maximum(table.scint_a * _sigma_from_nwet(table.nwet, f, el, d, eta), 0.0)
    rain = np.full(el.shape, np.nan)
    lo = (el > 0.0) & (el < LOW_ELEVATION_DEG)
    hi = el >= LOW_ELEVATION_DEG
    rain[lo] = np.interp(el[lo], table.rain_el_lo, table.rain_lo)
    rain[hi] = np.interp(el[hi], table.rain_el_hi, table.rain_hi)
    if np.any(lo):  # P.618 sections 2.4.2/2.4.3 below 5 deg (deep and shallow fading) instead of 2.4.1
        from .scintillation import low_elevation_fade_db

        scint[lo] = low_elevation_fade_db(p, el[lo], f * 1e9, lat, table.nwet, d, eta, hs * 1000.0, p_l_pct,
                                          water_fraction)
    total = gas + np.sqrt((rain + cloud) ** 2 + scint**2)

    low = ~(el >= LOW_ELEVATION_DEG)  # also True for NaN elevations
    notes: list[str] = []
    issues: list[str] = []  # validity-range notes: all of them go into ONE ValidityWarning per call
    n_below = int(np.count_nonzero(~(el > 0.0)))
    n_low = int(np.count_nonzero(lo))
    if n_below:
        notes.append(f"{n_below} row(s) at or below 0 deg elevation: NaN")
    if n_low:
        issues.append(
            f"{n_low} row(s) between 0 and 5 deg: gas and cloud with a curved-Earth path factor (P.676/P.840 "
            "are given from 5 deg); scintillation and multipath from P.618 sections 2.4.2/2.4.3"
        )
        n_very_low = int(np.count_nonzero(lo & (el < 0.5)))
        if n_very_low:
            issues.append(f"{n_very_low} row(s) below 0.5 deg: P.618 2.4.2/2.4.3 are given from 0.5 deg")
    if p < 0.01:
        issues.append(f"p = {p:g} %: scintillation a(p) is given for 0.01 to 50 %")
    if p > 5.0:
        issues.append(f"p = {p:g} %: P.618 rain attenuation is given for 0.001 to 5 %")
    if not 1.0 <= f <= 55.0:
        issues.append(f"{f:g} GHz: P.618 rain attenuation is given for 1 to 55 GHz")
    notes += issues
    if issues:
        warnings.warn("atmospheric_losses: " + "; ".join(issues), ValidityWarning, stacklevel=2)
    return AtmosphericLosses(el, gas, cloud, rain, scint, total, low, notes)


def sky_noise_temp_k(atmospheric_db: ArrayLike, t_mr_k: float = T_MR_DEFAULT_K) -> np.ndarray:
    """Sky brightness temperature (K) seen through an atmospheric loss A (dB), P.618 section 3 / P.372:
    T_sky = T_mr (1 - 10^(-A/10)) + 2.7 10^(-A/10), T_mr the mean radiating temperature (275 K default)."""
    a = np.asarray(atmospheric_db, dtype=float)
    tr = np.power(10.0, -a / 10.0)
    return t_mr_k * (1.0 - tr) + T_COSMIC_K * tr
