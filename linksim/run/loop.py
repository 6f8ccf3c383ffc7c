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
from pathlib import Path
from typing import Any

from ..budget.timeline import Timeline
from ..dvbs2.acm import ModcodController
from ..dvbs2.params import RX_LDPC_ITERATIONS, frame_params
from ..scenario.model import Scenario
from .devices import Devices, lab_threads, open_devices, recorder
from .metrics import FRAME_COLUMNS, FrameRecord, RunState, account, bin_frames, clear_sky_goodput_bps, summarize
from .prepare import RunPlan, Stretch, acm_controller, prepare_run


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


def acm_loop(s: Scenario, st: Stretch) -> AcmLoop:
    if st.acm:
        ctl = acm_controller(s, st.return_delay_s, st.initial_modcod)
    else:
        ctl = ModcodController("ccm", modcod=s.carrier.modcod, pilots=s.carrier.pilots)
    return AcmLoop(ctl, st.fs, st.sps, st.t_base_s, st.return_delay_s, st.n_samples)


def transmit_half(s: Scenario, tl: Timeline, st: Stretch, loop: AcmLoop) -> tuple[Any, Any, Any]:
    """TS source -> DVB-S2 TX -> channel -> head(n_samples): (hier block, its last block, the channel)."""
    from gnuradio import blocks, gr

    from ..channel.from_budget import channel_from_timeline
    from ..gr.buffers import large_output_buffer
    from ..gr.link import transmit_chain

    c = s.carrier
    ch = channel_from_timeline(tl, st.t_base_s, st.t_end_s, st.sps, st.channel_seed)
    txc = transmit_chain(st.initial_modcod, c.frame, c.pilots, c.rolloff, st.sps, 0, st.payload_seed, ch)
    if st.acm:
        txc.tx.modcod_source = loop.modcod_at
    head = blocks.head(gr.sizeof_gr_complex, st.n_samples)
    large_output_buffer(head)
    return txc, head, ch


def receive_half(s: Scenario, st: Stretch, max_iter: int, on_reports: Callable[[list, int], None]) -> Any:
    from ..gr.link import receive_chain

    # frames decode on a worker thread; the front end runs one block ahead too unless ACM waits on the reports
    # (with the pipeline they come one block later, and the transmitter would wait for them)
    rxc = receive_chain(st.sps, s.carrier.rolloff, 0, max_iter, decode_threads=1, pipeline=not st.acm)
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


def _run_stretch(plan: RunPlan, k: int, max_iter: int, state: RunState, stop: threading.Event,
                 devices: Devices | None = None, record: Path | None = None) -> list[FrameRecord]:
    """One stretch in one process: loopback, or through devices; optionally recording the RX input as SigMF."""
    from gnuradio import blocks, gr

    s, tl = plan.scenario, plan.timeline
    st, note = plan.stretch(k)
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
    return account(s, st, txc.tx.frame_log, reports, tx_latency_samples(txc, ch), plan.frame_delay_samples(st),
                   device_latency=devices is not None)


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


def run_scenario(scenario: Scenario, out_dir: Path, *, duration_s: float | None = None, seed: int | None = None,
                 acm: bool | None = None, progress: Callable[[str], None] | None = None,
                 every_s: float | None = None, dwell_s: float | None = None, bin_s: float | None = None,
                 max_iter: int = RX_LDPC_ITERATIONS, report: bool = True, stop: threading.Event | None = None,
                 devices: Devices | None = None, start_s: float = 0.0,
                 record: Path | None = None) -> dict[str, Any]:
    """Run a scenario end to end in one process (loopback, or through devices) and write its run directory;
    returns the summary. KeyboardInterrupt (or `stop` set) ends the run after writing what was measured
    (status "partial") and re-raises KeyboardInterrupt."""
    plan = prepare_run(scenario, duration_s=duration_s, start_s=start_s, every_s=every_s, dwell_s=dwell_s,
                       seed=seed, acm=acm)
    stop_ev = stop or threading.Event()

    def one_stretch(k: int, state: RunState) -> list[FrameRecord]:
        return _run_stretch(plan, k, max_iter, state, stop_ev, devices, record)

    extra: dict[str, Any] = {"mode": "loopback" if devices is None else "hardware"}
    return write_run(plan, Path(out_dir), one_stretch, report=report, progress=progress, bin_s=bin_s, stop=stop_ev,
                     extra=extra, devices=devices)


def write_run(plan: RunPlan, out: Path, one_stretch: Callable[[int, RunState], list[FrameRecord]], *,
              report: bool = True, progress: Callable[[str], None] | None = None, bin_s: float | None = None,
              stop: threading.Event | None = None, extra: dict[str, Any] | None = None,
              devices: Devices | None = None) -> dict[str, Any]:
    """Run the stretches with `one_stretch` and keep the run directory current after each one."""
    import tomli_w

    s, tl, stretches, dur, seed, acm = plan.scenario, plan.timeline, plan.spans, plan.duration_s, plan.seed, plan.acm
    out.mkdir(parents=True, exist_ok=True)
    bin_v = float(bin_s or s.run.bin_s or max(s.meta.step_s, 0.0) or 1.0)
    bin_v = min(bin_v, dur) if plan.dwell_s is None else min(bin_v, plan.dwell_s)
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
            fr = one_stretch(k, state)
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
        from ..report.html import build_report

        build_report(out)
    if interrupted:
        raise KeyboardInterrupt
    return sm


__all__ = ["Devices", "run_scenario", "write_run"]
