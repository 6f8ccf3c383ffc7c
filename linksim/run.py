"""End-to-end runs: a scenario's Timeline drives DVB-S2 TX -> channel -> DVB-S2 RX in a GNU Radio flowgraph,
and the throughput the terminal keeps is measured next to what the budget predicted.

A run covers the scenario either continuously or as dwells (`every_s`, `dwell_s`): short stretches of IQ at sampled
scenario times. Each stretch starts `LEAD_IN_S` early so the receiver has locked when measurement begins; frames
are counted from the transmitter's log (every PLFRAME sent), so a frame the receiver never found is an error,
not a gap. Everything is on the sample clock: a stretch's sample n is at scenario time t0 - lead_in + n / fs.

The run directory (written as the run goes, so an interrupted run is a valid partial one):
    scenario.toml   the resolved scenario        timeline.csv  the budget
    frames.csv      one row per PLFRAME sent      measured.csv  one row per time bin
    summary.json    the headline numbers          report.html   and its figures (linksim.report)
"""

from __future__ import annotations

import csv
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import budget, modcods
from .dvbs2.acm import ModcodController
from .dvbs2.params import RX_LDPC_ITERATIONS, frame_params
from .errors import InputError
from .metrics import FRAME_COLUMNS, FrameRecord, RunState, account, bin_frames, clear_sky_goodput_bps, summarize
from .run_devices import Devices, lab_threads, open_devices, recorder
from .scenario import Scenario

LEAD_IN_S_MIN = 0.12  # receiver acquisition before a stretch's measurement starts
TAIL_S = 0.06  # extra time after a stretch so its last frames complete (at least 1.5 of the longest frame)
ACM_WINDOW = 4  # the ACM controller acts on the lowest of the last few Es/N0 reports (single-frame MER is noisy)


class AcmLoop:
    """The return path on the sample clock: the receiver's Es/N0 reports reach the transmitter's MODCOD choice
    `delay_s` of sample time after the frame they measured ended. The transmitter waits until the receiver has
    consumed the samples up to (now - delay), so the choice never depends on thread timing."""

    def __init__(self, controller: ModcodController, fs: float, sps: int, t_base_s: float, delay_s: float,
                 max_samples: int) -> None:
        self.controller = controller
        self.max_samples = max_samples
        self.fs = fs
        self.sps = sps
        self.t_base_s = t_base_s
        self.delay_s = delay_s
        self._rx_samples = 0
        self._done = False
        self._cv = threading.Condition()
        self._cache: tuple[int, str] | None = None

    def rx_progress(self, reports: list, samples_consumed: int) -> None:
        with self._cv:
            for r in reports:
                if r.modcod == "DUMMY":
                    continue
                pf = frame_params(r.modcod, r.frame, r.pilots)
                t_end = self.t_base_s + (r.sample_index + pf.plframe_symbols * self.sps) / self.fs
                self.controller.report(t_end, r.esn0_est_db)
            self._rx_samples = samples_consumed
            self._cv.notify_all()

    def finish(self) -> None:
        with self._cv:
            self._done = True
            self._cv.notify_all()

    def modcod_at(self, tx_index: int) -> str:
        if self._cache is not None and self._cache[0] == tx_index:
            return self._cache[1]
        t = self.t_base_s + tx_index / self.fs
        # the receiver never gets more than the stretch's samples: frames made past the end need no report
        need = min(int((t - self.delay_s - self.t_base_s) * self.fs), self.max_samples)
        with self._cv:
            deadline = time.monotonic() + 30.0
            while self._rx_samples < need and not self._done:
                if not self._cv.wait(timeout=max(deadline - time.monotonic(), 0.0)):
                    break
            name = self.controller.select(t)
        self._cache = (tx_index, name)
        return name


