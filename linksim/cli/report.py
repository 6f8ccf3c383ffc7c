"""`linksim report RUN_DIR`: (re)build the figures and report.html of an existing run directory."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import check_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="(re)build the report of a run directory",
                       description="Write overview.png, goodput_vs_esn0.png, frame_esn0_hist.png and a self-contained "
                                   "report.html into RUN_DIR from its scenario.toml, timeline.csv, measured.csv, "
                                   "frames.csv and summary.json, and check that those files agree.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="run directory written by `linksim run`")
    p.add_argument("--esn0-tol", type=float, default=1.0, metavar="DB",
                   help="list bins whose measured Es/N0 is off the prediction by more than this (default 1 dB)")
    p.add_argument("--goodput-tol", type=float, default=10.0, metavar="PCT",
                   help="list bins whose goodput is off the prediction by more than this (default 10 %%)")
    p.add_argument("--strict", action="store_true", help="exit with code 1 if the consistency check finds problems")
    p.add_argument("--check", action="store_true",
                   help="only check that the run directory's files agree (no figures); exit 1 if they do not")
    p.add_argument("--json", action="store_true", help="print the report path, figures and problems as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..files import AtomicOutput
    from ..report.data import check_run_dir, load_run_dir
    from ..report.html import FIGURES, build_report

    check_option("--esn0-tol", args.esn0_tol, 0.0, 100.0, lo_open=True, unit="dB")
    check_option("--goodput-tol", args.goodput_tol, 0.0, 1000.0, lo_open=True, unit="%")
    if args.check:
        problems = check_run_dir(args.run_dir)
        if args.json:
            print(json.dumps({"problems": problems}, indent=2))
        else:
            for p in problems:
                print(p)
            print(f"{len(problems)} problem(s)" if problems else "run directory consistent")
        return 1 if problems else 0
    load_run_dir(args.run_dir)  # a run directory at all (one line otherwise)
    AtomicOutput(Path(args.run_dir) / "report.html", "RUN_DIR").discard()  # writable: nothing half-written
    path = build_report(args.run_dir, esn0_tol_db=args.esn0_tol, goodput_tol_pct=args.goodput_tol)
    problems = check_run_dir(args.run_dir)
    figures = [str(path.parent / f) for f in FIGURES if (path.parent / f).exists()]
    if args.json:
        print(json.dumps({"report": str(path), "figures": figures, "problems": problems}, indent=2))
    else:
        for p in problems:
            sys.stderr.write(f"linksim: warning: {p}\n")
        print(f"report: {path}")
    return 1 if (args.strict and problems) else 0
