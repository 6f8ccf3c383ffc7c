"""`linksim channel`: file in, file out (.cf32 and SigMF), realised Es/N0 and J/S in --json, errors as one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from linksim.cli import main
from linksim.iqfile import read_iq, write_iq


@pytest.fixture
def qpsk_file(tmp_path):
    rng = np.random.default_rng(0)
    x = np.repeat(np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, 100_000))), 4).astype(np.complex64)
    p = tmp_path / "in.sigmf-meta"
    write_iq(p, 0.5 * x, 2e6, description="test input")
    return p, 0.5 * x


def test_channel_cli_sigmf_json(qpsk_file, tmp_path, capsys):
    inp, x = qpsk_file
    out = tmp_path / "out.sigmf-data"
    rc = main(["channel", "--in", str(inp), "--out", str(out), "--sps", "4", "--esn0-db", "8", "--gain-db", "-2",
               "--doppler-hz", "500", "--jammer", "type=cw,js_db=-3,offset_hz=1e4",
               "--jammer", "type=barrage,js_db=2,bandwidth_hz=5e5", "--seed", "3", "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["samples"] == x.size and d["sample_rate_hz"] == 2e6
    assert d["input_power_db"] == pytest.approx(10 * np.log10(0.25), abs=1e-3)
    assert d["signal_power_db"] == pytest.approx(10 * np.log10(0.25) - 2, abs=0.01)
    assert d["esn0_db_realised"] == pytest.approx(8.0, abs=0.1)
    assert [j["js_db_realised"] for j in d["jammers"]] == pytest.approx([-3.0, 2.0], abs=0.1)
    y, fs = read_iq(out)
    assert fs == 2e6 and y.size == x.size
    # the same command again gives the same file (seeded)
    out2 = tmp_path / "again.cf32"
    main(["channel", "--in", str(inp), "--out", str(out2), "--sps", "4", "--esn0-db", "8", "--gain-db", "-2",
          "--doppler-hz", "500", "--jammer", "type=cw,js_db=-3,offset_hz=1e4",
          "--jammer", "type=barrage,js_db=2,bandwidth_hz=5e5", "--seed", "3"])
    assert np.array_equal(read_iq(out2)[0], y)


def test_channel_cli_without_esn0_adds_no_noise(qpsk_file, tmp_path):
    inp, x = qpsk_file
    out = tmp_path / "o.cf32"
    assert main(["channel", "--in", str(inp), "--out", str(out), "--sps", "4", "--gain-db", "-6"]) == 0
    assert np.allclose(read_iq(out)[0], x * 10 ** (-6 / 20), atol=1e-6)


@pytest.mark.parametrize(
    "extra, word",
    [
        (["--jammer", "type=cw,js_db=0,freq=3"], "freq"),
        (["--jammer", "type=barrage,js_db=3"], "bandwidth_hz"),
        (["--fading", "rician:K=4"], "doppler_hz"),
        (["--sps", "0"], "--sps"),
        (["--delay-s", "-1"], "--delay-s"),
    ],
)
def test_channel_cli_bad_input_is_one_line_exit_2(qpsk_file, tmp_path, capsys, extra, word):
    inp, _ = qpsk_file
    rc = main(["channel", "--in", str(inp), "--out", str(tmp_path / "o.cf32"), "--sps", "4", *extra])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("linksim: error:") and word in err and err.count("\n") == 1


def test_channel_cli_raw_input_needs_sample_rate(tmp_path, capsys):
    p = tmp_path / "x.cf32"
    write_iq(p, np.ones(100, np.complex64))
    assert main(["channel", "--in", str(p), "--out", str(tmp_path / "o.cf32"), "--sps", "2"]) == 2
    assert "--sample-rate" in capsys.readouterr().err


def test_channel_program_ends_at_once_with_its_output_and_report_whole(qpsk_file, tmp_path):
    """As the `linksim` program (python -m linksim), the channel command ends its process without the interpreter's
    teardown (quick_exit): the atexit handlers still run, the JSON report on a pipe is whole and the output file
    complete; a __del__ that the teardown would run does not. A command that fails exits the normal way."""
    import subprocess
    import sys

    inp, x = qpsk_file
    out = tmp_path / "o.cf32"
    prog = ("import atexit, sys\n"
            "class Teardown:\n"
            "    def __del__(self):\n"
            "        sys.stderr.write('teardown ran\\n')\n"
            "keep = Teardown()\n"
            "atexit.register(lambda: sys.stderr.write('atexit ran\\n'))\n"
            "from linksim.cli import program\n"
            "sys.argv = ['linksim'] + sys.argv[1:]\n"
            "program()\n")
    argv = [sys.executable, "-c", prog, "channel", "--in", str(inp), "--out", str(out), "--sps", "4",
            "--esn0-db", "8", "--seed", "2", "--json"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "atexit ran" in r.stderr and "teardown ran" not in r.stderr
    d = json.loads(r.stdout)
    assert d["samples"] == x.size and d["esn0_db_realised"] == pytest.approx(8.0, abs=0.1)
    assert out.stat().st_size == 8 * x.size and sorted(p.name for p in tmp_path.iterdir()) == [
        "in.sigmf-data", "in.sigmf-meta", "o.cf32"]
    # the same run in process (main, as the tests and linksim.api call it) returns instead of ending the process
    assert main(argv[3:]) == 0
    bad = subprocess.run(argv[:3] + ["channel", "--in", str(inp), "--out", str(tmp_path / "b.cf32"), "--sps", "4",
                                     "--esn0-db", "nan"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "teardown ran" in bad.stderr and "--esn0-db" in bad.stderr
