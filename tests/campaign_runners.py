"""Deterministic stand-in runners for the campaign machinery tests (resume, worker death, ordering, Dask).

They take the same arguments as linksim.run.run_scenario and return a summary of the same shape, computed from the
scenario in closed form: no IQ, no GNU Radio. The scenario's `scenario.description` selects a misbehaviour:
"crash" (the worker process dies), "crash-once:PATH" (dies unless PATH exists, which it creates first), "raise"
(a Python error), "sleep:S" (takes S seconds).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from linksim.scenario import modcods
from linksim.scenario.model import Scenario


def _log_call(out_dir: Path) -> None:
    # out_dir is CAMPAIGN/runs/NNNN-HASH: one line per call in CAMPAIGN/calls.log (O_APPEND: safe across workers)
    log = out_dir.parent.parent / "calls.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (out_dir.name + "\n").encode())
    finally:
        os.close(fd)


def closed_form_esn0_db(scenario: Scenario) -> tuple[float, float | None]:
    """A made-up but monotonic link: Es/N0 12 dB clear sky, degraded by the jammers' total J/S (a jammer with a
    position counts eirp_dbw + 10 dB as its J/S)."""
    js = [j.js_db if j.js_db is not None else float(j.eirp_dbw) + 10.0 for j in scenario.jammers]
    if not js:
        return 12.0, None
    js_lin = sum(10.0 ** (x / 10.0) for x in js)
    esn0 = 12.0 - 10.0 * math.log10(1.0 + js_lin * 10.0 ** 1.2)
    return esn0, 10.0 * math.log10(js_lin)


def fake_run(scenario: Scenario, out_dir: Path, *, duration_s: float | None = None, seed: int | None = None,
             acm: bool | None = None, progress: Callable[..., Any] | None = None) -> dict[str, Any]:
    out_dir = Path(out_dir)
    _log_call(out_dir)
    desc = scenario.meta.description
    if desc == "crash":
        os._exit(3)
    if desc.startswith("crash-once:"):
        marker = Path(desc.split(":", 1)[1])
        if not marker.exists():
            marker.touch()
            os._exit(3)
    if desc == "raise":
        raise RuntimeError("synthetic runner failure")
    if desc.startswith("sleep:"):
        time.sleep(float(desc.split(":", 1)[1]))
    m = modcods.get(scenario.carrier.modcod)
    eta = m.efficiency(scenario.carrier.pilots)
    rs = scenario.carrier.symbol_rate_baud
    rng = np.random.default_rng(seed if seed is not None else 0)
    esn0, js = closed_form_esn0_db(scenario)
    esn0_meas = esn0 + float(rng.normal(0.0, 0.05))
    frames_total = 100
    fer = 0.0 if esn0_meas >= m.esn0_qef_db else 1.0
    frames_ok = int(round(frames_total * (1.0 - fer)))
    summary = {
        "status": "complete",
        "seed": seed,
        "duration_s": duration_s if duration_s is not None else scenario.meta.duration_s,
        "acm": bool(acm),
        "goodput_bps_mean": rs * eta * frames_ok / frames_total,
        "clear_sky_goodput_bps": rs * eta,
        "degradation_pct": 100.0 * (1.0 - frames_ok / frames_total),
        "availability_pct": 100.0 * frames_ok / frames_total,
        "frames_total": frames_total,
        "frames_ok": frames_ok,
        "fer": 1.0 - frames_ok / frames_total,
        "esn0_db_mean": esn0_meas,
        "esn0_bias_db": esn0_meas - esn0,
        "jammers": [{"name": j.name, "type": j.type, "js_db_mean": js} for j in scenario.jammers[:1]],
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
