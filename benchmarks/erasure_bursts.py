"""What erasures cost the DVB-S2 LDPC code depending on how they fall: random bits against bursts (a blanked pulse
erases consecutive code bits: QPSK has no bit interleaver).

    .venv/bin/python benchmarks/erasure_bursts.py [--frames 8] [--rate 1/2]

Ideal LLRs (antipodal bits in AWGN at the Es/N0 of QPSK, LLR = 2 y / sigma^2), 10 % of the 64800 code bits set to
zero as: none, random bits, bursts of 2 bits every 20, 20 every 200, 200 every 2000 (10 us and 100 us pulses at 10 %
duty at 1 Msym/s are 20- and 200-bit bursts); the receiver's LDPC decoder with its default 25 layered iterations.
Printed: frames decoded of --frames at each Es/N0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linksim.dvbs2.ldpc import ldpc_decode, ldpc_encode  # noqa: E402
from linksim.dvbs2.params import RX_LDPC_ITERATIONS, frame_params  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--rate", default="1/2")
    ap.add_argument("--esn0", default="1.5,2,3,4,5", help="Es/N0 values, dB (comma list)")
    a = ap.parse_args(argv)
    p = frame_params(f"QPSK {a.rate}", "normal", True)
    n, k = p.n_ldpc, p.k_ldpc
    idx = np.arange(n)
    rng = np.random.default_rng(1)
    pats = {"none": np.zeros(n, bool), "random 10 %": rng.random(n) < 0.1, "2 of 20": (idx % 20) < 2,
            "20 of 200": (idx % 200) < 20, "200 of 2000": (idx % 2000) < 200}
    esn0s = [float(v) for v in a.esn0.split(",")]
    print(f"QPSK {a.rate}, normal frames, {a.frames} frames per cell, {RX_LDPC_ITERATIONS} layered iterations")
    print("| erasures | " + " | ".join(f"{e:g} dB" for e in esn0s) + " |")
    print("|---|" + "---|" * len(esn0s))
    for name, z in pats.items():
        cells = []
        for es in esn0s:
            ok = 0
            for _ in range(a.frames):
                info = rng.integers(0, 2, k).astype(np.uint8)
                cw = ldpc_encode(info, "normal", a.rate).reshape(-1)
                sigma2 = 1.0 / (2.0 * 10 ** (es / 10))
                y = 1.0 - 2.0 * cw + rng.standard_normal(n) * np.sqrt(sigma2)
                llr = (2.0 * y / sigma2).astype(np.float32)
                llr[z] = 0.0
                r = ldpc_decode(llr, "normal", a.rate, max_iter=RX_LDPC_ITERATIONS)
                ok += int(np.asarray(r.ok).reshape(-1)[0])
            cells.append(f"{ok}/{a.frames}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
