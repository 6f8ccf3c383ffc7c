"""Faithful fake lab gear for tests and demos: a Mini-Circuits attenuator (range and step), Yaesu GS-232A and
GS-232B rotators that slew at a set rate and answer `C2` as the real ones do, a rotctld dummy that behaves as
Hamlib's `rotctld -m 1`, and an SDR on ZeroMQ (`FakeZmqSdr`: what the run transmits comes back as what it
receives, through a `zmq` device profile) that can vanish mid-run.

Each fake is a protocol engine (`feed(bytes) -> bytes`) served on a PTY (`serve_pty`, the client opens the
slave path with pyserial like a USB-serial port), on TCP at 127.0.0.1 on an ephemeral port (`serve_tcp`, URL
`socket://` or `tcp://`), or over HTTP for the attenuator (`serve_http`). Every server can `disappear()`
mid-run (the PTY master or the sockets close, as when a cable is pulled) or go `mute` (the device stops
answering). `wire` holds every byte the fake received, so tests check the exact bytes on the wire.

    with serve_tcp(FakeGS232("b", rate_deg_s=30)) as srv:
        rot = open_rotator(srv.url, "gs232b")
"""

from __future__ import annotations

import http.server
import os
import pty
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import numpy as np

# ---------------------------------------------------------------- protocol engines


class FakeDevice:
    """Line protocol engine: bytes in, bytes out. Subclasses implement `handle(line) -> reply or None`."""

    terminators = b"\r\n"
    reply_eol = "\r\n"

    def __init__(self) -> None:
        self.wire = bytearray()
        self.commands: list[str] = []
        self.mute = False
        self._pending = bytearray()
        self.lock = threading.Lock()

    def feed(self, data: bytes) -> bytes:
        out = []
        with self.lock:
            self.wire += data
            self._pending += data
            while True:
                idx = [i for i, b in enumerate(self._pending) if b in self.terminators]
                if not idx:
                    break
                i = idx[0]
                line = bytes(self._pending[:i]).decode("ascii", errors="replace")
                del self._pending[: i + 1]
                if not line.strip():
                    continue
                self.commands.append(line)
                reply = self.handle(line.strip())
                if reply is not None and not self.mute:
                    out.append(reply.encode("ascii"))
        return b"".join(out)

    def handle(self, line: str) -> str | None:
        raise NotImplementedError


class FakeAttenuator(FakeDevice):
    """Mini-Circuits programmable attenuator: `:SETATT=x` answers 1 (set, rounded to the step), 2 (above
    range: set to max) or 0 (bad value); `:ATT?` the value; `:MN?` `MN=<model>`; `:SN?` `SN=<serial>`.
    Starts at `start_db` (default 0 dB: the driver must set max itself). Commands are case-insensitive."""

    def __init__(
        self,
        model: str = "RCDAT-6000-110",
        serial: str = "11911010042",
        max_db: float = 110.0,
        step_db: float = 0.25,
        start_db: float = 0.0,
    ) -> None:
        super().__init__()
        self.model, self.serial = model, serial
        self.max_db, self.step_db = max_db, step_db
        self.attenuation_db = start_db
        self.history_db: list[float] = []

    def handle(self, line: str) -> str | None:
        cmd = line.strip().lstrip(":").upper()
        eol = self.reply_eol
        if cmd.startswith("SETATT="):
            try:
                value = float(cmd.split("=", 1)[1])
            except ValueError:
                return "0" + eol
            if value < 0:
                return "0" + eol
            if value > self.max_db:
                self._set(self.max_db)
                return "2" + eol
            self._set(round(value / self.step_db) * self.step_db)
            return "1" + eol
        if cmd == "ATT?":
            return f"{self.attenuation_db:g}" + eol
        if cmd == "MN?":
            return f"MN={self.model}" + eol
        if cmd == "SN?":
            return f"SN={self.serial}" + eol
        return "-99 Unrecognized Command" + eol

    def _set(self, value: float) -> None:
        self.attenuation_db = value
        self.history_db.append(value)


