"""SigMF recording and replay of RX IQ, with the hardware-in-the-loop metadata a run needs to be repeatable:
device, gains, attenuator setting, rotator az/el, reference lock, scenario hash and sample clock.

A recording is two files: `NAME.sigmf-data` (cf32_le samples) and `NAME.sigmf-meta` (JSON, SigMF core plus
a `linksim:` extension namespace declared in `core:extensions`), readable by any SigMF tool and by
linksim.iqfile.IQReader. The file format itself (naming, meta layout, datatypes) is linksim.iqfile's; this module
adds the hardware metadata and the GNU Radio blocks.

GNU Radio: `sigmf_recorder(base, ...)` (a sink: file sink + meta written on `finalize()`) and
`sigmf_replay_source(path, throttle=True)` (a source at the recording's real rate).

Readers check the data before using it: `read_sigmf` and `sigmf_replay_source` refuse (InputError) a recording
whose data no longer matches its `core:sha512`, or that holds NaN, infinite or absurdly large samples
(linksim.iqfile.IQReader.check); `verify=False` skips the check. `write_sigmf` records the SHA-512.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..iqfile import (
    IQCheck,
    IQReader,
    read_sigmf_meta,
    sigmf_base,
    sigmf_data_path,
    sigmf_meta,
    sigmf_paths,
    sigmf_version,
    write_sigmf_meta,
)

__all__ = [
    "sigmf_version",
    "EXTENSION",
    "base_path",
    "scenario_hash",
    "build_meta",
    "write_meta",
    "read_meta",
    "write_sigmf",
    "read_sigmf",
    "verify_recording",
    "sigmf_recorder",
    "sigmf_replay_source",
    "hil_metadata",
]

EXTENSION = {"name": "linksim", "version": "0.1.0", "optional": True}


def base_path(path: str | Path) -> Path:
    """`x.sigmf-meta`, `x.sigmf-data` or `x` -> `x` (the recording's base name)."""
    return sigmf_base(path)


def scenario_hash(text_or_bytes: str | bytes) -> str:
    """SHA-256 of a resolved scenario (hex), recorded so a recording names the scenario that made it."""
    b = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    return hashlib.sha256(b).hexdigest()


def build_meta(
    *,
    sample_rate_sps: float,
    center_freq_hz: float | None = None,
    description: str = "",
    hw: str = "",
    start_utc: _dt.datetime | None = None,
    linksim: Mapping[str, Any] | None = None,
    annotations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A SigMF meta document (linksim.iqfile.sigmf_meta) declaring the `linksim` extension. `linksim` keys become
    `linksim:KEY` globals: use device, gains_db, attenuation_db, rotator, reference, scenario_sha256, sample_clock,
    link (IQ link stats)."""
    if not sample_rate_sps > 0:
        raise InputError(f"sample_rate_sps must be > 0, got {sample_rate_sps}")
    extra: dict[str, Any] = {"core:extensions": [dict(EXTENSION)]}
    extra.update({f"linksim:{k}": v for k, v in (linksim or {}).items()})
    return sigmf_meta(
        sample_rate_sps,
        frequency_hz=center_freq_hz,
        description=description,
        hw=hw,
        datetime_utc=start_utc or _dt.datetime.now(_dt.UTC),
        extra_global=extra,
        annotations=annotations,
    )


def write_meta(base: str | Path, meta: Mapping[str, Any]) -> Path:
    """Write `base.sigmf-meta` (JSON; numpy values converted) and return its path."""
    return write_sigmf_meta(base, meta)


def read_meta(path: str | Path) -> dict[str, Any]:
    """The meta document of a recording; InputError if missing, not JSON, not cf32_le or without a sample rate."""
    return read_sigmf_meta(path, what="", datatypes=("cf32_le",), need_rate=True)


def write_sigmf(base: str | Path, iq: np.ndarray, **meta_kwargs: Any) -> Path:
    """Write samples and meta with the data's SHA-512 (see build_meta for the keywords). Returns the meta path."""
    meta = build_meta(**meta_kwargs)
    np.ascontiguousarray(iq, dtype=np.complex64).tofile(sigmf_paths(base)[1])
    return write_sigmf_meta(base, meta, checksum=True)


def verify_recording(path: str | Path) -> IQCheck:
    """Read a recording once (linksim.iqfile.IQReader.check): InputError for NaN, infinite or absurd samples,
    or when the data does not match the recording's core:sha512 (it changed after it was recorded)."""
    r = IQReader(sigmf_paths(path)[0], what="recording")
    chk = r.check()
    if chk.sha512_ok is False:
        raise InputError(f"recording {r.data_path}: its SHA-512 does not match core:sha512 in "
                         f"{sigmf_paths(path)[0].name} (the data changed after it was recorded)")
    return chk


def read_sigmf(path: str | Path, *, verify: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """(samples complex64, meta) of a recording, checked first unless verify=False (see verify_recording)."""
    meta = read_meta(path)
    sigmf_data_path(path, what="")
    if verify:
        verify_recording(path)
    return IQReader(sigmf_paths(path)[0]).read_all(), meta


# ---------------------------------------------------------------- GNU Radio blocks


def sigmf_recorder(
    base: str | Path,
    *,
    sample_rate_sps: float,
    center_freq_hz: float | None = None,
    description: str = "",
    hw: str = "",
    linksim: Mapping[str, Any] | None = None,
) -> Any:
    """A GNU Radio sink (one complex input) writing `base.sigmf-data`; the meta is written at once (so a crash
    leaves a readable recording) and again by `.finalize(extra_linksim=None)` with the sample count and any
    late metadata (attenuator/rotator state at the end, IQ link stats)."""
    from gnuradio import blocks, gr

    b = base_path(base)
    data = sigmf_paths(b)[1]
    b.parent.mkdir(parents=True, exist_ok=True)
    meta = build_meta(
        sample_rate_sps=sample_rate_sps,
        center_freq_hz=center_freq_hz,
        description=description,
        hw=hw,
        linksim=linksim,
    )
    write_meta(b, meta)

    class SigmfRecorder(gr.hier_block2):
        def __init__(self) -> None:
            gr.hier_block2.__init__(
                self, "linksim_sigmf_recorder", gr.io_signature(1, 1, gr.sizeof_gr_complex), gr.io_signature(0, 0, 0)
            )
            self.base = b
            self.meta = meta
            self.file_sink = blocks.file_sink(gr.sizeof_gr_complex, str(data), False)
            self.file_sink.set_unbuffered(False)
            self.connect(self, self.file_sink)

        def finalize(self, extra_linksim: Mapping[str, Any] | None = None) -> Path:
            self.file_sink.close()
            n = data.stat().st_size // 8
            for k, v in (extra_linksim or {}).items():
                self.meta["global"][f"linksim:{k}"] = v
            self.meta["global"]["linksim:samples"] = int(n)
            return write_meta(b, self.meta)

    return SigmfRecorder()


def sigmf_replay_source(
    path: str | Path, *, throttle: bool = True, repeat: bool = False, expect_rate_sps: float | None = None,
    verify: bool = True,
) -> Any:
    """A GNU Radio source (one complex output) replaying a recording, throttled to its `core:sample_rate`
    (the rate it was recorded at) unless `throttle=False`. `.meta` is the recording's meta, `.sample_rate_sps`
    its rate. InputError if `expect_rate_sps` is given and differs from the recording's rate, and (unless
    verify=False) if the recording fails verify_recording."""
    from gnuradio import blocks, gr

    meta = read_meta(path)
    rate = float(meta["global"]["core:sample_rate"])
    data = sigmf_data_path(path, what="")
    if expect_rate_sps is not None and abs(expect_rate_sps - rate) > 1e-6 * rate:
        raise InputError(f"{data}: recorded at {rate:g} S/s, asked to replay at {expect_rate_sps:g} S/s")
    if verify:
        verify_recording(path)

    class SigmfReplay(gr.hier_block2):
        def __init__(self) -> None:
            gr.hier_block2.__init__(
                self, "linksim_sigmf_replay", gr.io_signature(0, 0, 0), gr.io_signature(1, 1, gr.sizeof_gr_complex)
            )
            self.meta = meta
            self.sample_rate_sps = rate
            self.file_source = blocks.file_source(gr.sizeof_gr_complex, str(data), repeat)
            if throttle:
                self.throttle = blocks.throttle(gr.sizeof_gr_complex, rate, True)
                self.connect(self.file_source, self.throttle, self)
            else:
                self.connect(self.file_source, self)

    return SigmfReplay()


def hil_metadata(
    *,
    rx: Any = None,
    tx: Any = None,
    attenuator: Any = None,
    rotator: Any = None,
    scenario_text: str | bytes | None = None,
    sample_clock: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `linksim:` metadata of a hardware run, for `sigmf_recorder(..., linksim=...)` and run records.

    rx/tx: blocks from linksim.hw.sdr (device, gains, reference lock); attenuator: an Attenuator (its current
    setting); rotator: a Rotator (az/el read now); scenario_text: the resolved scenario (hashed, SHA-256);
    sample_clock: how samples were clocked (default: the RX block's rate and the profile's clock source)."""
    meta: dict[str, Any] = {}
    if rx is not None:
        dev = rx.metadata()
        meta["device"] = dev
        meta["gains_db"] = dict(rx.gains_db)
        if "reference" in dev:
            meta["reference"] = dev["reference"]
        meta["sample_clock"] = dict(
            sample_clock
            or {"sample_rate_sps": rx.sample_rate_sps, "clock_source": rx.profile.clock_source or "device default"}
        )
    elif sample_clock is not None:
        meta["sample_clock"] = dict(sample_clock)
    if tx is not None:
        meta["tx_device"] = tx.metadata()
    if attenuator is not None:
        meta["attenuation_db"] = attenuator.last_set_db
        meta["attenuator"] = attenuator.metadata()
    if rotator is not None:
        meta["rotator"] = rotator.metadata()
    if scenario_text is not None:
        meta["scenario_sha256"] = scenario_hash(scenario_text)
    return meta
