"""DVB-S2 transmitter against GNU Radio's gr-dtv chain (an outside implementation of ETSI EN 302 307-1).

For each case the same TS packets go through gr-dtv (dvb_bbheader_bb -> dvb_bbscrambler_bb -> dvb_bch_bb ->
dvb_ldpc_bb -> dvbs2_interleaver_bb -> dvbs2_modulator_bc -> dvbs2_physical_cc) and through linksim's
Transmitter. The PLFRAME symbols must be equal; the intermediate stages are compared too, so a failure names
the stage (BBFRAME, mapping, PL framing) that differs.
"""

from __future__ import annotations

import numpy as np
import pytest

from linksim.dvbs2 import plframe as PL
from linksim.dvbs2.bbframe import parse_bbheader
from linksim.dvbs2.constellations import for_modcod
from linksim.dvbs2.interleave import deinterleave_bits
from linksim.dvbs2.params import MODCOD_NAMES, MODCOD_NUMBERS, frame_params
from linksim.dvbs2.rrc import rrc_taps
from linksim.dvbs2.scrambling import bb_scramble
from linksim.dvbs2.tx import Transmitter, codeword_to_xfec, random_ts_frames, random_ts_packets

N_FRAMES = 2
CASES = [(m, "normal", True, 0.20, 0) for m in MODCOD_NUMBERS] + [
    ("QPSK 1/4", "short", True, 0.20, 0),
    ("QPSK 2/5", "short", False, 0.35, 3),
    ("8PSK 3/5", "short", True, 0.25, 1000),
    ("16APSK 8/9", "short", False, 0.20, 262141),
    ("32APSK 3/4", "short", True, 0.35, 0),
    ("QPSK 9/10", "normal", False, 0.25, 17),
    ("8PSK 3/5", "normal", False, 0.20, 0),
    ("16APSK 2/3", "normal", False, 0.35, 65536),
    ("32APSK 9/10", "normal", False, 0.20, 1),
]


def _grdtv_stages(modcod, frame, pilots, rolloff, gold_code, ts):
    from gnuradio import blocks, dtv, gr

    const, rate = modcod.split()
    cr = getattr(dtv, "C" + rate.replace("/", "_"))
    fs = dtv.FECFRAME_NORMAL if frame == "normal" else dtv.FECFRAME_SHORT
    co = getattr(dtv, "MOD_" + const)
    ro = {0.35: dtv.RO_0_35, 0.25: dtv.RO_0_25, 0.20: dtv.RO_0_20}[rolloff]
    chain = [
        blocks.vector_source_b(list(ts), False),
        dtv.dvb_bbheader_bb(dtv.STANDARD_DVBS2, fs, cr, ro, dtv.INPUTMODE_NORMAL, dtv.INBAND_OFF, 168, 4000000),
        dtv.dvb_bbscrambler_bb(dtv.STANDARD_DVBS2, fs, cr),
        dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, cr),
        dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER),
        dtv.dvbs2_interleaver_bb(fs, cr, co),
        dtv.dvbs2_modulator_bc(fs, cr, co, dtv.INTERPOLATION_OFF),
        dtv.dvbs2_physical_cc(fs, cr, co, dtv.PILOTS_ON if pilots else dtv.PILOTS_OFF, gold_code),
    ]
    tb = gr.top_block()
    names = ["bbheader", "bbscrambler", "bch", "ldpc", "interleaver", "modulator", "physical"]
    sinks = {}
    for name, blk in zip(names, chain[1:], strict=True):
        sinks[name] = blocks.vector_sink_c() if name in ("modulator", "physical") else blocks.vector_sink_b()
        tb.connect(blk, sinks[name])
    for a, b in zip(chain[:-1], chain[1:], strict=True):
        tb.connect(a, b)
    tb.run()
    out = {k: np.asarray(v.data()) for k, v in sinks.items()}
    phy = out["physical"]
    # gr-dtv 3.10's framer zero-stuffs to 2 samples per symbol
    assert phy.size % 2 == 0 and not np.any(phy[1::2])
    out["physical"] = phy[0::2].astype(np.complex64)
    return out


