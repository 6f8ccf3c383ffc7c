"""The `NAME=VALUE,NAME=VALUE` lists of the command line's jammer and fading specs (`--jammer`, `--fading`)."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InputError


def parse_spec_list(text: str, head: str,
                    aliases: Mapping[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """({name: value text}, {name: key as typed}) of a comma list; `aliases` maps other spellings to a name.
    InputError (prefixed with `head`) for an item that is not NAME=VALUE or a name given twice."""
    values: dict[str, str] = {}
    typed: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, eq, val = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise InputError(f"{head}: '{item}' is not NAME=VALUE")
        name = (aliases or {}).get(key, key)
        if name in values:
            raise InputError(f"{head}: {key}: given twice" + (f" (as {typed[name]})" if typed[name] != key else ""))
        values[name] = val.strip()
        typed[name] = key
    return values, typed
