"""Scenario files (TOML): one terminal's link, typed and validated.

`load_scenario(path)` returns a `Scenario`; every bad field raises a ScenarioError naming the dotted key
(`jammer[0].eirp_dbw: expected a number, got str 'ten'`). `Scenario.resolved()` gives the full table with every
default filled in (the run directory stores it). `apply_overrides(table, {"jammer.0.eirp_dbw": 5.0})` sets dotted
keys, as campaigns do.
"""

from __future__ import annotations

import copy
import dataclasses
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
PROPAGATION_MODES = ("statistical", "timeseries", "clear_sky", "fixed")
FADING_MODELS = ("none", "rician", "loo", "lutz")
EVENT_TYPES = ("wet_antenna", "wet_radome", "snow")
AMPLIFIER_MODELS = ("saleh", "rapp", "table", "linear")
INTERFERENCE_KINDS = ("co_channel", "adjacent_satellite", "cross_polar", "intermodulation", "adjacent_channel",
                      "other")
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
class AmplifierRow:
    pin_db: float = spec(lo=-200.0, hi=200.0, doc="input power (dB, any reference)")
    pout_db: float = spec(lo=-200.0, hi=200.0, doc="output power (dB, any reference)")
    phase_deg: float = spec(0.0, lo=-360.0, hi=360.0, doc="AM/PM phase shift")


@dataclass(frozen=True)
class AmplifierSection:
    """[satellite.amplifier] or [terminal.hpa]: a memoryless AM/AM-AM/PM model (linksim.budget.transponder) and
    its operating point. The output back-off follows from the model and the carrier's signal."""

    model: str = spec("saleh", choices=AMPLIFIER_MODELS, doc="saleh (TWTA), rapp (SSPA), table, linear")
    ibo_db: float | None = spec(None, lo=-10.0, hi=40.0, doc="input back-off; default 0 dB (saturation), or from "
                                "satellite.sfd_dbw_m2 and the uplink's flux")
    alpha_a: float = spec(2.1587, lo=0.0, lo_open=True, hi=100.0, doc="saleh")
    beta_a: float = spec(1.1517, lo=0.0, lo_open=True, hi=100.0, doc="saleh")
    alpha_phi: float = spec(4.0033, lo=-100.0, hi=100.0, doc="saleh (rad)")
    beta_phi: float = spec(9.1040, lo=0.0, lo_open=True, hi=100.0, doc="saleh")
    smoothness: float = spec(2.0, lo=0.1, hi=100.0, doc="rapp: knee sharpness p")
    predistortion: bool = spec(False, doc="the transmitter pre-distorts the APSK rings for this operating point")
    ring_ratios: list[float] | None = spec(None, lo=1.0, hi=20.0, doc="the transmitted APSK rings' radii over the "
                                           "inner ring's (1 first), e.g. a modem's own predistortion")
    ring_phase_deg: list[float] | None = spec(None, lo=-180.0, hi=180.0, doc="with ring_ratios: each ring's turn")
    table: list[AmplifierRow] = field(default_factory=list)


