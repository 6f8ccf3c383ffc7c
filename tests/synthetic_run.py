"""A synthetic run directory built from a real budget Timeline, following the run-directory contract of
`linksim run` (scenario.toml, timeline.csv, measured.csv, frames.csv, summary.json). The "receiver" is a seeded
toy: each frame's Es/N0 estimate is the budget's C/(N+I+J) plus Gaussian noise, and a frame fails with a
probability that falls with its margin over the Table 13 threshold. `gap` adds a known disagreement (Es/N0
offset and extra frame losses) over a time interval, so tests can check that the report finds it."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tomli_w

from linksim.budget.timeline import Timeline
from linksim.dvbs2.params import frame_params
from linksim.scenario import modcods


@dataclass
class Gap:
    t_start_s: float
    t_end_s: float
    esn0_offset_db: float  # added to the receiver's estimates
    extra_loss: float  # probability that an otherwise good frame is lost


def _fmt(v: float) -> str:
    return "" if (isinstance(v, float) and math.isnan(v)) else (f"{v:.10g}" if isinstance(v, float) else str(v))


def write_run_dir(tl: Timeline, out: Path, *, bin_s: float = 10.0, seed: int = 7, gap: Gap | None = None,
                  n_bins: int | None = None, dwell_every_s: float | None = None, status: str = "complete",
                  acm: bool | None = None) -> Path:
    """Write a run directory for the timeline. n_bins truncates the run (a partial run when status='partial');
    dwell_every_s keeps only bins starting at multiples of it (dwell mode)."""
    s = tl.scenario
    out.mkdir(parents=True, exist_ok=True)
    (out / "scenario.toml").write_text(tomli_w.dumps(s.resolved()))
    tl.to_csv(out / "timeline.csv")
    rng = np.random.default_rng(seed)
    rs = s.carrier.symbol_rate_baud
    pilots = s.carrier.pilots
    acm = s.run.acm if acm is None else acm
    t = tl.time_s
    duration = float(s.meta.duration_s)
    starts = np.arange(0.0, duration - 1e-9, bin_s)
    if dwell_every_s is not None:
        starts = starts[np.isclose(np.mod(starts, dwell_every_s), 0.0)]
    if n_bins is not None:
        starts = starts[:n_bins]
    names = [j.name for j in tl.jammers]
    m_rows: list[dict[str, object]] = []
    f_rows: list[dict[str, object]] = []
    for t0 in starts:
        sel = (t >= t0) & (t < t0 + bin_s)
        pred = float(np.mean(tl["cnij_db"][sel]))
        choice = modcods.best_closing([pred], s.run.acm_margin_db, pilots)[0]
        mc = (choice.name if choice else "QPSK 1/4") if acm else s.carrier.modcod
        fp = frame_params(mc, s.carrier.frame, pilots)
        m = modcods.get(mc)
        n_frames = int(rs * bin_s // fp.plframe_symbols)
        offset, loss = 0.0, 0.0
        if gap is not None and gap.t_start_s <= t0 < gap.t_end_s:
            offset, loss = gap.esn0_offset_db, gap.extra_loss
        true = pred + rng.normal(0.0, 0.05, n_frames)
        est = true + offset + rng.normal(0.0, 0.2, n_frames)
        p_err = 1.0 / (1.0 + np.exp(20.0 * (true - m.esn0_qef_db - 0.1)))
        ok = (rng.random(n_frames) >= p_err) & (rng.random(n_frames) >= loss)
        ft = t0 + (np.arange(n_frames) + 0.5) * fp.plframe_symbols / rs
        for k in range(n_frames):
            f_rows.append({"time_s": float(ft[k]), "sample_index": int(round(ft[k] * rs * s.channel.sps)),
                           "modcod": mc, "ok": int(ok[k]), "ldpc_iterations": int(rng.integers(3, 30)),
                           "bch_corrected": int(rng.integers(0, 3)) if ok[k] else 0,
                           "esn0_est_db": float(est[k]), "info_bits": fp.data_field_bits})
        good_bits = int(np.sum(ok)) * fp.data_field_bits
        pg = rs * m.efficiency(pilots) if pred >= m.esn0_qef_db else 0.0
        row: dict[str, object] = {
            "time_s": float(t0), "bin_s": bin_s, "modcod": mc, "frames": n_frames,
            "frame_errors": int(n_frames - np.sum(ok)), "goodput_bps": good_bits / bin_s,
            "esn0_est_db": float(np.mean(est)), "predicted_esn0_db": pred, "predicted_goodput_bps": pg}
        for j in tl.jammers:
            act = j.active[sel]
            row[f"js_db[{j.name}]"] = float(np.mean(j.js_db[sel][act])) if np.any(act) else math.nan
        m_rows.append(row)
    m_cols = ["time_s", "bin_s", "modcod", "frames", "frame_errors", "goodput_bps", "esn0_est_db",
              "predicted_esn0_db", "predicted_goodput_bps", *(f"js_db[{n}]" for n in names)]
    with open(out / "measured.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(m_cols)
        for r in m_rows:
            w.writerow([_fmt(r[c]) for c in m_cols])  # type: ignore[arg-type]
    f_cols = ["time_s", "sample_index", "modcod", "ok", "ldpc_iterations", "bch_corrected", "esn0_est_db",
              "info_bits"]
    with open(out / "frames.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(f_cols)
        for r in f_rows:
            w.writerow([_fmt(r[c]) for c in f_cols])  # type: ignore[arg-type]
    frames = sum(int(r["frames"]) for r in m_rows)  # type: ignore[call-overload]
    errors = sum(int(r["frame_errors"]) for r in m_rows)  # type: ignore[call-overload]
    goodput = [float(r["goodput_bps"]) for r in m_rows]  # type: ignore[arg-type]
    d = [float(r["esn0_est_db"]) - float(r["predicted_esn0_db"]) for r in m_rows]  # type: ignore[arg-type]
    d = [x for x in d if math.isfinite(x)]
    clear = modcods.best_closing([float(np.max(tl["esn0_db"]))], s.run.acm_margin_db, pilots)[0]
    clear_bps = rs * (clear.efficiency(pilots) if acm and clear else modcods.get(s.carrier.modcod).efficiency(pilots))
    mean = float(np.mean(goodput)) if goodput else math.nan
    summary = {
        "scenario": s.name, "status": status, "seed": seed, "acm": acm,
        "goodput_bps_mean": mean, "clear_sky_goodput_bps": clear_bps,
        "degradation_pct": 100.0 * (1.0 - mean / clear_bps) if goodput else math.nan,
        "availability_pct": 100.0 * float(np.mean([int(r["frame_errors"]) <= 0.1 * int(r["frames"])  # type: ignore
                                                   for r in m_rows])) if m_rows else math.nan,
        "frames_total": frames, "frames_ok": frames - errors, "fer": errors / frames if frames else math.nan,
        "esn0_bias_db": float(np.mean(d)) if d else math.nan, "symbol_rate_baud": rs, "sps": s.channel.sps,
        "duration_s": duration,  # the span the run was asked to cover (as linksim.run writes it)
        "wall_time_s": 12.5, "realtime_factor": len(starts) * bin_s / 12.5,
        "versions": {"linksim": "0.1.0", "gnuradio": "3.10.5.1", "numpy": np.__version__},
        "notes": ["synthetic run directory written by tests/synthetic_run.py", *tl.notes],
        "jammers": [{"name": j.name, "type": j.type,
                     "js_db_mean": float(np.mean(j.js_db[j.active])) if np.any(j.active) else None}
                    for j in tl.jammers],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return out
