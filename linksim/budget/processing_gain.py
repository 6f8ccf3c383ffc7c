"""What of a jammer reaches a spread and/or hopped carrier: the budget's view of direct-sequence spreading and
frequency hopping (linksim.dvbs2.spreading, linksim.dvbs2.hopping).

Spreading by N: the carrier occupies B = R_c (1 + a), R_c = N R_s. Thermal Es/N0 per symbol is C/N0 - 10 log R_s
as without spreading (the chip SNR is 10 log N lower, and despreading gives it back). A jammer's power through the
chip matched filter, counted as noise in the chip-rate bandwidth (`matched_filter_fraction` at the chip rate),
is spread by the despreader over N chips: per symbol it counts 1/N of that. So a barrage over B passes
1/(N (1 + a)) of its power, a tone in the flat part of the band 1/N: the processing gain 10 log N (plus the
roll-off share for the barrage) against anything, narrowband or not.

Hopping over K channels: the J/S columns refer to the hop set's band W = (K - 1) spacing + B (the band a jammer
must cover to reach the carrier wherever it hops). Each hop channel k sees the jammer's spectrum around its own
centre; a follower (which tracks the carrier) sits on whichever channel the carrier uses, `reaction_time_s` after
each hop, for the rest of the dwell. The budget's C/(N+I+J) takes the jamming averaged over hops and dwell;
`hop_loss_fraction` is the share of the time (hops, and the part of each dwell after a follower's reaction) in
which C/(N+I+J) at that moment is below the carrier MODCOD's threshold; with the dwell in PLFRAMEs (hops on frame
boundaries) a follower's onset counts from the start of the frame it lands in: the share of frames lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dbmath import db_to_lin
from ..scenario.model import Carrier, Jammer
from .interference import inband_fraction, matched_filter_fraction


@dataclass(frozen=True)
class JammerReach:
    """One jammer against the carrier. inband_share: share of its (average) power in the victim band (its J/S is
    that power over the carrier's); per_hop: per hop channel, the noise-equivalent share per symbol while it is on
    (relative to its total power, after despreading); on_after_s: a follower on the hopped carrier is on only from
    this long after each hop (None: always on); mean_share: per_hop averaged over hops and the dwell."""

    inband_share: float
    per_hop: np.ndarray
    on_after_s: float | None
    mean_share: float


def jammer_spectrum_kw(j: Jammer, c: Carrier) -> dict[str, object]:
    return dict(bandwidth_hz=j.bandwidth_hz, offset_hz=j.offset_hz, fraction=j.fraction, n_tones=j.n_tones,
                duty_cycle=j.duty_cycle, base=j.base,
                modulated_bw_hz=(j.symbol_rate_baud or c.symbol_rate_baud) * (1.0 + c.rolloff))


def follower_tracks(j: Jammer, c: Carrier) -> bool:
    """A follower (or pulsed follower) against a hopped carrier re-centres on each hop after its reaction."""
    return c.hopping is not None and (j.type == "follower" or (j.type == "pulsed" and j.base == "follower"))


def jammer_reach(j: Jammer, c: Carrier) -> JammerReach:
    kw = jammer_spectrum_kw(j, c)
    n = c.spreading_factor
    offsets = np.asarray(c.hop_offsets_hz, dtype=float)
    on_after = None
    if follower_tracks(j, c):
        share = 1.0 * (j.duty_cycle if j.type == "pulsed" else 1.0)  # all its power lands where the carrier is
        mf = matched_filter_fraction(j.type, c.chip_rate_hz, c.rolloff, **{**kw, "offset_hz": 0.0}) / n
        per_hop = np.full(offsets.size, mf)
        on_after = float(j.reaction_time_s)
        dwell = c.hop_dwell_s
        assert dwell is not None
        on = max(0.0, 1.0 - on_after / dwell)
        return JammerReach(share, per_hop, on_after, float(mf * on))
    share = inband_fraction(j.type, c.victim_band_hz, **kw)
    per_hop = np.array([matched_filter_fraction(j.type, c.chip_rate_hz, c.rolloff,
                                                **{**kw, "offset_hz": j.offset_hz - o}) / n for o in offsets])
    return JammerReach(share, per_hop, None, float(np.mean(per_hop)))


def hop_loss_fraction(c: Carrier, threshold_db: float, inv_thermal: np.ndarray, js_db: list[np.ndarray],
                      active: list[np.ndarray], reach: list[JammerReach]) -> np.ndarray:
    """Per row: the share of the time C/(N+I+J) is below threshold_db, over the hop channels (equally used) and
    the phases of a dwell that followers' reactions mark. inv_thermal: 1/(C/N) per row (linear, uplink and
    uplink jamming included); js_db/active: each downlink jammer's in-band J/S and activity per row."""
    rows = np.asarray(inv_thermal, dtype=float).size
    dwell = c.hop_dwell_s
    if dwell is None:
        return np.full(rows, np.nan)
    frame_s = None
    if c.hopping is not None and c.hopping.dwell_frames is not None:  # hops on frame boundaries: a frame is lost
        from ..scenario.modcods import plframe_symbols  # from the first jammed instant in it

        frame_s = plframe_symbols(c.modcod, c.frame, c.pilots) / c.symbol_rate_baud

    def onset(tau: float) -> float:
        tau = min(tau, dwell)
        return tau if frame_s is None or tau >= dwell else float(np.floor(tau / frame_s + 1e-9) * frame_s)

    # dwell phases: [0, tau_1), [tau_1, tau_2), ... with the followers on in each
    taus = sorted({onset(r.on_after_s) for r in reach if r.on_after_s is not None})
    edges = [0.0, *taus, dwell]
    thr = db_to_lin(-threshold_db)  # inverse of the threshold SNR
    loss = np.zeros(rows)
    k = len(c.hop_offsets_hz)
    for p in range(len(edges) - 1):
        weight = (edges[p + 1] - edges[p]) / dwell
        if weight <= 0:
            continue
        for h in range(k):
            inv = np.array(inv_thermal, dtype=float)
            for js, act, r in zip(js_db, active, reach, strict=True):
                on = r.on_after_s is None or onset(r.on_after_s) <= edges[p]
                if on and r.inband_share > 0:
                    inv = inv + np.where(act, db_to_lin(js) * r.per_hop[h] / r.inband_share, 0.0)
            loss += weight / k * (inv > thr)
    return np.where(np.isfinite(inv_thermal), loss, np.nan)


__all__ = ["JammerReach", "follower_tracks", "hop_loss_fraction", "jammer_reach", "jammer_spectrum_kw"]
