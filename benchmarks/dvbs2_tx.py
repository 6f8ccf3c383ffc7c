"""DVB-S2 transmitter throughput, one core, every MODCOD: linksim vs GNU Radio's gr-dtv chain.

linksim: Transmitter.frame_symbols (BBFRAME, BCH, LDPC, interleaver, mapping, PL framing) + stateful RRC
interpolator. Reference: gr-dtv dvb_bbheader_bb -> ... -> dvbs2_physical_cc -> interp_fir_filter_ccf (RRC, same
span) on the same TS packets, flowgraph construction excluded. Both pinned to one CPU.
Also the soft demapper (exact log-MAP and max-log) in symbols per second, at Table 13 Es/N0 + 1 dB.

Run: .venv/bin/python benchmarks/dvbs2_tx.py [--frames N] [--modcod "8PSK 3/4" ...] [--sps 2]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from linksim.dvbs2.constellations import for_modcod, llrs
from linksim.dvbs2.params import MODCOD_NUMBERS, frame_params
from linksim.dvbs2.rrc import DEFAULT_SPAN_SYMBOLS, rrc_taps
from linksim.dvbs2.tx import Transmitter, random_ts_packets
from linksim.scenario import modcods


def ours(modcod: str, ts: bytes, n_frames: int, sps: int) -> float:
    """Seconds to make n_frames PLFRAMEs and their samples (after a warm-up frame)."""
    tx = Transmitter("normal", True, 0.2, sps)
    tx.push(ts)
    tx.shape(tx.frame_symbols(modcod))  # warm-up (JIT caches, tables)
    t0 = time.perf_counter()
    for _ in range(n_frames):
        tx.shape(tx.frame_symbols(modcod))
    return time.perf_counter() - t0


def grdtv(modcod: str, ts: bytes, sps: int) -> tuple[float, int]:
    """Seconds for gr-dtv's chain + GNU Radio RRC interpolator on `ts`, and the symbols it produced."""
    from gnuradio import blocks, dtv, gr
    from gnuradio import filter as grfilter

    const, rate = modcod.split()
    cr = getattr(dtv, "C" + rate.replace("/", "_"))
    fs = dtv.FECFRAME_NORMAL
    co = getattr(dtv, "MOD_" + const)
    tb = gr.top_block()
    chain = [
        blocks.vector_source_b(np.frombuffer(ts, dtype=np.uint8).tolist(), False),
        dtv.dvb_bbheader_bb(
            dtv.STANDARD_DVBS2, fs, cr, dtv.RO_0_20, dtv.INPUTMODE_NORMAL, dtv.INBAND_OFF, 168, 4000000
        ),
        dtv.dvb_bbscrambler_bb(dtv.STANDARD_DVBS2, fs, cr),
        dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, cr),
        dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER),
        dtv.dvbs2_interleaver_bb(fs, cr, co),
        dtv.dvbs2_modulator_bc(fs, cr, co, dtv.INTERPOLATION_OFF),
        dtv.dvbs2_physical_cc(fs, cr, co, dtv.PILOTS_ON, 0),
        blocks.keep_one_in_n(gr.sizeof_gr_complex, 2),  # gr-dtv 3.10 zero-stuffs: take the symbols
        grfilter.interp_fir_filter_ccf(sps, (rrc_taps(0.2, sps, DEFAULT_SPAN_SYMBOLS) * np.sqrt(sps)).tolist()),
    ]
    cnt = blocks.probe_rate(gr.sizeof_gr_complex)
    snk = blocks.null_sink(gr.sizeof_gr_complex)
    tb.connect(*chain, snk)
    tb.connect(chain[-2], cnt)
    head = blocks.vector_sink_c()
    tb.connect(chain[-2], head)
    t0 = time.perf_counter()
    tb.run()
    return time.perf_counter() - t0, len(head.data())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=6, help="normal PLFRAMEs per MODCOD (6)")
    ap.add_argument("--modcod", action="append", help="MODCOD(s) to run (default: all 28)")
    ap.add_argument("--sps", type=int, default=2)
    ap.add_argument("--no-gr", action="store_true", help="skip the gr-dtv reference")
    args = ap.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core for both
    mods = args.modcod or list(MODCOD_NUMBERS)
    print(
        f"DVB-S2 TX, normal frames, pilots on, roll-off 0.2, sps {args.sps}, {args.frames} frames per MODCOD,"
        f" one core (RRC span {DEFAULT_SPAN_SYMBOLS} symbols)"
    )
    print(
        f"{'MODCOD':<12} {'linksim Msym/s':>15} {'gr-dtv Msym/s':>14} {'ratio':>7} {'demap exact':>12}"
        f" {'demap maxlog':>13}   (demapper in Msym/s)"
    )
    worst = None
    rng = np.random.default_rng(0)
    for m in mods:
        p = frame_params(m)
        n_bytes = (p.data_field_bits // 8) * (args.frames + 1)
        ts = random_ts_packets(-(-n_bytes // 188) + 1, seed=1)
        t = ours(m, ts, args.frames, args.sps)
        rate = args.frames * p.plframe_symbols / t / 1e6
        worst = rate if worst is None else min(worst, rate)
        if args.no_gr:
            g_txt, r_txt = "-", "-"
        else:
            tg, n_sym = grdtv(m, ts, args.sps)
            g_rate = n_sym / tg / 1e6
            g_txt, r_txt = f"{g_rate:.2f}", f"{rate / g_rate:.2f}"
        const = for_modcod(m)
        nv = 10 ** (-(modcods.get(m).esn0_qef_db + 1.0) / 10)  # Table 13 + 1 dB
        noise = np.sqrt(nv / 2) * (rng.standard_normal(200000) + 1j * rng.standard_normal(200000))
        y = (const.points[rng.integers(0, const.points.size, 200000)] + noise).astype(np.complex64)
        llrs(y[:10], const, nv)
        llrs(y[:10], const, nv, maxlog=True)
        t0 = time.perf_counter()
        llrs(y, const, nv)
        t1 = time.perf_counter()
        llrs(y, const, nv, maxlog=True)
        t2 = time.perf_counter()
        print(
            f"{m:<12} {rate:>15.2f} {g_txt:>14} {r_txt:>7} {y.size / (t1 - t0) / 1e6:>12.2f}"
            f" {y.size / (t2 - t1) / 1e6:>13.2f}",
            flush=True,
        )
    print(f"slowest linksim TX: {worst:.2f} Msym/s (real-time target 1 Msym/s)")


if __name__ == "__main__":
    main()