@dataclass(frozen=True)
class Terminal:
    antenna_diameter_m: float = spec(None, lo=0.05, hi=50.0, doc="dish diameter; or gain_dbi (then the diameter "
                                     "of that gain at antenna_efficiency shapes the off-axis pattern)")
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
    # re-entering published budgets: the terminal by its gain and system noise temperature, or by its G/T
    gain_dbi: float | None = spec(None, lo=-10.0, hi=80.0, doc="peak receive gain instead of diameter and efficiency")
    system_noise_temp_k: float | None = spec(None, lo=1.0, hi=10000.0,
                                             doc="system noise temperature as published (no sky/feed/LNA model)")
    g_over_t_dbk: float | None = spec(None, lo=-60.0, hi=60.0,
                                      doc="G/T as published (no noise model; feed_loss_db is then a carrier loss)")
    polarization_loss_db: float = spec(0.0, lo=0.0, hi=30.0, doc="polarisation mismatch loss on the carrier")
    radome_loss_db: float = spec(0.0, lo=0.0, hi=20.0, doc="dry radome loss (its noise counts at physical_temp_k)")
    xpd_db: float | None = spec(None, lo=0.0, hi=60.0, doc="antenna cross-polar discrimination (with a cross-polar "
                                "carrier: satellite.cross_pol_carrier_db)")
    hpa: AmplifierSection | None = None

    @property
    def lna_temp_k(self) -> float:
        if self.noise_temp_k is not None:
            return self.noise_temp_k
        if self.noise_figure_db is None:
            return 0.0  # a terminal given by G/T or system noise temperature has no separate LNA
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
    sfd_dbw_m2: float | None = spec(None, lo=-150.0, hi=-30.0, doc="saturation flux density: with an [uplink], the "
                                    "transponder's input back-off is SFD less the uplink's flux density")
    transponder_bw_hz: float | None = spec(None, lo=1e3, hi=10e9, doc="bent pipe: the transponder's input filter; "
                                           "default 1.5 x the carrier's occupied bandwidth")
    carriers: int = spec(1, lo=1, hi=1000, doc="equal carriers sharing the transponder's amplifier (C/IM)")
    carrier_spacing_hz: float | None = spec(None, lo=1.0, hi=10e9, doc="their spacing; default 1.25 x occupied bw")
    xpd_db: float | None = spec(None, lo=0.0, hi=60.0, doc="satellite antenna cross-polar discrimination")
    cross_pol_carrier_db: float | None = spec(None, lo=-40.0, hi=40.0, doc="a co-frequency carrier on the other "
                                              "polarisation, its EIRP relative to the wanted carrier's")
    amplifier: AmplifierSection | None = None


@dataclass(frozen=True)
class Carrier:
    freq_hz: float = spec(lo=100e6, hi=100e9, doc="downlink carrier frequency")
    symbol_rate_baud: float = spec(lo=1e3, hi=1e9)
    rolloff: float = spec(0.2, choices=(0.35, 0.25, 0.2, 0.15, 0.1, 0.05))
    modcod: str = spec("QPSK 1/2", check=_modcod_check, doc="DVB-S2 Table 13 MODCOD, or a DVB-S2X VL-SNR one")
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
    atmospheric_loss_db: float = spec(0.0, lo=0.0, hi=100.0, doc="mode fixed: the total atmospheric loss")
    p_l_pct: float = spec(5.0, lo=0.0, lo_open=True, hi=100.0, doc="below 5 deg: % of time the refractivity "
                          "gradient is below -100 N/km (P.453 maps; P.618 sections 2.4.2/2.4.3)")
    water_fraction: float = spec(0.0, lo=0.0, hi=1.0, doc="below 5 deg: share of the path over water (P.618 C0)")
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
    eirp_dbw: float | None = spec(None, lo=-20.0, hi=100.0, doc="gateway (or terminal) uplink EIRP; or ibo_db")
    lat_deg: float | None = spec(None, lo=-90.0, hi=90.0, doc="uplink station; default: the terminal's site")
    lon_deg: float | None = spec(None, lo=-180.0, hi=360.0)
    alt_m: float = spec(0.0, lo=-500.0, hi=9000.0)
    antenna_diameter_m: float = spec(3.7, lo=0.05, hi=50.0, doc="for the uplink's scintillation")
    bent_pipe: bool = spec(True, doc="transponder shares its output power among signal, noise and jamming")
    ibo_db: float | None = spec(None, lo=-10.0, hi=60.0, doc="the carrier's input back-off at the satellite "
                                "(with satellite.sfd_dbw_m2) instead of eirp_dbw")
    elevation_deg: float | None = spec(None, lo=0.0, lo_open=True, hi=90.0, doc="fixed uplink geometry (bench "
                                       "and published cases), with range_km")
    range_km: float | None = spec(None, lo=100.0, hi=500_000.0, doc="fixed uplink slant range")
    atmospheric_loss_db: float = spec(0.0, lo=0.0, hi=100.0, doc="propagation mode fixed: the uplink's loss")


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
class AdjacentSatellite:
    """A neighbouring GEO satellite co-frequency with the carrier, seen through the terminal's off-axis pattern."""

    name: str = spec()
    separation_deg: float = spec(lo=-180.0, hi=180.0, doc="orbital separation (longitude east of the wanted GEO)")
    eirp_density_dbw_hz: float = spec(lo=-150.0, hi=0.0, doc="its downlink EIRP density toward the terminal")
    bandwidth_hz: float | None = spec(None, lo=1.0, hi=10e9, doc="its occupied bandwidth; default the carrier's")
    offset_hz: float = spec(0.0, lo=-5e9, hi=5e9, doc="its centre offset from the carrier")
    polarization_loss_db: float = spec(0.0, lo=0.0, hi=40.0)


