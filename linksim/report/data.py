"""Reading a run directory back, and checking that its files agree with each other.

A run directory (written by `linksim run`) holds `scenario.toml` (the resolved scenario), `timeline.csv` (the
budget), `measured.csv` (one row per measurement bin), `frames.csv` (one row per decoded frame) and
`summary.json`. `load_run_dir(path)` reads them into a `RunData`; `check_run_dir(path)` returns the list of
inconsistencies (empty when the summary's numbers follow from measured.csv and frames.csv).

CSV cells are read as numbers where every non-empty cell of a column is one (empty cell = NaN; `True`/`False`
count as 1/0); other columns stay strings.
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..files import check_input, read_text

RUN_FILES = ("scenario.toml", "timeline.csv", "measured.csv", "frames.csv", "summary.json")
MEASURED_COLUMNS = ("time_s", "bin_s", "modcod", "frames", "frame_errors", "goodput_bps", "esn0_est_db",
                    "predicted_esn0_db", "predicted_goodput_bps")
FRAME_COLUMNS = ("time_s", "sample_index", "modcod", "ok", "ldpc_iterations", "bch_corrected", "esn0_est_db",
                 "info_bits")
SUMMARY_KEYS = ("scenario", "status", "seed", "acm", "goodput_bps_mean", "clear_sky_goodput_bps", "degradation_pct",
                "availability_pct", "frames_total", "frames_ok", "fer", "esn0_bias_db", "symbol_rate_baud", "sps",
                "duration_s", "wall_time_s", "realtime_factor", "versions", "notes", "jammers")
AVAILABLE_FER = 0.1  # a bin counts as available when its FER is at most this (linksim.run.metrics counts with it),
# unless summary.json says otherwise in availability_fer_max
STRING_COLUMNS = frozenset({"time_utc", "modcod", "best_modcod"})
_BOOL_WORDS = {"true": 1.0, "false": 0.0}

Columns = dict[str, np.ndarray]


@dataclass
class RunData:
    """The files of one run directory. Missing or unreadable files give empty tables and a line in `missing`."""

    run_dir: Path
    summary: dict[str, Any]
    scenario: dict[str, Any]  # the resolved scenario table ({} if absent)
    timeline: Columns
    measured: Columns
    frames: Columns
    missing: list[str] = field(default_factory=list)

    @property
    def n_bins(self) -> int:
        return n_rows(self.measured)

    @property
    def n_frames(self) -> int:
        return n_rows(self.frames)

    @property
    def jammer_names(self) -> list[str]:
        """Jammer names: from the scenario, else from the summary, else from the timeline's js_db[NAME] columns."""
        js = self.scenario.get("jammer") or []
        if js:
            return [str(j.get("name", f"jammer {k}")) for k, j in enumerate(js)]
        sj = self.summary.get("jammers") or []
        if sj:
            return [str(j.get("name", f"jammer {k}")) for k, j in enumerate(sj)]
        return [c[len("js_db["):-1] for c in self.timeline if c.startswith("js_db[")]

    @property
    def start_unix_s(self) -> float | None:
        """Scenario start (POSIX seconds), from scenario.toml, else from the timeline's first time_utc."""
        from ..geometry.orbit import parse_utc

        start = (self.scenario.get("scenario") or {}).get("start")
        try:
            if isinstance(start, str):
                return parse_utc(start)
            if n_rows(self.timeline) and "time_utc" in self.timeline:
                return parse_utc(str(self.timeline["time_utc"][0])) - float(self.timeline["time_s"][0])
        except InputError:
            return None
        return None

    def num(self, table: str, column: str) -> np.ndarray:
        """A numeric column of 'timeline', 'measured' or 'frames' (all-NaN if the column is absent)."""
        cols: Columns = getattr(self, table)
        n = n_rows(cols)
        if column not in cols:
            return np.full(n, np.nan)
        a = cols[column]
        if a.dtype == object:
            return np.full(n, np.nan)
        return a.astype(float)

    def text(self, table: str, column: str) -> np.ndarray:
        """A column as strings ('' where absent)."""
        cols: Columns = getattr(self, table)
        if column not in cols:
            return np.full(n_rows(cols), "", dtype=object)
        a = cols[column]
        if a.dtype == object:
            return a
        return np.array([_num_text(v) for v in a], dtype=object)


