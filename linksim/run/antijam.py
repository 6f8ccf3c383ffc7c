"""A run's mitigation record: what the receiver's front end did in each stretch and, with a terminal array, what the
combiner's weights did to each jammer, next to the budget's prediction (summary.json "mitigation", the report's
mitigation section).

Per stretch: the front end's statistics (excised share of the bins and of the power, tones found, blanked share of
the samples) and, with [terminal.array], the adapted pattern of the combiner's weights over the measured span
(linksim.mitigation.array.adapted_pattern with the channel's true manifold): each jammer's measured null depth and
the array's thermal SNR gain. The run's record averages them over the stretches (weighted by their samples; null
depths in power) and puts the budget's predicted null depth and post-combiner J/S beside them, and the SINR gain
measured by the receiver (its Es/N0 estimate over the budget's C/(N+I+J) at one element) beside the predicted one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..budget.nulling import jammer_psd, signal_psd
from ..budget.timeline import Timeline
from ..errors import InputError
from ..mitigation.array import adapted_pattern
from ..scenario.model import Scenario

FRACTION_KEYS = ("excised_fraction", "excised_power_fraction", "blanked_fraction", "mean_notches_active")
COUNT_KEYS = ("tones_found", "pulses", "frames")


def check_array_run(s: Scenario, devices: object | None = None, record: object | None = None,
                    split: bool = False, traffic: bool = False) -> None:
    """A terminal array runs in loopback only: its element streams do not fit one SDR or one ZeroMQ link, nor the
    IP traffic run's single stream."""
    if s.terminal.array is None:
        return
    if traffic:
        raise InputError("a scenario with [terminal.array] runs in loopback only: not with --traffic (the IP "
                         "traffic run carries one stream)")
    if (s.uplink is not None and s.uplink.bent_pipe) or s.satellite.amplifier is not None:
        raise InputError("[terminal.array] takes the downlink channel only: not with a bent pipe ([uplink] "
                         "bent_pipe = true) or a satellite amplifier ([satellite.amplifier])")
    if devices is not None or split:
        raise InputError("a scenario with [terminal.array] runs in loopback only (one stream per element; "
                         "hardware and split runs carry one stream)")
    if record is not None:
        raise InputError("--record takes one stream: not available with [terminal.array]")


def stretch_record(s: Scenario, stats: dict[str, Any], combiner: Any, ch: Any, n0: int, n1: int,
                   t_s: float) -> dict[str, Any]:
    """A stretch's record: the front end's `stats`, and with an array (`combiner`, a
    linksim.mitigation.array.ArrayCombiner, and `ch`, the linksim.channel.array.ArrayChannel) the adapted pattern of
    the weights of the windows starting in samples [n0, n1) (the measured span), the manifold taken at scenario time
    t_s."""
    rec: dict[str, Any] = {"samples": int(n1 - n0)}
    rec.update(stats)
    if combiner is not None and hasattr(ch, "steering"):
        g = ch.geometry
        w = combiner.log.between(n0, n1)
        a_s, a_k = ch.steering(t_s)
        jp = [jammer_psd(j, s, g.grid)[0] for j in s.jammers if j.target == "downlink"]
        ap = adapted_pattern(w, a_s, a_k, g.response, signal_psd(s, g.grid), jp,
                             np.mean(np.abs(g.response) ** 2, axis=1))
        rec["null_depth_db"] = ap["null_depth_db"]
        rec["array_gain_db"] = ap["array_gain_db"]
        rec["windows"] = int(w.shape[0])
    return rec


def _mean_db(values: list[float], weights: list[float]) -> float:
    ok = [(v, w) for v, w in zip(values, weights, strict=True) if v is not None and math.isfinite(v) and w > 0]
    if not ok:
        return math.nan
    lin = sum(w * 10 ** (v / 10) for v, w in ok) / sum(w for _, w in ok)
    return float(10 * math.log10(lin))


def run_record(s: Scenario, tl: Timeline, records: list[dict[str, Any]], bins: list[dict[str, Any]],
               spans: list[tuple[float, float]]) -> dict[str, Any]:
    """The run's mitigation record for summary.json (empty when the run had none)."""
    m = s.mitigation
    arr = s.terminal.array
    if not m.active and arr is None:
        return {}
    out: dict[str, Any] = {"excision": m.excision, "blanking": m.blanking}
    w = [float(r.get("samples", 0)) for r in records]
    tot = sum(w)
    for k in FRACTION_KEYS:
        vals = [(r[k], wi) for r, wi in zip(records, w, strict=True) if k in r]
        if vals and tot > 0:
            out[k] = sum(v * wi for v, wi in vals) / max(sum(wi for _, wi in vals), 1e-30)
    for k in COUNT_KEYS[:2]:
        if any(k in r for r in records):
            out[k] = int(sum(r.get(k, 0) for r in records))
    if arr is None:
        return out
    mask = np.zeros(len(tl), dtype=bool)
    for t0, t1 in spans:
        mask |= tl.rows_within(t0, t1)
    out["array"] = {"elements": arr.elements, "layout": arr.layout, "nulling": arr.nulling,
                    "error_db": arr.error_db, "error_deg": arr.error_deg}
    gains = [r.get("array_gain_db", math.nan) for r in records]
    out["array"]["array_gain_db"] = _mean_db(gains, w)
    out["array"]["predicted_array_gain_db"] = _nanmean(tl.columns.get("array_gain_db"), mask)
    meas_sinr = [b["esn0_est_db"] for b in bins if math.isfinite(b.get("esn0_est_db", math.nan))]
    elem = _nanmean(tl["cnij_db"], mask)
    out["array"]["sinr_gain_db"] = float(np.mean(meas_sinr)) - elem if meas_sinr and math.isfinite(elem) \
        else math.nan
    pred_arr = _nanmean(tl.columns.get("cnij_array_db"), mask)
    out["array"]["predicted_sinr_gain_db"] = pred_arr - elem if math.isfinite(pred_arr) else math.nan
    jams = []
    k = 0
    for js in tl.jammers:
        if js.target != "downlink":
            continue
        depth = _mean_db([r["null_depth_db"][k] if "null_depth_db" in r else math.nan for r in records], w)
        jams.append({"name": js.name, "null_depth_db": depth,
                     "predicted_null_depth_db": _nanmean(js.null_depth_db, mask & js.active),
                     "js_db": _nanmean(js.js_db, mask & js.active),
                     "predicted_js_nulled_db": _nanmean(js.js_nulled_db, mask & js.active)})
        k += 1
    out["array"]["jammers"] = jams
    return out


def _nanmean(col: np.ndarray | None, mask: np.ndarray) -> float:
    if col is None:
        return math.nan
    v = np.asarray(col, dtype=float)[mask]
    v = v[np.isfinite(v)]
    return float(np.mean(v)) if v.size else math.nan
