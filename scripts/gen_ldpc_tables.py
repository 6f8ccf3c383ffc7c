#!/usr/bin/env python3
"""Re-derive the DVB-S2 LDPC parity-bit accumulator address tables (EN 302 307-1 Annex B and C) from gr-dtv.

LDPC encoding is linear, and DVB-S2's parity bits are a running XOR (accumulator) of the parity-address
indicator. Feeding gr-dtv's `dvb_ldpc_bb` one frame per 360-bit information group, with only the first bit of
that group set, and differencing the parity output gives that group's addresses (the other 359 bits of the
group follow by the q offset). Writes linksim/data/ldpc/dvbs2_<frame>_<rate>.txt: one line per group, the
addresses in increasing order, as in the standard's annex.

Usage: /work/main/.venv/bin/python scripts/gen_ldpc_tables.py   (needs GNU Radio with gr-dtv)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from linksim.dvbs2.params import _BCH_NORMAL, _BCH_SHORT, N_LDPC  # noqa: E402

OUT = ROOT / "linksim" / "data" / "ldpc"


def gr_ldpc_encode(bits: np.ndarray, frame: str, rate: str) -> np.ndarray:
    """Encode rows of k_ldpc bits with gr-dtv's dvb_ldpc_bb (DVB-S2, MOD_OTHER); returns rows of n_ldpc bits."""
    from gnuradio import blocks, dtv, gr

    fs = dtv.FECFRAME_NORMAL if frame == "normal" else dtv.FECFRAME_SHORT
    cr = getattr(dtv, "C" + rate.replace("/", "_"))
    n = N_LDPC[frame]
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        fin, fout = Path(tmp) / "in.u8", Path(tmp) / "out.u8"
        bits.tofile(fin)
        tb = gr.top_block()
        src = blocks.file_source(1, str(fin), False)
        enc = dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER)
        snk = blocks.file_sink(1, str(fout))
        tb.connect(src, enc, snk)
        tb.run()
        del tb
        out = np.fromfile(fout, dtype=np.uint8)
    return out.reshape(-1, n)


def derive_table(frame: str, rate: str) -> list[list[int]]:
    k = (_BCH_NORMAL if frame == "normal" else _BCH_SHORT)[rate][1]
    n = N_LDPC[frame]
    groups = k // 360
    unit = np.zeros((groups, k), dtype=np.uint8)
    unit[np.arange(groups), np.arange(groups) * 360] = 1
    code = gr_ldpc_encode(unit, frame, rate)
    assert code.shape == (groups, n), code.shape
    assert np.array_equal(code[:, :k], unit), "gr-dtv output is not systematic"
    parity = code[:, k:]
    indicator = parity.copy()
    indicator[:, 1:] ^= parity[:, :-1]
    return [np.flatnonzero(row).tolist() for row in indicator]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for frame, table in (("normal", _BCH_NORMAL), ("short", _BCH_SHORT)):
        for rate in table:
            rows = derive_table(frame, rate)
            path = OUT / f"dvbs2_{frame}_{rate.replace('/', '_')}.txt"
            header = (f"# DVB-S2 LDPC parity address table, {frame} frame, nominal rate {rate} "
                      f"(EN 302 307-1 Annex {'B' if frame == 'normal' else 'C'}); "
                      "derived from gr-dtv by scripts/gen_ldpc_tables.py\n")
            path.write_text(header + "".join(" ".join(map(str, r)) + "\n" for r in rows))
            print(f"{path.relative_to(ROOT)}: {len(rows)} groups, {sum(map(len, rows))} addresses")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
