"""Measurement of a run: every PLFRAME sent matched with what the receiver made of it, per-bin goodput, FER and
Es/N0 next to the budget's prediction, and the run's summary.

Frames are counted from the transmitter's log, so a frame the receiver never found is an error, not a gap. A frame
counts in each time bin pro rata of its duration inside it (`frames` and `frame_errors` of a bin are frame
equivalents, e.g. 30.05 frames in a 1 s bin where 30.05 fit), so the bins add up to the frames' payload and no bin
exceeds the link rate. A bin counts as available when its FER is at most AVAILABLE_FER. The prediction is the
budget's: the MODCOD sent (CCM) or the one ACM would choose at the Timeline's C/(N+I+J) delivers symbol rate x
efficiency when its Table 13 threshold is met, nothing otherwise (Table 13 is a quasi-error-free threshold).
"""

from __future__ import annotations

import bisect
import math
import platform
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..budget import timeline as budget
from ..dvbs2.params import frame_params
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
    share: float = 1.0  # the part of the frame (by duration) inside the measured span
    expect: float = math.nan  # receiver sample index where its PLHEADER should peak


@dataclass
class RunState:
    out_dir: Path
    bins: list[dict[str, Any]] = field(default_factory=list)  # frames go to frames.csv as they are settled
    wall_s: float = 0.0
    stretch_wall_s: float = 0.0  # wall time inside the stretches (flowgraphs and measurement)
    sim_symbols: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SlimReport:
    """What the accounting keeps of a receiver report (no payload)."""

    sample_index: int
    modcod: str
    ok: bool
    ldpc_iterations: int
    bch_corrected: int
    esn0_est_db: float


def slim(r: Any) -> SlimReport:
    return SlimReport(int(r.sample_index), str(r.modcod), bool(r.ok), int(r.ldpc_iterations), int(r.bch_corrected),
                      float(r.esn0_est_db))


MIN_DEVICE_REPORTS = 32  # reports needed before the devices' latency is estimated (all of them at the stretch's end)


