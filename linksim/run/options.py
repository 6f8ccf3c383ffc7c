"""Run options: the keywords of linksim.run.run_scenario that a user sets (on the command line or in a campaign
spec), each with its check, and the checks that need the scenario (the span must lie inside it).

`check_run_option(key, value)` checks one value's type and range; `check_run_options(scenario, **options)` checks
a whole set the way the run itself does (linksim.run.prepare.prepare_run: the span through Scenario.span_s, the
seed, --every/--dwell together, the bin against the span, what the bins would cost in memory and a recording on
the disk), so a campaign plan (linksim.campaign.spec) refuses exactly what its runs would.
Both raise FieldError("run", key, problem): the caller names the key as its user typed it (`--duration`,
`run.duration_s`).

Layer: run (imports the scenario stage only; no GNU Radio).
"""

from __future__ import annotations

import math
import numbers
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SEED_MAX, FieldError, InputError
from ..scenario.model import Run, Scenario

MAX_ITER_MAX = 1000
BIN_S_MIN = float(Run.__dataclass_fields__["bin_s"].metadata["lo"])  # the scenario's run.bin_s limit
DEFAULT_LINK_TIMEOUT_S = 30.0  # a peer, device or receiver silent this long ends the run (exit code 3)
LINK_TIMEOUT_MAX_S = 86400.0
MAX_STRETCHES = 100_000  # each stretch builds a flowgraph (about half a second of set-up)
MAX_BINS = 5_000_000  # bins are kept in memory for the summary (about 1 kB each)
BIN_BYTES = 1000
RECORD_BYTES_PER_SAMPLE = 8  # complex64


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _integer(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _positive_seconds(v: Any) -> str | None:
    if not _number(v) or not math.isfinite(v) or v <= 0:
        return f"expected a duration in seconds > 0, got {v!r}"
    return None


def _link_timeout(v: Any) -> str | None:
    if not _number(v) or not math.isfinite(v) or not 0 < v <= LINK_TIMEOUT_MAX_S:
        return f"expected seconds in (0, {LINK_TIMEOUT_MAX_S:g}], got {v!r}"
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
    "link_timeout_s": _link_timeout,
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


def check_run_options(scenario: Scenario, **options: Any) -> tuple[float, float]:
    """Every option's own check, then what the run checks against the scenario: start_s and duration_s inside
    it (Scenario.span_s), every_s and dwell_s given together with dwell_s <= every_s <= the scenario, bin_s no
    longer than the span it bins. And, before anything is allocated or written: at most MAX_BINS bins (memory), at
    most MAX_STRETCHES dwells, a `record` path whose directory has room for the samples. Returns the duration and
    the bin (s) the run will use."""
    for k, v in options.items():
        check_run_option(k, v)
    start = options.get("start_s")
    start = 0.0 if start is None else float(start)
    duration = options.get("duration_s")
    try:
        dur = scenario.span_s(start, None if duration is None else float(duration))
    except InputError as e:
        raise FieldError("run", "duration_s" if duration is not None and start < scenario.meta.duration_s
                         else "start_s", str(e)) from None
    every, dwell = options.get("every_s"), options.get("dwell_s")
    if (every is None) != (dwell is None):
        raise FieldError("run", "dwell_s" if every is not None else "every_s", "every_s and dwell_s go together")
    span = dur
    if every is not None:
        if dwell > every:
            raise FieldError("run", "dwell_s", f"{dwell:g} s is longer than every_s {every:g} s")
        if every > scenario.meta.duration_s:
            raise FieldError("run", "every_s", f"{every:g} s is longer than the scenario ({scenario.meta.duration_s:g} "
                                               "s)")
        n = math.ceil(dur / every - 1e-9)
        if n > MAX_STRETCHES:
            raise FieldError("run", "every_s", f"{every:g} s makes {n} stretches over {dur:g} s (at most "
                                               f"{MAX_STRETCHES}): a longer every_s or a shorter duration_s")
        span = min(float(dwell), dur)
    bin_s = options.get("bin_s")
    if bin_s is not None and bin_s > span + 1e-9:
        raise FieldError("run", "bin_s", f"{bin_s:g} s is longer than the {'dwell' if every else 'duration'} "
                                         f"({span:g} s)")
    bin_v = min(float(bin_s if bin_s is not None else scenario.run.bin_s or scenario.meta.step_s or 1.0), span)
    measured = dur if every is None else math.ceil(dur / every - 1e-9) * span
    n_bins = math.ceil(measured / bin_v - 1e-9)
    if n_bins > MAX_BINS:
        raise FieldError("run", "bin_s", f"{bin_v:g} s makes {n_bins} bins over {measured:g} s (about "
                                         f"{n_bins * BIN_BYTES / 1e9:.1f} GB of memory; at most {MAX_BINS}): a longer "
                                         "bin_s or a shorter duration_s")
    record = options.get("record")
    if record is not None:
        _check_record(scenario, Path(record), measured, measured / span)
    return dur, bin_v


def _check_record(scenario: Scenario, record: Path, measured_s: float, stretches: float) -> None:
    """The directory of a SigMF recording exists and has room for the receiver's input (lead-ins and tails counted
    as a second per stretch: generous)."""
    c = scenario.carrier
    need = (measured_s + stretches) * c.symbol_rate_baud * scenario.channel.sps * RECORD_BYTES_PER_SAMPLE
    where = record.parent
    if not where.is_dir():
        raise FieldError("run", "record", f"{record}: directory {where} does not exist")
    free = shutil.disk_usage(where).free
    if need > free:
        raise FieldError("run", "record", f"{record}: the recording needs about {need / 1e9:.1f} GB, {where} has "
                                          f"{free / 1e9:.1f} GB free")


__all__ = ["BIN_S_MIN", "DEFAULT_LINK_TIMEOUT_S", "HARDWARE_OPTIONS", "LINK_TIMEOUT_MAX_S", "MAX_ITER_MAX",
           "NOT_USER_OPTIONS", "RUN_OPTION_CHECKS", "SEED_MAX", "check_run_option", "check_run_options"]
