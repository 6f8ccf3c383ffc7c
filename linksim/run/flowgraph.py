"""Running a GNU Radio flowgraph so that it always ends, and ends with one clear error when something breaks.

GNU Radio runs each block in its own thread. An exception in a Python block's work() only logs a few lines and ends
that block's thread; the rest of the flowgraph then waits forever on a buffer nobody fills or drains. And
`top_block.wait()` cannot time out: a block thread stuck in a blocking call (a ZeroMQ send to a peer that went
away) keeps it waiting for good.

`FlowgraphRun` therefore:
- wraps every linksim Python block of the flowgraph (found by walking the hier blocks it is given) so that an
  exception in work() or stop() is recorded in a `Fault` and the block reports itself done (the flowgraph then
  drains and ends) instead of dying;
- waits for the flowgraph in a helper thread and polls, from the caller's thread, the stop event, the fault and a
  `tick` callback (the run's accounting, progress and stall checks; an exception from it is a fault too);
- on a stop or a fault: tells every block that can be aborted (ZeroMQ IQ blocks: no more blocking sends or
  receives), calls `before_stop`, stops the flowgraph and waits for it at most STOP_TIMEOUT_S. A flowgraph that
  does not stop in time is left behind (`abandoned()` says so; the process must then leave with os._exit, as
  the CLI does) rather than hanging the run.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import LinksimError
from .safety import ack_stop

TICK_S = 0.25  # how often the run's thread looks at the flowgraph
STOP_TIMEOUT_S = 5.0  # a stopped flowgraph whose threads have not ended by then is left behind

_abandoned: list[str] = []


def abandoned() -> bool:
    """True once a flowgraph did not stop within STOP_TIMEOUT_S (its threads may still be running)."""
    return bool(_abandoned)


class BlockError(LinksimError):
    """An unexpected exception inside a block of the flowgraph (a bug, or a case nothing checked before)."""

    exit_code = 1


class Fault:
    """The first failure seen while a flowgraph runs (from any thread). `error` is a LinksimError: the original one,
    or a BlockError naming where an unexpected exception happened; `detail` holds its traceback."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.event = threading.Event()
        self.error: LinksimError | None = None
        self.detail = ""

    def record(self, exc: BaseException, where: str) -> None:
        with self._lock:
            if self.error is not None:
                return
            if isinstance(exc, LinksimError):
                self.error = exc
            else:
                first = " ".join(str(exc).split()) or type(exc).__name__
                self.error = BlockError(f"{where}: {type(exc).__name__}: {first}")
            self.detail = "".join(traceback.format_exception(exc))
        self.event.set()

    def raise_if_set(self) -> None:
        if self.error is not None:
            raise self.error

    def thread(self, target: Callable[[], None], name: str, prefix: bool = True) -> threading.Thread:
        """A daemon thread whose exception becomes this fault (instead of a traceback on stderr), its message
        prefixed with `name` (e.g. "attenuator: <url>: link lost") unless `prefix` is False."""

        def run() -> None:
            try:
                target()
            except LinksimError as e:
                err = e
                if prefix:
                    err = LinksimError(f"{name}: {e}")
                    err.exit_code = e.exit_code
                self.record(err, name)
            except BaseException as e:  # noqa: BLE001 - everything a helper thread raises ends the run cleanly
                self.record(e, name)

        return threading.Thread(target=run, name=name, daemon=True)


def _python_blocks(roots: Iterable[Any]) -> list[Any]:
    """The GNU Radio Python blocks inside `roots` (blocks or hier blocks, walked through their attributes)."""
    from gnuradio import gr

    found: dict[int, Any] = {}
    seen: set[int] = set()
    todo = [r for r in roots if r is not None]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, gr.gateway.gateway_block):
            found[id(obj)] = obj
        if isinstance(obj, gr.gateway.gateway_block | gr.hier_block2):
            for v in vars(obj).values():
                if isinstance(v, gr.gateway.gateway_block | gr.hier_block2):
                    todo.append(v)
    return list(found.values())


def _block_name(blk: Any) -> str:
    try:
        return str(blk.name())
    except Exception:  # noqa: BLE001 - a name is only for the message
        return type(blk).__name__


def guard_blocks(fault: Fault, roots: Iterable[Any]) -> list[Any]:
    """Make every Python block in `roots` record its exceptions in `fault` and report itself done (-1) instead of
    letting GNU Radio end its thread with a traceback; returns the blocks."""
    blocks = _python_blocks(roots)
    for blk in blocks:
        if getattr(blk, "_linksim_guarded", False):
            continue
        where = f"block {_block_name(blk)}"

        def work(*a: Any, _orig: Callable[..., int] = blk.handle_general_work, _where: str = where) -> int:
            if fault.error is not None:
                return -1
            try:
                return _orig(*a)
            except BaseException as e:  # noqa: BLE001 - recorded; the block ends, the run reports it
                fault.record(e, _where)
                return -1

        def stop(_orig: Callable[[], bool] = blk.stop, _where: str = where) -> bool:
            try:
                return bool(_orig())
            except BaseException as e:  # noqa: BLE001
                fault.record(e, f"{_where} (stop)")
                return True

        blk.handle_general_work = work
        blk.stop = stop
        blk._linksim_guarded = True
    return blocks


class FlowgraphRun:
    """Run `tb` (whose Python blocks live in `roots`) until it ends, `stop` is set or something fails.

    `tick()` runs every TICK_S in the caller's thread while the flowgraph runs; `before_stop()` runs when the
    flowgraph is stopped early (stop, fault, KeyboardInterrupt), before it is told to stop. `run()` returns
    "done" (the flowgraph ended by itself) or "stopped"; a fault is raised (a LinksimError) once the flowgraph is
    down; KeyboardInterrupt propagates once it is down."""

    def __init__(self, tb: Any, roots: Iterable[Any], stop: threading.Event, *, fault: Fault | None = None,
                 tick: Callable[[], None] | None = None, before_stop: Callable[[], None] | None = None,
                 aborts: Iterable[Callable[[], None]] = ()) -> None:
        self.tb = tb
        self.stop = stop
        self.fault = fault or Fault()
        self.tick = tick
        self.before_stop = before_stop
        self.blocks = guard_blocks(self.fault, roots)
        self.aborts = list(aborts)
        self.done = threading.Event()

    def run(self) -> str:
        ended = False
        self._started = False
        try:
            self.tb.start()
            self._started = True

            def waiter() -> None:
                self.tb.wait()
                self.done.set()

            threading.Thread(target=waiter, name="linksim-flowgraph-wait", daemon=True).start()
            while not self.done.wait(TICK_S):
                if self.stop.is_set() or self.fault.event.is_set():
                    if self.stop.is_set():
                        ack_stop(self.stop)  # taken: the supervisor need not interrupt this thread
                    break
                if self.tick is not None:
                    try:
                        self.tick()
                    except LinksimError as e:
                        self.fault.record(e, "run")
                        break
            else:
                ended = True
        finally:
            if not ended:
                self._stop_early()
        self.fault.raise_if_set()
        return "done" if ended else "stopped"

    def _stop_early(self) -> None:
        try:
            if self.before_stop is not None:
                self.before_stop()
        finally:
            for blk in self.blocks:
                abort = getattr(blk, "abort", None)
                if callable(abort):
                    abort()
            for a in self.aborts:
                a()
            self.tb.stop()
            if self._started and not self.done.wait(STOP_TIMEOUT_S):
                _abandoned.append(self.tb.name() if hasattr(self.tb, "name") else "flowgraph")


__all__ = ["BlockError", "Fault", "FlowgraphRun", "abandoned", "guard_blocks"]
