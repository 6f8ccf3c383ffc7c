"""One transport interface for lab gear: serial ports (pyserial, incl. `socket://` and `rfc2217://` URLs),
raw TCP, HTTP (one GET per command) and USB HID (hidapi, optional).

Every transport does one thing: `transact(command, ...)` sends one command and returns its reply lines.
Drivers (attenuator, rotator) never see which transport they talk through, so tests hand them a fake device on
a PTY or a TCP port. Any failure (no device, timeout, link closed mid-run) raises DeviceError with one line
naming the URL.

URL forms accepted by `open_transport`:
  /dev/ttyUSB0, COM3, socket://host:port, rfc2217://host:port   pyserial (8N1, baud rate from the caller)
  tcp://host:port                                                 raw TCP socket
  http://host[:port][/prefix]                                     HTTP GET <prefix>/<command>, body = reply
  hid://VID:PID[/SERIAL]                                          USB HID, 64-byte reports (hex VID:PID)
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType

from ..errors import DeviceError, InputError

DEFAULT_TIMEOUT_S = 1.0
ErrorCheck = Callable[[str], "str | None"] | None


class Transport(ABC):
    """A link to one instrument. Use as a context manager; `close()` is idempotent."""

    url: str
    timeout_s: float

    @abstractmethod
    def transact(
        self,
        command: str,
        eol: bytes,
        reply_lines: int,
        reply_eols: bytes = b"\r\n",
        error_reply: ErrorCheck = None,
    ) -> list[str]:
        """Send `command` (ASCII) followed by `eol`; return `reply_lines` non-empty reply lines (stripped).

        reply_lines = 0 sends without reading. A line for which `error_reply(line)` is not None ends the reply
        early (the device's error answer is shorter than a good one). DeviceError on timeout or a lost
        link."""

    @abstractmethod
    def close(self) -> None:
        """Release the link."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class StreamTransport(Transport):
    """A byte stream (serial port or TCP socket) carrying line-terminated commands and replies."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = float(timeout_s)
        self._buf = bytearray()

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abstractmethod
    def _read_some(self, timeout_s: float) -> bytes:
        """Up to a few hundred bytes; b"" on timeout; DeviceError when the link is gone."""

    @abstractmethod
    def _discard_input(self) -> None:
        """Drop bytes the device sent that nobody asked for (stale replies, echoes)."""

    def transact(
        self,
        command: str,
        eol: bytes,
        reply_lines: int,
        reply_eols: bytes = b"\r\n",
        error_reply: ErrorCheck = None,
    ) -> list[str]:
        self._buf.clear()
        self._discard_input()
        self._write(command.encode("ascii") + eol)
        lines: list[str] = []
        deadline = time.monotonic() + self.timeout_s
        while len(lines) < reply_lines:
            line = self._take_line(reply_eols)
            if line is not None:
                if line:
                    lines.append(line)
                    if error_reply is not None and error_reply(line) is not None:
                        break
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                got = f" (got {bytes(self._buf)!r})" if self._buf else ""
                raise DeviceError(f"{self.url}: no reply to {command!r} within {self.timeout_s:g} s{got}")
            self._buf += self._read_some(left)
        return lines

    def _take_line(self, eols: bytes) -> str | None:
        for i, b in enumerate(self._buf):
            if b in eols:
                raw = bytes(self._buf[:i])
                del self._buf[: i + 1]
                return raw.decode("ascii", errors="replace").strip()
        return None


try:
    import termios

    _TERMIOS_ERRORS: tuple[type[BaseException], ...] = (termios.error,)
except ImportError:  # Windows
    _TERMIOS_ERRORS = ()


class SerialTransport(StreamTransport):
    """pyserial port or URL (`socket://`, `rfc2217://`), 8 data bits, no parity, 1 stop bit."""

    def __init__(self, url: str, baudrate: int = 9600, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__(url, timeout_s)
        import serial

        self._serial_errors = (serial.SerialException, OSError, *_TERMIOS_ERRORS)
        try:
            self._port = serial.serial_for_url(
                url,
                baudrate=baudrate,
                bytesize=8,
                parity="N",
                stopbits=1,
                timeout=0.05,
                write_timeout=timeout_s,
            )
        except (serial.SerialException, OSError, ValueError) as e:
            raise DeviceError(f"{url}: cannot open: {_one_line(e)}") from None

    def _write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except self._serial_errors as e:
            raise DeviceError(f"{self.url}: link lost while writing: {_one_line(e)}") from None

    def _read_some(self, timeout_s: float) -> bytes:
        try:
            self._port.timeout = max(0.001, min(timeout_s, 0.05))
            first = self._port.read(1)
            if not first:
                return b""
            return first + self._port.read(self._port.in_waiting or 0)
        except self._serial_errors as e:
            raise DeviceError(f"{self.url}: link lost: {_one_line(e)}") from None

    def _discard_input(self) -> None:
        try:
            self._port.reset_input_buffer()
        except self._serial_errors as e:
            raise DeviceError(f"{self.url}: link lost: {_one_line(e)}") from None

    def close(self) -> None:
        port = getattr(self, "_port", None)
        if port is not None:
            # pyserial's socket:// close() skips closing its socket when shutdown() fails on a dead link
            sock = getattr(port, "_socket", None)
            try:
                port.close()
            except Exception:  # noqa: BLE001 - closing a dead port must not raise
                pass
            if sock is not None:
                sock.close()
            self._port = None  # type: ignore[assignment]


class TcpTransport(StreamTransport):
    """A raw TCP socket (`tcp://host:port`), e.g. rotctld on port 4533 or an Ethernet-to-serial bridge."""

    def __init__(self, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__(url, timeout_s)
        host, port = _host_port(url)
        try:
            self._sock: socket.socket | None = socket.create_connection((host, port), timeout=timeout_s)
        except OSError as e:
            raise DeviceError(f"{url}: cannot connect: {_one_line(e)}") from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _live(self) -> socket.socket:
        if self._sock is None:
            raise DeviceError(f"{self.url}: link is closed")
        return self._sock

    def _write(self, data: bytes) -> None:
        try:
            self._live().sendall(data)
        except OSError as e:
            raise DeviceError(f"{self.url}: link lost while writing: {_one_line(e)}") from None

    def _read_some(self, timeout_s: float) -> bytes:
        sock = self._live()
        sock.settimeout(max(0.001, timeout_s))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return b""
        except OSError as e:
            raise DeviceError(f"{self.url}: link lost: {_one_line(e)}") from None
        if not data:
            raise DeviceError(f"{self.url}: device closed the connection")
        return data

    def _discard_input(self) -> None:
        sock = self._live()
        sock.setblocking(False)
        try:
            while True:
                data = sock.recv(4096)
                if not data:
                    raise DeviceError(f"{self.url}: device closed the connection")
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:
            raise DeviceError(f"{self.url}: link lost: {_one_line(e)}") from None
        finally:
            sock.setblocking(True)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


class HttpTransport(Transport):
    """One HTTP GET per command: `http://host/<prefix>/<command>` (a leading ':' of SCPI is dropped).

    The response body, split into lines, is the reply. Mini-Circuits Ethernet attenuators work this way
    (`GET /SETATT=10.25` answers `1`)."""

    def __init__(self, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = float(timeout_s)
        parsed = urllib.parse.urlsplit(self.url)
        if not parsed.hostname:
            raise InputError(f"{url}: no host in HTTP URL")
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = _url_port(parsed, url)
        self._prefix = parsed.path

    def transact(
        self,
        command: str,
        eol: bytes,
        reply_lines: int,
        reply_eols: bytes = b"\r\n",
        error_reply: ErrorCheck = None,
    ) -> list[str]:
        path = urllib.parse.quote(command.lstrip(":"), safe="=?:.,;-_+*/")
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self.timeout_s)
        try:
            conn.request("GET", f"{self._prefix}/{path}")
            resp = conn.getresponse()
            body = resp.read().decode("ascii", errors="replace")
            status = resp.status
        except (OSError, http.client.HTTPException) as e:
            raise DeviceError(f"{self.url}: no reply to {command!r}: {_one_line(e)}") from None
        finally:
            conn.close()
        if status != 200:
            raise DeviceError(f"{self.url}: HTTP {status} for {command!r}")
        lines = _nonempty_lines(body)
        if len(lines) < reply_lines and not any(error_reply and error_reply(ln) for ln in lines):
            raise DeviceError(f"{self.url}: reply to {command!r} has {len(lines)} lines, expected {reply_lines}")
        return lines[:reply_lines]

    def close(self) -> None:
        pass


class HidTransport(Transport):
    """USB HID with 64-byte reports (Mini-Circuits USB attenuators): byte 0 is the command code 42 ('*'
    = SCPI), the ASCII command follows, zero padded. The reply echoes the code, then ASCII up to a zero byte.
    Needs the optional `hidapi` package (`pip install hidapi`)."""

    REPORT_BYTES = 64
    SCPI_CODE = 42

    def __init__(self, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url
        self.timeout_s = float(timeout_s)
        vid, pid, serial_no = parse_hid_url(url)
        try:
            import hid  # type: ignore[import-not-found]
        except ImportError:
            raise DeviceError(f"{url}: USB HID needs the optional 'hidapi' package (pip install hidapi)") from None
        try:
            self._dev = hid.device()
            self._dev.open(vid, pid, serial_no)
        except (OSError, ValueError) as e:
            raise DeviceError(f"{url}: cannot open HID device: {_one_line(e)}") from None

    def transact(
        self,
        command: str,
        eol: bytes,
        reply_lines: int,
        reply_eols: bytes = b"\r\n",
        error_reply: ErrorCheck = None,
    ) -> list[str]:
        payload = command.encode("ascii")
        if len(payload) > self.REPORT_BYTES - 1:
            raise InputError(f"{self.url}: command {command!r} longer than one HID report")
        report = bytes([self.SCPI_CODE]) + payload
        report = report + bytes(self.REPORT_BYTES - len(report))
        try:
            self._dev.write(b"\x00" + report)  # report id 0 first
            if reply_lines == 0:
                return []
            data = bytes(self._dev.read(self.REPORT_BYTES, int(self.timeout_s * 1000)))
        except (OSError, ValueError) as e:
            raise DeviceError(f"{self.url}: link lost: {_one_line(e)}") from None
        if not data:
            raise DeviceError(f"{self.url}: no reply to {command!r} within {self.timeout_s:g} s")
        text = data[1:].split(b"\x00", 1)[0].decode("ascii", errors="replace")
        lines = _nonempty_lines(text)
        if len(lines) < reply_lines:
            raise DeviceError(f"{self.url}: short reply to {command!r}: {text!r}")
        return lines[:reply_lines]

    def close(self) -> None:
        dev = getattr(self, "_dev", None)
        if dev is not None:
            dev.close()
            self._dev = None


def parse_hid_url(url: str) -> tuple[int, int, str | None]:
    """`hid://20ce:0023[/SERIAL]` -> (vendor id, product id, serial or None)."""
    rest = url[len("hid://") :]
    ids, _, serial_no = rest.partition("/")
    try:
        vid_s, pid_s = ids.split(":")
        return int(vid_s, 16), int(pid_s, 16), (serial_no or None)
    except ValueError:
        raise InputError(f"{url}: HID URL must be hid://VID:PID[/SERIAL] with hex ids") from None


def open_transport(url: str, *, baudrate: int = 9600, timeout_s: float = DEFAULT_TIMEOUT_S) -> Transport:
    """Open the transport a URL names (see the module docstring). Raises DeviceError if nothing answers."""
    if not url:
        raise InputError("empty device URL")
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("http", "https"):
        return HttpTransport(url, timeout_s=timeout_s)
    if scheme == "tcp":
        return TcpTransport(url, timeout_s=timeout_s)
    if scheme == "hid":
        return HidTransport(url, timeout_s=timeout_s)
    return SerialTransport(url, baudrate=baudrate, timeout_s=timeout_s)


def _url_port(parsed: urllib.parse.SplitResult, url: str) -> int | None:
    """The port of a parsed URL (None if it has none); a port that is not a number in 0..65535 is an InputError
    (urllib raises a bare ValueError)."""
    try:
        return parsed.port
    except ValueError:
        raise InputError(f"{url}: the port is not a number in 0..65535") from None


def _host_port(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url)
    port = _url_port(parsed, url)
    if not parsed.hostname or port is None:
        raise InputError(f"{url}: expected tcp://HOST:PORT")
    return parsed.hostname, port


def _nonempty_lines(text: str) -> list[str]:
    """The non-blank lines of a reply (CR, LF or CRLF ends a line), stripped."""
    return [ln.strip() for ln in text.replace("\r", "\n").split("\n") if ln.strip()]


def _one_line(e: object) -> str:
    return " ".join(str(e).split()) or type(e).__name__
