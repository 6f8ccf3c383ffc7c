"""IQ files: raw interleaved complex64 (.cf32 / .fc32 / .raw) and SigMF recordings (.sigmf-meta + .sigmf-data).

Reading and writing stream in chunks, so memory does not depend on file length.
    IQReader(path, chunk_samples=1<<18): .sample_rate_hz (SigMF's core:sample_rate, else None), .n_samples,
        .frequency_hz (first capture's core:frequency, else None), .meta (SigMF global dict or {}), iterate for
        complex64 chunks. SigMF datatypes read: cf32_le, ci16_le, ci8 (integers scaled to [-1, 1)).
        .open_stream() -> IQStream: .read_into(buf) fills a caller's complex64 buffer (no allocation per chunk).
    IQWriter(path, sample_rate_hz, description="", frequency_hz=None, extra_global=None): .write(chunk), .close()
        (also a context manager). For SigMF, the .sigmf-meta (cf32_le, sample rate, SHA-512, one capture) is
        written on close through the `sigmf` package, which validates it against the SigMF schema.
A SigMF path may name either file or the common base (`rec`, `rec.sigmf-meta`, `rec.sigmf-data`).

The SigMF file format lives here alone (linksim.hw.sigmf_io builds its recorder and replay blocks on it):
    sigmf_base(path), sigmf_paths(path) -> (meta, data): file naming.
    sigmf_meta(sample_rate_hz, frequency_hz=, description=, hw=, datetime_utc=, extra_global=, annotations=): the
        meta document of a one-capture, single-channel cf32_le recording.
    write_sigmf_meta(path, doc, checksum=False): write it (checksum=True: add the data's SHA-512 and validate it
        against the SigMF schema through the `sigmf` package).
    read_sigmf_meta(path, what=, datatypes=, need_rate=): read and check it (InputError naming the problem).
    sigmf_data_path(path, what=): the data file, InputError if it is missing.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

RAW_SUFFIXES = (".cf32", ".fc32", ".raw", ".c64")
SIGMF_SUFFIXES = (".sigmf-meta", ".sigmf-data", ".sigmf")
_DTYPES = {"cf32_le": (np.dtype("<f4"), 1.0), "ci16_le": (np.dtype("<i2"), 1 / 32768), "ci8": (np.dtype("i1"), 1 / 128)}


def is_sigmf(path: str | os.PathLike) -> bool:
    p = str(path)
    return p.endswith(SIGMF_SUFFIXES) or (not p.endswith(RAW_SUFFIXES) and Path(p + ".sigmf-meta").exists())


def sigmf_base(path: str | os.PathLike) -> Path:
    """`rec.sigmf-meta`, `rec.sigmf-data`, `rec.sigmf` or `rec` -> `rec` (a SigMF recording's common base name)."""
    p = str(path)
    for suf in SIGMF_SUFFIXES:
        if p.endswith(suf):
            return Path(p[: -len(suf)])
    return Path(p)


def sigmf_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(meta, data) paths of a SigMF recording named by either file or the base name."""
    b = str(sigmf_base(path))
    return Path(b + ".sigmf-meta"), Path(b + ".sigmf-data")


def _check_suffix(path: str | os.PathLike, what: str) -> None:
    p = str(path)
    if not (p.endswith(RAW_SUFFIXES) or p.endswith(SIGMF_SUFFIXES) or is_sigmf(p)):
        raise InputError(f"{what} {p}: unknown IQ file type (use .cf32 raw complex64 or .sigmf-meta/.sigmf-data)")


@cache
def sigmf_version() -> str:
    """The SigMF specification version to write (the installed sigmf package's; imported on first use only:
    it pulls in jsonschema, a quarter of a second that readers of raw .cf32 files should not pay)."""
    try:
        import sigmf

        return str(getattr(sigmf, "__specification__", "1.2.0"))
    except ImportError:  # pragma: no cover
        return "1.2.0"


def sigmf_meta(
    sample_rate_hz: float,
    *,
    frequency_hz: float | None = None,
    description: str = "",
    hw: str = "",
    datetime_utc: _dt.datetime | None = None,
    extra_global: Mapping[str, Any] | None = None,
    annotations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The SigMF meta document of a one-capture, single-channel cf32_le recording at `sample_rate_hz` (S/s).

    frequency_hz: the capture's centre frequency (Hz); datetime_utc: the capture's start; extra_global: more
    global keys (e.g. extension keys), applied last."""
    from . import __version__

    glob: dict[str, Any] = {
        "core:datatype": "cf32_le",
        "core:sample_rate": float(sample_rate_hz),
        "core:version": sigmf_version(),
        "core:recorder": f"linksim {__version__}",
        "core:num_channels": 1,
    }
    if description:
        glob["core:description"] = description
    if hw:
        glob["core:hw"] = hw
    glob.update(extra_global or {})
    capture: dict[str, Any] = {"core:sample_start": 0}
    if datetime_utc is not None:
        capture["core:datetime"] = datetime_utc.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if frequency_hz is not None:
        capture["core:frequency"] = float(frequency_hz)
    return {"global": glob, "captures": [capture], "annotations": list(annotations or [])}


def write_sigmf_meta(path: str | os.PathLike, doc: Mapping[str, Any], *, checksum: bool = False) -> Path:
    """Write a recording's .sigmf-meta (`path` names either file or the base) and return its path.

    checksum=True (the data file is complete): add the data's core:sha512 and validate the document against the
    SigMF schema through the `sigmf` package. Otherwise plain JSON (numpy values, paths and datetimes converted),
    e.g. for a recorder that writes its meta before the data is complete."""
    meta_path, data_path = sigmf_paths(path)
    if checksum:
        from sigmf import SigMFFile

        smf = SigMFFile(metadata=json.loads(json.dumps(doc, default=_json_default)), data_file=str(data_path))
        smf.tofile(str(meta_path), overwrite=True)
    else:
        meta_path.write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
    return meta_path


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (_dt.datetime, _dt.date)):
        return o.isoformat()
    return str(o)


