"""linksim.files: inputs checked before they are read (type, size, encoding), outputs written whole or not at all
and never over an input; IQ files on top of it (linksim.iqfile: sample checks, SHA-512, SigMF pairs)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from linksim.errors import InputError
from linksim.files import AtomicOutput, FileError, check_input, read_text
from linksim.iqfile import IQReader, IQWriter, write_iq


def test_read_text_bounds_and_refuses_what_is_not_text(tmp_path):
    (tmp_path / "ok.toml").write_text("a = 1 # \u00f8\n")
    assert read_text(tmp_path / "ok.toml") == "a = 1 # \u00f8\n"
    (tmp_path / "big.toml").write_bytes(b"#" * 2000)
    with pytest.raises(FileError, match="more than the 1.0 KiB"):
        read_text(tmp_path / "big.toml", max_bytes=1024)
    os.mkfifo(tmp_path / "p")
    with pytest.raises(FileError, match="FIFO"):
        read_text(tmp_path / "p")
    with pytest.raises(FileError, match="directory"):
        check_input(tmp_path)
    with pytest.raises(FileError, match="no such file"):
        check_input(tmp_path / "none")


def test_atomic_output_commits_whole_or_leaves_the_old_file(tmp_path):
    out = tmp_path / "o.csv"
    out.write_text("old\n")
    with pytest.raises(RuntimeError), AtomicOutput(out, "--csv") as o:
        o.tmp_path.write_text("half")
        raise RuntimeError("fails half-way")
    assert out.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]
    with AtomicOutput(out, "--csv") as o:
        assert o.tmp_path.suffix == ".csv" and o.tmp_path.parent == tmp_path
        o.tmp_path.write_text("new\n")
    assert out.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]


def test_atomic_output_opens_its_new_file_for_writing(tmp_path):
    """open() gives the temporary file for writing (binary or text; it is not truncated: it is new and empty)."""
    out = tmp_path / "o.bin"
    with AtomicOutput(out, "--out") as o, o.open("wb") as f:
        f.write(b"\x01\x02")
    assert out.read_bytes() == b"\x01\x02"
    with AtomicOutput(tmp_path / "t.txt", "--out") as o, o.open("w") as f:
        f.write("line\n")
    assert (tmp_path / "t.txt").read_text() == "line\n"
    o = AtomicOutput(tmp_path / "x", "--out")
    with pytest.raises(ValueError, match="mode 'ab'"):
        o.open("ab")
    o.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.bin", "t.txt"]


def test_atomic_output_writes_through_a_symlink_and_refuses_the_input(tmp_path):
    (tmp_path / "data").mkdir()
    os.symlink("data/real.txt", tmp_path / "link.txt")
    with AtomicOutput(tmp_path / "link.txt") as o:
        o.tmp_path.write_text("x")
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "data" / "real.txt").read_text() == "x"
    inp = tmp_path / "in.bin"
    inp.write_bytes(b"keep")
    os.link(inp, tmp_path / "hard.bin")
    for alias in (inp, tmp_path / "hard.bin", tmp_path / "." / "in.bin"):
        with pytest.raises(FileError, match="is the input"):
            AtomicOutput(alias, "--out", inputs=[inp])
    assert inp.read_bytes() == b"keep"
    for bad, words in ((tmp_path / "none" / "x", "does not exist"), (inp / "x", "not a directory"),
                       (tmp_path / "data", "directory"), ("/dev/null", "character device")):
        with pytest.raises(FileError, match=words):
            AtomicOutput(bad, "--out")


def test_iq_check_finds_bad_samples_and_changed_recordings(tmp_path):
    x = (np.exp(1j * np.arange(5000) * 0.1)).astype(np.complex64)
    write_iq(tmp_path / "r.sigmf-meta", x, 1e6)
    chk = IQReader(tmp_path / "r.sigmf-meta", chunk_samples=700).check()
    assert chk.n_samples == 5000 and chk.mean_power == pytest.approx(1.0, rel=1e-6) and chk.sha512_ok is True
    data = bytearray((tmp_path / "r.sigmf-data").read_bytes())
    data[8] ^= 0x40
    (tmp_path / "r.sigmf-data").write_bytes(bytes(data))
    assert IQReader(tmp_path / "r").check().sha512_ok is False
    y = x.copy()
    y[3210] = np.nan
    y.tofile(tmp_path / "n.cf32")
    with pytest.raises(InputError, match="sample 3210 is NaN or infinite"):
        IQReader(tmp_path / "n.cf32", chunk_samples=1000).check()
    y[3210] = 1e20
    y.tofile(tmp_path / "b.cf32")
    with pytest.raises(InputError, match="sample 3210 is 1e\\+20 in magnitude"):
        IQReader(tmp_path / "b.cf32").check()


def test_iq_writer_is_atomic_and_never_writes_over_its_input(tmp_path):
    x = np.ones(100, np.complex64)
    write_iq(tmp_path / "in.sigmf-meta", x, 1e6)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for out in ("in.sigmf-data", "in.sigmf-meta", "in"):
        with pytest.raises(InputError, match="is the input"):
            IQWriter(tmp_path / out, 1e6, inputs=[tmp_path / "in.sigmf-meta"])
    with pytest.raises(InputError, match="sample 107 is NaN"), IQWriter(tmp_path / "o.sigmf-meta", 1e6) as w:
        w.write(x)
        w.write(np.where(np.arange(10) == 7, np.nan, 1).astype(np.complex64))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing new, nothing changed
    with IQWriter(tmp_path / "o.sigmf-meta", 1e6) as w:
        w.write(x)
    meta = json.loads((tmp_path / "o.sigmf-meta").read_text())
    assert len(meta["global"]["core:sha512"]) == 128 and IQReader(tmp_path / "o").check().sha512_ok is True
