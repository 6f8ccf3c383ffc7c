"""Instrument command sets declared as data: one `CommandSet` per protocol, each command a template plus the
number of reply lines and a parser. Drivers call `run(transport, command_set, name, **fields)`; nothing else
in the package spells a command string.

Sources: Mini-Circuits programmable attenuator programming manual (SCPI over serial/USB/Ethernet), Yaesu
GS-232A/B reference (CR-terminated, 8N1), Hamlib rotctld network protocol (TCP 4533, `RPRT n` status lines).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import DeviceError
from .transport import Transport

Parser = Callable[[list[str]], Any]


@dataclass(frozen=True)
class Command:
    """One command: `template` is formatted with the caller's fields (str.format); `reply_lines` reply lines
    are read (0: none); `parse` turns them into a value (None: return the lines)."""

    template: str
    reply_lines: int = 0
    parse: Parser | None = None


@dataclass(frozen=True)
class CommandSet:
    """A protocol: command terminator, reply terminators, how to spot an error reply, and the commands."""

    model: str
    eol: bytes
    commands: Mapping[str, Command]
    reply_eols: bytes = b"\r\n"
    # returns an error text if a reply line is the device's error answer, else None
    error_reply: Callable[[str], str | None] = field(default=lambda line: None)


def run(transport: Transport, cset: CommandSet, name: str, **fields: Any) -> Any:
    """Send command `name` of `cset` over `transport`; return its parsed reply. DeviceError on an error
    reply."""
    cmd = cset.commands[name]
    text = cmd.template.format(**fields)
    lines = transport.transact(text, cset.eol, cmd.reply_lines, cset.reply_eols, cset.error_reply)
    for line in lines:
        err = cset.error_reply(line)
        if err is not None:
            raise DeviceError(f"{transport.url}: {cset.model} refused {text!r}: {err}")
    if cmd.parse is None:
        return lines
    try:
        return cmd.parse(lines)
    except DeviceError as e:
        raise DeviceError(f"{transport.url}: {cset.model}, {text!r}: {e}") from None
    except (ValueError, IndexError) as e:
        raise DeviceError(f"{transport.url}: {cset.model} sent an unreadable reply to {text!r}: {lines!r}") from e


# ---------------------------------------------------------------- parsers


def _float(lines: list[str]) -> float:
    return float(lines[0])


def _after_eq(lines: list[str]) -> str:
    """'MN=RCDAT-6000-110' -> 'RCDAT-6000-110' (a bare value is returned as is)."""
    return lines[0].split("=", 1)[1].strip() if "=" in lines[0] else lines[0].strip()


def _setatt_status(lines: list[str]) -> int:
    """Mini-Circuits :SETATT= status: 1 success, 0 failed, 2 above range (set to maximum)."""
    status = int(float(lines[0]))
    if status == 0:
        raise DeviceError("attenuator reports the command failed (status 0)")
    if status == 2:
        raise DeviceError("attenuator reports the value is above its range and set its maximum (status 2)")
    if status != 1:
        raise ValueError(lines[0])
    return status


_GS232A_C2 = re.compile(r"^\+0?(\d{3,4})\+0?(\d{3,4})$")
_GS232B_C2 = re.compile(r"^AZ=\s*(\d{1,3})\s*EL=\s*(\d{1,3})$")


def _gs232a_c2(lines: list[str]) -> tuple[float, float]:
    """GS-232A `C2` reply `+0aaa+0eee` -> (az_deg, el_deg)."""
    m = _GS232A_C2.match(lines[0].replace(" ", ""))
    if not m:
        raise ValueError(lines[0])
    return float(m.group(1)), float(m.group(2))


def _gs232b_c2(lines: list[str]) -> tuple[float, float]:
    """GS-232B `C2` reply `AZ=aaa   EL=eee` -> (az_deg, el_deg)."""
    m = _GS232B_C2.match(lines[0].strip())
    if not m:
        raise ValueError(lines[0])
    return float(m.group(1)), float(m.group(2))


def _gs232_error(line: str) -> str | None:
    return "invalid command ('?>')" if line.startswith("?") else None


def _rotctld_error(line: str) -> str | None:
    m = re.match(r"^RPRT\s+(-?\d+)$", line)
    if m and int(m.group(1)) != 0:
        return f"RPRT {m.group(1)} ({ROTCTLD_ERRORS.get(int(m.group(1)), 'error')})"
    return None


def _rprt_ok(lines: list[str]) -> int:
    m = re.match(r"^RPRT\s+(-?\d+)$", lines[0])
    if not m:
        raise ValueError(lines[0])
    return int(m.group(1))


def _two_floats(lines: list[str]) -> tuple[float, float]:
    return float(lines[0]), float(lines[1])


# Hamlib error codes (enum rig_errcode_e in include/hamlib/rig.h; negated in RPRT lines).
ROTCTLD_ERRORS: Mapping[int, str] = MappingProxyType(
    {
        -1: "invalid parameter",
        -2: "invalid configuration",
        -3: "out of memory",
        -4: "not implemented",
        -5: "communication timed out",
        -6: "IO error",
        -7: "internal Hamlib error",
        -8: "protocol error",
        -9: "command rejected",
        -10: "argument truncated",
        -11: "not available",
        -12: "target not supported",
        -13: "bus error",
        -14: "bus collision",
        -15: "invalid pointer argument",
        -16: "invalid VFO",
        -17: "argument out of domain",
        -18: "function deprecated",
        -19: "security error",
        -20: "rig not powered on",
        -21: "limit exceeded",
        -22: "access denied",
    }
)

# ---------------------------------------------------------------- command sets

MINICIRCUITS_SCPI = CommandSet(
    model="Mini-Circuits SCPI attenuator",
    eol=b"\r\n",
    commands=MappingProxyType(
        {
            "set_db": Command(":SETATT={db:.2f}", 1, _setatt_status),
            "get_db": Command(":ATT?", 1, _float),
            "model": Command(":MN?", 1, _after_eq),
            "serial": Command(":SN?", 1, _after_eq),
        }
    ),
)


def _gs232(model: str, position_reply: Parser) -> CommandSet:
    """A Yaesu GS-232 command set; the A and B versions differ only in the format of the C2 (position) reply."""
    return CommandSet(
        model=model,
        eol=b"\r",
        error_reply=_gs232_error,
        commands=MappingProxyType(
            {
                "goto": Command("W{az:03d} {el:03d}"),
                "position": Command("C2", 1, position_reply),
                "stop": Command("S"),
            }
        ),
    )


GS232A = _gs232("Yaesu GS-232A", _gs232a_c2)
GS232B = _gs232("Yaesu GS-232B", _gs232b_c2)

ROTCTLD = CommandSet(
    model="Hamlib rotctld",
    eol=b"\n",
    reply_eols=b"\n",
    error_reply=_rotctld_error,
    commands=MappingProxyType(
        {
            "goto": Command("P {az:.2f} {el:.2f}", 1, _rprt_ok),
            "position": Command("p", 2, _two_floats),
            "stop": Command("S", 1, _rprt_ok),
            "park": Command("K", 1, _rprt_ok),
        }
    ),
)

ROTATOR_MODELS: Mapping[str, CommandSet] = MappingProxyType({"gs232a": GS232A, "gs232b": GS232B, "rotctld": ROTCTLD})
