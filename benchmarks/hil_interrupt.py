"""Lab gear safe on every exit of a hardware run: the HIL Ctrl-C case (and its siblings) tried N times each.

Run:  .venv/bin/python benchmarks/hil_interrupt.py [--tries 20] [--kinds SIGINT,SIGTERM,...]

Each try runs `linksim run scenarios/contested-x-cw.toml --tx FAKE --rx FAKE --tx-enable --attenuator URL
--rotator URL --attenuation-base 10 --link-timeout 3` against a fake Mini-Circuits attenuator and a fake rotctld on
TCP and a fake SDR on ZeroMQ (linksim.hw.fakes; the harness is tests/hil_trials.py), waits until the attenuator
replays the fade (at 10 dB, below its 110 dB maximum) and IQ flows, then after a random 0 to 1.5 s sends SIGINT,
SIGTERM or two SIGINTs, or makes the attenuator, the rotator or the SDR vanish. It prints, per kind, how many tries
left the lab gear safe (attenuator at maximum, rotator stopped, no signal reaching the SDR 2 s after the event,
exit within 10 s of it, or 10 s after the 3 s link timeout for the SDR, no traceback) and the exit times. A device
that vanished cannot be made safe: for it the try counts when the run says so in its message.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from hil_trials import KINDS, MAX_DB, Trial, hil_trial  # noqa: E402


def ok(t: Trial) -> bool:
    bound = 13.0 if t.kind == "sdr-vanishes" else 10.0
    base = (not t.notes and "Traceback" not in t.stderr and t.exit_s <= bound and t.tx_last_s <= 2.0
            and t.rc == {"SIGINT": 130, "SIGINT2": 130, "SIGTERM": 143}.get(t.kind, 3))
    att = (t.attenuator_db == MAX_DB if t.kind != "attenuator-vanishes"
           else "could not be set to maximum" in t.stderr)
    rot = t.rotator_last == "S" if t.kind != "rotator-vanishes" else "rotator" in t.stderr
    return base and att and rot


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tries", type=int, default=20)
    ap.add_argument("--kinds", default="SIGINT", help=f"comma-separated, from {','.join(KINDS)}")
    a = ap.parse_args()
    kinds = a.kinds.split(",")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores); exit times are wall clock")
    print(f"{'kind':<20} {'safe':>7} {'exit s median':>14} {'max':>6}   failures")
    bad = 0
    for kind in kinds:
        trials = []
        for i in range(a.tries):
            with tempfile.TemporaryDirectory() as d:
                trials.append(hil_trial(Path(d), kind, seed=1000 + i))
        good = [t for t in trials if ok(t)]
        bad += len(trials) - len(good)
        ex = [t.exit_s for t in trials]
        fails = "; ".join(f"rc {t.rc}, {t.exit_s:.1f} s, att {t.attenuator_db:g} dB, rot {t.rotator_last!r}, "
                          f"tx {t.tx_last_s:.1f} s {t.notes}" for t in trials if not ok(t))
        print(f"{kind:<20} {len(good):>3}/{len(trials):<3} {statistics.median(ex):>14.2f} {max(ex):>6.2f}   {fails}",
              flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M')}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
