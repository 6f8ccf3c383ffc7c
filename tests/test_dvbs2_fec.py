"""DVB-S2 FEC (LDPC and BCH) against outside authorities: gr-dtv's encoders (an independent implementation of
ETSI EN 302 307-1), the algebra of the standard's BCH polynomials, and DVB-S2 Table 13 thresholds (AWGN FER).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from linksim.dvbs2.bch import BchResult, _clmul, bch_code, bch_decode, bch_encode, table_polynomials
from linksim.dvbs2.ldpc import AlistCode, LdpcCode, LdpcResult, dvbs2_code, ldpc_decode, ldpc_encode
from linksim.dvbs2.params import _BCH_NORMAL, _BCH_SHORT, N_LDPC
from linksim.errors import InputError
from linksim.scenario import modcods

CODES = [("normal", r) for r in _BCH_NORMAL] + [("short", r) for r in _BCH_SHORT]
_IDS = [f"{f}-{r}" for f, r in CODES]


def _gr_run(make_block, bits: np.ndarray) -> np.ndarray:
    """Push uint8 bits through one gr-dtv block (vector source -> block -> vector sink)."""
    from gnuradio import blocks, gr

    tb = gr.top_block()
    src = blocks.vector_source_b(bits.astype(np.uint8).ravel().tolist(), False)
    blk = make_block()
    snk = blocks.vector_sink_b()
    tb.connect(src, blk, snk)
    tb.run()
    return np.asarray(snk.data(), dtype=np.uint8)


def _gr_args(frame: str, rate: str):
    from gnuradio import dtv

    fs = dtv.FECFRAME_NORMAL if frame == "normal" else dtv.FECFRAME_SHORT
    return dtv, fs, getattr(dtv, "C" + rate.replace("/", "_"))


def _bpsk_llr(cw: np.ndarray, ecn0_db: float, rng: np.random.Generator) -> np.ndarray:
    """True LLRs of BPSK (bit 0 -> +1) over AWGN at Ec/N0 (energy per code bit)."""
    sigma = math.sqrt(1.0 / (2.0 * 10 ** (ecn0_db / 10)))
    y = (1.0 - 2.0 * cw) + sigma * rng.standard_normal(cw.shape)
    return (2.0 * y / sigma**2).astype(np.float32)


# ------------------------------------------------------------------------------------------------------- LDPC


@pytest.mark.parametrize("frame,rate", CODES, ids=_IDS)
def test_ldpc_encoder_matches_gr_dtv(gr, frame, rate):
    """The shipped address tables reproduce gr-dtv's dvb_ldpc_bb on random frames (every code of Tables 5a/5b)."""
    code = dvbs2_code(frame, rate)
    assert code.n == N_LDPC[frame] and code.k == (_BCH_NORMAL if frame == "normal" else _BCH_SHORT)[rate][1]
    info = np.random.default_rng(7).integers(0, 2, (2, code.k), dtype=np.uint8)
    dtv, fs, cr = _gr_args(frame, rate)
    ref = _gr_run(lambda: dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER), info)
    ours = ldpc_encode(info, frame, rate)
    assert ours.shape == (2, code.n)
    np.testing.assert_array_equal(ours.ravel(), ref)


@pytest.mark.parametrize("frame,rate", CODES, ids=_IDS)
def test_codewords_satisfy_every_check_and_decode_in_one_iteration(frame, rate):
    code = dvbs2_code(frame, rate)
    info = np.random.default_rng(3).integers(0, 2, (3, code.k), dtype=np.uint8)
    cw = code.encode(info)
    np.testing.assert_array_equal(cw[:, : code.k], info)  # systematic
    assert code.parity_ok(cw).all()
    bad = cw.copy()
    bad[:, code.k + 5] ^= 1  # one parity bit flipped breaks two checks
    assert not code.parity_ok(bad).any()
    res = code.decode(np.where(cw == 0, 4.0, -4.0).astype(np.float32))
    assert res.ok.all() and (res.iterations == 1).all()
    np.testing.assert_array_equal(res.bits, cw)


@pytest.mark.parametrize("frame,rate,extra_db", [("normal", "1/4", 1.0), ("normal", "3/5", 1.0),
                                                 ("normal", "9/10", 1.0), ("short", "1/2", 1.0),
                                                 ("short", "8/9", 1.0)])
