"""`linksim dvbs2 tx`: the file it writes is the Transmitter's output; bad input is one line and exit code 2."""

from __future__ import annotations

import json

import numpy as np

from linksim.cli import main
from linksim.dvbs2.tx import Transmitter, random_ts_packets


def test_tx_random_frames_file_equals_transmitter(tmp_path, capsys):
    out = tmp_path / "x.cf32"
    ts_out = tmp_path / "x.ts"
    argv = [
        "dvbs2",
        "tx",
        "--modcod",
        "8psk 3/5",
        "--frame",
        "short",
        "--no-pilots",
        "--rolloff",
        "0.35",
        "--sps",
        "3",
        "--gold-code",
        "5",
        "--frames",
        "3",
        "--seed",
        "7",
        "--out",
        str(out),
        "--save-ts",
        str(ts_out),
        "--json",
    ]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    x = np.fromfile(out, dtype=np.complex64)
    tx = Transmitter("short", False, 0.35, 3, 5)
    cap = tx.frame_capacity_bytes("8PSK 3/5")
    tx.push(random_ts_packets(-(-3 * cap // 188), 7))
    ref = np.concatenate([tx.modulate([("8PSK 3/5", None)] * 3), tx.flush()])
    np.testing.assert_array_equal(x, ref)
    assert summary["frames"] == 3 and summary["samples"] == x.size and summary["info_bytes"] == 3 * cap
    ts = ts_out.read_bytes()
    assert len(ts) == (3 * cap) // 188 * 188 and ts == random_ts_packets(-(-3 * cap // 188), 7)[: len(ts)]


def test_tx_ts_file_vcm_uses_all_input(tmp_path, capsys):
    ts = random_ts_packets(50, seed=3)
    src = tmp_path / "in.ts"
    src.write_bytes(ts)
    out = tmp_path / "y.cf32"
    argv = [
        "dvbs2",
        "tx",
        "--modcod",
        "QPSK 1/2, 16APSK 3/4",
        "--frame",
        "short",
        "--ts-in",
        str(src),
        "--out",
        str(out),
        "--json",
    ]
    assert main(argv) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["info_bytes"] == len(ts) and s["ts_packets"] == 50
    # frames alternate until the input is used up; the last one is padded
    caps = [Transmitter("short").frame_capacity_bytes(m) for m in ("QPSK 1/2", "16APSK 3/4")]
    left, n = len(ts), [0, 0]
    while left > 0:
        k = (n[0] + n[1]) % 2
        n[k] += 1
        left -= caps[k]
    assert s["frames_per_modcod"] == {"QPSK 1/2": n[0], "16APSK 3/4": n[1]}


def test_tx_bad_input_is_one_line_exit_2(tmp_path, capsys):
    out = str(tmp_path / "z.cf32")
    for argv in (
        ["dvbs2", "tx", "--modcod", "9PSK 3/4", "--out", out],
        ["dvbs2", "tx", "--modcod", "QPSK 9/10", "--frame", "short", "--out", out],
        ["dvbs2", "tx", "--modcod", "QPSK 1/2", "--ts-in", str(tmp_path / "none.ts"), "--out", out],
        ["dvbs2", "tx", "--modcod", "QPSK 1/2", "--frames", "0", "--out", out],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("linksim: error: ") and err.count("\n") == 1
