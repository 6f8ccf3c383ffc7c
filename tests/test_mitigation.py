"""linksim.mitigation on arrays: FFT excision, the notch bank and the pulse blanker (transparency, what they remove,
chunk invariance, bad parameters), the erasure mask's path to the receiver's symbols, and what each front end costs a
DVB-S2 receiver with no jammer (Es/N0 within 0.2 dB and the same frames decoded, every MODCOD family)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from linksim.channel import jammers as jw
from linksim.errors import InputError
from linksim.mitigation.blanking import PulseBlanker
from linksim.mitigation.excision import FftExcision, running_median
from linksim.mitigation.notch import NotchBank

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

FS = 2e6


def noise(n: int, seed: int = 0, power: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * np.sqrt(power / 2)).astype(np.complex64)


def run(proc: object, x: np.ndarray, chunk: int) -> np.ndarray:
    outs = [proc.process(x[i:i + chunk]) for i in range(0, x.size, chunk)] + [proc.flush()]
    if isinstance(outs[0], tuple):
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])
    return np.concatenate(outs)


def tone(n: int, f_hz: float, power: float) -> np.ndarray:
    return (np.sqrt(power) * np.exp(2j * np.pi * f_hz / FS * np.arange(n))).astype(np.complex64)


def rrc_noise(n: int, snr_db: float, seed: int = 1) -> np.ndarray:
    """Noise shaped like a DVB-S2 carrier (root-raised cosine, 0.2 roll-off, 2 samples per symbol) over a white
    floor snr_db below it: the spectrum the excision must leave alone."""
    from linksim.dvbs2.rrc import rrc_taps

    s = np.convolve(noise(n + 200, seed), rrc_taps(0.2, 2, 24), mode="same")[100:-100]
    s = s / np.sqrt(np.mean(np.abs(s) ** 2))
    return (s + noise(n, seed + 1, 10 ** (-snr_db / 10))).astype(np.complex64)


# ------------------------------------------------------------------------------------------------ FFT excision


def test_fft_excision_is_transparent_and_chunk_invariant():
    x = noise(200_000)
    quiet = run(FftExcision(threshold_db=40.0), x, 7777)
    assert quiet.size == x.size
    assert np.max(np.abs(quiet - x)) < 1e-5  # the sqrt-Hann pair overlap-adds back to the input
    a = run(FftExcision(), x + tone(x.size, 230e3, 10.0), 4096)
    b = run(FftExcision(), x + tone(x.size, 230e3, 10.0), 100_003)
    assert np.array_equal(a, b)


def test_fft_excision_removes_tones_and_a_slow_sweep():
    x = noise(400_000)
    for jam in (tone(x.size, 230e3, 10.0),
                jw.MultitoneJammer(4, 0.8e6, offset_hz=50e3).runtime(FS, np.uint64(3)).generate(0, x.size) * 3.16,
                jw.ChirpJammer(1e6, 1e8).runtime(FS, np.uint64(3)).generate(0, x.size) * 3.16):
        e = FftExcision()
        y = run(e, x + jam.astype(np.complex64), 65536)
        resid = np.mean(np.abs(y - x) ** 2) / np.mean(np.abs(jam) ** 2)
        assert resid < 10 ** (-2.0), resid  # J/S +10 dB: what is left of the jammer and the signal taken with it
        assert e.stats.excised_fraction < 0.06 and e.stats.excised_power_fraction > 0.7


def test_fft_excision_leaves_a_carriers_own_spectrum_alone():
    """A 32APSK-like carrier 20 dB over the noise floor outside its band: the roll-off edges are 20 dB steps, yet the
    per-frequency reference (a running median of the averaged spectrum) keeps them under the threshold."""
    x = rrc_noise(400_000, 20.0)
    e = FftExcision()
    y = run(e, x, 65536)
    assert e.stats.excised_fraction < 3e-4  # the odd bin of the carrier's own that peaks 10 dB over its mean
    assert 10 * np.log10(np.mean(np.abs(x) ** 2) / np.mean(np.abs(y - x) ** 2)) > 27  # 7 dB under the floor


def test_running_median_is_the_local_mean_of_noise_like_bins():
    rng = np.random.default_rng(2)
    for n, w, k in [(4096, 257, 1), (1024, 65, 1), (1024, 65, 16)]:
        p = rng.exponential(size=(k, n)).mean(axis=0)
        assert running_median(p, w, k).mean() == pytest.approx(1.0, abs=0.06)


@pytest.mark.parametrize("kw", [{"fft_size": 1000}, {"fft_size": 32}, {"threshold_db": 2.0}, {"mode": "cut"},
                                {"window_bins": 3}, {"guard_bins": 20}])
def test_fft_excision_refuses_bad_parameters(kw):
    with pytest.raises(InputError):
        FftExcision(**kw)


# ------------------------------------------------------------------------------------------------ notch bank


def test_notch_bank_without_tones_changes_nothing():
    x = rrc_noise(100_000, 10.0)
    nb = NotchBank()
    y = run(nb, x, 3000)
    assert np.array_equal(y, x) and nb.stats.tones_found == 0


@pytest.mark.parametrize("sweep_hz_s", [0.0, 1e7, 1e8])
def test_notch_bank_locks_onto_a_tone_and_follows_a_sweep(sweep_hz_s):
    x = noise(400_000)
    if sweep_hz_s:
        jam = jw.ChirpJammer(1e6, sweep_hz_s).runtime(FS, np.uint64(5)).generate(0, x.size) * np.sqrt(10.0)
    else:
        jam = tone(x.size, -310e3, 10.0)
    nb = NotchBank()
    y = run(nb, x + jam.astype(np.complex64), 65536)
    resid_db = 10 * np.log10(np.mean(np.abs(y - x) ** 2) / 10.0)
    # a tone goes 30 dB down; a sweep loses a little at each wrap of its sawtooth (every 10 ms at 1e8 Hz/s)
    assert resid_db < (-30 if not sweep_hz_s else -20 if sweep_hz_s < 5e7 else -12), resid_db
    if not sweep_hz_s:
        assert nb.stats.tones_found == 1
        assert nb.frequencies_cyc * FS == pytest.approx([-310e3], abs=50)
    y2 = run(NotchBank(), x + jam.astype(np.complex64), 12345)
    assert np.array_equal(y, y2)


@pytest.mark.parametrize("kw", [{"bandwidth_cyc": 0.5}, {"max_notches": 0}, {"block": 1000}, {"threshold_db": 3}])
def test_notch_bank_refuses_bad_parameters(kw):
    with pytest.raises(InputError):
        NotchBank(**kw)


# ------------------------------------------------------------------------------------------------ pulse blanking


def test_blanker_finds_every_pulse_and_marks_what_it_blanked():
    x = noise(300_000)
    jam = jw.PulsedJammer(base=jw.BarrageJammer(1.2e6), duty=0.1, prf_hz=10e3).runtime(FS, np.uint64(2))
    j = jam.generate(0, x.size) * np.sqrt(10.0)  # +10 dB average, +20 dB in the pulses
    bl = PulseBlanker()
    y, m = run(bl, x + j.astype(np.complex64), 50_000)
    on = np.abs(j) > 0
    assert y.size == m.size == x.size
    # what passes: a few weak samples at the pulses' edges, a thousandth of the jammer's energy
    assert np.sum(np.abs(j[on & ~m]) ** 2) < 1e-3 * np.sum(np.abs(j) ** 2)
    assert np.mean(m & ~on) < 0.025  # the guard samples and a few false alarms
    assert np.all(y[m] == 0) and np.array_equal(y[~m], (x + j)[~m].astype(np.complex64))
    assert 1.0 <= bl.stats.pulses / (x.size / FS * 10e3) < 1.1  # a deep fade inside a pulse splits it
    y2, m2 = run(PulseBlanker(), x + j.astype(np.complex64), 7001)
    assert np.array_equal(y, y2) and np.array_equal(m, m2)


def test_blanker_clip_mode_keeps_the_phase_and_caps_the_power():
    x = noise(50_000)
    x[20_000:20_100] *= 30.0
    y, m = run(PulseBlanker(mode="clip"), x, 50_000)
    assert m[20_000:20_100].all()
    big = np.abs(x[20_000:20_100]) > 4.0
    assert np.allclose(np.angle(y[20_000:20_100][big]), np.angle(x[20_000:20_100][big]), atol=1e-5)
    assert np.max(np.abs(y)) < 4.0


@pytest.mark.parametrize("kw", [{"threshold_db": 1.0}, {"block": 3}, {"guard_samples": -1}, {"mode": "cut"}])
def test_blanker_refuses_bad_parameters(kw):
    with pytest.raises(InputError):
        PulseBlanker(**kw)


def test_erasures_reach_the_symbols_the_matched_filter_spreads_them_over():
    from linksim.dvbs2.erasure import ErasureRuns
    from linksim.dvbs2.sync import MatchedFilter

    er = ErasureRuns(MatchedFilter(2.0, 0.2).taps)
    mask = np.zeros(1000, dtype=bool)
    mask[400:440] = True
    er.add(0, mask, 1000)
    pos = np.arange(0, 1000, 2.0)
    gone = er.erased_symbols(pos)
    assert gone is not None
    hit = pos[gone]
    assert hit.min() >= 396 and hit.max() <= 442 and gone.sum() >= 19  # the 20 symbols inside, a little more
    assert er.erased_symbols(np.arange(600.0, 900.0, 2.0)) is None
    with pytest.raises(InputError):
        er.add(1000, mask[:10], 20)


# ------------------------------------------------------------------------------------------------ clear sky


@pytest.mark.parametrize("modcod", ["QPSK 1/2", "8PSK 3/4", "16APSK 3/4", "32APSK 4/5"])
def test_every_front_end_costs_under_0p2_db_and_no_frames_without_a_jammer(modcod):
    from antijam_clear_sky import measure

    r = measure(modcod, frames=12, offset_db=1.0, seed=2)
    assert r["none"]["frames"] >= 12
    for name, v in r.items():
        assert abs(v["bias_db"]) <= 0.2, (name, v)
        assert v["same_frames"], (name, v)


def test_erasures_reach_vlsnr_frames_too():
    """A DVB-S2X VL-SNR stream (QPSK 2/9) under barrage pulses (duty 0.1, +10 dB average) at Table + 2 dB: blanked,
    every frame decodes, and with the mask the blanked symbols stay out of the Es/N0 estimate (within 0.3 dB of the
    jammer-free run's; the zeros fed without it pull the estimate about -10 log10(1 - 0.11) dB and more down)."""
    from linksim.channel.core import Channel, ChannelProfile, JammerSpec
    from linksim.dvbs2.rx import Receiver
    from linksim.dvbs2.tx import Transmitter
    from linksim.scenario import modcods

    m = "QPSK 2/9"
    tx = Transmitter(sps=2, stream="generic")
    rng = np.random.default_rng(5)
    syms = [tx.frame_symbols(m, rng.integers(0, 256, tx.frame_capacity_bytes(m), np.uint8).tobytes())
            for _ in range(2)]
    x = np.concatenate([tx.shape(np.concatenate(syms)), tx.flush(), np.zeros(20000, np.complex64)])
    esn0 = modcods.get(m).esn0_qef_db + 2.0
    est = {}
    for name, js in (("clear", None), ("pulsed", 10.0)):
        jams = [] if js is None else [JammerSpec(jw.PulsedJammer(base=jw.BarrageJammer(bandwidth_hz=1.2e6), duty=0.1,
                                                                 prf_hz=10e3), js)]
        ch = Channel(FS, 2, ChannelProfile.constant(esn0_db=esn0, duration_s=10.0), jammers=jams, seed=3)
        y, mask = run(PulseBlanker(), ch.process(x).astype(np.complex64), 1 << 20)
        for use in (False, True):
            rx = Receiver(sps=2, vlsnr=True)
            reps = [r for r in rx.process(y, erasures=mask if use else None) + rx.flush()
                    if r.modcod != "DUMMY" and not r.truncated]
            assert [(r.modcod, r.ok) for r in reps] == [(m, True)] * 2, (name, use, reps)
            est[name, use] = float(np.mean([r.esn0_est_db for r in reps]))
    assert abs(est["pulsed", True] - est["clear", True]) <= 0.3, est
    assert est["pulsed", False] < est["clear", True] - 0.5, est
