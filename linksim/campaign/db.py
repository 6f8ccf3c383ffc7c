"""The campaign database: `DIR/campaign.sqlite`, one row per point in table `runs`.

Columns of `runs`:
- `id` (insertion order), `seq` (position in the current spec), `point_hash` (what runs: scenario digest, run
  options and runner), `stale` (1: the point is no longer in the spec; kept, not run);
- one column per spec key, named exactly as in the spec (`"jammer.0.eirp_dbw"`, `"carrier.modcod"`, `seed`); NULL
  where a point does not set the key (the base scenario's value applies);
- `status` (pending, running, done, failed), `error`, `attempts`, `run_dir`, `started_utc`, `finished_utc`,
  `wall_s`, `worker`, `run_status` (the summary's own status);
- the summary metrics (`goodput_bps_mean`, `clear_sky_goodput_bps`, `degradation_pct`, `availability_pct`, `fer`,
  `esn0_bias_db`, `frames_total`, `frames_ok`), the measured and predicted mean Es/N0 (`esn0_db_mean`,
  `predicted_esn0_db_mean`: from the summary, else the run's measured.csv, frame-weighted) and `js_db` (total J/S:
  power sum of the summary's per-jammer `js_db_mean`), and the full summary as JSON (`summary`);
- what the figures need whether or not it was swept: `modcod`, `jammer_types`, `symbol_rate_baud`, `pilots`,
  `acm`, and `params` / `run_options` (JSON).

Table `campaign` (key, value) holds the spec's name, path, hash, base, runner and keys; `spec_history` every spec
hash seen, with the spec's text. Only the campaign's main process writes; each change is one transaction.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import math
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InputError
from .spec import CampaignSpec, Point

STATUSES = ("pending", "running", "done", "failed")

METRIC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("goodput_bps_mean", "REAL"),
    ("clear_sky_goodput_bps", "REAL"),
    ("degradation_pct", "REAL"),
    ("availability_pct", "REAL"),
    ("fer", "REAL"),
    ("esn0_bias_db", "REAL"),
    ("frames_total", "REAL"),  # frame equivalents: a run counts frames pro rata of their time in the span
    ("frames_ok", "REAL"),
    ("esn0_db_mean", "REAL"),
    ("predicted_esn0_db_mean", "REAL"),
    ("js_db", "REAL"),
)

FIXED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "INTEGER PRIMARY KEY"),
    ("seq", "INTEGER"),
    ("point_hash", "TEXT UNIQUE NOT NULL"),
    ("stale", "INTEGER NOT NULL DEFAULT 0"),
    ("status", "TEXT NOT NULL DEFAULT 'pending'"),
    ("error", "TEXT"),
    ("attempts", "INTEGER NOT NULL DEFAULT 0"),
    ("run_dir", "TEXT"),
    ("started_utc", "TEXT"),
    ("finished_utc", "TEXT"),
    ("wall_s", "REAL"),
    ("worker", "TEXT"),
    ("run_status", "TEXT"),
    *METRIC_COLUMNS,
    ("modcod", "TEXT"),
    ("jammer_types", "TEXT"),
    ("symbol_rate_baud", "REAL"),
    ("pilots", "INTEGER"),
    ("acm", "INTEGER"),
    ("params", "TEXT"),
    ("run_options", "TEXT"),
    ("summary", "TEXT"),
)
FIXED_NAMES = frozenset(n for n, _ in FIXED_COLUMNS)
# Fixed columns that hold a run option's effective value: a spec may sweep them under the same name.
RUN_OPTION_COLUMNS = frozenset({"acm"})

# Summary keys tried, in order, for the measured mean Es/N0.
ESN0_KEYS = ("esn0_db_mean", "esn0_est_db_mean", "measured_esn0_db_mean", "esn0_measured_db_mean")


def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def quote(name: str) -> str:
    """An SQL identifier for any column name (spec keys contain dots)."""
    return '"' + name.replace('"', '""') + '"'


def _db_value(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return json.dumps(v, default=str)


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v) if math.isfinite(v) else None


def total_js_db(summary: dict[str, Any], params: dict[str, Any]) -> float | None:
    """Total J/S (dB) of a run: the power sum of the summary's per-jammer `js_db_mean`, else a swept `...js_db`."""
    jams = summary.get("jammers")
    vals: list[float] = []
    if isinstance(jams, dict):
        jams = [dict(v, name=k) if isinstance(v, dict) else {"js_db_mean": v} for k, v in jams.items()]
    if isinstance(jams, list):
        for j in jams:
            if isinstance(j, dict):
                x = _number(j.get("js_db_mean"))
                if x is not None:
                    vals.append(x)
    if vals:
        return 10.0 * math.log10(sum(10.0 ** (x / 10.0) for x in vals))
    x = _number(summary.get("js_db_mean", summary.get("js_db")))
    if x is not None:
        return x
    swept = [_number(v) for k, v in params.items() if k.endswith("js_db")]
    swept = [x for x in swept if x is not None]
    return swept[0] if len(swept) == 1 else None