def test_decoder_corrects_awgn_at_moderate_snr(frame, rate, extra_db):
    """QPSK-equivalent BPSK LLRs at Table 13 + 1 dB (short frames: the normal-frame threshold + 1 dB)."""
    code = dvbs2_code(frame, rate)
    rng = np.random.default_rng(11)
    cw = code.encode(rng.integers(0, 2, (4, code.k), dtype=np.uint8))
    esn0_db = modcods.get(f"QPSK {rate}").esn0_qef_db + extra_db
    llr = _bpsk_llr(cw, esn0_db - 10 * math.log10(2), rng)
    assert (llr < 0).astype(np.uint8).__ne__(cw).any()  # the channel did make errors
    res = ldpc_decode(llr, frame, rate)
    assert isinstance(res, LdpcResult)
    assert res.ok.all()
    np.testing.assert_array_equal(res.bits, cw)
    assert (res.iterations < 50).all() and (res.iterations > 1).all()
    gen = LdpcCode.decode(code, llr)  # the generic sparse-matrix path on the same LLRs
    assert gen.ok.all()
    np.testing.assert_array_equal(gen.bits, cw)


@pytest.mark.parametrize("algorithm", ["cms", "oms", "nms"])
def test_decoder_fails_and_says_so_at_very_low_snr(algorithm):
    code = dvbs2_code("normal", "3/4")
    rng = np.random.default_rng(5)
    cw = code.encode(rng.integers(0, 2, (2, code.k), dtype=np.uint8))
    llr = _bpsk_llr(cw, -3.0, rng)
    res = code.decode(llr, max_iter=10, algorithm=algorithm)
    assert not res.ok.any()
    assert (res.iterations == 10).all()
    assert (res.bits != cw).any(axis=1).all()


@pytest.mark.parametrize("frame,rate", [("normal", "2/3"), ("short", "1/3")])
def test_stall_stop_gives_up_on_hopeless_frames_only(frame, rate):
    code = dvbs2_code(frame, rate)
    rng = np.random.default_rng(31)
    cw = code.encode(rng.integers(0, 2, (3, code.k), dtype=np.uint8))
    hopeless = code.decode(_bpsk_llr(cw, -8.0, rng), max_iter=50, stall_iter=3)
    assert not hopeless.ok.any() and (hopeless.iterations < 50).all()
    gen = LdpcCode.decode(code, _bpsk_llr(cw, -8.0, rng), max_iter=50, stall_iter=3)  # generic path too
    assert not gen.ok.any() and (gen.iterations < 50).all()
    llr = _bpsk_llr(cw, modcods.get(f"QPSK {rate}").esn0_qef_db + 1.0 - 10 * math.log10(2), rng)
    plain, stalled = code.decode(llr), code.decode(llr, stall_iter=5)
    assert plain.ok.all() and stalled.ok.all()
    np.testing.assert_array_equal(plain.iterations, stalled.iterations)
    np.testing.assert_array_equal(plain.bits, stalled.bits)


def test_decoder_batches_any_leading_shape_and_decodes_one_frame_alone():
    code = dvbs2_code("short", "2/3")
    rng = np.random.default_rng(9)
    cw = code.encode(rng.integers(0, 2, (2, 3, code.k), dtype=np.uint8))
    llr = _bpsk_llr(cw, 4.0, rng)
    res = ldpc_decode(llr, "short", "2/3", max_iter=30)
    assert res.bits.shape == (2, 3, code.n) and res.iterations.shape == (2, 3) and res.ok.shape == (2, 3)
    one = ldpc_decode(llr[1, 2], "short", "2/3", max_iter=30)
    assert one.bits.shape == (code.n,) and one.ok.shape == ()
    np.testing.assert_array_equal(one.bits, res.bits[1, 2])
    # without early stop every frame runs all the iterations
    full = ldpc_decode(llr[0], "short", "2/3", max_iter=7, early_stop=False)
    assert (full.iterations == 7).all() and full.ok.all()


def test_fer_rate_half_normal_frame_around_the_table13_threshold():
    """BPSK AWGN, rate 1/2 normal frames. Table 13 puts QPSK 1/2 at Es/N0 1.00 dB, i.e. Eb/N0 1.05 dB per
    information bit (eta 0.99): FER ~0 at Eb/N0 1.5 dB, FER high 0.5 dB below the threshold."""
    code = dvbs2_code("normal", "1/2")
    m = modcods.get("QPSK 1/2")
    ebn0_thr_db = m.esn0_qef_db - 10 * math.log10(m.eta)
    assert ebn0_thr_db == pytest.approx(1.05, abs=0.01)
    rng = np.random.default_rng(2024)
    r = code.k / code.n
    for ebn0_db, check in ((1.5, lambda fer: fer <= 1 / 24), (ebn0_thr_db - 0.5, lambda fer: fer >= 0.9)):
        cw = code.encode(rng.integers(0, 2, (24, code.k), dtype=np.uint8))
        res = code.decode(_bpsk_llr(cw, ebn0_db + 10 * math.log10(r), rng))
        fer = float(np.mean((res.bits != cw).any(axis=1)))
        assert check(fer), (ebn0_db, fer)
        assert np.array_equal(~res.ok, (res.bits != cw).any(axis=1))  # ok tells the truth here


