"""`linksim budget SCENARIO`: the link budget over time, as a table, JSON, CSV or a plot.

--duration and --step override the scenario's scenario.duration_s and scenario.step_s and go through the same
schema checks (an error names the option). The output paths are checked before the timeline is computed and the
files are written to temporary names renamed at the end (linksim.files), so an error leaves none half-written.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from ..errors import InputError, ScenarioError

# --duration/--step are these scenario keys
OPTION_KEYS = {"--duration": "scenario.duration_s", "--step": "scenario.step_s"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("budget", help="compute a scenario's link budget over time",
                       description="Compute the link budget Timeline of a scenario file.")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--at", metavar="ISO_TIME", help="show this instant (default: the first visible row)")
    p.add_argument("--json", action="store_true", help="print the instant as JSON (Timeline column names)")
    p.add_argument("--csv", metavar="FILE", help="write the whole timeline as CSV")
    p.add_argument("--plot", metavar="FILE.png", help="plot elevation, losses, Es/N0 and J/S over time")
    p.add_argument("--duration", type=float, metavar="S", help="override the scenario's duration_s")
    p.add_argument("--step", type=float, metavar="S", help="override the scenario's step_s")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key, e.g. --set carrier.modcod='8PSK 3/4' (repeatable)")
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict[str, object]:
    """KEY=VALUE pairs; VALUE is read as TOML (numbers, booleans, "strings"), bare words as strings."""
    import tomllib

    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--set {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = tomllib.loads(f"v = {v}")["v"]
        except tomllib.TOMLDecodeError:
            out[k.strip()] = v
    return out


def load_with_options(args: argparse.Namespace):
    """The scenario with --set, --duration and --step applied; a bad --duration or --step is named as typed."""
    from ..scenario.model import load_scenario

    overrides = parse_overrides(args.set)
    given = {}
    for opt, key in OPTION_KEYS.items():
        v = getattr(args, opt[2:])
        if v is not None:
            overrides[key] = v
            given[f"{key} (override)"] = opt
    try:
        return load_scenario(args.scenario, overrides)
    except ScenarioError as e:
        opt = given.get(e.key)
        if e.key.startswith("scenario.step_s") and "rows" in e.problem and given:  # the two together
            opt = " and ".join(given.values())
        if opt is None:
            raise
        raise InputError(f"{opt}: {e.problem}") from None


def check_plot_path(path: str) -> None:
    """InputError unless matplotlib can write a figure in the format the file name's extension names."""
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in formats:
        raise InputError(f"--plot {path}: unknown figure format {('.' + ext) if ext else '(no extension)'} "
                         f"(use {', '.join('.' + f for f in sorted(formats))})")


def run(args: argparse.Namespace) -> int:
    from ..budget import tables as budget_report
    from ..budget import timeline as budget
    from ..files import AtomicOutput
    from ..geometry import orbit as geometry

    s = load_with_options(args)
    at = geometry.parse_utc(args.at) if args.at else None
    if at is not None:  # refuse a time outside the scenario before the (slow) first ITU-R map load
        t0 = s.start_unix_s
        t1 = t0 + s.meta.duration_s
        if not t0 - 1e-6 <= at <= t1 + 1e-6:
            raise InputError(f"--at {args.at}: outside the scenario ({geometry.format_utc(t0)} to "
                             f"{geometry.format_utc(t1)})")
    if args.plot:
        check_plot_path(args.plot)
    if args.csv and args.plot and Path(args.csv).resolve() == Path(args.plot).resolve():
        raise InputError(f"--plot {args.plot}: the same file as --csv")
    with ExitStack() as stack:
        csv_out = stack.enter_context(AtomicOutput(args.csv, "--csv", inputs=[args.scenario])) if args.csv else None
        plot_out = (stack.enter_context(AtomicOutput(args.plot, "--plot", inputs=[args.scenario]))
                    if args.plot else None)
        tl = budget.compute_timeline(s)
        if at is not None:
            i = tl.index_at(at)
        else:
            vis = np.nonzero(tl["visible"])[0]
            i = int(vis[0]) if vis.size else 0
        if csv_out is not None:
            tl.to_csv(csv_out.tmp_path)
        if plot_out is not None:
            from ..budget.plots import plot_budget

            plot_budget(tl, plot_out.tmp_path)
    if args.json:
        json.dump(tl.row(i), sys.stdout, indent=2, allow_nan=False, default=str)
        sys.stdout.write("\n")
    else:
        print(budget_report.instant_table(tl, i))
        print()
        print(budget_report.summary_text(tl))
        if args.csv:
            print(f"wrote {args.csv} ({len(tl)} rows)")
        if args.plot:
            print(f"wrote {args.plot}")
    return 0