def plan_stretches(tl: budget.Timeline, duration_s: float, every_s: float | None,
                   dwell_s: float | None, start_s: float = 0.0) -> list[tuple[float, float]]:
    """[(t0, t1)] scenario-time stretches to simulate: all of it, or dwells; stretches with no link are left out."""
    if (every_s is None) != (dwell_s is None):
        raise InputError("--every and --dwell go together")
    if every_s is None:
        spans = [(start_s, start_s + duration_s)]
    else:
        assert dwell_s is not None
        if every_s <= 0 or dwell_s <= 0:
            raise InputError("--every and --dwell must be positive")
        if dwell_s > every_s:
            raise InputError(f"--dwell {dwell_s:g} s is longer than --every {every_s:g} s")
        starts = start_s + np.arange(0.0, duration_s, every_s)
        spans = [(float(t), float(min(t + dwell_s, start_s + duration_s))) for t in starts]
    vis = tl["visible"]
    t = tl.time_s
    out = []
    for t0, t1 in spans:
        m = (t >= t0 - 1e-9) & (t <= t1 + 1e-9)
        if not m.any():
            m = np.zeros_like(vis)
            m[int(np.argmin(np.abs(t - t0)))] = True
        if vis[m].any():
            out.append((t0, t1))
    return out


def _return_delay_s(s: Scenario, tl: budget.Timeline, acm_allowed_max_symbols: int) -> tuple[float, str | None]:
    """The ACM return-path delay (sample time): the scenario's, or twice the one-way delay; never shorter than
    two of the longest frames (the receiver reports a frame only once it has all of it)."""
    d = s.run.return_delay_s
    if d is None:
        d = 2.0 * float(np.nanmean(tl["delay_s"]))
    floor = 2.0 * acm_allowed_max_symbols / s.carrier.symbol_rate_baud
    if d < floor:
        return floor, f"ACM return delay raised from {d * 1e3:.1f} ms to {floor * 1e3:.1f} ms (two frames)"
    return d, None


@dataclass(frozen=True)
class Stretch:
    """One stretch of IQ, as both halves of a (possibly split) run agree on it. Sample n is at scenario time
    t_base_s + n / fs; measurement covers [t0_s, t1_s]."""

    k: int
    t0_s: float
    t1_s: float
    t_base_s: float
    fs: float
    sps: int
    n_samples: int
    acm: bool
    return_delay_s: float
    initial_modcod: str
    channel_seed: int
    payload_seed: int

    @property
    def t_end_s(self) -> float:
        """Scenario time just after the stretch's last sample (the tail included)."""
        return self.t_base_s + self.n_samples / self.fs


def plan_stretch(s: Scenario, tl: budget.Timeline, k: int, t0: float, t1: float, acm: bool,
                 seed: int) -> tuple[Stretch, str | None]:
    c = s.carrier
    sps = s.channel.sps
    fs = c.symbol_rate_baud * sps
    allowed = _acm_allowed(s)
    longest = max(frame_params(m, c.frame, c.pilots).plframe_symbols for m in allowed)
    own = frame_params(c.modcod, c.frame, c.pilots).plframe_symbols
    lead = max(LEAD_IN_S_MIN, 4.0 * (longest if acm else own) / c.symbol_rate_baud)
    t_base = t0 - lead
    note = None
    if acm:
        # the transmitter starts with the MODCOD the budget says closes at t_base, as a link that was already up
        e0 = float(np.interp(t_base, tl.time_s, np.nan_to_num(tl["cnij_db"], nan=-30.0)))
        first = _controller(s, 0.0).best_for(e0).name
        delay, note = _return_delay_s(s, tl, longest)
    else:
        first, delay = c.modcod, 0.0
    tail = max(TAIL_S, 1.5 * (longest if acm else own) / c.symbol_rate_baud)
    st = Stretch(k, t0, t1, t_base, fs, sps, int(round((t1 - t_base + tail) * fs)), acm, delay, first,
                 seed * 7919 + k, seed * 104729 + k)
    return st, note


def _acm_allowed(s: Scenario) -> list[str]:
    c = s.carrier
    return [m.name for m in modcods.table13() if not (c.frame == "short" and m.name.endswith("9/10"))]


def _controller(s: Scenario, return_delay_s: float, initial: str | None = None) -> ModcodController:
    return ModcodController("acm", margin_db=s.run.acm_margin_db, hysteresis_db=s.run.acm_hysteresis_db,
                            return_delay_s=return_delay_s, pilots=s.carrier.pilots, allowed=_acm_allowed(s),
                            initial_modcod=initial, window=ACM_WINDOW)


