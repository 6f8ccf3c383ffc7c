"""Multi-year statistics of the synthesized weather against ITU-R P.618 (rain, scintillation) and P.840/P.676.

Run: .venv/bin/python benchmarks/weather_stats.py [--years 20] [--step-s 60] [--sites all]
Prints, per site and exceedance percentage, the P.618 value, the synthesized value (mean over the yearly
exceedance values and the standard error of that mean from their spread), the difference (dB) and the ratio.
The results are recorded in docs/weather.md.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from linksim import weather
from linksim.errors import ValidityWarning
from linksim.scintillation import p618_fade_factor

# name, lat, lon, alt_m, freq_hz, elevation_deg
SITES = [
    ("Longyearbyen", 78.22, 15.65, 10.0, 20.2e9, 20.0),
    ("Ny-Alesund", 78.92, 11.93, 10.0, 20.2e9, 12.0),
    ("Tromso", 69.65, 18.96, 10.0, 20.2e9, 10.5),
    ("Oslo", 59.91, 10.75, 20.0, 20.2e9, 21.3),
    ("London (ITU val.)", 51.5, -0.14, 31.4, 14.25e9, 31.08),
    ("Rome (ITU val.)", 41.9, 12.49, 46.1, 14.25e9, 40.23),
]
P_RAIN = (1.0, 0.3, 0.1, 0.03, 0.01)
P_SCINT = (10.0, 1.0, 0.1, 0.01)


def yearly_quantiles(x: np.ndarray, per_year: int, ps: tuple[float, ...]) -> np.ndarray:
    years = x.size // per_year
    blocks = x[: years * per_year].reshape(years, per_year)
    return np.array([[np.quantile(b, 1.0 - p / 100.0) for p in ps] for b in blocks])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--step-s", type=float, default=60.0)
    ap.add_argument("--scint-years", type=int, default=4)
    ap.add_argument("--scint-step-s", type=float, default=10.0)
    ap.add_argument("--synthesis", default="P.1853-2", choices=weather.SYNTHESIS_RECS)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    warnings.simplefilter("ignore", ValidityWarning)
    year_s = 365.25 * 86400.0
    print(f"rain: {args.years} years at {args.step_s:g} s per site, synthesis {args.synthesis}, seed {args.seed}")
    print(
        f"{'site':18s} {'f GHz':>5s} {'el':>5s} {'p %':>5s} {'P.618 dB':>9s} {'synth dB':>9s} {'+-se':>6s}"
        f" {'diff dB':>8s} {'ratio':>6s}"
    )
    for k, (name, lat, lon, alt, f, el) in enumerate(SITES):
        per_year = int(round(year_s / args.step_s))
        n = per_year * args.years
        t = np.arange(n) * args.step_s
        t0 = time.perf_counter()
        st = weather.site_weather_stats(lat, lon, alt, f, el, synthesis=args.synthesis)
        ws = weather.synthesize_weather(
            lat,
            lon,
            alt,
            f,
            el,
            t,
            seed=args.seed + 10 * k,
            stats=st,
            synthesis=args.synthesis,
            rain_scintillation=False,
        )
        dt_run = time.perf_counter() - t0
        ref = weather._itur().itu618
        q = yearly_quantiles(ws.rain_db, per_year, P_RAIN)
        for j, p in enumerate(P_RAIN):
            a618 = float(np.asarray(ref.rain_attenuation(lat, lon, f / 1e9, el, hs=alt / 1000.0, p=p, tau=45.0).value))
            mean = float(np.mean(q[:, j]))
            se = float(np.std(q[:, j], ddof=1) / math.sqrt(q.shape[0]))
            print(
                f"{name:18s} {f / 1e9:5.2f} {el:5.1f} {p:5.2f} {a618:9.3f} {mean:9.3f} {se:6.3f}"
                f" {mean - a618:+8.3f} {mean / a618:6.3f}"
            )
        pr = 100.0 * np.mean(ws.rain_db > 0)
        print(f"{name:18s}  P(rain>0) synth {pr:.3f} %  P0 (P.837) {st.p_rain_pct:.3f} %   run {dt_run:.1f} s")
    print()
    print(
        f"scintillation (no rain coupling): {args.scint_years} years at {args.scint_step_s:g} s, D = 1.2 m, eta = 0.65"
    )
    print(
        f"{'site':18s} {'el':>5s} {'sigma dB':>8s} {'std/sig':>7s} {'p %':>5s} {'P.618 dB':>9s} {'synth dB':>9s}"
        f" {'diff dB':>8s} {'ratio':>6s}"
    )
    for name, lat, lon, alt, f, _el in SITES[:4]:
        for el in (5.0, 10.0, 30.0):
            per_year = int(round(year_s / args.scint_step_s))
            t = np.arange(per_year * args.scint_years) * args.scint_step_s
            ws = weather.synthesize_weather(lat, lon, alt, f, el, t, seed=args.seed + 1, rain_scintillation=False)
            sig = float(ws.scint_sigma_db[0])
            ratio_std = float(np.std(ws.scintillation_db)) / sig
            for p in P_SCINT:
                a = float(p618_fade_factor(p)) * sig
                s = float(np.quantile(ws.scintillation_db, 1.0 - p / 100.0))
                print(
                    f"{name:18s} {el:5.1f} {sig:8.3f} {ratio_std:7.3f} {p:5.2f} {a:9.3f} {s:9.3f} {s - a:+8.3f}"
                    f" {s / a:6.3f}"
                )


if __name__ == "__main__":
    main()
