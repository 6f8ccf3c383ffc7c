"""The `linksim` command. Each sub-command lives in its own module with a `register(subparsers)` function.

Layer: the top, beside linksim.api; may import any stage, and nothing in the package imports it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from ..errors import LinksimError

# Sub-command modules, in the order `linksim --help` lists them. Each defines register(subparsers).
COMMAND_MODULES = ["budget", "scenarios", "channel", "dvbs2", "run", "emulate", "sweep", "report", "hw"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2
        sys.stderr.write(f"linksim: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="linksim", description="SATCOM link simulator with hardware in the loop")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"linksim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"linksim.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"linksim.cli.{name}":
                continue  # not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
    return int(rc or 0)


if __name__ == "__main__":
    raise SystemExit(main())
