"""From a budget Timeline to the sample-clocked IQ channel: the profile, the jammer waveforms and their J/S.

The Timeline gives, per row, the end-to-end Es/N0 (thermal), each jammer's in-band J/S, the Doppler and the delay.
The channel reproduces them on the sample clock:
- Es/N0: the channel's `esn0_db` profile is the Timeline's `esn0_db`; `gain_db` follows it (relative to its
  maximum over the stretch), so the noise floor stays put and the carrier fades, as at a real receiver input.
- J/S: the Timeline's J/S is the power that lands in the victim's occupied band (with hopping: the hop set's band;
  a follower against a hopping carrier becomes a `HopFollowerJammer` that re-centres on each hop). A jammer
  waveform in the channel has unit power over its simulated band, which the sample rate may clip (a 4 MHz sweep
  at 2 Msps is simulated over 0.9 of the sample rate; centred noise wider than the sample rate is white over it);
  the channel's J/S is raised by the share of the simulated waveform that falls in band, so the in-band J/S is the
  budget's.
- Doppler: the Timeline's Doppler less the terminal's orbit-aided compensation (`doppler_compensation_pct`).
- Delay: the change of the one-way delay over the stretch (the constant part only shifts every frame alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..budget.interference import SIM_BANDWIDTH_SHARE, inband_fraction, matched_filter_fraction, simulated_band
from ..budget.timeline import Timeline
from ..dbmath import lin_to_db
from ..errors import InputError
from ..scenario.model import Jammer, Scenario
from . import jammers as jw
from .core import Channel, ChannelProfile, Column, JammerSpec
from .transponder import LinkChannels

MIN_GAIN_DB = -60.0


@dataclass(frozen=True)
class JammerWave:
    """A scenario jammer as simulated: its waveform and the dB to add to the budget's in-band J/S."""

    name: str
    waveform: object
    js_offset_db: float


def jammer_waveform(j: Jammer, s: Scenario, sample_rate_hz: float, center_hz: float = 0.0) -> JammerWave:
    """The simulated waveform of a scenario jammer at this sample rate, and its in-band share correction.
    center_hz: where the victim's carrier sits in the simulated band (the jammer's offset_hz is from it)."""
    c = s.carrier
    bw, off = simulated_band(j.type, j.bandwidth_hz, center_hz + j.offset_hz, sample_rate_hz, j.base)

    def make(kind: str) -> object:
        if kind == "cw":
            return jw.CWJammer(offset_hz=off)
        if kind == "barrage":
            return jw.BarrageJammer(bandwidth_hz=bw, offset_hz=off)
        if kind == "partial_band":
            return jw.PartialBandJammer(band_hz=bw, rho=j.fraction, offset_hz=off)
        if kind == "multitone":
            return jw.MultitoneJammer(n_tones=j.n_tones, bandwidth_hz=bw, offset_hz=off)
        if kind == "swept":
            return jw.ChirpJammer(bandwidth_hz=bw, sweep_rate_hz_s=j.sweep_rate_hz_s, offset_hz=off)
        if kind == "follower" and c.hopping is not None:  # it follows the carrier from hop to hop
            bw_hop = bw if bw > 0 else min(c.occupied_bw_hz, SIM_BANDWIDTH_SHARE * sample_rate_hz)
            return jw.HopFollowerJammer(bandwidth_hz=bw_hop,
                                        reaction_time_s=j.reaction_time_s,
                                        look_time_s=hop_follower_look_s(j.reaction_time_s, sample_rate_hz))
        if kind == "follower":
            return jw.FollowerJammer(bandwidth_hz=bw if bw > 0 else c.occupied_bw_hz, offset_hz=off,
                                     reaction_time_s=j.reaction_time_s)
        if kind == "modulated":
            order = {"BPSK": 2, "QPSK": 4, "8PSK": 8}[j.modulation]
            return jw.ModulatedJammer(symbol_rate_hz=j.symbol_rate_baud or c.symbol_rate_baud, order=order,
                                      rolloff=c.rolloff, offset_hz=off)
        raise ValueError(kind)

    if j.type == "pulsed":
        wave = jw.PulsedJammer(base=make(j.base), duty=j.duty_cycle, prf_hz=j.prf_hz)
    else:
        wave = make(j.type)
    # share of the simulated waveform's (average) power in the victim's band, without the duty cycle (the
    # budget's average J/S already has it, and a pulsed waveform's js_db is its average J/S)
    kind = j.base if j.type == "pulsed" else j.type
    if kind == "follower" and c.hopping is not None:  # all of it lands on the carrier's channel
        return JammerWave(j.name, wave, 0.0)
    frac = inband_fraction(kind, c.victim_band_hz, bandwidth_hz=bw, offset_hz=off - center_hz, fraction=j.fraction,
                           n_tones=j.n_tones,
                           modulated_bw_hz=(j.symbol_rate_baud or c.symbol_rate_baud) * (1.0 + c.rolloff))
    if frac <= 0.0 and j.js_db is not None:
        # a declared js_db is an in-band J/S, which the budget counts whole: a waveform with nothing in the band
        # (its offset, or the offset clipped to the sample rate) would leave the IQ without it
        where = f"{j.offset_hz:g} Hz" + (f" (at {off - center_hz:g} Hz at {sample_rate_hz:g} S/s)"
                                         if abs(off - center_hz - j.offset_hz) > 1e-6 * max(1.0, abs(j.offset_hz))
                                         else "")
        raise InputError(f"jammer {j.name}: js_db = {j.js_db:g} dB is an in-band J/S, but its {kind} at offset "
                         f"{where} puts nothing inside the carrier's band (+-{c.victim_band_hz / 2:g} Hz): move it "
                         f"into the band, or give its position and eirp_dbw so that the budget computes its share")
    offset_db = -float(lin_to_db(frac)) if frac > 0 else 0.0
    return JammerWave(j.name, wave, offset_db)


