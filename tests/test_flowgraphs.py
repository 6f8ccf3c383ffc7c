"""The shipped loopback flowgraph, compiled by grcc from the same hier blocks the CLI runs, decodes the scenario's
TS packets end to end: the TS it writes is, byte for byte, a contiguous run of the packets its source sent."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parent.parent


def test_loopback_grc_runs_and_decodes(gr, tmp_path):
    grcc = shutil.which("grcc")
    assert grcc
    env = dict(os.environ, GRC_BLOCKS_PATH=str(ROOT / "linksim" / "grc"))
    subprocess.run([grcc, "-o", str(tmp_path), str(ROOT / "flowgraphs" / "loopback.grc")], check=True,
                   capture_output=True, env=env, timeout=120)
    script = tmp_path / "linksim_loopback.py"
    src = script.read_text().replace('"scenarios/longyearbyen-ka-geo.toml"',
                                     repr(str(ROOT / "scenarios" / "longyearbyen-ka-geo.toml")))
    src = src.replace("self.duration_s = duration_s = 2.0", "self.duration_s = duration_s = 0.6")
    script.write_text(src)
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       input="\n")
    assert r.returncode == 0, r.stderr[-2000:]
    ts = (tmp_path / "received.ts").read_bytes()
    # 0.6 s of QPSK 1/2 at 1 Msym/s is about 18 frames of 21 TS packets; the first is lost to acquisition
    assert len(ts) % 188 == 0 and len(ts) // 188 >= 200
    rx = np.frombuffer(ts, dtype=np.uint8).reshape(-1, 188)
    # what the flowgraph's TS source sent: linksim.gr.link.ts_source(seed), blocks of PACKETS_PER_BLOCK packets
    from linksim.dvbs2.tx import random_ts_packets
    from linksim.gr.link import PACKETS_PER_BLOCK

    calls = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call)
             and getattr(n.func, "attr", getattr(n.func, "id", "")) == "scenario_transmit"]
    assert len(calls) == 1, "the flowgraph has one transmit chain"
    seed_arg = ([kw.value for kw in calls[0].keywords if kw.arg == "seed"] or calls[0].args[3:4])
    seed = ast.literal_eval(seed_arg[0]) if seed_arg else 1  # scenario_transmit's default seed
    sent = np.frombuffer(b"".join(random_ts_packets(PACKETS_PER_BLOCK, seed=seed * 1_000_003 + b)
                                  for b in range(30)), dtype=np.uint8).reshape(-1, 188)
    assert len(np.unique(sent[:, 4:], axis=0)) == len(sent)  # random payloads: a packet's place is unambiguous
    # the receiver's output starts with some packet of the stream (after acquisition) and goes on without a gap,
    # a duplicate or a changed bit (the 0x47 sync bytes it writes itself prove nothing)
    first = np.nonzero((sent == rx[0]).all(axis=1))[0]
    assert first.size == 1, "the first packet received is one of the packets sent"
    k = int(first[0])
    assert k <= 3 * 21, f"decoding started at packet {k}: more than the first frames lost"
    assert k + len(rx) <= len(sent)
    np.testing.assert_array_equal(rx, sent[k : k + len(rx)])
