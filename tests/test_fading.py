"""Fast fading: uncoded BPSK BER under Rayleigh and Rician fading against the closed forms, envelope statistics,
Doppler spectrum (Clarke/Jakes autocorrelation J0(2 pi f_D tau)), Loo and Lutz statistics, chunk invariance.

Authorities: tests/data/fading_ber.csv (Rayleigh closed form and Rician MGF values, mean Eb/N0 10 dB), the
MGF integral Pb = (1/pi) int_0^(pi/2) M(-1/sin^2 t) dt (Simon & Alouini), Bessel J0, lognormal moments.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate
from scipy.special import j0

from linksim.channel.core import Channel, ChannelProfile
from linksim.channel.fading import LooFading, LutzFading, RicianFading, parse_fading
from linksim.channel.noise import stream_key
from linksim.errors import InputError

FS = 1e6


def reference_ber() -> dict[float, float]:
    with open(Path(__file__).parent / "data" / "fading_ber.csv") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return {float(r["k_factor"]): float(r["pb"]) for r in rows}


def rician_bpsk_mgf(k: float, g: float) -> float:
    def m(s):
        return (1 + k) / (1 + k - s * g) * np.exp(k * s * g / (1 + k - s * g))

    return integrate.quad(lambda t: m(-1.0 / np.sin(t) ** 2), 0, np.pi / 2)[0] / np.pi


def test_reference_table_matches_closed_forms():
    ref = reference_ber()
    g = 10.0
    assert ref[0.0] == pytest.approx(0.5 * (1 - np.sqrt(g / (1 + g))), rel=2e-3)
    for k in (0.0, 1.0, 4.0, 10.0):
        assert ref[k] == pytest.approx(rician_bpsk_mgf(k, g), rel=2e-3)


@pytest.mark.parametrize("k", [0.0, 1.0, 4.0, 10.0])
def test_bpsk_ber_under_rician_fading_within_10_percent(k):
    """Uncoded BPSK, 1 sample/symbol, mean Eb/N0 10 dB, f_D = 1 % of the symbol rate, ideal channel knowledge
    (the same fading realisation measured with an all-ones input through a noiseless twin channel)."""
    n = 4_000_000 if k >= 10 else 1_500_000
    fad = RicianFading(k, 0.01 * FS, los_doppler_hz=0.002 * FS)
    rng = np.random.default_rng(int(k) + 100)
    bits = rng.integers(0, 2, n).astype(bool)
    x = np.where(bits, 1.0, -1.0).astype(np.complex64)
    y = Channel(FS, 1, ChannelProfile.constant(esn0_db=10.0), fading=fad, seed=40).process(x)
    h = Channel(FS, 1, fading=fad, seed=40).process(np.ones(n, np.complex64))
    ber = np.mean(((np.conj(h) * y).real > 0) != bits)
    assert ber == pytest.approx(reference_ber()[k], rel=0.10)


def test_rician_envelope_k_and_power():
    h = RicianFading(4.0, 2000.0).runtime(FS, stream_key(1, "f")).gains(0, 4_000_000).astype(np.complex128)
    r2 = np.abs(h) ** 2
    m2, m4 = r2.mean(), (r2**2).mean()
    a = np.sqrt(2 * m2**2 - m4)  # moment-based K estimator (Greenstein et al. 1999)
    assert m2 == pytest.approx(1.0, abs=0.02)
    assert a / (m2 - a) == pytest.approx(4.0, rel=0.05)


def test_rayleigh_autocorrelation_is_clarke_j0():
    fd = 500.0
    rt = RicianFading(0.0, fd).runtime(FS, stream_key(2, "f"))
    g = rt.gains(0, 10_000_000).astype(np.complex128)
    for tau_s in (0.1 / fd, 0.2 / fd, 0.38 / fd, 0.6 / fd):
        lag = int(round(tau_s * FS))
        r = np.vdot(g[:-lag], g[lag:]).real / (g.size - lag) / np.mean(np.abs(g) ** 2)
        assert r == pytest.approx(j0(2 * np.pi * fd * lag / FS), abs=0.05)


def test_loo_mean_power_matches_lognormal_plus_multipath():
    p = LooFading(100.0, los_mean_db=-2.0, los_std_db=2.0, multipath_db=-12.0, shadow_corr_s=0.01)
    h = p.runtime(FS, stream_key(3, "f")).gains(0, 8_000_000).astype(np.complex128)
    s = np.log(10) / 10
    expect = 10 ** (-2.0 / 10) * np.exp(0.5 * (s * 2.0) ** 2) + 10 ** (-12.0 / 10)
    assert 10 * np.log10(np.mean(np.abs(h) ** 2) / expect) == pytest.approx(0.0, abs=0.2)


def test_lutz_bad_state_fraction():
    p = LutzFading(10.0, 200.0, mean_good_s=0.02, mean_bad_s=0.01, bad_mean_db=-15.0, bad_std_db=0.0)
    h = p.runtime(FS, stream_key(4, "f")).gains(0, 6_000_000).astype(np.complex128)
    # power: A * 10^(bad_mean/10) + (1 - A) * 1, A = 1/3
    a = p.bad_fraction
    assert a == pytest.approx(1 / 3)
    expect = a * 10 ** (-1.5) + (1 - a)
    assert np.mean(np.abs(h) ** 2) == pytest.approx(expect, rel=0.1)


@pytest.mark.parametrize(
    "model",
    [RicianFading(4.0, 50.0, 20.0), LooFading(30.0), LutzFading(5.0, 40.0, 0.05, 0.02)],
)
def test_fading_chunk_invariance(model):
    ref = model.runtime(FS, stream_key(9, "f")).gains(0, 400_000)
    rt = model.runtime(FS, stream_key(9, "f"))
    rng = np.random.default_rng(1)
    out, i = [], 0
    while i < ref.size:
        k = int(rng.integers(1, 60_000))
        out.append(rt.gains(i, min(k, ref.size - i)))
        i += k
    assert np.array_equal(np.concatenate(out), ref)


def test_parse_fading():
    assert parse_fading("rician:K=4,doppler_hz=50") == RicianFading(4.0, 50.0)
    assert parse_fading("rayleigh:doppler_hz=10") == RicianFading(0.0, 10.0)
    with pytest.raises(InputError, match="doppler_hz"):
        parse_fading("rician:K=4")
    with pytest.raises(InputError, match="speed"):
        parse_fading("rician:K=4,doppler_hz=5,speed=3")
    with pytest.raises(InputError, match="K: -1 is out of range"):  # the key as typed, not the field's name
        parse_fading("rician:K=-1,doppler_hz=5")
    with pytest.raises(InputError, match="model"):
        parse_fading("nakagami:m=2")
