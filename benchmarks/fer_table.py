"""DVB-S2 receiver FER against ETSI EN 302 307-1 Table 13 (normal frames, pilots on, AWGN), all 28 MODCODs.

For every MODCOD (threshold T from Table 13):
- genie sync at T + 0.3 dB: FER must be <= 1e-2;
- full sync at T + 1.0 dB with a carrier offset of 1 % of the symbol rate and a 0.37-sample timing offset:
  FER <= 1e-2 (for T < 1 dB, if it fails there, the Es/N0 is raised in 0.5 dB steps to find where it holds);
- genie sync at T - 0.5 dB: FER must be >= 0.5 (a decoder that cannot fail is not a decoder).

A frame is an error unless the receiver accepts it AND its data equal what was sent (linksim.dvbs2.link): the
"undetected" column counts frames the receiver accepted with wrong data (genie/full/below), already inside the
error counts.

Prints a markdown table (and writes it with --out). The reference is Table 13 itself (the Es/N0 column is the
DVB-S2 quasi-error-free threshold, FER about 1e-7 after BCH with ideal decoding, 50 iterations).

With --vlsnr, the 9 DVB-S2X VL-SNR MODCODs (EN 302 307-2) against their ideal Es/N0 T, with the criteria of their
acceptance: genie at T + 0.5 dB FER <= 1e-2, full sync at T + 1 dB (CFO 1 %, timing offset 0.37 sample) FER <=
1e-2 (the Es/N0 is never raised), genie at T - 0.5 dB FER >= 0.5:

    .venv/bin/python benchmarks/fer_table.py --vlsnr --frames 200 --frames-full 100 --frames-below 100 --jobs 2

    .venv/bin/python benchmarks/fer_table.py --frames 200 --frames-full 100 --frames-below 40 --jobs 2 --out /tmp/fer.md

(--out writes the table alone: copy it into docs/dvbs2-fer.md by hand, that file holds more than the table.)
--max-iter defaults to the receiver's LDPC effort (RX_LDPC_ITERATIONS, 25: Table 13's, see docs/ldpc.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.dvbs2.link import LinkResult, run_link  # noqa: E402
from linksim.dvbs2.params import RX_LDPC_ITERATIONS  # noqa: E402
from linksim.scenario import modcods  # noqa: E402


def _one(args: tuple) -> dict:
    name, frames, frames_full, frames_below, seed, demapper, max_iter, genie_db = args
    thr = modcods.get(name).esn0_qef_db
    vlsnr = modcods.get(name).vlsnr
    t0 = time.perf_counter()
    nan = float("nan")
    skipped = LinkResult(name, nan, "-", 0, 0, 0, 0, 0, nan, nan, 0.0, 0, nan)
    g = (run_link(name, thr + genie_db, frames=frames, sync="genie", seed=seed, demapper=demapper, max_iter=max_iter)
         if frames else skipped)
    full_esn0 = thr + 1.0
    f = skipped
    if frames_full:
        f = run_link(name, full_esn0, frames=frames_full, sync="full", cfo_hz=10e3, symbol_rate_baud=1e6,
                     timing_offset_samples=0.37, seed=seed + 1, demapper=demapper, max_iter=max_iter)
        while f.fer > 1e-2 and thr < 1.0 and full_esn0 < thr + 3.0 and not vlsnr:
            full_esn0 += 0.5
            f = run_link(name, full_esn0, frames=frames_full, sync="full", cfo_hz=10e3, symbol_rate_baud=1e6,
                         timing_offset_samples=0.37, seed=seed + 1, demapper=demapper, max_iter=max_iter)
    b = (run_link(name, thr - 0.5, frames=frames_below, sync="genie", seed=seed + 2, demapper=demapper,
                  max_iter=max_iter) if frames_below else skipped)
    return {
        "modcod": name, "table13_db": thr,
        "genie_esn0_db": thr + genie_db, "genie_frames": g.frames, "genie_errors": g.frame_errors, "genie_fer": g.fer,
        "genie_est_db": g.esn0_est_db, "genie_iter": g.mean_ldpc_iterations,
        "full_esn0_db": full_esn0, "full_frames": f.frames, "full_errors": f.frame_errors, "full_fer": f.fer,
        "full_missed": f.missed, "full_est_db": f.esn0_est_db,
        "below_esn0_db": thr - 0.5, "below_frames": b.frames, "below_errors": b.frame_errors, "below_fer": b.fer,
        "undetected": f"{g.undetected_errors}/{f.undetected_errors}/{b.undetected_errors}",
        "seconds": time.perf_counter() - t0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100, help="frames per MODCOD, genie at T + 0.3 dB (100)")
    ap.add_argument("--frames-full", type=int, default=50, help="frames per MODCOD, full sync at T + 1 dB (50)")
    ap.add_argument("--frames-below", type=int, default=20, help="frames per MODCOD at T - 0.5 dB (20)")
    ap.add_argument("--modcods", default="", help="comma-separated subset (default: all 28)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (1)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (1)")
    ap.add_argument("--demapper", choices=["exact", "maxlog"], default="maxlog", help="receiver demapper (maxlog)")
    ap.add_argument("--max-iter", type=int, default=RX_LDPC_ITERATIONS,
                    help=f"LDPC iteration limit ({RX_LDPC_ITERATIONS}, the receiver's)")
    ap.add_argument("--vlsnr", action="store_true",
                    help="the 9 DVB-S2X VL-SNR MODCODs, genie at T + 0.5 dB (their acceptance), never raised")
    ap.add_argument("--out", help="write the markdown table to this file")
    args = ap.parse_args()
    table = modcods.vlsnr_table() if args.vlsnr else modcods.table13()
    names = [m.strip() for m in args.modcods.split(",") if m.strip()] or [m.name for m in table]
    genie_db = 0.5 if args.vlsnr else 0.3
    work = [(n, args.frames, args.frames_full, args.frames_below, args.seed + 10 * i, args.demapper, args.max_iter,
             genie_db) for i, n in enumerate(names)]
    t0 = time.perf_counter()
    rows = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as ex:
            for r in ex.map(_one, work):
                rows.append(r)
                print(f"{r['modcod']}: done in {r['seconds']:.0f} s", file=sys.stderr, flush=True)
    else:
        for w in work:
            r = _one(w)
            rows.append(r)
            print(f"{r['modcod']}: done in {r['seconds']:.0f} s", file=sys.stderr, flush=True)
    ref = "ideal (EN 302 307-2)" if args.vlsnr else "Table 13"
    lines = [
        f"| MODCOD | {ref} Es/N0 dB | genie T{genie_db:+.1f}: errors/frames (FER) | est. Es/N0 | LDPC it. "
        "| full sync, CFO 1 %: Es/N0 | errors/frames (FER) | T-0.5: errors/frames (FER) | undetected | pass |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    all_pass = True
    for r in rows:
        ok = ((not r["genie_frames"] or r["genie_fer"] <= 1e-2) and (not r["below_frames"] or r["below_fer"] >= 0.5)
              and (not r["full_frames"] or (r["full_fer"] <= 1e-2 and (
                  r["full_esn0_db"] <= r["table13_db"] + 1.0 + 1e-9 or r["table13_db"] < 1.0))))
        all_pass &= ok
        lines.append(
            f"| {r['modcod']} | {r['table13_db']:.2f} | {r['genie_errors']}/{r['genie_frames']} "
            f"({r['genie_fer']:.3f}) | {r['genie_est_db']:.2f} | {r['genie_iter']:.1f} "
            f"| {r['full_esn0_db']:.2f} (T{r['full_esn0_db'] - r['table13_db']:+.1f}) "
            f"| {r['full_errors']}/{r['full_frames']} ({r['full_fer']:.3f}) "
            f"| {r['below_errors']}/{r['below_frames']} ({r['below_fer']:.2f}) | {r['undetected']} "
            f"| {'yes' if ok else 'NO'} |"
        )
    cmd = "python benchmarks/fer_table.py " + " ".join(sys.argv[1:])
    text = "\n".join(lines) + (
        f"\n\nMeasured with `{cmd}` in {time.perf_counter() - t0:.0f} s; "
        f"{'all rows pass' if all_pass else 'some rows FAIL'}.\n"
    )
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
