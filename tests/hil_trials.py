"""A hardware-in-the-loop run against fake lab gear, interrupted or broken on purpose, through the real CLI.

`hil_trial()` starts `linksim run SCENARIO --tx FAKE --rx FAKE --tx-enable --attenuator URL --rotator URL` in a
subprocess with a fake attenuator and a fake rotctld on TCP and a fake SDR on ZeroMQ (linksim.hw.fakes), waits
until the attenuator replays the fade (so it is below its maximum) and IQ flows, then does one thing to it:
    SIGINT, SIGTERM, SIGINT2 (two Ctrl-C a quarter of a second apart), or makes the attenuator, the rotator
    or the SDR vanish;
and records what the lab gear was left at and how long the process took to exit. Used by tests/test_run_safety.py
(a few tries) and benchmarks/hil_interrupt.py (20 tries per kind).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from linksim.hw.fakes import FakeAttenuator, FakeRotctld, FakeZmqSdr, serve_tcp

ROOT = Path(__file__).parent.parent
SCENARIO = str(ROOT / "scenarios" / "contested-x-cw.toml")  # fixed geometry: a quick budget
KINDS = ("SIGINT", "SIGTERM", "SIGINT2", "attenuator-vanishes", "rotator-vanishes", "sdr-vanishes")
MAX_DB = 110.0


@dataclass
class Trial:
    kind: str
    rc: int | None
    exit_s: float  # from the signal (or the vanishing) to the process's exit
    attenuator_db: float  # what the fake attenuator was left at
    attenuator_min_db: float  # the lowest value the replay had set before
    rotator_last: str  # the rotator's last command
    tx_last_s: float  # from the signal to the last IQ message with signal in it that reached the fake SDR
    stderr: str
    out: Path
    notes: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        """Attenuator at maximum, rotator stopped, TX quiet within 2 s, exit within 10 s, no traceback."""
        return (self.attenuator_db == MAX_DB and self.rotator_last == "S" and self.tx_last_s <= 2.0
                and self.exit_s <= 10.0 and "Traceback" not in self.stderr)


def hil_trial(tmp: Path, kind: str = "SIGINT", *, delay_s: float | None = None, link_timeout_s: float = 3.0,
              duration_s: float = 30.0, seed: int | None = None) -> Trial:
    """One interrupted (or broken) hardware run, `delay_s` (random 0..1.5 s if None) after the attenuator replays
    the fade and IQ flows through the fake SDR."""
    if kind not in KINDS:
        raise ValueError(kind)
    rng = random.Random(seed)
    att, rot = FakeAttenuator(max_db=MAX_DB), FakeRotctld(rate_deg_s=50.0)
    out = tmp / "run"
    with serve_tcp(att) as a_srv, serve_tcp(rot) as r_srv, FakeZmqSdr() as sdr:
        prof = sdr.profile_toml(tmp / "fake-sdr.toml")
        cmd = [sys.executable, "-m", "linksim", "run", SCENARIO, "--duration",
               f"{duration_s:g}", "--tx", str(prof), "--rx", str(prof), "--tx-enable", "--attenuator", a_srv.url,
               "--attenuation-base", "10", "--rotator", r_srv.url, "--out", str(out), "--no-report",
               "--link-timeout", f"{link_timeout_s:g}"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        notes = []
        t_wait = time.monotonic() + 120.0
        while p.poll() is None and time.monotonic() < t_wait and not (
                any(v < MAX_DB for v in att.history_db) and any(peak > 0 for _, peak in sdr.log)):
            time.sleep(0.05)
        if p.poll() is not None:
            notes.append("the run ended before the replay started")
        time.sleep(rng.uniform(0.0, 1.5) if delay_s is None else delay_s)
        t0 = time.monotonic()
        if kind in ("SIGINT", "SIGINT2"):
            p.send_signal(signal.SIGINT)
            if kind == "SIGINT2":
                time.sleep(0.25)
                p.send_signal(signal.SIGINT)
        elif kind == "SIGTERM":
            p.send_signal(signal.SIGTERM)
        elif kind == "attenuator-vanishes":
            a_srv.disappear()
        elif kind == "rotator-vanishes":
            r_srv.disappear()
        else:
            sdr.disappear()
        try:
            _, err = p.communicate(timeout=60.0)
            rc: int | None = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            rc = None
            notes.append("hung: killed after 60 s")
        exit_s = time.monotonic() - t0
        loud = [t for t, peak in sdr.log if peak > 0.0]
        tx_last = (loud[-1] - t0) if loud else -1.0
    return Trial(kind, rc, exit_s, att.attenuation_db, min(att.history_db, default=MAX_DB),
                 rot.commands[-1].strip() if rot.commands else "", tx_last, err, out, notes)


__all__ = ["KINDS", "Trial", "hil_trial"]
