"""Reference DVB-S2 transmitter built from GNU Radio's gr-dtv blocks (test helper, needs GNU Radio).

gr-dtv is an outside implementation of ETSI EN 302 307-1: the receiver must decode its output.
"""

from __future__ import annotations

import numpy as np

from linksim.dvbs2.vlsnr import GRDTV_NAMES as VLSNR  # gr-dtv's names of the VL-SNR MODCODs

_RATES = {
    "1/4": "C1_4", "1/3": "C1_3", "2/5": "C2_5", "1/2": "C1_2", "3/5": "C3_5", "2/3": "C2_3",
    "3/4": "C3_4", "4/5": "C4_5", "5/6": "C5_6", "8/9": "C8_9", "9/10": "C9_10",
}
_CONST = {"QPSK": "MOD_QPSK", "8PSK": "MOD_8PSK", "16APSK": "MOD_16APSK", "32APSK": "MOD_32APSK"}
_ROLLOFF = {0.35: "RO_0_35", 0.25: "RO_0_25", 0.20: "RO_0_20"}


def ts_packets(n_packets: int, seed: int = 1) -> bytes:
    """n_packets random 188-byte MPEG-TS packets (sync byte 0x47, then random bytes)."""
    rng = np.random.default_rng(seed)
    pk = rng.integers(0, 256, size=(n_packets, 188), dtype=np.uint8)
    pk[:, 0] = 0x47
    return pk.tobytes()


def grdtv_symbols(modcod: str, ts: bytes, frame: str = "normal", pilots: bool = True, gold_code: int = 0,
                  rolloff: float = 0.2) -> np.ndarray:
    """PLFRAME symbols (1 sample per symbol, complex64) of gr-dtv's DVB-S2 chain for the TS bytes given (a VL-SNR
    MODCOD of `VLSNR`: gr-dtv's DVB-S2X VL-SNR chain, frame size and pilots set by the MODCOD)."""
    from gnuradio import blocks, dtv, gr

    if modcod in VLSNR:
        fs, cr, co = (getattr(dtv, x) for x in VLSNR[modcod])
        pilots = True
    else:
        const, rate = modcod.split()
        fs = dtv.FECFRAME_NORMAL if frame == "normal" else dtv.FECFRAME_SHORT
        cr = getattr(dtv, _RATES[rate])
        co = getattr(dtv, _CONST[const])
    ro = getattr(dtv, _ROLLOFF[round(rolloff, 2)])
    tb = gr.top_block()
    src = blocks.vector_source_b(list(ts), False)
    bbh = dtv.dvb_bbheader_bb(dtv.STANDARD_DVBS2, fs, cr, ro, dtv.INPUTMODE_NORMAL, dtv.INBAND_OFF, 168, 4000000)
    bbs = dtv.dvb_bbscrambler_bb(dtv.STANDARD_DVBS2, fs, cr)
    bch = dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, cr)
    ldpc = dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER)
    il = dtv.dvbs2_interleaver_bb(fs, cr, co)
    mod = dtv.dvbs2_modulator_bc(fs, cr, co, dtv.INTERPOLATION_OFF)
    pl = dtv.dvbs2_physical_cc(fs, cr, co, dtv.PILOTS_ON if pilots else dtv.PILOTS_OFF, gold_code)
    snk = blocks.vector_sink_c()
    tb.connect(src, bbh, bbs, bch, ldpc, il, mod, pl, snk)
    tb.run()
    out = np.asarray(snk.data(), dtype=np.complex64)
    # gr-dtv 3.10's physical layer framer zero-stuffs its output to 2 samples per symbol
    if out.size and not np.any(out[1::2]):
        out = out[0::2]
    return out


def grdtv_samples(modcod: str, ts: bytes, sps: int = 2, rolloff: float = 0.2, frame: str = "normal",
                  pilots: bool = True, gold_code: int = 0) -> np.ndarray:
    """gr-dtv PLFRAME symbols shaped by GNU Radio's RRC interpolating FIR (sps samples per symbol, unit mean power
    per sample for unit-energy symbols); the filter is flushed so the last frame is complete."""
    from gnuradio import blocks, filter, gr

    sym = grdtv_symbols(modcod, ts, frame=frame, pilots=pilots, gold_code=gold_code, rolloff=rolloff)
    ntaps = 20 * sps + 1
    taps = np.asarray(filter.firdes.root_raised_cosine(1.0, float(sps), 1.0, rolloff, ntaps))
    taps = taps / np.sqrt(np.sum(taps**2)) * np.sqrt(sps)  # unit-energy pulse, sqrt(sps) gain
    tb = gr.top_block()
    src = blocks.vector_source_c(np.concatenate([sym, np.zeros(ntaps // sps + 1)]).tolist(), False)
    fir = filter.interp_fir_filter_ccf(sps, taps.tolist())
    snk = blocks.vector_sink_c()
    tb.connect(src, fir, snk)
    tb.run()
    return np.asarray(snk.data(), dtype=np.complex64)
