"""The link budget over time: a Timeline, one row per step, from a Scenario.

Downlink, per row:
    C/N0 = EIRP_signal - FSPL - A_atm - L_pointing - L_other + G/T - k
    G/T  = G_peak - L_feed - L_events - 10 log10(T_sys)
    T_sys = ((T_sky + T_ground) / L_ev + T_phys (1 - 1/L_ev)) / L_feed + T_phys (1 - 1/L_feed) + T_LNA
    T_sky = T_mr (1 - 10^(-A/10)) + 2.7 x 10^(-A/10),  A = gas + cloud + rain (ITU-R P.618 section 3)
    Es/N0 = C/N0 - 10 log10(R_s)
Uplink (optional, bent pipe): C/N0_up = EIRP_up - FSPL_up - A_up + (G/T)_sat - k. The transponder shares its output
among the carrier, the uplink noise and any uplink jamming in proportion to their input powers (linear region, in the
carrier's band), so the carrier's share of the downlink EIRP is C_u / (C_u + N_u + J_u) ("power robbing").
End to end:  1/(C/(N+I+J)) = 1/(C/N)_up + 1/(C/N)_down + sum J_eff/S, where J/S (the `js_db` columns) is the
jammer power in the victim's occupied band and J_eff what passes the matched filter as noise in the symbol-rate
bandwidth would (a barrage over the occupied band counts Rs/B of it, a tone in the flat part all of it).
Jammers: J/S = EIRP_J + in-band share - FSPL_J - L_pol - L_extra + G_terminal(off-axis) - (EIRP_sig - FSPL - A_atm
- L_pointing + G_peak); the terminal's off-axis gain follows the scenario's pattern (S.465, S.580, AP8). A ground
jammer's terrestrial path gets free-space loss plus the scenario's extra path loss (no slant-path atmosphere).
"""

from __future__ import annotations

import csv
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..dbmath import BOLTZMANN_DBW_K_HZ, C_M_S, db_to_lin, fspl_db, lin_to_db
from ..errors import InputError, ScenarioError, ValidityWarning
from ..geometry import antenna
from ..geometry import orbit as geometry
from ..scenario import modcods
from ..scenario.model import MAX_TIMELINE_ROWS, Jammer, Scenario
from . import neighbours, payload, prediction
from .interference import fraction_db, inband_fraction, matched_filter_fraction
from .terminal import receive_side

T_MR_K = 275.0  # mean radiating temperature of the atmosphere (P.618 section 3)
T_COSMIC_K = 2.7

# Timeline columns, in export order. Per-jammer columns follow as js_db[NAME], off_axis_deg[NAME], ...
COLUMNS = (
    "time_s", "elevation_deg", "azimuth_deg", "slant_range_km", "range_rate_m_s", "doppler_hz",
    "doppler_rate_hz_s", "delay_s", "visible", "fspl_db", "gas_db", "cloud_db", "rain_db", "scintillation_db",
    "iono_scintillation_db", "atmospheric_db", "low_elevation", "antenna_event_db", "eirp_dbw", "sky_temp_k",
    "system_temp_k", "gt_dbk", "cn0_dbhz", "esn0_down_db", "esn0_up_db", "esn0_db", "cnij_db", "margin_db",
    "best_modcod", "best_eta",
    # the transponder, interference from other carriers and implementation losses (budget.payload, .neighbours,
    # .prediction): cnij_db is then what the receiver measures, esn0_decode_db what decoding sees
    "uplink_flux_dbw_m2", "sat_ibo_db", "obo_db", "ci_asi_db", "xpd_rain_db", "ci_xpol_db", "cim_db", "ci_alloc_db",
    "cnij_link_db", "amp_loss_db", "phase_noise_loss_db", "fading_loss_db", "esn0_decode_db",
    "doppler_up_hz", "transponder_drive_db",
)
JAMMER_COLUMNS = ("js_db", "off_axis_deg", "jammer_range_km", "active")


@dataclass
class JammerSeries:
    name: str
    type: str
    target: str
    js_db: np.ndarray  # in-band J/S at the jammed receiver's input (when active)
    off_axis_deg: np.ndarray  # angle off the jammed antenna's boresight (NaN for fixed-J/S jammers)
    jammer_range_km: np.ndarray
    active: np.ndarray  # bool