class StretchAccount:
    """Frame accounting of one stretch while it runs: every PLFRAME sent (the transmitter's log) matched with what
    the receiver made of it, frames and time bins handed out as soon as nothing can change them any more.

    A frame is matched to the receiver report nearest to where its PLHEADER should peak (after the transmit
    filter's and channel's latency, the propagation delay's change and, through devices, their latency, found from
    the frames themselves), within a quarter of a frame; it is settled once the receiver has reported everything
    before that window (`reported_through`), or at the end. A frame counts in the bins it overlaps, pro rata of
    its duration inside each bin (a frame that straddles a bin boundary is shared), so no bin holds more than the
    link carries and the bins add up to the frames' payload in the span. A bin is complete once every frame that
    overlaps it is settled.

    Thread use: `add_reports` from the receiver's thread; everything else from one thread (the run's)."""

    def __init__(self, s: Scenario, st: Stretch, tl: budget.Timeline, bin_s: float, acm: bool,
                 delay_samples_fn: Callable[[np.ndarray], np.ndarray], latency: float | None = None,
                 device_latency: bool = False) -> None:
        self.s, self.st, self.tl, self.acm = s, st, tl, acm
        self.delay_fn = delay_samples_fn
        self.latency = latency
        self.device_latency = device_latency
        self._dev_offset: float | None = None if device_latency else 0.0
        edges = np.arange(st.t0_s, st.t1_s - 1e-9, bin_s)
        self.bin_edges = [(float(b0), float(min(b0 + bin_s, st.t1_s))) for b0 in edges]
        self._sym_s = 1.0 / s.carrier.symbol_rate_baud
        self._sent: list[FrameRecord] = []
        self._log_n = 0  # frame-log entries taken
        self.frames_logged = 0  # frames the transmitter made (take_log trims the log it reads)
        self._reports: list[SlimReport] = []
        self._rx_idx: list[float] = []
        self._lock = threading.Lock()
        self._watermark = -math.inf
        self.frozen = False
        self._settled = 0  # frames in _sent settled
        self._rows = 0  # frames in _sent handed out as rows
        self._bins = 0  # bins handed out
        self.cut_s: float | None = None  # where an interrupted stretch's measurement ends
        self.frames_out = 0  # frames handed out so far (this stretch)

    # ------------------------------------------------------------------------------------------ inputs
    def add_log(self, entries: list[Any]) -> None:
        """The transmitter's frame log so far, (first output sample, MODCOD) in order (the whole list each time:
        the entries not seen yet are taken); frames past the stretch's samples are never received."""
        c = self.s.carrier
        new = []
        for idx, name in entries[self._log_n :]:
            self._log_n += 1
            self.frames_logged += 1
            if int(idx) >= self.st.n_samples:
                continue
            pf = frame_params(str(name), c.frame, c.pilots)
            new.append(FrameRecord(self.st.t_base_s + int(idx) / self.st.fs, int(idx), str(name), pf.data_field_bits,
                                   pf.plframe_symbols, stretch=self.st.k))
        if new and self.latency is not None:
            self._expect(new)
        self._sent += new

    def take_log(self, log: list[Any]) -> None:
        """Like add_log, and removes what it took from `log` (the transmitter's list, which another thread appends
        to: a long stretch then keeps no more of it than the accounting needs)."""
        n = len(log)
        entries = log[:n]
        del log[:n]  # one operation on the list: entries the transmitter appends meanwhile stay
        self._log_n = 0
        self.add_log(entries)
        self._log_n = 0

    def set_latency(self, latency: float) -> None:
        self.latency = float(latency)
        self._expect(self._sent)

    def _expect(self, frames: list[FrameRecord]) -> None:
        d = self.delay_fn(np.array([f.tx_index for f in frames], dtype=float)) if frames else []
        for f, dd in zip(frames, d, strict=True):
            f.expect = f.tx_index + float(self.latency or 0.0) + float(dd) + (self._dev_offset or 0.0)

    def add_reports(self, batch: list[Any], reported_through: float) -> None:
        """Receiver reports (any objects with FrameReport's fields), and the input index before which it has
        reported every frame. Ignored once the accounting is frozen."""
        with self._lock:
            if self.frozen:
                return
            for r in batch:
                sr = r if isinstance(r, SlimReport) else slim(r)
                j = bisect.bisect_right(self._rx_idx, float(sr.sample_index))  # in order, but never trust it
                self._reports.insert(j, sr)
                self._rx_idx.insert(j, float(sr.sample_index))
            self._watermark = max(self._watermark, float(reported_through))

    def freeze(self) -> None:
        """Take no more reports (the stretch is being cut short: what the receiver emits while it is stopped
        must not count)."""
        with self._lock:
            self.frozen = True

    # ------------------------------------------------------------------------------------------ settling
    def settle(self, final: bool = False) -> tuple[list[FrameRecord], list[dict[str, Any]]]:
        """Match the frames that can be matched now; returns the frames (in order) and bins now complete.
        final: the stretch ran to its end (the receiver was flushed and the log is complete)."""
        with self._lock:
            w = math.inf if final else self._watermark
            reports, rx_idx = list(self._reports), list(self._rx_idx)
        if self.latency is None:
            return [], []
        if self._dev_offset is None:
            rx = [r for r in reports if r.modcod != "DUMMY"]
            if not final and len(rx) < MIN_DEVICE_REPORTS:
                return [], []
            exp = np.array([f.expect - f.tx_index for f in self._sent[:64]], dtype=float)
            self._dev_offset = float(device_offset(self._sent[:64], reports, exp, self.st.sps))
            for f in self._sent:
                f.expect += self._dev_offset
        sps = self.st.sps
        idx = np.asarray(rx_idx, dtype=float)
        i = self._settled
        while i < len(self._sent):
            f = self._sent[i]
            tol = 0.25 * f.symbols * sps
            if f.expect + tol >= w:
                break
            if idx.size:
                lo, hi = np.searchsorted(idx, [f.expect - tol, f.expect + tol])
                if hi > lo:
                    j = int(lo + np.argmin(np.abs(idx[lo:hi] - f.expect)))
                    if abs(idx[j] - f.expect) < tol:
                        r = reports[j]
                        f.found = True
                        f.ok = bool(r.ok) and r.modcod == f.modcod
                        f.ldpc_iterations = int(r.ldpc_iterations)
                        f.bch_corrected = int(r.bch_corrected)
                        f.esn0_est_db = float(r.esn0_est_db)
            i += 1
        self._settled = i
        if final:
            frontier = math.inf
        elif i < len(self._sent):
            frontier = self._sent[i].time_s
        else:  # every frame logged so far is settled: the next one starts where the last ends
            frontier = self._end(self._sent[-1]) if self._sent else self.st.t_base_s
        return self._hand_out(frontier, self.st.t1_s, final)

    def cut(self) -> tuple[list[FrameRecord], list[dict[str, Any]]]:
        """End the stretch's measurement early (interrupt, dead peer): freeze, settle what can be settled and
        measure up to the end of the last complete bin; `cut_s` says where that is."""
        self.freeze()
        rows, bins = self.settle(final=False)
        b = self._bins
        self.cut_s = self.bin_edges[b - 1][1] if b else self.st.t0_s
        more, _ = self._hand_out(self.cut_s, self.cut_s, True, bins_too=False)
        return rows + more, bins

    def _end(self, f: FrameRecord) -> float:
        return f.time_s + f.symbols * self._sym_s

    def _measured(self, f: FrameRecord, t1: float) -> float:
        """The share of frame f inside [t0, t1); 0 when it lies outside or the stretch's tail did not carry it
        whole to the receiver."""
        end = self._end(f)
        if end > self.st.t_end_s - 1e-3:
            return 0.0
        return max(0.0, min(end, t1) - max(f.time_s, self.st.t0_s)) / (end - f.time_s)

    def _hand_out(self, frontier: float, t1: float, final: bool,
                  bins_too: bool = True) -> tuple[list[FrameRecord], list[dict[str, Any]]]:
        bins = []
        while bins_too and self._bins < len(self.bin_edges) and self.bin_edges[self._bins][1] <= frontier + 1e-12:
            b0, b1 = self.bin_edges[self._bins]
            self._bins += 1
            row = self._bin_row(b0, b1)
            if row is not None:
                bins.append(row)
        done_to = self.bin_edges[self._bins - 1][1] if self._bins else self.st.t0_s
        rows = []
        i = self._rows
        while i < self._settled:
            f = self._sent[i]
            if not final and self._end(f) > done_to + 1e-12:
                break
            i += 1
            share = self._measured(f, t1)
            if share > 0.0:
                f.share = share
                rows.append(f)
        self._rows = i
        self.frames_out += len(rows)
        # forget what no later frame or bin needs
        keep = 0
        while keep < self._rows and self._end(self._sent[keep]) <= done_to:
            keep += 1
        if keep:
            del self._sent[:keep]
            self._settled -= keep
            self._rows -= keep
        if self._sent and self._settled < len(self._sent):
            f = self._sent[self._settled]
            floor = f.expect - 0.5 * f.symbols * self.st.sps
            with self._lock:
                n = int(np.searchsorted(np.asarray(self._rx_idx, dtype=float), floor))
                del self._reports[:n]
                del self._rx_idx[:n]
        return rows, bins

    def _bin_row(self, b0: float, b1: float) -> dict[str, Any] | None:
        """One bin from the settled frames that overlap it, each counted by the share of its duration inside."""
        tl = self.tl
        parts = []
        for f in self._sent[: self._settled]:
            end = self._end(f)
            if end <= b0 or f.time_s >= b1 or end > self.st.t_end_s - 1e-3:
                continue
            parts.append((f, (min(end, b1) - max(f.time_s, b0)) / (end - f.time_s)))
        if not parts:
            return None
        frames = sum(w for _, w in parts)
        errors = sum(w for f, w in parts if not f.ok)
        est = [(f.esn0_est_db, w) for f, w in parts if f.found and math.isfinite(f.esn0_est_db)]
        m = tl.rows_within(b0, b1, include_end=False)
        cnij = np.asarray(tl["cnij_db"][m], dtype=float)
        pred = float(np.nanmean(cnij)) if np.isfinite(cnij).any() else math.nan
        order = [x.name for x in modcods.all_modcods(vlsnr=True)]
        names = sorted({f.modcod for f, _ in parts}, key=order.index)
        row: dict[str, Any] = {
            "time_s": float(b0),
            "bin_s": float(b1 - b0),
            "modcod": "+".join(names),
            "frames": round(frames, 4),
            "frame_errors": round(errors, 4),
            "goodput_bps": sum(f.info_bits * w for f, w in parts if f.ok) / (b1 - b0),
            "esn0_est_db": (sum(e * w for e, w in est) / sum(w for _, w in est)) if est else math.nan,
            "predicted_esn0_db": pred,
            "predicted_goodput_bps": predicted_goodput_bps(self.s, pred, self.acm, names,
                                                           getattr(tl, "threshold_offsets_db", {})),
        }
        for j in tl.jammers:
            v = np.where(j.active[m], j.js_db[m], np.nan)
            row[f"js_db[{j.name}]"] = float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
        return row


