"""Orbit and pointing geometry: time, WGS84 sites, TLE/SGP4 and GEO satellites, look angles, Doppler, delay.

Frames and conventions
----------------------
- Time is ``t_unix_s``: float64 seconds since 1970-01-01T00:00:00 UTC (POSIX time, no leap seconds). SGP4 is
  evaluated at that UTC instant (the TLE epoch is UTC); Earth rotation uses UT1 = UTC + ``ut1_minus_utc_s``
  (default 0: |UT1 - UTC| < 0.9 s is at most 0.004 deg of Earth rotation, i.e. about 0.004 deg of pointing to
  GEO and up to 0.5 km of LEO position, a few hundredths of a degree seen from the ground).
- Positions and velocities are ECEF (Earth-fixed, Earth-centred) in metres and metres per second. The satellite's
  TEME state from SGP4 is rotated to the Pseudo Earth Fixed frame by GMST (IAU-82), velocity including the
  -omega x r term. Polar motion (up to about 0.5 arcsec, about 15 m at the Earth's surface) is ignored, so ECEF
  here means PEF; the difference is far below anything a link budget can see.
- Sites are geodetic on WGS84 (latitude, longitude in degrees, height above the ellipsoid in metres). Look angles
  are topocentric on the ellipsoid normal (east-north-up): azimuth from north, clockwise, 0..360 deg; elevation
  from the local horizontal plane, no refraction.

Every function takes scalars or numpy arrays; vectors are the last axis of length 3 and broadcast, so a single
(3,) position works against an (N, 3) track. No per-row Python loops: a 86 400-row timeline takes milliseconds.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from sgp4.api import SGP4_ERRORS, Satrec

from ..dbmath import C_M_S, EARTH_RADIUS_EQ_M, GEO_RADIUS_M, WGS84_F
from ..errors import InputError

__all__ = [
    "Site",
    "Tle",
    "LookAngles",
    "parse_utc",
    "format_utc",
    "site_ecef_m",
    "geodetic_to_ecef_m",
    "ecef_to_geodetic",
    "parse_tle",
    "read_tle_file",
    "find_tle",
    "BUILTIN_TLE_FILE",
    "tle_teme",
    "gmst_rad",
    "teme_to_ecef",
    "tle_ecef",
    "geo_ecef",
    "interpolate_track",
    "look_angles",
    "doppler_hz",
    "delay_s",
    "off_axis_deg",
    "geo_elevation_closed_form_deg",
    "geo_range_closed_form_m",
]

WGS84_A_M = EARTH_RADIUS_EQ_M
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared
_WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
_WGS84_EP2 = WGS84_E2 / (1.0 - WGS84_E2)  # second eccentricity squared

_J2000_UNIX_S = 946_728_000.0  # 2000-01-01T12:00:00 (JD 2451545.0) as POSIX seconds
_UNIX_EPOCH_JD = 2_440_587.5
_DAY_S = 86_400.0
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


# --------------------------------------------------------------------------------------------- time


def parse_utc(s: str) -> float:
    """Parse an ISO 8601 date-time with ``Z`` or a UTC offset into POSIX seconds (float).

    ``"2026-01-01T00:00:00Z"``, ``"2026-01-01T01:00:00+01:00"`` and fractional seconds are accepted. A string
    without a time-zone designator is refused (InputError): a bare time would silently be read as local time.
    """
    if not isinstance(s, str):
        raise InputError(f"time {s!r} is not a string (expected ISO 8601 like 2026-01-01T00:00:00Z)")
    text = s.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        d = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"time {s!r} is not ISO 8601 (expected e.g. 2026-01-01T00:00:00Z)") from None
    if d.tzinfo is None or d.utcoffset() is None:
        raise InputError(f"time {s!r} has no time zone (add Z for UTC, e.g. 2026-01-01T00:00:00Z)")
    return (d - _EPOCH).total_seconds()


def format_utc(t_unix_s: float) -> str:
    """POSIX seconds -> ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (fraction shown only when not whole, to 1 us)."""
    t = float(np.asarray(t_unix_s, dtype=float))
    if not math.isfinite(t):
        raise InputError(f"time {t} is not a finite number of seconds")
    us = round(t * 1e6)
    whole_s, frac_us = divmod(us, 1_000_000)
    d = _EPOCH + _dt.timedelta(seconds=whole_s)
    text = d.strftime("%Y-%m-%dT%H:%M:%S")
    if frac_us:
        text += f".{frac_us:06d}".rstrip("0")
    return text + "Z"


def _split_jd(t_unix_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Julian date as (whole part ending in .5, day fraction) to keep microsecond precision."""
    days = np.floor(t_unix_s / _DAY_S)
    jd = _UNIX_EPOCH_JD + days
    fr = (t_unix_s - days * _DAY_S) / _DAY_S
    return jd, fr


