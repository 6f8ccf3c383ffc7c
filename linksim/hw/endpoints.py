"""Where an external modem's IQ comes from and goes to (`linksim emulate --in SRC --out SINK`).

An endpoint is either
  zmq:tcp://HOST:PORT   stock gr-zeromq PUSH/PULL of complex64 with stock defaults (timeout 100 ms, no tags,
                        default high-water mark), so any GNU Radio flowgraph connects without linksim code:
                        a source is a `zeromq.pull_source` that CONNECTS (to the modem's `push_sink`, which binds);
                        a sink is a `zeromq.push_sink` that BINDS (the modem's `pull_source` connects to it);
  PROFILE               a device profile (hw/profiles: an SDR through gr-soapy or gr-uhd, or a pseudo-device),
                        opened through linksim.hw.sdr.make_source / make_sink (TX off unless allowed and enabled).

    parse_endpoint(spec, what) -> Endpoint (InputError naming `what` for a malformed spec or unknown profile)
    open_source(ep, sample_rate_hz, center_freq_hz=None) -> GNU Radio block with one complex64 output
    open_sink(ep, sample_rate_hz, center_freq_hz=None, tx_enable=False) -> block with one complex64 input
A ZMQ address that cannot be bound is a DeviceError (exit code 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import DeviceError, InputError

_ZMQ = re.compile(r"^zmq:(tcp://(\*|[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5}))$")


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "zmq" or "device"
    address: str = ""  # zmq: tcp://HOST:PORT
    profile: str = ""  # device: profile name

    def describe(self) -> str:
        return f"zmq:{self.address}" if self.kind == "zmq" else f"device profile {self.profile}"


def parse_endpoint(spec: str, what: str) -> Endpoint:
    """`zmq:tcp://HOST:PORT` or a device profile name."""
    s = str(spec).strip()
    if s.startswith("zmq:"):
        m = _ZMQ.match(s)
        if not m or not 0 < int(m.group(3)) < 65536:
            raise InputError(f"{what} {spec!r}: expected zmq:tcp://HOST:PORT (port 1-65535)")
        return Endpoint("zmq", address=m.group(1))
    from .profiles import load_profile

    try:
        load_profile(s)
    except (InputError, OSError) as e:
        raise InputError(f"{what} {spec!r}: not zmq:tcp://HOST:PORT and not a device profile ({e})") from None
    return Endpoint("device", profile=s)


def _zmq_block(ep: Endpoint, sink: bool, what: str) -> Any:
    from gnuradio import gr, zeromq

    addr = ep.address
    if sink:
        addr = re.sub(r"^tcp://(localhost)(?=:)", "tcp://127.0.0.1", addr)
    try:
        if sink:  # binds: the modem's pull_source connects
            return zeromq.push_sink(gr.sizeof_gr_complex, 1, addr, 100, False, -1)
        return zeromq.pull_source(gr.sizeof_gr_complex, 1, addr, 100, False, -1)  # connects to the push_sink
    except RuntimeError as e:
        raise DeviceError(f"{what} zmq:{ep.address}: cannot {'bind' if sink else 'connect'} ({e})") from None


def open_source(ep: Endpoint, sample_rate_hz: float, center_freq_hz: float | None = None) -> Any:
    if ep.kind == "zmq":
        return _zmq_block(ep, False, "--in")
    from .sdr import make_source

    return make_source(ep.profile, sample_rate_sps=sample_rate_hz, center_freq_hz=center_freq_hz)


def open_sink(ep: Endpoint, sample_rate_hz: float, center_freq_hz: float | None = None,
              tx_enable: bool = False) -> Any:
    if ep.kind == "zmq":
        return _zmq_block(ep, True, "--out")
    from .sdr import make_sink

    return make_sink(ep.profile, sample_rate_sps=sample_rate_hz, center_freq_hz=center_freq_hz, tx_enable=tx_enable)
