"""Measurement of a run: every PLFRAME sent matched with what the receiver made of it, per-bin goodput, FER and
Es/N0 next to the budget's prediction, and the run's summary.

Frames are counted from the transmitter's log, so a frame the receiver never found is an error, not a gap. A bin
counts as available when its FER is at most AVAILABLE_FER. The prediction is the budget's: the MODCOD sent (CCM) or
the one ACM would choose at the Timeline's C/(N+I+J) delivers symbol rate x efficiency when its Table 13 threshold
is met, nothing otherwise (Table 13 is a quasi-error-free threshold).
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..budget import timeline as budget
from ..dvbs2.params import frame_params
from ..dvbs2.waveform import scenario_waveform
from ..report.data import AVAILABLE_FER
from ..scenario import modcods
from ..scenario.model import Scenario

if TYPE_CHECKING:
    from .prepare import Stretch



@dataclass
class FrameRecord:
    time_s: float  # scenario time of the frame's first symbol
    tx_index: int  # sample index in its stretch
    modcod: str
    info_bits: int  # data-field bits the frame carries
    symbols: int
    ok: bool = False
    found: bool = False
    ldpc_iterations: int = -1
    bch_corrected: int = -1
    esn0_est_db: float = math.nan
    stretch: int = 0


@dataclass
class RunState:
    out_dir: Path
    bins: list[dict[str, Any]] = field(default_factory=list)  # frames go to frames.csv as each stretch ends
    wall_s: float = 0.0
    stretch_wall_s: float = 0.0  # wall time inside the stretches (flowgraphs and measurement)
    sim_symbols: float = 0.0
    notes: list[str] = field(default_factory=list)


def account(s: Scenario, st: Stretch, frame_log: list[tuple[int, str]], reports: list, latency: float,
            delay_samples_fn: Callable[[np.ndarray], np.ndarray], device_latency: bool = False) -> list[FrameRecord]:
    """Every PLFRAME sent in the stretch with what the receiver made of it (matched by sample index, after the
    transmit filter's and channel's latency, the propagation delay's change and, through devices, their latency);
    the frames that start inside [t0, t1) are returned."""
    c = s.carrier
    sent = []
    for idx, name in frame_log:
        if idx >= st.n_samples:
            break
        pf = frame_params(name, c.frame, c.pilots)
        sent.append(FrameRecord(st.t_base_s + idx / st.fs, idx, name, pf.data_field_bits, pf.plframe_symbols,
                                stretch=st.k))
    rx_idx = np.array([r.sample_index for r in reports], dtype=float)
    d = delay_samples_fn(np.array([f.tx_index for f in sent], dtype=float))
    if device_latency:  # devices add an unknown but fixed latency: find it from the frames themselves
        latency += device_offset(sent, reports, latency + d, st.sps)
    for f, dd in zip(sent, d, strict=True):
        if not rx_idx.size:
            break
        expect = f.tx_index + latency + dd
        j = int(np.argmin(np.abs(rx_idx - expect)))
        if abs(rx_idx[j] - expect) < 0.25 * f.symbols * st.sps:
            r = reports[j]
            f.found = True
            f.ok = bool(r.ok) and r.modcod == f.modcod
            f.ldpc_iterations = int(r.ldpc_iterations)
            f.bch_corrected = int(r.bch_corrected)
            f.esn0_est_db = float(r.esn0_est_db)
    # measure the frames that start inside [t0, t1) (each bin then holds the frames that start in it, as a
    # continuous run would) and that the stretch's tail carried whole to the receiver
    sym_s = 1.0 / c.symbol_rate_baud
    t_end = st.t_end_s
    return [f for f in sent if st.t0_s - 1e-12 <= f.time_s < st.t1_s - 1e-12
            and f.time_s + f.symbols * sym_s <= t_end - 1e-3]


def device_offset(sent: list[FrameRecord], reports: list, expect: np.ndarray, sps: int) -> int:
    """Samples between where a frame would be with no devices and where the receiver found it: the offset that
    lines up the most received frames (same MODCOD) with frames sent."""
    rx = [r for r in reports if r.modcod != "DUMMY"]
    if not rx or not sent:
        return 0
    starts = np.asarray(expect, dtype=float) + np.array([f.tx_index for f in sent], dtype=float)
    best, best_score = 0, -1
    for cand in {int(round(rx[0].sample_index - x)) for x in starts[:64]}:
        score = 0
        for r in rx:
            j = int(np.argmin(np.abs(starts + cand - r.sample_index)))
            if abs(starts[j] + cand - r.sample_index) < 0.25 * sent[j].symbols * sps and sent[j].modcod == r.modcod:
                score += 1
        if score > best_score or (score == best_score and abs(cand) < abs(best)):
            best, best_score = cand, score
    return best


def bin_frames(frames: list[FrameRecord], tl: budget.Timeline, stretches: list[tuple[float, float]], bin_s: float,
               acm: bool) -> list[dict[str, Any]]:
    """Per time bin: frames sent, errors (failed or never found), goodput, Es/N0 measured and predicted."""
    s = tl.scenario
    rows = []
    for t0, t1 in stretches:
        edges = np.arange(t0, t1 - 1e-9, bin_s)
        for b0 in edges:
            b1 = min(b0 + bin_s, t1)
            fr = [f for f in frames if b0 <= f.time_s < b1]
            if not fr:
                continue
            ok = [f for f in fr if f.ok]
            est = [f.esn0_est_db for f in fr if f.found and math.isfinite(f.esn0_est_db)]
            m = tl.rows_within(b0, b1, include_end=False)
            cnij = np.asarray(tl["cnij_db"][m], dtype=float)
            pred = float(np.nanmean(cnij)) if np.isfinite(cnij).any() else math.nan
            hop = np.asarray(tl["hop_loss_fraction"][m], dtype=float)
            hop_loss = float(np.nanmean(hop)) if np.isfinite(hop).any() else None
            names = sorted({f.modcod for f in fr}, key=lambda n: [x.name for x in modcods.table13()].index(n))
            row: dict[str, Any] = {
                "time_s": float(b0),
                "bin_s": float(b1 - b0),
                "modcod": "+".join(names),
                "frames": len(fr),
                "frame_errors": len(fr) - len(ok),
                "goodput_bps": sum(f.info_bits for f in ok) / (b1 - b0),
                "esn0_est_db": float(np.mean(est)) if est else math.nan,
                "predicted_esn0_db": pred,
                "predicted_goodput_bps": predicted_goodput_bps(s, pred, acm, names, hop_loss),
            }
            for j in tl.jammers:
                v = np.where(j.active[m], j.js_db[m], np.nan)
                row[f"js_db[{j.name}]"] = float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
            rows.append(row)
    return rows


def predicted_goodput_bps(s: Scenario, cnij_db: float, acm: bool, sent: list[str] | None = None,
                          hop_loss: float | None = None) -> float:
    """What the budget predicts: symbol rate x efficiency of the MODCOD that is sent (CCM) or that the ACM
    controller would choose at this C/(N+I+J), zero when it does not close (Table 13 is a QEF threshold). A hopping
    carrier loses the share hop_loss of the time (the Timeline's hop_loss_fraction: hops and parts of dwells where
    its MODCOD does not close); its CCM prediction is the MODCOD's rate over the rest."""
    c = s.carrier
    if hop_loss is not None and math.isfinite(hop_loss):
        keep = 1.0 - hop_loss
        if not acm:
            return c.symbol_rate_baud * modcods.get(c.modcod).efficiency(c.pilots) * keep
        return keep * predicted_goodput_bps(s, cnij_db, acm, sent)
    if not math.isfinite(cnij_db):
        return 0.0
    if acm:
        names, eta = modcods.best_closing_arrays(np.array([cnij_db]), s.run.acm_margin_db, c.pilots)
        if not names[0]:  # the most robust MODCOD is sent anyway; it closes or not
            m = min(modcods.table13(), key=lambda x: x.esn0_qef_db)
            return c.symbol_rate_baud * m.efficiency(c.pilots) if cnij_db >= m.esn0_qef_db else 0.0
        return c.symbol_rate_baud * float(eta[0])
    m = modcods.get(c.modcod)
    return c.symbol_rate_baud * m.efficiency(c.pilots) if cnij_db >= m.esn0_qef_db else 0.0


def clear_sky_goodput_bps(s: Scenario, tl: budget.Timeline, acm: bool) -> float:
    """Goodput the budget predicts with no weather beyond the median and no jammers, over the same visible times."""
    from dataclasses import replace

    clear = replace(s, propagation=replace(s.propagation, mode="clear_sky"), jammers=[], events=[])
    ctl = budget.compute_timeline(clear, duration_s=float(tl.time_s[-1]) if len(tl) > 1 else None)
    vis = np.asarray(tl["visible"], dtype=bool)
    e = np.asarray(ctl["esn0_db"], dtype=float)[vis]
    if not e.size:
        return 0.0
    return float(np.mean([predicted_goodput_bps(s, float(x), acm) for x in e[:: max(1, e.size // 2000)]]))


# ---------------------------------------------------------------------------------------------- outputs

FRAME_COLUMNS = ("time_s", "stretch", "sample_index", "modcod", "ok", "found", "ldpc_iterations", "bch_corrected",
                 "esn0_est_db", "info_bits")


def versions() -> dict[str, str]:
    out = {"linksim": __version__, "python": platform.python_version()}
    try:
        from gnuradio import gr

        out["gnuradio"] = gr.version()
    except ImportError:  # pragma: no cover
        out["gnuradio"] = "missing"
    for mod in ("numpy", "scipy", "numba", "itur", "sgp4"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - best effort
            out[mod] = "?"
    return out


def summarize(s: Scenario, state: RunState, status: str, seed: int, acm: bool, clear_bps: float,
              duration_s: float) -> dict[str, Any]:
    bins = state.bins
    frames_total = sum(b["frames"] for b in bins)
    errors = sum(b["frame_errors"] for b in bins)
    gp = [b["goodput_bps"] for b in bins]
    gp_mean = float(np.mean(gp)) if gp else math.nan  # no measurement: unknown, not zero
    bias = [b["esn0_est_db"] - b["predicted_esn0_db"] for b in bins
            if math.isfinite(b["esn0_est_db"]) and math.isfinite(b["predicted_esn0_db"])]
    avail = [b for b in bins if b["frames"] and b["frame_errors"] / b["frames"] <= AVAILABLE_FER]
    pred = [b["predicted_goodput_bps"] for b in bins]
    c = s.carrier
    return {
        "scenario": s.name,
        "status": status,
        "seed": seed,
        "acm": acm,
        "modcod": c.modcod,
        "symbol_rate_baud": c.symbol_rate_baud,
        "sps": s.channel.sps,
        "duration_s": duration_s,
        "bins": len(bins),
        "frames_total": frames_total,
        "frames_ok": frames_total - errors,
        "fer": errors / frames_total if frames_total else math.nan,
        "goodput_bps_mean": gp_mean,
        "predicted_goodput_bps_mean": float(np.mean(pred)) if pred else math.nan,
        "esn0_est_db_mean": _mean_finite([b["esn0_est_db"] for b in bins]),
        "predicted_esn0_db_mean": _mean_finite([b["predicted_esn0_db"] for b in bins]),
        "clear_sky_goodput_bps": clear_bps,
        "degradation_pct": 100.0 * (1.0 - gp_mean / clear_bps) if clear_bps > 0 and gp else math.nan,
        "availability_pct": 100.0 * len(avail) / len(bins) if bins else math.nan,
        "availability_fer_max": AVAILABLE_FER,
        "esn0_bias_db": float(np.mean(bias)) if bias else math.nan,
        "wall_time_s": state.wall_s,
        "simulated_s": state.sim_symbols / c.symbol_rate_baud,  # IQ simulated, lead-ins and tails included
        "realtime_factor": ((state.sim_symbols / c.symbol_rate_baud) / state.stretch_wall_s
                            if state.stretch_wall_s > 0 else 0.0),
        **({} if scenario_waveform(s).plain else {"waveform": scenario_waveform(s).describe()}),
        "jammers": [{"name": j.name, "type": j.type,
                     "js_db_mean": _mean_finite([b.get(f"js_db[{j.name}]", math.nan) for b in bins])}
                    for j in s.jammers],
        "versions": versions(),
        "notes": state.notes,
    }


def _mean_finite(v: list[float]) -> float | None:
    x = [a for a in v if a is not None and math.isfinite(a)]
    return float(np.mean(x)) if x else None
