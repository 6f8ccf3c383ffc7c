"""Direct-sequence spreading (linksim.dvbs2.spreading): the seeded chip code, the spreader, and the despreader's
acquisition, tracking and processing gain against AWGN theory (the despread Es/N0 is the channel's)."""

from __future__ import annotations

import numpy as np
import pytest

from linksim.dvbs2.link import fractional_delay
from linksim.dvbs2.rrc import RrcInterpolator
from linksim.dvbs2.spreading import (
    Despreader,
    Spreader,
    chip_code,
    code_period_chips,
    processing_gain_db,
    tone_pass_fraction,
)
from linksim.errors import InputError


def test_code_is_seeded_unit_qpsk_and_whole_symbols():
    for n in (2, 4, 16, 64, 512):
        c = chip_code(n, 1)
        p = code_period_chips(n)
        assert c.size == p and p % n == 0 and p >= 4096 and p // n >= 16
        np.testing.assert_allclose(np.abs(c), 1.0, atol=1e-6)
        assert set(np.round(c.real * np.sqrt(2)).astype(int)) == {-1, 1}
    np.testing.assert_array_equal(chip_code(16, 7), chip_code(16, 7))
    assert np.mean(chip_code(16, 7) == chip_code(16, 8)) < 0.5  # another seed, another code
    # balanced and white: chip mean near 0, off-peak periodic autocorrelation near 1/sqrt(P)
    c = chip_code(64, 1).astype(np.complex128)
    assert abs(np.mean(c)) < 4 / np.sqrt(c.size)
    ac = np.abs(np.fft.ifft(np.abs(np.fft.fft(c)) ** 2)) / c.size
    assert ac[0] == pytest.approx(1.0) and ac[1:].max() < 5 / np.sqrt(c.size)
    assert processing_gain_db(64) == pytest.approx(18.0618, abs=1e-4)


@pytest.mark.parametrize("bad", [0, 513, 2.5, True])
def test_spreading_factor_range(bad):
    with pytest.raises(InputError, match="spreading factor"):
        chip_code(bad, 1)


def test_spreader_is_continuous_across_calls():
    rng = np.random.default_rng(0)
    s = (rng.standard_normal(3000) + 1j * rng.standard_normal(3000)).astype(np.complex64)
    whole = Spreader(16, 3)(s)
    sp = Spreader(16, 3)
    parts = np.concatenate([sp(s[:1000]), sp(s[1000:1001]), sp(s[1001:])])
    np.testing.assert_array_equal(whole, parts)
    np.testing.assert_allclose(whole.reshape(-1, 16) * np.conj(chip_code(16, 3)[np.arange(whole.size)
                               % code_period_chips(16)].reshape(-1, 16)), np.repeat(s, 16).reshape(-1, 16),
                               rtol=1e-5, atol=1e-6)


def test_tone_pass_fraction_is_one_over_n_on_average():
    """A tone through the despreader: 1/N of its power on average over codes (the spread of single codes is the
    chi-square of 2 Q degrees of freedom, Q code words per period)."""
    for n in (4, 16, 64):
        vals = [tone_pass_fraction(n, seed, 0.013, 0.2) * n for seed in range(40)]
        assert np.mean(vals) == pytest.approx(1.0, abs=0.05)
        q = code_period_chips(n) // n
        assert np.std(vals) < 2.5 / np.sqrt(q)


def _signal(n: int, esn0_db: float, symbols: int, seed: int, cfo_cyc: float = 0.0, tau: float = 0.0,
            lead: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    sym = ((rng.choice([1, -1], symbols) + 1j * rng.choice([1, -1], symbols)) / np.sqrt(2)).astype(np.complex64)
    rrc = RrcInterpolator(0.2, 2)
    x = np.concatenate([np.zeros(lead, np.complex64), rrc(Spreader(n, 1)(sym)), rrc.flush()])
    x = fractional_delay(x, tau) if tau else x
    x = x * np.exp(2j * np.pi * cfo_cyc / (2 * n) * np.arange(x.size))
    sig2 = 2 * n / 10 ** (esn0_db / 10)  # noise per sample for Es/N0 per symbol (unit-power samples)
    x = x + (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)) * np.sqrt(sig2 / 2)
    return x.astype(np.complex64), sym, lead + rrc.delay_samples


def _despread_snr_db(out: np.ndarray, pos: np.ndarray, sym: np.ndarray, first: float, n: int) -> float:
    k = np.round((pos - first) / (2 * n)).astype(int)
    ok = (k >= 0) & (k < sym.size)
    s, ref = out[ok], sym[k[ok]]
    # the carrier offset the despreader leaves (the demodulator's to track): removed with the known symbols
    z = s * np.conj(ref)
    f = np.angle(np.sum(z[20:] * np.conj(z[:-20]))) / (2 * np.pi * 20)
    s = s * np.exp(-2j * np.pi * f * np.arange(s.size))
    est = []
    for i in range(0, s.size - 500, 500):  # complex gain per block (the carrier phase drifts slowly)
        g = np.vdot(ref[i : i + 500], s[i : i + 500]) / 500
        e = s[i : i + 500] - g * ref[i : i + 500]
        est.append(abs(g) ** 2 / np.mean(np.abs(e) ** 2))
    return float(10 * np.log10(np.mean(est) * (1 - 1 / 500)))


