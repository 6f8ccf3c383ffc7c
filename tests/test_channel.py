"""Sample-clocked channel: noise statistics, Es/N0 calibration, Doppler, delay, chunk invariance, determinism.

Authorities: the normal distribution (moments, Kolmogorov-Smirnov), the definition Es/N0 = sps * P / sigma^2,
exact phase integration of a known frequency law, and an ideal (frequency-domain) fractional delay.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal, stats
from scipy.interpolate import PchipInterpolator

from linksim.channel.core import CONTROL_BLOCK, Channel, ChannelProfile, JammerSpec, measure_power
from linksim.channel.delay import LATENCY
from linksim.channel.fading import RicianFading
from linksim.channel.jammers import (
    BarrageJammer,
    ChirpJammer,
    CWJammer,
    FollowerJammer,
    ModulatedJammer,
    MultitoneJammer,
    PulsedJammer,
)
from linksim.channel.noise import complex_normal, stream_key
from linksim.channel.phase_noise import PhaseNoise
from linksim.errors import InputError

FS = 1e6


def qpsk(n_sym: int, sps: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, n_sym)))
    return np.repeat(s, sps).astype(np.complex64)


# ---------------------------------------------------------------------------------------------- noise


def test_noise_is_standard_gaussian_and_white():
    z = complex_normal(stream_key(11, "t"), 0, 2_000_000).astype(np.complex128)
    x = np.concatenate([z.real, z.imag]) * np.sqrt(2.0)
    n = x.size
    assert abs(x.mean()) < 4 / np.sqrt(n)
    assert abs(x.var() - 1) < 4 * np.sqrt(2 / n)
    assert abs(stats.skew(x)) < 4 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(x)) < 4 * np.sqrt(24 / n)
    assert stats.kstest(x[:300_000], "norm").pvalue > 1e-3
    # tails: P(|x| > 4) = 6.33e-5 (normal); 4e6 draws give about 253 +- 16
    assert abs(np.sum(np.abs(x) > 4) - 2 * stats.norm.sf(4) * n) < 5 * np.sqrt(2 * stats.norm.sf(4) * n)
    # I and Q uncorrelated; flat PSD (Welch, 256 bins, each averaged over 7800 segments: +-0.15 dB)
    assert abs(np.mean(z.real * z.imag)) < 4 * 0.5 / np.sqrt(z.size)
    _, p = signal.welch(z, nperseg=256, return_onesided=False, detrend=False)
    assert np.max(np.abs(10 * np.log10(p / p.mean()))) < 0.25
    # white: normalised autocorrelation at lags 1..50 consistent with 0
    r = [np.vdot(z[:-k], z[k:]).real / z.size for k in range(1, 51)]
    assert np.max(np.abs(r)) < 5 / np.sqrt(z.size)


def test_noise_never_repeats_and_depends_on_index_only():
    k = stream_key(3, "t")
    a = complex_normal(k, 0, 100_000)
    b = complex_normal(k, 100_000, 100_000)
    assert abs(np.vdot(a, b)) / 100_000 < 5 / np.sqrt(100_000)
    far = complex_normal(k, 2**40, 1000)  # far in the stream: still fresh
    assert abs(np.vdot(a[:1000], far)) / 1000 < 5 / np.sqrt(1000)
    assert np.array_equal(complex_normal(k, 12_345, 10), a[12_345:12_355])
    assert not np.array_equal(complex_normal(stream_key(4, "t"), 0, 10), a[:10])


# ---------------------------------------------------------------------------------------------- Es/N0


@pytest.mark.parametrize("sps", [1, 4, 8])
@pytest.mark.parametrize("esn0_db", [0.0, 10.0, 20.0])
def test_realised_esn0_within_0p1_db(sps, esn0_db):
    x = qpsk(1_000_000 // sps, sps, seed=sps)
    ch = Channel(FS, sps, ChannelProfile.constant(gain_db=-7.0, doppler_hz=300.0, esn0_db=esn0_db),
                 input_power=measure_power(x), seed=5)
    p = ch.process_parts(x)
    s = measure_power(p.signal)
    nz = measure_power(p.noise)
    assert 10 * np.log10(s) == pytest.approx(-7.0, abs=0.01)
    assert 10 * np.log10(sps * s / nz) == pytest.approx(esn0_db, abs=0.1)
    # y is exactly signal + noise
    assert np.allclose(p.y, p.signal + p.noise, atol=1e-6)


def test_time_varying_esn0_and_gain_follow_the_profile():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    prof = ChannelProfile(time_s=t, gain_db=[0.0, -3.0, -1.0, -6.0], esn0_db=[5.0, 12.0, 8.0, 15.0])
    x = qpsk(750_000, 4)
    ch = Channel(FS, 4, prof, seed=2)
    p = ch.process_parts(x)
    g = PchipInterpolator(t, prof.gain_db)
    e = PchipInterpolator(t, prof.esn0_db)
    for i0 in range(0, x.size, 250_000):
        sl = slice(i0, i0 + 250_000)
        tt = (np.arange(i0, i0 + 250_000) / FS)
        s_expected = np.mean(10 ** (g(tt) / 10))
        n_expected = np.mean(4 * 10 ** (g(tt) / 10) / 10 ** (e(tt) / 10))
        assert 10 * np.log10(measure_power(p.signal[sl]) / s_expected) == pytest.approx(0, abs=0.01)
        assert 10 * np.log10(measure_power(p.noise[sl]) / n_expected) == pytest.approx(0, abs=0.1)


def test_no_noise_without_esn0():
    x = qpsk(1000, 4)
    ch = Channel(FS, 4, ChannelProfile.constant(gain_db=-3.0))
    y = ch.process(x)
    assert np.allclose(y, x * 10 ** (-3 / 20), atol=1e-6)


# ---------------------------------------------------------------------------------------------- Doppler


def _phase(y: np.ndarray) -> np.ndarray:
    return np.unwrap(np.angle(y.astype(np.complex128)))


def test_doppler_exact_on_a_tone():
    ch = Channel(FS, 1, ChannelProfile.constant(doppler_hz=-12_345.678))
    y = ch.process(np.ones(200_000, np.complex64))
    n = np.arange(y.size)
    ideal = 2 * np.pi * -12_345.678 * n / FS
    assert np.max(np.abs(_phase(y) - ideal)) < 1e-5  # radians, over 200k samples (float32 output)
    slope = np.polyfit(n / FS, _phase(y), 1)[0] / (2 * np.pi)
    assert slope == pytest.approx(-12_345.678, abs=1e-6)


def test_doppler_rate_integrated_on_the_sample_clock():
    f0, rate = 2000.0, 150_000.0  # Hz, Hz/s (a LEO pass at Ka band is up to a few kHz/s; this is extreme)
    ch = Channel(FS, 1, ChannelProfile.constant(doppler_hz=f0, doppler_rate_hz_s=rate, duration_s=1.0))
    y = ch.process(np.ones(300_000, np.complex64))
    n = np.arange(y.size, dtype=float)
    # f[m] = f0 + rate m / fs exactly (the profile is linear); phase[n] = 2 pi sum_{m<n} f[m] / fs
    ideal = 2 * np.pi * (f0 * n + rate / FS * n * (n - 1) / 2) / FS
    assert np.max(np.abs(_phase(y) - ideal)) < 1e-4


def test_doppler_setter_is_phase_continuous():
    ch = Channel(FS, 1, ChannelProfile.constant(doppler_hz=1000.0))
    a = ch.process(np.ones(10_000, np.complex64))
    ch.set_doppler_hz(-3000.0)
    b = ch.process(np.ones(10_000, np.complex64))
    d = np.abs(np.diff(_phase(np.concatenate([a, b]))))
    assert np.max(d) < 2 * np.pi * 3000 / FS * 1.001  # no phase jump larger than one sample's rotation


# ---------------------------------------------------------------------------------------------- delay


def _bandlimited_periodic(n: int, frac_band: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spec = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    f = np.fft.fftfreq(n)
    spec[np.abs(f) > frac_band / 2] = 0
    return np.fft.ifft(spec)


def _ideal_delay(x_period: np.ndarray, d: float) -> np.ndarray:
    f = np.fft.fftfreq(x_period.size)
    return np.fft.ifft(np.fft.fft(x_period) * np.exp(-2j * np.pi * f * d))


@pytest.mark.parametrize("delay_samples", [0.37, 5.37, 1234.5])
def test_fractional_delay_exact_on_known_sequence(delay_samples):
    period = 4096
    xp = _bandlimited_periodic(period, 0.8, seed=1)
    xp /= np.sqrt(np.mean(np.abs(xp) ** 2))
    x = np.tile(xp, 3).astype(np.complex64)
    ch = Channel(FS, 1, ChannelProfile.constant(delay_s=delay_samples / FS))
    assert ch.latency_samples == LATENCY
    y = ch.process(x)
    ideal = _ideal_delay(xp, delay_samples + LATENCY)
    got = y[2 * period : 3 * period]
    err_db = 10 * np.log10(np.mean(np.abs(got - ideal) ** 2) / np.mean(np.abs(ideal) ** 2))
    assert err_db < -60


def test_time_varying_delay_gives_code_doppler():
    # delay growing at 1e-4 s/s compresses time: a tone at f comes out at f (1 - 1e-4)
    f = 50_000.0
    prof = ChannelProfile(time_s=[0.0, 1.0], delay_s=[1e-3, 1e-3 + 1e-4])
    n = np.arange(400_000)
    x = np.exp(2j * np.pi * f * n / FS).astype(np.complex64)
    y = Channel(FS, 1, prof).process(x)[100_000:]
    slope = np.polyfit(n[100_000:] / FS, _phase(y), 1)[0] / (2 * np.pi)
    assert slope == pytest.approx(f * (1 - 1e-4), abs=0.01)


# ---------------------------------------------------------------------------------------------- streaming


def _full_channel(seed: int) -> Channel:
    t = np.linspace(0, 2.0, 9)
    prof = ChannelProfile(
        time_s=t,
        gain_db=-3 + np.sin(t),
        doppler_hz=1000 * np.cos(t),
        delay_s=1e-4 + 2e-5 * t,
        esn0_db=10 + 2 * t,
    )
    jams = [
        JammerSpec(CWJammer(12_000.0), 0.0),
        JammerSpec(BarrageJammer(200e3, -50e3), (t, -3 + t)),
        JammerSpec(ChirpJammer(300e3, 3e7), -6.0),
        JammerSpec(PulsedJammer(MultitoneJammer(4, 100e3), 0.25, 2000.0), 1.0),
        JammerSpec(FollowerJammer(100e3, 0.0, 2e-4, 1e-4), -2.0),
        JammerSpec(ModulatedJammer(50e3, 8, 0.25, 150e3), -4.0),
    ]
    return Channel(FS, 4, prof, fading=RicianFading(4.0, 300.0), phase_noise=PhaseNoise(10.0, ((1e3, -70.0),
                   (1e5, -100.0))), jammers=jams, seed=seed, max_delay_s=2e-3)


def test_chunk_invariance_random_sizes():
    x = qpsk(40_000, 4, seed=9)
    ref = _full_channel(21).process(x)
    rng = np.random.default_rng(77)
    for _ in range(1):
        ch = _full_channel(21)
        out, i = [], 0
        while i < x.size:
            k = int(rng.choice([1, 3, 255, 256, 257, 1000, 4095, 8192, 65536, int(rng.integers(1, 40_000))]))
            out.append(ch.process(x[i : i + k]))
            i += k
        assert np.array_equal(np.concatenate(out), ref)


def test_seed_determinism():
    x = qpsk(20_000, 4)
    a = _full_channel(5).process(x)
    b = _full_channel(5).process(x)
    c = _full_channel(6).process(x)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_process_parts_output_equals_process():
    x = qpsk(20_000, 4)
    assert np.array_equal(_full_channel(1).process_parts(x).y, _full_channel(1).process(x))


def test_control_grid_is_absolute():
    # a chunk boundary inside a control block must not change anything (covered above); here: block size
    assert CONTROL_BLOCK & (CONTROL_BLOCK - 1) == 0


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kw, word",
    [
        (dict(time_s=[0.0, 0.0]), "time_s"),
        (dict(time_s=[0.0, 1.0], gain_db=[0.0, np.nan]), "gain_db"),
        (dict(time_s=[0.0, 1.0], delay_s=[0.0, -1.0]), "delay_s"),
        (dict(time_s=[0.0, 1.0], esn0_db=[1.0, 2.0, 3.0]), "esn0_db"),
    ],
)
def test_bad_profile_names_the_field(kw, word):
    with pytest.raises(InputError, match=word):
        ChannelProfile(**kw)


def test_bad_channel_arguments():
    with pytest.raises(InputError, match="sample_rate_hz"):
        Channel(0.0, 1)
    with pytest.raises(InputError, match="sps"):
        Channel(FS, -1)
    ch = Channel(FS, 1)
    with pytest.raises(InputError, match="delay_s"):
        ch.set_delay_s(1.0)


# ---------------------------------------------------------------------------------------------- phase noise


def test_wiener_phase_noise_has_the_lorentzian_linewidth_variance():
    lw = 100.0  # Hz; phase increments over tau have variance 2 pi linewidth tau
    th = PhaseNoise(linewidth_hz=lw).runtime(FS, stream_key(1, "pn")).phases(0, 2_000_000)
    for lag in (10, 1000):
        d = th[lag:] - th[:-lag]
        assert np.var(d) == pytest.approx(2 * np.pi * lw * lag / FS, rel=0.05)


def test_phase_noise_mask_psd():
    mask = ((1e3, -70.0), (1e4, -80.0), (1e5, -90.0))
    th = PhaseNoise(mask=mask).runtime(FS, stream_key(2, "pn")).phases(0, 2_000_000)
    f, p = signal.welch(th, fs=FS, nperseg=8192, detrend=False)  # one-sided: 2 L(f)
    for f0, l_db in ((3e3, -70 - 10 * np.log10(3)), (3e4, -80 - 10 * np.log10(3)), (2e5, -90.0)):
        sel = np.abs(f - f0) < 0.05 * f0
        assert 10 * np.log10(np.mean(p[sel]) / 2) == pytest.approx(l_db, abs=1.0)