# --------------------------------------------------------------------------------------------- sites


@dataclass(frozen=True)
class Site:
    """A ground site: geodetic WGS84 latitude and longitude (deg), height above the ellipsoid (m)."""

    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0

    def __post_init__(self) -> None:
        for name in ("lat_deg", "lon_deg", "alt_m"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
                raise InputError(f"site {name}: {value!r} is not a finite number")
        if not -90.0 <= self.lat_deg <= 90.0:
            raise InputError(f"site lat_deg: {self.lat_deg} is outside -90..90")
        if not -360.0 <= self.lon_deg <= 360.0:
            raise InputError(f"site lon_deg: {self.lon_deg} is outside -360..360")


def geodetic_to_ecef_m(lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike) -> np.ndarray:
    """WGS84 geodetic coordinates -> ECEF position (m), shape broadcast(inputs) + (3,)."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    h = np.asarray(alt_m, dtype=float)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)  # prime vertical radius of curvature
    x = (n + h) * cos_lat * np.cos(lon)
    y = (n + h) * cos_lat * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * sin_lat
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def site_ecef_m(site: Site) -> np.ndarray:
    """ECEF position (m) of a site, shape (3,)."""
    return geodetic_to_ecef_m(site.lat_deg, site.lon_deg, site.alt_m)


def ecef_to_geodetic(pos_m: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF position (m), shape (..., 3) -> WGS84 (lat_deg, lon_deg, alt_m).

    Bowring's method with two refinements: better than 1e-9 deg and 1 mm from -1 km up to beyond GEO altitude.
    """
    p3 = np.asarray(pos_m, dtype=float)
    x, y, z = p3[..., 0], p3[..., 1], p3[..., 2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    a, b = WGS84_A_M, _WGS84_B_M
    beta = np.arctan2(z * a, p * b)  # first guess of the reduced latitude
    for _ in range(3):
        sb, cb = np.sin(beta), np.cos(beta)
        lat = np.arctan2(z + _WGS84_EP2 * b * sb**3, p - WGS84_E2 * a * cb**3)
        beta = np.arctan2((1.0 - WGS84_F) * np.sin(lat), np.cos(lat))
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    alt = p * cos_lat + z * sin_lat - a * np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    return np.degrees(lat), np.degrees(lon), alt


# --------------------------------------------------------------------------------------------- TLE


@dataclass(frozen=True)
class Tle:
    """A validated two-line element set. ``name`` is the optional title line ("" when absent)."""

    name: str
    line1: str
    line2: str

    @property
    def catalog_number(self) -> str:
        return self.line1[2:7].strip()

    @property
    def label(self) -> str:
        """``NAME (catalogue number)`` for messages."""
        return f"{self.name} ({self.catalog_number})" if self.name else f"TLE {self.catalog_number}"

    def satrec(self) -> Satrec:
        """The sgp4 Satrec (WGS72 constants, as TLEs are fitted with them)."""
        return Satrec.twoline2rv(self.line1, self.line2)

    @property
    def epoch_unix_s(self) -> float:
        sat = self.satrec()
        return float((sat.jdsatepoch - _UNIX_EPOCH_JD) * _DAY_S + sat.jdsatepochF * _DAY_S)


def _tle_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns: digits count their value, '-' counts 1."""
    total = 0
    for ch in line[:68]:
        if ch.isdigit():
            total += int(ch)
        elif ch == "-":
            total += 1
    return total % 10


def _check_tle_line(line: str, number: int) -> None:
    where = f"TLE line {number}"
    if len(line) != 69:
        raise InputError(f"{where}: {len(line)} characters, expected 69")
    if line[0] != str(number) or line[1] != " ":
        raise InputError(f"{where}: starts with {line[:2]!r}, expected '{number} '")
    written = line[68]
    if not written.isdigit():
        raise InputError(f"{where}: checksum character {written!r} is not a digit")
    computed = _tle_checksum(line)
    if int(written) != computed:
        raise InputError(f"{where}: checksum is {written}, expected {computed}")


_TLE_FIELDS = (
    (1, "epoch", 18, 32),
    (2, "inclination", 8, 16),
    (2, "right ascension of the node", 17, 25),
    (2, "eccentricity", 26, 33),
    (2, "argument of perigee", 34, 42),
    (2, "mean anomaly", 43, 51),
    (2, "mean motion", 52, 63),
)


def _check_tle_fields(line1: str, line2: str) -> None:
    for number, name, start, stop in _TLE_FIELDS:
        text = (line1 if number == 1 else line2)[start:stop].strip()
        ok = text.isdigit() if name == "eccentricity" else bool(text)
        if ok and name != "eccentricity":
            try:
                float(text)
            except ValueError:
                ok = False
        if not ok:
            raise InputError(f"TLE line {number}: {name} {text!r} (columns {start + 1}-{stop}) is not a number")


def parse_tle(lines: Sequence[str] | str) -> Tle:
    """Validate a TLE given as two lines, or three with a title line first (a leading ``"0 "`` is dropped).

    Checks line length (69), line numbers, both checksums, that the catalogue numbers agree, and that SGP4
    accepts the elements. Raises InputError with one line naming the problem, e.g.
    ``TLE line 2: checksum is 3, expected 5``.
    """
    if isinstance(lines, str):
        raw = lines.splitlines()
    else:
        try:
            raw = list(lines)
        except TypeError:
            raise InputError("TLE: expected a string or a list of 2 or 3 lines") from None
    if not all(isinstance(x, str) for x in raw):
        raise InputError("TLE: every line must be a string")
    text = [x.rstrip() for x in raw if x.strip()]
    if len(text) == 3:
        name = text[0].strip()
        if name.startswith("0 "):
            name = name[2:].strip()
        line1, line2 = text[1], text[2]
    elif len(text) == 2:
        name, line1, line2 = "", text[0], text[1]
    else:
        raise InputError(f"TLE: {len(text)} non-empty lines, expected 2 (or 3 with a name line)")
    _check_tle_line(line1, 1)
    _check_tle_line(line2, 2)
    if line1[2:7] != line2[2:7]:
        raise InputError(
            f"TLE: catalogue numbers differ (line 1 {line1[2:7].strip()!r}, line 2 {line2[2:7].strip()!r})"
        )
    _check_tle_fields(line1, line2)
    try:
        sat = Satrec.twoline2rv(line1, line2)
    except (ValueError, IndexError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"TLE {line1[2:7].strip()}: not readable by SGP4: {first}") from None
    if sat.error:
        msg = SGP4_ERRORS.get(sat.error, "unknown error")
        raise InputError(f"TLE {line1[2:7].strip()}: SGP4 refuses the elements (error {sat.error}: {msg})")
    return Tle(name=name, line1=line1, line2=line2)


def read_tle_file(path: str | Path) -> list[Tle]:
    """Read a file of TLEs (2- or 3-line entries; blank lines and lines starting with ``#`` are skipped)."""
    p = Path(path)
    try:
        content = p.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: cannot read TLE file: {e}") from None
    lines = [ln.rstrip() for ln in content.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    tles: list[Tle] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("1 ") and i + 1 < len(lines) and lines[i + 1].startswith("2 "):
            chunk = lines[i : i + 2]
            i += 2
        elif i + 2 < len(lines) and lines[i + 1].startswith("1 ") and lines[i + 2].startswith("2 "):
            chunk = lines[i : i + 3]
            i += 3
        else:
            raise InputError(f"{p}: line {lines[i]!r} does not start a TLE entry")
        try:
            tles.append(parse_tle(chunk))
        except InputError as e:
            raise InputError(f"{p}: {e}") from None
    return tles


BUILTIN_TLE_FILE = Path(__file__).resolve().parents[1] / "data" / "tles" / "synthetic.tle"


def find_tle(key: str, tles: Sequence[Tle] | None = None) -> Tle:
    """Pick a TLE by catalogue number (``"90005"``) or by name prefix, case-insensitive (``"SYNTH-LEO"``).

    ``tles`` defaults to the synthetic set shipped with linksim (``linksim/data/tles/synthetic.tle``: an ASBM-like
    three-apogee HEO, Molniya, Tundra, a GEO near 1 W and a 550 km polar LEO). An unknown or ambiguous key
    raises InputError listing the choices.
    """
    pool = list(tles) if tles is not None else read_tle_file(BUILTIN_TLE_FILE)
    k = str(key).strip().upper()
    hits = [t for t in pool if t.catalog_number == k]
    if not hits:
        hits = [t for t in pool if t.name.upper() == k] or [t for t in pool if t.name.upper().startswith(k)]
    if len(hits) != 1:
        names = ", ".join(t.name.split(" ")[0] or t.catalog_number for t in pool)
        why = "matches several" if hits else "matches none"
        raise InputError(f"TLE {key!r} {why} of: {names}")
    return hits[0]


# --------------------------------------------------------------------------------------------- SGP4 / frames


def tle_teme(tle: Tle, t_unix_s: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """SGP4 state in the TEME frame: (position m, velocity m/s), each shape t.shape + (3,).

    An SGP4 error (decayed satellite, eccentricity out of range ...) raises InputError naming the first bad time.
    """
    t = np.asarray(t_unix_s, dtype=float)
    flat = np.ascontiguousarray(t.reshape(-1))
    if flat.size and not np.all(np.isfinite(flat)):
        raise InputError(f"{tle.label}: time array contains NaN or infinity")
    jd, fr = _split_jd(flat)
    sat = tle.satrec()
    err, r_km, v_km_s = sat.sgp4_array(jd, fr)
    bad = np.flatnonzero(err)
    if bad.size:
        i = int(bad[0])
        code = int(err[i])
        msg = SGP4_ERRORS.get(code, "unknown error")
        raise InputError(
            f"{tle.label}: SGP4 error {code} at {format_utc(flat[i])} ({msg}); {bad.size} of {flat.size} times affected"
        )
    shape = t.shape + (3,)
    return (r_km * 1e3).reshape(shape), (v_km_s * 1e3).reshape(shape)


def gmst_rad(t_unix_s: ArrayLike, ut1_minus_utc_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Greenwich mean sidereal angle (IAU-82, rad in [0, 2 pi)) and its rate (rad/s) at UTC time t.

    GMST(s) = 67310.54841 + (876600 h + 8640184.812866) T + 0.093104 T^2 - 6.2e-6 T^3, T in Julian centuries
    of UT1 from J2000. The 876600 h T term equals the UT1 seconds since J2000 exactly; it is reduced modulo one
    day first so float64 keeps micro-arcsecond resolution.
    """
    dt_s = np.asarray(t_unix_s, dtype=float) + float(ut1_minus_utc_s) - _J2000_UNIX_S
    tc = dt_s / (_DAY_S * 36525.0)
    gmst_s = 67310.54841 + np.mod(dt_s, _DAY_S) + (8640184.812866 + (0.093104 - 6.2e-6 * tc) * tc) * tc
    theta = np.mod(gmst_s, _DAY_S) * (2.0 * np.pi / _DAY_S)
    rate = (2.0 * np.pi / _DAY_S) * (
        1.0 + (8640184.812866 + (2.0 * 0.093104 - 3.0 * 6.2e-6 * tc) * tc) / (_DAY_S * 36525.0)
    )
    return theta, rate


def teme_to_ecef(
    r_teme_m: ArrayLike, v_teme_m_s: ArrayLike, t_unix_s: ArrayLike, ut1_minus_utc_s: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate a TEME state to Earth-fixed (PEF; polar motion ignored). Velocity includes -omega x r."""
    r = np.asarray(r_teme_m, dtype=float)
    v = np.asarray(v_teme_m_s, dtype=float)
    theta, omega = gmst_rad(t_unix_s, ut1_minus_utc_s)
    c, s = np.cos(theta), np.sin(theta)
    x = c * r[..., 0] + s * r[..., 1]
    y = -s * r[..., 0] + c * r[..., 1]
    vx = c * v[..., 0] + s * v[..., 1] + omega * y
    vy = -s * v[..., 0] + c * v[..., 1] - omega * x
    pos = np.stack(np.broadcast_arrays(x, y, r[..., 2]), axis=-1)
    vel = np.stack(np.broadcast_arrays(vx, vy, v[..., 2]), axis=-1)
    return pos, vel


def tle_ecef(tle: Tle, t_unix_s: ArrayLike, ut1_minus_utc_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Satellite ECEF (PEF) position (m) and velocity (m/s) from SGP4, each shape t.shape + (3,)."""
    r, v = tle_teme(tle, t_unix_s)
    return teme_to_ecef(r, v, t_unix_s, ut1_minus_utc_s)


def geo_ecef(lon_deg: float, t_unix_s: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """An ideal geostationary satellite: equatorial, r = 42 164.17 km, fixed in ECEF (zero velocity)."""
    lon = math.radians(float(lon_deg))
    t = np.asarray(t_unix_s, dtype=float)
    one = np.array([GEO_RADIUS_M * math.cos(lon), GEO_RADIUS_M * math.sin(lon), 0.0])
    pos = np.broadcast_to(one, t.shape + (3,)).copy()
    return pos, np.zeros_like(pos)


def interpolate_track(
    t_unix_s: ArrayLike, track_t_unix_s: ArrayLike, track_pos_m: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """A moving platform (a jammer on a vehicle, a ship terminal) from ECEF waypoints.

    Piecewise linear in ECEF between waypoints (chord sag under 2 m for 10 km legs); velocity is the leg's
    constant velocity. Returns (pos m, vel m/s) with shape t.shape + (3,). Times outside the track are refused.
    """
    t = np.asarray(t_unix_s, dtype=float)
    tt = np.asarray(track_t_unix_s, dtype=float).reshape(-1)
    pp = np.asarray(track_pos_m, dtype=float)
    if pp.ndim != 2 or pp.shape[1] != 3 or pp.shape[0] != tt.size:
        raise InputError(f"track: positions must have shape ({tt.size}, 3), got {pp.shape}")
    if tt.size < 2:
        raise InputError("track: at least two waypoints are needed")
    if not np.all(np.diff(tt) > 0):
        raise InputError("track: waypoint times must be strictly increasing")
    if t.size and (t.min() < tt[0] or t.max() > tt[-1]):
        raise InputError(
            f"track: times {format_utc(t.min())}..{format_utc(t.max())} leave the track "
            f"{format_utc(tt[0])}..{format_utc(tt[-1])}"
        )
    seg = np.clip(np.searchsorted(tt, t, side="right") - 1, 0, tt.size - 2)
    dt_leg = (tt[seg + 1] - tt[seg])[..., None]
    vel = (pp[seg + 1] - pp[seg]) / dt_leg
    pos = pp[seg] + vel * (t - tt[seg])[..., None]
    return pos, vel


# --------------------------------------------------------------------------------------------- look angles


@dataclass
class LookAngles:
    """Topocentric look angles from an observer to a target (arrays of the broadcast shape)."""

    azimuth_deg: np.ndarray  # from north, clockwise, 0..360
    elevation_deg: np.ndarray  # above the ellipsoid-normal horizon plane, -90..90
    range_m: np.ndarray  # slant range
    range_rate_m_s: np.ndarray  # d(range)/dt, positive when receding


def _observer(site: Site | ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ECEF position m, geodetic lat rad, lon rad) of a Site or of ECEF observer position(s) (..., 3)."""
    if isinstance(site, Site):
        return site_ecef_m(site), np.radians(site.lat_deg), np.radians(site.lon_deg)
    pos = np.asarray(site, dtype=float)
    if pos.shape[-1:] != (3,):
        raise InputError(f"observer: expected a Site or ECEF positions of shape (..., 3), got {pos.shape}")
    lat_deg, lon_deg, _ = ecef_to_geodetic(pos)
    return pos, np.radians(lat_deg), np.radians(lon_deg)


def _enu(rho: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    x, y, z = rho[..., 0], rho[..., 1], rho[..., 2]
    e = -so * x + co * y
    n = -sl * co * x - sl * so * y + cl * z
    u = cl * co * x + cl * so * y + sl * z
    return e, n, u


def look_angles(
    site: Site | ArrayLike,
    target_pos_m: ArrayLike,
    target_vel_m_s: ArrayLike | None = None,
    site_vel_m_s: ArrayLike | None = None,
) -> LookAngles:
    """Azimuth, elevation, range and range-rate from an observer to a target, all in ECEF.

    ``site`` is a fixed :class:`Site` or ECEF observer position(s) (..., 3) for a moving observer (the local
    horizon then follows the observer's geodetic position). Target and observer velocities are ECEF velocities
    (m/s; None means fixed on the Earth). Shapes broadcast: (3,) against (N, 3) gives N rows.
    """
    obs, lat, lon = _observer(site)
    tgt = np.asarray(target_pos_m, dtype=float)
    if tgt.shape[-1:] != (3,):
        raise InputError(f"target position: expected shape (..., 3), got {tgt.shape}")
    rho = tgt - obs
    rng = np.sqrt(np.sum(rho * rho, axis=-1))
    if np.any(rng == 0.0):
        raise InputError("look angles: the target coincides with the observer (zero range)")
    e, n, u = _enu(rho, lat, lon)
    az = np.mod(np.degrees(np.arctan2(e, n)), 360.0)
    el = np.degrees(np.arctan2(u, np.hypot(e, n)))
    dv = np.zeros(3) if target_vel_m_s is None else np.asarray(target_vel_m_s, dtype=float)
    if site_vel_m_s is not None:
        dv = dv - np.asarray(site_vel_m_s, dtype=float)
    rate = np.sum(rho * dv, axis=-1) / rng
    shape = np.broadcast_shapes(az.shape, rate.shape)
    return LookAngles(
        azimuth_deg=np.broadcast_to(az, shape).copy(),
        elevation_deg=np.broadcast_to(el, shape).copy(),
        range_m=np.broadcast_to(rng, shape).copy(),
        range_rate_m_s=np.broadcast_to(rate, shape).copy(),
    )


def doppler_hz(range_rate_m_s: ArrayLike, freq_hz: ArrayLike) -> np.ndarray:
    """Doppler shift f_D = -(range_rate / c) f (Hz): negative when the range grows (non-relativistic)."""
    return -np.asarray(range_rate_m_s, dtype=float) / C_M_S * np.asarray(freq_hz, dtype=float)


def delay_s(range_m: ArrayLike) -> np.ndarray:
    """One-way free-space propagation delay (s) over a slant range (m)."""
    return np.asarray(range_m, dtype=float) / C_M_S


def off_axis_deg(site: Site | ArrayLike, boresight_pos_m: ArrayLike, other_pos_m: ArrayLike) -> np.ndarray:
    """Angle (deg, 0..180) at the observer between the boresight target (the satellite) and another position.

    Uses atan2(|a x b|, a . b), accurate at small angles. Arrays (..., 3) broadcast.
    """
    obs, _, _ = _observer(site)
    a = np.asarray(boresight_pos_m, dtype=float) - obs
    b = np.asarray(other_pos_m, dtype=float) - obs
    cross = np.cross(a, b)
    sin_part = np.sqrt(np.sum(cross * cross, axis=-1))
    cos_part = np.sum(a * b, axis=-1)
    if np.any((sin_part == 0.0) & (cos_part == 0.0)):
        raise InputError("off-axis angle: a position coincides with the observer")
    return np.degrees(np.arctan2(sin_part, cos_part))


# --------------------------------------------------------------------------------------------- closed forms


def geo_elevation_closed_form_deg(lat_deg: ArrayLike, dlon_deg: ArrayLike) -> np.ndarray:
    """Elevation (deg) of a GEO satellite from a site on a spherical Earth (R = 6378.137 km), no refraction.

    el = atan2(cos(phi) cos(dlon) - Re/r_geo, sqrt(1 - (cos(phi) cos(dlon))^2)); dlon = sat lon - site lon.
    """
    cg = np.cos(np.radians(np.asarray(lat_deg, dtype=float))) * np.cos(np.radians(np.asarray(dlon_deg, dtype=float)))
    return np.degrees(np.arctan2(cg - EARTH_RADIUS_EQ_M / GEO_RADIUS_M, np.sqrt(1.0 - cg * cg)))


def geo_range_closed_form_m(lat_deg: ArrayLike, dlon_deg: ArrayLike) -> np.ndarray:
    """Slant range (m) to a GEO satellite on a spherical Earth: sqrt(Re^2 + r^2 - 2 Re r cos(phi) cos(dlon))."""
    cg = np.cos(np.radians(np.asarray(lat_deg, dtype=float))) * np.cos(np.radians(np.asarray(dlon_deg, dtype=float)))
    re, r = EARTH_RADIUS_EQ_M, GEO_RADIUS_M
    return np.sqrt(re * re + r * r - 2.0 * re * r * cg)