@dataclass(frozen=True)
class Interference:
    """An interference allocation as a published budget gives it: one of c_over_i0_dbhz, c_over_i_db (in the symbol
    rate bandwidth) or degradation_db (an allowance that lowers C/N0 by that much)."""

    name: str = spec()
    kind: str = spec("other", choices=INTERFERENCE_KINDS)
    c_over_i0_dbhz: float | None = spec(None, lo=-50.0, hi=200.0)
    c_over_i_db: float | None = spec(None, lo=-60.0, hi=100.0)
    degradation_db: float | None = spec(None, lo=0.0, hi=30.0)


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
    acm_vlsnr: bool = spec(False, doc="the terminal takes DVB-S2X VL-SNR frames: the ACM ladder goes below QPSK 1/4")


@dataclass(frozen=True)
class ReturnLink:
    """The return link (terminal -> satellite -> gateway) that IP traffic runs carry at packet level
    (linksim.budget.return_link): a fixed rate, or a budget from the terminal's EIRP, and a loss ratio."""

    rate_bps: float | None = spec(None, lo=1e3, hi=1e10, doc="fixed information rate; default from the budget")
    eirp_dbw: float | None = spec(None, lo=-20.0, hi=80.0, doc="terminal EIRP toward the satellite (return budget)")
    freq_hz: float | None = spec(None, lo=100e6, hi=100e9, doc="return uplink frequency; default the carrier's")
    g_over_t_dbk: float | None = spec(None, lo=-40.0, hi=40.0, doc="satellite G/T; default satellite.g_over_t_dbk")
    symbol_rate_baud: float = spec(256e3, lo=1e3, hi=1e9, doc="return carrier symbol rate")
    modcod: str = spec("QPSK 1/2", check=_modcod_check, doc="return MODCOD (Table 13 threshold and efficiency)")
    loss_pct: float = spec(0.0, lo=0.0, hi=100.0, doc="packet loss while the return link closes")
    delay_s: float | None = spec(None, lo=0.0, hi=10.0, doc="one-way delay; default twice the path delay")


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
    adjacent_satellites: list[AdjacentSatellite] = field(default_factory=list)
    interference: list[Interference] = field(default_factory=list)
    return_link: ReturnLink | None = None

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
                "jammer", "antenna_event", "channel", "run", "adjacent_satellite", "interference",
                "return_link")


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
    if s.adjacent_satellites:
        t["adjacent_satellite"] = [to_table(a) for a in s.adjacent_satellites]
    if s.interference:
        t["interference"] = [to_table(i) for i in s.interference]
    if s.return_link is not None:
        t["return_link"] = to_table(s.return_link)
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
    term_raw = dict(d["terminal"]) if isinstance(d["terminal"], dict) else d["terminal"]
    hpa = _amplifier(term_raw.pop("hpa"), "terminal.hpa", source) if isinstance(term_raw, dict) and "hpa" in \
        term_raw else None
    terminal = build(Terminal, term_raw, "terminal", source, hpa=hpa)
    _check_terminal(terminal, source)
    if terminal.noise_temp_k is not None and terminal.noise_figure_db is not None:
        raise ScenarioError("terminal.noise_figure_db", "give noise_temp_k or noise_figure_db, not both", source)
    sat_raw = dict(d["satellite"]) if isinstance(d["satellite"], dict) else d["satellite"]
    amp = _amplifier(sat_raw.pop("amplifier"), "satellite.amplifier", source) if isinstance(sat_raw, dict) and \
        "amplifier" in sat_raw else None
    sat = build(Satellite, sat_raw, "satellite", source, amplifier=amp)
    if amp is not None and sat.output_backoff_db:
        raise ScenarioError("satellite.output_backoff_db", "with [satellite.amplifier] the output back-off "
                            "follows from the model: give one or the other", source)
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
    if amp is not None:
        _check_rings(amp, carrier, "satellite.amplifier", source)
    if terminal.antenna_diameter_m is None:  # a terminal given by its gain: the dish of that gain shapes the pattern
        terminal = dataclasses.replace(terminal, antenna_diameter_m=_equivalent_diameter_m(
            terminal.gain_dbi, terminal.antenna_efficiency, carrier.freq_hz))
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
    if uplink is not None:
        _check_uplink(uplink, sat, source)
    if terminal.hpa is not None and uplink is None:
        raise ScenarioError("terminal.hpa", "a ground HPA drives an uplink: give an [uplink] section", source)
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
    neighbours = _adjacent(d.get("adjacent_satellite"), sat, source)
    interference = _interference(d.get("interference"), source)
    ret = _return_link(d.get("return_link"), sat, source)
    return Scenario(meta, site, terminal, sat, carrier, prop, geometry, uplink, jammers, events, channel, run, source,
                    neighbours, interference, ret)


