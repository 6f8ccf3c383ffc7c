"""Campaigns: many independent runs of one scenario's variations, one SQLite row per point, resumable.

    result = run_campaign("campaigns/x-barrage-js.toml", "out/x-barrage", workers=2)

`load_spec` (linksim.campaign.spec) validates the whole spec first (every point is built and checked against the
scenario schema), then `run_campaign` opens `DIR/campaign.sqlite` (linksim.campaign.db), adds new points, marks
points the spec no longer has as stale, and runs every pending point through a runner
(`runner(scenario, out_dir, **run_options) -> summary dict`, default `linksim.run:run_scenario`) on a local process
pool or, with `scheduler="tcp://HOST:PORT"`, on a Dask distributed cluster. Finished points are skipped when the
same campaign is run again. A point whose worker process dies is re-run alone (`retries` times, default once) and
then marked failed; the campaign goes on. Ctrl-C puts the running points back to pending and leaves the database
consistent. At the end the standard figures are drawn into `DIR/figures/` (linksim.campaign.plots).
"""

from __future__ import annotations

import copy
import csv
import fcntl
import json
import math
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, LinksimError
from ..scenario.model import scenario_from_dict
from .db import CampaignDB, export_csv, utc_now
from .spec import DEFAULT_RUNNER, CampaignSpec, Point, load_spec, resolve_runner

__all__ = ["DEFAULT_RUNNER", "CampaignResult", "CampaignSpec", "Point", "default_workers", "execute_point",
           "load_spec", "run_campaign"]

DB_NAME = "campaign.sqlite"
CSV_NAME = "campaign.csv"  # the runs table (current points) as CSV, rewritten after every sweep
LOCK_NAME = "campaign.lock"
DASK_WORKER_WAIT_S = 60.0  # a cluster with no worker after this long is an error, not an endless wait
INCOMPLETE_STATUSES = ("partial", "interrupted")  # a summary with one of these is not a finished point


def default_workers() -> int:
    """Local worker processes when none are asked for: min(2, CPUs)."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass
class CampaignResult:
    """What a campaign call did. Counts are over the spec's current points (stale rows are counted apart)."""

    out_dir: Path
    db_path: Path
    name: str
    points: int
    new: int
    stale: int
    spec_changed: bool
    skipped_done: int  # already done before this call
    ran: int  # points finished (done or failed) in this call
    done: int
    failed: int
    pending: int
    figures: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}
        d["figures"] = [str(p) for p in self.figures]
        return d


# -- the task a worker runs ---------------------------------------------------------------------------------------
def _jsonable(v: Any) -> Any:
    if hasattr(v, "tolist"):
        return v.tolist()
    return str(v)


def execute_point(task: dict[str, Any]) -> dict[str, Any]:
    """Run one point in a worker (a pool process or a Dask worker). Never raises for a runner's error: returns
    {"ok": False, "error": one line} and writes the traceback to RUN_DIR/error.txt.

    `task`: runner ("module:function"), table (the scenario table with the point's overrides), source (the base
    scenario's path), run_dir, run_options (runner keywords).
    """
    started = utc_now()
    t0 = time.monotonic()
    out: dict[str, Any] = {"started_utc": started, "worker": f"{socket.gethostname()}:{os.getpid()}"}
    run_dir = Path(task["run_dir"])
    try:
        runner = resolve_runner(task["runner"])
        scenario = scenario_from_dict(copy.deepcopy(task["table"]), task["source"])
        if run_dir.exists():  # a partial directory from an interrupted attempt
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        summary = runner(scenario, run_dir, **task["run_options"])
        if not isinstance(summary, dict):
            raise TypeError(f"the runner returned {type(summary).__name__}, not a summary dict")
        out.update(ok=True, summary=json.loads(json.dumps(summary, default=_jsonable)),
                   measured=measured_means(run_dir / "measured.csv"))
    except Exception as e:  # noqa: BLE001 - the point fails, the campaign goes on
        first = (str(e).strip().splitlines() or [""])[0]
        out.update(ok=False, error=f"{type(e).__name__}: {first}" if first else type(e).__name__)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "error.txt").write_text(traceback.format_exc())
        except OSError:
            pass
    out.update(finished_utc=utc_now(), wall_s=time.monotonic() - t0)
    return out


