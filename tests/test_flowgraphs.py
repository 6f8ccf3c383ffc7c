"""The shipped loopback flowgraph, compiled by grcc from the same hier blocks the CLI runs, decodes the scenario's
TS packets end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    assert all(ts[i] == 0x47 for i in range(0, len(ts), 188))
