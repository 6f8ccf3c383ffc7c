"""Two network namespaces joined by TUN devices for IP traffic runs: the gateway side and the user terminal.

    namespace lsim<PID>gw: TUN "lsgw" 10.77.0.1 (peer 10.77.0.2)   <- iperf3 client / the user's command / PEP
    namespace lsim<PID>ut: TUN "lsut" 10.77.0.2 (peer 10.77.0.1)   <- iperf3 server / PEP
Packets the gateway side writes to its TUN are read here and go over the forward link (GSE, DVB-S2, the IQ channel);
packets from the terminal's TUN take the return link. The TUN devices are created in the root namespace, moved into
theirs, and keep working through the file descriptors this process holds.

Cleanup does not depend on the flowgraph: `TrafficNet.close()` (also run on exit by atexit and on SIGTERM by the
traffic run) kills every process it started (whole process groups), closes the TUN descriptors (which deletes the
devices) and deletes both namespaces. A namespace left by a linksim process that died without cleaning up (kill -9)
is deleted by the next traffic run (its name carries the dead process's id).
"""

from __future__ import annotations

import atexit
import fcntl
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path

from ..errors import DeviceError, InputError

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
GW_ADDR = "10.77.0.1"
UT_ADDR = "10.77.0.2"
MTU = 1500
NS_PATTERN = re.compile(r"^lsim(\d+)(gw|ut)$")


def check_host(need: tuple[str, ...] = ("ip",)) -> None:
    """Refuse, in one line naming what is missing, a traffic run this machine cannot do."""
    if os.geteuid() != 0:
        raise InputError("--traffic needs root (it makes network namespaces and TUN devices): run it as root")
    if not os.path.exists("/dev/net/tun"):
        raise DeviceError("--traffic needs /dev/net/tun (the tun kernel module: modprobe tun)")
    for prog in need:
        if shutil.which(prog) is None:
            raise DeviceError(f"--traffic needs the program {prog!r} (scripts/setup.sh installs it)")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and res.returncode != 0:
        raise DeviceError(f"ip {' '.join(args)}: {res.stderr.strip() or 'failed'}")
    return res


def list_namespaces() -> list[str]:
    res = _ip("netns", "list", check=False)
    return [line.split()[0] for line in res.stdout.splitlines() if line.strip()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_ns_processes(ns: str) -> None:
    res = _ip("netns", "pids", ns, check=False)
    for tok in res.stdout.split():
        try:
            os.kill(int(tok), signal.SIGKILL)
        except (ValueError, ProcessLookupError):
            pass


def sweep_stale() -> list[str]:
    """Delete namespaces left by linksim processes that are gone; returns their names."""
    gone = []
    for ns in list_namespaces():
        m = NS_PATTERN.match(ns)
        if m and not _alive(int(m.group(1))):
            _kill_ns_processes(ns)
            _ip("netns", "del", ns, check=False)
            gone.append(ns)
    return gone


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    except OSError as e:
        os.close(fd)
        raise DeviceError(f"cannot create TUN device {name}: {e}") from None
    return fd


class TrafficNet:
    """The two namespaces, their TUN descriptors and the processes started in them (see the module docstring)."""

    def __init__(self, tag: str | None = None, half: str | None = None) -> None:
        """half: None for both namespaces, "gw" or "ut" for one (each host of a split run holds one side)."""
        check_host()
        sweep_stale()
        self.tag = tag or str(os.getpid())
        self.ns_gw = f"lsim{self.tag}gw" if half in (None, "gw") else ""
        self.ns_ut = f"lsim{self.tag}ut" if half in (None, "ut") else ""
        self.fd_gw = -1
        self.fd_ut = -1
        self.procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._closed = False
        atexit.register(self.close)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        for ns in self._names():
            if ns in list_namespaces():
                raise DeviceError(f"network namespace {ns} already exists")
            _ip("netns", "add", ns)
        for ns, dev, me, peer, attr in ((self.ns_gw, f"ls{self.tag}g", GW_ADDR, UT_ADDR, "fd_gw"),
                                        (self.ns_ut, f"ls{self.tag}u", UT_ADDR, GW_ADDR, "fd_ut")):
            if not ns:
                continue
            dev = dev[:15]
            setattr(self, attr, open_tun(dev))
            _ip("link", "set", dev, "netns", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", me, "peer", peer, "dev", dev)
            _ip("-n", ns, "link", "set", dev, "mtu", str(MTU), "up")
        self.dev_gw = f"ls{self.tag}g"[:15]
        self.dev_ut = f"ls{self.tag}u"[:15]

    def _names(self) -> list[str]:
        return [ns for ns in (self.ns_gw, self.ns_ut) if ns]

    # ------------------------------------------------------------------------------------------ processes
    def popen(self, ns: str, argv: list[str], stdout: Path | int | None = None, stderr: Path | int | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start a process in namespace ns (its own process group, so close() can kill all it starts)."""
        out = open(stdout, "wb") if isinstance(stdout, Path) else stdout  # noqa: SIM115 - closed with the process
        err = open(stderr, "wb") if isinstance(stderr, Path) else stderr  # noqa: SIM115
        with self._lock:
            if self._closed:
                raise DeviceError("traffic namespaces already closed")
            p = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, start_new_session=True, env=env)
            self.procs.append(p)
        for f in (out, err):
            if f is not None and not isinstance(f, int):
                f.close()
        return p

    def run(self, ns: str, argv: list[str], timeout: float = 10.0) -> str:
        """Run a short command in namespace ns and return its stdout ('' if it failed)."""
        try:
            res = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True,
                                 timeout=timeout)
        except (subprocess.TimeoutExpired, OSError):
            return ""
        return res.stdout if res.returncode == 0 else ""

    @staticmethod
    def stop_process(p: subprocess.Popen, grace_s: float = 2.0) -> None:
        if p.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                return
            try:
                p.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    # ------------------------------------------------------------------------------------------ cleanup
    def close(self) -> None:
        """Kill every process started here, close the TUNs, delete the namespaces. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            procs = list(self.procs)
        for p in procs:
            self.stop_process(p, grace_s=1.0)
        for attr in ("fd_gw", "fd_ut"):
            fd = getattr(self, attr)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, -1)
        for ns in self._names():
            if ns in list_namespaces():
                _kill_ns_processes(ns)
                _ip("netns", "del", ns, check=False)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(ns in list_namespaces() for ns in self._names()):
            time.sleep(0.05)
        atexit.unregister(self.close)

    def __enter__(self) -> TrafficNet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["GW_ADDR", "UT_ADDR", "TrafficNet", "check_host", "list_namespaces", "sweep_stale"]
