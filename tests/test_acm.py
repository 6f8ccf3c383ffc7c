"""DVB-S2 CCM/VCM/ACM control: the controller's rules, and a scripted 12 dB -> 0 dB -> 12 dB fade through the
real transmitter, channel and receiver (MODCOD thresholds from DVB-S2 Table 13)."""

from __future__ import annotations

import numpy as np
import pytest

from linksim.dvbs2.acm import ModcodController
from linksim.dvbs2.link import run_acm_link
from linksim.dvbs2.params import frame_params
from linksim.errors import InputError
from linksim.scenario import modcods


def test_ccm_and_vcm_schedules():
    c = ModcodController("ccm", modcod="8psk 3/4")
    assert {c.select(t) for t in (0.0, 5.0, 100.0)} == {"8PSK 3/4"}
    v = ModcodController("vcm", schedule=[(0.0, "QPSK 1/2"), (2.0, "16APSK 3/4"), (1.0, "8PSK 2/3")])
    assert [v.select(t) for t in (0.0, 0.99, 1.0, 1.5, 2.0, 9.0)] == [
        "QPSK 1/2", "QPSK 1/2", "8PSK 2/3", "8PSK 2/3", "16APSK 3/4", "16APSK 3/4"]
    with pytest.raises(InputError):
        ModcodController("ccm")
    with pytest.raises(InputError):
        ModcodController("vcm")
    with pytest.raises(InputError):
        ModcodController("magic")


def test_acm_waits_for_the_return_path_then_uses_margin_and_hysteresis():
    c = ModcodController("acm", margin_db=0.5, hysteresis_db=0.3, return_delay_s=0.5)
    assert c.select(0.0) == "QPSK 1/4"  # nothing heard yet: the most robust MODCOD
    c.report(0.1, 8.0)
    assert c.select(0.59) == "QPSK 1/4"  # still on its way (arrives at 0.6 s)
    # 8.0 dB: best with threshold + 0.5 + 0.3 <= 8.0 is 8PSK 2/3 (6.62); 8PSK 3/4 (7.91) needs 8.71
    assert c.select(0.6) == "8PSK 2/3"
    c.report(0.7, 8.6)  # clears 8PSK 3/4 + margin (8.41) but not + hysteresis (8.71): stay
    assert c.select(1.2) == "8PSK 2/3"
    c.report(0.8, 8.8)
    assert c.select(1.3) == "8PSK 3/4"
    c.report(0.9, 8.3)  # 8PSK 3/4 + margin = 8.41 > 8.3: drop at once (no hysteresis downwards)
    assert c.select(1.4) == "8PSK 2/3"
    c.report(1.0, -5.0)  # nothing closes: the most robust MODCOD
    assert c.select(1.5) == "QPSK 1/4"
    # short frames: rate 9/10 is never chosen
    s = ModcodController("acm", margin_db=0.0, return_delay_s=0.0, frame="short")
    s.report(0.0, 30.0)
    assert s.select(0.0) == "32APSK 8/9"


def _fade(t: np.ndarray) -> np.ndarray:
    """12 dB, down to 0 dB at 1.5 dB/s, 0.5 s at 0 dB, back up to 12 dB at 1.5 dB/s."""
    return np.interp(np.asarray(t), [0, 0.5, 8.5, 9.0, 17.0, 18.0], [12, 12, 0, 0, 12, 12])


def test_acm_follows_a_12_to_0_to_12_db_fade_with_a_geo_return_path():
    margin, hyst, delay, rate_db_s = 1.5, 0.3, 0.5, 1.5
    ctrl = ModcodController("acm", margin_db=margin, hysteresis_db=hyst, return_delay_s=delay, frame="short")
    frames = run_acm_link(_fade, 18.0, ctrl, symbol_rate_baud=50e3, frame="short", seed=3)
    assert len(frames) > 100
    t_end = frames[-1].t_s + frames[-1].symbols / 50e3
    assert t_end >= 18.0
    # the link never stops: every frame decoded, and each frame's MODCOD closes (Table 13) at the true Es/N0
    failed = [(round(f.t_s, 2), f.modcod, round(f.esn0_db, 2)) for f in frames if not f.ok]
    assert not failed, failed
    for f in frames:
        assert f.esn0_db >= modcods.get(f.modcod).esn0_qef_db, (f.t_s, f.modcod, f.esn0_db)
    # it uses the whole ladder, from QPSK at the bottom of the fade to 16APSK at 12 dB
    used = {f.modcod.split()[0] for f in frames}
    assert {"QPSK", "8PSK", "16APSK"} <= used
    # throughput follows the best MODCOD: after the first reports arrive, each frame's MODCOD is at least as
    # efficient as the best one for the true Es/N0 less margin, hysteresis, what the fade does during the
    # return delay and one frame, and 0.3 dB of estimation error
    ladder = ModcodController("acm", margin_db=0.0, frame="short")
    for f in frames:
        if f.t_s < 2 * delay:
            continue
        lag_db = rate_db_s * (delay + 2 * f.symbols / 50e3)
        floor = ladder.best_for(f.esn0_db - margin - hyst - lag_db - 0.3)
        assert modcods.get(f.modcod).efficiency(True) >= floor.efficiency(True) - 1e-9, (f.t_s, f.modcod)
    # goodput over the run against the zero-margin ideal (best MODCOD for the true Es/N0, every frame)
    sent_s = sum(f.symbols for f in frames) / 50e3
    good = sum(f.info_bits for f in frames) / sent_s
    ideal = 0.0
    for f in frames:
        p = frame_params(ladder.best_for(f.esn0_db).name, "short", True)
        ideal += p.data_field_bits / p.plframe_symbols * f.symbols
    ideal /= sent_s
    assert 0.6 * ideal < good <= ideal


def test_acm_prediction_extrapolates_a_falling_trend_only():
    def run(predict: bool, slope_db_s: float) -> str:
        c = ModcodController("acm", margin_db=0.5, hysteresis_db=0.0, return_delay_s=0.5, predict=predict)
        for i in range(11):  # reports every 0.1 s from t = 0 to 1 s
            c.report(0.1 * i, 10.0 + slope_db_s * 0.1 * i)
        return c.select(1.5)  # newest arrived report: made at 1.0 s, 0.5 s old
    # falling at 4 dB/s: the newest report says 6 dB, 0.5 s later it is about 4 dB
    assert run(False, -4.0) == ModcodController("acm", margin_db=0.5).best_for(6.0).name
    assert run(True, -4.0) == ModcodController("acm", margin_db=0.5).best_for(4.0).name
    # rising: no extrapolation
    assert run(True, 4.0) == run(False, 4.0) == ModcodController("acm", margin_db=0.5).best_for(14.0).name
