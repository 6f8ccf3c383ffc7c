"""A small declarative schema for TOML data files with a closed vocabulary.

A section is a frozen dataclass whose fields carry their rules in `metadata` (made with `spec(...)`): unit-bearing
names, numeric range, allowed choices, a docstring. `build(cls, table, key_prefix, source)` checks a parsed TOML
table against the dataclass: unknown keys, missing required keys, wrong types and out-of-range values raise a
ScenarioError naming the dotted key and the problem. Scenario files and device profiles both use it.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ScenarioError

T = TypeVar("T")

_MISSING = dataclasses.MISSING


def spec(
    default: Any = _MISSING,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    choices: tuple[Any, ...] | None = None,
    doc: str = "",
    check: Callable[[Any], str | None] | None = None,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """A dataclass field with validation rules. lo/hi are inclusive unless lo_open (then value > lo)."""
    md = {"lo": lo, "hi": hi, "lo_open": lo_open, "choices": choices, "doc": doc, "check": check}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=md)
    if default is _MISSING:
        return dataclasses.field(metadata=md)
    return dataclasses.field(default=default, metadata=md)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str, source: str | None) -> Any:
    """Check `value` against the annotation `tp` (float, int, str, bool, list[...], Optional[...])."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, key, source)
            except ScenarioError as e:
                errors.append(e.problem)
        raise ScenarioError(key, errors[0] if len(errors) == 1 else "; or ".join(errors), source)
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ScenarioError(key, f"expected a list, got {type(value).__name__} {value!r}", source)
        inner = args[0] if args else Any
        return [_coerce(v, inner, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(key, f"expected a number, got {type(value).__name__} {value!r}", source)
        v = float(value)
        if not math.isfinite(v):
            raise ScenarioError(key, f"must be finite, got {value!r}", source)
        return v
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(key, f"expected an integer, got {type(value).__name__} {value!r}", source)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ScenarioError(key, f"expected true or false, got {value!r}", source)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ScenarioError(key, f"expected a string, got {type(value).__name__} {value!r}", source)
        return value
    raise TypeError(f"schema: unsupported field type {_type_name(tp)} for {key}")


def build(cls: type[T], table: Any, key_prefix: str, source: str | None = None, **extra: Any) -> T:
    """Validate a TOML table against dataclass `cls` and return an instance. `extra` fills non-TOML fields."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ScenarioError(key_prefix, f"expected a table, got {type(table).__name__}", source)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for k in table:
        if k not in fields or k in extra:
            names = sorted(n for n in fields if n not in extra)
            raise ScenarioError(f"{key_prefix}.{k}", f"unknown key{did_you_mean(k, names)} (allowed: "
                                f"{', '.join(names)})", source)
    values: dict[str, Any] = dict(extra)
    for name, f in fields.items():
        if name in extra:
            continue
        key = f"{key_prefix}.{name}"
        if name not in table:
            if f.default is _MISSING and f.default_factory is _MISSING:
                raise ScenarioError(key, "required key is missing", source)
            continue
        v = _coerce(table[name], hints[name], key, source)
        md = f.metadata
        if v is not None and md:
            _check_range(v, md, key, source)
        values[name] = v
    return cls(**values)


def did_you_mean(key: str, names: list[str] | tuple[str, ...]) -> str:
    """' (did you mean NAME?)' for the name closest to a mistyped key (a name that starts with it or that it
    starts with, else difflib's closest), or ''."""
    k = str(key).lower()
    close = [n for n in names if n.lower().startswith(k) or k.startswith(n.lower())] if len(k) >= 3 else []
    close = close or difflib.get_close_matches(k, list(names), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_range(v: Any, md: typing.Mapping[str, Any], key: str, source: str | None) -> None:
    lo, hi, choices = md.get("lo"), md.get("hi"), md.get("choices")
    items = v if isinstance(v, list) else [v]
    for item in items:
        if isinstance(item, int | float) and not isinstance(item, bool):
            if lo is not None and (item <= lo if md.get("lo_open") else item < lo):
                rel = ">" if md.get("lo_open") else ">="
                raise ScenarioError(key, f"{item!r} is out of range (must be {rel} {lo})", source)
            if hi is not None and item > hi:
                raise ScenarioError(key, f"{item!r} is out of range (must be <= {hi})", source)
        if choices is not None and item not in choices:
            raise ScenarioError(key, f"{item!r} is not one of {', '.join(map(repr, choices))}", source)
    check = md.get("check")
    if check is not None:
        problem = check(v)
        if problem:
            raise ScenarioError(key, problem, source)


def to_table(obj: Any) -> dict[str, Any]:
    """The resolved TOML table of a section dataclass (every default filled in; None values left out)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if not f.init:
            continue
        v = getattr(obj, f.name)
        if v is None:
            continue
        if dataclasses.is_dataclass(v):
            v = to_table(v)
        elif isinstance(v, list) and v and dataclasses.is_dataclass(v[0]):
            v = [to_table(x) for x in v]
        out[f.name] = v
    return out