@pytest.mark.parametrize("modcod,frame,pilots,rolloff,gold_code", CASES)
def test_plframes_equal_gr_dtv(gr, modcod, frame, pilots, rolloff, gold_code):
    p = frame_params(modcod, frame, pilots)
    n_packets = -(-(p.data_field_bits // 8) * N_FRAMES // 188) + 1
    ts = random_ts_packets(n_packets, seed=11)
    g = _grdtv_stages(modcod, frame, pilots, rolloff, gold_code, ts)
    assert g["physical"].size == N_FRAMES * p.plframe_symbols

    tx = Transmitter(frame, pilots, rolloff, sps=2, gold_code=gold_code)
    tx.push(ts)
    for f in range(N_FRAMES):
        kb, nl, ns, npl = p.k_bch, p.n_ldpc, p.data_symbols, p.plframe_symbols
        # stage 1: BBHEADER + data field + BB scrambling
        bb = tx.bbframe(modcod)
        np.testing.assert_array_equal(bb_scramble(bb)[:80], g["bbheader"][f * kb : f * kb + 80], "BBHEADER")
        np.testing.assert_array_equal(bb, g["bbscrambler"][f * kb : (f + 1) * kb], "scrambled BBFRAME")
        # stage 2: interleaving + mapping of gr-dtv's own LDPC codeword
        cw = g["ldpc"][f * nl : (f + 1) * nl].astype(np.uint8)
        np.testing.assert_array_equal(codeword_to_xfec(cw, p), g["modulator"][f * ns : (f + 1) * ns], "mapping")
        # stage 3: PL framing of gr-dtv's own XFECFRAME
        xfec = g["modulator"][f * ns : (f + 1) * ns]
        np.testing.assert_array_equal(
            PL.plframe(xfec, modcod, frame, pilots, gold_code), g["physical"][f * npl : (f + 1) * npl], "PL framing"
        )
    # whole chain (with linksim's BCH and LDPC encoders)
    tx2 = Transmitter(frame, pilots, rolloff, sps=2, gold_code=gold_code)
    tx2.push(ts)
    ours = np.concatenate([tx2.frame_symbols(modcod) for _ in range(N_FRAMES)])
    assert ours.dtype == np.complex64
    np.testing.assert_array_equal(ours, g["physical"], "PLFRAME symbols")


@pytest.mark.parametrize("rolloff", [0.35, 0.25, 0.20])
def test_rrc_taps_equal_gnuradio_firdes(gr, rolloff):
    from gnuradio import filter as grfilter

    for sps in (2, 4):
        ours = rrc_taps(rolloff, sps, 20)
        theirs = np.asarray(grfilter.firdes.root_raised_cosine(1.0, float(sps), 1.0, rolloff, 20 * sps + 1))
        theirs = theirs / np.sqrt(np.sum(theirs**2))
        np.testing.assert_allclose(ours, theirs, atol=2e-6)


def _decode_noiseless(symbols, frame, pilots, gold_code):
    """Read PLFRAMEs back (noiseless): PLS code by correlation, then the systematic BBFRAME bits."""
    out, pos = [], 0
    cw_all = PL.plsc_codewords()
    while pos < symbols.size:
        hdr = symbols[pos : pos + 90]
        np.testing.assert_allclose(hdr[:26], PL.sof_symbols(), atol=1e-6)
        pls = int(np.argmax(np.real(cw_all.conj() @ hdr[26:])))
        n = PL.plframe_length(pls)
        if pls >> 2 == 0:
            out.append((None, None))
            pos += n
            continue
        modcod = MODCOD_NAMES[pls >> 2]
        assert bool(pls & 2) == (frame == "short") and bool(pls & 1) == pilots
        p = frame_params(modcod, frame, pilots)
        data = PL.remove_pilots(PL.descramble(symbols[pos + 90 : pos + n], gold_code), p.data_symbols, pilots)
        pts = for_modcod(modcod).points
        labels = np.argmin(np.abs(data[:, None] - pts[None, :]), axis=1)
        cw = deinterleave_bits(labels, p.constellation, p.rate)
        out.append((modcod, bb_scramble(cw[: p.k_bch])))
        pos += n
    return out


def test_vcm_stream_continuity_and_modulate():
    """MODCOD changing every frame (with a dummy frame in between): every frame says its own MODCOD, the TS
    stream carries on across frames, and modulate() equals the RRC of the concatenated PLFRAMEs."""
    sched = ["QPSK 1/2", "32APSK 9/10", None, "8PSK 3/5", "16APSK 3/4", "QPSK 1/4"]
    ts = random_ts_packets(700, seed=4)
    tx = Transmitter("normal", True, 0.25, sps=4, gold_code=9)
    tx.push(ts)
    syms = np.concatenate([tx.frame_symbols(m) for m in sched])
    frames = _decode_noiseless(syms, "normal", True, 9)
    assert [m for m, _ in frames] == sched
    stream = []
    for (m, bb), expect in zip(frames, sched, strict=True):
        if expect is None:
            continue
        h = parse_bbheader(bb)
        assert h.crc_ok and h.dfl_bits == frame_params(m).data_field_bits and h.rolloff == 0.25
        sent = sum(len(s) for s in stream)
        assert h.syncd_bits == (0 if sent % 188 == 0 else (188 - sent % 188) * 8)
        stream.append(np.packbits(bb[80 : 80 + h.dfl_bits]))
    data = np.concatenate(stream)
    n = data.size // 188
    ref = np.frombuffer(ts, dtype=np.uint8)[: n * 188].reshape(n, 188)
    np.testing.assert_array_equal(data[: n * 188].reshape(n, 188)[:, 1:], ref[:, 1:])

    tx_a = Transmitter("normal", True, 0.25, sps=4, gold_code=9)
    tx_b = Transmitter("normal", True, 0.25, sps=4, gold_code=9)
    tx_a.push(ts)
    whole = tx_a.modulate([(m, None) for m in sched])
    parts = np.concatenate([tx_b.modulate([(m, ts if i == 0 else None)]) for i, m in enumerate(sched)])
    assert whole.size == syms.size * 4
    np.testing.assert_allclose(parts, whole, atol=1e-6)


def test_random_ts_frames_is_seeded():
    a, ts_a = random_ts_frames(Transmitter("short", False), "8PSK 2/3", 3, seed=5)
    b, ts_b = random_ts_frames(Transmitter("short", False), "8PSK 2/3", 3, seed=5)
    c, _ = random_ts_frames(Transmitter("short", False), "8PSK 2/3", 3, seed=6)
    assert ts_a == ts_b and len(a) == 3
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
