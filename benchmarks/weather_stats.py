"""Multi-year statistics of the synthesized weather against ITU-R P.618 (rain, scintillation), P.837 and P.676.

Run: .venv/bin/python benchmarks/weather_stats.py [--years 20] [--step-s 60] [--scint-years 20]

Rain: per site and exceedance percentage, the reference (the ITU-R P.618-13 validation example where the site is
one, else P.618-13 through linksim.propagation.itu), then for each synthesis variant the mean of the yearly exceedance
values, the standard error of that mean (spread of the yearly values / sqrt(years)), the difference (dB) and the
ratio synthesized / reference. Variants: "table" = P.1853-2 driver with P.618's own curve (the default),
"lognorm" = P.1853-2 as published (least-squares log-normal fit), "P.1853-1" = Maseng-Bakken with offset.
Scintillation: std / sigma and the fades against P.618 a(p) sigma (el >= 5 deg) or P.618 2.4.2/2.4.3 (el < 5 deg).
The printed tables are recorded in docs/weather.md.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from linksim.errors import ValidityWarning
from linksim.propagation import itu as prop
from linksim.propagation import weather
from linksim.propagation.scintillation import low_elevation_fade_db, p618_fade_factor

# name, lat, lon, alt_m, freq_hz, elevation_deg, tau_deg, ITU-R validation A_rain at 1, 0.1, 0.01 % (or None)
SITES = [
    ("Longyearbyen", 78.22, 15.65, 10.0, 20.2e9, 20.0, 45.0, None),
    ("Ny-Alesund", 78.92, 11.93, 10.0, 20.2e9, 12.0, 45.0, None),
    ("Tromso", 69.65, 18.96, 10.0, 20.2e9, 10.5, 45.0, None),
    ("Oslo", 59.91, 10.75, 20.0, 20.2e9, 21.3, 45.0, None),
    ("London ITU", 51.5, -0.14, 31.382984, 14.25e9, 31.07699124, 0.0, (0.495317069, 2.185847422, 6.798072267)),
    ("Rome ITU", 41.9, 12.49, 46.122988, 14.25e9, 40.232036, 0.0, (0.623263001, 2.696765133, 8.223265009)),
]
P_RAIN = (1.0, 0.1, 0.01)
VARIANTS = (("table", "P.1853-2", "p618"), ("lognorm", "P.1853-2", "lognormal"), ("P.1853-1", "P.1853-1", "p618"))


def yearly(x: np.ndarray, per_year: int, p: float) -> tuple[float, float]:
    years = x.size // per_year
    q = np.quantile(x[: years * per_year].reshape(years, per_year), 1.0 - p / 100.0, axis=1)
    return float(q.mean()), float(q.std(ddof=1) / math.sqrt(years))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--step-s", type=float, default=60.0)
    ap.add_argument("--scint-years", type=int, default=20)
    ap.add_argument("--scint-step-s", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    warnings.simplefilter("ignore", ValidityWarning)
    year_s = 365.25 * 86400.0
    per_year = int(round(year_s / args.step_s))
    t = np.arange(per_year * args.years) * args.step_s
    print(f"RAIN: {args.years} years at {args.step_s:g} s per site and variant ({t.size} samples), seed {args.seed}+")
    head = f"{'site':13s} {'GHz':>5s} {'el':>5s} {'p %':>5s} {'ref dB':>7s}"
    for v, _, _ in VARIANTS:
        head += f" | {v + ' dB':>11s} {'+-se':>5s} {'diff':>6s} {'ratio':>5s}"
    print(head)
    total_runtime = 0.0
    for k, (name, lat, lon, alt, f, el, tau, itu) in enumerate(SITES):
        res = {}
        for v, syn, marg in VARIANTS:
            t0 = time.perf_counter()
            ws = weather.synthesize_weather(
                lat, lon, alt, f, el, t, seed=args.seed + k, tau_deg=tau, synthesis=syn, rain_marginal=marg
            )
            total_runtime += time.perf_counter() - t0
            res[v] = [yearly(ws.rain_db, per_year, p) for p in P_RAIN]
            if v == "table":
                p_wet, p0 = 100 * float(np.mean(ws.rain_db > 0)), ws.stats.p_rain_pct
            del ws
        for j, p in enumerate(P_RAIN):
            ref = itu[j] if itu else float(prop.rain_db(lat, lon, f, el, p, alt, tau)[()])
            line = f"{name:13s} {f / 1e9:5.2f} {el:5.1f} {p:5.2f} {ref:7.3f}"
            for v, _, _ in VARIANTS:
                m, se = res[v][j]
                line += f" | {m:11.3f} {se:5.2f} {m - ref:+6.2f} {m / ref:5.2f}"
            print(line)
        print(f"{'':13s} P(rain>0): synth {p_wet:.2f} %, P0 (P.837) {p0:.2f} %")
    print(f"(synthesis time for all rain series: {total_runtime:.1f} s, {len(SITES) * len(VARIANTS) * t.size} samples)")
    print()
    per_year = int(round(year_s / args.scint_step_s))
    t = np.arange(per_year * args.scint_years) * args.scint_step_s
    print(f"SCINTILLATION (clear air, D 1.2 m, eta 0.65): {args.scint_years} years at {args.scint_step_s:g} s")
    print(
        f"{'site':13s} {'el':>5s} {'sigma':>6s} {'std/sig':>7s} {'p %':>5s} {'P.618 dB':>8s} {'synth dB':>8s}"
        f" {'diff':>6s} {'ratio':>5s}"
    )
    for k, (name, lat, lon, alt, f, _el, _tau, _itu) in enumerate(SITES[:4]):
        for el in (3.0, 5.0, 10.0, 30.0):
            ws = weather.synthesize_weather(lat, lon, alt, f, el, t, seed=args.seed + 100 + k, rain_scintillation=False)
            if el >= 5.0:
                x = ws.scintillation_db
                sig = float(ws.scint_sigma_db[0])
                ratio = f"{float(np.std(x)) / sig:7.3f}"
            else:
                x = ws.low_elevation_db
                sig = float("nan")
                ratio = f"{'-':>7s}"
            for p in (1.0, 0.1, 0.01):
                if el >= 5.0:
                    ref = float(p618_fade_factor(p)) * sig
                else:
                    ref = float(low_elevation_fade_db(p, el, f, lat, ws.stats.nwet, 1.2, 0.65, ws.stats.alt_m))
                s = float(np.quantile(x, 1.0 - p / 100.0))
                print(
                    f"{name:13s} {el:5.1f} {sig:6.3f} {ratio} {p:5.2f} {ref:8.3f} {s:8.3f} {s - ref:+6.2f}"
                    f" {s / ref:5.2f}"
                )


if __name__ == "__main__":
    main()
