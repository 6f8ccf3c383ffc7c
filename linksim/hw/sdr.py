"""The one SDR factory: `make_source(profile, ...)` and `make_sink(profile, ...)` return GNU Radio hier blocks
(one complex64 output / input) for any device profile, so flowgraphs never see the device type.

kinds:
  soapy     gr-soapy (`driver=uhd|hackrf|plutosdr|lime|rtlsdr`)
  uhd       gr-uhd (USRP features: clock/time source, timed commands)
  zmq       IQ over ZeroMQ to/from another process or host, sample-counted (linksim.hw.zmqlink)
  sigmf     source: replay a recording at its real rate (throttled); sink: record a SigMF file
  loopback  in-process: what a loopback sink transmits, a loopback source on the same `channel` receives,
            as rx = g_rx * (g_path * g_tx * tx + n) with known path gain and noise (profile options)

Safe by default: a sink is refused unless the profile has `tx_allowed = true` AND the caller passes
`tx_enable=True`; gains are clamped to the profile's stages (every change listed in `.notes`); a half-duplex
device (HackRF) cannot be opened for RX and TX at once.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import DeviceError, InputError
from .profiles import DeviceProfile, check_options, load_profile
from .reference import ReferenceStatus, read_reference

log = logging.getLogger(__name__)

_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()  # live device blocks, for the half-duplex check


def _profile(p: DeviceProfile | str) -> DeviceProfile:
    return p if isinstance(p, DeviceProfile) else load_profile(p)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def loopback_address(channel: str) -> str:
    """The in-process ZeroMQ address joining loopback sinks and sources on `channel`."""
    return f"inproc://linksim-loopback-{channel}"


def make_source(
    profile: DeviceProfile | str,
    *,
    sample_rate_sps: float | None = None,
    center_freq_hz: float | None = None,
    gains_db: Mapping[str, float] | None = None,
    antenna: str | None = None,
    bandwidth_hz: float | None = None,
    options: Mapping[str, Any] | None = None,
    start_time_s: float | None = None,
) -> Any:
    """An RX block for `profile` (a DeviceProfile or a profile name): a gr.hier_block2 with one complex output.

    `options` override the profile's [options] (zmq addresses, sigmf path, loopback path gain/noise/seed).
    The block has: profile, direction ('rx'), sample_rate_sps, center_freq_hz, gains_db (applied), notes,
    device (the inner GNU Radio block), set_gains(gains_db) -> applied, sensors() -> dict, reference() ->
    ReferenceStatus, link_stats() -> LinkStats | None (zmq, loopback), metadata() -> dict, close().

    `start_time_s` (kind uhd only): start streaming at that device time; with an external/gpsdo time source
    the device time is first set to 0 at a PPS edge, so two USRPs (or RX and TX) start on the same edge. For
    timed commands use `block.device` (the gr-uhd block: set_command_time, ...)."""
    return _make(
        _profile(profile),
        "rx",
        sample_rate_sps,
        center_freq_hz,
        gains_db,
        antenna,
        bandwidth_hz,
        options,
        tx_enable=False,
        start_time_s=start_time_s,
    )


def make_sink(
    profile: DeviceProfile | str,
    *,
    sample_rate_sps: float | None = None,
    center_freq_hz: float | None = None,
    gains_db: Mapping[str, float] | None = None,
    tx_enable: bool = False,
    antenna: str | None = None,
    bandwidth_hz: float | None = None,
    options: Mapping[str, Any] | None = None,
    sigmf_metadata: Mapping[str, Any] | None = None,
    start_time_s: float | None = None,
) -> Any:
    """A TX block for `profile`: a gr.hier_block2 with one complex input (samples at full scale |x| <= 1).

    Refused (InputError) unless the profile allows TX (`tx_allowed = true`) AND `tx_enable` is True.
    Same attributes as make_source's block (direction 'tx'); a sigmf sink also has finalize(extra) -> Path,
    and records `sigmf_metadata` as linksim:* globals."""
    prof = _profile(profile)
    if not prof.tx:
        raise InputError(f"profile {prof.name}: device cannot transmit (receive only)")
    if not prof.tx_allowed:
        raise InputError(f"profile {prof.name}: TX is off (tx_allowed = false in {prof.source or 'the profile'})")
    if not tx_enable:
        raise InputError(f"profile {prof.name}: TX is off; enable it explicitly (tx_enable=True / --tx-enable)")
    return _make(
        prof,
        "tx",
        sample_rate_sps,
        center_freq_hz,
        gains_db,
        antenna,
        bandwidth_hz,
        options,
        tx_enable=True,
        sigmf_metadata=sigmf_metadata,
        start_time_s=start_time_s,
    )


def _make(
    prof: DeviceProfile,
    direction: str,
    rate: float | None,
    fc: float | None,
    gains_db: Mapping[str, float] | None,
    antenna: str | None,
    bandwidth_hz: float | None,
    options: Mapping[str, Any] | None,
    *,
    tx_enable: bool,
    sigmf_metadata: Mapping[str, Any] | None = None,
    start_time_s: float | None = None,
) -> Any:
    from gnuradio import gr

    if direction == "rx" and not prof.rx:
        raise InputError(f"profile {prof.name}: device cannot receive")
    if start_time_s is not None and prof.kind != "uhd":
        raise InputError(f'profile {prof.name}: start_time_s needs a gr-uhd profile (kind = "uhd")')
    check_options(prof.kind, dict(options or {}), f"profile {prof.name}")
    opts = dict(prof.options)
    opts.update(options or {})
    if rate is None and not (prof.kind == "sigmf" and direction == "rx"):
        if prof.default_sps is None:
            raise InputError(f"profile {prof.name}: give sample_rate_sps (the profile has no default)")
        rate = prof.default_sps
    if rate is not None:
        prof.check_rate(rate)
    if not prof.is_pseudo and fc is not None:
        prof.check_frequency(fc)
    if prof.duplex == "half":
        key = (prof.driver, prof.device_args)
        for other in list(_OPEN):
            if other.device_key == key and other.direction != direction:
                raise InputError(
                    f"profile {prof.name}: device is half duplex and already open for {other.direction}; "
                    "use a second device (serial=... in device_args) or a full-duplex one"
                )
    applied, notes = prof.clamp_gains(direction, gains_db)
    for n in notes:
        log.warning("%s", n)

    io_none = gr.io_signature(0, 0, 0)
    io_c = gr.io_signature(1, 1, gr.sizeof_gr_complex)

    class SdrBlock(gr.hier_block2):
        def __init__(self) -> None:
            gr.hier_block2.__init__(
                self,
                f"linksim_{prof.kind}_{direction}",
                io_none if direction == "rx" else io_c,
                io_c if direction == "rx" else io_none,
            )
            self.profile = prof
            self.direction = direction
            self.sample_rate_sps = rate
            self.center_freq_hz = None if fc is None else float(fc)
            self.gains_db: dict[str, float] = dict(applied)
            self.notes: list[str] = list(notes)
            self.options = opts
            self.tx_enabled = tx_enable
            self.device_key = (prof.driver, prof.device_args)
            self.device: Any = None
            self._receiver: Any = None
            self._gain_blocks: dict[str, Any] = {}
            self._recorder: Any = None

        # --- the common interface
        def set_gains(self, gains_db: Mapping[str, float]) -> dict[str, float]:
            new, n = prof.clamp_gains(direction, {**self.gains_db, **dict(gains_db)})
            self.notes.extend(n)
            _apply_gains(self, new)
            self.gains_db = new
            return dict(new)

        def sensors(self) -> dict[str, str]:
            return _sensors(self)

        def reference(self) -> ReferenceStatus:
            return read_reference(self.device, prof)

        def read_sensor(self, name: str) -> Any:
            return _read_sensor(self, name)

        def link_stats(self) -> Any:
            return self._receiver.stats if self._receiver is not None else None

        def finalize(self, extra: Mapping[str, Any] | None = None) -> Path | None:
            if self._recorder is None:
                return None
            meta = dict(extra or {})
            meta["gains_db"] = self.gains_db
            return self._recorder.finalize(meta)

        def close(self) -> None:
            """Release sockets/files of a block that will not run again (a probe, an aborted setup)."""
            from .zmqlink import release

            zb = getattr(self, "zmq_block", None)
            if zb is not None:
                release(zb)
            _OPEN.discard(self)

        def metadata(self) -> dict[str, Any]:
            meta: dict[str, Any] = {
                "profile": prof.summary(),
                "direction": direction,
                "sample_rate_sps": self.sample_rate_sps,
                "center_freq_hz": self.center_freq_hz,
                "gains_db": dict(self.gains_db),
                "notes": list(self.notes),
                "tx_enabled": self.tx_enabled,
            }
            if not prof.is_pseudo:
                meta["reference"] = self.reference().as_dict()
            stats = self.link_stats()
            if stats is not None:
                meta["link"] = stats.as_dict()
            return meta

    blk = SdrBlock()
    builders = {
        "soapy": _build_soapy,
        "uhd": _build_uhd,
        "zmq": _build_zmq,
        "sigmf": _build_sigmf,
        "loopback": _build_loopback,
    }
    builders[prof.kind](
        blk, antenna=antenna, bandwidth_hz=bandwidth_hz, sigmf_metadata=sigmf_metadata, start_time_s=start_time_s
    )
    _OPEN.add(blk)
    return blk


# ---------------------------------------------------------------- real devices


def _build_soapy(blk: Any, *, antenna: str | None, bandwidth_hz: float | None, **_: Any) -> None:
    from gnuradio import soapy

    prof: DeviceProfile = blk.profile
    make = soapy.source if blk.direction == "rx" else soapy.sink
    try:
        dev = make(f"driver={prof.driver}", "fc32", 1, prof.device_args, prof.stream_args, [""], [""])
        if prof.clock_source and prof.clock_source != "internal":
            dev.set_clock_source(prof.clock_source)
        dev.set_sample_rate(0, blk.sample_rate_sps)
        if blk.center_freq_hz is not None:
            dev.set_frequency(0, blk.center_freq_hz)
        if dev.has_gain_mode(0):
            dev.set_gain_mode(0, False)
        ant = antenna or (prof.antenna_rx if blk.direction == "rx" else prof.antenna_tx)
        if ant:
            dev.set_antenna(0, ant)
        if bandwidth_hz:
            dev.set_bandwidth(0, bandwidth_hz)
    except (RuntimeError, ValueError) as e:
        raise DeviceError(f"profile {prof.name}: cannot open {prof.soapy_args()}: {_one_line(e)}") from None
    _attach_radio(blk, dev)


def _build_uhd(
    blk: Any, *, antenna: str | None, bandwidth_hz: float | None, start_time_s: float | None = None, **_: Any
) -> None:
    from gnuradio import uhd

    prof: DeviceProfile = blk.profile
    sargs = uhd.stream_args(cpu_format="fc32", args=prof.stream_args, channels=[0])
    try:
        dev = (uhd.usrp_source if blk.direction == "rx" else uhd.usrp_sink)(prof.device_args, sargs)
        if prof.clock_source:
            dev.set_clock_source(prof.clock_source, 0)
        if prof.time_source:
            dev.set_time_source(prof.time_source, 0)
        dev.set_samp_rate(blk.sample_rate_sps)
        if blk.center_freq_hz is not None:
            dev.set_center_freq(blk.center_freq_hz, 0)
        ant = antenna or (prof.antenna_rx if blk.direction == "rx" else prof.antenna_tx)
        if ant:
            dev.set_antenna(ant, 0)
        if bandwidth_hz:
            dev.set_bandwidth(bandwidth_hz, 0)
        if prof.time_source in ("external", "gpsdo"):
            dev.set_time_unknown_pps(uhd.time_spec(0.0))  # device time 0 at a PPS edge (takes up to 2 s)
            blk.time_zeroed_at_pps = True
        if start_time_s is not None:
            dev.set_start_time(uhd.time_spec(float(start_time_s)))
    except (RuntimeError, ValueError, LookupError) as e:
        raise DeviceError(f"profile {prof.name}: cannot open USRP {prof.device_args!r}: {_one_line(e)}") from None
    _attach_radio(blk, dev)


def _attach_radio(blk: Any, dev: Any) -> None:
    """Make the opened radio `dev` the block's device, apply the block's gains and wire it in the block's
    direction (rx: radio -> block output; tx: block input -> radio)."""
    blk.device = dev
    _apply_gains(blk, blk.gains_db)
    if blk.direction == "rx":
        blk.connect(dev, blk)
    else:
        blk.connect(blk, dev)


def _apply_gains(blk: Any, gains: Mapping[str, float]) -> None:
    prof: DeviceProfile = blk.profile
    if prof.kind == "loopback":
        # all stages multiply: the total is the loopback gain in dB
        g = 10 ** (sum(gains.values()) / 20)
        blk._gain_blocks["gain"].set_k(g)
        return
    if blk.device is None or prof.kind not in ("soapy", "uhd"):
        return
    try:
        for name, g in gains.items():
            if prof.kind == "soapy":
                blk.device.set_gain(0, name, g)
            else:
                blk.device.set_gain(g, name, 0)
    except (RuntimeError, ValueError) as e:
        raise DeviceError(f"profile {prof.name}: cannot set gains {dict(gains)}: {_one_line(e)}") from None


def _read_sensor(blk: Any, name: str) -> Any:
    if blk.device is None:
        raise DeviceError(f"profile {blk.profile.name}: pseudo-device has no sensors")
    if blk.profile.kind == "uhd":
        return blk.device.get_mboard_sensor(name, 0)
    return blk.device.read_sensor(name)


def _sensors(blk: Any) -> dict[str, str]:
    prof: DeviceProfile = blk.profile
    out: dict[str, str] = {}
    if blk.device is None:
        return out
    try:
        if prof.kind == "uhd":
            names = list(blk.device.get_mboard_sensor_names(0))
            for n in names:
                out[n] = blk.device.get_mboard_sensor(n, 0).to_pp_string()
        else:
            for n in blk.device.list_sensors():
                out[n] = str(blk.device.read_sensor(n))
            for n in blk.device.list_sensors(0):
                out[f"ch0:{n}"] = str(blk.device.read_sensor(0, n))
    except (RuntimeError, ValueError) as e:
        out["error"] = _one_line(e)
    return out


# ---------------------------------------------------------------- pseudo-devices


def _build_zmq(blk: Any, **_: Any) -> None:
    from .zmqlink import zmq_iq_sink, zmq_iq_source

    o = blk.options
    pattern = str(o.get("pattern", "pushpull"))
    hwm = int(o.get("hwm", 64))
    if blk.direction == "rx":
        dev = zmq_iq_source(
            str(o.get("rx_address", "tcp://127.0.0.1:5555")),
            pattern=pattern,
            hwm=hwm,
            fill_gaps=bool(o.get("fill_gaps", True)),
            bind=bool(o.get("rx_bind", False)),
            idle_timeout_s=o.get("idle_timeout_s"),
        )
        blk._receiver = dev.receiver
        blk.connect(dev, blk)
    else:
        dev = zmq_iq_sink(
            str(o.get("tx_address", "tcp://*:5555")), pattern=pattern, hwm=hwm, bind=bool(o.get("tx_bind", True)),
            send_timeout_s=o.get("send_timeout_s"),
        )
        blk.connect(blk, dev)
    blk.zmq_block = dev


def _build_sigmf(blk: Any, sigmf_metadata: Mapping[str, Any] | None = None, **_: Any) -> None:
    from .sigmf_io import sigmf_recorder, sigmf_replay_source

    o = blk.options
    path = o.get("path")
    if not path:
        raise InputError(f"profile {blk.profile.name}: sigmf pseudo-device needs options.path")
    if blk.direction == "rx":
        dev = sigmf_replay_source(
            path,
            throttle=bool(o.get("throttle", True)),
            repeat=bool(o.get("repeat", False)),
            expect_rate_sps=blk.sample_rate_sps,
        )
        blk.sample_rate_sps = dev.sample_rate_sps
        cap = dev.meta.get("captures", [{}])[0]
        if "core:frequency" in cap and not blk.center_freq_hz:
            blk.center_freq_hz = float(cap["core:frequency"])
        blk.recording_meta = dev.meta
        blk.connect(dev, blk)
    else:
        dev = sigmf_recorder(
            path,
            sample_rate_sps=blk.sample_rate_sps,
            center_freq_hz=blk.center_freq_hz or None,
            hw=f"linksim profile {blk.profile.name}",
            linksim=dict(sigmf_metadata or {}),
        )
        blk._recorder = dev
        blk.connect(blk, dev)


def _build_loopback(blk: Any, **_: Any) -> None:
    from gnuradio import analog, blocks

    from .zmqlink import zmq_iq_sink, zmq_iq_source

    o = blk.options
    addr = loopback_address(str(o.get("channel", "default")))
    gain = blocks.multiply_const_cc(1.0)
    blk._gain_blocks["gain"] = gain
    if blk.direction == "tx":
        sink = zmq_iq_sink(addr, bind=True, hwm=16)
        blk.connect(blk, gain, sink)
        blk.zmq_block = sink
    else:
        src = zmq_iq_source(addr, bind=False, hwm=16, idle_timeout_s=o.get("idle_timeout_s"))
        blk._receiver = src.receiver
        path_db = float(o.get("path_gain_db", 0.0))
        noise_dbfs = float(o.get("noise_dbfs", -math.inf))
        path = blocks.multiply_const_cc(10 ** (path_db / 20))
        add = blocks.add_cc()
        noise_amp = 0.0 if math.isinf(noise_dbfs) else 10 ** (noise_dbfs / 20)
        noise = analog.noise_source_c(analog.GR_GAUSSIAN, noise_amp, int(o.get("seed", 1)))
        blk.connect(src, path, (add, 0))
        blk.connect(noise, (add, 1))
        blk.connect(add, gain, blk)
        blk.zmq_block = src
        blk.path_gain_db = path_db
        blk.noise_dbfs = noise_dbfs
    _apply_gains(blk, blk.gains_db)
