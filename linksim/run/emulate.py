"""Channel emulation for an external modem, in real time: SRC -> the scenario's channel -> SINK (`linksim emulate`).

    run_emulation(emu, source, sink, run_dir, *, duration_s=None, power_window_s=0.2, center_freq_hz=None,
                  tx_enable=False, out_scale=1.0, stop=None, progress=None, linger_s=1.0) -> summary dict

`emu` is a linksim.channel.emulation.EmulatedChannel (built by build_emulation from the scenario: its Timeline
over the span, the signal's centre and bandwidth, the seed). The flowgraph is
    source (stock gr-zeromq pull_source, or an SDR)  ->  linksim.gr.emulator.emulator_cc  ->  sink
with nothing else: no throttle. The source's sample clock paces everything (a modem's stream, or an SDR's ADC).
The emulator block counts every sample and keeps, per second of the sample clock, what was applied and how far
the processing lags real time; the run directory is written as the run goes:
    scenario.toml   the scenario as emulated (resolved)        timeline.csv  its budget over the span
    applied.csv     per second: scenario time, gain, Es/N0, Doppler, delay, J/S per jammer (what the channel
                    applied), the input's measured power, samples in/out, gap samples, wall time, behind_s,
                    input rate, busy share
    realised.csv    the delay and Doppler measured on the streams themselves (RealisedProbe) against the scenario's
    summary.json    samples in and out, drops (gap samples from device overflows, samples not written out),
                    real-time figures (realtime factor, margin, largest lag), realised delay and Doppler errors
There is no goodput here: the modem is not linksim's (measure it at the modem, or with the IP-traffic tools).
Ctrl-C (or `stop` set) ends the emulation and still writes everything (status "interrupted").
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

from ..channel.emulation import EmulatedChannel
from ..errors import DeviceError
from ..hw.endpoints import Endpoint, open_sink, open_source
from .loop import _json_safe

BEHIND_WARN_S = 0.5  # processing this far behind the input's real-time clock is reported as falling behind


def _fmt(v: Any) -> Any:
    if isinstance(v, float):  # ten digits: a GEO delay to 1e-10 s (a thousandth of a sample at 10 Msps)
        return "" if not math.isfinite(v) else f"{v:.10g}"
    return "" if v is None else v


def _applied_rows(records: list[dict], jammers: list[str]) -> tuple[list[str], list[list[Any]]]:
    cols = ["time_s", "scenario_time_s", "gain_db", "esn0_db", "doppler_hz", "delay_s",
            *[f"js_db[{n}]" for n in jammers], "input_power_db", "samples_in", "samples_out", "gap_samples",
            "wall_s", "behind_s", "input_rate_sps", "busy_share"]
    rows = []
    for r in records:
        js = list(r.get("js_db", []))
        row = [r["time_s"], r["scenario_time_s"], r["gain_db"], r["esn0_db"], r["doppler_hz"], r["delay_s"], *js,
               r["input_power_db"], r["samples_in"], r["samples_out"], r["gap_samples"], r["wall_s"], r["behind_s"],
               r["input_rate_sps"], r["busy_share"]]
        rows.append([_fmt(v) for v in row])
    return cols, rows


def _write_csv(path: Path, cols: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows(rows)


def summarize(emu: EmulatedChannel, blk: Any, status: str, source: Endpoint, sink: Endpoint, wall_s: float,
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The headline numbers of an emulation (see the module doc)."""
    s = emu.scenario
    fs = emu.fs
    recs = blk.records
    probes = emu.probe.results if emu.probe is not None else []
    good = [p for p in probes if p["rho"] >= 0.1]
    d_err = [p["delay_samples_realised"] - p["delay_samples_expected"] for p in good]
    f_err = [p["doppler_hz_realised"] - p["doppler_hz_expected"] for p in good]
    behind = [r["behind_s"] for r in recs]
    sample_time = blk.samples_out / fs
    lost_out = blk.samples_in + blk.gap_samples - blk.samples_out
    sm: dict[str, Any] = {
        "status": status, "scenario": s.name, "source": source.describe(), "sink": sink.describe(),
        "sample_rate_hz": fs, "carrier_freq_hz": s.carrier.freq_hz, "signal_center_hz": emu.center_hz,
        "signal_bandwidth_hz": s.carrier.occupied_bw_hz, "symbol_rate_baud": s.carrier.symbol_rate_baud,
        "sps": emu.sps, "seed": emu.channel.seed, "threads": emu.channel.threads, "start_s": emu.start_s,
        "span_s": emu.span_s, "loop": emu.loop, "loop_wraps": emu.wraps, "satellite_amplifier": emu.amplifier_info,
        "input_power_db": None if emu.input_power is None else 10 * math.log10(emu.input_power),
        "samples_in": blk.samples_in, "samples_out": blk.samples_out, "gap_samples": blk.gap_samples,
        "overflow_events": blk.overflow_events,
        "samples_not_written": max(lost_out, 0),
        "drops": blk.gap_samples + max(lost_out, 0),
        "wall_s": wall_s, "sample_time_s": sample_time,
        "active_s": blk.active_s,
        "realtime_factor": sample_time / blk.active_s if blk.active_s > 0 else None,
        "busy_s": blk.busy_s,
        "realtime_margin": 1.0 - blk.busy_s / sample_time if sample_time > 0 else None,
        "behind_s_max": max(behind) if behind else None,
        "behind_s_end": behind[-1] if behind else None,
        "fell_behind": bool(behind and max(behind) > BEHIND_WARN_S),
        "realised_measurements": len(probes),
        "realised_delay_error_samples_max": max((abs(e) for e in d_err), default=None),
        "realised_doppler_error_hz_max": max((abs(e) for e in f_err), default=None),
        "realised_rho_min": min((p["rho"] for p in probes), default=None),
    }
    if recs:
        sm["delay_s_applied_range"] = [min(r["delay_s"] for r in recs), max(r["delay_s"] for r in recs)]
        sm["doppler_hz_applied_range"] = [min(r["doppler_hz"] for r in recs), max(r["doppler_hz"] for r in recs)]
    sm.update(extra or {})
    return sm


