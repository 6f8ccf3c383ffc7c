"""End-to-end runs: a scenario's Timeline drives DVB-S2 TX -> channel -> DVB-S2 RX in a GNU Radio flowgraph,
and the throughput the terminal keeps is measured next to what the budget predicted.

A run covers the scenario either continuously or as dwells (`every_s`, `dwell_s`): short stretches of IQ at sampled
scenario times. Each stretch starts `LEAD_IN_S` early so the receiver has locked when measurement begins; frames
are counted from the transmitter's log (every PLFRAME sent), so a frame the receiver never found is an error,
not a gap. Everything is on the sample clock: a stretch's sample n is at scenario time t0 - lead_in + n / fs.

The run directory is written as the run goes: frames and time bins are appended as soon as nothing can change them
(`metrics.StretchAccount`), the summary is replaced (atomically) after each; so a run that is interrupted, even in
the middle of a long stretch, leaves a valid partial run directory with everything measured up to then:
    scenario.toml   the resolved scenario        timeline.csv  the budget
    frames.csv      one row per PLFRAME sent      measured.csv  one row per time bin
    summary.json    the headline numbers          report.html   and its figures (linksim.report)

A stretch's flowgraph runs under `flowgraph.FlowgraphRun`: an exception in any block, a lab-gear thread or the
accounting ends the run with that one error (after writing what was measured), never a hang; a receiver that gets
no samples for `link_timeout_s` (a device or peer gone) is a DeviceError.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..budget.timeline import Timeline
from ..dvbs2.acm import ModcodController
from ..dvbs2.params import RX_LDPC_ITERATIONS, frame_params
from ..dvbs2.waveform import scenario_waveform
from ..errors import DeviceError, InputError, LinksimError
from ..scenario.model import Scenario
from .devices import Devices, lab_threads, open_devices, recorder
from .flowgraph import Fault, FlowgraphRun
from .metrics import FRAME_COLUMNS, FrameRecord, RunState, StretchAccount, clear_sky_goodput_bps, summarize
from .prepare import DEFAULT_LINK_TIMEOUT_S, RunPlan, Stretch, acm_controller, hop_origin, prepare_run, uses_vlsnr
from .progress import Progress, eta_s, fmt_duration
from .safety import ack_stop

RUN_FILES = ("scenario.toml", "timeline.csv", "frames.csv", "measured.csv", "summary.json", "report.html",
             "error.txt")


class AcmLoop:
    """The return path on the sample clock: the receiver's Es/N0 reports reach the transmitter's MODCOD choice
    `delay_s` of sample time after the frame they measured ended.

    Deterministic whatever the threads do: before choosing the MODCOD of the frame that starts at TX sample i,
    the transmitter waits until the receiver has processed its input up to i - delay (rounded down to the
    receiver's block), and the controller gets exactly the reports the receiver had made by then (each report
    says after how many input samples it was made; the receiver works on fixed blocks). CCM never waits."""

    def __init__(self, controller: ModcodController, fs: float, sps: int, t_base_s: float, delay_s: float,
                 max_samples: int, block_samples: int = 1, timeout_s: float = DEFAULT_LINK_TIMEOUT_S) -> None:
        self.controller = controller
        self.max_samples = max_samples
        self.fs = fs
        self.sps = sps
        self.t_base_s = t_base_s
        self.delay_s = delay_s
        self.block = max(1, int(block_samples))
        self.timeout_s = timeout_s
        self._rx_samples = 0
        self._pending: list[Any] = []  # reports not given to the controller yet, in the receiver's order
        self._done = False
        self._cv = threading.Condition()
        self._cache: tuple[int, str] | None = None

    def rx_progress(self, reports: list, samples_processed: int) -> None:
        """Reports from the receiver and the input samples it has processed (whole blocks)."""
        with self._cv:
            self._pending += [r for r in reports if r.modcod != "DUMMY"]
            self._rx_samples = max(self._rx_samples, int(samples_processed))
            self._cv.notify_all()

    def finish(self) -> None:
        """The receiver is done (or the run stops): no more waiting."""
        with self._cv:
            self._done = True
            self._cv.notify_all()

    @property
    def done(self) -> bool:
        return self._done

    def modcod_at(self, tx_index: int) -> str:
        if self._cache is not None and self._cache[0] == tx_index:
            return self._cache[1]
        t = self.t_base_s + tx_index / self.fs
        if self.controller.mode != "acm":
            name = self.controller.select(t)
            self._cache = (tx_index, name)
            return name
        # the receiver never gets more than the stretch's samples, and processes whole blocks: frames made past
        # that need no report
        reach = min(tx_index, self.max_samples) // self.block * self.block
        need = min(int((t - self.delay_s - self.t_base_s) * self.fs), reach)
        with self._cv:
            deadline = time.monotonic() + self.timeout_s
            while self._rx_samples < need and not self._done:
                if not self._cv.wait(timeout=max(min(deadline - time.monotonic(), 0.5), 0.0)):
                    if time.monotonic() > deadline:
                        raise DeviceError(f"ACM return path: no receiver progress past sample {self._rx_samples} "
                                          f"(waiting for {need}) within {self.timeout_s:g} s")
            take = 0
            while take < len(self._pending) and int(getattr(self._pending[take], "emitted_after", 0)) <= need:
                take += 1
            batch, self._pending = self._pending[:take], self._pending[take:]
        for r in batch:
            pf = frame_params(r.modcod, r.frame, r.pilots)
            t_end = self.t_base_s + (r.sample_index + pf.plframe_symbols * self.sps) / self.fs
            self.controller.report(t_end, r.esn0_est_db)
        name = self.controller.select(t)
        self._cache = (tx_index, name)
        return name


def acm_loop(s: Scenario, st: Stretch, timeout_s: float = DEFAULT_LINK_TIMEOUT_S) -> AcmLoop:
    from ..dvbs2.rx import Receiver

    if st.acm:
        ctl = acm_controller(s, st.return_delay_s, st.initial_modcod, st.threshold_offsets_db)
    else:
        ctl = ModcodController("ccm", modcod=s.carrier.modcod, pilots=s.carrier.pilots)
    block = max(1, int(round(Receiver.BLOCK_SYMBOLS * st.sps)))
    return AcmLoop(ctl, st.fs, st.sps, st.t_base_s, st.return_delay_s, st.n_samples, block, timeout_s)


def transmit_half(s: Scenario, tl: Timeline, st: Stretch, loop: AcmLoop) -> tuple[Any, Any, Any]:
    """TS source -> DVB-S2 TX -> channel -> head(n_samples): (hier block, its last block, the channel). With a
    terminal array the channel has one output per element, and the last block is a list of heads, one each."""
    from gnuradio import blocks, gr

    from ..channel.from_budget import link_channels, ring_geometry
    from ..gr.buffers import large_output_buffer
    from ..gr.link import transmit_chain

    c = s.carrier
    wf = scenario_waveform(s)  # spreading and hopping: st.sps is then chips x samples per chip x hop band
    if s.terminal.array is not None:  # one stream per element (no bent pipe stages; the scenario refuses a
        from ..channel.array import array_channel_from_timeline  # spread or hopped carrier with an array)

        ch: Any = array_channel_from_timeline(tl, st.t_base_s, st.t_end_s, st.sps, st.channel_seed)
    else:
        ch = link_channels(tl, st.t_base_s, st.t_end_s, st.sps, st.channel_seed)  # a bent pipe's stages included
    txc = transmit_chain(st.initial_modcod, c.frame, c.pilots, c.rolloff, wf.sps, 0, st.payload_seed, ch,
                         ring_geometry(tl, st.t_base_s, st.t_end_s), waveform=wf, hop_origin=hop_origin(s, st))
    if st.acm:
        txc.tx.modcod_source = loop.modcod_at
    if s.terminal.array is not None:
        heads = [blocks.head(gr.sizeof_gr_complex, st.n_samples) for _ in range(s.terminal.array.elements)]
        for h in heads:
            large_output_buffer(h)
        return txc, heads, ch
    head = blocks.head(gr.sizeof_gr_complex, st.n_samples)
    large_output_buffer(head)
    return txc, head, ch


def receive_half(s: Scenario, st: Stretch, max_iter: int, on_reports: Callable[[list, int], None],
                 hop_offset: Callable[[Any], Any] | float = 0.0, low_latency: bool = False) -> Any:
    """The receive chain of stretch st; hop_offset: the channel's lag behind the hop clock
    (RunPlan.hop_offset_samples); low_latency: a real-time link carrying applications (see below)."""
    from ..gr.link import receive_chain

    # CCM/VCM: frames decode on a worker thread and the front end runs blocks ahead (same reports, on both
    # cores). ACM keeps every frame in the receiver's own thread: its return path takes the reports emitted after
    # each processed block (Report.emitted_after) the moment that block is processed, which a frame still decoding
    # on a worker would miss. A low-latency link (IP traffic in real time) also decodes in the receiver's thread,
    # each frame as soon as the block holding its end is in, on blocks of about LOW_LATENCY_BLOCK_S: the
    # parallel receiver would hold each frame up to four 8192-symbol blocks (82 ms each at 100 kbaud) longer,
    # which every packet's round trip would show
    acm = st.acm
    wf = scenario_waveform(s)
    serial = acm or low_latency
    block = low_latency_block_symbols(s.carrier.symbol_rate_baud) if low_latency else 0
    rxc = receive_chain(wf.sps if not wf.plain else st.sps, s.carrier.rolloff, 0, max_iter, mitigation=s.mitigation,
                        array=s.terminal.array, vlsnr=uses_vlsnr(s), waveform=wf, hop_offset_samples=hop_offset,
                        hop_origin=hop_origin(s, st), decode_threads=0 if serial else 1, pipeline=not serial,
                        block_symbols=block)
    rxc.rx.report_sink = on_reports
    return rxc


LOW_LATENCY_BLOCK_S = 0.01  # a real-time receiver's block: 10 ms of symbols (MIN_BLOCK_SYMBOLS at least)


def low_latency_block_symbols(symbol_rate_baud: float) -> int:
    """The receiver's block for a real-time link: LOW_LATENCY_BLOCK_S of symbols, within [MIN_BLOCK_SYMBOLS,
    Receiver.BLOCK_SYMBOLS], a multiple of 256."""
    from ..dvbs2.rx import MIN_BLOCK_SYMBOLS, Receiver

    n = int(round(symbol_rate_baud * LOW_LATENCY_BLOCK_S / 256)) * 256
    return min(max(n, MIN_BLOCK_SYMBOLS), Receiver.BLOCK_SYMBOLS)


def tx_latency_samples(txc: Any, ch: Any) -> int:
    """Samples from a PLFRAME's first TX output sample to its PLHEADER peak at the receiver (no devices); ch is the
    link's channel stages (their latencies add)."""
    return int(txc.tx._tx.delay_samples + ch.latency_samples)  # noqa: SLF001 - the TX filter's pulse-peak delay