def acm_loop(s: Scenario, st: Stretch) -> AcmLoop:
    if st.acm:
        ctl = _controller(s, st.return_delay_s, st.initial_modcod)
    else:
        ctl = ModcodController("ccm", modcod=s.carrier.modcod, pilots=s.carrier.pilots)
    return AcmLoop(ctl, st.fs, st.sps, st.t_base_s, st.return_delay_s, st.n_samples)


def transmit_half(s: Scenario, tl: budget.Timeline, st: Stretch, loop: AcmLoop) -> tuple[Any, Any, Any]:
    """TS source -> DVB-S2 TX -> channel -> head(n_samples): (hier block, its last block, the channel)."""
    from gnuradio import blocks, gr

    from .gr.buffers import large_output_buffer
    from .gr.link import transmit_chain
    from .link_channel import channel_from_timeline

    c = s.carrier
    ch = channel_from_timeline(tl, st.t_base_s, st.t_end_s, st.sps, st.channel_seed)
    txc = transmit_chain(st.initial_modcod, c.frame, c.pilots, c.rolloff, st.sps, 0, st.payload_seed, ch)
    if st.acm:
        txc.tx.modcod_source = loop.modcod_at
    head = blocks.head(gr.sizeof_gr_complex, st.n_samples)
    large_output_buffer(head)
    return txc, head, ch


def receive_half(s: Scenario, st: Stretch, max_iter: int, on_reports: Callable[[list, int], None]) -> Any:
    from .gr.link import receive_chain

    rxc = receive_chain(st.sps, s.carrier.rolloff, 0, max_iter)
    rxc.rx.report_sink = on_reports
    return rxc


def tx_latency_samples(txc: Any, ch: Any) -> int:
    """Samples from a PLFRAME's first TX output sample to its PLHEADER peak at the receiver (no devices)."""
    return int(txc.tx._tx.delay_samples + ch.latency_samples)  # noqa: SLF001 - the TX filter's pulse-peak delay


def run_flowgraph(tb: Any, stop: threading.Event, on_end: Callable[[], None] | None = None) -> None:
    done = threading.Event()

    def waiter() -> None:  # tb.wait() cannot time out: wait in a thread, poll the stop event here
        tb.wait()
        done.set()

    # Ctrl-C can land anywhere here, even inside tb.start(): whatever happens, the flowgraph is stopped and joined
    # (a top block left running keeps the process from exiting)
    try:
        tb.start()
        threading.Thread(target=waiter, daemon=True).start()
        while not done.wait(0.2):
            if stop.is_set():
                break
    finally:
        try:
            if on_end is not None:
                on_end()
        finally:
            tb.stop()
            tb.wait()


def _run_stretch(s: Scenario, tl: budget.Timeline, k: int, t0: float, t1: float, acm: bool, seed: int,
                 max_iter: int, state: RunState, stop: threading.Event,
                 devices: Devices | None = None, record: Path | None = None) -> list[FrameRecord]:
    """One stretch in one process: loopback, or through devices; optionally recording the RX input as SigMF."""
    from gnuradio import blocks, gr

    st, note = plan_stretch(s, tl, k, t0, t1, acm, seed)
    if note and note not in state.notes:
        state.notes.append(note)
    loop = acm_loop(s, st)
    tb = gr.top_block("linksim_run")
    txc, head, ch = transmit_half(s, tl, st, loop)
    reports: list = []

    def on_reports(batch: list, consumed: int) -> None:
        reports.extend(batch)
        loop.rx_progress(batch, consumed)

    rxc = receive_half(s, st, max_iter, on_reports)
    sink = blocks.null_sink(gr.sizeof_char)
    rec = None
    if devices is None:
        tb.connect(txc, head, rxc, sink)
        if record is not None:
            rec = recorder(record, s, st)
            tb.connect(head, rec)
    else:
        dev_tx, dev_rx = open_devices(devices, st.fs)
        scale = blocks.multiply_const_cc(devices.tx_scale)
        head_rx = blocks.head(gr.sizeof_gr_complex, st.n_samples)
        tb.connect(txc, head, scale, dev_tx)
        tb.connect(dev_rx, head_rx, rxc, sink)
        if record is not None:
            rec = recorder(record, s, st, dev_rx, dev_tx)
            tb.connect(head_rx, rec)
    lab_stop = threading.Event()
    lab = lab_threads(devices, tl, st, lab_stop) if devices is not None else []
    for th in lab:
        th.start()

    def on_end() -> None:
        loop.finish()
        lab_stop.set()
        for th in lab:
            th.join(timeout=10.0)

    run_flowgraph(tb, stop, on_end)
    if rec is not None:
        rec.finalize({"frames_sent": len(txc.tx.frame_log)})
        state.notes.append(f"receiver input of stretch {st.k} recorded to {rec.base}.sigmf-meta")
    if devices is not None:
        devices.metadata = [dev_tx.metadata(), dev_rx.metadata()]
    state.sim_symbols += st.n_samples / st.sps
    return account(s, st, txc.tx.frame_log, reports, tx_latency_samples(txc, ch),
                   lambda idx: _delay_samples(ch, idx, st.fs, st.t_base_s), device_latency=devices is not None)


