"""IQ files: raw interleaved complex64 (.cf32 / .fc32 / .raw) and SigMF recordings (.sigmf-meta + .sigmf-data).

Reading and writing stream in chunks, so memory does not depend on file length.
    IQReader(path, chunk_samples=1<<18, what="input"): .sample_rate_hz (SigMF's core:sample_rate, else None),
        .n_samples, .frequency_hz (first capture's core:frequency, else None), .meta (SigMF global dict or {}),
        .files (the paths it reads), iterate for complex64 chunks. SigMF datatypes read: cf32_le, ci16_le, ci8
        (integers scaled to [-1, 1)). Only regular files are opened (a FIFO or /dev/zero is refused up front).
        .check() reads the file once and returns an IQCheck: sample count, mean power, largest magnitude and,
        when the metadata has core:sha512, whether the data still matches it. It refuses (InputError) a sample
        that is NaN, infinite or larger in magnitude than MAX_SAMPLE_ABS: such a file is not IQ (random bytes
        read as float32 nearly always hold such values) and would give NaN downstream.
        .open_stream() -> IQStream: .read_into(buf) fills a caller's complex64 buffer (no allocation per chunk).
    IQWriter(path, sample_rate_hz, description="", frequency_hz=None, extra_global=None, inputs=(), what="output"):
        .write(chunk), .close() (also a context manager: closes on success, .abort() on an exception). The data
        (and the meta) are written to temporary files beside the output and renamed over it on close, so an
        error leaves no partial output; an output that is one of `inputs` (IQ paths the command reads, compared
        by device and inode, SigMF pairs included) is refused; a chunk with a NaN or infinite sample is refused.
        For SigMF, the .sigmf-meta (cf32_le, sample rate, SHA-512 of the data, one capture) is validated against
        the SigMF schema through the `sigmf` package.
A SigMF path may name either file or the common base (`rec`, `rec.sigmf-meta`, `rec.sigmf-data`).

The SigMF file format lives here alone (linksim.hw.sigmf_io builds its recorder and replay blocks on it):
    sigmf_base(path), sigmf_paths(path) -> (meta, data): file naming.
    sigmf_meta(sample_rate_hz, frequency_hz=, description=, hw=, datetime_utc=, extra_global=, annotations=): the
        meta document of a one-capture, single-channel cf32_le recording.
    write_sigmf_meta(path, doc, checksum=False, sha512=None): write it (checksum=True: add the data's SHA-512,
        computed or given, and validate it against the SigMF schema through the `sigmf` package).
    read_sigmf_meta(path, what=, datatypes=, need_rate=): read and check it (InputError naming the problem).
    sigmf_data_path(path, what=): the data file, InputError if it is missing or not a regular file.
    iq_files(path): the files a reader of `path` reads (both files of a SigMF recording).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .files import AtomicOutput, FileError, check_input, read_text

RAW_SUFFIXES = (".cf32", ".fc32", ".raw", ".c64")
SIGMF_SUFFIXES = (".sigmf-meta", ".sigmf-data", ".sigmf")
_DTYPES = {"cf32_le": (np.dtype("<f4"), 1.0), "ci16_le": (np.dtype("<i2"), 1 / 32768), "ci8": (np.dtype("i1"), 1 / 128)}
MAX_SAMPLE_ABS = 1e12  # larger |x| is not IQ (240 dB above full scale): |x|^2 sums would overflow float32


def magnitude_bound(c: np.ndarray) -> float | None:
    """An upper bound of |c| for a contiguous complex64 chunk from two reductions (no temporaries): sqrt(2) times
    the largest |I| or |Q|, NaN if a sample is NaN. None for an empty, strided or other-typed array (check exactly).
    The checks of samples take it first and look at each |x| only when it is close to their limit."""
    if c.dtype != np.complex64 or not c.size or not c.flags.c_contiguous:
        return None
    v = c.view(np.float32)
    with np.errstate(invalid="ignore"):
        hi, lo = float(v.max()), float(v.min())
    return max(hi, -lo) * math.sqrt(2.0) if not (math.isnan(hi) or math.isnan(lo)) else math.nan


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


def write_sigmf_meta(path: str | os.PathLike, doc: Mapping[str, Any], *, checksum: bool = False,
                     sha512: str | None = None, data_path: str | os.PathLike | None = None,
                     meta_path: str | os.PathLike | None = None) -> Path:
    """Write a recording's .sigmf-meta (`path` names either file or the base) and return its path.

    checksum=True (the data file is complete): add the data's core:sha512 (`sha512` if given, else computed from
    the data file) and validate the document against the SigMF schema through the `sigmf` package. Otherwise
    plain JSON (numpy values, paths and datetimes converted), e.g. for a recorder that writes its meta before the
    data is complete. data_path / meta_path: the files actually read / written when they are not the recording's
    own names (temporary files that are renamed afterwards)."""
    own_meta, own_data = sigmf_paths(path)
    out = Path(meta_path) if meta_path is not None else own_meta
    plain = json.loads(json.dumps(doc, default=_json_default))
    if checksum:
        from sigmf.validate import validate

        if sha512 is None:
            sha512 = file_sha512(data_path if data_path is not None else own_data)
        plain["global"]["core:sha512"] = sha512
        try:
            validate(plain)
        except Exception as e:  # noqa: BLE001 - jsonschema's ValidationError: one line naming the problem
            raise InputError(f"{own_meta}: not valid SigMF metadata ({str(e).splitlines()[0]})") from None
    out.write_text(json.dumps(plain, indent=2) + "\n")
    return own_meta


def file_sha512(path: str | os.PathLike, chunk_bytes: int = 1 << 22) -> str:
    """The SHA-512 (hex) of a file, read in chunks."""
    h = hashlib.sha512()
    with open(path, "rb") as f:
        while b := f.read(chunk_bytes):
            h.update(b)
    return h.hexdigest()


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
    `what`, if it is missing, not a regular file, not JSON, its datatype is not in `datatypes`, it has more than
    one channel, a sample rate, frequency or header size is not a valid number, or (need_rate) its
    core:sample_rate is missing."""
    p = sigmf_paths(path)[0]
    try:
        text = read_text(p, what)
    except FileError as e:
        if e.problem == "no such file":
            raise InputError(f"{_label(what, p)}: no such SigMF metadata file") from None
        raise
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise InputError(f"{_label(what, p)}: not readable SigMF metadata ({e})") from None

    def bad(problem: str) -> InputError:
        return InputError(f"{_label(what, p)}: {problem}")

    if not isinstance(doc, dict) or not isinstance(doc.get("global", {}), dict):
        raise bad("not SigMF metadata (expected a JSON object with a \"global\" object)")
    caps = doc.get("captures", [])
    if not isinstance(caps, list) or not all(isinstance(c, dict) for c in caps):
        raise bad("captures: expected a list of objects")
    glob = doc.get("global", {})
    dt = glob.get("core:datatype", "")
    ok = tuple(datatypes)
    if dt not in ok:
        raise bad(f"core:datatype {dt!r} not supported ({', '.join(ok)})")
    nch = glob.get("core:num_channels", 1)
    if not isinstance(nch, int) or isinstance(nch, bool) or nch < 1:
        raise bad(f"core:num_channels: expected an integer >= 1, got {nch!r}")
    if nch != 1:
        raise bad("only single-channel recordings are supported")
    sr = glob.get("core:sample_rate")
    if sr is not None and not _positive_number(sr):
        raise bad(f"core:sample_rate: expected a number > 0, got {sr!r}")
    if need_rate and sr is None:
        raise bad("core:sample_rate missing or not positive")
    if caps:
        f = caps[0].get("core:frequency")
        if f is not None and not (_number(f) and math.isfinite(f)):
            raise bad(f"captures[0].core:frequency: expected a finite number, got {f!r}")
        hb = caps[0].get("core:header_bytes", 0)
        if not isinstance(hb, int) or isinstance(hb, bool) or hb < 0:
            raise bad(f"captures[0].core:header_bytes: expected an integer >= 0, got {hb!r}")
    sha = glob.get("core:sha512")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 128):
        raise bad(f"core:sha512: expected 128 hexadecimal digits, got {sha!r}")
    return doc


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _positive_number(v: Any) -> bool:
    return _number(v) and math.isfinite(v) and v > 0


