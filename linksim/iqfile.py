"""IQ files: raw interleaved complex64 (.cf32 / .fc32 / .raw) and SigMF recordings (.sigmf-meta + .sigmf-data).

Reading and writing stream in chunks, so memory does not depend on file length.
    IQReader(path, chunk_samples=1<<18): .sample_rate_hz (SigMF's core:sample_rate, else None), .n_samples,
        .frequency_hz (first capture's core:frequency, else None), .meta (SigMF global dict or {}), iterate for
        complex64 chunks. SigMF datatypes read: cf32_le, ci16_le, ci8 (integers scaled to [-1, 1)).
    IQWriter(path, sample_rate_hz, description="", frequency_hz=None, extra_global=None): .write(chunk), .close()
        (also a context manager). For SigMF, the .sigmf-meta (cf32_le, sample rate, SHA-512, one capture) is
        written on close through the `sigmf` package, which validates it against the SigMF schema.
A SigMF path may name either file or the common base (`rec`, `rec.sigmf-meta`, `rec.sigmf-data`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import InputError

RAW_SUFFIXES = (".cf32", ".fc32", ".raw", ".c64")
SIGMF_SUFFIXES = (".sigmf-meta", ".sigmf-data", ".sigmf")
_DTYPES = {"cf32_le": (np.dtype("<f4"), 1.0), "ci16_le": (np.dtype("<i2"), 1 / 32768), "ci8": (np.dtype("i1"), 1 / 128)}


def is_sigmf(path: str | os.PathLike) -> bool:
    p = str(path)
    return p.endswith(SIGMF_SUFFIXES) or (not p.endswith(RAW_SUFFIXES) and Path(p + ".sigmf-meta").exists())


def sigmf_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(meta, data) paths of a SigMF recording named by either file or the base name."""
    p = str(path)
    for suf in SIGMF_SUFFIXES:
        if p.endswith(suf):
            p = p[: -len(suf)]
            break
    return Path(p + ".sigmf-meta"), Path(p + ".sigmf-data")


def _check_suffix(path: str | os.PathLike, what: str) -> None:
    p = str(path)
    if not (p.endswith(RAW_SUFFIXES) or p.endswith(SIGMF_SUFFIXES) or is_sigmf(p)):
        raise InputError(f"{what} {p}: unknown IQ file type (use .cf32 raw complex64 or .sigmf-meta/.sigmf-data)")


class IQReader:
    """Chunked reader of a .cf32 or SigMF file (complex64 chunks)."""

    def __init__(self, path: str | os.PathLike, chunk_samples: int = 1 << 18) -> None:
        _check_suffix(path, "input")
        self.chunk_samples = int(chunk_samples)
        self.sample_rate_hz: float | None = None
        self.frequency_hz: float | None = None
        self.meta: dict = {}
        self._dtype, self._scale = _DTYPES["cf32_le"]
        self._offset = 0
        if is_sigmf(path):
            meta_path, self.data_path = sigmf_paths(path)
            if not meta_path.exists():
                raise InputError(f"input {meta_path}: no such SigMF metadata file")
            try:
                doc = json.loads(meta_path.read_text())
            except (OSError, ValueError) as e:
                raise InputError(f"input {meta_path}: not readable SigMF metadata ({e})") from None
            self.meta = dict(doc.get("global", {}))
            dt = self.meta.get("core:datatype", "")
            if dt not in _DTYPES:
                raise InputError(f"input {meta_path}: core:datatype '{dt}' not supported (cf32_le, ci16_le, ci8)")
            if int(self.meta.get("core:num_channels", 1)) != 1:
                raise InputError(f"input {meta_path}: only single-channel recordings are supported")
            self._dtype, self._scale = _DTYPES[dt]
            sr = self.meta.get("core:sample_rate")
            self.sample_rate_hz = float(sr) if sr is not None else None
            caps = doc.get("captures", [])
            if caps and "core:frequency" in caps[0]:
                self.frequency_hz = float(caps[0]["core:frequency"])
            self._offset = int(caps[0].get("core:header_bytes", 0)) if caps else 0
        else:
            self.data_path = Path(path)
        if not self.data_path.exists():
            raise InputError(f"input {self.data_path}: no such file")
        nbytes = self.data_path.stat().st_size - self._offset
        per = 2 * self._dtype.itemsize
        if nbytes % per:
            raise InputError(f"input {self.data_path}: size is not a whole number of complex samples")
        self.n_samples = nbytes // per

    def __iter__(self) -> Iterator[np.ndarray]:
        with open(self.data_path, "rb") as f:
            f.seek(self._offset)
            while True:
                a = np.fromfile(f, dtype=self._dtype, count=2 * self.chunk_samples)
                if a.size == 0:
                    return
                if self._dtype == np.dtype("<f4"):
                    yield a.view(np.complex64) if a.dtype == np.float32 else a.astype(np.float32).view(np.complex64)
                else:
                    af = a.astype(np.float32) * np.float32(self._scale)
                    yield af.view(np.complex64)

    def read_all(self) -> np.ndarray:
        """The whole file at once (for small files and tests)."""
        parts = list(self)
        return np.concatenate(parts) if parts else np.empty(0, np.complex64)