def _num_text(v: float) -> str:
    if math.isnan(v):
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def n_rows(cols: Columns) -> int:
    return len(next(iter(cols.values()))) if cols else 0


def _column(cells: list[str], name: str) -> np.ndarray:
    if name in STRING_COLUMNS:
        return np.array(cells, dtype=object)
    try:  # the fast path: every cell is a number or empty
        return np.array([c.strip() or "nan" for c in cells], dtype=float)
    except ValueError:
        pass
    out = np.empty(len(cells))
    for i, c in enumerate(cells):
        c = c.strip()
        if c == "":
            out[i] = np.nan
            continue
        try:
            out[i] = float(c)
        except ValueError:
            b = _BOOL_WORDS.get(c.lower())
            if b is None:
                return np.array(cells, dtype=object)
            out[i] = b
    return out


def read_csv_columns(path: str | Path) -> Columns:
    """A CSV file with a header row as {column: array}. A zero-byte file gives {} (no columns, no rows)."""
    p = Path(path)
    check_input(p)  # a regular file (a FIFO would block)
    try:
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{p}: not a CSV text file ({str(e).splitlines()[0]})") from None
    if not rows:
        return {}
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    for k, r in enumerate(body):
        if len(r) != len(header):
            raise InputError(f"{p}: row {k + 2} has {len(r)} cells, the header has {len(header)}")
    return {h: _column([r[j] for r in body], h) for j, h in enumerate(header)}


def _json_constant(name: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


def load_run_dir(run_dir: str | Path) -> RunData:
    """Read a run directory. Raises InputError if it is not a directory or holds none of the run files."""
    d = Path(run_dir)
    if not d.is_dir():
        raise InputError(f"run directory {str(d)!r} does not exist or is not a directory")
    if not any((d / f).exists() for f in RUN_FILES):
        raise InputError(f"{d}: not a run directory (none of {', '.join(RUN_FILES)})")
    missing: list[str] = []
    summary: dict[str, Any] = {}
    p = d / "summary.json"
    if p.exists():
        try:
            summary = json.loads(read_text(p), parse_constant=_json_constant)
        except json.JSONDecodeError as e:
            raise InputError(f"{p}: not valid JSON ({e})") from None
        if not isinstance(summary, dict):
            raise InputError(f"{p}: expected a JSON object")
    else:
        missing.append("summary.json is missing")
    scenario: dict[str, Any] = {}
    p = d / "scenario.toml"
    if p.exists():
        try:
            scenario = tomllib.loads(read_text(p))
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"{p}: not valid TOML ({e})") from None
    else:
        missing.append("scenario.toml is missing")
    tables: dict[str, Columns] = {}
    for name in ("timeline", "measured", "frames"):
        p = d / f"{name}.csv"
        if p.exists():
            tables[name] = read_csv_columns(p)
        else:
            tables[name] = {}
            missing.append(f"{name}.csv is missing")
    return RunData(d, summary, scenario, tables["timeline"], tables["measured"], tables["frames"], missing)


# ------------------------------------------------------------------------------------------------ checks

