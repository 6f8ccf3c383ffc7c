"""Re-run chosen points of a finished anti-jam margins campaign with the current code and compare the frames decoded
(a check that a change of the receiver or the run loop left the margins of docs/antijam.md where they were, without
running all 980 points again).

    .venv/bin/python benchmarks/antijam_margins_recheck.py sweeps/antijam [--out /tmp/antijam-recheck]

The points default to the ones beside the table's edges (EDGES); each row prints the campaign's frames decoded,
frames and goodput, then the current code's.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linksim.campaign.runner import execute_point  # noqa: E402
from linksim.campaign.spec import load_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "campaigns" / "antijam-margins.toml"
RUNNER = "linksim.run.inmemory:run_scenario"
EDGES = [("cw/none", "QPSK 1/2", -4.0), ("cw/none", "QPSK 1/2", 0.0), ("cw/fft", "8PSK 3/4", 36.0),
         ("cw/fft", "8PSK 3/4", 40.0), ("multitone/fft", "8PSK 3/4", 12.0), ("multitone/fft", "8PSK 3/4", 16.0),
         ("swept/notch", "QPSK 1/2", 16.0), ("swept/notch", "QPSK 1/2", 20.0),
         ("partial_band/fft", "8PSK 3/4", -12.0), ("pulsed/blanking", "8PSK 3/4", 8.0),
         ("pulsed/blanking", "QPSK 1/2", 40.0), ("barrage/fft", "QPSK 1/2", -4.0),
         ("barrage/nulling4", "QPSK 1/2", 28.0), ("barrage/nulling4", "8PSK 3/4", 20.0),
         ("barrage/nulling4", "8PSK 3/4", 24.0), ("follower/none", "8PSK 3/4", -12.0)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep", type=Path, help="the campaign's output directory (its campaign.csv)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/antijam-recheck"), help="where the new runs go")
    a = ap.parse_args()
    old = {(r["case"], r["carrier.modcod"], float(r["jammer.0.js_db"])): r
           for r in csv.DictReader(open(a.sweep / "campaign.csv", newline=""))}
    spec = load_spec(SPEC, runner=RUNNER)
    points = {(p.params.get("case"), p.params.get("carrier.modcod"), float(p.params.get("jammer.0.js_db"))): p
              for p in spec.points}
    print("| case | MODCOD | J/S dB | campaign: ok / frames, goodput | now: ok / frames, goodput |")
    print("|---|---|---|---|---|")
    for key in EDGES:
        p = points[key]
        d = a.out / p.hash
        shutil.rmtree(d, ignore_errors=True)
        r = execute_point({"runner": RUNNER, "table": p.table, "source": str(spec.base_path), "run_dir": str(d),
                           "run_options": p.run_options})
        s = r.get("summary", {})
        o = old.get(key)
        was = f"{o['frames_ok']} / {o['frames_total']}, {float(o['goodput_bps_mean']) / 1e3:.0f} kb/s" if o else "-"
        now = (f"{s.get('frames_ok', 0):.1f} / {s.get('frames_total', 0):.1f}, "
               f"{(s.get('goodput_bps_mean') or 0) / 1e3:.0f} kb/s") if r.get("ok") else r.get("error", "failed")
        print(f"| {key[0]} | {key[1]} | {key[2]:+g} | {was} | {now} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