def measured_means(path: Path) -> dict[str, float]:
    """Frame-weighted means of a run's measured.csv: `esn0_db_mean` (the receiver's Es/N0 estimate) and
    `predicted_esn0_db_mean` (the budget's), over the bins that have them. Empty if the file is missing."""
    sums: dict[str, list[float]] = {"esn0_est_db": [0.0, 0.0], "predicted_esn0_db": [0.0, 0.0]}
    try:
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                try:
                    w = float(row.get("frames") or 0.0)
                except ValueError:
                    continue
                for k, acc in sums.items():
                    try:
                        v = float(row.get(k) or "nan")
                    except ValueError:
                        continue
                    if math.isfinite(v) and w > 0:
                        acc[0] += w * v
                        acc[1] += w
    except OSError:
        return {}
    names = {"esn0_est_db": "esn0_db_mean", "predicted_esn0_db": "predicted_esn0_db_mean"}
    return {names[k]: acc[0] / acc[1] for k, acc in sums.items() if acc[1] > 0}


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _worker_init(campaign_pid: int) -> None:
    """A pool worker: Ctrl-C is left to the campaign's main process (which stops the workers), and the worker
    dies with that process however it ends (kill -9 included): the kernel kills it when its parent (the
    forkserver, itself ending with the main process) dies (PR_SET_PDEATHSIG), and a watchdog thread ends it as
    soon as the campaign's main process is gone (a pidfd becomes readable then)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            pass
    try:
        fd = os.pidfd_open(campaign_pid)
    except ProcessLookupError:
        os._exit(1)  # the campaign is already gone
    except (OSError, AttributeError):  # pragma: no cover - no pidfd (old kernel): poll instead
        fd = None

    def watch() -> None:
        import select

        while True:
            if fd is not None:
                select.select([fd], [], [])
                os._exit(1)
            try:
                os.kill(campaign_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            time.sleep(0.5)

    import threading

    threading.Thread(target=watch, name="linksim-campaign-watch", daemon=True).start()


# -- execution backends -------------------------------------------------------------------------------------------
class _PoolBackend:
    """A local process pool (forkserver on Linux, spawn elsewhere). A dead worker breaks the whole pool: every
    point in flight then reports "died", and the pool is restarted."""

    breaks_together = True

    def __init__(self, workers: int) -> None:
        self.workers = workers
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        self._ctx = multiprocessing.get_context(method)
        self._ex: ProcessPoolExecutor | None = None
        self.describe = f"local process pool, {workers} worker{'s' if workers != 1 else ''}"

    def _executor(self) -> ProcessPoolExecutor:
        if self._ex is None:
            self._ex = ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=_worker_init,
                                           initargs=(os.getpid(),))
        return self._ex

    def capacity(self) -> int:
        return self.workers

    def submit(self, task: dict[str, Any], point: Point) -> Future | None:
        """None when the pool broke since the last wait (a worker died): the caller waits, then restarts it."""
        try:
            return self._executor().submit(execute_point, task)
        except BrokenProcessPool:
            return None

    def wait(self, futures: list[Any]) -> set[Any]:
        done, _ = futures_wait(futures, return_when=FIRST_COMPLETED)
        return set(done)

    def wait_all(self, futures: list[Any]) -> None:
        futures_wait(futures)

    def outcome(self, fut: Future) -> tuple[str, Any]:
        exc = fut.exception()
        if exc is None:
            return "result", fut.result()
        if isinstance(exc, BrokenProcessPool):
            return "died", "worker process died (crashed or killed)"
        return "error", f"{type(exc).__name__}: {exc}"

    def restart(self) -> None:
        if self._ex is not None:
            self._ex.shutdown(wait=True, cancel_futures=True)
            self._ex = None

    def abort(self) -> None:
        """Stop now: cancel queued points and terminate the workers (their points are re-queued by the caller)."""
        if self._ex is None:
            return
        procs = list(getattr(self._ex, "_processes", {}).values())
        self._ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5.0)
        # Python 3.11's exit hook wakes every executor's manager thread through a pipe that the manager closes once
        # the pool broke (our terminate): a race that printed an OSError traceback at exit. Wait for the manager and
        # take its finished entry out of the hook's table.
        mt = getattr(self._ex, "_executor_manager_thread", None)
        if mt is not None:
            mt.join(timeout=5.0)
            if not mt.is_alive():
                import concurrent.futures.process as cfp

                getattr(cfp, "_threads_wakeups", {}).pop(mt, None)
        self._ex = None

    def close(self) -> None:
        self.restart()


class _DaskBackend:
    """A Dask distributed cluster. Dask itself re-runs a task whose worker died (up to the scheduler's
    `distributed.scheduler.allowed-failures`); past that the point is marked failed."""

    breaks_together = False

    def __init__(self, address: str) -> None:
        if "://" not in address or not address.rsplit(":", 1)[-1].isdigit():
            raise InputError(f"--scheduler {address!r}: expected an address like tcp://HOST:PORT")
        import distributed

        self._distributed = distributed
        try:
            self.client = distributed.Client(address, timeout="15s")
        except (OSError, TimeoutError) as e:
            raise LinksimError(f"cannot reach the Dask scheduler at {address} ({type(e).__name__}: {e})") from None
        try:
            self.client.wait_for_workers(1, timeout=DASK_WORKER_WAIT_S)
        except TimeoutError:
            self.client.close()
            raise LinksimError(f"the Dask scheduler at {address} has no workers (waited {DASK_WORKER_WAIT_S:g} s)"
                               ) from None
        self.describe = f"Dask scheduler {address}"

    def capacity(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, task: dict[str, Any], point: Point) -> Any:
        key = f"linksim-point-{point.index:04d}-{point.hash}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(execute_point, task, key=key, pure=False)

    def wait(self, futures: list[Any]) -> set[Any]:
        done, _ = self._distributed.wait(futures, return_when="FIRST_COMPLETED")
        return set(done)

    def wait_all(self, futures: list[Any]) -> None:
        self._distributed.wait(futures)

    def outcome(self, fut: Any) -> tuple[str, Any]:
        if fut.status == "finished":
            return "result", fut.result()
        if fut.status == "cancelled":
            return "died", "the Dask task was cancelled (worker or scheduler lost)"
        exc = fut.exception()
        if isinstance(exc, self._distributed.KilledWorker):
            return "died", f"Dask worker died running this point ({exc})"
        return "error", f"{type(exc).__name__}: {exc}"

    def restart(self) -> None:
        pass

    def abort(self) -> None:
        self.client.close()

    def close(self) -> None:
        self.client.close()


# -- the campaign -------------------------------------------------------------------------------------------------
def _print(msg: str) -> None:
    print(msg, flush=True)


def _metrics_text(summary: dict[str, Any]) -> str:
    parts = []
    g = summary.get("goodput_bps_mean")
    if isinstance(g, int | float):
        parts.append(f"goodput {g / 1e6:.4g} Mbit/s")
    fer = summary.get("fer")
    if isinstance(fer, int | float):
        parts.append(f"FER {fer:.3g}")
    a = summary.get("availability_pct")
    if isinstance(a, int | float):
        parts.append(f"avail {a:.1f} %")
    return ", ".join(parts)


class _Lock:
    """An exclusive lock on the campaign directory: one sweep at a time per database."""

    def __init__(self, out_dir: Path) -> None:
        self._fd = os.open(out_dir / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise InputError(f"{out_dir}: another linksim sweep is running on this campaign") from None

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def run_campaign(
    spec: CampaignSpec | str | Path,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    runner: str = DEFAULT_RUNNER,
    retry_failed: bool = False,
    figures: bool = True,
    progress: Callable[[str], None] | None = _print,
    tick: Callable[[int, int, float], None] | None = None,
) -> CampaignResult:
    """Run every pending point of a campaign into `out_dir` (created if needed) and return the counts.

    `spec` is a path or a CampaignSpec from `load_spec` (its runner must match `runner`). `workers`: local pool
    size (default min(2, CPUs)); `scheduler`: a Dask scheduler address instead of the pool. `retry_failed` runs the
    points that failed before again. `progress` receives one line per finished point (None: quiet), with the time
    left at the rate so far; `tick(finished, total, elapsed_s)` is called after each (a progress bar). Pool workers
    die with the campaign's process, however it ends (kill -9 included).
    KeyboardInterrupt puts running points back to pending, then propagates.
    """
    say = progress or (lambda _msg: None)
    if not isinstance(spec, CampaignSpec):
        spec = load_spec(spec, runner=runner)
    elif spec.runner != runner and runner != DEFAULT_RUNNER:
        raise InputError(f"the spec was loaded for runner {spec.runner}, not {runner}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise InputError(f"--workers: expected an integer >= 1, got {workers!r}")
    n_workers = workers or default_workers()
    out = Path(out_dir).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{out_dir}: cannot create the campaign directory ({e.strerror})") from None
    lock = _Lock(out)
    db = CampaignDB(out / DB_NAME)
    backend: _PoolBackend | _DaskBackend | None = None
    try:
        plan = db.sync(spec, out)
        by_hash = {p.hash: p for p in spec.points}
        rows = {r["point_hash"]: r for r in db.rows()}
        todo_status = ("pending", "failed") if retry_failed else ("pending",)
        todo = [p for p in spec.points if rows[p.hash]["status"] in todo_status]
        skipped = sum(1 for p in spec.points if rows[p.hash]["status"] == "done")
        if plan["spec_changed"]:
            say(f"spec changed since the last sweep into {out}: {plan['new']} new point(s), "
                f"{plan['stale']} point(s) no longer in the spec kept and marked stale")
        backend = _DaskBackend(scheduler) if scheduler else _PoolBackend(n_workers)
        say(f"campaign {spec.name}: {len(spec.points)} point(s), {skipped} already done, {len(todo)} to run "
            f"on {backend.describe}; database {out / DB_NAME}")
        ran = _drive(spec, db, backend, todo, by_hash, rows, say, tick)
    except KeyboardInterrupt:
        if backend is not None:
            backend.abort()
            backend = None
        n = db.requeue_running()
        say(f"interrupted: {n} running point(s) put back to pending; run the same command to resume")
        raise
    finally:
        if backend is not None:
            backend.close()
        counts = db.counts()
        db_rows = db.rows()
        db.close()
        lock.release()
    export_csv(db_rows, out / CSV_NAME)
    figs: list[Path] = []
    if figures:
        from .plots import make_figures

        figs = make_figures(db_rows, out / "figures")
        for f in figs:
            say(f"figure: {f}")
    return CampaignResult(out, out / DB_NAME, spec.name, len(spec.points), plan["new"], plan["stale"],
                          plan["spec_changed"], skipped, ran, counts["done"], counts["failed"], counts["pending"], figs)


def _drive(spec: CampaignSpec, db: CampaignDB, backend: _PoolBackend | _DaskBackend, todo: list[Point],
           by_hash: dict[str, Point], rows: dict[str, dict[str, Any]], say: Callable[[str], None],
           tick: Callable[[int, int, float], None] | None = None) -> int:
    """The scheduling loop. Returns how many points finished (done or failed)."""
    from ..run.progress import eta_s, fmt_duration

    t_start = time.monotonic()
    queue: deque[Point] = deque(todo)
    suspects: deque[Point] = deque()  # in flight when a pool broke: re-run alone to find the culprit
    inflight: dict[Any, Point] = {}
    deaths: dict[str, int] = {}
    total = len(todo)
    finished = 0
    solo = False

    def submit(p: Point) -> bool:
        task = {"runner": spec.runner, "table": p.table, "source": str(spec.base_path),
                "run_dir": rows[p.hash]["run_dir"], "run_options": p.run_options}
        fut = backend.submit(task, p)
        if fut is None:  # the pool broke under us: the points in flight report it; this one waits its turn
            if not inflight:
                backend.restart()  # a worker died while idle
            return False
        db.mark_running(p.hash)
        inflight[fut] = p
        return True

    def line(tag: str, p: Point, text: str) -> None:
        elapsed = time.monotonic() - t_start
        left = f"  (ETA {fmt_duration(eta_s(finished, total, elapsed))})" if finished < total else ""
        say(f"[{finished}/{total}] {tag:<7} {p.label()}" + (f"  {text}" if text else "") + left)
        if tick is not None:
            tick(finished, total, elapsed)

    while queue or suspects or inflight:
        if not inflight:
            solo = False
            if suspects:
                p = suspects.popleft()
                solo = submit(p)
                if not solo:
                    suspects.appendleft(p)
                    continue
        if not solo and not suspects:
            cap = backend.capacity()
            while queue and len(inflight) < cap:
                p = queue.popleft()
                if not submit(p):
                    queue.appendleft(p)
                    break
            if not inflight:
                continue
        done = backend.wait(list(inflight))
        died: list[tuple[Point, str]] = []
        for fut in done:
            p = inflight.pop(fut)
            kind, val = backend.outcome(fut)
            if kind == "died":
                died.append((p, val))
                continue
            if kind == "error":
                finished += 1
                db.mark_failed(p.hash, val)
                line("FAILED", p, val)
            elif not val.get("ok"):
                finished += 1
                db.mark_failed(p.hash, val["error"], val)
                line("FAILED", p, f"{val['error']}  (see {rows[p.hash]['run_dir']}/error.txt)")
            elif val["summary"].get("status") in INCOMPLETE_STATUSES:
                finished += 1
                why = f"the run ended early (status {val['summary']['status']})"
                db.mark_failed(p.hash, why, val)
                line("FAILED", p, why)
            else:
                finished += 1
                db.mark_done(p, val)
                line("done", p, f"{_metrics_text(val['summary'])}  ({val['wall_s']:.1f} s)")
        if died and backend.breaks_together:
            # The pool is broken: every point still in flight dies with it. Wait for them, restart the pool.
            rest = list(inflight)
            backend.wait_all(rest)
            for fut in rest:
                p = inflight.pop(fut)
                kind, val = backend.outcome(fut)
                if kind == "result" and val.get("ok"):
                    finished += 1
                    db.mark_done(p, val)
                    line("done", p, f"{_metrics_text(val['summary'])}  ({val['wall_s']:.1f} s)")
                else:
                    died.append((p, val if isinstance(val, str) else "worker process died"))
            backend.restart()
            if len(died) > 1:  # cannot tell which point killed its worker: re-run each alone, uncharged
                for p, _ in died:
                    db.mark_pending(p.hash, "in flight when a worker died; re-run alone")
                    suspects.append(p)
                    line("requeue", p, "in flight when a worker died; re-running it alone")
                continue
        for p, why in died:
            deaths[p.hash] = deaths.get(p.hash, 0) + 1
            if deaths[p.hash] > spec.retries:
                finished += 1
                n = deaths[p.hash]
                db.mark_failed(p.hash, f"{why}; {n} time{'s' if n > 1 else ''}")
                line("FAILED", p, f"{why} ({n} time{'s' if n > 1 else ''}); the campaign goes on")
            else:
                db.mark_pending(p.hash, why)
                suspects.append(p)
                line("requeue", p, f"{why}; re-running it alone")
    return finished
