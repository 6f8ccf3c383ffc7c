"""`linksim scenarios`: list the shipped example scenarios."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="list the shipped example scenarios")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..scenario.model import list_shipped, load_scenario

    rows = []
    for path in list_shipped():
        s = load_scenario(path)
        kind = "TLE" if s.satellite.tle else ("GEO" if s.satellite.geo_lon_deg is not None else "fixed")
        rows.append({"file": str(path), "name": s.name, "orbit": kind, "freq_ghz": s.carrier.freq_hz / 1e9,
                     "modcod": s.carrier.modcod, "jammers": [j.type for j in s.jammers],
                     "description": s.meta.description})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        jam = ",".join(r["jammers"]) or "-"
        print(f"{r['name']:<36} {r['orbit']:<5} {r['freq_ghz']:6.2f} GHz  {r['modcod']:<11} jammers: {jam}")
        if r["description"]:
            print(f"    {r['description']}")
    return 0
