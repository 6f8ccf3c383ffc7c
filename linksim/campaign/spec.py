"""Campaign specs (TOML): a base scenario, a grid and/or explicit points, and run options, validated up front.

A spec looks like::

    name = "x-band-barrage"          # optional (default: the spec file's stem)
    description = "..."              # optional
    base = "../scenarios/contested-x-barrage.toml"   # a scenario file, relative to this spec
    retries = 1                      # optional: times a point whose worker died is re-queued (0..5)

    [grid]                           # every combination is a point (last key varies fastest)
    "jammer.0.eirp_dbw" = [-20.0, -13.0, -6.0]
    "carrier.modcod" = ["QPSK 1/2", "8PSK 3/4"]
    seed = [1, 2]                    # a key without a dot is a run option (a keyword of the runner)

    [[grid.case]]                    # optional: an axis of named cases, each a bundle of settings that vary
    name = "cw"                      # together (column "case" holds the name; the settings get columns too)
    "jammer.0.type" = "cw"
    "jammer.0.bandwidth_hz" = 0.0

    [[point]]                        # optional explicit points, added after the grid's
    "jammer.0.type" = "cw"
    "jammer.0.bandwidth_hz" = 0.0

    [run]                            # keywords for every run: duration_s, seed, acm, and whatever the runner takes
    duration_s = 2.0
    seed = 1

Dotted keys are scenario keys (`linksim.scenario.model.apply_overrides`); every point is applied to the base table and
validated with `scenario_from_dict` before anything runs, so a bad value fails the whole campaign at once with one
line naming the point and the key. Run options (keys without a dot) are checked the way the run checks them
(linksim.run.options): each value's type and range, and, for the default runner, each point's options against its
scenario (a duration_s past the scenario's end, every_s without dwell_s), so `linksim sweep --plan` refuses
exactly what the runs would. The spec and the base scenario are read as bounded UTF-8 text (linksim.files).
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import inspect
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FieldError, InputError, ScenarioError
from ..files import FileError, read_toml
from ..run.options import HARDWARE_OPTIONS, NOT_USER_OPTIONS, RUN_OPTION_CHECKS, check_run_options
from ..scenario.model import Scenario, apply_overrides, scenario_from_dict

DEFAULT_RUNNER = "linksim.run:run_scenario"
CASE_KEY = "case"  # [[grid.case]]: a grid axis whose values are named bundles of settings
TOP_KEYS = ("name", "description", "base", "retries", "grid", "point", "run")
MAX_POINTS = 100_000

# Run options, with their checks (value -> problem or None): those of linksim.run.run_scenario (linksim.run.options).
_RUN_CHECKS: dict[str, Callable[[Any], str | None]] = dict(RUN_OPTION_CHECKS)
# Run options every runner takes (the others only if the runner has the keyword).
_COMMON_RUN_KEYS = ("duration_s", "seed", "acm")
# Runner keywords the campaign sets itself, or that only a hardware run takes.
_RESERVED_RUN_KEYS = ("scenario", "out_dir", *NOT_USER_OPTIONS)


@dataclass(frozen=True)
class Point:
    """One run of a campaign.

    `params` maps each spec key this point sets (exactly as written in the spec) to its value; `overrides` are the
    dotted scenario keys among them; `run_options` are the runner's keywords ([run] plus swept run keys).
    `table` is the base scenario table with the overrides applied (validated). `hash` identifies the run: the
    resolved scenario's digest, the run options and the runner, so a spec edit that does not change what runs keeps
    the point (and its result).
    """

    index: int
    params: dict[str, Any]
    overrides: dict[str, Any]
    run_options: dict[str, Any]
    table: dict[str, Any]
    scenario: Scenario
    hash: str
    hidden: tuple[str, ...] = ()  # keys a named case sets (the label shows the case's name instead)

    def label(self) -> str:
        """`key=value` pairs of the point's parameters, for progress lines and error messages."""
        return " ".join(f"{k}={_fmt(v)}" for k, v in self.params.items() if k not in self.hidden) or "(base)"