def _label(what: str, p: Path) -> str:
    return f"{what} {p}" if what else str(p)


def read_sigmf_meta(
    path: str | os.PathLike, *, what: str = "input", datatypes: Iterable[str] = tuple(_DTYPES), need_rate: bool = False
) -> dict[str, Any]:
    """The meta document of a recording (`path` names either file or the base). InputError, prefixed with
    `what`, if it is missing or not JSON, its datatype is not in `datatypes`, it has more than one channel, or
    (need_rate) its core:sample_rate is missing or not positive."""
    p = sigmf_paths(path)[0]
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError:
        raise InputError(f"{_label(what, p)}: no such SigMF metadata file") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{_label(what, p)}: not readable SigMF metadata ({e})") from None
    glob = doc.get("global", {})
    dt = glob.get("core:datatype", "")
    ok = tuple(datatypes)
    if dt not in ok:
        raise InputError(f"{_label(what, p)}: core:datatype {dt!r} not supported ({', '.join(ok)})")
    if int(glob.get("core:num_channels", 1)) != 1:
        raise InputError(f"{_label(what, p)}: only single-channel recordings are supported")
    sr = glob.get("core:sample_rate")
    if need_rate and (not isinstance(sr, (int, float)) or sr <= 0):
        raise InputError(f"{_label(what, p)}: core:sample_rate missing or not positive")
    return doc


def sigmf_data_path(path: str | os.PathLike, *, what: str = "input") -> Path:
    """The .sigmf-data file of a recording; InputError if it does not exist."""
    data = sigmf_paths(path)[1]
    if not data.is_file():
        raise InputError(f"{_label(what, data)}: no such SigMF data file")
    return data


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
            doc = read_sigmf_meta(path)
            self.data_path = sigmf_data_path(path)
            self.meta = dict(doc.get("global", {}))
            self._dtype, self._scale = _DTYPES[self.meta["core:datatype"]]
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

    def open_stream(self) -> IQStream:
        """The samples in order, read into buffers the caller owns (`IQStream.read_into`): for streaming without
        an allocation per chunk (linksim.channel.stream)."""
        return IQStream(self.data_path, self._offset, self._dtype, self._scale)


class IQStream:
    """Sequential reader into caller buffers: read_into(buf) fills complex64 `buf` with the next samples and
    returns how many (0 at the end of the file). close() (or a with-block) closes the file."""

    def __init__(self, path: Path, offset: int, dtype: np.dtype, scale: float) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._f.seek(offset)
        self._dtype = dtype
        self._scale = np.float32(scale)
        self._raw: np.ndarray | None = None

    def _fill(self, mv: memoryview) -> int:
        got = 0
        while got < len(mv):  # a regular file returns short reads only at its end; loop anyway
            r = self._f.readinto(mv[got:])
            if not r:
                break
            got += r
        return got

    def read_into(self, buf: np.ndarray) -> int:
        if self._dtype == np.dtype("<f4"):  # complex64 on disk: straight into the buffer
            return self._fill(memoryview(buf.view(np.uint8))) // 8
        if self._raw is None or self._raw.size < 2 * buf.size:
            self._raw = np.empty(2 * buf.size, dtype=self._dtype)
        k = self._fill(memoryview(self._raw[: 2 * buf.size].view(np.uint8))) // (2 * self._dtype.itemsize)
        np.multiply(self._raw[: 2 * k], self._scale, out=buf[:k].view(np.float32), casting="unsafe")
        return k

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> IQStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
            doc = sigmf_meta(self.sample_rate_hz, frequency_hz=self.frequency_hz, description=self.description,
                             extra_global=self.extra_global)
            write_sigmf_meta(self.meta_path, doc, checksum=True)

    def __enter__(self) -> IQWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_iq(path: str | os.PathLike, x: np.ndarray, sample_rate_hz: float | None = None, **kw: object) -> None:
    """Write a whole array (see IQWriter)."""
    with IQWriter(path, sample_rate_hz, **kw) as w:  # type: ignore[arg-type]
        w.write(x)


def read_iq(path: str | os.PathLike) -> tuple[np.ndarray, float | None]:
    """Read a whole file: (samples complex64, sample_rate_hz or None)."""
    r = IQReader(path)
    return r.read_all(), r.sample_rate_hz