def hop_follower_look_s(reaction_time_s: float, sample_rate_hz: float) -> float:
    """The look window of a follower that tracks a hopping carrier: an eighth of its reaction time (at least 16
    samples), so it reacts reaction_time_s plus half of this after a hop on average."""
    return max(reaction_time_s / 8.0, 16.0 / sample_rate_hz)


def _rows(tl: Timeline, t0_s: float, t1_s: float) -> slice:
    """The Timeline rows that cover [t0_s, t1_s], with two more each side for the interpolation."""
    t = tl.time_s
    i0 = max(int(np.searchsorted(t, t0_s, side="right")) - 2, 0)
    i1 = min(int(np.searchsorted(t, t1_s, side="left")) + 2, len(t))
    return slice(i0, i1)


def _hold(ts: np.ndarray, *cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """A one-row stretch becomes two equal rows a second apart (the channel interpolates between rows)."""
    if ts.size != 1:
        return (ts, *cols)
    return (np.array([ts[0], ts[0] + 1.0]), *(np.repeat(c, 2) for c in cols))


def channel_profile(tl: Timeline, t0_s: float, t1_s: float, esn0_db: np.ndarray | None = None,
                    absolute_delay_less_s: float | None = None) -> ChannelProfile:
    """The channel's profile over scenario time [t0_s, t1_s] (rows of the Timeline that cover it); esn0_db replaces
    the Timeline's end-to-end thermal Es/N0 (the bent pipe's downlink channel refers to the downlink alone).

    absolute_delay_less_s: None applies the change of the delay over the stretch (as a run does); a number
    applies the whole one-way delay less that many seconds (the emulator: less the delay line's own latency)."""
    s = tl.scenario
    sl = _rows(tl, t0_s, t1_s)
    esn0 = np.asarray((tl["esn0_db"] if esn0_db is None else esn0_db)[sl], dtype=float)
    vis = np.isfinite(esn0)
    if not vis.any():
        esn0 = np.full(esn0.shape, -30.0)
    else:
        esn0 = np.where(vis, esn0, -30.0)  # below the horizon: nothing but noise
    gain = np.maximum(esn0 - esn0.max(), MIN_GAIN_DB)
    comp = 1.0 - s.channel.doppler_compensation_pct / 100.0
    doppler = np.nan_to_num(tl["doppler_hz"][sl]) * comp
    delay = np.asarray(tl["delay_s"][sl], dtype=float)
    if absolute_delay_less_s is None:
        delay = delay - delay.min()
    else:
        delay = np.maximum(np.nan_to_num(delay, nan=float(np.nanmax(delay))) - absolute_delay_less_s, 0.0)
    ts, gain, doppler, delay, esn0 = _hold(tl.time_s[sl], gain, doppler, delay, esn0)
    return ChannelProfile(time_s=ts, gain_db=gain, doppler_hz=doppler, delay_s=delay, esn0_db=esn0)


def delay_profile(tl: Timeline, t0_s: float, t1_s: float) -> Column:
    """The change of the one-way delay over scenario time [t0_s, t1_s], interpolated as the channel applies it."""
    p = channel_profile(tl, t0_s, t1_s)
    return Column(p.time_s, p.delay_s)


def jammer_specs(tl: Timeline, sample_rate_hz: float, t0_s: float, t1_s: float, target: str | None = None,
                 offset_db: np.ndarray | None = None, center_hz: float = 0.0) -> list[JammerSpec]:
    """Each scenario jammer (of `target` only, if given) as a JammerSpec with its J/S profile (switched off as
    -100 dB when inactive); offset_db (per Timeline row) is added to the budget's J/S (the bent pipe's downlink
    jammers are relative to the transponder's nominal output, not to the robbed carrier); center_hz: where the
    victim's carrier sits in the simulated band."""
    s = tl.scenario
    sl = _rows(tl, t0_s, t1_s)
    specs = []
    for j, series in zip(s.jammers, tl.jammers, strict=True):
        if target is not None and j.target != target:
            continue
        wave = jammer_waveform(j, s, sample_rate_hz, center_hz)
        extra = 0.0 if offset_db is None else offset_db[sl]
        js = np.where(series.active[sl], series.js_db[sl] + wave.js_offset_db + extra, -100.0)
        ts, js = _hold(tl.time_s[sl], np.nan_to_num(js, nan=-100.0, neginf=-100.0))
        specs.append(JammerSpec(waveform=wave.waveform, js_db=(ts, js)))
    return specs


INTERFERENCE_TERMS = (("ci_asi_db", "adjacent satellites"), ("ci_xpol_db", "cross-polar carrier"),
                      ("cim_db", "intermodulation"), ("ci_alloc_db", "published allocations"))


def interference_specs(tl: Timeline, sample_rate_hz: float, t0_s: float, t1_s: float,
                       offset_db: np.ndarray | None = None, center_hz: float = 0.0) -> list[JammerSpec]:
    """The budget's interference from other carriers (adjacent satellites, the cross-polar carrier, intermodulation,
    published allocations) as noise-like signals in the IQ: band-limited Gaussian noise over the interferer's band
    (the first neighbour's for ASI, the carrier's occupied band otherwise) whose power through the receiver's matched
    filter is the budget's C/I; center_hz: where the victim's carrier sits in the simulated band."""
    s, c = tl.scenario, tl.scenario.carrier
    sl = _rows(tl, t0_s, t1_s)
    specs = []
    for key, _label in INTERFERENCE_TERMS:
        ci = np.asarray(tl[key][sl], dtype=float)
        if not np.isfinite(ci).any():
            continue
        bw, off = c.occupied_bw_hz, 0.0
        if key == "ci_asi_db" and s.adjacent_satellites:
            a = s.adjacent_satellites[0]
            bw, off = a.bandwidth_hz or c.occupied_bw_hz, a.offset_hz
        bw_sim = min(bw, SIM_BANDWIDTH_SHARE * sample_rate_hz)
        mf = matched_filter_fraction("barrage", c.symbol_rate_baud, c.rolloff, bandwidth_hz=bw_sim, offset_hz=off)
        if mf <= 0:
            continue
        js = -ci - float(lin_to_db(mf)) + (0.0 if offset_db is None else offset_db[sl])
        ts, js = _hold(tl.time_s[sl], np.nan_to_num(js, nan=-100.0, posinf=-100.0, neginf=-100.0))
        specs.append(JammerSpec(waveform=jw.BarrageJammer(bandwidth_hz=bw_sim, offset_hz=center_hz + off),
                                js_db=(ts, js)))
    return specs


def fading_model(s: Scenario) -> object | None:
    """The scenario's fast fading, with the parameters the budget's fading-loss term uses
    (linksim.budget.impairments.LOO_PARAMS, LUTZ_PARAMS)."""
    from ..budget.impairments import LOO_PARAMS, LUTZ_PARAMS
    from . import fading

    ch = s.channel
    k_lin = 10.0 ** (ch.rician_k_db / 10.0)
    if ch.fading == "rician":
        return fading.RicianFading(k_factor=k_lin, doppler_hz=ch.fading_doppler_hz)
    if ch.fading == "loo":
        return fading.LooFading(doppler_hz=ch.fading_doppler_hz, **LOO_PARAMS)
    if ch.fading == "lutz":
        return fading.LutzFading(k_factor_good=k_lin, doppler_hz=ch.fading_doppler_hz, **LUTZ_PARAMS)
    return None


def phase_noise_model(s: Scenario) -> object | None:
    if s.channel.phase_noise_dbc_hz is None:
        return None
    from ..budget.impairments import phase_noise_mask
    from . import phase_noise

    # the level at 10 kHz and the mask the budget's phase-noise term integrates
    return phase_noise.PhaseNoise(mask=phase_noise_mask(s.channel.phase_noise_dbc_hz))


def channel_from_timeline(tl: Timeline, t0_s: float, t1_s: float, sps: int, seed: int,
                          input_power: float = 1.0) -> Channel:
    """A Channel that reproduces the Timeline over scenario time [t0_s, t1_s] for a stream at sps samples per
    symbol whose sample 0 is at t0_s."""
    s = tl.scenario
    fs = s.carrier.symbol_rate_baud * sps
    return Channel(
        fs, sps, channel_profile(tl, t0_s, t1_s), input_power=input_power, fading=fading_model(s),
        phase_noise=phase_noise_model(s),
        jammers=jammer_specs(tl, fs, t0_s, t1_s) + interference_specs(tl, fs, t0_s, t1_s), seed=seed, t0_s=t0_s,
    )


def ring_geometry(tl: Timeline, t0_s: float, t1_s: float) -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
    """The transmitter's APSK rings when they are not the standard's: the scenario's own ([satellite.amplifier]
    ring_ratios, for the carrier's MODCOD), or, with predistortion on, computed for the carrier's MODCOD (and, with
    ACM, every APSK MODCOD) at the stretch's input back-off (budget.distortion)."""
    from ..budget import payload
    from ..budget.distortion import ring_predistortion
    from ..scenario import modcods

    s = tl.scenario
    amp = s.satellite.amplifier
    model = payload.amplifier_model(amp)
    given = payload.given_rings(s)
    if given is not None:
        return {s.carrier.modcod: given}
    if amp is None or model is None or not amp.predistortion:
        return {}
    ibo = payload._grid(_mean_over(tl, "sat_ibo_db", t0_s, t1_s))  # noqa: SLF001 - the budget's IBO grid
    names = [m.name for m in modcods.table13() if "APSK" in m.constellation] if s.run.acm else [s.carrier.modcod]
    return {n: ring_predistortion(model, n, ibo, s.carrier.rolloff, s.carrier.pilots) for n in names
            if "APSK" in modcods.get(n).constellation}


def _mean_over(tl: Timeline, name: str, t0_s: float, t1_s: float) -> float:
    v = np.asarray(tl[name][tl.rows_within(t0_s, t1_s)], dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else 0.0


def satellite_amplifier(tl: Timeline, t0_s: float, t1_s: float, sps: float,
                        input_power: float, threads: int = 1) -> tuple[object | None, float]:
    """The satellite's amplifier ([satellite.amplifier]) for a stream of mean power input_power at sps samples per
    symbol, driven at the stretch's mean input back-off (linksim.channel.amplifier.Amplifier on `threads` threads;
    None without a model), and the nominal output power the channel after it refers to (saturated = 1;
    input_power without one)."""
    from ..budget import payload
    from . import amplifier as amp_mod

    model = payload.amplifier_model(tl.scenario.satellite.amplifier)
    if model is None:
        return None, input_power
    amp = amp_mod.Amplifier(model, _mean_over(tl, "sat_ibo_db", t0_s, t1_s), input_power, sps, threads=threads)
    return amp, 10.0 ** (-_mean_over(tl, "obo_db", t0_s, t1_s) / 10.0)


def link_channels(tl: Timeline, t0_s: float, t1_s: float, sps: int, seed: int,
                  input_power: float = 1.0) -> LinkChannels:
    """The IQ stages that reproduce the Timeline over [t0_s, t1_s] (linksim.channel.transponder):
    - no bent pipe: the satellite's amplifier ([satellite.amplifier], at the stretch's input back-off) if any, then
      the downlink channel of channel_from_timeline (uplink noise and jamming counted at the receiver);
    - bent pipe ([uplink] bent_pipe = true): the ground HPA ([terminal.hpa]), the uplink channel (the uplink's Es/N0
      and Doppler, the uplink jammers), the transponder (its band, then its amplifier at the nominal drive, or an
      ideal level control without one) and the downlink channel (the downlink's Es/N0 of the transponder's nominal
      output, Doppler, delay, fading, phase noise, downlink jammers and interference)."""
    from ..budget import payload
    from . import amplifier as amp_mod
    from .transponder import Transponder

    s = tl.scenario
    c = s.carrier
    fs = c.symbol_rate_baud * sps
    if s.uplink is None or not s.uplink.bent_pipe:
        amp, p_amp = satellite_amplifier(tl, t0_s, t1_s, sps, input_power)
        if amp is None:
            return LinkChannels(channel_from_timeline(tl, t0_s, t1_s, sps, seed, input_power))
        twta = Transponder(fs, np.inf, amp, t0_s=t0_s)  # type: ignore[arg-type]
        return LinkChannels(channel_from_timeline(tl, t0_s, t1_s, sps, seed, p_amp), transponder=twta)
    sat_model = payload.amplifier_model(s.satellite.amplifier)
    sat_ibo = _mean_over(tl, "sat_ibo_db", t0_s, t1_s)
    p_out = 10.0 ** (-_mean_over(tl, "obo_db", t0_s, t1_s) / 10.0)  # nominal output power (saturated = 1)
    sl = _rows(tl, t0_s, t1_s)
    hpa = None
    p_up = input_power
    hpa_model = payload.amplifier_model(s.terminal.hpa)
    if hpa_model is not None and s.terminal.hpa is not None:
        hpa = amp_mod.Amplifier(hpa_model, s.terminal.hpa.ibo_db or 0.0, input_power, sps)
        p_up = 10.0 ** (-payload.hpa_obo_db(s) / 10.0)
    esn0_up = np.nan_to_num(np.asarray(tl["esn0_up_db"][sl], dtype=float), nan=-30.0)
    ts, esn0_up_h, dop_up = _hold(tl.time_s[sl], esn0_up, np.nan_to_num(tl["doppler_up_hz"][sl]))
    uplink = Channel(fs, sps, ChannelProfile(time_s=ts, esn0_db=esn0_up_h, doppler_hz=dop_up), input_power=p_up,
                     jammers=jammer_specs(tl, fs, t0_s, t1_s, target="uplink"), seed=seed ^ 0x5A5A5A5A, t0_s=t0_s)
    bw_tp = payload.transponder_bw_hz(s)
    n_tp = 10.0 ** (-_mean_over(tl, "esn0_up_db", t0_s, t1_s) / 10.0) * min(bw_tp, fs) / c.symbol_rate_baud
    p_in_nom = p_up * (1.0 + n_tp)  # carrier and uplink noise in the transponder's band
    if sat_model is not None:
        tp = Transponder(fs, bw_tp, amp_mod.Amplifier(sat_model, sat_ibo, p_in_nom, sps), t0_s=t0_s)
    else:
        ts_d, drive = _hold(tl.time_s[sl], np.asarray(tl["transponder_drive_db"][sl], dtype=float))
        tp = Transponder(fs, bw_tp, None, (ts_d, drive), t0_s=t0_s)
        p_out = p_in_nom
    # the downlink: its noise and jamming refer to the transponder's nominal output; the carrier's robbed share is
    # what the transponder gives it
    robbing = np.asarray(tl["eirp_dbw"], dtype=float) - (s.satellite.eirp_dbw - np.asarray(tl["obo_db"], dtype=float))
    esn0_nom = np.asarray(tl["esn0_down_db"], dtype=float) - robbing
    down = Channel(
        fs, sps, channel_profile(tl, t0_s, t1_s, esn0_nom), input_power=p_out, fading=fading_model(s),
        phase_noise=phase_noise_model(s),
        jammers=jammer_specs(tl, fs, t0_s, t1_s, target="downlink", offset_db=robbing)
        + interference_specs(tl, fs, t0_s, t1_s, offset_db=robbing), seed=seed, t0_s=t0_s)
    return LinkChannels(down, hpa=hpa, uplink=uplink, transponder=tp)