def sigmf_data_path(path: str | os.PathLike, *, what: str = "input") -> Path:
    """The .sigmf-data file of a recording; InputError if it does not exist or is not a regular file."""
    data = sigmf_paths(path)[1]
    try:
        check_input(data, what)
    except FileError as e:
        if e.problem == "no such file":
            raise InputError(f"{_label(what, data)}: no such SigMF data file") from None
        raise
    return data


def iq_files(path: str | os.PathLike) -> list[Path]:
    """The files a reader of `path` reads: a SigMF recording's meta and data, or the raw file."""
    return list(sigmf_paths(path)) if is_sigmf(path) else [Path(path)]


@dataclass(frozen=True)
class IQCheck:
    """What IQReader.check found: samples, mean |x|^2 (float64 sum), largest |x|, and for a SigMF recording with
    core:sha512 the SHA-512 of its data and whether it matches (sha512_ok None: nothing to compare with)."""

    n_samples: int
    mean_power: float
    max_abs: float
    sha512: str | None = None
    sha512_ok: bool | None = None


class IQReader:
    """Chunked reader of a .cf32 or SigMF file (complex64 chunks)."""

    def __init__(self, path: str | os.PathLike, chunk_samples: int = 1 << 18, what: str = "input") -> None:
        _check_suffix(path, what)
        self.what = what
        self.chunk_samples = int(chunk_samples)
        self.sample_rate_hz: float | None = None
        self.frequency_hz: float | None = None
        self.meta: dict = {}
        self._dtype, self._scale = _DTYPES["cf32_le"]
        self._offset = 0
        if is_sigmf(path):
            doc = read_sigmf_meta(path, what=what)
            self.data_path = sigmf_data_path(path, what=what)
            self.meta = dict(doc.get("global", {}))
            self._dtype, self._scale = _DTYPES[self.meta["core:datatype"]]
            sr = self.meta.get("core:sample_rate")
            self.sample_rate_hz = float(sr) if sr is not None else None
            caps = doc.get("captures", [])
            if caps and "core:frequency" in caps[0]:
                self.frequency_hz = float(caps[0]["core:frequency"])
            self._offset = int(caps[0].get("core:header_bytes", 0)) if caps else 0
            self.files = [sigmf_paths(path)[0], self.data_path]
        else:
            self.data_path = Path(path)
            self.files = [self.data_path]
        st = check_input(self.data_path, what)
        nbytes = st.st_size - self._offset
        per = 2 * self._dtype.itemsize
        if nbytes < 0:
            raise InputError(f"{what} {self.data_path}: shorter than its core:header_bytes ({self._offset})")
        if nbytes % per:
            raise InputError(f"{what} {self.data_path}: size is not a whole number of complex samples")
        self.n_samples = nbytes // per

    def __iter__(self) -> Iterator[np.ndarray]:
        with open(self.data_path, "rb") as f:
            f.seek(self._offset)
            left = self.n_samples  # never more than the size seen at open (the file may grow or be a link)
            while left > 0:
                a = np.fromfile(f, dtype=self._dtype, count=2 * min(self.chunk_samples, left))
                if a.size == 0:
                    return
                a = a[: a.size - a.size % 2]
                left -= a.size // 2
                if self._dtype == np.dtype("<f4"):
                    yield a.view(np.complex64) if a.dtype == np.float32 else a.astype(np.float32).view(np.complex64)
                else:
                    af = a.astype(np.float32) * np.float32(self._scale)
                    yield af.view(np.complex64)

    def check(self, max_abs: float = MAX_SAMPLE_ABS) -> IQCheck:
        """Read the whole file once: InputError at the first sample that is NaN, infinite or larger than
        max_abs; the SHA-512 of the data when the metadata has core:sha512 (see IQCheck)."""
        acc = 0.0
        peak = 0.0
        n = 0
        with self.open_stream(verify=True, max_abs=max_abs) as st:
            buf = np.empty(self.chunk_samples, np.complex64)
            while (k := st.read_into(buf)) > 0:
                c = buf[:k]
                p2 = c.real.astype(np.float64) ** 2 + c.imag.astype(np.float64) ** 2
                acc += float(p2.sum())
                peak = max(peak, float(p2.max(initial=0.0)))
                n += k
            got = st.sha512()
        want = self.meta.get("core:sha512")
        return IQCheck(n, acc / n if n else 0.0, math.sqrt(peak), got,
                       None if got is None else got.lower() == str(want).lower())

    def bad_sample(self, c: np.ndarray, n0: int, max_abs: float = MAX_SAMPLE_ABS) -> None:
        """InputError naming the first sample of chunk c (samples n0..) that is NaN, infinite or larger than
        max_abs in magnitude, if there is one."""
        b = magnitude_bound(c)
        if b is not None and b <= max_abs:
            return
        with np.errstate(invalid="ignore", over="ignore"):  # random bytes: signalling NaNs, huge values
            p2 = c.real.astype(np.float64) ** 2 + c.imag.astype(np.float64) ** 2
        bad = ~(p2 <= max_abs * max_abs)  # NaN too
        if bad.any():
            i = int(np.argmax(bad))
            v = c[i]
            kind = "NaN or infinite" if not np.isfinite(v) else f"{abs(complex(v)):.3g} in magnitude (more than " \
                f"{max_abs:g})"
            raise InputError(f"{self.what} {self.data_path}: sample {n0 + i} is {kind}: not {self._kind()} IQ "
                             f"samples (a corrupt file or random bytes?)")

    def _kind(self) -> str:
        return {"cf32_le": "complex64", "ci16_le": "complex int16", "ci8": "complex int8"}.get(
            str(self.meta.get("core:datatype", "cf32_le")), "complex64")

    def read_all(self) -> np.ndarray:
        """The whole file at once (for small files and tests)."""
        parts = list(self)
        return np.concatenate(parts) if parts else np.empty(0, np.complex64)

    def open_stream(self, verify: bool = False, max_abs: float = MAX_SAMPLE_ABS) -> IQStream:
        """The samples in order, read into buffers the caller owns (`IQStream.read_into`): for streaming without
        an allocation per chunk (linksim.channel.stream). verify: every chunk is checked as check() does (an
        InputError at a NaN, infinite or absurd sample) and the file is hashed when its metadata has core:sha512
        (`IQStream.sha512()` once read), in the same single pass."""
        return IQStream(self, verify, max_abs)


