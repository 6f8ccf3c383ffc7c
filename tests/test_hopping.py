"""Frequency hopping (linksim.dvbs2.hopping): the seeded pattern, the hopper and the synchronised dehopper, the
decimating filter, the jam blanker and the hop band's sample rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import freqz

from linksim.dvbs2.hopping import (
    HOP_BAND_MARGIN,
    Decimator,
    Dehopper,
    HopBlanker,
    Hopper,
    HopPlan,
    hop_phasor,
    parse_hopping,
    upsampling,
)
from linksim.errors import InputError


def test_pattern_uses_every_channel_once_per_cycle_and_is_seeded():
    plan = HopPlan(8, 25e3, 0.01, seed=4)
    ch = plan.channel_of_hop(np.arange(-16, 80))
    for c in range(0, ch.size, 8):  # cycles (hop -16 starts one)
        assert sorted(ch[c : c + 8]) == list(range(8))
    np.testing.assert_array_equal(ch, HopPlan(8, 25e3, 0.01, seed=4).channel_of_hop(np.arange(-16, 80)))
    assert not np.array_equal(ch, HopPlan(8, 25e3, 0.01, seed=5).channel_of_hop(np.arange(-16, 80)))
    np.testing.assert_allclose(plan.offsets_hz(), [-87.5e3, -62.5e3, -37.5e3, -12.5e3, 12.5e3, 37.5e3, 62.5e3,
                                                   87.5e3])
    assert plan.band_hz(12e3) == pytest.approx(7 * 25e3 + 12e3)


@pytest.mark.parametrize("kw,msg", [(dict(channels=1, spacing_hz=1e3, dwell_s=1.0), "channels"),
                                    (dict(channels=4, spacing_hz=0.0, dwell_s=1.0), "spacing_hz"),
                                    (dict(channels=4, spacing_hz=1e3, dwell_s=-1.0), "dwell"),
                                    (dict(channels=4, spacing_hz=1e3, dwell_s=1.0, seed=-1), "seed")])
def test_plan_refuses_bad_values(kw, msg):
    with pytest.raises(InputError, match=msg):
        HopPlan(**kw)


def test_parse_hopping():
    assert parse_hopping("channels=8, spacing_hz=25e3,dwell_s=0.01,seed=3") == {
        "channels": 8, "spacing_hz": 25e3, "dwell_s": 0.01, "seed": 3}
    assert parse_hopping("channels=4,spacing_hz=1e4,dwell_frames=2")["dwell_frames"] == 2.0
    for bad, msg in [("channels=4,spacing_hz=1e4", "dwell_s or dwell_frames"),
                     ("channels=4,spacing_hz=1e4,dwell_s=1,dwell_frames=1", "dwell_s or dwell_frames"),
                     ("channels=4,dwell_s=1", "spacing_hz is missing"), ("channels=x,spacing_hz=1,dwell_s=1",
                                                                          "not a number"),
                     ("chanels=4,spacing_hz=1,dwell_s=1", "is not one of")]:
        with pytest.raises(InputError, match=msg):
            parse_hopping(bad)


def test_hopped_signal_sits_on_its_channel_and_the_dehopper_undoes_it():
    fs, dwell = 400e3, 0.005
    plan = HopPlan(5, 60e3, dwell, seed=2)
    rng = np.random.default_rng(0)
    w = rng.standard_normal(20_040) + 1j * rng.standard_normal(20_040)
    x = np.convolve(w, np.ones(20) / np.sqrt(20), mode="valid")[:20_000].astype(np.complex64)  # about +-20 kHz
    hop = Hopper(plan, fs)
    y = np.concatenate([hop(x[:7000]), hop(x[7000:])])  # chunks change nothing
    np.testing.assert_allclose(y, Hopper(plan, fs)(x), atol=1e-6)
    # each dwell (2000 samples) has its power at its channel's offset: the mean frequency of a tone-free signal
    n_dwell = int(dwell * fs)
    for h in range(y.size // n_dwell):
        seg = y[h * n_dwell : (h + 1) * n_dwell]
        f = np.angle(np.vdot(seg[:-1], seg[1:])) / (2 * np.pi) * fs
        assert f == pytest.approx(plan.offsets_hz()[plan.channel_of_hop(np.array([h]))[0]], abs=3e3)
    # a synchronised dehopper, 37 samples late (the channel's delay), gives the signal back
    late = np.concatenate([np.zeros(37, np.complex64), y])[: y.size]
    back = Dehopper(plan, fs, offset_samples=37.0)(late)
    np.testing.assert_allclose(back[37:], x[: x.size - 37], atol=1e-5)
    # with the offset as a function of the receive index
    back2 = Dehopper(plan, fs, offset_samples=lambda m: np.full(m.shape, 37.0))(late)
    np.testing.assert_array_equal(back, back2)


def test_hop_origin_moves_the_hop_clock():
    plan = HopPlan(4, 1e3, 0.001, seed=1)
    n = np.arange(0, 5000, 50, dtype=float)
    a = hop_phasor(plan, 1e6, n, hop_origin=0.0)
    b = hop_phasor(plan, 1e6, n, hop_origin=1000.0)  # one dwell later on the hop clock
    ch_b = plan.channel_of_hop(np.floor((n + 1000) / 1000).astype(int))
    np.testing.assert_allclose(b, np.exp(2j * np.pi * plan.offsets_hz()[ch_b] / 1e6 * n), atol=1e-9)
    assert not np.allclose(a, b)


def test_decimator_passes_the_band_and_stops_what_would_alias():
    for u in (2, 5, 9):
        d = Decimator(u, 2, 0.2)
        w, h = freqz(d.taps, worN=8192, fs=1.0)
        gain_db = 20 * np.log10(np.maximum(np.abs(h), 1e-12))
        f_pass, f_stop = 0.6 / (2 * u), 1.0 / u - 0.6 / (2 * u)
        assert np.ptp(gain_db[w <= f_pass]) < 0.01
        assert gain_db[w >= f_stop].max() < -Decimator.ATTEN_DB + 1.0
    # streaming: any chunking gives the one-call output; sample i is the filtered input at i * u (no delay)
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(9000) + 1j * rng.standard_normal(9000)).astype(np.complex64)
    one = Decimator(3, 2, 0.2).process(x, final=True)
    d = Decimator(3, 2, 0.2)
    parts = np.concatenate([d.process(x[i : i + 1234]) for i in range(0, x.size, 1234)] + [d.process(x[:0],
                                                                                                    final=True)])
    np.testing.assert_allclose(parts, one, atol=1e-5)
    assert one.size == 3000
    tone = np.exp(2j * np.pi * 0.02 * np.arange(9000)).astype(np.complex64)
    out = Decimator(3, 2, 0.2).process(tone, final=True)
    np.testing.assert_allclose(out[200:-200], tone[::3][200:-200], atol=2e-3)


def test_blanker_blanks_jammed_blocks_only():
    rng = np.random.default_rng(2)
    n = 64_000
    x = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * 0.7).astype(np.complex64)
    x[16_000:20_000] *= 10.0  # a jammed block: 20 dB above the rest
    x[40_000:42_000] *= 1.5  # a fade or a weak jammer, 3.5 dB: left alone
    b = HopBlanker(lambda i: np.floor(i / 2000), 2, 0.2, zero=False)
    y = np.concatenate([b.process(x[i : i + 5000]) for i in range(0, n, 5000)] + [b.process(x[:0], final=True)])
    assert y.size == n and b.blanked == 2 and b.blocks == 32
    np.testing.assert_array_equal(y[:16_000], x[:16_000])
    assert np.mean(np.abs(y[16_000:20_000]) ** 2) == pytest.approx(np.mean(np.abs(x[:16_000]) ** 2), rel=0.2)
    np.testing.assert_array_equal(y[40_000:42_000], x[40_000:42_000])
    z = HopBlanker(lambda i: np.floor(i / 2000), 2, 0.2, zero=True)
    yz = np.concatenate([z.process(x), z.process(x[:0], final=True)])
    assert np.all(yz[16_000:20_000] == 0) and np.count_nonzero(yz) == n - 4000


def test_upsampling_covers_the_hop_band():
    plan = HopPlan(8, 30e3, 0.01)
    for rc, sps in ((10e3, 2), (40e3, 2), (160e3, 4)):
        u = upsampling(plan, rc, sps, 0.2)
        band = plan.band_hz(rc * 1.2)
        assert rc * sps * u >= HOP_BAND_MARGIN * band > rc * sps * (u - 1)
    assert upsampling(None, 1e6, 2, 0.2) == 1


def test_hop_follower_lands_on_the_new_channel_after_its_reaction():
    """A victim that hops between +200 kHz and -300 kHz every 20 ms (fs 1 Msps); the follower (reaction 5 ms, look
    0.5 ms) is on the new channel from 5 to 5.5 ms after each hop, on the old one before; its output has unit power
    while on and is chunk-invariant."""
    from linksim.channel.core import Channel, JammerSpec
    from linksim.channel.jammers import HopFollowerJammer, parse_jammer

    fs, dwell = 1e6, 20_000
    n = np.arange(100_000)
    f = np.where((n // dwell) % 2 == 0, 200e3, -300e3)
    rng = np.random.default_rng(3)
    victim = (np.exp(2j * np.pi * f * n / fs) * (1 + 0.1 * rng.standard_normal(n.size))).astype(np.complex64)
    jam = HopFollowerJammer(bandwidth_hz=20e3, reaction_time_s=5e-3, look_time_s=0.5e-3)
    rt = jam.runtime(fs, np.uint64(7))
    out = np.concatenate([rt.generate(i, 10_000, victim[i : i + 10_000], np.ones(10_000)) for i in range(0, n.size,
                                                                                                     10_000)])
    rt2 = jam.runtime(fs, np.uint64(7))
    out2 = rt2.generate(0, n.size, victim, np.ones(n.size))
    np.testing.assert_allclose(out, out2, atol=1e-6)
    aim = rt2.last_cyc * fs
    for h in range(1, 5):
        t0 = h * dwell
        new, old = f[t0], f[t0 - 1]
        assert np.all(np.abs(aim[t0 + 5_600 : t0 + dwell] - new) < 1e3)  # landed by reaction + look
        assert np.all(np.abs(aim[t0 + 100 : t0 + 4_400] - old) < 1e3)  # still on the channel just left
    on = rt2.last_gate
    assert np.mean(np.abs(out2[on]) ** 2) == pytest.approx(1.0, rel=0.05) and not on[:5_000].any()
    spec = parse_jammer("type=hop_follower,js_db=3,bandwidth_hz=2e4,reaction_time_s=0.005")
    assert isinstance(spec.waveform, HopFollowerJammer) and spec.js_db == 3.0
    ch = Channel(fs, 8.0, jammers=[JammerSpec(jam, 0.0)], seed=1)  # through the channel it senses the victim
    assert ch.process(victim).size == n.size