@pytest.mark.parametrize("n,esn0_db,cfo", [(4, 0.0, 0.1), (16, 3.0, -0.08), (64, -2.0, 0.01)])
def test_despreader_acquires_and_gives_back_the_processing_gain(n, esn0_db, cfo):
    """Code phase, timing and carrier from scratch (0.37-sample offset, a carrier offset in cycles per symbol);
    the despread symbols' Es/N0 is the channel's per-symbol Es/N0 (the chip SNR is 10 log10 N lower) within
    0.35 dB, and each symbol is placed at its first chip's peak within 0.1 sample."""
    x, sym, first = _signal(n, esn0_db, 12000, seed=n, cfo_cyc=cfo, tau=0.37, lead=1234)
    d = Despreader(n, 1, 2, 0.2)
    outs, poss = [], []
    for i in range(0, x.size, 65536):
        o, p = d.process(x[i : i + 65536])
        outs.append(o)
        poss.append(p)
    o, p = d.flush()
    out, pos = np.concatenate([*outs, o]), np.concatenate([*poss, p])
    assert d.stats["acquisitions"] == 1 and d.stats["lost_lock"] == 0
    assert d.cfo_cyc == pytest.approx(cfo, abs=0.05)
    err = (pos - first - 0.37) - np.round((pos - first - 0.37) / (2 * n)) * 2 * n
    assert np.sqrt(np.mean(err[2000:] ** 2)) < 0.1
    assert _despread_snr_db(out[2000:], pos[2000:], sym, first + 0.37, n) == pytest.approx(esn0_db, abs=0.35)
    assert np.mean(np.abs(out[2000:]) ** 2) == pytest.approx(1.0, abs=0.1)  # unit mean power out


def test_despreader_output_does_not_depend_on_chunking():
    x, _, _ = _signal(8, 5.0, 6000, seed=2, tau=0.2, lead=500)
    a = Despreader(8, 1)
    oa, pa = a.process(x)
    b = Despreader(8, 1)
    parts = [b.process(x[i : i + 9999]) for i in range(0, x.size, 9999)]
    ob = np.concatenate([p[0] for p in parts])
    pb = np.concatenate([p[1] for p in parts])
    m = min(oa.size, ob.size)
    assert m > 5000
    # the matched filter's float32 rounding differs with the block sizes; nothing else does
    np.testing.assert_allclose(pa[:m], pb[:m], atol=1e-4)
    np.testing.assert_allclose(oa[:m], ob[:m], atol=1e-2)
    assert np.mean(np.abs(oa[:m] - ob[:m])) < 1e-4


def test_despreader_does_not_lock_on_noise_and_finds_a_late_signal():
    rng = np.random.default_rng(5)
    noise = ((rng.standard_normal(200_000) + 1j * rng.standard_normal(200_000)) * 0.7).astype(np.complex64)
    d = Despreader(16, 1)
    out, _ = d.process(noise)
    assert out.size == 0 and not d.locked and d.stats["searches"] >= 10
    x, sym, first = _signal(16, 4.0, 10000, seed=6, lead=0)
    out, pos = d.process(x)
    assert d.locked and d.stats["acquisitions"] == 1
    assert np.min(pos) - 200_000 < 2 * (code_period_chips(16) + Despreader.ACQ_SYMBOLS * 16) * 2


def test_despreader_loses_lock_when_the_signal_goes_and_finds_it_again():
    x1, _, _ = _signal(16, 6.0, 6000, seed=7)
    rng = np.random.default_rng(8)
    gap = ((rng.standard_normal(300_000) + 1j * rng.standard_normal(300_000)) * np.sqrt(2 * 16 / 10 ** 0.6 / 2))
    x2, _, _ = _signal(16, 6.0, 6000, seed=9)
    d = Despreader(16, 1)
    d.process(np.concatenate([x1, gap.astype(np.complex64), x2]))
    assert d.stats["lost_lock"] >= 1 and d.stats["acquisitions"] >= 2 and d.locked


def test_despreader_coasts_through_blanked_input():
    """Zeros (a blanked, jammed hop) move no loop: the lock and the timing survive 3000 symbols of them."""
    x, sym, first = _signal(16, 6.0, 9000, seed=11)
    a, b = (2000 * 32 + first), (5000 * 32 + first)
    x[a:b] = 0
    d = Despreader(16, 1)
    out, pos = d.process(x)
    assert d.stats["acquisitions"] == 1 and d.stats["lost_lock"] == 0
    after = pos > b + 2000
    err = (pos[after] - first) - np.round((pos[after] - first) / 32) * 32
    assert np.sqrt(np.mean(err**2)) < 0.1
    assert _despread_snr_db(out[after], pos[after], sym, first, 16) == pytest.approx(6.0, abs=0.4)


def test_despreader_refuses_bad_settings():
    with pytest.raises(InputError, match="spreading factor >= 2"):
        Despreader(1)
    with pytest.raises(InputError, match="samples per chip"):
        Despreader(4, 1, sps=2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="max_cfo_cyc"):
        Despreader(4, 1, max_cfo_cyc=0.8)
