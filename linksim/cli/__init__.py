"""The `linksim` command. Each sub-command lives in its own module with a `register(subparsers)` function.

Layer: the top, beside linksim.api; may import any stage, and nothing in the package imports it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from typing import Any

from ..errors import SEED_MAX, FieldError, InputError, LinksimError, check_number

# Sub-command modules, in the order `linksim --help` lists them. Each defines register(subparsers).
COMMAND_MODULES = ["budget", "scenarios", "channel", "dvbs2", "run", "emulate", "sweep", "report", "hw", "kernels"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2
        sys.stderr.write(f"linksim: error: {message}\n")
        raise SystemExit(2)


def check_option(option: str, value: Any, lo: float | None = None, hi: float | None = None, *,
                 lo_open: bool = False, hi_open: bool = False, unit: str = "") -> float:
    """float(value) if finite and in range; else InputError "OPTION: ... (must be in [lo, hi] unit)"."""
    try:
        return check_number("", option, value, lo, hi, lo_open=lo_open, hi_open=hi_open, unit=unit)
    except FieldError as e:
        raise InputError(f"{option}: {e.problem}") from None


def check_int_option(option: str, value: int, lo: int, hi: int) -> int:
    """value if lo <= value <= hi, else InputError naming the option and the range."""
    if not lo <= value <= hi:
        raise InputError(f"{option}: {value} is out of range (must be an integer in [{lo}, {hi}])")
    return value


def check_seed(option: str, seed: int) -> int:
    return check_int_option(option, seed, 0, SEED_MAX)


def warn(message: str) -> None:
    """One line on stderr, as errors are."""
    sys.stderr.write(f"linksim: warning: {message}\n")


def check_iq_input(reader: Any, ignore_checksum: bool) -> Any:
    """The IQCheck of an IQ input (linksim.iqfile.IQReader) read once: NaN, infinite or absurd samples are an
    InputError; a SigMF recording whose data does not match its core:sha512 is refused unless ignore_checksum,
    which reads it with a warning."""
    chk = reader.check()
    if chk.sha512_ok is False:
        meta = os.path.basename(str(reader.files[0]))
        msg = (f"{reader.what} {reader.data_path}: the data does not match core:sha512 in {meta} (it changed after "
               f"it was recorded)")
        if not ignore_checksum:
            raise InputError(f"{msg}; --ignore-checksum reads it anyway")
        warn(f"{msg}; read anyway (--ignore-checksum)")
    return chk


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The CLI parser. Given the arguments, only the chosen command's module is imported (each command is the module
    of its name; importing all of them costs about 0.1 s of every start-up); without a known command, all are."""
    parser = _Parser(prog="linksim", description="SATCOM link simulator with hardware in the loop")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"linksim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    chosen = next((a for a in (argv or []) if not a.startswith("-")), None)
    names = [chosen] if chosen in COMMAND_MODULES else COMMAND_MODULES
    for name in names:
        try:
            mod = importlib.import_module(f"linksim.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"linksim.cli.{name}":
                continue  # not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None, *, program: bool = False) -> int:
    """Run the command line `argv` (default sys.argv[1:]); returns the exit code. program: this is the `linksim`
    process itself (see program()), which a command marked quick_exit may end at once when it is done."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    warnings.simplefilter("default")
    try:
        rc = args.func(args)
    except LinksimError as e:
        sys.stderr.write(f"linksim: error: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("linksim: interrupted\n")
        return 130
    rc = int(rc or 0)
    if program and getattr(args, "quick_exit", False):
        _end_process(rc)
    return rc


def _end_process(rc: int) -> None:
    """End the process now, without the interpreter's teardown: after numba and LLVM are loaded, freeing every
    module's objects at exit takes about 0.25 s, which a file-to-file command would spend after its output is
    complete. What a normal exit does first still happens: the atexit handlers run and stdout/stderr are
    flushed. Returns (for the normal exit) when another non-daemon thread still runs or a stream cannot be
    flushed. Only for commands whose outputs are closed when they return (set_defaults(quick_exit=True))."""
    import atexit
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and t.is_alive() and not t.daemon for t in threading.enumerate()):
        return
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)  # what CPython calls at exit (3.11: present)
    if run_exitfuncs is None:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the normal exit reports it
        return
    run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(rc)


def program() -> None:
    """The `linksim` program (console script and `python -m linksim`)."""
    raise SystemExit(main(program=True))


if __name__ == "__main__":
    program()