def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _close(a: float, b: float, rel: float, abs_: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def _f(v: Any) -> float:
    return float(v) if _is_num(v) else math.nan


def check_run(r: RunData) -> list[str]:
    """The inconsistencies of a loaded run (see check_run_dir)."""
    out = list(r.missing)
    s = r.summary
    if s:
        for k in SUMMARY_KEYS:
            if k not in s:
                out.append(f"summary.json: key {k!r} is missing")
        if "status" in s and s["status"] not in ("complete", "partial"):
            out.append(f"summary.json: status {s['status']!r} is neither 'complete' nor 'partial'")
    m = r.measured
    nb = r.n_bins
    if (r.run_dir / "measured.csv").exists() and m:
        for c in MEASURED_COLUMNS:
            if c not in m:
                out.append(f"measured.csv: column {c!r} is missing")
        for name in r.jammer_names:
            if f"js_db[{name}]" not in m:
                out.append(f"measured.csv: column 'js_db[{name}]' is missing (jammer {name!r})")
    if r.frames:
        for c in FRAME_COLUMNS:
            if c not in r.frames:
                out.append(f"frames.csv: column {c!r} is missing")
    if not s:
        return out
    frames = r.num("measured", "frames")
    errors = r.num("measured", "frame_errors")
    goodput = r.num("measured", "goodput_bps")
    bin_s = r.num("measured", "bin_s")
    t = r.num("measured", "time_s")
    if nb:
        if np.any(np.diff(t) <= 0):
            out.append("measured.csv: time_s is not strictly increasing")
        if np.any(t[1:] < t[:-1] + bin_s[:-1] - 1e-6):
            out.append("measured.csv: bins overlap (time_s + bin_s runs past the next bin's time_s)")
        if np.any(~(bin_s > 0)):
            out.append("measured.csv: bin_s is not positive everywhere")
        if np.any(~(errors <= frames)) or np.any(~(errors >= 0)):
            out.append("measured.csv: frame_errors is outside 0..frames in some bins")
        if np.any(~(goodput >= 0)):
            out.append("measured.csv: goodput_bps is negative or empty in some bins")
    n_frames = float(np.sum(frames)) if nb else 0.0
    n_err = float(np.sum(errors)) if nb else 0.0
    ft = _f(s.get("frames_total"))
    fo = _f(s.get("frames_ok"))
    # frame counts may be pro rata (frame equivalents written with 4 decimals)
    if "frames_total" in s and not _close(ft, n_frames, 1e-9, 1e-3):
        out.append(f"summary.json: frames_total {s['frames_total']} != sum of measured.csv frames {n_frames:g}")
    if "frames_ok" in s and not _close(fo, n_frames - n_err, 1e-9, 1e-3):
        out.append(f"summary.json: frames_ok {s['frames_ok']} != frames - frame_errors in measured.csv "
                   f"{n_frames - n_err:g}")
    if "fer" in s:
        fer = _f(s.get("fer"))
        want = n_err / n_frames if n_frames > 0 else math.nan
        if not _close(fer, want, 1e-6, 1e-9):
            out.append(f"summary.json: fer {s['fer']} != frame_errors / frames from measured.csv ({want:.6g})")
    if "goodput_bps_mean" in s:
        g = _f(s.get("goodput_bps_mean"))
        plain = float(np.mean(goodput)) if nb else math.nan
        weighted = float(np.sum(goodput * bin_s) / np.sum(bin_s)) if nb and np.sum(bin_s) > 0 else math.nan
        if not (_close(g, plain, 1e-4, 1e-3) or _close(g, weighted, 1e-4, 1e-3)):
            out.append(f"summary.json: goodput_bps_mean {s['goodput_bps_mean']} != mean of measured.csv "
                       f"goodput_bps ({plain:.6g})")
    if "esn0_bias_db" in s:
        est = r.num("measured", "esn0_est_db")
        pred = r.num("measured", "predicted_esn0_db")
        ok = np.isfinite(est) & np.isfinite(pred)
        want = float(np.mean(est[ok] - pred[ok])) if np.any(ok) else math.nan
        if not _close(_f(s.get("esn0_bias_db")), want, 0.0, 0.01):
            out.append(f"summary.json: esn0_bias_db {s['esn0_bias_db']} != mean of measured.csv esn0_est_db - "
                       f"predicted_esn0_db ({want:.4g} dB)")
    g, c, dp = _f(s.get("goodput_bps_mean")), _f(s.get("clear_sky_goodput_bps")), _f(s.get("degradation_pct"))
    if math.isfinite(g) and math.isfinite(c) and c > 0 and "degradation_pct" in s:
        want = 100.0 * (1.0 - g / c)
        if not _close(dp, want, 0.0, 0.05):
            out.append(f"summary.json: degradation_pct {s['degradation_pct']} != 100 x (1 - goodput_bps_mean / "
                       f"clear_sky_goodput_bps) = {want:.4g} %")
    if "availability_pct" in s and nb:
        fer_max = _f(s.get("availability_fer_max", AVAILABLE_FER))
        with np.errstate(invalid="ignore", divide="ignore"):
            avail = (frames > 0) & (errors / frames <= fer_max)
        want = 100.0 * float(np.mean(avail))
        if not _close(_f(s.get("availability_pct")), want, 0.0, 1e-6):
            out.append(f"summary.json: availability_pct {s['availability_pct']} != share of bins with FER <= "
                       f"{fer_max:g} in measured.csv ({want:.4g} %)")
    out += _check_frames(r, n_frames - n_err)
    out += _check_predicted(r)
    names_sum = [str(j.get("name")) for j in (s.get("jammers") or []) if isinstance(j, dict)]
    names_scn = [str(j.get("name")) for j in (r.scenario.get("jammer") or [])]
    if r.scenario and "jammers" in s and sorted(names_sum) != sorted(names_scn):
        out.append(f"summary.json: jammers {names_sum} do not match the scenario's {names_scn}")
    return out


def _check_frames(r: RunData, n_ok: float) -> list[str]:
    if not r.frames or "ok" not in r.frames:
        return []
    out = []
    ok = r.num("frames", "ok") > 0.5
    # a frame counts pro rata of its time inside the measured span when frames.csv has a share column
    share = r.num("frames", "share") if "share" in r.frames else np.ones(r.n_frames)
    n_ok_frames = float(np.sum(share[ok]))
    if not _close(n_ok_frames, n_ok, 1e-9, 1e-3 * max(1.0, r.n_bins)):
        out.append(f"frames.csv: {n_ok_frames:g} frames with ok=1, measured.csv counts {n_ok:g} good frames")
    bits = r.num("frames", "info_bits")
    goodput = r.num("measured", "goodput_bps")
    bin_s = r.num("measured", "bin_s")
    if r.n_bins and "info_bits" in r.frames:
        have = float(np.nansum(bits[ok] * share[ok]))
        want = float(np.sum(goodput * bin_s))
        if not _close(have, want, 5e-6, 1.0):  # CSV rounding of goodput_bps (6 digits) stays below 5e-7
            out.append(f"frames.csv: info_bits of good frames sum to {have:.6g} bits, measured.csv goodput_bps x "
                       f"bin_s sums to {want:.6g} bits")
    return out


def _check_predicted(r: RunData) -> list[str]:
    """predicted_esn0_db must lie within the timeline's C/(N+I+J) over the bin: the rows inside it, the values
    interpolated at its ends and the rows either side (a run may hold a budget value until the next step)."""
    if not r.n_bins or "cnij_db" not in r.timeline or "predicted_esn0_db" not in r.measured:
        return []
    tt = r.num("timeline", "time_s")
    cn = r.num("timeline", "cnij_db")
    fin = np.isfinite(cn) & np.isfinite(tt)
    tt, cn = tt[fin], cn[fin]
    if not tt.size:
        return []
    t0 = r.num("measured", "time_s")
    t1 = t0 + r.num("measured", "bin_s")
    pred = r.num("measured", "predicted_esn0_db")
    i0 = np.searchsorted(tt, t0, side="right") - 1  # last row at or before the bin start
    i1 = np.searchsorted(tt, t1, side="left")  # first row at or after the bin end
    ends = np.interp(np.concatenate([t0, t1]), tt, cn)
    bad = []
    for k in range(len(t0)):
        if not np.isfinite(pred[k]):
            continue
        seg = cn[max(i0[k], 0):min(i1[k], tt.size - 1) + 1]
        lo = min(float(np.min(seg)), ends[k], ends[len(t0) + k])
        hi = max(float(np.max(seg)), ends[k], ends[len(t0) + k])
        if not (lo - 0.01 <= pred[k] <= hi + 0.01):
            bad.append(k)
    if bad:
        k = bad[0]
        return [f"measured.csv: predicted_esn0_db differs from timeline.csv cnij_db in {len(bad)} bin(s), first at "
                f"time_s {t0[k]:g} ({pred[k]:.3f} dB)"]
    return []


def check_run_dir(run_dir: str | Path) -> list[str]:
    """Problems in a run directory, one line each ([] if consistent):
    - missing files, columns or summary keys; a status other than complete/partial;
    - summary numbers that do not follow from measured.csv: frames_total = sum of frames, frames_ok = frames -
      frame_errors, fer = errors / frames, goodput_bps_mean = mean of the bins' goodput_bps (plain or
      bin_s-weighted), esn0_bias_db = mean over bins of esn0_est_db - predicted_esn0_db, degradation_pct =
      100 (1 - goodput_bps_mean / clear_sky_goodput_bps), availability_pct = share of bins with frames and
      FER <= availability_fer_max (default 0.1);
    - frames.csv against measured.csv: the count of ok frames, and the information bits of good frames against
      the sum of goodput_bps x bin_s (each frame weighted by its `share` column when there is one: linksim run
      counts a frame pro rata of its time inside the measured span);
    - predicted_esn0_db outside the timeline's C/(N+I+J) over the bin; jammer names against the scenario.
    Raises InputError only if run_dir is not a run directory at all."""
    return check_run(load_run_dir(run_dir))
