"""Scenario files (TOML): one terminal's link, typed and validated.

`load_scenario(path)` returns a `Scenario`; every bad field raises a ScenarioError naming the dotted key
(`jammer[0].eirp_dbw: expected a number, got str 'ten'`). `Scenario.resolved()` gives the full table with every
default filled in (the run directory stores it). `apply_overrides(table, {"jammer.0.eirp_dbw": 5.0})` sets dotted
keys, as campaigns do.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dbmath import noise_figure_to_temp_k
from ..errors import InputError, ScenarioError
from .schema import build, did_you_mean, spec, to_table

JAMMER_TYPES = ("cw", "barrage", "partial_band", "multitone", "swept", "pulsed", "follower", "modulated")
PATTERNS = ("S.465", "S.580", "AP8")
PROPAGATION_MODES = ("statistical", "timeseries", "clear_sky")
FADING_MODELS = ("none", "rician", "loo", "lutz")
EVENT_TYPES = ("wet_antenna", "wet_radome", "snow")
MAX_TIMELINE_ROWS = 5_000_000


def _modcod_check(v: str) -> str | None:
    from . import modcods

    try:
        modcods.get(v)
    except Exception as e:  # noqa: BLE001 - turned into a one-line message
        return str(e)
    return None


@dataclass(frozen=True)
class Meta:
    name: str = spec(doc="scenario name")
    start: str = spec(doc="UTC start time, ISO 8601 (2026-01-01T00:00:00Z)")
    duration_s: float = spec(lo=0.0, lo_open=True, hi=30 * 86400.0, doc="length of the timeline")
    step_s: float = spec(1.0, lo=0.001, hi=86400.0, doc="timeline step (down to 10 ms for time series)")
    description: str = spec("", doc="free text")


@dataclass(frozen=True)
class Site:
    lat_deg: float = spec(lo=-90.0, hi=90.0)
    lon_deg: float = spec(lo=-180.0, hi=360.0)
    alt_m: float = spec(0.0, lo=-500.0, hi=9000.0)
    name: str = spec("", doc="site name for reports")


@dataclass(frozen=True)
class Terminal:
    antenna_diameter_m: float = spec(lo=0.05, hi=50.0)
    antenna_efficiency: float = spec(0.65, lo=0.05, hi=1.0)
    pattern: str = spec("S.465", choices=PATTERNS, doc="off-axis gain envelope")
    noise_temp_k: float | None = spec(None, lo=1.0, hi=5000.0, doc="receiver (LNA) noise temperature")
    noise_figure_db: float | None = spec(None, lo=0.0, hi=20.0, doc="alternative to noise_temp_k")
    feed_loss_db: float = spec(0.0, lo=0.0, hi=10.0, doc="loss between antenna and LNA (adds noise)")
    pointing_loss_db: float = spec(0.0, lo=0.0, hi=20.0)
    ground_spill_temp_k: float = spec(20.0, lo=0.0, hi=300.0, doc="ground noise picked up by spillover/sidelobes")
    min_elevation_deg: float = spec(0.0, lo=-5.0, hi=90.0, doc="below this the link is counted unavailable")
    other_losses_db: float = spec(0.0, lo=0.0, hi=30.0, doc="implementation/other losses on the signal")
    physical_temp_k: float = spec(290.0, lo=150.0, hi=350.0, doc="physical temperature of feed and radome")

    @property
    def lna_temp_k(self) -> float:
        if self.noise_temp_k is not None:
            return self.noise_temp_k
        assert self.noise_figure_db is not None
        return float(noise_figure_to_temp_k(self.noise_figure_db))


@dataclass(frozen=True)
class Satellite:
    eirp_dbw: float = spec(lo=-20.0, hi=90.0, doc="downlink EIRP toward the terminal (saturated, before back-off)")
    tle: list[str] | None = spec(None, doc="two or three TLE lines")
    geo_lon_deg: float | None = spec(None, lo=-180.0, hi=360.0, doc="ideal GEO satellite at this longitude")
    name: str = spec("", doc="satellite name")
    output_backoff_db: float = spec(0.0, lo=0.0, hi=30.0, doc="transponder output back-off (bent pipe)")
    g_over_t_dbk: float | None = spec(None, lo=-40.0, hi=40.0, doc="satellite receive G/T (uplink)")


@dataclass(frozen=True)
class Carrier:
    freq_hz: float = spec(lo=100e6, hi=100e9, doc="downlink carrier frequency")
    symbol_rate_baud: float = spec(lo=1e3, hi=1e9)
    rolloff: float = spec(0.2, choices=(0.35, 0.25, 0.2, 0.15, 0.1, 0.05))
    modcod: str = spec("QPSK 1/2", check=_modcod_check, doc="DVB-S2 Table 13 MODCOD")
    pilots: bool = spec(True)
    frame: str = spec("normal", choices=("normal", "short"))
    polarization_tilt_deg: float = spec(45.0, lo=0.0, hi=90.0, doc="45 for circular polarisation")

    @property
    def occupied_bw_hz(self) -> float:
        return self.symbol_rate_baud * (1.0 + self.rolloff)


@dataclass(frozen=True)
class Ionosphere:
    s4: float = spec(0.0, lo=0.0, hi=1.5, doc="S4 index at ref_freq_hz")
    ref_freq_hz: float = spec(1.5e9, lo=100e6, hi=20e9)
    tau_s: float = spec(1.0, lo=0.01, hi=100.0, doc="decorrelation time")
    preset: str = spec("", choices=("", "auroral", "quiet"), doc="named condition that sets s4 and tau_s")


@dataclass(frozen=True)
class Propagation:
    mode: str = spec("statistical", choices=PROPAGATION_MODES)
    exceedance_pct: float = spec(1.0, lo=0.001, hi=50.0, doc="statistical mode: losses exceeded p % of the time")
    seed: int = spec(1, lo=0, doc="time-series synthesis seed")
    rec: str = spec("P.618-13", choices=("P.618-13",), doc="P.618 revision")
    gas: bool = spec(True)
    cloud: bool = spec(True)
    rain: bool = spec(True)
    scintillation: bool = spec(True)
    ionosphere: Ionosphere | None = None


@dataclass(frozen=True)
class FixedGeometry:
    elevation_deg: float = spec(lo=-5.0, hi=90.0)
    range_km: float = spec(lo=100.0, hi=500_000.0)
    azimuth_deg: float = spec(180.0, lo=0.0, hi=360.0)
    range_rate_m_s: float = spec(0.0, lo=-12_000.0, hi=12_000.0)


@dataclass(frozen=True)
class Uplink:
    freq_hz: float = spec(lo=100e6, hi=100e9)
    eirp_dbw: float = spec(lo=-20.0, hi=100.0, doc="gateway (or terminal) uplink EIRP")
    lat_deg: float | None = spec(None, lo=-90.0, hi=90.0, doc="uplink station; default: the terminal's site")
    lon_deg: float | None = spec(None, lo=-180.0, hi=360.0)
    alt_m: float = spec(0.0, lo=-500.0, hi=9000.0)
    antenna_diameter_m: float = spec(3.7, lo=0.05, hi=50.0, doc="for the uplink's scintillation")
    bent_pipe: bool = spec(True, doc="transponder shares its output power among signal, noise and jamming")


@dataclass(frozen=True)
class Jammer:
    name: str = spec()
    type: str = spec(choices=JAMMER_TYPES)
    eirp_dbw: float | None = spec(None, lo=-50.0, hi=120.0)
    js_db: float | None = spec(None, lo=-60.0, hi=80.0, doc="fixed J/S instead of a position (bench cases)")
    lat_deg: float | None = spec(None, lo=-90.0, hi=90.0)
    lon_deg: float | None = spec(None, lo=-180.0, hi=360.0)
    alt_m: float = spec(0.0, lo=-500.0, hi=40_000.0)
    track: list[list[float]] | None = spec(None, doc="moving jammer: rows [time_s, lat_deg, lon_deg, alt_m]")
    target: str = spec("downlink", choices=("downlink", "uplink"), doc="which receiver it jams")
    bandwidth_hz: float = spec(0.0, lo=0.0, hi=10e9, doc="occupied bandwidth (0 for a tone)")
    offset_hz: float = spec(0.0, lo=-5e9, hi=5e9, doc="centre offset from the victim carrier")
    polarization_loss_db: float = spec(0.0, lo=0.0, hi=40.0)
    extra_path_loss_db: float = spec(0.0, lo=0.0, hi=200.0, doc="terrain/clutter loss on the jammer path")
    antenna_gain_toward_victim_dbi: float = spec(0.0, lo=-30.0, hi=60.0, doc="included in eirp if 0")
    fraction: float = spec(1.0, lo=0.0, lo_open=True, hi=1.0, doc="partial_band: fraction rho of the band jammed")
    n_tones: int = spec(4, lo=1, hi=1024, doc="multitone")
    sweep_rate_hz_s: float = spec(1e6, lo=0.0, doc="swept")
    duty_cycle: float = spec(1.0, lo=0.0, lo_open=True, hi=1.0, doc="pulsed")
    prf_hz: float = spec(1000.0, lo=0.0, lo_open=True, doc="pulsed")
    base: str = spec("barrage", choices=JAMMER_TYPES, doc="pulsed: waveform during the pulse")
    reaction_time_s: float = spec(1e-3, lo=0.0, doc="follower")
    modulation: str = spec("QPSK", choices=("BPSK", "QPSK", "8PSK"), doc="modulated interferer")
    symbol_rate_baud: float | None = spec(None, lo=1.0, doc="modulated interferer; default the victim's")
    start_s: float = spec(0.0, lo=0.0, doc="jammer switches on at this time")
    stop_s: float | None = spec(None, lo=0.0, doc="and off at this one")

    @property
    def has_position(self) -> bool:
        return self.track is not None or (self.lat_deg is not None and self.lon_deg is not None)


@dataclass(frozen=True)
class AntennaEvent:
    type: str = spec(choices=EVENT_TYPES)
    start_s: float = spec(lo=0.0)
    duration_s: float = spec(lo=0.0, lo_open=True)
    loss_db: float | None = spec(None, lo=0.0, hi=40.0, doc="default: the model's value at the carrier frequency")
    ramp_s: float = spec(60.0, lo=0.0, doc="onset and drying time")
    thickness_mm: float = spec(5.0, lo=0.0, hi=200.0, doc="snow depth on the reflector")
    wet: bool = spec(False, doc="snow: wet snow attenuates more")


@dataclass(frozen=True)
class Channel:
    fading: str = spec("none", choices=FADING_MODELS, doc="fast fading for terminals on the move")
    rician_k_db: float = spec(10.0, lo=-30.0, hi=40.0)
    fading_doppler_hz: float = spec(10.0, lo=0.0, hi=10_000.0, doc="maximum Doppler spread of the fast fading")
    phase_noise_dbc_hz: float | None = spec(None, lo=-160.0, hi=-20.0, doc="phase noise at 10 kHz offset")
    sps: int = spec(2, lo=2, hi=16, doc="samples per symbol of the IQ channel")
    doppler_compensation_pct: float = spec(
        0.0, lo=0.0, hi=100.0, doc="share of the predicted Doppler the terminal removes (orbit-aided tracking)")


@dataclass(frozen=True)
class Run:
    acm: bool = spec(False, doc="adaptive coding and modulation")
    acm_margin_db: float = spec(0.5, lo=0.0, hi=10.0)
    acm_hysteresis_db: float = spec(0.3, lo=0.0, hi=10.0)
    return_delay_s: float | None = spec(None, lo=0.0, hi=10.0, doc="ACM return path; default twice the path delay")
    bin_s: float | None = spec(None, lo=0.01, doc="measurement time bin; default the timeline step")


@dataclass(frozen=True)
class Scenario:
    meta: Meta
    site: Site
    terminal: Terminal
    satellite: Satellite
    carrier: Carrier
    propagation: Propagation
    geometry: FixedGeometry | None = None
    uplink: Uplink | None = None
    jammers: list[Jammer] = field(default_factory=list)
    events: list[AntennaEvent] = field(default_factory=list)
    channel: Channel = field(default_factory=Channel)
    run: Run = field(default_factory=Run)
    source: str | None = None

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def start_unix_s(self) -> float:
        from ..geometry.orbit import parse_utc

        return parse_utc(self.meta.start)

    def span_s(self, start_s: float, duration_s: float | None) -> float:
        """The duration of a span of this scenario from start_s (the rest of the scenario if None); InputError if
        the span does not lie inside the scenario."""
        end = self.meta.duration_s
        if not math.isfinite(start_s) or start_s < 0 or start_s >= end:
            raise InputError(f"start {start_s:g} s is outside the scenario (0 to {end:g} s)")
        dur = float(duration_s if duration_s is not None else end - start_s)
        if not math.isfinite(dur) or dur <= 0:
            raise InputError(f"duration must be a positive number of seconds, got {dur:g} s")
        if start_s + dur > end + 1e-9:
            raise InputError(f"start {start_s:g} s + duration {dur:g} s goes past the scenario's {end:g} s")
        return dur

    def resolved(self) -> dict[str, Any]:
        """The scenario as a TOML-ready table with every default filled in."""
        return _resolved_table(self)

    def digest(self) -> str:
        """A short hash of the resolved scenario (recorded with runs and recordings)."""
        blob = json.dumps(self.resolved(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


SECTION_KEYS = ("scenario", "site", "terminal", "satellite", "carrier", "propagation", "geometry", "uplink",
                "jammer", "antenna_event", "channel", "run")


def _resolved_table(s: Scenario) -> dict[str, Any]:
    t: dict[str, Any] = {
        "scenario": to_table(s.meta),
        "site": to_table(s.site),
        "terminal": to_table(s.terminal),
        "satellite": to_table(s.satellite),
        "carrier": to_table(s.carrier),
        "propagation": to_table(s.propagation),
        "channel": to_table(s.channel),
        "run": to_table(s.run),
    }
    if s.geometry is not None:
        t["geometry"] = to_table(s.geometry)
    if s.uplink is not None:
        t["uplink"] = to_table(s.uplink)
    if s.jammers:
        t["jammer"] = [to_table(j) for j in s.jammers]
    if s.events:
        t["antenna_event"] = [to_table(e) for e in s.events]
    return t


def _list_of_tables(raw: Any, key: str, source: str | None) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise ScenarioError(key, "expected an array of tables ([[" + key + "]])", source)
    return raw


def scenario_from_dict(d: dict[str, Any], source: str | None = None) -> Scenario:
    """Validate a parsed scenario table. Raises ScenarioError naming the first bad key."""
    if not isinstance(d, dict):
        raise ScenarioError("(top level)", "expected a TOML table", source)
    for k in d:
        if k not in SECTION_KEYS:
            raise ScenarioError(k, f"unknown section{did_you_mean(k, SECTION_KEYS)} (allowed: "
                                f"{', '.join(SECTION_KEYS)})", source)
    for k in ("scenario", "site", "terminal", "satellite", "carrier"):
        if k not in d:
            raise ScenarioError(k, "required section is missing", source)
    meta = build(Meta, d["scenario"], "scenario", source)
    from ..geometry.orbit import parse_utc

    try:
        parse_utc(meta.start)
    except Exception as e:  # noqa: BLE001
        raise ScenarioError("scenario.start", f"not an ISO 8601 UTC time: {meta.start!r} ({e})", source) from None
    if meta.step_s > meta.duration_s:
        raise ScenarioError("scenario.step_s", f"{meta.step_s} is longer than duration_s {meta.duration_s}", source)
    if meta.duration_s / meta.step_s > MAX_TIMELINE_ROWS:
        raise ScenarioError("scenario.step_s", f"duration_s / step_s is more than {MAX_TIMELINE_ROWS} timeline rows: "
                            f"use a longer step", source)
    site = build(Site, d["site"], "site", source)
    terminal = build(Terminal, d["terminal"], "terminal", source)
    if terminal.noise_temp_k is None and terminal.noise_figure_db is None:
        raise ScenarioError("terminal.noise_temp_k", "give noise_temp_k or noise_figure_db", source)
    if terminal.noise_temp_k is not None and terminal.noise_figure_db is not None:
        raise ScenarioError("terminal.noise_figure_db", "give noise_temp_k or noise_figure_db, not both", source)
    sat = build(Satellite, d["satellite"], "satellite", source)
    geometry = build(FixedGeometry, d["geometry"], "geometry", source) if "geometry" in d else None
    n_orbit = (sat.tle is not None) + (sat.geo_lon_deg is not None)
    if n_orbit > 1:
        raise ScenarioError("satellite.tle", "give either tle or geo_lon_deg, not both", source)
    if n_orbit == 0 and geometry is None:
        raise ScenarioError("satellite.tle", "give tle, geo_lon_deg, or a [geometry] section", source)
    if sat.tle is not None:
        from ..geometry.orbit import parse_tle

        try:
            parse_tle(sat.tle)
        except Exception as e:  # noqa: BLE001
            raise ScenarioError("satellite.tle", str(e), source) from None
    if sat.geo_lon_deg is not None and geometry is None:
        from ..geometry.orbit import geo_elevation_closed_form_deg

        el = float(geo_elevation_closed_form_deg(site.lat_deg, sat.geo_lon_deg - site.lon_deg))
        if el < terminal.min_elevation_deg:
            raise ScenarioError(
                "satellite.geo_lon_deg",
                f"GEO satellite at {sat.geo_lon_deg:g} deg is below the horizon at the site "
                f"(elevation {el:.1f} deg < min_elevation_deg {terminal.min_elevation_deg:g})",
                source,
            )
    carrier = build(Carrier, d["carrier"], "carrier", source)
    if carrier.frame == "short" and carrier.modcod.endswith("9/10"):
        raise ScenarioError("carrier.modcod", "9/10 MODCODs exist for normal frames only", source)
    prop_raw = dict(d.get("propagation", {}) or {})
    iono = None
    if "ionosphere" in prop_raw:
        iono = build(Ionosphere, prop_raw.pop("ionosphere"), "propagation.ionosphere", source)
    prop = build(Propagation, prop_raw, "propagation", source, ionosphere=iono)
    uplink = build(Uplink, d["uplink"], "uplink", source) if "uplink" in d else None
    if uplink is not None and sat.g_over_t_dbk is None:
        raise ScenarioError("satellite.g_over_t_dbk", "an [uplink] needs the satellite's G/T", source)
    if uplink is not None and (uplink.lat_deg is None) != (uplink.lon_deg is None):
        raise ScenarioError("uplink.lat_deg", "give both lat_deg and lon_deg of the uplink station, or neither", source)
    jammers = []
    names: set[str] = set()
    for i, jt in enumerate(_list_of_tables(d.get("jammer"), "jammer", source)):
        key = f"jammer[{i}]"
        j = build(Jammer, jt, key, source)
        if j.name in names:
            raise ScenarioError(f"{key}.name", f"duplicate jammer name {j.name!r}", source)
        names.add(j.name)
        if j.js_db is None:
            if not j.has_position:
                raise ScenarioError(f"{key}.lat_deg", "jammer has no position (lat_deg/lon_deg or track) and no js_db",
                                    source)
            if j.eirp_dbw is None:
                raise ScenarioError(f"{key}.eirp_dbw", "a positioned jammer needs eirp_dbw", source)
        elif j.has_position or j.eirp_dbw is not None:
            raise ScenarioError(f"{key}.js_db", "give js_db alone, or a position with eirp_dbw, not both", source)
        if (j.lat_deg is None) != (j.lon_deg is None):
            raise ScenarioError(f"{key}.lat_deg", "give both lat_deg and lon_deg", source)
        if j.track is not None:
            _check_track(j.track, f"{key}.track", source)
        if j.type in ("barrage", "partial_band", "swept", "multitone") and j.bandwidth_hz <= 0.0:
            raise ScenarioError(f"{key}.bandwidth_hz", f"a {j.type} jammer needs bandwidth_hz > 0", source)
        if j.target == "uplink" and uplink is None:
            raise ScenarioError(f"{key}.target", "an uplink jammer needs an [uplink] section", source)
        if j.stop_s is not None and j.stop_s <= j.start_s:
            raise ScenarioError(f"{key}.stop_s", "must be after start_s", source)
        jammers.append(j)
    events = [build(AntennaEvent, et, f"antenna_event[{i}]", source)
              for i, et in enumerate(_list_of_tables(d.get("antenna_event"), "antenna_event", source))]
    channel = build(Channel, d.get("channel"), "channel", source)
    run = build(Run, d.get("run"), "run", source)
    return Scenario(meta, site, terminal, sat, carrier, prop, geometry, uplink, jammers, events, channel, run, source)


def _check_track(track: list[list[float]], key: str, source: str | None) -> None:
    if len(track) < 2:
        raise ScenarioError(key, "a track needs at least two rows [time_s, lat_deg, lon_deg, alt_m]", source)
    last = -math.inf
    for i, row in enumerate(track):
        if len(row) != 4:
            raise ScenarioError(f"{key}[{i}]", "each row is [time_s, lat_deg, lon_deg, alt_m]", source)
        if row[0] <= last:
            raise ScenarioError(f"{key}[{i}]", "track times must increase", source)
        if not -90.0 <= row[1] <= 90.0:
            raise ScenarioError(f"{key}[{i}]", f"latitude {row[1]} is out of range (must be in [-90, 90])", source)
        if not -180.0 <= row[2] <= 360.0:
            raise ScenarioError(f"{key}[{i}]", f"longitude {row[2]} is out of range (must be in [-180, 360])", source)
        if not -500.0 <= row[3] <= 40_000.0:
            raise ScenarioError(f"{key}[{i}]", f"altitude {row[3]} m is out of range (must be in [-500, 40000])",
                                source)
        last = row[0]


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file. Missing file, bad TOML and bad fields raise ScenarioError/InputError.

    The file is read as bounded UTF-8 text (linksim.files.read_text: a FIFO, a device, binary or huge content is
    refused up front). A bad value that came from `overrides` is named by the override's key as it was given
    (`jammer.0.js_db (override)`), not by the file's."""
    from ..files import FileError, read_text

    p = Path(path)
    src = str(p)
    try:
        text = read_text(p)
    except FileError as e:
        raise ScenarioError("(file)", "no such scenario file" if e.problem == "no such file" else e.problem,
                            src) from None
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError("(toml)", f"not valid TOML: {e}", src) from None
    if overrides:
        d = apply_overrides(d, overrides, src)
        try:
            return scenario_from_dict(d, src)
        except ScenarioError as e:
            typed = {_dotted_key(k): k for k in overrides}.get(e.key)
            if typed is None:
                raise
            raise ScenarioError(f"{typed} (override)", e.problem, src) from None
    return scenario_from_dict(d, src)


