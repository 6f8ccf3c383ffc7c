"""Find attached SDRs through SoapySDR's C API (ctypes on libSoapySDR; no Python bindings needed).

`find_devices()` returns one dict of SoapySDR key/value strings per device found (`driver`, `label`, `serial`,
...). No device is not an error: it returns []. If the SoapySDR library itself is missing, DeviceError."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import DeviceError


class _Kwargs(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("keys", ctypes.POINTER(ctypes.c_char_p)),
        ("vals", ctypes.POINTER(ctypes.c_char_p)),
    ]


_LIB_NAMES = ("libSoapySDR.so.0.8", "libSoapySDR.so", "libSoapySDR.dylib", "SoapySDR.dll")


def _load() -> Any:
    names = list(_LIB_NAMES)
    found = ctypes.util.find_library("SoapySDR")
    if found:
        names.insert(0, found)
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    raise DeviceError("SoapySDR library not found: cannot enumerate devices (install soapysdr)")


@contextmanager
def _quiet_stderr(quiet: bool) -> Iterator[None]:
    """Silence driver chatter (avahi, ALSA, UHD banners) written straight to file descriptor 2."""
    if not quiet:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def find_devices(args: str = "", quiet: bool = True) -> list[dict[str, str]]:
    """SoapySDR's enumerate (optionally filtered by `args`, e.g. `driver=hackrf`); driver chatter on stderr
    is silenced unless `quiet=False`."""
    lib = _load()
    lib.SoapySDRDevice_enumerateStrArgs.restype = ctypes.POINTER(_Kwargs)
    lib.SoapySDRDevice_enumerateStrArgs.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t)]
    lib.SoapySDRKwargsList_clear.argtypes = [ctypes.POINTER(_Kwargs), ctypes.c_size_t]
    n = ctypes.c_size_t(0)
    with _quiet_stderr(quiet):
        res = lib.SoapySDRDevice_enumerateStrArgs(args.encode(), ctypes.byref(n))
    out: list[dict[str, str]] = []
    try:
        for i in range(n.value):
            kw = res[i]
            out.append({kw.keys[j].decode(): kw.vals[j].decode() for j in range(kw.size)})
    finally:
        if res:
            lib.SoapySDRKwargsList_clear(res, n)
    return out