def _return_link(raw: Any, sat: Satellite, source: str | None) -> ReturnLink | None:
    if raw is None:
        return None
    r = build(ReturnLink, raw, "return_link", source)
    if r.rate_bps is None and r.eirp_dbw is None:
        raise ScenarioError("return_link", "give rate_bps, or eirp_dbw for a return budget", source)
    if r.eirp_dbw is not None and r.g_over_t_dbk is None and sat.g_over_t_dbk is None:
        raise ScenarioError("return_link.g_over_t_dbk", "a return budget needs the satellite's G/T "
                            "(return_link.g_over_t_dbk or satellite.g_over_t_dbk)", source)
    return r


def _amplifier(raw: Any, key: str, source: str | None) -> AmplifierSection:
    if not isinstance(raw, dict):
        raise ScenarioError(key, f"expected a table, got {type(raw).__name__}", source)
    raw = dict(raw)
    rows = [build(AmplifierRow, r, f"{key}.table[{i}]", source)
            for i, r in enumerate(_list_of_tables(raw.pop("table", None), f"{key}.table", source))]
    a = dataclasses.replace(build(AmplifierSection, raw, key, source), table=rows)
    if a.model == "table":
        if len(rows) < 2:
            raise ScenarioError(f"{key}.table", "a table model needs at least two [[...table]] rows", source)
        if any(b.pin_db <= r.pin_db for r, b in zip(rows, rows[1:], strict=False)):
            raise ScenarioError(f"{key}.table", "pin_db must increase row by row", source)
    elif rows:
        raise ScenarioError(f"{key}.table", f"table rows need model = \"table\" (not {a.model!r})", source)
    return a


def _check_rings(a: AmplifierSection, c: Carrier, key: str, source: str | None) -> None:
    if a.ring_ratios is None:
        if a.ring_phase_deg is not None:
            raise ScenarioError(f"{key}.ring_phase_deg", "goes with ring_ratios", source)
        return
    from . import modcods

    const = modcods.get(c.modcod).constellation
    n = len(modcods.ring_ratios(const, str(modcods.get(c.modcod).rate)))
    if n < 2:
        raise ScenarioError(f"{key}.ring_ratios", f"{c.modcod} has one ring: ring ratios are for APSK", source)
    if a.predistortion:
        raise ScenarioError(f"{key}.ring_ratios", "give ring_ratios or predistortion = true, not both", source)
    if len(a.ring_ratios) != n or a.ring_ratios[0] != 1.0:
        raise ScenarioError(f"{key}.ring_ratios", f"{const} needs {n} ratios, the first 1.0", source)
    if a.ring_phase_deg is not None and len(a.ring_phase_deg) != n:
        raise ScenarioError(f"{key}.ring_phase_deg", f"{const} needs {n} ring phases", source)