def test_ldpc_rejects_bad_input():
    with pytest.raises(InputError, match="last dimension 16200"):
        ldpc_decode(np.zeros(100, np.float32), "short", "1/2")
    with pytest.raises(InputError, match="NaN"):
        ldpc_decode(np.full(16200, np.nan, np.float32), "short", "1/2")
    with pytest.raises(InputError, match="rate"):
        ldpc_encode(np.zeros(100, np.uint8), "short", "9/10")
    with pytest.raises(InputError, match="frame"):
        ldpc_encode(np.zeros(100, np.uint8), "medium", "1/2")
    with pytest.raises(InputError, match="0 or 1"):
        ldpc_encode(np.full(7200, 2, np.uint8), "short", "1/2")
    with pytest.raises(InputError, match="algorithm"):
        ldpc_decode(np.zeros(16200, np.float32), "short", "1/2", algorithm="bp")
    with pytest.raises(InputError, match="max_iter"):
        ldpc_decode(np.zeros(16200, np.float32), "short", "1/2", max_iter=0)
    with pytest.raises(InputError, match="stall_iter"):
        ldpc_decode(np.zeros(16200, np.float32), "short", "1/2", stall_iter=-1)


def test_alist_reader_and_generic_decoder(tmp_path: Path):
    """The (7,4) Hamming code written as an alist file (unpadded lists): every codeword passes, one flipped bit
    is corrected by the generic decoder."""
    rows = [[0, 1, 2, 4], [1, 2, 3, 5], [0, 1, 3, 6]]
    cols = [[c for c in range(3) if v in rows[c]] for v in range(7)]
    text = ["7 3", "3 4", " ".join(str(len(c)) for c in cols), " ".join("4" for _ in rows)]
    text += [" ".join(str(c + 1) for c in col) for col in cols] + [" ".join(str(v + 1) for v in r) for r in rows]
    path = tmp_path / "hamming.alist"
    path.write_text("\n".join(text) + "\n")
    code = AlistCode.from_file(path)
    assert (code.n, code.m, code.edges) == (7, 3, 12)
    words = np.array([[int(b) for b in f"{i:07b}"] for i in range(128)], np.uint8)
    ok = code.parity_ok(words)
    assert ok.sum() == 16  # 2^k codewords
    cw = words[ok][5]
    llr = np.where(cw == 0, 2.0, -2.0).astype(np.float32)
    llr[3] = -llr[3] * 0.5  # a weak wrong bit
    res = code.decode(llr, max_iter=10)
    assert res.ok and np.array_equal(res.bits, cw)
    bad = tmp_path / "bad.alist"
    bad.write_text("7 3\n3 4\n1 1\n")
    with pytest.raises(InputError, match="alist"):
        AlistCode.from_file(bad)
    with pytest.raises(InputError, match="cannot read"):
        AlistCode.from_file(tmp_path / "missing.alist")


def test_gnuradio_alist_code_decodes(gr):
    """GNU Radio's in-tree n=1800 k=902 code (the benchmark's reference code) loads and decodes."""
    path = Path(gr.prefix()) / "share/gnuradio/fec/ldpc/n_1800_k_0902_gap_28.alist"
    code = AlistCode.from_file(path)
    assert (code.n, code.m) == (1800, 898)
    rng = np.random.default_rng(1)
    zero = np.zeros((20, code.n), np.uint8)  # the all-zero word is a codeword of every linear code
    res = code.decode(_bpsk_llr(zero, 3.0 + 10 * math.log10(902 / 1800), rng))
    assert res.ok.sum() >= 19 and res.bits[res.ok].sum() == 0


# ------------------------------------------------------------------------------------------------------- BCH


@pytest.mark.parametrize("frame,rate", CODES, ids=_IDS)
def test_bch_encoder_matches_gr_dtv(gr, frame, rate):
    code = bch_code(frame, rate)
    msg = np.random.default_rng(17).integers(0, 2, (2, code.k), dtype=np.uint8)
    dtv, fs, cr = _gr_args(frame, rate)
    ref = _gr_run(lambda: dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, cr), msg)
    np.testing.assert_array_equal(bch_encode(msg, frame, rate).ravel(), ref)


