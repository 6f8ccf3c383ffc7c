"""Run preparation, shared by in-process runs and both halves of a split run: the span, the Timeline, the
stretches, the seed and ACM defaults, and each stretch's sample-clock plan.

Both halves of a split run call `prepare_run` with the same scenario and options and so agree on every stretch
without talking; an in-process run uses the same plan, which is why a split run's directory equals an in-process
run's with the same seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..budget.timeline import Timeline, compute_timeline
from ..channel.from_budget import delay_profile
from ..dvbs2.acm import ModcodController
from ..dvbs2.params import frame_params
from ..errors import InputError
from ..scenario import modcods
from ..scenario.model import Scenario
from .options import DEFAULT_LINK_TIMEOUT_S, check_run_options

LEAD_IN_S_MIN = 0.12  # receiver acquisition before a stretch's measurement starts
TAIL_S = 0.06  # extra time after a stretch so its last frames complete (at least 1.5 of the longest frame)
ACM_WINDOW = 4  # the ACM controller acts on the lowest of the last few Es/N0 reports (single-frame MER is noisy)


@dataclass(frozen=True)
class Stretch:
    """One stretch of IQ, as both halves of a (possibly split) run agree on it. Sample n is at scenario time
    t_base_s + n / fs; measurement covers [t0_s, t1_s]."""

    k: int
    t0_s: float
    t1_s: float
    t_base_s: float
    fs: float
    sps: int
    n_samples: int
    acm: bool
    return_delay_s: float
    initial_modcod: str
    channel_seed: int
    payload_seed: int
    # per MODCOD, dB over Table 13 the receiver's Es/N0 estimate must show to decode (the Timeline's)
    threshold_offsets_db: dict[str, float] = field(default_factory=dict)

    @property
    def t_end_s(self) -> float:
        """Scenario time just after the stretch's last sample (the tail included)."""
        return self.t_base_s + self.n_samples / self.fs


@dataclass(frozen=True)
class RunPlan:
    """What a run will simulate: the Timeline over the span, the stretches [(t0_s, t1_s)], the seed and ACM."""

    scenario: Scenario
    timeline: Timeline
    spans: list[tuple[float, float]]
    duration_s: float
    seed: int
    acm: bool
    dwell_s: float | None = None
    bin_s: float = 1.0
    link_timeout_s: float = DEFAULT_LINK_TIMEOUT_S

    def stretch(self, k: int) -> tuple[Stretch, str | None]:
        """Stretch k's sample-clock plan, and a note for the run if the ACM return delay had to be raised."""
        t0, t1 = self.spans[k]
        return plan_stretch(self.scenario, self.timeline, k, t0, t1, self.acm, self.seed)

    def frame_delay_samples(self, st: Stretch) -> Callable[[np.ndarray], np.ndarray]:
        """The change of propagation delay (samples) the channel applies at each TX sample index of stretch st."""
        column = delay_profile(self.timeline, st.t_base_s, st.t_end_s)
        return lambda tx_index: np.asarray(column(st.t_base_s + tx_index / st.fs), dtype=float) * st.fs


def prepare_run(s: Scenario, *, duration_s: float | None = None, start_s: float = 0.0, every_s: float | None = None,
                dwell_s: float | None = None, seed: int | None = None, acm: bool | None = None,
                bin_s: float | None = None, link_timeout_s: float = DEFAULT_LINK_TIMEOUT_S,
                record: Path | None = None) -> RunPlan:
    """Check the options (linksim.run.options: the checks a campaign plan makes too), compute the Timeline and plan
    the stretches; the seed defaults to the scenario's propagation seed and ACM to its run.acm."""
    dur, bin_v = check_run_options(s, duration_s=duration_s, start_s=start_s, every_s=every_s, dwell_s=dwell_s,
                                   seed=seed, acm=acm, bin_s=bin_s, link_timeout_s=link_timeout_s, record=record)
    seed_v = int(seed if seed is not None else s.propagation.seed)
    acm_v = bool(s.run.acm if acm is None else acm)
    tl = compute_timeline(s, duration_s=max(start_s + dur, s.meta.step_s))
    spans = plan_stretches(tl, dur, every_s, dwell_s, start_s)
    return RunPlan(s, tl, spans, dur, seed_v, acm_v, dwell_s, bin_v, float(link_timeout_s))


def plan_stretches(tl: Timeline, duration_s: float, every_s: float | None,
                   dwell_s: float | None, start_s: float = 0.0) -> list[tuple[float, float]]:
    """[(t0, t1)] scenario-time stretches to simulate: all of it, or dwells; stretches with no link are left out."""
    if (every_s is None) != (dwell_s is None):
        raise InputError("--every and --dwell go together")
    if every_s is None:
        spans = [(start_s, start_s + duration_s)]
    else:
        assert dwell_s is not None
        if not (every_s > 0 and dwell_s > 0):
            raise InputError("--every and --dwell must be positive")
        if dwell_s > every_s:
            raise InputError(f"--dwell {dwell_s:g} s is longer than --every {every_s:g} s")
        starts = start_s + np.arange(0.0, duration_s, every_s)
        spans = [(float(t), float(min(t + dwell_s, start_s + duration_s))) for t in starts]
    vis = tl["visible"]
    return [(t0, t1) for t0, t1 in spans if vis[tl.rows_within(t0, t1)].any()]


