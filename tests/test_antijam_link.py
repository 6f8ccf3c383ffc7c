"""Spreading and hopping end to end in process (TX -> linksim channel with jammers -> RX, full sync): the jamming
margin under a barrage grows by 10 log10(N) (the acceptance check, short version of
benchmarks/antijam_waveforms.py margin), a tone passes what the code lets through, the despread Es/N0 is the
channel's, and a hopper loses to a partial-band jammer and to a follower the frames theory says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linksim.dvbs2.hopping import HopPlan, follower_hit_frames
from linksim.dvbs2.link import run_link
from linksim.dvbs2.params import frame_params
from linksim.dvbs2.spreading import tone_pass_fraction
from linksim.dvbs2.waveform import Waveform

RS = 10e3
MODCOD = "QPSK 1/2"
# QPSK 1/2, short frames, pilots, full sync: the FER crosses 0.5 at Es/J0 = 0.30 dB under a barrage at N = 1
# (benchmarks/antijam_waveforms.py margin; docs/antijam.md); the waterfall falls from 1 to 0 within 0.5 dB
ES_J0_50_DB = 0.30


def _fer(n: int, jammer: str, frames: int, seed: int = 3, esn0_db: float = 60.0) -> float:
    return run_link(MODCOD, esn0_db, frames=frames, frame="short", symbol_rate_baud=RS, seed=seed,
                    waveform=Waveform(n, 1, 2, symbol_rate_baud=RS), jammers=[jammer]).fer


@pytest.mark.parametrize("n,frames", [(1, 10), (4, 10), (16, 10), (64, 4)])
def test_barrage_margin_grows_by_10log10_n(n, frames):
    """Against a barrage over the spread carrier's band (N R_s 1.2), the J/S the link survives grows by
    10 log10 N: at the predicted FER-0.5 point (Es/J0 = 0.30 dB, i.e. J/S = 10 log10(1.2 N) - 0.30) minus 0.5 dB
    no frame is lost, plus 0.5 dB all are: the margin is within +-0.5 dB of 10 log10 N over N = 1's."""
    js50 = 10 * math.log10(1.2 * n) - ES_J0_50_DB
    bw = RS * n * 1.2
    assert _fer(n, f"type=barrage,js_db={js50 - 0.5:.3f},bandwidth_hz={bw}", frames) <= 0.1
    assert _fer(n, f"type=barrage,js_db={js50 + 0.5:.3f},bandwidth_hz={bw}", frames) >= 0.9


def test_tone_is_spread_by_the_despreader():
    """A tone 1.3 % of the chip rate off the carrier, N = 16: it passes `tone_pass_fraction` of its power as noise
    (1/N on average over codes; 0.03 dB off 1/16 for this code), so the link fails where that noise reaches
    the barrage's Es/J0."""
    n, off = 16, 0.013
    js50 = -10 * math.log10(tone_pass_fraction(n, 1, off, 0.2)) - ES_J0_50_DB
    assert js50 == pytest.approx(10 * math.log10(n) - ES_J0_50_DB, abs=0.3)
    tone = f"type=cw,offset_hz={off * RS * n}"
    assert _fer(n, f"{tone},js_db={js50 - 0.5:.3f}", 10) <= 0.1
    assert _fer(n, f"{tone},js_db={js50 + 0.5:.3f}", 10) >= 0.9


def test_despread_esn0_is_the_channels_with_carrier_offset():
    """Thermal noise only, N = 16, a carrier offset of 1 % of the symbol rate: full sync decodes every frame at
    Table 13's QPSK 1/2 + 1 dB and the receiver measures the channel's Es/N0 per symbol within 0.3 dB; genie sync
    (known code phase and timing) too."""
    wf = Waveform(16, 1, 2, symbol_rate_baud=RS)
    for sync, cfo in (("full", 0.01 * RS), ("genie", 0.0)):
        r = run_link(MODCOD, 2.0, frames=8, frame="short", symbol_rate_baud=RS, seed=5, waveform=wf, sync=sync,
                     cfo_hz=cfo)
        assert r.fer == 0.0, sync
        assert r.esn0_est_db == pytest.approx(2.0, abs=0.3), sync


T_F = frame_params(MODCOD, "short", True).plframe_symbols / RS


def test_partial_band_jammer_hits_its_share_of_hops():
    """A hopper over 8 channels 1.5 R_s apart, one PLFRAME per hop; a partial-band jammer over the lowest 2
    channels (J/S 15 dB in the hop set's band): the frames lost are those of the hops on the jammed channels."""
    plan = HopPlan(8, 15e3, T_F, 3)
    wf = Waveform(1, 1, 2, plan, RS)
    band = plan.band_hz(wf.occupied_bw_hz)
    offs = plan.offsets_hz()
    k, skip, frames = 2, 4, 16
    spec = (f"type=partial_band,js_db=15,band_hz={band},rho={k * 15e3 / band},offset_hz={np.mean(offs[:k])}")
    r = run_link(MODCOD, 60.0, frames=frames, frame="short", symbol_rate_baud=RS, seed=3, waveform=wf,
                 jammers=[spec], skip_frames=skip)
    hit = int(np.sum(plan.channel_of_hop(np.arange(skip, skip + frames)) < k))
    assert hit > 0
    assert abs(r.frame_errors - hit) <= 1


def test_follower_hits_the_part_of_each_dwell_after_its_reaction():
    """Dwell 4 PLFRAMEs, a follower that reacts in 2.5 PLFRAMEs (plus half its look window): of each dwell the
    frames after the follower is on are lost, as the count from the hop pattern says (here 2 of every 4)."""
    d, react = 4, 2.5 * T_F
    plan = HopPlan(8, 15e3, d * T_F, 3)
    wf = Waveform(1, 1, 2, plan, RS)
    spec = (f"type=hop_follower,js_db=10,bandwidth_hz={RS * 1.2},reaction_time_s={react},"
            f"look_time_s={react / 8}")
    skip, frames = 4, 12
    r = run_link(MODCOD, 60.0, frames=frames, frame="short", symbol_rate_baud=RS, seed=3, waveform=wf,
                 jammers=[spec], skip_frames=skip)
    hit = follower_hit_frames(plan, T_F, skip, frames, react * (1 + 1 / 16))
    assert hit == pytest.approx(frames * (d - 2) / d, abs=1)
    assert abs(r.frame_errors - hit) <= 1