class IQStream:
    """Sequential reader into caller buffers: read_into(buf) fills complex64 `buf` with the next samples and
    returns how many (0 at the end of the file). close() (or a with-block) closes the file."""

    def __init__(self, reader: IQReader, verify: bool = False, max_abs: float = MAX_SAMPLE_ABS) -> None:
        self._r = reader
        self._verify = verify
        self._max_abs = max_abs
        self._f = open(reader.data_path, "rb")  # noqa: SIM115 - closed in close()
        want = reader.meta.get("core:sha512") if verify else None
        self._hash = hashlib.sha512() if want else None
        head = self._f.read(reader._offset)  # the hash covers the whole data file, header bytes included
        if self._hash is not None:
            self._hash.update(head)
        self._dtype = reader._dtype
        self._scale = np.float32(reader._scale)
        self._raw: np.ndarray | None = None
        self._left = int(reader.n_samples)  # never more than the size seen at open (the file may grow)
        self._n = 0

    def _fill(self, mv: memoryview) -> int:
        got = 0
        while got < len(mv):  # a regular file returns short reads only at its end; loop anyway
            r = self._f.readinto(mv[got:])
            if not r:
                break
            got += r
        return got

    def read_into(self, buf: np.ndarray) -> int:
        n = min(buf.size, self._left)
        if self._dtype == np.dtype("<f4"):  # complex64 on disk: straight into the buffer
            k = self._fill(memoryview(buf[:n].view(np.uint8))) // 8
            raw = buf[:k].view(np.uint8)
        else:
            if self._raw is None or self._raw.size < 2 * n:
                self._raw = np.empty(2 * n, dtype=self._dtype)
            k = self._fill(memoryview(self._raw[: 2 * n].view(np.uint8))) // (2 * self._dtype.itemsize)
            raw = self._raw[: 2 * k].view(np.uint8)
            np.multiply(self._raw[: 2 * k], self._scale, out=buf[:k].view(np.float32), casting="unsafe")
        if self._hash is not None:
            self._hash.update(raw)
        if self._verify:
            self._r.bad_sample(buf[:k], self._n, self._max_abs)
        self._left -= k
        self._n += k
        return k

    def sha512(self) -> str | None:
        """The data file's SHA-512 (hex) once read to the end, if its metadata has core:sha512 and verify was on;
        the rest of the file (past the samples counted at open) is hashed here."""
        if self._hash is None:
            return None
        while b := self._f.read(1 << 22):
            self._hash.update(b)
        return self._hash.hexdigest()

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> IQStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class IQWriter:
    """Chunked writer of .cf32 or SigMF (cf32_le), whole or not at all (see the module doc)."""

    def __init__(self, path: str | os.PathLike, sample_rate_hz: float | None = None, description: str = "",
                 frequency_hz: float | None = None, extra_global: dict | None = None, *,
                 inputs: Iterable[str | os.PathLike] = (), what: str = "output") -> None:
        _check_suffix(path, what)
        self.path = path
        self.what = what
        self.sigmf = is_sigmf(path) or str(path).endswith(SIGMF_SUFFIXES)
        if self.sigmf and sample_rate_hz is None:
            raise InputError(f"{what} {path}: SigMF needs a sample rate")
        if sample_rate_hz is not None and not _positive_number(sample_rate_hz):
            raise InputError(f"{what} {path}: the sample rate must be a number > 0, got {sample_rate_hz}")
        read = [f for p in inputs for f in iq_files(p)]
        self._meta_out: AtomicOutput | None = None
        if self.sigmf:
            self.meta_path, self.data_path = sigmf_paths(path)
            self._data_out = AtomicOutput(self.data_path, what, inputs=read)
            try:
                self._meta_out = AtomicOutput(self.meta_path, what, inputs=read)
            except BaseException:
                self._data_out.discard()
                raise
        else:
            self.data_path = Path(path)
            self._data_out = AtomicOutput(self.data_path, what, inputs=read)
        self.sample_rate_hz = sample_rate_hz
        self.description = description
        self.frequency_hz = frequency_hz
        self.extra_global = dict(extra_global or {})
        self.n_samples = 0
        self._hash = hashlib.sha512() if self.sigmf else None
        try:
            self._f = self._data_out.open("wb")  # closed in close()
        except OSError as e:
            self.abort()
            raise InputError(f"{what} {self.data_path}: cannot write ({e.strerror})") from None

    def write(self, x: np.ndarray, bound: float | None = None) -> None:
        """Append samples; a NaN or infinite one is an InputError (nothing written). bound: magnitude_bound(x) when
        the caller has it already (its check is not done twice)."""
        a = np.ascontiguousarray(x, dtype=np.complex64)
        b = bound if bound is not None and a is x else magnitude_bound(a)
        if (b is None or not math.isfinite(b)) and a.size and not (fin := np.isfinite(a)).all():
            i = int(np.argmin(fin))
            self.abort()
            raise InputError(f"{self.what} {self.path}: sample {self.n_samples + i} is NaN or infinite; "
                             f"nothing written")
        try:
            a.tofile(self._f)
        except OSError as e:
            self.abort()
            raise InputError(f"{self.what} {self.data_path}: cannot write ({e.strerror})") from None
        if self._hash is not None:
            self._hash.update(a.data)
        self.n_samples += a.size

    def close(self) -> None:
        """Finish the file(s) and rename them over the output path."""
        if self._f.closed:
            return
        try:
            self._f.close()
            if self._meta_out is not None:
                assert self._hash is not None and self.sample_rate_hz is not None
                doc = sigmf_meta(self.sample_rate_hz, frequency_hz=self.frequency_hz, description=self.description,
                                 extra_global=self.extra_global)
                write_sigmf_meta(self.meta_path, doc, checksum=True, sha512=self._hash.hexdigest(),
                                 meta_path=self._meta_out.tmp_path)
        except OSError as e:
            self.abort()
            raise InputError(f"{self.what} {self.path}: cannot write ({e.strerror})") from None
        except BaseException:
            self.abort()
            raise
        self._data_out.commit()
        if self._meta_out is not None:
            self._meta_out.commit()

    def abort(self) -> None:
        """Drop what was written: the output path is left as it was."""
        f = getattr(self, "_f", None)
        if f is not None and not f.closed:
            f.close()
        self._data_out.discard()
        if self._meta_out is not None:
            self._meta_out.discard()

    def __enter__(self) -> IQWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_iq(path: str | os.PathLike, x: np.ndarray, sample_rate_hz: float | None = None, **kw: object) -> None:
    """Write a whole array (see IQWriter)."""
    with IQWriter(path, sample_rate_hz, **kw) as w:  # type: ignore[arg-type]
        w.write(x)


def read_iq(path: str | os.PathLike) -> tuple[np.ndarray, float | None]:
    """Read a whole file: (samples complex64, sample_rate_hz or None)."""
    r = IQReader(path)
    return r.read_all(), r.sample_rate_hz