@dataclass
class StretchSink:
    """What a stretch hands its results to while it runs (write_run makes one per stretch)."""

    k: int
    n: int  # stretches in the run
    bin_s: float
    stop: threading.Event
    emit: Callable[[list[FrameRecord], list[dict[str, Any]]], None]
    show: Callable[[float], None]  # how much of this stretch is done (0..1), for the progress display
    link_timeout_s: float = DEFAULT_LINK_TIMEOUT_S
    frames: float = 0.0  # this stretch's frames so far (pro rata)
    errors: float = 0.0
    bits: float = 0.0
    span_s: float = 0.0  # measured time in the bins so far
    extra: dict[str, Any] = field(default_factory=dict)

    def figures(self) -> str:
        """This stretch's measurement so far (not the run's running totals)."""
        if self.frames <= 0:
            return "no frames measured yet"
        gp = self.bits / self.span_s if self.span_s > 0 else math.nan
        return (f"{self.frames:.1f} frames, FER {self.errors / self.frames:.3f}, "
                f"goodput {gp / 1e3:.1f} kb/s")


class Stall:
    """No progress of a counter for `timeout_s` (wall clock) is a DeviceError naming `what`."""

    def __init__(self, what: str, timeout_s: float) -> None:
        self.what = what
        self.timeout_s = timeout_s
        self._value = -1
        self._since = time.monotonic()

    def check(self, value: int) -> None:
        now = time.monotonic()
        if value != self._value:
            self._value, self._since = value, now
        elif now - self._since > self.timeout_s:
            raise DeviceError(f"{self.what}: no samples for {self.timeout_s:g} s (device or peer gone?)")