def write_run_dir(out: Path, emu: EmulatedChannel, blk: Any, summary: dict[str, Any] | None) -> None:
    """applied.csv, realised.csv and (when given) summary.json, from what the block and probe hold now."""
    cols, rows = _applied_rows(list(blk.records), emu.jammer_names)
    _write_csv(out / "applied.csv", cols, rows)
    probes = list(emu.probe.results) if emu.probe is not None else []
    pcols = ["time_s", "input_sample", "delay_samples_expected", "delay_samples_realised", "doppler_hz_expected",
             "doppler_hz_realised", "rho"]
    _write_csv(out / "realised.csv", pcols, [[_fmt(p[c]) for c in pcols] for p in probes])
    if summary is not None:
        (out / "summary.json").write_text(json.dumps(_json_safe(summary), indent=2) + "\n")


def run_emulation(emu: EmulatedChannel, source: Endpoint, sink: Endpoint, run_dir: Path, *,
                  duration_s: float | None = None, power_window_s: float = 0.2, center_freq_hz: float | None = None,
                  tx_enable: bool = False, out_scale: float = 1.0, stop: threading.Event | None = None,
                  progress: Callable[[str], None] | None = None, progress_every_s: float = 5.0,
                  linger_s: float = 1.0) -> dict[str, Any]:
    """Run SRC -> channel -> SINK in real time and write the run directory; returns the summary."""
    import tomli_w
    from gnuradio import blocks, gr

    from ..gr.emulator import INPUT_BUFFER, emulator_cc

    say = progress or (lambda msg: None)
    stop_ev = stop or threading.Event()
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = emu.scenario
    (out / "scenario.toml").write_text(tomli_w.dumps(s.resolved()))
    emu.timeline.to_csv(out / "timeline.csv")
    fc = s.carrier.freq_hz if center_freq_hz is None else center_freq_hz
    src = open_source(source, emu.fs, fc)
    snk = open_sink(sink, emu.fs, fc, tx_enable)
    measured = not emu.ready
    blk = emulator_cc(emulation=emu, sample_rate_hz=emu.fs, power_window_s=power_window_s,
                      duration_s=duration_s or 0.0)
    tb = gr.top_block("linksim_emulate")
    try:  # room for the input to pile up while the channel catches up (taken in large chunks)
        src.set_log_level("warn")  # GNU Radio reports the buffer request at info level, on stdout
        src.set_min_output_buffer(INPUT_BUFFER)
    except (AttributeError, RuntimeError, TypeError):  # pragma: no cover - a device block without the call
        pass
    if out_scale != 1.0:
        tb.connect(src, blk, blocks.multiply_const_cc(out_scale), snk)
    else:
        tb.connect(src, blk, snk)
    status = "complete"
    t0 = time.monotonic()
    n_end = blk.n_end
    say(f"{s.name}: {source.describe()} -> channel -> {sink.describe()} at {emu.fs / 1e6:g} Msps "
        f"({'until stopped' if n_end is None else f'{n_end / emu.fs:g} s'}, threads {emu.channel.threads}); "
        f"run directory {out}")
    done = threading.Event()

    def waiter() -> None:
        tb.wait()
        done.set()

    interrupted = False
    try:
        try:
            tb.start()
        except RuntimeError as e:
            raise DeviceError(f"the emulator flowgraph cannot start: {' '.join(str(e).split())}") from None
        threading.Thread(target=waiter, daemon=True).start()
        next_say = progress_every_s
        next_write = 1.0
        while not done.wait(0.2):
            if stop_ev.is_set() or blk.done.is_set():
                break
            el = blk._elapsed()  # noqa: SLF001
            if el >= next_write:
                write_run_dir(out, emu, blk, None)
                next_write = el + 1.0
            if el >= next_say and blk.records:
                r = blk.records[-1]
                warn = "  FALLING BEHIND" if r["behind_s"] > BEHIND_WARN_S else ""
                say(f"t={r['time_s']:.0f} s: in {blk.samples_in} out {blk.samples_out} gaps {blk.gap_samples}  "
                    f"delay {1e3 * r['delay_s']:.3f} ms  Doppler {r['doppler_hz']:.1f} Hz  behind "
                    f"{r['behind_s']:.3f} s  busy {100 * r['busy_share']:.0f} %{warn}")
                next_say = el + progress_every_s
        if stop_ev.is_set():
            interrupted = True
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # let the sink hand what it holds to the modem (ZeroMQ drops queued messages when its socket closes)
        if blk.done.is_set() and not interrupted:
            done.wait(max(linger_s, 0.0) + 5.0)
            time.sleep(max(linger_s, 0.0))
        tb.stop()
        tb.wait()
    if interrupted:
        status = "interrupted"
    if blk.error is not None:
        status = "error"
    wall = time.monotonic() - t0
    sm = summarize(emu, blk, status, source, sink, wall,
                   {"power_window_s": power_window_s, "input_power_measured": measured,
                    "duration_s": None if n_end is None else n_end / emu.fs})
    if blk.error is not None:
        sm["error"] = str(blk.error)
    write_run_dir(out, emu, blk, sm)
    if blk.error is not None:
        raise blk.error
    if interrupted:
        raise KeyboardInterrupt
    return sm
