"""linksim.compiled: the channel's kernels compiled ahead of time give the JIT's bytes, load without numba, and fall
back to the JIT (never to something else) when the library does not fit."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from linksim import compiled
from linksim.channel import core, noise
from linksim.cli import main
from linksim.cli.kernels import TRAINING

RUN = r"""
import contextlib, io, json, sys
from linksim.cli import main
from linksim import compiled
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(["channel", "--in", sys.argv[1], "--out", sys.argv[2], "--sample-rate", "10e6", "--sps", "4",
               "--threads", "2", *sys.argv[3:]])
print(json.dumps({"rc": rc, "status": compiled.status(), "numba": "numba" in sys.modules}))
"""


def _run(src, out, opts, jit: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != compiled.ENV}
    if jit:
        env[compiled.ENV] = "jit"
    r = subprocess.run([sys.executable, "-c", RUN, str(src), str(out), *opts], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    d = json.loads(r.stdout.strip().splitlines()[-1])
    d["sha"] = hashlib.sha256(out.read_bytes()).hexdigest()
    return d


def test_library_is_built_and_current():
    # scripts/setup.sh (run by scripts/test.sh and .ci/run) builds it; a stale one would send every call to the JIT
    st = compiled._Library(ignore_env=True)
    assert st.count > 0, f"{st.reason}: run scripts/setup.sh or .venv/bin/linksim kernels"
    names = set(st.by_kernel)
    for k in ("core:_main_kernel", "core:_power_sum", "noise:_fill_complex", "fading:_interp_kernel",
              "delay:_delay_read", "jammers:_follower_kernel", "amplifier:_memoryless"):
        k = "linksim.channel." + k
        assert k in names


@pytest.mark.parametrize("opts", TRAINING, ids=lambda o: " ".join(o)[:60])
def test_compiled_equals_jit_without_numba(opts, tmp_path):
    """Every `linksim channel` option the library was trained on: the same output bytes as numba's JIT, and the
    process never imports numba."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(120_000) + 1j * rng.standard_normal(120_000)).astype(np.complex64) * np.float32(0.7)
    src = tmp_path / "in.cf32"
    x.tofile(src)
    aot = _run(src, tmp_path / "aot.cf32", opts, jit=False)
    jit = _run(src, tmp_path / "jit.cf32", opts, jit=True)
    assert aot["rc"] in (0, None) and jit["rc"] in (0, None)
    assert aot["status"].startswith("compiled"), aot["status"]
    assert not aot["numba"], "the compiled path imported numba"
    assert jit["status"] == f"jit: {compiled.ENV}=jit" and jit["numba"]
    assert aot["sha"] == jit["sha"]


def test_compiled_entries_equal_the_jit_and_refuse_other_types():
    # numba is loaded in the test process (other tests' modules), so plain calls go to the JIT here; .compiled()
    # calls the library's entry alone
    key = noise.stream_key(3, "t")
    n = 5000
    want = np.empty(n, np.complex64)
    noise._fill_complex.jit(key, np.int64(100), want)
    got = np.empty(n, np.complex64)
    noise._fill_complex.compiled(key, np.int64(100), got)
    np.testing.assert_array_equal(got, want)
    strided = np.zeros(2 * n, np.complex64)[::2]  # not C-contiguous
    with pytest.raises(LookupError, match="_fill_complex"):
        noise._fill_complex.compiled(key, np.int64(100), strided)
    with pytest.raises(LookupError):
        noise._fill_complex.compiled(key, np.int64(100), np.empty(n, np.complex128))  # another dtype
    noise._fill_complex(key, np.int64(100), strided)  # the JIT takes both
    np.testing.assert_array_equal(strided, want)


POLICY = r"""
import sys
import numpy as np
from linksim.channel import noise
key = noise.stream_key(3, "t")
a = np.empty(1000, np.complex64)
noise._fill_complex(key, np.int64(0), a)
first = "numba" in sys.modules
b = np.zeros(2000, np.complex64)[::2]
noise._fill_complex(key, np.int64(0), b)  # not in the library: numba's JIT, so numba is now loaded
second = "numba" in sys.modules
c = np.empty(1000, np.complex64)
noise._fill_complex(key, np.int64(0), c)  # from now on the JIT (its dispatch is cheaper)
print(first, second, noise._fill_complex._jit is not None, bool((a == b).all() and (a == c).all()))
"""


