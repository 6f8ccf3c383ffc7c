"""A hardware run with lab gear: the attenuator replays the scenario's fade and the rotator tracks the satellite,
both against faithful fakes on TCP; afterwards the attenuator is back at maximum and the rotator stopped."""

from __future__ import annotations

import json
import subprocess
import sys

from linksim.budget import timeline as budget
from linksim.hw.fakes import FakeAttenuator, FakeRotctld, serve_tcp
from linksim.scenario.model import load_scenario

SCENARIO = "scenarios/svalbard-x-leo-pass.toml"


def test_run_with_attenuator_and_rotator(gr, tmp_path):
    s = load_scenario(SCENARIO)
    tl = budget.compute_timeline(s)
    start = float(tl.time_s[tl["visible"]][0]) + 60.0  # a minute into the pass: the fade and pointing move
    att, rot = FakeAttenuator(max_db=110.0), FakeRotctld(rate_deg_s=50.0)
    with serve_tcp(att) as a_srv, serve_tcp(rot) as r_srv:
        r = subprocess.run(
            [sys.executable, "-m", "linksim", "run", SCENARIO, "--start", str(start), "--duration", "2",
             "--tx", "loopback", "--rx", "loopback", "--tx-enable", "--attenuator", a_srv.url,
             "--attenuation-base", "10", "--rotator", r_srv.url, "--out", str(tmp_path), "--no-report", "--json"],
            capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    sm = json.loads(r.stdout)
    lab = sm["lab"][0]
    # the attenuator got the base plus the fade: the budget's Es/N0 below its best over the stretch
    req = lab["attenuator"]["requested_db"]
    assert min(req) == 10.0 and all(x >= 10.0 for x in req)
    assert 10.0 in att.history_db  # applied on the wire (0.25 dB steps)
    assert att.attenuation_db == 110.0  # closed at maximum
    # the rotator was pointed along the pass and stopped at the end
    wire = rot.wire.decode()
    assert wire.count("P ") >= 2 and wire.rstrip().endswith("S")
    i = int(round((start - 0.12) / 1.0))  # the stretch starts with the receiver's lead-in
    az, el = float(tl["azimuth_deg"][i]), float(tl["elevation_deg"][i])
    first = wire.split("P ", 1)[1].split()[:2]
    assert abs(float(first[0]) - az) < 2.0 and abs(float(first[1]) - el) < 2.0
    assert sm["frames_total"] > 0
