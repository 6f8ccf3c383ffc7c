"""Antenna rotator: Hamlib rotctld (TCP, `P az el`, `p`, `S`, `K`) or Yaesu GS-232A/B (serial, `W%03u %03u`,
`C2`, `S`), behind one class.

Safe by default: leaving the `with` block (normally, on an error or on Ctrl-C) sends stop; `track()` stops the
rotator before re-raising anything that interrupts it. `halt()` (thread-safe, for a run's safety thread) stops it
and keeps it stopped: later moves are refused.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np

from ..errors import DeviceError, InputError
from .commands import ROTATOR_MODELS, run
from .transport import Transport, open_transport


@dataclass
class TrackReport:
    """Commanded and read-back pointing per step (degrees) and the pointing error (great-circle, degrees)."""

    commanded_az_deg: np.ndarray
    commanded_el_deg: np.ndarray
    measured_az_deg: np.ndarray
    measured_el_deg: np.ndarray
    pointing_error_deg: np.ndarray
    step_s: float
    notes: list[str] = field(default_factory=list)


def angular_separation_deg(az1: np.ndarray, el1: np.ndarray, az2: np.ndarray, el2: np.ndarray) -> np.ndarray:
    """Great-circle angle between two (az, el) directions, degrees (arrays elementwise)."""
    a1, e1, a2, e2 = (np.radians(np.asarray(x, dtype=float)) for x in (az1, el1, az2, el2))
    c = np.sin(e1) * np.sin(e2) + np.cos(e1) * np.cos(e2) * np.cos(a1 - a2)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


class Rotator:
    """An az/el rotator. `model` is 'gs232a', 'gs232b' or 'rotctld'. Azimuth 0..450 deg (GS-232 overlap),
    negative azimuths are taken modulo 360; elevation 0..180 deg. GS-232 resolution is 1 degree."""

    def __init__(
        self,
        transport: Transport,
        model: str,
        *,
        az_range_deg: tuple[float, float] = (0.0, 450.0),
        el_range_deg: tuple[float, float] = (0.0, 180.0),
    ) -> None:
        if model not in ROTATOR_MODELS:
            raise InputError(f"unknown rotator model {model!r}; choose one of {', '.join(ROTATOR_MODELS)}")
        self.transport = transport
        self.model = model
        self.commands = ROTATOR_MODELS[model]
        self.az_range_deg = az_range_deg
        self.el_range_deg = el_range_deg
        self.last_command: tuple[float, float] | None = None
        self._stopped = True
        self.halted = False  # stopped for good (halt): goto refuses to move
        self._io = threading.RLock()  # one command at a time on the link

    def _check(self, az_deg: float, el_deg: float) -> tuple[float, float]:
        az, el = float(az_deg), float(el_deg)
        if not (math.isfinite(az) and math.isfinite(el)):
            raise InputError(f"rotator target az={az_deg} el={el_deg} is not a number")
        if az < 0:
            az += 360.0
        lo, hi = self.az_range_deg
        if not lo <= az <= hi:
            raise InputError(f"azimuth {az_deg} deg outside the rotator's range {lo:g}..{hi:g} deg")
        lo, hi = self.el_range_deg
        if not lo <= el <= hi:
            raise InputError(f"elevation {el_deg} deg outside the rotator's range {lo:g}..{hi:g} deg")
        return az, el

    def goto(self, az_deg: float, el_deg: float) -> tuple[float, float]:
        """Command a move; returns the target actually sent (GS-232: rounded to whole degrees)."""
        az, el = self._check(az_deg, el_deg)
        with self._io:
            if self.halted:
                raise DeviceError(f"{self.transport.url}: rotator halted (the run is stopping)")
            if self.model.startswith("gs232"):
                az, el = float(round(az)), float(round(el))
                run(self.transport, self.commands, "goto", az=int(az), el=int(el))
            else:
                run(self.transport, self.commands, "goto", az=az, el=el)
            self.last_command = (az, el)
            self._stopped = False
        return az, el

    def position(self) -> tuple[float, float]:
        """Current (az_deg, el_deg) as the controller reports it."""
        with self._io:
            az, el = run(self.transport, self.commands, "position")
        return float(az), float(el)

    def stop(self) -> None:
        """Stop all motion."""
        with self._io:
            run(self.transport, self.commands, "stop")
            self._stopped = True

    def halt(self) -> None:
        """Stop and stay stopped (later gotos are refused). Waits for a command in flight at most two reply
        timeouts, then sends anyway."""
        self.halted = True
        got = self._io.acquire(timeout=2.0 * self.transport.timeout_s + 0.5)
        try:
            run(self.transport, self.commands, "stop")
            self._stopped = True
        finally:
            if got:
                self._io.release()

    def park(self) -> None:
        """Park (rotctld `K`). GS-232 controllers have no park command."""
        if "park" not in self.commands.commands:
            raise InputError(f"{self.model} has no park command")
        with self._io:
            run(self.transport, self.commands, "park")

    def wait_until(
        self,
        az_deg: float,
        el_deg: float,
        *,
        tolerance_deg: float = 1.0,
        timeout_s: float = 60.0,
        poll_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> tuple[float, float]:
        """Poll the position until it is within `tolerance_deg` of the target; DeviceError after
        `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            az, el = self.position()
            if float(angular_separation_deg(az, el, az_deg, el_deg)) <= tolerance_deg:
                return az, el
            if time.monotonic() > deadline:
                raise DeviceError(
                    f"{self.transport.url}: rotator at az={az:g} el={el:g} did not reach az={az_deg:g} "
                    f"el={el_deg:g} within {timeout_s:g} s"
                )
            sleep(poll_s)

    def track(
        self,
        az_el_series: Sequence[tuple[float, float]] | np.ndarray,
        step_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stop_at_end: bool = True,
        stop: threading.Event | None = None,
    ) -> TrackReport:
        """Command az_el_series[k] (degrees, shape (n, 2)) at t0 + k*step_s and read the position back at each
        step. Stops the rotator on any error or Ctrl-C (then re-raises), and at the end unless told not to.
        Setting `stop` (from another thread) ends the track early and stops the rotator; steps not reached
        are NaN in the report."""
        pts = np.asarray(az_el_series, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] == 0:
            raise InputError("az_el_series must have shape (n, 2): azimuth and elevation in degrees")
        if not step_s > 0:
            raise InputError(f"step_s must be > 0, got {step_s}")
        targets = [self._check(az, el) for az, el in pts]  # refuse the whole track before moving
        n = len(targets)
        cmd = np.full((n, 2), np.nan)
        meas = np.full((n, 2), np.nan)
        notes: list[str] = []
        if stop is not None:
            sleep = stop.wait  # type: ignore[assignment]
        t0 = clock()
        try:
            for k, (az, el) in enumerate(targets):
                wait = t0 + k * step_s - clock()
                if wait > 0:
                    sleep(wait)
                if (stop is not None and stop.is_set()) or self.halted:
                    notes.append(f"stopped after {k} of {n} steps")
                    break
                cmd[k] = self.goto(az, el)
                meas[k] = self.position()
        except BaseException:
            self._safe_stop()
            raise
        if (stop_at_end or notes) and not self.halted:
            self.stop()
        err = angular_separation_deg(cmd[:, 0], cmd[:, 1], meas[:, 0], meas[:, 1])
        return TrackReport(cmd[:, 0], cmd[:, 1], meas[:, 0], meas[:, 1], err, float(step_s), notes)

    def metadata(self) -> dict[str, object]:
        """What a run records about the rotator (last commanded and, if readable, current az/el)."""
        meta: dict[str, object] = {
            "url": self.transport.url,
            "model": self.model,
            "commanded": self.last_command,
        }
        try:
            meta["az_deg"], meta["el_deg"] = self.position()
        except DeviceError as e:
            meta["error"] = str(e)
        return meta

    def _safe_stop(self) -> None:
        try:
            self.stop()
        except (DeviceError, OSError):
            pass

    def close(self) -> None:
        """Stop (best effort) and release the transport."""
        try:
            self._safe_stop()
        finally:
            self.transport.close()

    def __enter__(self) -> Rotator:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_rotator(url: str, model: str = "rotctld", *, baudrate: int = 9600, timeout_s: float = 1.0) -> Rotator:
    """Open a rotator. rotctld: `tcp://host:4533` (a bare `host:port` is taken as TCP); GS-232: a serial
    device or `socket://host:port`."""
    if model == "rotctld" and "://" not in url and ":" in url and not url.startswith("/"):
        url = f"tcp://{url}"
    transport = open_transport(url, baudrate=baudrate, timeout_s=timeout_s)
    return Rotator(transport, model)