def _dotted_key(override: str) -> str:
    """'jammer.0.js_db' -> 'jammer[0].js_db', the way scenario errors name keys."""
    parts = override.split(".")
    out = parts[0]
    for p in parts[1:]:
        out += f"[{p}]" if p.isdigit() else f".{p}"
    return out


def apply_overrides(d: dict[str, Any], overrides: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """Set dotted keys ("carrier.modcod", "jammer.0.eirp_dbw") in a copy of a scenario table."""
    out = copy.deepcopy(d)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        if parts[0] not in SECTION_KEYS:
            raise ScenarioError(dotted, f"unknown section {parts[0]!r}{did_you_mean(parts[0], SECTION_KEYS)}", source)
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(dotted, f"index {part!r} is out of range", source)
                node = node[int(part)]
            else:
                if part not in node:
                    nxt = parts[i + 1]
                    node[part] = [] if nxt.isdigit() else {}
                node = node[part]
        last = parts[-1]
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ScenarioError(dotted, f"index {last!r} is out of range", source)
            node[int(last)] = value
        else:
            node[last] = value
    return out


def list_shipped(root: str | Path | None = None) -> list[Path]:
    """The example scenarios shipped in scenarios/ (next to the package in a checkout)."""
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "scenarios"
    return sorted(base.glob("*.toml"))
