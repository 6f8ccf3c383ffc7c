"""Lab gear safe on every exit of a hardware run, whatever state the flowgraph is in.

`LabGuard` knows what must be made safe: programmable attenuators back to their maximum, rotators stopped, the
transmitter muted (its digital gain set to zero, so an SDR that keeps streaming radiates nothing). `make_safe()`
does all of it, each step bounded by its device's own timeout, a device that is gone reported rather than raised,
and it may be called again (from another thread too).

`Supervisor` owns the signals of a `linksim run` process. It blocks SIGINT, SIGTERM and SIGHUP in the main thread
(so every thread started later inherits the mask) and takes them in a thread of its own with sigwait, so a signal
is handled at once even while the main thread is blocked in GNU Radio or a device call:
- first signal: the run's stop event is set, the lab gear is made safe at once, and a watchdog is armed; if the
  main thread has not taken the stop within a second (it is in a long computation), it gets a KeyboardInterrupt;
- second signal: lab gear made safe (again), a message, and the process leaves now (os._exit);
- watchdog: if the process is still there `bound_s` after the first signal, the same forced exit.
The CLI also calls `make_safe()` on every return path (normal end, error) and at interpreter exit (atexit).
"""

from __future__ import annotations

import _thread
import atexit
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import LinksimError

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_QUIT = signal.SIGUSR2  # tells the signal thread to end (uninstall)
EXIT_BOUND_S = 10.0  # a hardware run exits this long after a signal at the latest
ACK_S = 1.0  # the main thread is interrupted when it has not taken a stop after this long


class StopEvent(threading.Event):
    """The run's stop event; whoever acts on it calls `ack()` (so the supervisor knows the main thread saw it)."""

    def __init__(self) -> None:
        super().__init__()
        self.acked = threading.Event()
        self.reason = ""

    def ack(self) -> None:
        self.acked.set()


def ack_stop(stop: threading.Event | None) -> None:
    """Acknowledge a stop event if it is a StopEvent."""
    if isinstance(stop, StopEvent):
        stop.ack()


class LabGuard:
    """What must be made safe when a hardware run ends, however it ends."""

    def __init__(self, say: Callable[[str], None] | None = None) -> None:
        self.attenuators: list[Any] = []
        self.rotators: list[Any] = []
        self._mutes: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._safe_lock = threading.Lock()  # one make_safe at a time (signal thread, main thread, atexit)
        self._closed = False
        self.say = say or (lambda msg: sys.stderr.write(f"linksim: {msg}\n"))
        self.safe_count = 0
        self.failures: list[str] = []

    def add_mute(self, mute: Callable[[], None]) -> None:
        """A callable that stops the transmitter radiating (e.g. sets its digital gain to zero)."""
        with self._lock:
            self._mutes.append(mute)

    def clear_mutes(self) -> None:
        with self._lock:
            self._mutes.clear()

    @property
    def empty(self) -> bool:
        return not (self.attenuators or self.rotators or self._mutes)

    def make_safe(self) -> list[str]:
        """TX muted, attenuators at maximum, rotators stopped. Returns what could not be done (and says it).
        Nothing to do once closed (close() made it safe and released the devices)."""
        with self._safe_lock:
            if self._closed:
                return []
            return self._make_safe()

    def _make_safe(self) -> list[str]:
        with self._lock:
            mutes, atts, rots = list(self._mutes), list(self.attenuators), list(self.rotators)
        problems = []
        for mute in mutes:
            try:
                mute()
            except Exception as e:  # noqa: BLE001 - a failing mute must not stop the rest
                problems.append(f"TX could not be muted: {e}")
        for att in atts:
            try:
                att.hold_at_max()
            except (LinksimError, OSError) as e:
                problems.append(f"attenuator {att.transport.url} could not be set to maximum: {e}")
        for rot in rots:
            try:
                rot.halt()
            except (LinksimError, OSError) as e:
                problems.append(f"rotator {rot.transport.url} could not be stopped: {e}")
        self.safe_count += 1
        for p in problems:
            if p not in self.failures:
                self.failures.append(p)
                self.say(f"warning: {p}")
        return problems

    def close(self) -> None:
        """Make safe, then release the devices' links."""
        with self._safe_lock:
            if self._closed:
                return
            self._make_safe()
            self._closed = True
            for dev in [*self.attenuators, *self.rotators]:
                try:
                    dev.transport.close()
                except Exception:  # noqa: BLE001 - closing a dead link must not raise
                    pass