@dataclass(frozen=True)
class CampaignSpec:
    """A validated campaign spec. `keys` are the parameter columns (grid keys, then keys only points set)."""

    path: Path
    name: str
    description: str
    base_path: Path
    base_table: dict[str, Any]
    grid: dict[str, list[Any]]
    explicit: list[dict[str, Any]]
    run: dict[str, Any]
    retries: int
    runner: str
    text: str
    hash: str
    keys: list[str]
    points: list[Point] = field(default_factory=list)
    duplicates: int = 0


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, str) and (" " in v or not v):
        return repr(v)
    return json.dumps(v) if isinstance(v, bool | list | dict) else str(v)


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str, separators=(",", ":"))


def resolve_runner(path: str) -> Callable[..., dict[str, Any]]:
    """Import a runner given as "package.module:function". Raises InputError if it cannot be imported."""
    mod_name, sep, func_name = path.partition(":")
    if not sep or not mod_name or not func_name:
        raise InputError(f"runner {path!r}: expected 'package.module:function'")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise InputError(f"runner {path!r} cannot be imported ({e})") from None
    func = getattr(mod, func_name, None)
    if not callable(func):
        raise InputError(f"runner {path!r}: module {mod_name} has no function {func_name}")
    return func


def _runner_keywords(func: Callable[..., Any]) -> tuple[set[str], bool]:
    """The keyword parameters a runner accepts, and whether it takes **kwargs."""
    params = inspect.signature(func).parameters.values()
    names = {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def _read_toml(path: Path, what: str, shown: str | None = None) -> tuple[str, dict[str, Any]]:
    try:
        return read_toml(path)
    except FileError as e:
        problem = f"no such {what} file" if e.problem == "no such file" else f"{what}: {e.problem}"
        raise InputError(f"{shown or path}: {problem}") from None


def _check_key(key: Any, where: str, src: str) -> str:
    if not isinstance(key, str) or not key or key != key.strip():
        raise InputError(f"{src}: {where}: bad key {key!r}")
    parts = key.split(".")
    if any(not p for p in parts):
        raise InputError(f"{src}: {where}: bad dotted key {key!r}")
    return key


def _check_run_value(key: str, value: Any, where: str, src: str) -> None:
    check = _RUN_CHECKS.get(key)
    problem = check(value) if check else None
    if problem:
        raise InputError(f"{src}: {where}: {problem}")


def load_spec(path: str | Path, runner: str = DEFAULT_RUNNER) -> CampaignSpec:
    """Read and fully validate a campaign spec: every point is built and validated. Raises InputError (one line)."""
    spec_path = Path(path).resolve()
    src = str(Path(path))
    text, d = _read_toml(spec_path, "campaign spec", src)
    for k in d:
        if k not in TOP_KEYS:
            raise InputError(f"{src}: unknown key {k!r} (allowed: {', '.join(TOP_KEYS)})")
    name = d.get("name", spec_path.stem)
    description = d.get("description", "")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{src}: name: expected a non-empty string")
    if not isinstance(description, str):
        raise InputError(f"{src}: description: expected a string")
    retries = d.get("retries", 1)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 5:
        raise InputError(f"{src}: retries: expected an integer 0..5, got {retries!r}")

    # The base scenario.
    if "base" not in d:
        raise InputError(f"{src}: base: required key is missing (the scenario file the points vary)")
    if not isinstance(d["base"], str) or not d["base"]:
        raise InputError(f"{src}: base: expected a path to a scenario file")
    base_path = (spec_path.parent / d["base"]).resolve()
    try:
        _, base_table = read_toml(base_path)
    except FileError as e:
        problem = "no such scenario file" if e.problem == "no such file" else e.problem
        raise InputError(f"{src}: base: {problem} {d['base']!r} (looked at {base_path})") from None
    try:
        base_scenario = scenario_from_dict(copy.deepcopy(base_table), str(base_path))
    except ScenarioError as e:
        raise InputError(f"{src}: base scenario is invalid: {e}") from None

    # The runner and the keywords it takes.
    func = resolve_runner(runner)
    kw_names, var_kw = _runner_keywords(func)

    def check_run_key(key: str, where: str) -> None:
        if key in HARDWARE_OPTIONS:
            raise InputError(f"{src}: {where}: {key!r} is an option of a single hardware run, not of a campaign")
        if key in _RESERVED_RUN_KEYS:
            raise InputError(f"{src}: {where}: {key!r} is set by the campaign itself")
        if key not in _COMMON_RUN_KEYS and key not in kw_names and not var_kw:
            allowed = sorted((set(_COMMON_RUN_KEYS) | kw_names) - set(_RESERVED_RUN_KEYS))
            raise InputError(f"{src}: {where}: unknown run option {key!r} (the runner {runner} takes: "
                             f"{', '.join(allowed)}; scenario keys are dotted, e.g. carrier.modcod)")

    # [run]
    run = d.get("run", {})
    if not isinstance(run, dict):
        raise InputError(f"{src}: run: expected a table ([run])")
    for k, v in run.items():
        check_run_key(k, f"run.{k}")
        _check_run_value(k, v, f"run.{k}", src)

    def check_setting(k: Any, v: Any, where: str) -> None:
        """One key = value of a point or a case: a dotted scenario key, or a run option."""
        _check_key(k, where, src)
        if "." not in k:
            check_run_key(k, where)
            if k in run:
                raise InputError(f"{src}: {where}: also set in [run]; set it in one place")
            _check_run_value(k, v, where, src)

    # [grid]
    grid = d.get("grid", {})
    if not isinstance(grid, dict):
        raise InputError(f"{src}: grid: expected a table ([grid]) mapping keys to lists of values")
    case_keys: list[str] = []
    for k, values in grid.items():
        _check_key(k, f"grid.{k!r}", src)
        if not isinstance(values, list):
            raise InputError(f"{src}: grid.{k!r}: expected a list of values, got {type(values).__name__}")
        if not values:
            raise InputError(f"{src}: grid.{k!r}: empty list (give at least one value)")
        if k == CASE_KEY:
            # [[grid.case]]: named bundles of settings that vary together (a jammer type and its parameters)
            names: list[str] = []
            for i, case in enumerate(values):
                where = f"grid.case[{i}]"
                if not isinstance(case, dict):
                    raise InputError(f"{src}: {where}: expected a table ([[grid.case]]) with a name and settings")
                case_name = case.get("name")
                if not isinstance(case_name, str) or not case_name.strip():
                    raise InputError(f"{src}: {where}.name: every case needs a non-empty name")
                if case_name in names:
                    raise InputError(f"{src}: {where}.name: case {case_name!r} is listed twice")
                names.append(case_name)
                for ck, cv in case.items():
                    if ck == "name":
                        continue
                    check_setting(ck, cv, f"{where}.{ck!r}")
                    if ck in grid:
                        raise InputError(f"{src}: {where}.{ck!r}: also a [grid] key; set it in one place")
                    if ck not in case_keys:
                        case_keys.append(ck)
            continue
        if "." not in k:
            check_run_key(k, f"grid.{k!r}")
            if k in run:
                raise InputError(f"{src}: grid.{k!r}: also set in [run]; set it in one place")
            for v in values:
                _check_run_value(k, v, f"grid.{k!r}", src)
        seen: list[str] = []
        for v in values:
            c = _canon(v)
            if c in seen:
                raise InputError(f"{src}: grid.{k!r}: value {_fmt(v)} is listed twice")
            seen.append(c)

    # [[point]]
    explicit = d.get("point", [])
    if isinstance(explicit, dict):
        explicit = [explicit]
    if not isinstance(explicit, list) or not all(isinstance(p, dict) for p in explicit):
        raise InputError(f"{src}: point: expected an array of tables ([[point]])")
    for i, p in enumerate(explicit):
        if not p:
            raise InputError(f"{src}: point[{i}]: empty point (set at least one key)")
        for k, v in p.items():
            if k == CASE_KEY:
                raise InputError(f"{src}: point[{i}].case: 'case' is a grid axis; set the keys directly")
            check_setting(k, v, f"point[{i}].{k!r}")

    # A swept scenario key that a [run] option would override has no effect: refuse it.
    for k in list(grid) + case_keys + [k for p in explicit for k in p]:
        if k.startswith("run.") and k[4:] in run and k[4:] in _RUN_CHECKS:
            raise InputError(f"{src}: {k!r} is swept but [run] {k[4:]} overrides it; remove one")

    # Expand: the grid's combinations (in spec order, last key fastest), then the explicit points.
    combos: list[dict[str, Any]] = []
    if grid:
        n = math.prod(len(v) for v in grid.values())
        if n > MAX_POINTS:
            raise InputError(f"{src}: grid has {n} points (more than {MAX_POINTS}); split the campaign")
        for vals in itertools.product(*grid.values()):
            params: dict[str, Any] = {}
            for k, v in zip(grid, vals, strict=True):
                if k == CASE_KEY:
                    params[CASE_KEY] = v["name"]
                    params.update({ck: cv for ck, cv in v.items() if ck != "name"})
                else:
                    params[k] = v
            combos.append(params)
    combos += [dict(p) for p in explicit]
    if not combos:
        combos = [{}]  # no grid, no points: the base scenario once (e.g. with [run] options)
    if len(combos) > MAX_POINTS:
        raise InputError(f"{src}: {len(combos)} points (more than {MAX_POINTS}); split the campaign")

    keys: list[str] = []
    for k in grid:
        keys += [k, *case_keys] if k == CASE_KEY else [k]
    for p in explicit:
        keys += [k for k in p if k not in keys]

    points: list[Point] = []
    hashes: set[str] = set()
    duplicates = 0
    for i, params in enumerate(combos):
        overrides = {k: v for k, v in params.items() if "." in k}
        run_options = dict(run)
        run_options.update({k: v for k, v in params.items() if "." not in k and k != CASE_KEY})
        hidden = tuple(case_keys) if CASE_KEY in params else ()
        label = " ".join(f"{k}={_fmt(v)}" for k, v in params.items() if k not in hidden)
        where = f"point {i + 1} ({label})" if label else "the base scenario"
        try:
            table = apply_overrides(base_table, overrides)
            scenario = scenario_from_dict(copy.deepcopy(table), str(base_path))
        except ScenarioError as e:
            raise InputError(f"{src}: {where}: {e.key}: {e.problem}") from None
        if runner == DEFAULT_RUNNER:  # what the run checks against its scenario (linksim.run.prepare)
            try:
                check_run_options(scenario, **{k: v for k, v in run_options.items() if k in _RUN_CHECKS})
            except FieldError as e:
                typed = f"run.{e.field}" if e.field in run else e.field
                raise InputError(f"{src}: {where}: {typed}: {e.problem}") from None
        h = hashlib.sha256(_canon({"scenario": scenario.digest(), "run": run_options, "runner": runner}).encode())
        ph = h.hexdigest()[:16]
        if ph in hashes:
            duplicates += 1  # the same run reached twice (e.g. a [[point]] equal to a grid point): run it once
            continue
        hashes.add(ph)
        points.append(Point(len(points), params, overrides, run_options, table, scenario, ph, hidden))

    spec_hash = hashlib.sha256(_canon({"spec": d, "base": base_scenario.digest(), "runner": runner}).encode())
    return CampaignSpec(
        path=spec_path, name=name, description=description, base_path=base_path, base_table=base_table,
        grid=grid, explicit=explicit, run=run, retries=retries, runner=runner, text=text,
        hash=spec_hash.hexdigest()[:16], keys=keys, points=points, duplicates=duplicates,
    )