def _delay_samples(ch: Any, tx_idx: np.ndarray, fs: float, t_base: float) -> np.ndarray:
    """The channel's propagation delay (samples) at each frame's start (the change of delay over a stretch)."""
    try:
        d_s = ch._delay(t_base + tx_idx / fs)  # noqa: SLF001 - the channel's own interpolated delay column
    except Exception:  # noqa: BLE001
        return np.zeros_like(tx_idx)
    return np.asarray(d_s, dtype=float) * fs


def _write_frames(path: Path, frames: list[FrameRecord], header: bool) -> None:
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(FRAME_COLUMNS)
        for fr in frames:
            w.writerow([f"{fr.time_s:.6f}", fr.stretch, fr.tx_index, fr.modcod, int(fr.ok), int(fr.found),
                        fr.ldpc_iterations, fr.bch_corrected, _num(fr.esn0_est_db), fr.info_bits])


def _num(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.4f}"


def _write_measured(path: Path, rows: list[dict[str, Any]], jammer_names: list[str]) -> None:
    cols = ["time_s", "bin_s", "modcod", "frames", "frame_errors", "goodput_bps", "esn0_est_db",
            "predicted_esn0_db", "predicted_goodput_bps", *[f"js_db[{n}]" for n in jammer_names]]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([_num(r[c]) if isinstance(r[c], float) else r[c] for c in cols])


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def check_span(s: Scenario, start_s: float, duration_s: float | None) -> float:
    """The duration of a run from start_s (the rest of the scenario if None); InputError if the span does not lie
    inside the scenario."""
    if start_s < 0 or start_s >= s.meta.duration_s:
        raise InputError(f"start {start_s:g} s is outside the scenario (0 to {s.meta.duration_s:g} s)")
    dur = float(duration_s if duration_s is not None else s.meta.duration_s - start_s)
    if dur <= 0:
        raise InputError(f"duration must be positive, got {dur:g} s")
    if start_s + dur > s.meta.duration_s + 1e-9:
        raise InputError(f"start {start_s:g} s + duration {dur:g} s goes past the scenario's "
                         f"{s.meta.duration_s:g} s")
    return dur


def run_scenario(scenario: Scenario, out_dir: Path, *, duration_s: float | None = None, seed: int | None = None,
                 acm: bool | None = None, progress: Callable[[str], None] | None = None,
                 every_s: float | None = None, dwell_s: float | None = None, bin_s: float | None = None,
                 max_iter: int = RX_LDPC_ITERATIONS, report: bool = True, stop: threading.Event | None = None,
                 devices: Devices | None = None, start_s: float = 0.0,
                 record: Path | None = None) -> dict[str, Any]:
    """Run a scenario end to end in one process (loopback, or through devices) and write its run directory;
    returns the summary. KeyboardInterrupt (or `stop` set) ends the run after writing what was measured
    (status "partial") and re-raises KeyboardInterrupt."""
    s = scenario
    dur = check_span(s, start_s, duration_s)
    seed_v = int(seed if seed is not None else s.propagation.seed)
    acm_v = bool(s.run.acm if acm is None else acm)
    stop_ev = stop or threading.Event()
    tl = budget.compute_timeline(s, duration_s=max(start_s + dur, s.meta.step_s))
    stretches = plan_stretches(tl, dur, every_s, dwell_s, start_s)

    def one_stretch(k: int, t0: float, t1: float, state: RunState) -> list[FrameRecord]:
        return _run_stretch(s, tl, k, t0, t1, acm_v, seed_v, max_iter, state, stop_ev, devices, record)

    extra: dict[str, Any] = {"mode": "loopback" if devices is None else "hardware"}
    return write_run(s, Path(out_dir), tl, stretches, dur, seed_v, acm_v, one_stretch, report=report,
                     progress=progress, bin_s=bin_s, dwell_s=dwell_s, stop=stop_ev, extra=extra, devices=devices)