def settle_stretch(s: Scenario, st: Stretch, tl: budget.Timeline, bin_s: float, acm: bool, frame_log: list[Any],
                   reports: list[Any], latency: float, delay_samples_fn: Callable[[np.ndarray], np.ndarray],
                   ) -> tuple[list[FrameRecord], list[dict[str, Any]]]:
    """The accounting of a stretch that has run to its end (frame log and receiver reports complete), at once: every
    frame matched and the bins of `bin_s` (as StretchAccount hands them out while a stretch runs)."""
    acct = StretchAccount(s, st, tl, bin_s, acm, delay_samples_fn, latency=latency)
    acct.add_log(list(frame_log))
    acct.add_reports(list(reports), math.inf)
    return acct.settle(final=True)


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


def predicted_goodput_bps(s: Scenario, cnij_db: float, acm: bool, sent: list[str] | None = None,
                          threshold_offsets_db: dict[str, float] | None = None) -> float:
    """What the budget predicts: symbol rate x efficiency of the MODCOD that is sent (CCM) or that the ACM
    controller would choose at this C/(N+I+J), zero when it does not close (Table 13 is a QEF threshold; with
    implementation losses the estimate does not see, raised by the Timeline's threshold offsets)."""
    c = s.carrier
    if not math.isfinite(cnij_db):
        return 0.0
    if threshold_offsets_db:
        from ..dvbs2.acm import ModcodController

        if acm:
            from .prepare import acm_allowed

            ctl = ModcodController("acm", margin_db=s.run.acm_margin_db, pilots=c.pilots, allowed=acm_allowed(s),
                                   threshold_offsets_db=threshold_offsets_db)
            m = ctl.best_for(cnij_db)
            ok = cnij_db >= m.esn0_qef_db + threshold_offsets_db.get(m.name, 0.0)
            return c.symbol_rate_baud * m.efficiency(c.pilots) if ok else 0.0
        m = modcods.get(c.modcod)
        ok = cnij_db >= m.esn0_qef_db + threshold_offsets_db.get(m.name, 0.0)
        return c.symbol_rate_baud * m.efficiency(c.pilots) if ok else 0.0
    if acm:
        vl = s.run.acm_vlsnr  # the ladder goes on into VL-SNR
        names, eta = modcods.best_closing_arrays(np.array([cnij_db]), s.run.acm_margin_db, c.pilots, vlsnr=vl)
        if not names[0]:  # the most robust MODCOD is sent anyway; it closes or not
            m = min(modcods.all_modcods(vl), key=lambda x: x.esn0_qef_db)
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
                 "esn0_est_db", "info_bits", "share")


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
    frames_total = round(sum(b["frames"] for b in bins), 4)  # frames pro rata of their time in the bins
    errors = round(sum(b["frame_errors"] for b in bins), 4)
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
        "frames_ok": round(frames_total - errors, 4),
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
        "jammers": [{"name": j.name, "type": j.type,
                     "js_db_mean": _mean_finite([b.get(f"js_db[{j.name}]", math.nan) for b in bins])}
                    for j in s.jammers],
        "versions": versions(),
        "notes": state.notes,
    }


def _mean_finite(v: list[float]) -> float | None:
    x = [a for a in v if a is not None and math.isfinite(a)]
    return float(np.mean(x)) if x else None
