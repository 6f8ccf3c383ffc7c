"""DVB-S2 physical-layer pieces without GNU Radio: constellations, soft demapper, RRC, PL framing helpers.

Authorities: ETSI EN 302 307-1 (ring ratios Tables 9/10, PLS code and SOF clause 5.5.2, pilots 5.5.3), the RRC
spectrum (the closed form is checked against a numerical inverse Fourier transform of the square-root raised
cosine), and a brute-force log-sum-exp demapper written here from the definition of the LLR.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy.special import logsumexp

from linksim.dvbs2 import constellations as C
from linksim.dvbs2 import plframe as PL
from linksim.dvbs2.bbframe import BbHeader, StreamAdapter, crc8, parse_bbheader
from linksim.dvbs2.interleave import deinterleave_bits, deinterleave_llrs, interleave
from linksim.dvbs2.params import MODCOD_NUMBERS, frame_params
from linksim.dvbs2.rrc import RrcInterpolator, rrc_impulse, rrc_taps
from linksim.dvbs2.scrambling import pl_descramble, pl_scramble, pl_scrambling_indices
from linksim.dvbs2.sync import correlate_valid, soft_demap
from linksim.errors import InputError

ALL = list(MODCOD_NUMBERS)


def _ring_table(data_dir):
    with open(data_dir / "dvbs2_ring_ratios.csv") as f:
        rows = [r for r in csv.DictReader(ln for ln in f if not ln.startswith("#"))]
    return {r["modcod"]: (float(r["gamma1"]), float(r["gamma2"]) if r["gamma2"] else None) for r in rows}


@pytest.mark.parametrize("modcod", ALL)
def test_constellation_unit_energy_and_geometry(modcod, data_dir):
    const = C.for_modcod(modcod)
    pts = const.points
    assert pts.size == 2 ** frame_params(modcod).bits_per_symbol
    assert np.mean(np.abs(pts) ** 2) == pytest.approx(1.0, abs=1e-12)
    assert np.unique(np.round(pts, 9)).size == pts.size  # all distinct
    radii = np.array(const.radii)
    np.testing.assert_allclose(np.sort(np.unique(np.round(np.abs(pts), 9))), radii, atol=1e-9)
    rings = _ring_table(data_dir)
    if modcod in rings:
        g1, g2 = rings[modcod]
        assert radii[1] / radii[0] == pytest.approx(g1, abs=1e-12)
        if g2 is not None:
            assert radii[2] / radii[0] == pytest.approx(g2, abs=1e-12)
            assert [np.sum(np.isclose(np.abs(pts), r)) for r in radii] == [4, 12, 16]
        else:
            assert [np.sum(np.isclose(np.abs(pts), r)) for r in radii] == [4, 12]
    else:
        assert radii.size == 1


def test_psk_labels_are_gray():
    # Figures 9 and 10: neighbouring PSK points differ in exactly one bit.
    for name in ("QPSK", "8PSK"):
        c = C.constellation(name)
        order = np.argsort(np.angle(c.points))
        labels = np.arange(c.points.size)[order]
        for a, b in zip(labels, np.roll(labels, -1), strict=True):
            assert bin(int(a) ^ int(b)).count("1") == 1
    # QPSK first bit = sign of I, second = sign of Q (bit 0 -> positive)
    q = C.constellation("QPSK").points
    assert np.all((q.real < 0) == (np.arange(4) >> 1 == 1)) and np.all((q.imag < 0) == (np.arange(4) & 1 == 1))


def _brute_llr(y, pts, nv, maxlog):
    m = int(np.log2(pts.size))
    d = -(np.abs(y[:, None] - pts[None, :]) ** 2) / nv
    out = np.empty((y.size, m))
    for j in range(m):
        b = (np.arange(pts.size) >> (m - 1 - j)) & 1
        if maxlog:
            out[:, j] = d[:, b == 0].max(axis=1) - d[:, b == 1].max(axis=1)
        else:
            out[:, j] = logsumexp(d[:, b == 0], axis=1) - logsumexp(d[:, b == 1], axis=1)
    return out


@pytest.mark.parametrize("modcod", ["QPSK 1/2", "8PSK 3/5", "16APSK 3/4", "32APSK 9/10"])
@pytest.mark.parametrize("maxlog", [False, True])
def test_llrs_match_brute_force(modcod, maxlog):
    rng = np.random.default_rng(5)
    const = C.for_modcod(modcod)
    m = const.bits_per_symbol
    lab = rng.integers(0, 2**m, 4000)
    for esn0_db in (0.0, 8.0, 20.0):
        nv = 10 ** (-esn0_db / 10)
        y = const.points[lab] + np.sqrt(nv / 2) * (rng.standard_normal(lab.size) + 1j * rng.standard_normal(lab.size))
        got = C.llrs(y.astype(np.complex64), const, nv, maxlog=maxlog)
        ref = _brute_llr(y.astype(np.complex64).astype(np.complex128), const.points, nv, maxlog)
        assert got.shape == (lab.size, m) and got.dtype == np.float32
        big = np.abs(ref) > 70  # exact mode gives the max-log value beyond |LLR| = 75 (within log(M/2))
        np.testing.assert_allclose(got[~big], ref[~big], rtol=1e-4, atol=2e-3)
        assert np.all(np.abs(got[big] - ref[big]) <= np.log(2 ** (m - 1)) + 1e-3 * np.abs(ref[big]))
        assert np.all(np.sign(got[big]) == np.sign(ref[big]))
    # noiseless symbols: every LLR has the sign of its bit (positive = 0)
    y = const.points[lab]
    got = C.llrs(y, const, 0.1, maxlog=maxlog)
    bits = (lab[:, None] >> (m - 1 - np.arange(m))[None, :]) & 1
    assert np.all((got > 0) == (bits == 0))


@pytest.mark.parametrize("modcod", ["8PSK 3/5", "16APSK 3/4", "32APSK 9/10"])
@pytest.mark.parametrize("n_symbols", [1, 255, 256, 1001])
def test_receiver_demapper_matches_brute_force(modcod, n_symbols):
    """The receiver's own demapper (sync.soft_demap, blocked max-log and exact) against brute force, for symbol
    counts on both sides of its 256-symbol block."""
    rng = np.random.default_rng(n_symbols)
    const = C.for_modcod(modcod)
    m = const.bits_per_symbol
    lab = rng.integers(0, 2**m, n_symbols)
    nv = 10 ** (-const.bits_per_symbol * 2.5 / 10)
    y = const.points[lab] + np.sqrt(nv / 2) * (rng.standard_normal(n_symbols) + 1j * rng.standard_normal(n_symbols))
    y = y.astype(np.complex64)
    ref = _brute_llr(y.astype(np.complex128), const.points, nv, maxlog=True)
    got = soft_demap(y, const.points, const.labels_bits, nv, maxlog=True)
    assert got.shape == (n_symbols, m) and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=2e-3)
    exact = soft_demap(y, const.points, const.labels_bits, nv, maxlog=False)
    ref = _brute_llr(y.astype(np.complex128), const.points, nv, maxlog=False)
    ok = np.abs(ref) < 12  # the exact kernel skips points 20 below the best: LLRs near 20 move by up to ~0.1
    np.testing.assert_allclose(exact[ok], ref[ok], rtol=1e-3, atol=5e-3)


def test_llrs_per_symbol_noise_and_bad_noise():
    const = C.constellation("8PSK")
    y = const.points[[0, 1, 2]]
    a = C.llrs(y, const, np.array([0.1, 0.2, 0.4]))
    for i, nv in enumerate([0.1, 0.2, 0.4]):
        np.testing.assert_allclose(a[i], C.llrs(y[i : i + 1], const, nv)[0], rtol=1e-6)
    with pytest.raises(InputError):
        C.llrs(y, const, 0.0)
    with pytest.raises(InputError):
        C.llrs(y, const, np.array([0.1, 0.2]))
    # a bare points array (indexed by label) works the same
    np.testing.assert_array_equal(C.llrs(y, const.points, 0.3), C.llrs(y, const, 0.3))


def test_exact_llr_qpsk_closed_form():
    # Gray QPSK with points (+-1 +-j)/sqrt2: exact LLR of bit 0 is 2*sqrt2*Re(y)/N0, of bit 1 2*sqrt2*Im(y)/N0.
    const = C.constellation("QPSK")
    y = np.array([0.3 - 0.2j, -1.1 + 0.05j, 2.0 + 2.0j])
    got = C.llrs(y, const, 0.5)
    np.testing.assert_allclose(got[:, 0], 2 * np.sqrt(2) * y.real / 0.5, rtol=1e-5)
    np.testing.assert_allclose(got[:, 1], 2 * np.sqrt(2) * y.imag / 0.5, rtol=1e-5)


@pytest.mark.parametrize("modcod", ["QPSK 1/2", "8PSK 3/5", "8PSK 2/3", "16APSK 2/3", "32APSK 4/5"])
def test_interleaver_inverse(modcod):
    p = frame_params(modcod)
    rng = np.random.default_rng(1)
    cw = rng.integers(0, 2, p.n_ldpc, dtype=np.uint8)
    lab = interleave(cw, p.constellation, p.rate)
    assert lab.size == p.data_symbols
    np.testing.assert_array_equal(deinterleave_bits(lab, p.constellation, p.rate), cw)
    # LLRs of noiseless symbols, deinterleaved, give back the codeword signs
    const = C.for_modcod(modcod)
    ll = C.llrs(const.points[lab], const, 0.05, maxlog=True)
    np.testing.assert_array_equal(deinterleave_llrs(ll, p.constellation, p.rate) < 0, cw == 1)


# ------------------------------------------------------------------------------------------------ RRC


def _rrc_numeric(t, a):
    """Inverse Fourier transform of the square-root raised-cosine spectrum (T = 1, H(0) = 1)."""
    f = np.linspace(0, (1 + a) / 2, 200001)
    f1 = (1 - a) / 2
    H = np.where(f <= f1, 1.0, np.cos(np.pi / (2 * a) * (f - f1)))
    return np.array([2 * np.trapz(H * np.cos(2 * np.pi * f * ti), f) for ti in t])


@pytest.mark.parametrize("rolloff", [0.35, 0.25, 0.20])
def test_rrc_closed_form_against_spectrum(rolloff):
    t = np.concatenate([np.linspace(-6, 6, 97), [1 / (4 * rolloff), -1 / (4 * rolloff), 0.0]])
    np.testing.assert_allclose(rrc_impulse(t, rolloff), _rrc_numeric(t, rolloff), atol=2e-6)


@pytest.mark.parametrize("rolloff", [0.35, 0.25, 0.20])
@pytest.mark.parametrize("sps", [2, 3, 4, 8])
def test_rrc_pair_is_nyquist(rolloff, sps):
    h = rrc_taps(rolloff, sps)
    assert np.sum(h * h) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(h, h[::-1], atol=0)
    g = np.convolve(h, h)
    c = g.size // 2
    assert g[c] == pytest.approx(1.0, abs=1e-3)
    isi = np.concatenate([g[c + sps :: sps], g[c - sps :: -sps]])
    assert np.max(np.abs(isi)) < 1e-3


def test_rrc_taps_at_a_fractional_rate_and_refusals():
    """Taps at 2.5 samples per symbol (a receiver's matched filter for an SDR capture) are the same pulse: odd
    length, symmetric, unit energy, and equal (up to the normalisation) to every other tap at 5 samples per symbol,
    which fall on the same times."""
    h = rrc_taps(0.2, 2.5, span_symbols=24)
    assert h.size == 61 and np.sum(h * h) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(h, h[::-1], atol=0)
    h5 = rrc_taps(0.2, 5, span_symbols=24)[::2]
    np.testing.assert_allclose(h, h5 / np.sqrt(np.sum(h5 * h5)), rtol=0, atol=1e-12)
    with pytest.raises(InputError):
        rrc_taps(0.2, 0.5)
    with pytest.raises(InputError):
        RrcInterpolator(0.2, 2.5)  # the transmitter makes whole samples per symbol


def test_rrc_interpolator_stateful_and_matched_filter_recovers_symbols():
    rng = np.random.default_rng(3)
    const = C.constellation("16APSK", "3/4")
    sym = const.points[rng.integers(0, 16, 5000)].astype(np.complex64)
    one = RrcInterpolator(0.2, 4)
    whole = np.concatenate([one(sym), one.flush()])
    two = RrcInterpolator(0.2, 4)
    parts = np.concatenate([two(sym[:1234]), two(sym[1234:1235]), two(sym[1235:]), two.flush()])
    np.testing.assert_allclose(parts, whole, atol=1e-6)
    # mean sample power = symbol energy (1)
    assert np.mean(np.abs(whole[one.delay_samples : -one.delay_samples]) ** 2) == pytest.approx(1.0, rel=0.03)
    # matched filter (unit-energy taps, / sqrt(sps)) at the right phase gives the symbols back
    mf = np.convolve(whole, rrc_taps(0.2, 4)) / np.sqrt(4)
    rx = mf[2 * one.delay_samples :: 4][: sym.size]
    err = np.abs(rx - sym)
    assert 10 * np.log10(np.mean(err**2)) < -50  # MER better than 50 dB


# ------------------------------------------------------------------------------------------------ PL layer


def test_plsc_codewords_structure():
    cw = PL.plsc_codewords()
    assert cw.shape == (128, 64)
    assert np.allclose(np.abs(cw), 1.0)
    # the (64, 7) PLS code has minimum Hamming distance 32 (clause 5.5.2.4: first-order Reed-Muller based)
    bits = np.array([PL.plsc_bits(p) for p in range(128)])
    d = (bits[:, None, :] != bits[None, :, :]).sum(axis=2)
    np.fill_diagonal(d, 64)
    assert d.min() == 32
    # correlating the noiseless header against all codewords identifies it
    for p in (PL.pls_code(4, False, True), PL.pls_code(28, False, False), PL.pls_code(12, True, True)):
        hdr = PL.plheader_symbols(p)
        np.testing.assert_array_equal(hdr[:26], PL.sof_symbols())
        assert np.argmax(np.real(cw.conj() @ hdr[26:])) == p


def test_sof_bits():
    # SOF 0x18D2E82, pi/2-BPSK: symbol 0 is (1+j)/sqrt2 for bit 0 (the SOF starts 0001 1000 ...)
    s = PL.sof_symbols()
    bits = (0x18D2E82 >> np.arange(25, -1, -1)) & 1
    k = np.arange(26)
    base = np.where(k % 2 == 0, 1 + 1j, -1 + 1j) / np.sqrt(2)
    np.testing.assert_allclose(s, (1 - 2 * bits) * base, atol=1e-7)


@pytest.mark.parametrize(
    "modcod,frame,pilots",
    [
        ("QPSK 1/4", "normal", True),
        ("8PSK 9/10", "normal", True),
        ("16APSK 2/3", "short", True),
        ("32APSK 3/4", "normal", False),
    ],
)
def test_plframe_layout_and_inverse(modcod, frame, pilots):
    p = frame_params(modcod, frame, pilots)
    rng = np.random.default_rng(2)
    x = C.for_modcod(modcod).points[rng.integers(0, 2**p.bits_per_symbol, p.data_symbols)]
    fr = PL.plframe(x, modcod, frame, pilots, gold_code=77)
    assert fr.size == p.plframe_symbols
    assert PL.plframe_length(PL.pls_code(p.modcod_number, frame == "short", pilots)) == fr.size
    payload = PL.descramble(fr[90:], 77)
    mask = PL.pilot_mask(p.data_symbols, pilots)
    assert mask.sum() == 36 * p.pilot_blocks
    if pilots:  # first pilot block after 16 slots
        assert mask[16 * 90 : 16 * 90 + 36].all() and not mask[: 16 * 90].any()
        np.testing.assert_allclose(payload[mask], (1 + 1j) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(PL.remove_pilots(payload, p.data_symbols, pilots), x, atol=1e-6)


def test_pl_scrambling_properties():
    r0 = pl_scrambling_indices(0, 33192)
    r1 = pl_scrambling_indices(1, 33192)
    assert set(np.unique(r0)) == {0, 1, 2, 3} and not np.array_equal(r0, r1)
    # balanced quaternary sequence
    assert np.all(np.abs(np.bincount(r0, minlength=4) / r0.size - 0.25) < 0.01)
    x = np.exp(1j * np.linspace(0, 7, 500)).astype(np.complex64)
    np.testing.assert_allclose(pl_descramble(pl_scramble(x, 262141), 262141), x, atol=1e-6)
    with pytest.raises(InputError):
        pl_scrambling_indices(262143, 10)
    dummy = PL.dummy_plframe(0)
    assert dummy.size == 90 + 3240
    np.testing.assert_allclose(PL.descramble(dummy[90:], 0), (1 + 1j) / np.sqrt(2), atol=1e-6)


# ------------------------------------------------------------------------------------------------ BBFRAME


def test_bbheader_roundtrip_and_crc():
    # CRC-8 (x^8+x^7+x^6+x^4+x^2+1) check value of "123456789" is 0xBC (CRC-8/DVB-S2 catalogue entry)
    assert crc8(b"123456789") == 0xBC
    h = BbHeader(0b11, True, False, False, False, 0b10, 0, 1504, 1234 * 8, 0x47, 5 * 8)
    back = parse_bbheader(h.to_bits())
    assert back == h and back.crc_ok and back.rolloff == 0.20
    bad = h.to_bits()
    bad[20] ^= 1
    assert not parse_bbheader(bad).crc_ok


def test_ts_stream_adaptation_carries_packets_across_frames():
    rng = np.random.default_rng(0)
    pk = rng.integers(0, 256, (30, 188), dtype=np.uint8)
    pk[:, 0] = 0x47
    ad = StreamAdapter("ts", 0.2)
    ad.push(pk.tobytes())
    k_bch = 3072  # short QPSK 1/4: 374 data bytes per frame
    stream = []
    for _ in range(4):
        bits, hdr = ad.next_bbframe(k_bch)
        assert hdr.dfl_bits == k_bch - 80 and hdr.upl_bits == 1504 and hdr.sync == 0x47
        start = sum(len(s) for s in stream)
        assert hdr.syncd_bits == (0 if start % 188 == 0 else (188 - start % 188) * 8)
        stream.append(np.packbits(bits[80:]))
    data = np.concatenate(stream)
    rebuilt = data[: (data.size // 188) * 188].reshape(-1, 188)
    np.testing.assert_array_equal(rebuilt[:, 1:], pk[: rebuilt.shape[0], 1:])
    # sync byte k carries the CRC-8 of packet k-1 (0 for the first packet)
    assert rebuilt[0, 0] == 0
    for k in range(1, rebuilt.shape[0]):
        assert rebuilt[k, 0] == crc8(pk[k - 1, 1:])
    with pytest.raises(InputError):
        ad.push(b"\x46" + bytes(187))
    # a padded frame in which no packet starts: SYNCD = 65535
    ad3 = StreamAdapter("ts", 0.2)
    ad3.push(pk[:1].tobytes())
    _, h1 = ad3.next_bbframe(80 + 100 * 8)  # 100 bytes of the packet
    _, h2 = ad3.next_bbframe(k_bch)  # its last 88 bytes, then padding
    assert h1.syncd_bits == 0 and h2.dfl_bits == 88 * 8 and h2.syncd_bits == 0xFFFF
    # short of data: the frame is padded and DFL says how much is real
    ad2 = StreamAdapter("generic", 0.35)
    ad2.push(b"abc")
    bits, hdr = ad2.next_bbframe(k_bch)
    assert hdr.dfl_bits == 24 and hdr.ts_gs == 0b01 and not bits[80 + 24 :].any()
    assert np.packbits(bits[80:104]).tobytes() == b"abc"


@pytest.mark.parametrize("m", [1, 25, 26, 63])
def test_correlate_valid_is_numpys_correlate(m):
    """The header search's correlation (a numba loop that releases the GIL) against np.correlate(a, v, 'valid')."""
    rng = np.random.default_rng(m)
    a = (rng.standard_normal(5000) + 1j * rng.standard_normal(5000)).astype(np.complex64)
    v = (rng.standard_normal(m) + 1j * rng.standard_normal(m)).astype(np.complex64)
    want = np.correlate(a, v, "valid")
    got = correlate_valid(a, v)
    assert got.dtype == np.complex64 and got.shape == want.shape
    assert np.max(np.abs(got - want)) <= 1e-6 * np.sqrt(m) * np.max(np.abs(want))
    assert correlate_valid(a[: m - 1], v).size == 0  # shorter than the reference: nothing (numpy would swap them)


@pytest.mark.parametrize("layout", ["pilots", "two blocks", "header only"])
def test_derotate_is_the_pilot_phase_trajectory_applied(layout):
    """derotate (phasor set per linear piece, turned inside it) against pilot_phase's per-symbol phase with its
    cosine and sine: the same complex64 values."""
    from linksim.dvbs2.sync import derotate, pilot_phase, pilot_phase_fit

    rng = np.random.default_rng(4)
    n = {"pilots": 33282, "two blocks": 21690, "header only": 3330}[layout]
    starts = {"pilots": [0, *range(1530, n, 1476)], "two blocks": [0, 500], "header only": [0]}[layout]
    lens = [90] + [36] * (len(starts) - 1)
    zk = np.zeros(n, np.complex64)
    for s, m in zip(starts, lens, strict=True):
        zk[s : s + m] = np.exp(1j * (0.3 + 2e-4 * s)) + 0.2 * rng.standard_normal(m)
    seg = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    descr = np.exp(1j * rng.uniform(0, 2 * np.pi, n)).astype(np.complex64)
    w = 2 * np.pi * 3.7e-3
    phase, slope = pilot_phase(zk, starts, lens, n)
    ph = w * np.arange(n) + phase
    want = seg * descr * (np.cos(ph) - 1j * np.sin(ph)).astype(np.complex64)
    fit = pilot_phase_fit(zk, starts, lens)
    got = derotate(seg, descr, w, fit)
    assert got.dtype == np.complex64 and fit.slope_cyc == slope
    assert np.max(np.abs(got - want)) <= 1e-6 * np.max(np.abs(want))