class Supervisor:
    """Signals and the exit watchdog of one run process (see the module docstring). Use as a context manager in
    the main thread."""

    def __init__(self, guard: LabGuard, stop: StopEvent, *, bound_s: float = EXIT_BOUND_S,
                 say: Callable[[str], None] | None = None, on_forced_exit: Callable[[], None] | None = None) -> None:
        self.guard = guard
        self.stop = stop
        self.bound_s = bound_s
        self.say = say or (lambda msg: sys.stderr.write(f"linksim run: {msg}\n"))
        self.on_forced_exit = on_forced_exit
        self.signals: list[int] = []
        self._thread: threading.Thread | None = None
        self._old_mask: set[int] | None = None
        self._old_int: Any = signal.SIG_DFL
        self._first_at: float | None = None
        self._exit_lock = threading.Lock()

    @property
    def exit_code(self) -> int:
        """128 + the first signal's number (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + (self.signals[0] if self.signals else signal.SIGINT)

    def __enter__(self) -> Supervisor:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("the supervisor must be installed from the main thread")
        self._old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, [*SIGNALS, _QUIT])
        # interrupt_main needs Python's SIGINT handler (a shell starts background jobs with SIGINT ignored)
        self._old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        self._thread = threading.Thread(target=self._loop, name="linksim-signals", daemon=True)
        self._thread.start()
        atexit.register(self.guard.make_safe)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None and self._thread.ident is not None:
            signal.pthread_kill(self._thread.ident, _QUIT)
            self._thread.join(timeout=2.0)
        if self._old_mask is not None:
            signal.signal(signal.SIGINT, self._old_int)
            signal.pthread_sigmask(signal.SIG_SETMASK, self._old_mask)
        atexit.unregister(self.guard.make_safe)

    def _loop(self) -> None:
        while True:
            sig = signal.sigwait([*SIGNALS, _QUIT])
            if sig == _QUIT:
                return
            self.signals.append(sig)
            name = signal.Signals(sig).name
            if len(self.signals) == 1:
                self._first_at = time.monotonic()
                self.stop.reason = name
                self.stop.set()
                self.say(f"{name}: stopping (lab gear to safe state; a second interrupt exits at once)")
                self.guard.make_safe()
                threading.Thread(target=self._watchdog, name="linksim-exit-watchdog", daemon=True).start()
            else:
                self.guard.make_safe()
                self._exit(f"second {name}: exiting now")

    def _watchdog(self) -> None:
        if not self.stop.acked.wait(ACK_S):
            _thread.interrupt_main()  # the main thread is busy elsewhere: unwind it
        start = self._first_at or time.monotonic()
        left = self.bound_s - 1.0 - (time.monotonic() - start)  # a second of margin for the exit itself
        time.sleep(max(left, 0.0))
        self.guard.make_safe()
        self._exit(f"did not stop within {self.bound_s - 1.0:g} s: exiting now")

    def _exit(self, why: str) -> None:
        with self._exit_lock:
            if self.on_forced_exit is not None:
                try:
                    self.on_forced_exit()
                except Exception:  # noqa: BLE001 - leaving anyway
                    pass
            self.say(why)
            try:
                sys.stderr.flush()
                sys.stdout.flush()
            except (OSError, ValueError):
                pass
            os._exit(self.exit_code)


__all__ = ["LabGuard", "StopEvent", "Supervisor", "ack_stop"]