def write_run(s: Scenario, out: Path, tl: budget.Timeline, stretches: list[tuple[float, float]], dur: float,
              seed: int, acm: bool, one_stretch: Callable[[int, float, float, RunState], list[FrameRecord]], *,
              report: bool = True, progress: Callable[[str], None] | None = None, bin_s: float | None = None,
              dwell_s: float | None = None, stop: threading.Event | None = None,
              extra: dict[str, Any] | None = None, devices: Devices | None = None) -> dict[str, Any]:
    """Run the stretches with `one_stretch` and keep the run directory current after each one."""
    import tomli_w

    out.mkdir(parents=True, exist_ok=True)
    bin_v = float(bin_s or s.run.bin_s or max(s.meta.step_s, 0.0) or 1.0)
    bin_v = min(bin_v, dur) if dwell_s is None else min(bin_v, dwell_s)
    say = progress or (lambda msg: None)
    stop_ev = stop or threading.Event()
    say(f"{s.name}: writing {out} ({len(stretches)} stretch{'es' if len(stretches) != 1 else ''})")
    (out / "scenario.toml").write_text(tomli_w.dumps(s.resolved()))
    tl.to_csv(out / "timeline.csv")
    clear = clear_sky_goodput_bps(s, tl, acm)
    state = RunState(out, notes=list(tl.notes))
    if not stretches:
        state.notes.append("the satellite is below the terminal's minimum elevation for the whole run")
    frames_csv = out / "frames.csv"
    frames_csv.unlink(missing_ok=True)
    _write_frames(frames_csv, [], header=True)
    jam_names = [j.name for j in s.jammers]
    _write_measured(out / "measured.csv", [], jam_names)
    status = "partial"
    t_start = time.monotonic()
    interrupted = False

    def write_summary(st: str) -> dict[str, Any]:
        state.wall_s = time.monotonic() - t_start
        sm = summarize(s, state, st, seed, acm, clear, dur)
        sm.update(extra or {})
        if devices is not None:
            sm["devices"] = devices.metadata
            if devices.attenuator is not None or devices.rotator is not None:
                sm["lab"] = devices.lab
        (out / "summary.json").write_text(json.dumps(_json_safe(sm), indent=2))
        return sm

    write_summary("partial")
    try:
        for k, (t0, t1) in enumerate(stretches):
            if stop_ev.is_set():
                interrupted = True
                break
            t_k = time.monotonic()
            fr = one_stretch(k, t0, t1, state)
            state.stretch_wall_s += time.monotonic() - t_k
            if stop_ev.is_set():
                interrupted = True
                break
            _write_frames(frames_csv, fr, header=False)
            state.bins.extend(bin_frames(fr, tl, [(t0, t1)], bin_v, acm))
            _write_measured(out / "measured.csv", state.bins, jam_names)
            sm = write_summary("partial")
            fer = sm["fer"] if math.isfinite(sm["fer"]) else 0.0
            gp = sm["goodput_bps_mean"] if math.isfinite(sm["goodput_bps_mean"]) else 0.0
            say(f"stretch {k + 1}/{len(stretches)} t={t0:g}-{t1:g} s: {len(fr)} frames, FER {fer:.3f}, "
                f"goodput {gp / 1e3:.1f} kb/s")
        else:
            status = "complete"
    except KeyboardInterrupt:
        interrupted = True
    if interrupted:
        state.notes.append("run interrupted: partial results")
    sm = write_summary(status)
    if report:
        from .report import build_report

        build_report(out)
    if interrupted:
        raise KeyboardInterrupt
    return sm


__all__ = ["Devices", "run_scenario", "write_run"]