def _check_terminal(t: Terminal, source: str | None) -> None:
    if t.antenna_diameter_m is None and t.gain_dbi is None:
        raise ScenarioError("terminal.antenna_diameter_m", "give antenna_diameter_m or gain_dbi", source)
    if t.g_over_t_dbk is not None and t.system_noise_temp_k is not None:
        raise ScenarioError("terminal.g_over_t_dbk", "give g_over_t_dbk or system_noise_temp_k, not both", source)
    published = t.g_over_t_dbk is not None or t.system_noise_temp_k is not None
    if not published and t.noise_temp_k is None and t.noise_figure_db is None:
        raise ScenarioError("terminal.noise_temp_k", "give noise_temp_k or noise_figure_db (or the published "
                            "g_over_t_dbk or system_noise_temp_k)", source)
    if t.noise_temp_k is not None and t.noise_figure_db is not None:
        raise ScenarioError("terminal.noise_figure_db", "give noise_temp_k or noise_figure_db, not both", source)


def _equivalent_diameter_m(gain_dbi: float | None, efficiency: float, freq_hz: float) -> float:
    """The dish diameter whose peak gain at this efficiency and frequency is gain_dbi (>= 0.05 m)."""
    assert gain_dbi is not None
    lam = 299_792_458.0 / freq_hz
    return max(lam / math.pi * math.sqrt(10.0 ** (gain_dbi / 10.0) / efficiency), 0.05)


def _check_uplink(up: Uplink, sat: Satellite, source: str | None) -> None:
    if (up.eirp_dbw is None) == (up.ibo_db is None):
        raise ScenarioError("uplink.eirp_dbw", "give the uplink's eirp_dbw or its ibo_db at the satellite (one)",
                            source)
    if up.ibo_db is not None and sat.sfd_dbw_m2 is None:
        raise ScenarioError("uplink.ibo_db", "an input back-off needs the satellite's sfd_dbw_m2", source)
    if (up.elevation_deg is None) != (up.range_km is None):
        raise ScenarioError("uplink.range_km", "a fixed uplink geometry needs elevation_deg and range_km", source)
    if up.elevation_deg is not None and up.lat_deg is not None:
        raise ScenarioError("uplink.elevation_deg", "give the uplink station's position or a fixed geometry", source)
    if sat.amplifier is not None and sat.amplifier.ibo_db is not None and sat.sfd_dbw_m2 is not None:
        raise ScenarioError("satellite.amplifier.ibo_db", "with sfd_dbw_m2 and an [uplink] the input back-off "
                            "follows from the uplink's flux: leave ibo_db out", source)


def _adjacent(raw: Any, sat: Satellite, source: str | None) -> list[AdjacentSatellite]:
    out: list[AdjacentSatellite] = []
    for i, t in enumerate(_list_of_tables(raw, "adjacent_satellite", source)):
        a = build(AdjacentSatellite, t, f"adjacent_satellite[{i}]", source)
        if sat.geo_lon_deg is None:
            raise ScenarioError(f"adjacent_satellite[{i}]", "neighbours on the GEO arc need satellite.geo_lon_deg",
                                source)
        if a.separation_deg == 0.0:
            raise ScenarioError(f"adjacent_satellite[{i}].separation_deg", "must not be 0 (that is the wanted "
                                "satellite)", source)
        if a.name in {x.name for x in out}:
            raise ScenarioError(f"adjacent_satellite[{i}].name", f"duplicate name {a.name!r}", source)
        out.append(a)
    return out


def _interference(raw: Any, source: str | None) -> list[Interference]:
    out: list[Interference] = []
    for i, t in enumerate(_list_of_tables(raw, "interference", source)):
        it = build(Interference, t, f"interference[{i}]", source)
        given = [k for k in ("c_over_i0_dbhz", "c_over_i_db", "degradation_db") if getattr(it, k) is not None]
        if len(given) != 1:
            raise ScenarioError(f"interference[{i}]", "give exactly one of c_over_i0_dbhz, c_over_i_db, "
                                "degradation_db", source)
        out.append(it)
    return out


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