class IQWriter:
    """Chunked writer of .cf32 or SigMF (cf32_le)."""

    def __init__(self, path: str | os.PathLike, sample_rate_hz: float | None = None, description: str = "",
                 frequency_hz: float | None = None, extra_global: dict | None = None) -> None:
        _check_suffix(path, "output")
        self.sigmf = is_sigmf(path) or str(path).endswith(SIGMF_SUFFIXES)
        if self.sigmf:
            self.meta_path, self.data_path = sigmf_paths(path)
            if sample_rate_hz is None:
                raise InputError(f"output {path}: SigMF needs a sample rate")
        else:
            self.data_path = Path(path)
        self.sample_rate_hz = sample_rate_hz
        self.description = description
        self.frequency_hz = frequency_hz
        self.extra_global = dict(extra_global or {})
        self.n_samples = 0
        try:
            self._f = open(self.data_path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise InputError(f"output {self.data_path}: cannot write ({e.strerror})") from None

    def write(self, x: np.ndarray) -> None:
        a = np.ascontiguousarray(x, dtype=np.complex64)
        a.tofile(self._f)
        self.n_samples += a.size

    def close(self) -> None:
        if self._f.closed:
            return
        self._f.close()
        if self.sigmf:
            from sigmf import SigMFFile

            from . import __version__

            info = {
                "core:datatype": "cf32_le",
                "core:sample_rate": float(self.sample_rate_hz),
                "core:version": _sigmf_version(),
                "core:recorder": f"linksim {__version__}",
                "core:num_channels": 1,
            }
            if self.description:
                info["core:description"] = self.description
            info.update(self.extra_global)
            smf = SigMFFile(data_file=str(self.data_path), global_info=info)
            cap = {} if self.frequency_hz is None else {"core:frequency": float(self.frequency_hz)}
            smf.add_capture(0, metadata=cap)
            smf.tofile(str(self.meta_path), overwrite=True)

    def __enter__(self) -> IQWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sigmf_version() -> str:
    try:
        import sigmf

        return str(getattr(sigmf, "__specification__", "1.2.0"))
    except ImportError:  # pragma: no cover
        return "1.2.0"


def write_iq(path: str | os.PathLike, x: np.ndarray, sample_rate_hz: float | None = None, **kw: object) -> None:
    """Write a whole array (see IQWriter)."""
    with IQWriter(path, sample_rate_hz, **kw) as w:  # type: ignore[arg-type]
        w.write(x)


def read_iq(path: str | os.PathLike) -> tuple[np.ndarray, float | None]:
    """Read a whole file: (samples complex64, sample_rate_hz or None)."""
    r = IQReader(path)
    return r.read_all(), r.sample_rate_hz
