"""Run options: the keywords of linksim.run.run_scenario that a user sets (on the command line or in a campaign
spec), each with its check, and the checks that need the scenario (the span must lie inside it).

`check_run_option(key, value)` checks one value's type and range; `check_run_options(scenario, **options)` checks
a whole set the way the run itself does (linksim.run.prepare.prepare_run: the span through Scenario.span_s, the
seed, --every/--dwell together), so a campaign plan (linksim.campaign.spec) refuses exactly what its runs would.
Both raise FieldError("run", key, problem): the caller names the key as its user typed it (`--duration`,
`run.duration_s`).

Layer: run (imports the scenario stage only; no GNU Radio).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import FieldError, InputError
from ..scenario.model import Run, Scenario

SEED_MAX = (1 << 63) - 1  # seeds are recorded as signed 64-bit integers (summary.json, SQLite)
MAX_ITER_MAX = 1000
BIN_S_MIN = float(Run.__dataclass_fields__["bin_s"].metadata["lo"])  # the scenario's run.bin_s limit


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _integer(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _positive_seconds(v: Any) -> str | None:
    if not _number(v) or not math.isfinite(v) or v <= 0:
        return f"expected a duration in seconds > 0, got {v!r}"
    return None


def _start(v: Any) -> str | None:
    if not _number(v) or not math.isfinite(v) or v < 0:
        return f"expected a number of seconds >= 0, got {v!r}"
    return None


def _bin(v: Any) -> str | None:
    if not _number(v) or not math.isfinite(v) or v < BIN_S_MIN:
        return f"expected a number of seconds >= {BIN_S_MIN:g}, got {v!r}"
    return None


def _seed(v: Any) -> str | None:
    if not _integer(v) or not 0 <= v <= SEED_MAX:
        return f"expected an integer seed in [0, {SEED_MAX}], got {v!r}"
    return None


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool | np.bool_) else f"expected true or false, got {v!r}"


def _max_iter(v: Any) -> str | None:
    if not _integer(v) or not 1 <= v <= MAX_ITER_MAX:
        return f"expected an integer in [1, {MAX_ITER_MAX}], got {v!r}"
    return None


# option -> check(value) -> problem or None (None values mean "the default" and are not checked)
RUN_OPTION_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "duration_s": _positive_seconds,
    "start_s": _start,
    "every_s": _positive_seconds,
    "dwell_s": _positive_seconds,
    "bin_s": _bin,
    "seed": _seed,
    "acm": _bool,
    "max_iter": _max_iter,
    "report": _bool,
}
# run_scenario keywords that only a single hardware run takes, and those only the calling code sets
HARDWARE_OPTIONS = ("devices", "record")
NOT_USER_OPTIONS = (*HARDWARE_OPTIONS, "progress", "stop")


def check_run_option(key: str, value: Any) -> None:
    """FieldError("run", key, ...) if value is not a valid `key` (unknown keys are not checked here)."""
    check = RUN_OPTION_CHECKS.get(key)
    problem = check(value) if check is not None and value is not None else None
    if problem:
        raise FieldError("run", key, problem)


def check_run_options(scenario: Scenario, **options: Any) -> None:
    """Every option's own check, then what the run checks against the scenario: start_s and duration_s inside
    it (Scenario.span_s), every_s and dwell_s given together with dwell_s <= every_s."""
    for k, v in options.items():
        check_run_option(k, v)
    start = options.get("start_s")
    start = 0.0 if start is None else float(start)
    duration = options.get("duration_s")
    try:
        scenario.span_s(start, None if duration is None else float(duration))
    except InputError as e:
        raise FieldError("run", "duration_s" if duration is not None and start < scenario.meta.duration_s
                         else "start_s", str(e)) from None
    every, dwell = options.get("every_s"), options.get("dwell_s")
    if (every is None) != (dwell is None):
        raise FieldError("run", "dwell_s" if every is not None else "every_s", "every_s and dwell_s go together")
    if every is not None and dwell > every:
        raise FieldError("run", "dwell_s", f"{dwell:g} s is longer than every_s {every:g} s")


__all__ = ["BIN_S_MIN", "HARDWARE_OPTIONS", "MAX_ITER_MAX", "NOT_USER_OPTIONS", "RUN_OPTION_CHECKS", "SEED_MAX",
           "check_run_option", "check_run_options"]
