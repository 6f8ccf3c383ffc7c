#!/usr/bin/env python3
"""Extract the DVB-S2X VL-SNR tables (ETSI EN 302 307-2) from GNU Radio's gr-dtv sources into linksim's data files.

gr-dtv holds the standard's tables as C arrays; its author verified the VL-SNR chain against the DVB-S2X test
vectors (GNU Radio commit 4db48fe, 2021). This script reads the facts only (numbers), never code:
- the LDPC parity-bit accumulator address tables of the VL-SNR mother codes (EN 302 307-2 Annex B/C style:
  one row per 360-bit information group) from gr-dtv/lib/dvb/dvb_ldpc_bb_impl.cc: normal 2/9, medium (32400)
  1/5, 11/45 and 1/3, short 11/45 and 4/15 -> linksim/data/ldpc/dvbs2x_<frame>_<rate>.txt (addresses sorted);
- the 16 VL-SNR header sequences (896 bits each, before the 2 + 2 padding bits) from
  gr-dtv/lib/dvbs2/dvbs2_physical_cc_impl.cc -> linksim/data/dvbs2x_vlsnr_headers.txt (one row of 224 hex digits
  per header index, MSB first).

Usage: python scripts/gen_vlsnr_tables.py GNURADIO_SOURCE_DIR   (a GNU Radio source tree with gr-dtv/lib)

The resulting files are checked in; tests check the codes against stock gr-dtv's encoder and framer (bit for bit).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_LDPC = ROOT / "linksim" / "data" / "ldpc"
OUT_HEADERS = ROOT / "linksim" / "data" / "dvbs2x_vlsnr_headers.txt"

# (linksim frame, rate) -> gr-dtv table name
LDPC_TABLES = {
    ("normal", "2/9"): "ldpc_tab_2_9N",
    ("medium", "1/5"): "ldpc_tab_1_5M",
    ("medium", "11/45"): "ldpc_tab_11_45M",
    ("medium", "1/3"): "ldpc_tab_1_3M",
    ("short", "11/45"): "ldpc_tab_11_45S",
    ("short", "4/15"): "ldpc_tab_4_15S",
}


def _array_body(text: str, name: str) -> str:
    """The text between the outer braces of `... name[..][..] = { ... };`."""
    m = re.search(re.escape(name) + r"\s*\[\d+\]\s*\[\d+\]\s*=\s*\{", text)
    if m is None:
        raise SystemExit(f"table {name} not found")
    i = m.end()
    depth = 1
    j = i
    while depth:
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        j += 1
    return text[i : j - 1]


def _rows(body: str) -> list[list[int]]:
    return [[int(x) for x in r.replace("\n", " ").split(",") if x.strip()] for r in re.findall(r"\{([^}]*)\}", body)]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    src = Path(argv[1]) / "gr-dtv" / "lib"
    ldpc_cc = (src / "dvb" / "dvb_ldpc_bb_impl.cc").read_text()
    phy_cc = (src / "dvbs2" / "dvbs2_physical_cc_impl.cc").read_text()
    OUT_LDPC.mkdir(parents=True, exist_ok=True)
    for (frame, rate), name in LDPC_TABLES.items():
        rows = _rows(_array_body(ldpc_cc, name))
        addr = [sorted(r[1 : 1 + r[0]]) for r in rows]  # first entry: how many addresses follow
        path = OUT_LDPC / f"dvbs2x_{frame}_{rate.replace('/', '_')}.txt"
        path.write_text(f"# DVB-S2X LDPC parity address table, {frame} frame, rate {rate} (ETSI EN 302 307-2, VL-SNR "
                        f"mother code); from gr-dtv {name} by scripts/gen_vlsnr_tables.py\n"
                        + "".join(" ".join(map(str, r)) + "\n" for r in addr))
        print(f"{path.relative_to(ROOT)}: {len(addr)} groups, {sum(map(len, addr))} addresses")
    seq = _rows(_array_body(phy_cc, "ph_vlsnr_seq"))
    if len(seq) != 16 or any(len(r) != 896 for r in seq):
        raise SystemExit("unexpected VL-SNR header table shape")
    lines = ["".join(f"{int(''.join(map(str, r[i : i + 4])), 2):x}" for i in range(0, 896, 4)) for r in seq]
    OUT_HEADERS.write_text("# DVB-S2X VL-SNR header sequences (ETSI EN 302 307-2), 896 bits per header index 0..15, "
                           "hex, MSB first; from gr-dtv ph_vlsnr_seq by scripts/gen_vlsnr_tables.py\n"
                           + "".join(ln + "\n" for ln in lines))
    print(f"{OUT_HEADERS.relative_to(ROOT)}: 16 headers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