@dataclass
class Timeline:
    """The budget, one row per step. `columns[name]` are numpy arrays of equal length."""

    scenario: Scenario
    start_unix_s: float
    columns: dict[str, np.ndarray]
    jammers: list[JammerSeries] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # per MODCOD, what the receiver's Es/N0 estimate must show above Table 13 to decode (budget.prediction)
    threshold_offsets_db: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns["time_s"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @property
    def time_s(self) -> np.ndarray:
        return self.columns["time_s"]

    def jammer(self, name: str) -> JammerSeries:
        for j in self.jammers:
            if j.name == name:
                return j
        raise KeyError(name)

    def rows_within(self, t0_s: float, t1_s: float, *, include_end: bool = True,
                    nearest_to_s: float | None = None) -> np.ndarray:
        """Boolean mask of the rows with t0_s <= time_s <= t1_s (< t1_s if not include_end); when no row falls
        inside, the one row nearest to `nearest_to_s` (default t0_s), so a short span still has a row."""
        t = self.time_s
        hi = (t <= t1_s + 1e-9) if include_end else (t < t1_s - 1e-9)
        m = (t >= t0_s - 1e-9) & hi
        if not m.any():
            m = np.zeros(len(t), dtype=bool)
            m[int(np.argmin(np.abs(t - (t0_s if nearest_to_s is None else nearest_to_s))))] = True
        return m

    def index_at(self, t_unix_s: float) -> int:
        t = t_unix_s - self.start_unix_s
        ts = self.time_s
        if t < ts[0] - 1e-9 or t > ts[-1] + 1e-9:
            raise InputError(
                f"time {geometry.format_utc(t_unix_s)} is outside the scenario "
                f"({geometry.format_utc(self.start_unix_s)} to {geometry.format_utc(self.start_unix_s + ts[-1])})"
            )
        return int(np.argmin(np.abs(ts - t)))

    def row(self, i: int) -> dict[str, Any]:
        """One row as plain Python values; jammers as a list of objects."""
        out: dict[str, Any] = {"time_utc": geometry.format_utc(self.start_unix_s + float(self.time_s[i]))}
        for k, v in self.columns.items():
            out[k] = _py(v[i])
        out["jammers"] = [
            {
                "name": j.name, "type": j.type, "target": j.target,
                "js_db": _py(j.js_db[i]) if j.active[i] else None,
                "off_axis_deg": _py(j.off_axis_deg[i]),
                "jammer_range_km": _py(j.jammer_range_km[i]),
                "active": bool(j.active[i]),
            }
            for j in self.jammers
        ]
        return out

    def flat_columns(self) -> dict[str, np.ndarray]:
        """All columns including per-jammer ones (named `js_db[NAME]`)."""
        cols = dict(self.columns)
        for j in self.jammers:
            for c in JAMMER_COLUMNS:
                cols[f"{c}[{j.name}]"] = getattr(j, c)
        return cols

    def to_csv(self, path: str | Path) -> None:
        cols = self.flat_columns()
        names = ["time_utc", *cols]
        t_utc = [geometry.format_utc(self.start_unix_s + float(t)) for t in self.time_s]
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(names)
            arrays = [cols[n] for n in names[1:]]
            for i in range(len(self)):
                w.writerow([t_utc[i], *(_fmt(a[i]) for a in arrays)])


def _py(v: Any) -> Any:
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        f = float(v)
        return f if math.isfinite(f) else None  # JSON has no NaN or infinity
    if isinstance(v, np.str_):
        return str(v)
    return v


def _fmt(v: Any) -> str:
    if isinstance(v, np.bool_ | bool):
        return "1" if v else "0"
    if isinstance(v, np.floating | float):
        return "" if math.isnan(v) else f"{float(v):.6g}"
    return str(v)


# --------------------------------------------------------------------------------------------- geometry

@dataclass
class _Geometry:
    az: np.ndarray
    el: np.ndarray
    range_m: np.ndarray
    range_rate: np.ndarray
    sat_pos: np.ndarray | None  # ECEF (N,3) or (3,) when the geometry is not fixed


def _satellite_track(s: Scenario, t_unix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if s.satellite.tle is not None:
        tle = geometry.parse_tle(s.satellite.tle)
        return geometry.tle_ecef(tle, t_unix)
    assert s.satellite.geo_lon_deg is not None
    return geometry.geo_ecef(s.satellite.geo_lon_deg, t_unix)


def _downlink_geometry(s: Scenario, t_unix: np.ndarray) -> _Geometry:
    n = len(t_unix)
    if s.geometry is not None:
        g = s.geometry
        return _Geometry(
            np.full(n, g.azimuth_deg), np.full(n, g.elevation_deg), np.full(n, g.range_km * 1e3),
            np.full(n, g.range_rate_m_s), None,
        )
    site = geometry.Site(s.site.lat_deg, s.site.lon_deg, s.site.alt_m)
    pos, vel = _satellite_track(s, t_unix)
    la = geometry.look_angles(site, pos, vel)
    return _Geometry(
        np.broadcast_to(la.azimuth_deg, (n,)).astype(float), np.broadcast_to(la.elevation_deg, (n,)).astype(float),
        np.broadcast_to(la.range_m, (n,)).astype(float), np.broadcast_to(la.range_rate_m_s, (n,)).astype(float), pos,
    )


def _boresight_pos(s: Scenario, g: _Geometry) -> np.ndarray:
    """ECEF point the terminal points at: the satellite, or a point built from fixed az/el/range."""
    if g.sat_pos is not None:
        return g.sat_pos
    site = geometry.Site(s.site.lat_deg, s.site.lon_deg, s.site.alt_m)
    return _point_at(site, g.az[:1], g.el[:1], g.range_m[:1])[0]


def _point_at(site: geometry.Site, az_deg: np.ndarray, el_deg: np.ndarray, range_m: np.ndarray) -> np.ndarray:
    """ECEF position (N,3) at the given look angles from a site (the inverse of geometry.look_angles)."""
    lat, lon = np.radians(site.lat_deg), np.radians(site.lon_deg)
    az, el = np.radians(az_deg), np.radians(el_deg)
    e, n, u = np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    x = -so * e - sl * co * n + cl * co * u
    y = co * e - sl * so * n + cl * so * u
    z = cl * n + sl * u
    return geometry.site_ecef_m(site) + np.stack([x, y, z], axis=-1) * np.asarray(range_m)[..., None]


def _jammer_positions(j: Jammer, time_s: np.ndarray) -> np.ndarray:
    if j.track is not None:
        tr = np.asarray(j.track, dtype=float)
        lat = np.interp(time_s, tr[:, 0], tr[:, 1])
        # unwrap longitude so a track across the antimeridian interpolates the short way
        lon = np.interp(time_s, tr[:, 0], np.degrees(np.unwrap(np.radians(tr[:, 2]))))
        alt = np.interp(time_s, tr[:, 0], tr[:, 3])
        return geometry.geodetic_to_ecef_m(lat, lon, alt)
    assert j.lat_deg is not None and j.lon_deg is not None
    return geometry.geodetic_to_ecef_m(j.lat_deg, j.lon_deg, j.alt_m)


# --------------------------------------------------------------------------------------------- propagation

@dataclass
class _Atmosphere:
    gas: np.ndarray
    cloud: np.ndarray
    rain: np.ndarray
    scint: np.ndarray
    total: np.ndarray
    low_el: np.ndarray
    notes: list[str]


def _atmosphere(s: Scenario, el: np.ndarray, time_s: np.ndarray, freq_hz: float, lat: float, lon: float,
                alt_m: float, diameter_m: float) -> _Atmosphere:
    from ..propagation import itu as propagation

    n = len(el)
    p = s.propagation
    zeros = np.zeros(n)
    up = el > 0.0
    if p.mode == "fixed":  # a published budget's total atmospheric loss, as given
        return _Atmosphere(zeros, zeros, zeros, zeros, np.full(n, p.atmospheric_loss_db), np.asarray(el < 5.0),
                           [f"propagation fixed: {p.atmospheric_loss_db:g} dB atmospheric loss as given"])
    if s.propagation.mode == "timeseries":
        from ..propagation import weather

        ws, ts_notes = _with_validity_notes(
            weather.synthesize_weather, site_lat_deg=lat, site_lon_deg=lon, site_alt_m=alt_m, freq_hz=freq_hz,
            elevation_deg=np.where(up, el, np.nan), t_s=time_s, seed=p.seed,
            antenna_diameter_m=diameter_m, antenna_efficiency=s.terminal.antenna_efficiency, rec=p.rec,
            p_l_pct=p.p_l_pct, water_fraction=p.water_fraction,
        )
        gas = np.nan_to_num(ws.gas_db) if p.gas else zeros
        cloud = np.nan_to_num(ws.cloud_db) if p.cloud else zeros
        rain = np.nan_to_num(ws.rain_db) if p.rain else zeros
        # below 5 deg the low-elevation scintillation and multipath fading (P.618 2.4.2/2.4.3) take its place
        scint = np.nan_to_num(ws.scintillation_db + ws.low_elevation_db) if p.scintillation else zeros
        low = np.asarray(getattr(ws, "low_elevation", el < 5.0), dtype=bool)
        total = gas + cloud + rain + scint
        return _Atmosphere(gas, cloud, rain, scint, total, low,
                           [f"weather synthesized (P.1853 style), seed {p.seed}", *ts_notes])
    pct = 50.0 if p.mode == "clear_sky" else p.exceedance_pct
    al, caught = _with_validity_notes(propagation.atmospheric_losses, lat, lon, alt_m, freq_hz,
                                      np.where(up, el, np.nan), pct, diameter_m, s.terminal.antenna_efficiency,
                                      rec=p.rec, p_l_pct=p.p_l_pct, water_fraction=p.water_fraction)
    notes = list(al.notes) or caught
    gas = np.nan_to_num(al.gas_db) if p.gas else zeros
    cloud = np.nan_to_num(al.cloud_db) if p.cloud else zeros
    rain = np.nan_to_num(al.rain_db) if (p.rain and p.mode != "clear_sky") else zeros
    scint = np.nan_to_num(al.scintillation_db) if (p.scintillation and p.mode != "clear_sky") else zeros
    # P.618 section 2.5: A = A_gas + sqrt((A_rain + A_cloud)^2 + A_scint^2)
    total = gas + np.sqrt((rain + cloud) ** 2 + scint**2)
    return _Atmosphere(gas, cloud, rain, scint, total, np.asarray(al.low_elevation, dtype=bool) & up,
                       list(dict.fromkeys(notes)))


def _with_validity_notes(fn: Any, *args: Any, **kw: Any) -> tuple[Any, list[str]]:
    """Call a model and turn the ValidityWarnings it raises into notes for the Timeline (one each)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ValidityWarning)
        out = fn(*args, **kw)
    return out, list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, ValidityWarning)))


def _iono_scintillation(s: Scenario, time_s: np.ndarray) -> np.ndarray:
    io = s.propagation.ionosphere
    if io is None or (io.s4 <= 0.0 and not io.preset):
        return np.zeros(len(time_s))
    from ..propagation import scintillation

    preset = io.preset or None
    amp_db, _phase = scintillation.ionospheric_scintillation(  # a preset brings its own S4, tau and frequency
        freq_hz=s.carrier.freq_hz, t_s=time_s, s4=None if preset else io.s4, tau_s=None if preset else io.tau_s,
        seed=s.propagation.seed + 7, ref_freq_hz=None if preset else io.ref_freq_hz, preset=preset,
    )
    return -np.asarray(amp_db, dtype=float)  # a loss: positive when the amplitude fades


def _antenna_events(s: Scenario, time_s: np.ndarray) -> np.ndarray:
    if not s.events:
        return np.zeros(len(time_s))
    from ..propagation import antenna_events

    return np.asarray(antenna_events.event_loss_db(s.events, time_s, s.carrier.freq_hz), dtype=float)


# --------------------------------------------------------------------------------------------- the budget

def compute_timeline(s: Scenario, duration_s: float | None = None, step_s: float | None = None) -> Timeline:
    """Compute the budget Timeline of a scenario (optionally over a different duration or step)."""
    dur = s.meta.duration_s if duration_s is None else duration_s
    step = s.meta.step_s if step_s is None else step_s
    if not (math.isfinite(step) and math.isfinite(dur)) or step <= 0 or dur <= 0:
        raise InputError(f"duration and step must be positive numbers of seconds, got {dur:g} s and {step:g} s")
    if dur / step > MAX_TIMELINE_ROWS:
        raise InputError(f"duration {dur:g} s at step {step:g} s is more than {MAX_TIMELINE_ROWS} timeline rows")
    n = int(math.floor(dur / step + 1e-9)) + 1
    time_s = np.arange(n) * step
    t0 = s.start_unix_s
    t_unix = t0 + time_s
    c = s.carrier
    term = s.terminal
    notes: list[str] = []

    g = _downlink_geometry(s, t_unix)
    visible = g.el >= term.min_elevation_deg
    if not visible.any():
        raise ScenarioError(
            "satellite", f"never rises above min_elevation_deg {term.min_elevation_deg:g} during the scenario "
            f"(highest elevation {np.nanmax(g.el):.1f} deg)", s.source,
        )
    doppler = geometry.doppler_hz(g.range_rate, c.freq_hz)
    doppler_rate = np.gradient(doppler, step) if n > 1 else np.zeros(n)
    delay = geometry.delay_s(g.range_m)
    fspl = fspl_db(c.freq_hz, g.range_m)

    atm = _atmosphere(s, g.el, time_s, c.freq_hz, s.site.lat_deg, s.site.lon_deg, s.site.alt_m,
                      term.antenna_diameter_m)
    notes += atm.notes
    iono = _iono_scintillation(s, time_s)
    events_db = _antenna_events(s, time_s)
    atmospheric = atm.total + iono

    # receive side (budget.terminal): sky noise, radome, events, feed, LNA; or the published G/T
    a_sky = atm.total if s.propagation.mode == "fixed" else atm.gas + atm.cloud + atm.rain
    rxs = receive_side(s, a_sky, events_db)
    t_sky, t_sys, gt, g_peak = rxs.sky_temp_k, rxs.system_temp_k, rxs.gt_dbk, rxs.g_peak_dbi

    # uplink and the transponder's power sharing
    n_up = np.zeros(n)  # N_u / C_u (linear, in the carrier's band)
    esn0_up = np.full(n, np.nan)  # no uplink in the scenario
    j_up_share = np.zeros(n)  # sum J_u / C_u
    jammer_series: list[JammerSeries] = []
    boresight = _boresight_pos(s, g)
    site = geometry.Site(s.site.lat_deg, s.site.lon_deg, s.site.alt_m)
    if s.uplink is not None:
        esn0_up, n_up, up_notes, up_geom = _uplink(s, t_unix, time_s)
        notes += up_notes
    else:
        up_geom = None

    # the transponder's operating point (budget.payload): input back-off, output back-off from the amplifier model
    flux = up_geom["flux_dbw_m2"] if up_geom is not None else np.full(n, np.nan)
    sat_ibo = payload.satellite_ibo_db(s, up_geom["flux_dbw_m2"] if up_geom is not None else None, n)
    amp_rows = payload.amplifier_rows(s, sat_ibo)
    obo = amp_rows.obo_db if amp_rows is not None else np.full(n, float(s.satellite.output_backoff_db))
    cim = np.full(n, np.inf)
    n_carriers = s.satellite.carriers
    if n_carriers > 1:
        model = payload.amplifier_model(s.satellite.amplifier)
        spacing = s.satellite.carrier_spacing_hz or 1.25 * c.occupied_bw_hz
        if model is not None:
            pts = {k: payload.multicarrier_point(model, k, n_carriers, spacing, c.symbol_rate_baud, c.rolloff,
                                                 c.modcod) for k in {payload._grid(v) for v in sat_ibo}}
            cim = np.array([pts[payload._grid(v)][0] for v in sat_ibo])
            obo = np.array([pts[payload._grid(v)][1] for v in sat_ibo])
        else:
            notes.append(f"{n_carriers} carriers share the transponder, but without an amplifier model there is "
                         "no C/IM term")
        obo = obo + float(lin_to_db(n_carriers))  # this carrier's share of the total output
    # received signal (downlink), before power robbing
    eirp_sat = s.satellite.eirp_dbw - obo
    s_rx_ref = (eirp_sat - fspl - atmospheric - term.pointing_loss_db - term.other_losses_db
                - rxs.carrier_loss_db + g_peak)

    eff_offsets_db: list[float] = []  # matched-filter (noise-equivalent) J over in-band J, per jammer
    for j in s.jammers:
        active = (time_s >= j.start_s) & (time_s < (j.stop_s if j.stop_s is not None else np.inf))
        spectrum = dict(bandwidth_hz=j.bandwidth_hz, offset_hz=j.offset_hz, fraction=j.fraction, n_tones=j.n_tones,
                        duty_cycle=j.duty_cycle, base=j.base,
                        modulated_bw_hz=(j.symbol_rate_baud or c.symbol_rate_baud) * (1.0 + c.rolloff))
        share = inband_fraction(j.type, c.occupied_bw_hz, **spectrum)
        share_db = fraction_db(share)
        mf = matched_filter_fraction(j.type, c.symbol_rate_baud, c.rolloff, **spectrum)
        eff_offsets_db.append(float(lin_to_db(mf / share)) if share > 0 and mf > 0 else 0.0)
        if j.js_db is not None:
            js = np.full(n, j.js_db)
            jammer_series.append(JammerSeries(j.name, j.type, j.target, js, np.full(n, np.nan), np.full(n, np.nan),
                                              active))
        elif j.target == "downlink":
            jpos = _jammer_positions(j, time_s)
            jla = geometry.look_angles(site, jpos, np.zeros(3))
            off = np.broadcast_to(geometry.off_axis_deg(site, boresight, jpos), (n,)).astype(float)
            g_off = antenna.gain_dbi(off, term.antenna_diameter_m, term.antenna_efficiency, c.freq_hz, term.pattern)
            rng = np.broadcast_to(jla.range_m, (n,)).astype(float)
            j_rx = (j.eirp_dbw + share_db - fspl_db(c.freq_hz, rng) - j.polarization_loss_db
                    - j.extra_path_loss_db + g_off)
            js = j_rx - s_rx_ref
            jammer_series.append(JammerSeries(j.name, j.type, j.target, js, off, rng / 1e3, active))
        else:  # uplink jammer: J/S at the satellite's input, relative to the uplink carrier
            assert up_geom is not None
            jpos = _jammer_positions(j, time_s)
            sat_pos = up_geom["sat_pos"]
            rng = np.linalg.norm(np.atleast_2d(sat_pos) - np.atleast_2d(jpos), axis=-1)
            rng = np.broadcast_to(rng, (n,)).astype(float)
            j_rx = (j.eirp_dbw + share_db - fspl_db(s.uplink.freq_hz, rng) - j.polarization_loss_db
                    - j.extra_path_loss_db)
            js = j_rx - up_geom["c_rx_dbw"]
            jammer_series.append(JammerSeries(j.name, j.type, j.target, js, np.full(n, np.nan), rng / 1e3, active))
        if j.js_db is None and j.target == "downlink" and np.nanmin(jammer_series[-1].off_axis_deg) < 1.0:
            notes.append(f"jammer {j.name} comes within 1 deg of the terminal's boresight")

    j_up_tp = np.zeros(n)  # uplink jamming in the transponder's band over the carrier
    bw_tp = payload.transponder_bw_hz(s)
    for js, eff_db, j in zip(jammer_series, eff_offsets_db, s.jammers, strict=True):
        if js.target == "uplink":
            j_up_share = j_up_share + np.where(js.active, db_to_lin(js.js_db + eff_db), 0.0)
            j_up_tp = j_up_tp + np.where(js.active, db_to_lin(js.js_db) * _band_ratio(j, s, bw_tp), 0.0)

    # power robbing: the transponder amplifies carrier, uplink noise and uplink jamming in its band together
    amp_in_link = False
    up_suppression = np.ones(n)  # amplified uplink noise and jamming over the carrier, relative to the input
    amp_distortion = np.zeros(n)
    drive_db = np.zeros(n)  # the transponder's input power over its nominal (uplink jamming adds to it)
    if s.uplink is not None and s.uplink.bent_pipe:
        n_up_tp = n_up * bw_tp / c.symbol_rate_baud
        drive_db = lin_to_db((1.0 + n_up_tp + j_up_tp) / (1.0 + n_up_tp))
        if amp_rows is not None:
            robbing_db = np.zeros(n)
            for v in np.unique([payload._grid(x) for x in sat_ibo]):
                m = np.array([payload._grid(x) == v for x in sat_ibo])
                r_db, sup, dist = payload.amplifier_robbing(s, float(v), n_up_tp[m] + j_up_tp[m],
                                                            float(np.nanmedian(n_up_tp)))
                robbing_db[m], up_suppression[m], amp_distortion[m] = r_db, sup, dist
            amp_in_link = True
        else:
            robbing_db = -lin_to_db(1.0 + n_up_tp + j_up_tp)
    else:
        robbing_db = np.zeros(n)
    eirp_signal = eirp_sat + robbing_db
    atmospheric = np.where(visible, atmospheric, np.nan)  # no link below the horizon: NaN, not a number
    cn0 = (eirp_signal - fspl - atmospheric - term.pointing_loss_db - term.other_losses_db - rxs.carrier_loss_db
           + gt - BOLTZMANN_DBW_K_HZ)
    esn0_down = cn0 - lin_to_db(c.symbol_rate_baud)
    inv_thermal = 1.0 / db_to_lin(esn0_down) + n_up * up_suppression
    esn0 = -lin_to_db(inv_thermal)
    inv_total = inv_thermal + j_up_share * up_suppression + amp_distortion
    for js, j, eff_db in zip(jammer_series, s.jammers, eff_offsets_db, strict=True):
        if js.target == "downlink":
            if j.js_db is None:
                js.js_db = js.js_db - robbing_db  # J/S grows when uplink jamming robs the carrier's power
            inv_total = inv_total + np.where(js.active, db_to_lin(js.js_db + eff_db), 0.0)
    # interference from other carriers (budget.neighbours) and intermodulation (budget.payload)
    c_rx_dbw = eirp_signal - fspl - atmospheric - term.pointing_loss_db - term.other_losses_db \
        - rxs.carrier_loss_db + g_peak
    ci_asi, _ = neighbours.adjacent_satellites(s, t_unix, boresight, atmospheric, c_rx_dbw)
    pct = 50.0 if s.propagation.mode == "clear_sky" else s.propagation.exceedance_pct
    (xpd_rain, ci_xpol), xp_notes = _with_validity_notes(neighbours.cross_polar, s, atm.rain, g.el, pct)
    if s.satellite.cross_pol_carrier_db is not None:
        notes += xp_notes
    ci_alloc, degradation_db = neighbours.allocations(s)
    with np.errstate(over="ignore"):
        inv_total = inv_total + db_to_lin(-ci_asi) + db_to_lin(-ci_xpol) + db_to_lin(-cim) + db_to_lin(-ci_alloc)
    inv_total = inv_total * db_to_lin(degradation_db)
    cnij_link = -lin_to_db(inv_total)

    # implementation losses (budget.prediction): what the receiver measures, what decoding needs
    others = _other_operating_points(s, sat_ibo, cnij_link) if amp_rows is not None else None
    pred = prediction.predict(s, inv_total, amp_rows.points if amp_rows is not None else None, others,
                              amp_in_link)
    notes += pred.notes
    cnij = pred.cnij_db
    margin = pred.margin_db
    best_name, best_eta = pred.best_modcod, pred.best_eta

    def hide(x: np.ndarray) -> np.ndarray:
        return np.where(visible, x, np.nan)

    cols: dict[str, np.ndarray] = {
        "time_s": time_s,
        "elevation_deg": g.el,
        "azimuth_deg": g.az,
        "slant_range_km": g.range_m / 1e3,
        "range_rate_m_s": g.range_rate,
        "doppler_hz": doppler,
        "doppler_rate_hz_s": doppler_rate,
        "delay_s": delay,
        "visible": visible,
        "fspl_db": fspl,
        "gas_db": hide(atm.gas),
        "cloud_db": hide(atm.cloud),
        "rain_db": hide(atm.rain),
        "scintillation_db": hide(atm.scint),
        "iono_scintillation_db": iono,
        "atmospheric_db": hide(atmospheric),
        "low_elevation": atm.low_el,
        "antenna_event_db": events_db,
        "eirp_dbw": eirp_signal,
        "sky_temp_k": hide(t_sky),
        "system_temp_k": hide(t_sys),
        "gt_dbk": hide(gt),
        "cn0_dbhz": hide(cn0),
        "esn0_down_db": hide(esn0_down),
        "esn0_up_db": esn0_up,
        "esn0_db": hide(esn0),
        "cnij_db": hide(cnij),
        "margin_db": hide(margin),
        "best_modcod": np.where(visible, best_name, ""),
        "best_eta": np.where(visible, best_eta, 0.0),
        "uplink_flux_dbw_m2": flux,
        "sat_ibo_db": sat_ibo if (amp_rows is not None or s.satellite.sfd_dbw_m2 is not None) else np.full(n, np.nan),
        "obo_db": obo,
        "ci_asi_db": ci_asi,
        "xpd_rain_db": hide(xpd_rain),
        "ci_xpol_db": ci_xpol,
        "cim_db": cim,
        "ci_alloc_db": np.full(n, ci_alloc),
        "cnij_link_db": hide(cnij_link),
        "amp_loss_db": hide(pred.amp_loss_db),
        "phase_noise_loss_db": hide(pred.phase_noise_loss_db),
        "fading_loss_db": pred.fading_loss_db,
        "esn0_decode_db": hide(pred.esn0_decode_db),
        "doppler_up_hz": up_geom["doppler_hz"] if up_geom is not None else np.zeros(n),
        "transponder_drive_db": drive_db,
    }
    assert tuple(cols) == COLUMNS, "Timeline columns and budget.COLUMNS disagree"
    if not visible.all():
        notes.append(f"{int((~visible).sum())} of {n} rows below min_elevation_deg: no link (NaN)")
    return Timeline(s, t0, cols, jammer_series, list(dict.fromkeys(notes)), pred.threshold_offsets_db)


def _band_ratio(j: Jammer, s: Scenario, bw_tp_hz: float) -> float:
    """A jammer's power in the transponder's band over its power in the carrier's occupied band."""
    c = s.carrier
    kw = dict(bandwidth_hz=j.bandwidth_hz, offset_hz=j.offset_hz, fraction=j.fraction, n_tones=j.n_tones,
              duty_cycle=j.duty_cycle, base=j.base,
              modulated_bw_hz=(j.symbol_rate_baud or c.symbol_rate_baud) * (1.0 + c.rolloff))
    occ = inband_fraction(j.type, c.occupied_bw_hz, **kw)
    return inband_fraction(j.type, bw_tp_hz, **kw) / occ if occ > 0 else 1.0


def _other_operating_points(s: Scenario, sat_ibo: np.ndarray, cnij_link: np.ndarray) -> dict[str, list]:
    """The amplifier's operating points of the MODCODs other than the carrier's that could close somewhere in the
    Timeline (Table 13 threshold at most the best link C/(N+I+J)): the best MODCOD needs their degradation."""
    best = float(np.nanmax(cnij_link)) if np.isfinite(cnij_link).any() else -np.inf
    out = {}
    for m in modcods.all_modcods(s.run.acm_vlsnr):
        if m.name != s.carrier.modcod and m.esn0_qef_db <= best:
            rows = payload.amplifier_rows(s, sat_ibo, m.name)
            assert rows is not None
            out[m.name] = rows.points
    return out


def _uplink(s: Scenario, t_unix: np.ndarray, time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str],
                                                                          dict[str, Any]]:
    """Uplink Es/N0 (dB) and N_u/C_u (linear) at the satellite, and what uplink jammers need."""
    up = s.uplink
    assert up is not None and s.satellite.g_over_t_dbk is not None
    n = len(t_unix)
    lat = up.lat_deg if up.lat_deg is not None else s.site.lat_deg
    lon = up.lon_deg if up.lon_deg is not None else s.site.lon_deg
    alt = up.alt_m if up.lat_deg is not None else s.site.alt_m
    station = geometry.Site(lat, lon, alt)
    if up.elevation_deg is not None and up.range_km is not None:  # a fixed uplink geometry (published budgets)
        el = np.full(n, up.elevation_deg)
        rng = np.full(n, up.range_km * 1e3)
        rate = np.zeros(n)
        sat_pos = _point_at(station, np.array([180.0]), el[:1], rng[:1])[0]
    elif s.geometry is not None and up.lat_deg is None:
        el = np.full(n, s.geometry.elevation_deg)
        rng = np.full(n, s.geometry.range_km * 1e3)
        rate = np.full(n, s.geometry.range_rate_m_s)
        sat_pos = _point_at(station, np.array([s.geometry.azimuth_deg]), el[:1], rng[:1])[0]
    elif s.geometry is not None:
        raise ScenarioError("uplink.lat_deg", "a separate uplink station needs an orbit (tle or geo_lon_deg), "
                            "not a fixed [geometry]", s.source)
    else:
        sat_pos, vel = _satellite_track(s, t_unix)
        la = geometry.look_angles(station, sat_pos, vel)
        el = np.broadcast_to(la.elevation_deg, (n,)).astype(float)
        rng = np.broadcast_to(la.range_m, (n,)).astype(float)
        rate = np.broadcast_to(la.range_rate_m_s, (n,)).astype(float)
    notes: list[str] = []
    if np.nanmin(el) <= 0.0:
        raise ScenarioError("uplink", f"the satellite goes below the uplink station's horizon "
                            f"(elevation {np.nanmin(el):.1f} deg)", s.source)
    from ..propagation import itu as propagation

    pct = 50.0 if s.propagation.mode == "clear_sky" else s.propagation.exceedance_pct
    if s.propagation.mode == "fixed":
        a_up = np.full(n, up.atmospheric_loss_db)
    else:
        al, caught = _with_validity_notes(propagation.atmospheric_losses, lat, lon, alt, up.freq_hz, el, pct,
                                          up.antenna_diameter_m, 0.65, rec=s.propagation.rec)
        notes += [f"uplink: {m}" for m in caught]
        a_up = np.nan_to_num(al.total_db) if s.propagation.mode != "clear_sky" else \
            np.nan_to_num(al.gas_db + al.cloud_db)
    # the uplink by its EIRP, or by its input back-off at a satellite given by its saturation flux density
    # (flux = SFD - IBO; the isotropic receive area is lambda^2 / 4 pi)
    spread_db = lin_to_db(4.0 * np.pi * rng**2)
    iso_area_db = float(lin_to_db((C_M_S / up.freq_hz) ** 2 / (4.0 * np.pi)))
    if up.eirp_dbw is not None:  # with a ground HPA model, the saturated EIRP less the HPA's output back-off
        flux = up.eirp_dbw - payload.hpa_obo_db(s) - spread_db - a_up
    else:
        assert up.ibo_db is not None and s.satellite.sfd_dbw_m2 is not None
        flux = np.full(n, s.satellite.sfd_dbw_m2 - up.ibo_db)
    c_rx = flux + iso_area_db
    cn0_up = c_rx + s.satellite.g_over_t_dbk - BOLTZMANN_DBW_K_HZ
    esn0_up = cn0_up - lin_to_db(s.carrier.symbol_rate_baud)
    n_up = 1.0 / db_to_lin(esn0_up)
    # C at the satellite input referred to an isotropic receive antenna (jammers use the same reference)
    return esn0_up, n_up, notes, {"sat_pos": sat_pos, "c_rx_dbw": c_rx, "flux_dbw_m2": flux,
                                  "eirp_dbw": flux + spread_db + a_up,
                                  "doppler_hz": geometry.doppler_hz(rate, up.freq_hz)}
