"""Programmable step attenuator (Mini-Circuits SCPI: `:SETATT=`, `:ATT?`, `:MN?`, `:SN?`) over any transport.

Safe by default: opening the attenuator sets it to its maximum attenuation, and closing it (or leaving the
`with` block, including on an error or Ctrl-C) sets it back to maximum. Values are quantized to the step and
must lie in the range; `replay()` puts a scenario's fade (dB over time) on the RF path on a fixed schedule.
`hold_at_max()` (thread-safe, callable from a signal handler's thread while a replay runs) sets the maximum and
keeps it: later `set_db` calls are refused, so a replay cannot put a fade back after the run was stopped.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np

from ..errors import DeviceError, InputError
from .commands import MINICIRCUITS_SCPI, CommandSet, run
from .transport import Transport, open_transport

DEFAULT_STEP_DB = 0.25


def range_from_model(model: str) -> float | None:
    """Maximum attenuation (dB) from a Mini-Circuits model name, None if unknown: the last number of the name
    (`RCDAT-6000-110` -> 110.0, `RUDAT-13G-90` -> 90.0), with Mini-Circuits' `R` for a decimal point
    (`ZX76-31R75PP+` -> 31.75)."""
    m = re.search(r"-(\d+(?:\.\d+)?)(?:R(\d+))?(?:-?[A-Z]*\+?)$", model.strip())
    if not m:
        return None
    return float(m.group(1) + (f".{m.group(2)}" if m.group(2) else ""))


@dataclass
class ReplayReport:
    """What `replay` put on the RF path: requested and applied attenuation per step, and how late each step
    was."""

    requested_db: np.ndarray
    applied_db: np.ndarray
    late_s: np.ndarray
    clipped_steps: int
    step_s: float
    notes: list[str] = field(default_factory=list)


class Attenuator:
    """A programmable step attenuator. `max_db`/`step_db` default to the model's (from `:MN?`) and 0.25 dB."""

    def __init__(
        self,
        transport: Transport,
        *,
        max_db: float | None = None,
        min_db: float = 0.0,
        step_db: float = DEFAULT_STEP_DB,
        commands: CommandSet = MINICIRCUITS_SCPI,
        start_at_max: bool = True,
    ) -> None:
        self.transport = transport
        self.commands = commands
        self.model = str(run(transport, commands, "model"))
        self.serial = str(run(transport, commands, "serial"))
        if max_db is None:
            max_db = range_from_model(self.model)
            if max_db is None:
                raise DeviceError(
                    f"{transport.url}: cannot tell the range of attenuator model {self.model!r}; give max_db"
                )
        if not (step_db > 0 and max_db > min_db >= 0):
            raise InputError(f"attenuator range {min_db}..{max_db} dB with step {step_db} dB is not valid")
        self.min_db = float(min_db)
        self.max_db = float(max_db)
        self.step_db = float(step_db)
        self.last_set_db: float | None = None
        self.held = False  # at maximum for good (hold_at_max): set_db refuses other values
        self._io = threading.RLock()  # one command at a time on the link (replay thread, safety thread)
        if start_at_max:
            self.set_db(self.max_db)

    def quantize(self, attenuation_db: float) -> float:
        """Nearest settable value (dB). InputError outside [min_db, max_db] (half a step of slack)."""
        a = float(attenuation_db)
        if not math.isfinite(a) or a < self.min_db - self.step_db / 2 or a > self.max_db + self.step_db / 2:
            raise InputError(
                f"attenuation {attenuation_db} dB outside the attenuator's range {self.min_db:g}..{self.max_db:g} dB"
            )
        q = self.min_db + round((a - self.min_db) / self.step_db) * self.step_db
        return float(min(max(q, self.min_db), self.max_db))

    def set_db(self, attenuation_db: float) -> float:
        """Set the attenuation; returns the value applied (dB, quantized to the step)."""
        q = self.quantize(attenuation_db)
        with self._io:
            if self.held and q != self.max_db:
                raise DeviceError(f"{self.transport.url}: attenuator held at maximum (the run is stopping)")
            run(self.transport, self.commands, "set_db", db=q)
            self.last_set_db = q
        return q

    def hold_at_max(self) -> None:
        """Set the maximum attenuation and keep it (later set_db calls to other values are refused). Waits for a
        command in flight at most two reply timeouts, then sends anyway (that command is failing on a dead link)."""
        self.held = True
        got = self._io.acquire(timeout=2.0 * self.transport.timeout_s + 0.5)
        try:
            run(self.transport, self.commands, "set_db", db=self.max_db)
            self.last_set_db = self.max_db
        finally:
            if got:
                self._io.release()

    def get_db(self) -> float:
        """The attenuation the device reports (dB)."""
        with self._io:
            return float(run(self.transport, self.commands, "get_db"))

    def replay(
        self,
        fade_db_series: Sequence[float] | np.ndarray,
        step_s: float,
        *,
        base_db: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stop: threading.Event | None = None,
    ) -> ReplayReport:
        """Apply `base_db + fade_db_series[k]` at t0 + k*step_s (an absolute schedule: no drift).

        Values outside the range are clipped to it (counted in the report, never silently). Returns at the
        end of the last step, or early once `stop` is set (to run beside a flowgraph in a thread; steps not
        applied are NaN in the report). The attenuator keeps the last value; closing it sets it to max."""
        fade = np.asarray(fade_db_series, dtype=float)
        if fade.ndim != 1 or fade.size == 0 or not np.all(np.isfinite(fade)):
            raise InputError("fade_db_series must be a non-empty 1-D series of finite dB values")
        if not step_s > 0:
            raise InputError(f"step_s must be > 0, got {step_s}")
        requested = base_db + fade
        clipped = np.clip(requested, self.min_db, self.max_db)
        n_clipped = int(np.count_nonzero(np.abs(clipped - requested) > self.step_db / 2))
        applied = np.empty_like(requested)
        late = np.empty_like(requested)
        applied[:] = np.nan
        late[:] = np.nan
        if stop is not None:
            sleep = stop.wait  # type: ignore[assignment]
        notes = []
        t0 = clock()
        for k, value in enumerate(clipped):
            due = t0 + k * step_s
            wait = due - clock()
            if wait > 0:
                sleep(wait)
            if (stop is not None and stop.is_set()) or self.held:
                notes.append(f"stopped after {k} of {fade.size} steps")
                break
            late[k] = max(0.0, clock() - due)
            applied[k] = self.set_db(float(value))
        else:
            end = t0 + fade.size * step_s - clock()
            if end > 0:
                sleep(end)
        if n_clipped:
            notes.append(
                f"{n_clipped} of {fade.size} steps clipped to the attenuator range {self.min_db:g}..{self.max_db:g} dB"
            )
        return ReplayReport(requested, applied, late, n_clipped, float(step_s), notes)

    def metadata(self) -> dict[str, object]:
        """What a run records about this attenuator."""
        return {
            "url": self.transport.url,
            "model": self.model,
            "serial": self.serial,
            "range_db": [self.min_db, self.max_db],
            "step_db": self.step_db,
            "attenuation_db": self.last_set_db,
        }

    def close(self, to_max: bool = True) -> None:
        """Set maximum attenuation (best effort if the link is gone) and release the transport."""
        try:
            if to_max:
                try:
                    self.hold_at_max()
                except DeviceError:
                    pass
        finally:
            self.transport.close()

    def __enter__(self) -> Attenuator:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_attenuator(
    url: str,
    *,
    max_db: float | None = None,
    step_db: float = DEFAULT_STEP_DB,
    timeout_s: float = 1.0,
    start_at_max: bool = True,
) -> Attenuator:
    """Open the attenuator at `url` (serial device, socket://, tcp://, http://, hid://) at maximum
    attenuation."""
    transport = open_transport(url, timeout_s=timeout_s)
    try:
        return Attenuator(transport, max_db=max_db, step_db=step_db, start_at_max=start_at_max)
    except BaseException:
        transport.close()
        raise