@pytest.mark.parametrize("frame,rate", CODES, ids=_IDS)
def test_bch_corrects_t_errors_and_flags_more(frame, rate):
    code = bch_code(frame, rate)
    rng = np.random.default_rng(23)
    msg = rng.integers(0, 2, (4, code.k), dtype=np.uint8)
    cw = bch_encode(msg, frame, rate)
    clean = bch_decode(cw, frame, rate)
    assert clean.ok.all() and (clean.corrected == 0).all()
    np.testing.assert_array_equal(clean.bits, msg)
    # exactly t errors, anywhere (message or parity), in each block; one block with the errors at the edges
    noisy = cw.copy()
    for f in range(4):
        noisy[f, rng.choice(code.n, code.t, replace=False)] ^= 1
    noisy[0] = cw[0]
    noisy[0, : code.t // 2] ^= 1
    noisy[0, code.n - (code.t - code.t // 2):] ^= 1
    res = bch_decode(noisy, frame, rate)
    assert isinstance(res, BchResult)
    assert res.ok.all() and (res.corrected == code.t).all()
    np.testing.assert_array_equal(res.bits, msg)
    # t+1 .. 3t errors are beyond the code: detected, never silently "corrected"
    for nerr in (code.t + 1, code.t + 2, 3 * code.t):
        worse = cw.copy()
        for f in range(4):
            worse[f, rng.choice(code.n, nerr, replace=False)] ^= 1
        res = bch_decode(worse, frame, rate)
        assert not res.ok.any(), nerr
        assert (res.corrected == 0).all()


@pytest.mark.parametrize("frame", ["normal", "short"])
def test_bch_table_polynomials_are_the_minimal_polynomials(frame):
    """Tables 6a/6b: g1 is primitive of degree m and g_i is the minimal polynomial of alpha^(2i-1), so that
    g = g1...gt has alpha^1..alpha^2t as roots (designed distance 2t+1)."""
    code = bch_code(frame, "1/2")
    m = code.m
    nn = (1 << m) - 1
    exp, log = code._exp, code._log
    assert len(set(exp[:nn].tolist())) == nn  # alpha generates the whole multiplicative group: g1 primitive

    def mul(a: int, b: int) -> int:
        return 0 if a == 0 or b == 0 else int(exp[(log[a] + log[b]) % nn])

    for i, g in enumerate(table_polynomials(frame), start=1):
        beta_log = (2 * i - 1) % nn
        conj = []
        e = beta_log
        while e not in conj:
            conj.append(e)
            e = (2 * e) % nn
        poly = [1]  # coefficients in GF(2^m), lowest degree first: prod (x + beta^(2^j))
        for e in conj:
            root = int(exp[e])
            nxt = [0] * (len(poly) + 1)
            for d, c in enumerate(poly):
                nxt[d + 1] ^= c
                nxt[d] ^= mul(c, root)
            poly = nxt
        assert all(c in (0, 1) for c in poly)
        assert sum(c << d for d, c in enumerate(poly)) == g, f"g{i}"
    gen = 1
    for g in table_polynomials(frame)[: code.t]:
        gen = _clmul(gen, g)
    assert gen == code.generator and gen.bit_length() - 1 == m * code.t


def test_bch_rejects_bad_input():
    with pytest.raises(InputError, match="last dimension"):
        bch_encode(np.zeros(10, np.uint8), "normal", "1/2")
    with pytest.raises(InputError, match="rate"):
        bch_decode(np.zeros(10, np.uint8), "short", "9/10")
    with pytest.raises(InputError, match="integer"):
        bch_encode(np.zeros(32208, np.float32), "normal", "1/2")


def test_flooding_schedule_needs_about_twice_the_layered_iterations():
    """The flooding schedule (Table 13's belief-propagation simulations) and the layered one decode the same
    frames; flooding needs about twice the iterations (the receiver's 25 layered = Table 13's 50 flooding)."""
    code = dvbs2_code("short", "1/2")
    rng = np.random.default_rng(9)
    info = rng.integers(0, 2, (4, code.k), dtype=np.uint8)
    cw = code.encode(info)
    esn0_db = modcods.get("QPSK 1/2").esn0_qef_db + 0.8  # short frames need a little more than Table 13
    n0 = 10 ** (-esn0_db / 10)
    y = (1 - 2.0 * cw) / np.sqrt(2) + np.sqrt(n0 / 2) * rng.standard_normal(cw.shape)
    llr = (2 * np.sqrt(2) * y / n0).astype(np.float32)
    lay = code.decode(llr, max_iter=100)
    flo = code.decode(llr, max_iter=100, schedule="flooding")
    assert lay.ok.all() and flo.ok.all()
    assert np.array_equal(lay.bits, cw) and np.array_equal(flo.bits, cw)
    ratio = flo.iterations.sum() / lay.iterations.sum()
    assert 1.6 <= ratio <= 2.5, (lay.iterations, flo.iterations)
    with pytest.raises(InputError):
        code.decode(llr, schedule="random")