def _run_stretch(plan: RunPlan, k: int, max_iter: int, state: RunState, sink: StretchSink,
                 devices: Devices | None = None, record: Path | None = None) -> str:
    """One stretch in one process: loopback, or through devices; optionally recording the RX input as SigMF.
    Returns "complete" or "interrupted"; raises the first failure (after handing out what was measured)."""
    from gnuradio import blocks, gr

    s, tl = plan.scenario, plan.timeline
    st, note = plan.stretch(k)
    if note and note not in state.notes:
        state.notes.append(note)
    loop = acm_loop(s, st, sink.link_timeout_s)
    fault = Fault()
    tb = gr.top_block("linksim_run")
    txc, head, ch = transmit_half(s, tl, st, loop)
    acct = StretchAccount(s, st, tl, sink.bin_s, st.acm, plan.frame_delay_samples(st),
                          latency=tx_latency_samples(txc, ch), device_latency=devices is not None)

    rxc = receive_half(s, st, max_iter, lambda batch, consumed: None,
                       plan.hop_offset_samples(st) if devices is None else 0.0)
    receiver = rxc.rx._rx  # noqa: SLF001 - the numpy receiver inside the block: its block-exact counters

    def on_reports(batch: list, consumed: int) -> None:
        if not fault.event.is_set():  # what a failing flowgraph flushes out is not measured
            acct.add_reports(batch, receiver.reported_through)
        loop.rx_progress(batch, receiver.samples_processed)

    rxc.rx.report_sink = on_reports
    null = blocks.null_sink(gr.sizeof_char)
    rec = dev_tx = dev_rx = scale = None
    roots: list[Any] = [txc, rxc]
    if isinstance(head, list):  # a terminal array: one stream per element into the receive chain's combiner
        for m, h in enumerate(head):
            tb.connect((txc, m), h, (rxc, m))
        tb.connect(rxc, null)
    elif devices is None:
        tb.connect(txc, head, rxc, null)
        if record is not None:
            rec = recorder(record, s, st)
            tb.connect(head, rec)
    else:
        dev_tx, dev_rx = open_devices(devices, st.fs, sink.link_timeout_s)
        scale = blocks.multiply_const_cc(devices.tx_scale)
        if devices.guard is not None:
            devices.guard.add_mute(lambda: scale.set_k(0.0))
        head_rx = blocks.head(gr.sizeof_gr_complex, st.n_samples)
        tb.connect(txc, head, scale, dev_tx)
        tb.connect(dev_rx, head_rx, rxc, null)
        roots += [dev_tx, dev_rx]
        if record is not None:
            rec = recorder(record, s, st, dev_rx, dev_tx)
            tb.connect(head_rx, rec)
    roots.append(rec)
    lab_stop = threading.Event()
    lab = lab_threads(devices, tl, st, lab_stop, fault) if devices is not None else []
    stall = Stall(f"receiver input of stretch {k}" if devices is None else f"RX device {devices.rx_profile}",
                  sink.link_timeout_s)

    def hand_out(rows: list[FrameRecord], bins: list[dict[str, Any]]) -> None:
        if rows or bins:
            sink.emit(rows, bins)

    def tick() -> None:
        acct.take_log(txc.tx.frame_log)
        hand_out(*acct.settle())
        stall.check(receiver._samples_in)  # noqa: SLF001
        sink.show(receiver._samples_in / st.n_samples)  # noqa: SLF001

    def before_stop() -> None:
        acct.freeze()
        loop.finish()
        lab_stop.set()

    for th in lab:
        th.start()
    run = FlowgraphRun(tb, roots, sink.stop, fault=fault, tick=tick, before_stop=before_stop)
    outcome = "interrupted"
    try:
        if run.run() == "done":
            outcome = "complete"
    except KeyboardInterrupt:
        outcome = "interrupted"
    except LinksimError:
        acct.take_log(txc.tx.frame_log)
        hand_out(*acct.cut())
        _note_cut(state, st, acct)
        raise
    finally:
        loop.finish()
        lab_stop.set()
        for th in lab:
            th.join(timeout=5.0)
        if devices is not None and devices.guard is not None:
            devices.guard.clear_mutes()
        if rec is not None:
            acct.take_log(txc.tx.frame_log)
            rec.finalize({"frames_sent": acct.frames_logged, "complete": outcome == "complete"})
            state.notes.append(f"receiver input of stretch {st.k} recorded to {rec.base}.sigmf-meta")
        if devices is not None and dev_tx is not None:
            devices.metadata = [dev_tx.metadata(), dev_rx.metadata()]
    if s.mitigation.active or s.terminal.array is not None:
        from .antijam import stretch_record

        n0 = int(round((st.t0_s - st.t_base_s) * st.fs))
        n1 = int(round((st.t1_s - st.t_base_s) * st.fs))
        comb = rxc.combiner.combiner if rxc.combiner is not None else None
        state.mitigation.append(stretch_record(s, rxc.mitigation_stats(), comb, ch, n0, n1, 0.5 * (st.t0_s + st.t1_s)))
    state.sim_symbols += receiver._samples_in / st.sps  # noqa: SLF001
    acct.take_log(txc.tx.frame_log)
    if outcome == "complete":
        hand_out(*acct.settle(final=True))
    else:
        hand_out(*acct.cut())
        _note_cut(state, st, acct)
    fault.raise_if_set()  # a lab thread that failed while the flowgraph was ending
    return outcome


