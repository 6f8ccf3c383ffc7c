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