def acm_allowed(s: Scenario) -> list[str]:
    """The MODCODs ACM may choose for this carrier (no 9/10 in short frames; with run.acm_vlsnr the DVB-S2X VL-SNR
    MODCODs below QPSK 1/4 too)."""
    c = s.carrier
    return [m.name for m in modcods.all_modcods(s.run.acm_vlsnr)
            if not (c.frame == "short" and m.name.endswith("9/10"))]


def uses_vlsnr(s: Scenario) -> bool:
    """The receiver must take DVB-S2X VL-SNR frames: the ACM ladder has them, or the carrier's MODCOD is one."""
    return bool(s.run.acm_vlsnr or modcods.get(s.carrier.modcod).vlsnr)


# With VL-SNR in the ladder, a receiver that stops reporting (its lock lost under a sudden barrage) makes the
# controller fall back to the most robust MODCOD after this many of the longest frames without a report
ACM_FALLBACK_FRAMES = 6


def acm_controller(s: Scenario, return_delay_s: float, initial: str | None = None,
                   threshold_offsets_db: dict[str, float] | None = None) -> ModcodController:
    """The run's ACM controller; threshold_offsets_db (the Timeline's) raise each MODCOD's threshold by the
    implementation losses the receiver's Es/N0 estimate does not see; with the VL-SNR ladder it falls back to the
    most robust MODCOD when the receiver stops reporting."""
    fallback = None
    if s.run.acm_vlsnr:
        longest = max(frame_params(m, s.carrier.frame, s.carrier.pilots).plframe_symbols for m in acm_allowed(s))
        fallback = ACM_FALLBACK_FRAMES * longest / s.carrier.symbol_rate_baud
    return ModcodController("acm", margin_db=s.run.acm_margin_db, hysteresis_db=s.run.acm_hysteresis_db,
                            return_delay_s=return_delay_s, pilots=s.carrier.pilots, allowed=acm_allowed(s),
                            initial_modcod=initial, window=ACM_WINDOW, fallback_after_s=fallback,
                            threshold_offsets_db=threshold_offsets_db)


def _return_delay_s(s: Scenario, tl: Timeline, acm_allowed_max_symbols: int) -> tuple[float, str | None]:
    """The ACM return-path delay (sample time): the scenario's, or twice the one-way delay; never shorter than
    two of the longest frames (the receiver reports a frame only once it has all of it)."""
    d = s.run.return_delay_s
    if d is None:
        d = 2.0 * float(np.nanmean(tl["delay_s"]))
    floor = 2.0 * acm_allowed_max_symbols / s.carrier.symbol_rate_baud
    if d < floor:
        return floor, f"ACM return delay raised from {d * 1e3:.1f} ms to {floor * 1e3:.1f} ms (two frames)"
    return d, None


def plan_stretch(s: Scenario, tl: Timeline, k: int, t0: float, t1: float, acm: bool,
                 seed: int) -> tuple[Stretch, str | None]:
    c = s.carrier
    sps = s.channel.sps
    fs = c.symbol_rate_baud * sps
    allowed = acm_allowed(s)
    longest = max(frame_params(m, c.frame, c.pilots).plframe_symbols for m in allowed)
    own = frame_params(c.modcod, c.frame, c.pilots).plframe_symbols
    lead = max(LEAD_IN_S_MIN, 4.0 * (longest if acm else own) / c.symbol_rate_baud)
    t_base = t0 - lead
    note = None
    if acm:
        # the transmitter starts with the MODCOD the budget says closes at t_base, as a link that was already up
        e0 = float(np.interp(t_base, tl.time_s, np.nan_to_num(tl["cnij_db"], nan=-30.0)))
        first = acm_controller(s, 0.0, threshold_offsets_db=tl.threshold_offsets_db).best_for(e0).name
        delay, note = _return_delay_s(s, tl, longest)
    else:
        first, delay = c.modcod, 0.0
    tail = max(TAIL_S, 1.5 * (longest if acm else own) / c.symbol_rate_baud)
    st = Stretch(k, t0, t1, t_base, fs, sps, int(round((t1 - t_base + tail) * fs)), acm, delay, first,
                 seed * 7919 + k, seed * 104729 + k, dict(tl.threshold_offsets_db))
    return st, note


__all__ = ["DEFAULT_LINK_TIMEOUT_S", "RunPlan", "Stretch", "acm_allowed", "acm_controller", "plan_stretch",
           "plan_stretches", "prepare_run", "uses_vlsnr"]
