"""Files the user names on the command line: inputs checked before they are read, outputs written whole or not at all.

Inputs (scenario files, campaign specs, device profiles, SigMF metadata, TS files):
    check_input(path, what, max_bytes=None) -> os.stat_result: the file exists and is a regular file (not a
        directory, a FIFO or a device such as /dev/zero, which would block or never end) and, with max_bytes, is
        not larger than that. Looked at with os.stat before anything is opened.
    read_bytes(path, what, max_bytes), read_text(path, what, max_bytes=TEXT_MAX_BYTES): the content, read with the
        size bound (a file that grows while it is read cannot make the read unbounded); read_text also refuses
        binary content (a NUL byte) and text that is not UTF-8.
    Every problem is a FileError (an InputError: exit code 2) whose message is one line naming the file.

Outputs (IQ files, CSV, figures, TS and JSON lines):
    AtomicOutput(path, what, inputs=()): checks the path at once (its directory exists and is writable, the path is
    not a directory or a device, and it is not one of `inputs`, also through a symlink or a hard link: st_dev and
    st_ino are compared), then writes to a hidden temporary file in the same directory (`.tmp_path`, same
    suffix, so format-by-extension writers work). `open(mode)` opens that file for writing without truncating
    it (see AtomicOutput.open). `commit()` renames it over the path (atomic on POSIX); `discard()` removes it. As a
    context manager it commits on success and discards on any exception, so an error or Ctrl-C never leaves a
    0-byte or half-written output and never truncates an existing file.
"""

from __future__ import annotations

import os
import secrets
import stat
import tomllib
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import InputError

TEXT_MAX_BYTES = 16 << 20  # scenario files, campaign specs, device profiles, SigMF metadata: 16 MiB at most


class FileError(InputError):
    """A file the user named cannot be used. `path` is the file, `problem` says why (no path in it)."""

    def __init__(self, path: str | os.PathLike[str], problem: str, what: str = "") -> None:
        self.path = str(path)
        self.problem = problem
        self.what = what
        super().__init__(f"{what + ' ' if what else ''}{self.path}: {problem}")


def _kind(mode: int) -> str | None:
    """What a non-regular file is, for a message (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(n: int) -> str:
    for unit, k in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << k:
            return f"{n / (1 << k):.1f} {unit}"
    return f"{n} bytes"


def check_input(path: str | os.PathLike[str], what: str = "", max_bytes: int | None = None) -> os.stat_result:
    """os.stat of an input file; FileError if it is missing, not a regular file, or larger than max_bytes."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileError(path, "no such file", what) from None
    except NotADirectoryError:
        raise FileError(path, "no such file (a part of the path is not a directory)", what) from None
    except OSError as e:
        raise FileError(path, f"cannot read ({e.strerror})", what) from None
    kind = _kind(st.st_mode)
    if kind is not None:
        raise FileError(path, f"is {kind}, not a regular file", what)
    if max_bytes is not None and st.st_size > max_bytes:
        raise FileError(path, f"is {_size(st.st_size)}, more than the {_size(max_bytes)} such a file may have", what)
    return st


def read_bytes(path: str | os.PathLike[str], what: str = "", max_bytes: int = TEXT_MAX_BYTES) -> bytes:
    """The content of a regular file of at most max_bytes (FileError otherwise)."""
    check_input(path, what, max_bytes)
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise FileError(path, f"cannot read ({e.strerror})", what) from None
    if len(data) > max_bytes:
        raise FileError(path, f"is more than the {_size(max_bytes)} such a file may have", what)
    return data


def read_text(path: str | os.PathLike[str], what: str = "", max_bytes: int = TEXT_MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most max_bytes; FileError for binary content or other encodings."""
    data = read_bytes(path, what, max_bytes)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileError(path, f"is binary (a NUL byte at offset {nul}), not a text file", what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileError(path, f"is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})", what) from None


def read_toml(path: str | os.PathLike[str], what: str = "") -> tuple[str, dict[str, Any]]:
    """(text, table) of a TOML file read with read_text; FileError naming the file if it is not valid TOML."""
    text = read_text(path, what)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise FileError(path, f"not valid TOML: {e}", what) from None


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True if both paths exist and are the same file (same device and inode: symlinks and hard links too)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


class AtomicOutput:
    """An output file written to a temporary name beside it and renamed over it on commit (see the module doc).

    `inputs`: paths the command reads; the output may not be any of them."""

    def __init__(self, path: str | os.PathLike[str], what: str = "", inputs: Iterable[str | os.PathLike[str]] = ()
                 ) -> None:
        self.done = True  # nothing to clean up until the temporary file exists
        self.path = Path(path)
        self.what = what
        if not str(path):
            raise FileError(path, "empty output path", what)
        # write through a symlink to its target (replacing the link itself would move the output)
        target = Path(os.path.realpath(self.path)) if self.path.is_symlink() else self.path
        for inp in inputs:
            if same_file(target, inp):
                extra = "" if str(inp) == str(path) else f" {inp}"
                raise FileError(path, f"is the input{extra} (the same file): write the output elsewhere", what)
        try:
            st = os.stat(target)
        except FileNotFoundError:
            st = None
        except NotADirectoryError:
            raise FileError(path, "a part of the path is not a directory", what) from None
        except OSError as e:
            raise FileError(path, f"cannot write ({e.strerror})", what) from None
        if st is not None and _kind(st.st_mode) is not None:
            raise FileError(path, f"is {_kind(st.st_mode)}, not a file that can be written", what)
        parent = target.parent
        try:
            pst = os.stat(parent)
        except FileNotFoundError:
            raise FileError(path, f"the directory {str(parent)!r} does not exist", what) from None
        except NotADirectoryError:
            raise FileError(path, "a part of the path is a file, not a directory", what) from None
        except OSError as e:
            raise FileError(path, f"cannot write in {str(parent)!r} ({e.strerror})", what) from None
        if not stat.S_ISDIR(pst.st_mode):
            raise FileError(path, f"{str(parent)!r} is not a directory", what)
        self.target = target
        self.tmp_path = parent / f".{target.stem}.{secrets.token_hex(4)}.part{target.suffix}"
        try:
            fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as e:
            raise FileError(path, f"cannot write in {str(parent)!r} ({e.strerror})", what) from None
        os.close(fd)
        self.done = False

    def open(self, mode: str = "wb") -> Any:
        """The temporary file (new and empty) opened for writing in `mode` ("wb" or "w"), without truncating it:
        on ext4 (auto_da_alloc), truncating a file, even an empty one, makes its close start writing back every
        byte written since (about 0.2 s per 400 MB at the end of a run). Writers of large outputs use this rather
        than open(tmp_path, "wb")."""
        if mode not in ("wb", "w"):
            raise ValueError(f"AtomicOutput.open: mode {mode!r} (wb or w)")
        return open(self.tmp_path, mode.replace("w", "r+"))  # noqa: SIM115 - the caller closes it

    def commit(self) -> Path:
        """Rename the temporary file over the output path; returns the path."""
        if not self.done:
            try:
                os.replace(self.tmp_path, self.target)
            except OSError as e:
                self.discard()
                raise FileError(self.path, f"cannot write ({e.strerror})", self.what) from None
            self.done = True
        return self.path

    def discard(self) -> None:
        """Remove the temporary file (the output path is left as it was)."""
        if not self.done:
            self.done = True
            try:
                os.unlink(self.tmp_path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    def __del__(self) -> None:  # an output neither committed nor discarded leaves no temporary file behind
        try:
            self.discard()
        except Exception:  # noqa: BLE001, S110 - interpreter shutdown
            pass
