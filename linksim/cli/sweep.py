"""`linksim sweep SPEC.toml`: run a campaign (a grid or list of scenario variations) into a SQLite database."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a campaign of scenario variations (resumable, SQLite results)",
                       description="Run every point of a campaign spec (TOML: base scenario, [grid], [[point]], "
                                   "[run]) into DIR/campaign.sqlite; finished points are skipped on a re-run.")
    p.add_argument("spec", metavar="SPEC.toml", help="campaign spec")
    p.add_argument("--out", metavar="DIR", help="campaign directory (default: sweeps/SPEC-STEM)")
    p.add_argument("--workers", metavar="N", type=int, help="local worker processes (default: min(2, CPUs))")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask distributed cluster (tcp://HOST:PORT)")
    p.add_argument("--runner", metavar="MODULE:FUNCTION", default=None,
                   help="the function that runs one point (default: linksim.run:run_scenario)")
    p.add_argument("--retry-failed", action="store_true", help="run the points that failed before again")
    p.add_argument("--plan", action="store_true", help="validate the spec, list its points and stop")
    p.add_argument("--no-figures", action="store_true", help="do not draw DIR/figures/")
    p.add_argument("--json", action="store_true", help="print the plan or the result as JSON")
    p.set_defaults(func=run)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from ..campaign.runner import DEFAULT_RUNNER, load_spec, run_campaign
    from ..errors import InputError

    runner = args.runner or DEFAULT_RUNNER
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers: expected an integer >= 1, got {args.workers}")
    if args.workers is not None and args.scheduler:
        raise InputError("--workers and --scheduler exclude each other (Dask workers are started separately)")
    spec = load_spec(args.spec, runner=runner)
    out = Path(args.out) if args.out else Path("sweeps") / Path(args.spec).stem
    if args.plan:
        points = [{"index": p.index, "hash": p.hash, "params": p.params, "run_options": p.run_options}
                  for p in spec.points]
        if args.json:
            text = json.dumps({"name": spec.name, "spec_hash": spec.hash, "base": str(spec.base_path),
                               "keys": spec.keys, "duplicates": spec.duplicates, "points": points},
                              indent=2, default=str)
        else:
            lines = [f"campaign {spec.name}: {len(spec.points)} point(s) on {spec.base_path} (spec {spec.hash})"]
            lines += [f"  {p.index + 1:4d}  {p.hash}  {p.label()}" for p in spec.points]
            if spec.duplicates:
                lines.append(f"  ({spec.duplicates} duplicate point(s) dropped)")
            text = "\n".join(lines)
        try:
            print(text, flush=True)
        except BrokenPipeError:  # `linksim sweep ... --plan | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    from ..run.progress import Progress, eta_s, fmt_duration

    bar = Progress("linksim sweep")  # on a terminal (stderr): a bar with the rate and the time left

    def say(msg: str) -> None:
        bar.clear()
        _say(msg)

    def tick(done: int, total: int, elapsed: float) -> None:
        if bar.tty and done < total:
            rate = 60.0 * done / elapsed if elapsed > 0 else 0.0
            bar.update(done, total, f"{done}/{total} points, {rate:.2f} points/min, "
                                    f"ETA {fmt_duration(eta_s(done, total, elapsed))}", force=True)

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # a kill is handled like Ctrl-C
    try:
        result = run_campaign(spec, out, workers=args.workers, scheduler=args.scheduler, runner=runner,
                              retry_failed=args.retry_failed, figures=not args.no_figures,
                              progress=None if args.json else say, tick=None if args.json else tick)
    finally:
        bar.close()
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"campaign {result.name}: {result.done} done, {result.failed} failed, {result.pending} pending"
              + (f", {result.stale} stale" if result.stale else "") + f"; results in {result.db_path}")
    return 1 if result.failed else 0


def _say(msg: str) -> None:
    print(msg, flush=True)
    sys.stdout.flush()