def measured_esn0_db(summary: dict[str, Any]) -> float | None:
    for k in ESN0_KEYS:
        x = _number(summary.get(k))
        if x is not None:
            return x
    return None


class CampaignDB:
    """The campaign's SQLite file. Open with `CampaignDB(path)`; `sync(spec)` brings the rows in line with a spec."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(str(self.path), timeout=30.0)
        self.conn.row_factory = sqlite3.Row
        with self.conn:
            cols = ", ".join(f"{quote(n)} {t}" for n, t in FIXED_COLUMNS)
            self.conn.execute(f"CREATE TABLE IF NOT EXISTS runs ({cols})")
            have = set(self.columns())
            for n, t in FIXED_COLUMNS:  # a database from an older linksim: add the columns it lacks
                if n not in have:
                    self.conn.execute(f"ALTER TABLE runs ADD COLUMN {quote(n)} {t.replace(' UNIQUE', '')}")
            self.conn.execute("CREATE TABLE IF NOT EXISTS campaign (key TEXT PRIMARY KEY, value TEXT)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS spec_history (spec_hash TEXT PRIMARY KEY, "
                              "first_seen_utc TEXT, spec_text TEXT)")

    def close(self) -> None:
        self.conn.close()

    # -- columns and metadata -----------------------------------------------------------------------------------
    def columns(self) -> list[str]:
        return [r[1] for r in self.conn.execute("PRAGMA table_info(runs)")]

    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM campaign")}

    def _set_meta(self, items: dict[str, Any]) -> None:
        self.conn.executemany("INSERT INTO campaign(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                              "SET value = excluded.value", [(k, str(v)) for k, v in items.items()])

    # -- the plan -----------------------------------------------------------------------------------------------
    def sync(self, spec: CampaignSpec, out_dir: Path) -> dict[str, Any]:
        """Add the spec's new points (pending), refresh kept ones, mark points no longer in the spec stale.

        Returns {"new": n, "kept": n, "stale": n, "spec_changed": bool, "previous_hash": str | None}.
        """
        meta = self.meta()
        prev = meta.get("spec_hash")
        if meta.get("name") not in (None, spec.name):
            raise InputError(f"{out_dir} holds campaign {meta['name']!r}, not {spec.name!r}: use another --out "
                             f"(or set name = {meta['name']!r} in the spec to continue that campaign)")
        have = {r["point_hash"]: r for r in self.conn.execute("SELECT point_hash, id, run_dir FROM runs")}
        new = kept = 0
        with self.conn:
            existing = set(self.columns())
            for k in spec.keys:
                if k in FIXED_NAMES and k not in RUN_OPTION_COLUMNS:
                    raise InputError(f"{spec.path}: key {k!r} collides with a column of the runs table")
                if k not in existing:
                    self.conn.execute(f"ALTER TABLE runs ADD COLUMN {quote(k)}")
            wanted = {p.hash for p in spec.points}
            for p in spec.points:
                values = self._point_columns(p, spec.keys)
                if p.hash in have:
                    kept += 1
                    sets = ", ".join(f"{quote(k)} = ?" for k in values)
                    self.conn.execute(f"UPDATE runs SET {sets}, stale = 0 WHERE point_hash = ?",
                                      [*values.values(), p.hash])
                else:
                    new += 1
                    cur = self.conn.execute("INSERT INTO runs (point_hash, status) VALUES (?, 'pending')", [p.hash])
                    run_dir = out_dir / "runs" / f"{cur.lastrowid:04d}-{p.hash}"
                    values["run_dir"] = str(run_dir)
                    sets = ", ".join(f"{quote(k)} = ?" for k in values)
                    self.conn.execute(f"UPDATE runs SET {sets} WHERE point_hash = ?", [*values.values(), p.hash])
            stale = [h for h in have if h not in wanted]
            self.conn.executemany("UPDATE runs SET stale = 1, seq = NULL WHERE point_hash = ?", [(h,) for h in stale])
            # A previous sweep that was killed outright (no chance to clean up) leaves `running` rows: re-queue them.
            self.conn.execute("UPDATE runs SET status = 'pending' WHERE status = 'running'")
            self._set_meta({"name": spec.name, "spec_path": spec.path, "spec_hash": spec.hash,
                            "base": spec.base_path, "runner": spec.runner, "keys": json.dumps(spec.keys),
                            "updated_utc": utc_now()})
            if prev is None:
                self._set_meta({"created_utc": utc_now()})
            self.conn.execute("INSERT OR IGNORE INTO spec_history VALUES (?, ?, ?)", (spec.hash, utc_now(), spec.text))
        return {"new": new, "kept": kept, "stale": len(stale), "spec_changed": prev is not None and prev != spec.hash,
                "previous_hash": prev}

    @staticmethod
    def _point_columns(p: Point, keys: Iterable[str]) -> dict[str, Any]:
        s = p.scenario
        acm = p.run_options.get("acm", s.run.acm)
        values: dict[str, Any] = {k: _db_value(p.params.get(k)) for k in keys}
        values.update({
            "seq": p.index,
            "modcod": s.carrier.modcod,
            "jammer_types": ",".join(j.type for j in s.jammers),
            "symbol_rate_baud": s.carrier.symbol_rate_baud,
            "pilots": int(s.carrier.pilots),
            "acm": int(bool(acm)),
            "params": json.dumps(p.params, default=str),
            "run_options": json.dumps(p.run_options, default=str),
        })
        return values

    # -- status changes -----------------------------------------------------------------------------------------
    def status_of(self, point_hash: str) -> sqlite3.Row:
        return self.conn.execute("SELECT * FROM runs WHERE point_hash = ?", [point_hash]).fetchone()

    def mark_running(self, point_hash: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET status = 'running', started_utc = ?, finished_utc = NULL, "
                              "error = NULL, attempts = attempts + 1 WHERE point_hash = ?", [utc_now(), point_hash])

    def mark_pending(self, point_hash: str, note: str | None = None) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET status = 'pending', error = ? WHERE point_hash = ?", [note, point_hash])

    def mark_failed(self, point_hash: str, error: str, result: dict[str, Any] | None = None) -> None:
        r = result or {}
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET status = 'failed', error = ?, finished_utc = ?, wall_s = ?, worker = ?, "
                "started_utc = COALESCE(?, started_utc) WHERE point_hash = ?",
                [error, r.get("finished_utc", utc_now()), r.get("wall_s"), r.get("worker"), r.get("started_utc"),
                 point_hash])

    def mark_done(self, p: Point, result: dict[str, Any]) -> None:
        summary = result.get("summary") or {}
        values: dict[str, Any] = {n: _number(summary.get(n)) for n, _ in METRIC_COLUMNS[:8]}
        extra = result.get("measured") or {}
        values["esn0_db_mean"] = measured_esn0_db(summary)
        if values["esn0_db_mean"] is None:
            values["esn0_db_mean"] = _number(extra.get("esn0_db_mean"))
        values["predicted_esn0_db_mean"] = _number(summary.get("predicted_esn0_db_mean",
                                                               extra.get("predicted_esn0_db_mean")))
        values["js_db"] = total_js_db(summary, p.params)
        st = summary.get("status")
        values.update({
            "status": "done", "error": None, "run_status": st if isinstance(st, str) else None,
            "started_utc": result.get("started_utc"), "finished_utc": result.get("finished_utc"),
            "wall_s": result.get("wall_s"), "worker": result.get("worker"),
            "summary": json.dumps(summary, default=str),
        })
        sets = ", ".join(f"{quote(k)} = ?" for k in values)
        with self.conn:
            self.conn.execute(f"UPDATE runs SET {sets} WHERE point_hash = ?", [*values.values(), p.hash])

    def requeue_running(self) -> int:
        """Interrupted: every `running` point goes back to `pending` (its attempt is not counted)."""
        with self.conn:
            cur = self.conn.execute("UPDATE runs SET status = 'pending', attempts = MAX(attempts - 1, 0), "
                                    "started_utc = NULL WHERE status = 'running'")
        return cur.rowcount

    # -- queries ------------------------------------------------------------------------------------------------
    def rows(self, include_stale: bool = False) -> list[dict[str, Any]]:
        where = "" if include_stale else "WHERE stale = 0"
        return [dict(r) for r in self.conn.execute(f"SELECT * FROM runs {where} ORDER BY stale, seq, id")]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for r in self.conn.execute("SELECT status, COUNT(*) AS n FROM runs WHERE stale = 0 GROUP BY status"):
            out[r["status"]] = r["n"]
        out["stale"] = self.conn.execute("SELECT COUNT(*) FROM runs WHERE stale = 1").fetchone()[0]
        return out


JSON_COLUMNS = ("params", "run_options", "summary")


def export_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write rows of the runs table as CSV (without the JSON columns), in the table's column order."""
    out = Path(path)
    cols = [c for c in (rows[0].keys() if rows else [n for n, _ in FIXED_COLUMNS]) if c not in JSON_COLUMNS]
    with out.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    return out
