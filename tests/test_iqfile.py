"""IQ files: raw cf32 and SigMF round trips, SigMF metadata valid for the `sigmf` package, ci16 scaling, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from linksim.errors import InputError
from linksim.iqfile import IQReader, read_iq, write_iq


def test_cf32_round_trip_in_chunks(tmp_path):
    x = (np.arange(10_001) * (1 + 0.5j)).astype(np.complex64)
    write_iq(tmp_path / "a.cf32", x)
    r = IQReader(tmp_path / "a.cf32", chunk_samples=1000)
    assert r.n_samples == x.size and r.sample_rate_hz is None
    chunks = list(r)
    assert max(c.size for c in chunks) == 1000
    assert np.array_equal(np.concatenate(chunks), x)


def test_sigmf_round_trip_and_schema(tmp_path):
    from sigmf import sigmffile

    x = (np.random.default_rng(1).standard_normal(5000) * (1 + 1j)).astype(np.complex64)
    write_iq(tmp_path / "rec.sigmf-meta", x, 2.5e6, description="t", frequency_hz=8.1e9)
    y, fs = read_iq(tmp_path / "rec.sigmf-data")
    assert fs == 2.5e6 and np.array_equal(x, y)
    assert IQReader(tmp_path / "rec").frequency_hz == 8.1e9
    smf = sigmffile.fromfile(str(tmp_path / "rec.sigmf-meta"))  # validates schema and SHA-512
    assert np.allclose(smf.read_samples(), x)


def test_sigmf_ci16_is_scaled(tmp_path):
    iq = np.array([16384, -32768, 0, 8192], dtype="<i2")
    iq.tofile(tmp_path / "s.sigmf-data")
    meta = {"global": {"core:datatype": "ci16_le", "core:sample_rate": 1e6, "core:version": "1.2.0"},
            "captures": [{"core:sample_start": 0}], "annotations": []}
    (tmp_path / "s.sigmf-meta").write_text(json.dumps(meta))
    y, fs = read_iq(tmp_path / "s.sigmf-meta")
    assert fs == 1e6
    assert np.array_equal(y, np.array([0.5 - 1j, 0 + 0.25j], dtype=np.complex64))


def test_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        IQReader(tmp_path / "missing.cf32")
    with pytest.raises(InputError, match="unknown IQ file type"):
        IQReader(tmp_path / "x.wav")
    (tmp_path / "odd.cf32").write_bytes(b"123")
    with pytest.raises(InputError, match="whole number"):
        IQReader(tmp_path / "odd.cf32")
    meta = {"global": {"core:datatype": "rf64_le"}, "captures": []}
    (tmp_path / "b.sigmf-meta").write_text(json.dumps(meta))
    (tmp_path / "b.sigmf-data").write_bytes(b"")
    with pytest.raises(InputError, match="datatype"):
        IQReader(tmp_path / "b.sigmf-meta")


def test_one_format_for_hardware_recordings_and_iq_files(tmp_path):
    """linksim.hw.sigmf_io writes through iqfile: IQReader reads its recordings, read_sigmf reads write_iq's, and
    a base name with a dot keeps it (`cap.v2` -> `cap.v2.sigmf-data`, not `cap.sigmf-data`)."""
    from linksim.hw.sigmf_io import read_meta, read_sigmf, write_sigmf

    x = (np.arange(300) * (0.5 - 0.25j)).astype(np.complex64)
    meta_path = write_sigmf(tmp_path / "cap.v2", x, sample_rate_sps=2e6, center_freq_hz=2.2e9, linksim={"k": 1})
    assert meta_path == tmp_path / "cap.v2.sigmf-meta" and (tmp_path / "cap.v2.sigmf-data").is_file()
    r = IQReader(meta_path)
    assert (r.sample_rate_hz, r.frequency_hz) == (2e6, 2.2e9) and r.meta["linksim:k"] == 1
    assert np.array_equal(r.read_all(), x)
    write_iq(tmp_path / "b.sigmf-data", x, 1e6)
    y, meta = read_sigmf(tmp_path / "b")
    assert np.array_equal(y, x) and meta["global"]["core:sample_rate"] == 1e6
    (tmp_path / "c.sigmf-meta").write_text(json.dumps({"global": {"core:datatype": "ci16_le",
                                                                  "core:sample_rate": 1e6}}))
    with pytest.raises(InputError, match="datatype 'ci16_le' not supported"):
        read_meta(tmp_path / "c")  # the GNU Radio replay source plays complex64 only


def test_magnitude_bound_is_an_upper_bound_and_flags_nan() -> None:
    """The cheap check's bound: never below the largest |x| (at most sqrt(2) above it), NaN for a NaN sample,
    infinite for an infinite one, None where only the exact check applies."""
    import math

    from linksim.iqfile import magnitude_bound

    rng = np.random.default_rng(5)
    x = ((rng.standard_normal(4096) + 1j * rng.standard_normal(4096)) * 10 ** rng.uniform(-6, 6, 4096)).astype(
        np.complex64)
    b = magnitude_bound(x)
    top = float(np.max(np.abs(x.astype(np.complex128))))
    assert top <= b * (1 + 1e-7) and b <= math.sqrt(2.0) * top * (1 + 1e-7)
    y = x.copy()
    y[100] = complex(np.nan, 0.0)
    assert math.isnan(magnitude_bound(y))
    y[100] = complex(0.0, -np.inf)
    assert magnitude_bound(y) == math.inf
    assert magnitude_bound(x[::2]) is None and magnitude_bound(x[:0]) is None
    assert magnitude_bound(x.astype(np.complex128)) is None