def _note_cut(state: RunState, st: Stretch, acct: StretchAccount) -> None:
    if acct.cut_s is not None and acct.cut_s < st.t1_s:
        state.notes.append(f"stretch {st.k} measured from {st.t0_s:g} s to {acct.cut_s:g} s of {st.t1_s:g} s "
                           "(stopped early)")


# ---------------------------------------------------------------------------------------------- the directory

def _num(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.4f}"


def _count(v: float) -> str:
    """A frame count that may be fractional (pro rata): 31, 30.05."""
    return f"{v:.4f}".rstrip("0").rstrip(".") if math.isfinite(v) else ""


def _frame_rows(frames: list[FrameRecord]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    for fr in frames:
        w.writerow([f"{fr.time_s:.6f}", fr.stretch, fr.tx_index, fr.modcod, int(fr.ok), int(fr.found),
                    fr.ldpc_iterations, fr.bch_corrected, _num(fr.esn0_est_db), fr.info_bits,
                    f"{fr.share:.6f}".rstrip("0").rstrip(".")])
    return buf.getvalue()


MEASURED_COUNTS = ("frames", "frame_errors")


def _measured_header(jammer_names: list[str]) -> list[str]:
    return ["time_s", "bin_s", "modcod", "frames", "frame_errors", "goodput_bps", "esn0_est_db",
            "predicted_esn0_db", "predicted_goodput_bps", *[f"js_db[{n}]" for n in jammer_names]]


def _measured_rows(rows: list[dict[str, Any]], cols: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    for r in rows:
        w.writerow([_count(r[c]) if c in MEASURED_COUNTS else (_num(r[c]) if isinstance(r[c], float) else r[c])
                    for c in cols])
    return buf.getvalue()


def _append(path: Path, text: str) -> None:
    if text:
        with open(path, "a", newline="") as f:
            f.write(text)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so that no reader (or a process killed meanwhile) sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj


def clear_run_files(out: Path) -> None:
    """Remove what an earlier run left in `out` (its report and figures too), so nothing stale stays."""
    from ..report.html import FIGURES

    for name in (*RUN_FILES, *FIGURES):
        (out / name).unlink(missing_ok=True)


def run_scenario(scenario: Scenario, out_dir: Path, *, duration_s: float | None = None, seed: int | None = None,
                 acm: bool | None = None, progress: Callable[[str], None] | None = None,
                 every_s: float | None = None, dwell_s: float | None = None, bin_s: float | None = None,
                 max_iter: int = RX_LDPC_ITERATIONS, report: bool = True, stop: threading.Event | None = None,
                 devices: Devices | None = None, start_s: float = 0.0,
                 record: Path | None = None, link_timeout_s: float = DEFAULT_LINK_TIMEOUT_S,
                 bar: Progress | None = None, report_if_interrupted: bool = True) -> dict[str, Any]:
    """Run a scenario end to end in one process (loopback, or through devices) and write its run directory;
    returns the summary. KeyboardInterrupt (or `stop` set) ends the run after writing what was measured (status
    "partial", even within a stretch) and re-raises KeyboardInterrupt; a failure (a LinksimError: a device gone,
    an error in a block) is raised the same way, after writing."""
    from .antijam import check_array_run

    check_array_run(scenario, devices, record)
    plan = prepare_run(scenario, duration_s=duration_s, start_s=start_s, every_s=every_s, dwell_s=dwell_s,
                       seed=seed, acm=acm, bin_s=bin_s, link_timeout_s=link_timeout_s, record=record)
    if devices is not None:
        devices.check(plan)
        if scenario.carrier.hopping is not None:
            raise InputError("carrier.hopping: a run through devices cannot hop (the receiver would need the "
                             "devices' latency for the hop timing); run it in loopback or split")
    stop_ev = stop or threading.Event()

    def one_stretch(k: int, state: RunState, sink: StretchSink) -> str:
        return _run_stretch(plan, k, max_iter, state, sink, devices, record)

    extra: dict[str, Any] = {"mode": "loopback" if devices is None else "hardware"}
    return write_run(plan, Path(out_dir), one_stretch, report=report, progress=progress, stop=stop_ev,
                     extra=extra, devices=devices, bar=bar, report_if_interrupted=report_if_interrupted)


def write_run(plan: RunPlan, out: Path, one_stretch: Callable[[int, RunState, StretchSink], str], *,
              report: bool = True, progress: Callable[[str], None] | None = None, bin_s: float | None = None,
              stop: threading.Event | None = None, extra: dict[str, Any] | None = None,
              devices: Devices | None = None, bar: Progress | None = None,
              report_if_interrupted: bool = True) -> dict[str, Any]:
    """Run the stretches with `one_stretch` and keep the run directory current as frames and bins complete."""
    import tomli_w

    s, tl, stretches, dur, seed, acm = plan.scenario, plan.timeline, plan.spans, plan.duration_s, plan.seed, plan.acm
    out.mkdir(parents=True, exist_ok=True)
    clear_run_files(out)
    bin_v = float(bin_s or plan.bin_s)
    say = progress or (lambda msg: None)
    stop_ev = stop or threading.Event()
    say(f"{s.name}: writing {out} ({len(stretches)} stretch{'es' if len(stretches) != 1 else ''})")
    (out / "scenario.toml").write_text(tomli_w.dumps(s.resolved()))
    tl.to_csv(out / "timeline.csv")
    clear = clear_sky_goodput_bps(s, tl, acm)
    state = RunState(out, notes=list(tl.notes))
    if not stretches:
        state.notes.append("the satellite is below the terminal's minimum elevation for the whole run")
    frames_csv, measured_csv = out / "frames.csv", out / "measured.csv"
    jam_names = [j.name for j in s.jammers]
    cols = _measured_header(jam_names)
    frames_csv.write_text(",".join(FRAME_COLUMNS) + "\r\n")
    measured_csv.write_text(",".join(cols) + "\r\n")
    status = "partial"
    t_start = time.monotonic()
    interrupted = False
    error: BaseException | None = None
    # progress: simulated seconds over the whole run (each stretch's lead-in and tail as the first one's)
    extra_s = (lambda st0: st0.n_samples / st0.fs - (st0.t1_s - st0.t0_s))(plan.stretch(0)[0]) if stretches else 0.0
    total_sim = sum(t1 - t0 + extra_s for t0, t1 in stretches)
    sim_done = [0.0]

    def write_summary(st: str) -> dict[str, Any]:
        state.wall_s = time.monotonic() - t_start
        sm = summarize(s, state, st, seed, acm, clear, dur)
        if state.mitigation or s.mitigation.active or s.terminal.array is not None:
            from .antijam import run_record

            sm["mitigation"] = run_record(s, tl, state.mitigation, state.bins, stretches)
        sm["bin_s"] = bin_v
        sm.update(extra or {})
        if devices is not None:
            sm["devices"] = devices.metadata
            if devices.attenuator is not None or devices.rotator is not None:
                sm["lab"] = devices.lab
        write_atomic(out / "summary.json", json.dumps(_json_safe(sm), indent=2))
        return sm

    write_summary("partial")
    try:
        for k, (t0, t1) in enumerate(stretches):
            if stop_ev.is_set():
                ack_stop(stop_ev)
                interrupted = True
                break
            st_k = plan.stretch(k)[0]
            stretch_sim = st_k.n_samples / st_k.fs
            t_k = time.monotonic()

            sink = StretchSink(k, len(stretches), bin_v, stop_ev, lambda rows, bins: None, lambda frac: None,
                               link_timeout_s=plan.link_timeout_s)

            def emit(rows: list[FrameRecord], bins: list[dict[str, Any]], snk: StretchSink = sink) -> None:
                _append(frames_csv, _frame_rows(rows))
                _append(measured_csv, _measured_rows(bins, cols))
                state.bins.extend(bins)
                for b in bins:
                    snk.frames += b["frames"]
                    snk.errors += b["frame_errors"]
                    snk.bits += b["goodput_bps"] * b["bin_s"]
                    snk.span_s += b["bin_s"]
                if bins:
                    write_summary("partial")

            def show(frac: float, k: int = k, stretch_sim: float = stretch_sim, snk: StretchSink = sink) -> None:
                if bar is None:
                    return
                done = sim_done[0] + frac * stretch_sim
                wall = time.monotonic() - t_start
                rate = done / wall if wall > 0 else 0.0
                bar.update(done, total_sim, f"stretch {k + 1}/{len(stretches)}, {rate:.2f}x real time, "
                                            f"ETA {fmt_duration(eta_s(done, total_sim, wall))}; "
                                            f"this stretch: {snk.figures()}")

            sink.emit, sink.show = emit, show
            try:
                outcome = one_stretch(k, state, sink)
            finally:
                state.stretch_wall_s += time.monotonic() - t_k
                sim_done[0] += stretch_sim
            snk = sink
            if outcome != "complete":
                interrupted = True
                ack_stop(stop_ev)
                if bar is not None:
                    bar.clear()
                say(f"stretch {k + 1}/{len(stretches)} t={t0:g}-{t1:g} s interrupted: {snk.figures()}")
                break
            if bar is not None:
                bar.clear()
            say(f"stretch {k + 1}/{len(stretches)} t={t0:g}-{t1:g} s: {snk.figures()} "
                f"({time.monotonic() - t_k:.1f} s)")
        else:
            status = "complete"
    except KeyboardInterrupt:
        interrupted = True
    except BaseException as e:  # noqa: BLE001 - written into the directory, then raised again
        error = e
    finally:
        if bar is not None:
            bar.close()
    ack_stop(stop_ev)  # what is left (summary, report) takes seconds: a signal now needs no KeyboardInterrupt
    if interrupted:
        state.notes.append("run interrupted: partial results")
    if error is not None:
        state.notes.append(f"run stopped by an error: {' '.join(str(error).split()) or type(error).__name__}")
        if not isinstance(error, LinksimError):
            import traceback

            (out / "error.txt").write_text("".join(traceback.format_exception(error)))
    sm = write_summary(status)
    if report and error is None and (report_if_interrupted or not interrupted):
        from ..report.html import build_report

        build_report(out)
    if error is not None:
        raise error
    if interrupted:
        raise KeyboardInterrupt
    return sm


__all__ = ["Devices", "run_scenario", "write_run"]
