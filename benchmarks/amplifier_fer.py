"""16APSK 3/4 and 32APSK 4/5 through the Saleh TWTA: FER against Es/N0 at input back-offs 0, 3 and 6 dB and in a
linear channel, the required Es/N0 measured with the DVB-S2 receiver, and the budget's predicted degradation
(linksim.budget.distortion) beside the measured one.

The chain: DVB-S2 TX (normal frames, pilots, roll-off 0.2, 2 samples per symbol) -> linksim.channel.amplifier
(Saleh's TWT fit, oversampled x4 inside, IBO of the TX's mean power) -> AWGN -> DVB-S2 RX (full sync, max-log,
25 layered LDPC iterations). Es/N0 is referred to the amplifier's total mean output power, as the budget's
downlink Es/N0 is (the EIRP the carrier gets is the saturated EIRP less the output back-off): the degradation is
the extra Es/N0 the MODCOD needs at that operating point, and OBO + degradation is the total degradation.

Required Es/N0: scanning up in 0.1 dB steps from 0.5 dB below the prediction, where the FER over --frames frames
crosses 0.1 (linear in FER between the two points around it); "never" if it still fails 3 dB past the prediction,
or, in 0.5 dB steps, at 20 dB when the prediction says it never closes. Prints a markdown table.

    .venv/bin/python benchmarks/amplifier_fer.py --frames 40 --jobs 2
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linksim.budget import distortion  # noqa: E402
from linksim.budget import transponder as tp  # noqa: E402
from linksim.channel.amplifier import Amplifier  # noqa: E402
from linksim.dvbs2.link import run_link  # noqa: E402
from linksim.scenario import modcods  # noqa: E402

MODCODS = ("16APSK 3/4", "32APSK 4/5")
IBOS = (None, 0.0, 3.0, 6.0)  # None: linear channel


def _fer(mod: str, ibo: float | None, esn0_db: float, frames: int, seed: int) -> tuple[float, float]:
    if ibo is None:
        r = run_link(mod, esn0_db, frames=frames, sync="full", seed=seed)
    else:
        op = distortion.operating_point(tp.Saleh(), mod, ibo)
        amp = Amplifier(tp.Saleh(), ibo, 1.0, 2.0, output_scale=10 ** (op.obo_db / 20))
        r = run_link(mod, esn0_db, frames=frames, sync="full", seed=seed, transform=amp.process,
                     transform_latency_samples=amp.latency_samples)
    return r.fer, r.esn0_est_db


def _case(args: tuple) -> dict:
    mod, ibo, frames, seed = args
    t = modcods.get(mod).esn0_qef_db
    op = distortion.operating_point(tp.Saleh(), mod, ibo) if ibo is not None else None
    pred = 0.0 if op is None else op.degradation_db
    t0 = time.process_time()
    curve = []
    start = t - 0.5 + (pred if math.isfinite(pred) else 3.0)
    stop = (t + pred + 3.0) if math.isfinite(pred) else 20.0
    e, need = round(start, 1), math.inf
    while e <= stop + 1e-9:
        fer, est = _fer(mod, ibo, e, frames, seed)
        curve.append((e, fer, est))
        if fer <= 0.1:
            # the FER = 0.1 crossing, linear in FER between this point and the one below it
            if len(curve) > 1:
                e0, f0, _ = curve[-2]
                need = e0 + (e - e0) * (f0 - 0.1) / (f0 - fer)
            else:
                need = e
            break
        e = round(e + (0.1 if math.isfinite(pred) else 0.5), 1)
    return {"modcod": mod, "ibo": ibo, "obo": None if op is None else op.obo_db, "pred": pred, "need": need,
            "curve": curve, "cpu_s": time.process_time() - t0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    cases = [(m, i, a.frames, a.seed) for m in MODCODS for i in IBOS]
    with ProcessPoolExecutor(a.jobs) as ex:
        res = list(ex.map(_case, cases))
    lin = {r["modcod"]: r["need"] for r in res if r["ibo"] is None}
    print(f"frames per point {a.frames}; FER <= 0.1 defines the required Es/N0 (referred to the total output power)")
    print()
    print("| MODCOD | IBO | OBO (model) | required Es/N0 | measured degradation | predicted degradation | "
          "predicted - measured | total degradation OBO + measured |")
    print("|---|---|---|---|---|---|---|---|")
    for r in res:
        t = modcods.get(r["modcod"]).esn0_qef_db
        if r["ibo"] is None:
            print(f"| {r['modcod']} | linear | - | {r['need']:.2f} dB (Table 13: {t:.2f}) | - | - | - | - |")
            continue
        meas = r["need"] - lin[r["modcod"]]
        fmt = (lambda v: "never" if not math.isfinite(v) else f"{v:.2f} dB")  # noqa: E731
        diff = (r["pred"] - meas) if math.isfinite(meas) and math.isfinite(r["pred"]) else (
            0.0 if not math.isfinite(meas) and not math.isfinite(r["pred"]) else math.nan)
        total = r["obo"] + meas if math.isfinite(meas) else math.inf
        need = "does not close" if not math.isfinite(r["need"]) else f"{r['need']:.2f} dB"
        print(f"| {r['modcod']} | {r['ibo']:.0f} dB | {r['obo']:.2f} dB | {need} | {fmt(meas)} | "
              f"{fmt(r['pred'])} | {diff:+.2f} dB | {fmt(total)} |")
    print()
    print("FER curves (Es/N0 dB: FER, receiver's Es/N0 estimate):")
    for r in res:
        pts = ", ".join(f"{e:.1f}: {f:.2f} ({est:.1f})" for e, f, est in r["curve"])
        case = "linear" if r["ibo"] is None else f"IBO {r['ibo']:.0f} dB"
        print(f"- {r['modcod']} {case}: {pts}  [{r['cpu_s']:.0f} CPU s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