class _Slewing:
    """Az/el that move toward a target at `rate_deg_s` on both axes, on a clock."""

    def __init__(self, az_deg: float, el_deg: float, rate_deg_s: float, clock: Callable[[], float]) -> None:
        self.az, self.el = float(az_deg), float(el_deg)
        self.target = (self.az, self.el)
        self.rate = float(rate_deg_s)
        self.clock = clock
        self._t = clock()

    def advance(self) -> None:
        now = self.clock()
        step = self.rate * (now - self._t)
        self._t = now
        ta, te = self.target
        self.az += max(-step, min(step, ta - self.az))
        self.el += max(-step, min(step, te - self.el))

    def goto(self, az: float, el: float) -> None:
        self.advance()
        self.target = (az, el)

    def stop(self) -> None:
        self.advance()
        self.target = (self.az, self.el)

    @property
    def moving(self) -> bool:
        self.advance()
        return (self.az, self.el) != self.target


class FakeGS232(FakeDevice):
    """Yaesu GS-232A (`variant="a"`) or GS-232B (`"b"`): `Waaa eee` starts a move (no reply), `S` stops (no
    reply), `C2` answers `+0aaa+0eee` (A) or `AZ=aaa   EL=eee` (B), CR LF terminated; anything else or an
    out-of-range W answers `?>`. Slews at `rate_deg_s` on both axes."""

    terminators = b"\r"

    def __init__(
        self,
        variant: str = "b",
        *,
        rate_deg_s: float = 6.0,
        az_deg: float = 0.0,
        el_deg: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if variant not in ("a", "b"):
            raise ValueError("variant must be 'a' or 'b'")
        self.variant = variant
        self.axes = _Slewing(az_deg, el_deg, rate_deg_s, clock)

    def handle(self, line: str) -> str | None:
        cmd = line.strip().upper()
        err = "?>" + self.reply_eol
        if cmd.startswith("W"):
            parts = cmd[1:].split()
            if len(parts) != 2 or not all(p.isdigit() and len(p) == 3 for p in parts):
                return err
            az, el = int(parts[0]), int(parts[1])
            if az > 450 or el > 180:
                return err
            self.axes.goto(az, el)
            return None
        if cmd == "S":
            self.axes.stop()
            return None
        if cmd == "C2":
            self.axes.advance()
            az, el = round(self.axes.az), round(self.axes.el)
            if self.variant == "a":
                return f"+0{az:03d}+0{el:03d}" + self.reply_eol
            return f"AZ={az:03d}   EL={el:03d}" + self.reply_eol
        return err


class FakeRotctld(FakeDevice):
    """Hamlib rotctld with its dummy rotator, as `rotctld -m 1` answers (Hamlib rigs/dummy/rot_dummy.c,
    src/rotator.c, tests/rotctl_parse.c):
    - `P az el` -> `RPRT 0`; a position outside the dummy's limits (azimuth -180..450, elevation 0..90 deg) ->
      `RPRT -21` (RIG_ELIMIT, nothing moves); an argument that is not a number -> `RPRT -1` (RIG_EINVAL);
    - `p` -> azimuth and elevation, one per line, `%.2f`; `S` (stop where it is) and `K` (park at 0, 0) -> `RPRT 0`;
    - an unknown command gets NO reply on the socket: rotctld only prints `Command 'X' not found!` on its stderr
      (kept in `stderr` here).
    The dummy slews at 6 deg/s on both axes (360 deg per minute) unless told otherwise."""

    terminators = b"\n"
    reply_eol = "\n"
    MIN_AZ, MAX_AZ, MIN_EL, MAX_EL = -180.0, 450.0, 0.0, 90.0
    ELIMIT, EINVAL = -21, -1

    def __init__(
        self,
        *,
        rate_deg_s: float = 6.0,
        az_deg: float = 0.0,
        el_deg: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.axes = _Slewing(az_deg, el_deg, rate_deg_s, clock)
        self.stderr: list[str] = []

    def handle(self, line: str) -> str | None:
        parts = line.split()
        eol = self.reply_eol
        if parts[0] == "P" and len(parts) == 3:
            try:
                az, el = float(parts[1].replace(",", ".")), float(parts[2].replace(",", "."))
            except ValueError:
                return f"RPRT {self.EINVAL}{eol}"
            if not (self.MIN_AZ <= az <= self.MAX_AZ and self.MIN_EL <= el <= self.MAX_EL):
                return f"RPRT {self.ELIMIT}{eol}"
            self.axes.goto(az, el)
            return f"RPRT 0{eol}"
        if parts == ["p"]:
            self.axes.advance()
            return f"{self.axes.az:.2f}{eol}{self.axes.el:.2f}{eol}"
        if parts == ["S"]:
            self.axes.stop()
            return f"RPRT 0{eol}"
        if parts == ["K"]:
            self.axes.goto(0.0, 0.0)
            return f"RPRT 0{eol}"
        cmd = parts[0]
        self.stderr.append(f"Command '{cmd if len(cmd) > 1 else cmd[0]}' not found!")
        return None


class FakeZmqSdr:
    """An SDR pair on ZeroMQ for hardware-in-the-loop tests without hardware: whatever the run's TX sink sends
    to `tx_address` comes back out of `rx_address` to its RX source (a cable), message by message. Use it through
    a `zmq` device profile with both sides connecting (`profile_toml()` writes one).

    `disappear()` closes both sockets at once, as when the radio is unplugged: the run's sink then finds no one
    taking samples and its source gets nothing more. `mute = True` keeps the sockets but drops what comes in."""

    def __init__(self, hwm: int = 16) -> None:
        import zmq

        self._zmq = zmq
        self._ctx = zmq.Context()
        self._pull = self._ctx.socket(zmq.PULL)
        self._push = self._ctx.socket(zmq.PUSH)
        for sock in (self._pull, self._push):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RCVHWM if sock is self._pull else zmq.SNDHWM, hwm)
        self.tx_port = self._pull.bind_to_random_port("tcp://127.0.0.1")
        self.rx_port = self._push.bind_to_random_port("tcp://127.0.0.1")
        self.tx_address = f"tcp://127.0.0.1:{self.tx_port}"
        self.rx_address = f"tcp://127.0.0.1:{self.rx_port}"
        self.mute = False
        self.messages = 0
        self.log: list[tuple[float, float]] = []  # (arrival time.monotonic(), peak |x|) of each IQ message
        self._gone = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fake-zmq-sdr", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        zmq = self._zmq
        pending = None
        while not self._gone.is_set():
            try:
                if pending is None:
                    if not self._pull.poll(20):
                        continue
                    pending = self._pull.recv_multipart(copy=True)
                    data = pending[-1] if len(pending) == 2 else b""
                    peak = float(np.abs(np.frombuffer(data, np.complex64)).max()) if len(data) >= 8 else 0.0
                    self.log.append((time.monotonic(), peak))
                    if self.mute:
                        pending = None
                        continue
                if self._push.poll(20, zmq.POLLOUT):
                    self._push.send_multipart(pending, flags=zmq.NOBLOCK)
                    self.messages += 1
                    pending = None
            except zmq.ZMQError:
                return

    def profile_toml(self, path: Path, name: str = "fake-sdr", send_timeout_s: float | None = None) -> Path:
        """Write a `zmq` device profile that connects both ways to this fake; returns its path."""
        extra = f"send_timeout_s = {send_timeout_s}\n" if send_timeout_s is not None else ""
        path.write_text(
            f'name = "{name}"\ndescription = "fake SDR on ZeroMQ (linksim.hw.fakes.FakeZmqSdr)"\n'
            'kind = "zmq"\ndriver = "zmq"\nduplex = "full"\nrx = true\ntx = true\ntx_allowed = true\n\n'
            "[sample_rate]\nmin_sps = 1\nmax_sps = 100e6\ndefault_sps = 1e6\n\n"
            f'[options]\ntx_address = "{self.tx_address}"\nrx_address = "{self.rx_address}"\n'
            f"tx_bind = false\nrx_bind = false\nhwm = 16\n{extra}"
        )
        return path

    def disappear(self) -> None:
        """Vanish as if unplugged: both sockets close now."""
        if self._gone.is_set():
            return
        self._gone.set()
        self._thread.join(timeout=1)
        self._pull.close(0)
        self._push.close(0)

    def close(self) -> None:
        self.disappear()
        self._ctx.term()

    def __enter__(self) -> FakeZmqSdr:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


# ---------------------------------------------------------------- servers


class _Server:
    url: str

    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _idle_after_stop(self) -> bool:
        """True once 5 consecutive empty polls (about 0.1 s) followed stop: a PTY delivers written bytes to
        the master side from a kernel work queue, so 'nothing ready' once is not 'nothing sent'."""
        self._idle_polls = getattr(self, "_idle_polls", 0) + 1
        return self._idle_polls >= 5

    def _start(self, target: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=target, name=f"fake-{type(self.device).__name__}", daemon=True)
        self._thread.start()

    def disappear(self) -> None:
        """Vanish as if unplugged: close the device side of the link now."""
        raise NotImplementedError

    def _vanish(self) -> bool:
        """Mark the link gone and let the serving loop end (waited for unless this is its own thread). False if it
        was already gone."""
        if self._gone:
            return False
        self._gone = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)
        return True

    def close(self) -> None:
        """Read what the client already sent, then shut down."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.disappear()

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class PtyServer(_Server):
    """The fake behind a pseudo-terminal; `url` is the slave device path (e.g. /dev/pts/7)."""

    def __init__(self, device: FakeDevice) -> None:
        super().__init__(device)
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: bytes pass as on a real serial line
        self.url = os.ttyname(self._slave)
        self._gone = False
        self._start(self._loop)

    def _loop(self) -> None:
        while not self._gone:
            try:
                ready, _, _ = select.select([self._master], [], [], 0.02)
                if not ready:
                    if self._stop.is_set() and self._idle_after_stop():
                        return  # drained: nothing left to read
                    continue
                data = os.read(self._master, 4096)
            except (OSError, ValueError):
                return
            if not data:
                return
            reply = self.device.feed(data)
            if reply:
                try:
                    os.write(self._master, reply)
                except OSError:
                    return

    def disappear(self) -> None:
        if not self._vanish():
            return
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpServer(_Server):
    """The fake on 127.0.0.1, ephemeral port. `url` is `socket://127.0.0.1:PORT` (pyserial); `tcp_url` the
    same port as `tcp://` (raw TCP transport)."""

    def __init__(self, device: FakeDevice) -> None:
        super().__init__(device)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.02)
        self.port = self._listener.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self.tcp_url = f"tcp://127.0.0.1:{self.port}"
        self._clients: list[socket.socket] = []
        self._gone = False
        self._start(self._loop)

    def _loop(self) -> None:
        while not self._gone:
            socks = [self._listener, *self._clients]
            try:
                ready, _, _ = select.select(socks, [], [], 0.02)
            except (OSError, ValueError):
                return
            if not ready and self._stop.is_set() and self._idle_after_stop():
                return  # drained: nothing left to read
            for s in ready:
                if s is self._listener:
                    try:
                        conn, _ = self._listener.accept()
                        self._clients.append(conn)
                    except OSError:
                        pass
                    continue
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self._clients.remove(s)
                    s.close()
                    continue
                reply = self.device.feed(data)
                if reply:
                    try:
                        s.sendall(reply)
                    except OSError:
                        pass

    def disappear(self) -> None:
        if not self._vanish():
            return
        for s in [*self._clients, self._listener]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self._clients.clear()


class HttpServer(_Server):
    """A fake attenuator's Ethernet interface: `GET /SETATT=10.25` answers `1`, `GET /ATT?` the value, ...
    `url` is `http://127.0.0.1:PORT`."""

    def __init__(self, device: FakeDevice) -> None:
        super().__init__(device)
        dev = device

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                cmd = self.path.lstrip("/")
                with dev.lock:
                    dev.wire += self.path.encode("ascii") + b"\n"
                    dev.commands.append(cmd)
                    reply = None if dev.mute else dev.handle(":" + cmd)
                if reply is None:
                    time.sleep(5)  # a mute device: the client times out
                    return
                body = reply.strip().encode("ascii")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._gone = False
        self._start(lambda: self._httpd.serve_forever(poll_interval=0.02))

    def disappear(self) -> None:
        if self._gone:
            return
        self._gone = True
        self._httpd.shutdown()
        self._httpd.server_close()

    def close(self) -> None:
        self.disappear()  # each request is answered before GET returns: nothing to drain
        if self._thread is not None:
            self._thread.join(timeout=2)


def serve_pty(device: FakeDevice) -> PtyServer:
    """Serve `device` on a new PTY; open `server.url` with pyserial as if it were a USB-serial port."""
    return PtyServer(device)


def serve_tcp(device: FakeDevice) -> TcpServer:
    """Serve `device` on 127.0.0.1 at an ephemeral TCP port."""
    return TcpServer(device)


def serve_http(device: FakeAttenuator) -> HttpServer:
    """Serve a fake attenuator's HTTP interface on 127.0.0.1 at an ephemeral port."""
    return HttpServer(device)
