"""Every flowgraph in flowgraphs/ compiles with GNU Radio's `grcc` (with GRC_BLOCKS_PATH at linksim/grc), and
every linksim block definition is well formed (category [linksim], a make template whose module imports)."""

from __future__ import annotations

import importlib
import os
import py_compile
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
FLOWGRAPHS = sorted((ROOT / "flowgraphs").glob("*.grc"))
BLOCKS = sorted((ROOT / "linksim" / "grc").glob("*.block.yml"))


def test_there_are_flowgraphs_and_blocks():
    assert any(p.name == "channel_demo.grc" for p in FLOWGRAPHS)
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("grc", FLOWGRAPHS, ids=[p.name for p in FLOWGRAPHS])
def test_flowgraph_compiles_with_grcc(gr, grc, tmp_path):
    grcc = shutil.which("grcc")
    assert grcc, "grcc (GNU Radio Companion compiler) not found on PATH"
    env = dict(os.environ)
    paths = [str(ROOT / "linksim" / "grc")] + ([env["GRC_BLOCKS_PATH"]] if env.get("GRC_BLOCKS_PATH") else [])
    env["GRC_BLOCKS_PATH"] = os.pathsep.join(paths)
    r = subprocess.run([grcc, "-o", str(tmp_path), str(grc)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Error" not in r.stdout + r.stderr, r.stdout[-2000:] + r.stderr[-2000:]
    out = list(tmp_path.glob("*.py"))
    assert out, "grcc wrote no Python file"
    for py in out:
        py_compile.compile(str(py), doraise=True)


@pytest.mark.parametrize("yml", BLOCKS, ids=[p.name for p in BLOCKS])
def test_block_yml_well_formed(gr, yml):
    d = yaml.safe_load(yml.read_text())
    assert d["id"] == yml.name.replace(".block.yml", "")
    assert d["category"] == "[linksim]"
    assert d["file_format"] == 1
    imports = d["templates"]["imports"]
    for line in imports.splitlines():
        words = line.split()
        mod = words[1]
        importlib.import_module(mod)
