"""Errors that the CLI turns into one clear line (and exit code 2 for bad input)."""

from __future__ import annotations


class LinksimError(Exception):
    """Base class: a problem the user can act on. str(e) is one line naming what is wrong."""

    exit_code = 1


class InputError(LinksimError):
    """Bad input: a malformed scenario, an out-of-range parameter, a bad command line. Exit code 2."""

    exit_code = 2


class ScenarioError(InputError):
    """A scenario field is missing, unknown, of the wrong type or out of range. `key` is the dotted key."""

    def __init__(self, key: str, problem: str, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}")


class DeviceError(LinksimError):
    """A device is missing, refused a command or dropped the link."""

    exit_code = 3


class ValidityWarning(UserWarning):
    """A model was used outside the validity range of its recommendation (the result is flagged, not dropped)."""


class FieldError(InputError):
    """A parameter of a model (a jammer, a fading model) is out of its range. `field` is the parameter's name as
    the model spells it and `problem` says what is wrong (without the name), so that a parser can name the key the
    user typed instead."""

    def __init__(self, what: str, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{what} {field}: {problem}")


def range_text(lo: float | None, hi: float | None, lo_open: bool = False, hi_open: bool = False) -> str:
    """'in [lo, hi]', 'in (lo, hi]', '>= lo', '< hi', ... for a message."""
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return "finite"


SEED_MAX = (1 << 63) - 1  # seeds are recorded as signed 64-bit integers (summary.json, SQLite)


def check_number(what: str, field: str, value: float, lo: float | None = None, hi: float | None = None, *,
                 lo_open: bool = False, hi_open: bool = False, unit: str = "") -> float:
    """float(value) if it is finite and within the range, else FieldError(what, field, ...) giving the range."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise FieldError(what, field, f"{value!r} is not a number") from None
    u = f" {unit}" if unit else ""
    if x != x or x in (float("inf"), float("-inf")):
        raise FieldError(what, field, f"must be a finite number ({range_text(lo, hi, lo_open, hi_open)}{u}), "
                                      f"got {value}")
    if (lo is not None and (x <= lo if lo_open else x < lo)) or (hi is not None and (x >= hi if hi_open else x > hi)):
        raise FieldError(what, field, f"{x:g}{u} is out of range (must be {range_text(lo, hi, lo_open, hi_open)}{u})")
    return x
