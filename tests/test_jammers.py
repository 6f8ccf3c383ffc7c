"""Jammer library: calibrated J/S per type, spectra and timing, and BER against the jamming closed forms.

Authorities (copied in tests/data/jamming_theory.csv): uncoded coherent BPSK Pb = Q(sqrt(2 Eb/N0)); barrage
noise acts as AWGN of density N0 + J/W; partial-band noise on slow-FH BPSK with no thermal noise gives
Pb = rho Q(sqrt(2 rho Eb/NJ)), worst case rho* = 0.709/(Eb/NJ) with Pb_max = 0.083/(Eb/NJ).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import signal
from scipy.special import erfc

from linksim.channel.core import Channel, ChannelProfile, JammerSpec, measure_power
from linksim.channel.jammers import (
    BarrageJammer,
    ChirpJammer,
    CWJammer,
    FollowerJammer,
    ModulatedJammer,
    MultitoneJammer,
    PartialBandJammer,
    PulsedJammer,
    parse_jammer,
    rrc_pulse,
)
from linksim.errors import InputError

FS = 1e6


def qfunc(x):
    return 0.5 * erfc(np.asarray(x) / np.sqrt(2))


def theory(name: str) -> float:
    with open(Path(__file__).parent / "data" / "jamming_theory.csv") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            if row["name"] == name:
                return float(row["value"])
    raise KeyError(name)


def rrc_taps(sps: int, span: int = 10, rolloff: float = 0.35) -> np.ndarray:
    t = np.arange(-span * sps, span * sps + 1) / sps
    h = rrc_pulse(t, rolloff)
    return h / np.sqrt(np.sum(h**2))


def bpsk_rrc(bits: np.ndarray, sps: int, h: np.ndarray) -> np.ndarray:
    up = np.zeros(bits.size * sps)
    up[::sps] = 2.0 * bits - 1.0
    return signal.oaconvolve(up, h)[: bits.size * sps].astype(np.complex64)  # unit-energy symbols


def detect(y: np.ndarray, sps: int, h: np.ndarray, n_bits: int, carrier=None) -> np.ndarray:
    z = signal.oaconvolve(y.astype(np.complex128), h)
    d = h.size - 1  # TX + RX filter delay
    return z[d : d + n_bits * sps : sps].real > 0


def victim(n: int = 1_000_000, sps: int = 4, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return bpsk_rrc(rng.integers(0, 2, n // sps), sps, rrc_taps(sps))


JAMMERS = {
    "cw": CWJammer(12_345.0, 0.3),
    "multitone": MultitoneJammer(7, 300e3, 20e3),
    "barrage": BarrageJammer(250e3, -100e3),
    "partial_band": PartialBandJammer(400e3, 0.2, 50e3),
    "chirp": ChirpJammer(300e3, 1.5e8, 10e3),
    "pulsed_barrage": PulsedJammer(BarrageJammer(200e3), 0.1, 1000.0),
    "pulsed_cw": PulsedJammer(CWJammer(1e3), 0.37, 770.0),
    "modulated_cochannel": ModulatedJammer(250e3, 4, 0.35, 0.0),
    "modulated_adjacent": ModulatedJammer(100e3, 8, 0.2, 300e3),
}


@pytest.mark.parametrize("name", list(JAMMERS))
@pytest.mark.parametrize("js_db", [-10.0, 6.0])
def test_realised_js_within_0p1_db(name, js_db):
    x = victim()
    ch = Channel(FS, 4, ChannelProfile.constant(gain_db=-5.0, esn0_db=12.0), input_power=measure_power(x),
                 jammers=[JammerSpec(JAMMERS[name], js_db)], seed=1)
    p = ch.process_parts(x)
    js = 10 * np.log10(measure_power(p.jammers[0]) / measure_power(p.signal))
    assert js == pytest.approx(js_db, abs=0.1)


def test_js_follows_the_victims_fade():
    # victim fades 6 dB while the budget's J/S rises 6 dB: J stays constant (geometry unchanged for the jammer)
    t = np.array([0.0, 0.5, 1.0])
    prof = ChannelProfile(time_s=t, gain_db=[0.0, -6.0, -6.0])
    x = victim()
    ch = Channel(FS, 4, prof, input_power=measure_power(x),
                 jammers=[JammerSpec(CWJammer(0.0), (t, [0.0, 6.0, 6.0]))])
    p = ch.process_parts(x)
    j = np.abs(p.jammers[0]) ** 2
    assert np.allclose(j, j[0], rtol=1e-3)
    assert 10 * np.log10(measure_power(p.signal[600_000:]) / measure_power(x[600_000:])) == pytest.approx(
        -6.0, abs=0.01)


def test_follower_reacts_after_its_reaction_time_and_sets_js_while_on():
    sps = 4
    x = victim(sps=sps)
    on = (np.arange(x.size) // 50_000) % 2 == 0  # victim bursts: 50 ms on, 50 ms off
    x = np.where(on, x, 0).astype(np.complex64)
    look, react = 1e-3, 2e-3
    jam = FollowerJammer(200e3, 0.0, reaction_time_s=react, look_time_s=look, threshold_db=-10.0)
    ch = Channel(FS, sps, ChannelProfile.constant(gain_db=-3.0), input_power=2 * measure_power(x),
                 jammers=[JammerSpec(jam, 0.0)], seed=4)
    p = ch.process_parts(x)
    jon = np.abs(p.jammers[0]) > 0
    # J/S while transmitting (victim mean power: input_power x gain)
    js = 10 * np.log10(measure_power(p.jammers[0][jon]) / (2 * measure_power(x) * 10 ** -0.3))
    assert js == pytest.approx(0.0, abs=0.1)
    # starts within (reaction + 1 or 2 look windows) after the victim starts; stops as long after it stops
    starts = np.flatnonzero(np.diff(jon.astype(int)) == 1) + 1
    stops = np.flatnonzero(np.diff(jon.astype(int)) == -1) + 1
    vstarts = np.arange(100_000, x.size, 100_000)
    vstops = np.arange(50_000, x.size, 100_000)
    for v in vstarts[:4]:
        s = starts[starts > v][0]
        assert (react + look) * FS <= s - v <= (react + 2 * look) * FS
    for v in vstops[:4]:
        s = stops[stops > v][0]
        assert react * FS <= s - v <= (react + 2 * look) * FS


def test_barrage_spectrum_flat_in_band_and_empty_outside():
    ch = Channel(FS, 1, jammers=[JammerSpec(BarrageJammer(200e3, 150e3), 0.0)])
    p = ch.process_parts(np.zeros(1_000_000, np.complex64))
    f, s = signal.welch(p.jammers[0], fs=FS, nperseg=1024, return_onesided=False, detrend=False)
    inband = np.abs(f - 150e3) < 80e3
    out = np.abs(f - 150e3) > 150e3  # beyond half a bandwidth past the band edge
    s_db = 10 * np.log10(s / np.mean(s[inband]))
    assert np.max(np.abs(s_db[inband])) < 0.5
    assert np.max(s_db[out]) < -40
    # noise-equivalent bandwidth equals the set bandwidth: in-band density = J / W
    assert 10 * np.log10(np.mean(s[inband]) * 200e3 / measure_power(p.jammers[0])) == pytest.approx(0, abs=0.1)


def test_chirp_sweeps_at_the_set_rate():
    jam = ChirpJammer(200e3, 1e8, 50e3)  # sweeps -50 kHz .. 150 kHz every 2 ms
    w = jam.runtime(FS, np.uint64(1)).generate(0, 4000)
    f_inst = np.angle(w[1:] * np.conj(w[:-1])) / (2 * np.pi) * FS
    n = np.arange(f_inst.size)
    tau = (n % 2000) / FS
    expect = -50e3 + 1e8 * tau + 0.5 * 1e8 / FS  # frequency between samples n and n+1
    inside = (n % 2000) != 1999  # skip the reset sample
    assert np.max(np.abs(f_inst[inside] - expect[inside])) < 1.0  # Hz


def test_pulsed_duty_and_prf():
    jam = PulsedJammer(CWJammer(0.0), 0.25, 1000.0)
    w = jam.runtime(FS, np.uint64(1)).generate(0, 10_000)
    on = np.abs(w) > 0
    assert on.mean() == pytest.approx(0.25, abs=1e-3)
    assert np.all(on[:250]) and not np.any(on[250:1000]) and np.all(on[1000:1250])
    assert np.abs(w[0]) ** 2 == pytest.approx(4.0, rel=1e-5)  # peak = average / duty


def test_modulated_interferer_occupies_its_channel():
    jam = ModulatedJammer(100e3, 4, 0.35, 250e3)
    w = jam.runtime(FS, np.uint64(3)).generate(0, 500_000)
    f, s = signal.welch(w, fs=FS, nperseg=2048, return_onesided=False, detrend=False)
    inside = np.abs(f - 250e3) < 0.5 * 100e3 * 1.35
    assert np.sum(s[inside]) / np.sum(s) > 0.99
    # matched filtering at the symbol instants gives QPSK points (unit modulus, 4 phases)
    assert np.mean(np.abs(w) ** 2) == pytest.approx(1.0, abs=0.02)


def test_barrage_equals_awgn_of_n0_plus_j_over_w_ber():
    """BPSK, RRC 0.35, 8 samples/symbol; Eb/N0 6 dB thermal, barrage W = 2 Rs with Eb/NJ = 6 dB -> Eb/(N0+NJ) 3 dB."""
    sps, n_bits = 8, 400_000
    h = rrc_taps(sps)
    rng = np.random.default_rng(12)
    bits = rng.integers(0, 2, n_bits)
    x = bpsk_rrc(bits, sps, h)
    p_in = 1.0 / sps  # unit-energy symbols, unit-energy pulse
    w_hz = 2 * FS / sps
    ebnj_db = 6.0
    js_db = 10 * np.log10(sps * w_hz / FS) - ebnj_db  # Eb/NJ = sps W / (J/S fs)
    ch = Channel(FS, sps, ChannelProfile.constant(esn0_db=6.0), input_power=p_in,
                 jammers=[JammerSpec(BarrageJammer(w_hz), js_db)], seed=8)
    ber_j = np.mean(detect(ch.process(x), sps, h, n_bits) != bits.astype(bool))
    awgn = Channel(FS, sps, ChannelProfile.constant(esn0_db=10 * np.log10(1 / (10**-0.6 + 10**-0.6))),
                   input_power=p_in, seed=9)
    ber_a = np.mean(detect(awgn.process(x), sps, h, n_bits) != bits.astype(bool))
    pb = theory("bpsk_awgn_ebn0_3.0103db")
    assert pb == pytest.approx(qfunc(np.sqrt(2 * 10**0.30103)), rel=1e-3)
    assert ber_j == pytest.approx(pb, rel=0.10)
    assert ber_a == pytest.approx(pb, rel=0.10)
    assert ber_j == pytest.approx(ber_a, rel=0.10)


def _fh_bpsk_partial_band_ber(rho: float, ebnj: float, n_bits: int = 120_000) -> float:
    """Slow-FH BPSK over 10 channels (spacing 0.09 fs, RRC 0.35, 16 sps, 240 bits per hop, every channel used
    equally), partial-band noise over the fraction rho of the hop band, centred on a hop channel; no thermal noise."""
    sps, n_ch, hop_bits = 16, 10, 240
    spacing = 0.09 * FS
    band = n_ch * spacing
    freqs = (np.arange(n_ch) - (n_ch - 1) / 2) * spacing
    h = rrc_taps(sps)
    rng = np.random.default_rng(int(rho * 1000))
    bits = rng.integers(0, 2, n_bits)
    base = bpsk_rrc(bits, sps, h).astype(np.complex128)
    hops = np.resize(np.arange(n_ch), n_bits // hop_bits)
    f_n = np.repeat(freqs[hops], hop_bits * sps)
    n = np.arange(base.size)
    carrier = np.exp(2j * np.pi * f_n * n / FS)
    x = (base * carrier).astype(np.complex64)
    js_lin = sps * band / (FS * ebnj)  # Eb/NJ = sps W / (J/S fs), NJ = J / W over the whole hop band
    centre = freqs[n_ch // 2] if rho * n_ch % 2 == 1 else (freqs[n_ch // 2] + freqs[n_ch // 2 - 1]) / 2
    jam = PartialBandJammer(band, rho, centre)
    ch = Channel(FS, sps, input_power=1.0 / sps, jammers=[JammerSpec(jam, 10 * np.log10(js_lin))], seed=31)
    y = ch.process(x) * np.conj(carrier)
    return float(np.mean(detect(y, sps, h, n_bits) != bits.astype(bool)))


def test_partial_band_worst_case_stays_under_0p083_over_ebnj():
    ebnj = 10 ** (8.5 / 10)  # 8.5 dB: rho* = 0.709 / (Eb/NJ) = 0.10 (one of ten hop channels)
    bound = theory("partial_band_pbmax_coeff") / ebnj
    rho_star = theory("partial_band_rhostar_coeff") / ebnj
    assert rho_star == pytest.approx(0.10, abs=0.001)
    for rho in (0.1, 0.3):
        ber = _fh_bpsk_partial_band_ber(rho, ebnj)
        expect = rho * qfunc(np.sqrt(2 * rho * ebnj))
        assert ber == pytest.approx(expect, rel=0.10)
        # under the worst-case bound, allowing 3 standard errors of the estimate
        assert ber < bound * (1 + 3 / np.sqrt(bound * 120_000))


# ---------------------------------------------------------------------------------------------- parsing


def test_parse_specs():
    s = parse_jammer("type=cw,js_db=0,offset_hz=1000")
    assert s.waveform == CWJammer(1000.0) and s.js_db == 0.0
    s = parse_jammer("type=barrage,js_db=3,bandwidth_hz=2e6")
    assert s.waveform == BarrageJammer(2e6) and s.js_db == 3.0
    s = parse_jammer("type=pulsed,base=barrage,bandwidth_hz=1e5,duty=0.1,prf_hz=1000,js_db=-3")
    assert s.waveform == PulsedJammer(BarrageJammer(1e5), 0.1, 1000.0)
    s = parse_jammer("type=partial-band,band_hz=1e6,rho=0.2,js_db=1")
    assert s.waveform == PartialBandJammer(1e6, 0.2)


@pytest.mark.parametrize(
    "spec, word",
    [
        ("js_db=0,offset_hz=1", "type"),
        ("type=laser,js_db=0", "type"),
        ("type=cw,offset_hz=1", "js_db"),
        ("type=cw,js_db=abc", "js_db"),
        ("type=cw,js_db=0,offset=1", "offset"),
        ("type=barrage,js_db=0", "bandwidth_hz"),
        ("type=barrage,js_db=0,bandwidth_hz=-5", "bandwidth_hz"),
        ("type=partial_band,js_db=0,band_hz=1e6,rho=2", "rho"),
        ("type=pulsed,base=cw,js_db=0,prf_hz=100", "duty"),
        ("type=modulated,js_db=0,symbol_rate_hz=1e5,order=16", "order"),
        ("type=cw,js_db=0,bad", "bad"),
    ],
)
def test_bad_specs_name_the_field(spec, word):
    with pytest.raises(InputError, match=word):
        parse_jammer(spec)