def test_numba_is_loaded_only_for_a_call_the_library_cannot_take():
    env = {k: v for k, v in os.environ.items() if k != compiled.ENV}
    r = subprocess.run([sys.executable, "-c", POLICY], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["False", "True", "True", "True"]


def test_power_sum_compiled_and_exact():
    rng = np.random.default_rng(2)
    for n in (1, 7, 8, 9, 100_003):
        x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
        ref = float(np.sum(x.real.astype(np.float64) ** 2 + x.imag.astype(np.float64) ** 2))
        got = core._power_sum.compiled(x)
        assert got == pytest.approx(ref, rel=1e-12)
        assert got == core._power_sum.jit(x)


def test_kernel_error_names_the_kernel():
    # kblk = 0: an integer division by zero inside _phase_walk; the JIT raises ZeroDivisionError
    freq = np.zeros(4)
    phi_blk = np.zeros(4)
    with pytest.raises(compiled.KernelError, match="_phase_walk"):
        core._phase_walk.compiled(0.0, 0, 10, 0, freq, 1.0, phi_blk)
    with pytest.raises(ZeroDivisionError):
        core._phase_walk.jit(0.0, 0, 10, 0, freq, 1.0, phi_blk)


def test_stale_or_missing_library_falls_back_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(compiled, "LIB_DIR", tmp_path)
    monkeypatch.setattr(compiled, "INDEX", tmp_path / "index.json")
    assert compiled._Library().reason.startswith("no compiled library")
    (tmp_path / "index.json").write_text(json.dumps({"key": "0" * 64, "modules": ["linksim.channel.core"],
                                                     "library": "kernels.so", "entries": []}))
    lib = compiled._Library()
    assert lib.count == 0 and "other sources" in lib.reason
    monkeypatch.setenv(compiled.ENV, "jit")
    assert compiled._Library().reason == f"{compiled.ENV}=jit"


def test_key_follows_the_sources(tmp_path, monkeypatch):
    mods = ["linksim.channel.core"]
    k1 = compiled._source_key(mods, "v")
    assert k1 == compiled._source_key(mods, "v") and k1 != compiled._source_key(mods, "w")
    monkeypatch.setattr(compiled, "_cpu_flags", lambda: "another cpu")
    assert compiled._source_key(mods, "v") != k1


def test_kernels_command_if_stale_and_without_a_compiler(capsys, monkeypatch):
    assert main(["kernels", "--if-stale"]) == 0  # current (the first test checks it): nothing rebuilt
    assert "is up to date" in capsys.readouterr().out
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["kernels"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["linksim: error: linksim kernels: needs a C compiler (cc) and nm to link the library: install gcc"]
    assert compiled.is_current()  # the library was left as it was


def test_inline_helpers_are_inlined():
    # numba's inliner reads `targetoptions` off the global it finds (a Kernel here, not a dispatcher): without it,
    # normal_pair became a call through the PLT in every noise sample (an 8 % slower channel)
    fresh = compiled._numba().njit(nogil=True)(noise._fill_complex.py_func)  # not cached: its IR can be read
    out = np.empty(8, np.complex64)
    fresh(noise.stream_key(1, "i"), np.int64(0), out)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    calls = [line for line in ir.splitlines() if line.lstrip().startswith(("call", "%")) and " call " in f" {line} "]
    assert not [c for c in calls if "normal_pair" in c] and [c for c in calls if "_slow_normal" in c]
    assert noise.normal_pair.targetoptions["inline"] == "always"


def test_entries_read_numpys_array_layout(monkeypatch):
    # the entries take an array as its object and read its data and dimensions pointers at fixed offsets; a numpy
    # with another layout must send every call to the JIT, not to an entry reading the wrong field
    assert compiled._array_layout_ok()
    monkeypatch.setattr(compiled, "ARRAY_DATA_OFFSET", compiled.ARRAY_DIMS_OFFSET)
    assert not compiled._array_layout_ok()
    lib = compiled._Library(ignore_env=True)
    assert lib.count == 0 and "array layout" in lib.reason


def test_an_index_not_written_by_build_is_refused_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(compiled, "LIB_DIR", tmp_path)
    monkeypatch.setattr(compiled, "INDEX", tmp_path / "index.json")
    key = compiled._source_key([], compiled._numba_version())
    for index in ({"key": key}, {"key": key, "library": "kernels.so"}, ["not", "a", "dict"]):
        (tmp_path / "index.json").write_text(json.dumps(index))
        lib = compiled._Library()
        assert lib.count == 0 and lib.reason, index
    (tmp_path / "index.json").write_text("{not json")
    assert compiled._Library().reason.startswith("unreadable")
