"""linksim's public API: the calls a notebook or a script needs, in front of the stages (docs/api.md shows them).

    from linksim import api

    s = api.load_scenario("scenarios/arctic-horizon-jammer-acm.toml")
    tl = api.timeline(s, duration_s=600)              # the budget, one row per step
    cols = tl.flat_columns()                          # {"esn0_db": ndarray, "js_db[ridge]": ndarray, ...}
    tl.to_csv("timeline.csv")
    iq, ts = api.transmit("QPSK 1/2", frames=4)       # DVB-S2 PLFRAMEs of random TS packets, 2 samples/symbol
    rx = api.apply_channel(iq, sample_rate_hz=2e6, sps=2, esn0_db=3.0, jammers=["type=cw,js_db=-3,offset_hz=2e5"])
    frames = api.receive(rx, sps=2)                   # FrameReports: modcod, ok, esn0_est_db, ts, ...
    summary = api.run(s, "runs/notebook", duration_s=2.0)   # the end-to-end run (needs GNU Radio)

Everything here is a thin, documented front: the stage modules (linksim.scenario.model, linksim.budget.timeline,
linksim.channel.core, linksim.dvbs2.tx/rx, linksim.run.loop) stay available for finer control. Only `run` needs
GNU Radio.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .budget.timeline import Timeline, compute_timeline
from .channel.core import Channel, ChannelProfile, JammerSpec, measure_power
from .dvbs2.params import RX_LDPC_ITERATIONS
from .dvbs2.rx import FrameReport, Receiver
from .dvbs2.tx import Transmitter, random_ts_frames
from .errors import InputError
from .scenario.model import Scenario, list_shipped, load_scenario


def timeline(scenario: Scenario | str | Path, *, duration_s: float | None = None) -> Timeline:
    """The link budget over time (the whole scenario, or its first `duration_s` seconds). A path is loaded first.

    The Timeline's columns are numpy arrays: `tl["esn0_db"]`, `tl.time_s`; `tl.flat_columns()` adds the
    per-jammer ones (`js_db[NAME]`); `tl.to_csv(path)` writes them with a UTC time column."""
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return compute_timeline(s, duration_s=duration_s)


def run(scenario: Scenario | str | Path, out_dir: str | Path, **options: Any) -> dict[str, Any]:
    """Run the scenario end to end in loopback (TX -> channel -> RX in GNU Radio) and write its run directory;
    returns the summary (what summary.json holds). Options as `linksim run`: duration_s, start_s, seed, acm,
    every_s, dwell_s, bin_s, max_iter, report."""
    from .run.loop import run_scenario

    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return run_scenario(s, Path(out_dir), **options)


def transmit(modcod: str, frames: int, *, sps: int = 2, frame: str = "normal", pilots: bool = True,
             rolloff: float = 0.2, seed: int = 0, gold_code: int = 0) -> tuple[np.ndarray, bytes]:
    """`frames` DVB-S2 PLFRAMEs of `modcod` filled with pseudo-random TS packets (from `seed`), RRC-shaped at `sps`
    samples per symbol with unit mean power, the filter drained at the end. Returns (complex64 samples, the TS
    bytes sent)."""
    if frames < 1:
        raise InputError(f"frames: must be >= 1, got {frames}")
    tx = Transmitter(frame=frame, pilots=pilots, rolloff=rolloff, sps=sps, gold_code=gold_code)
    plframes, ts = random_ts_frames(tx, modcod, frames, seed)
    iq = np.concatenate([tx.shape(np.concatenate(plframes)), tx.flush()])
    return iq.astype(np.complex64), ts


def apply_channel(iq: np.ndarray, *, sample_rate_hz: float, sps: float, esn0_db: float = np.inf,
                  gain_db: float = 0.0, doppler_hz: float = 0.0, doppler_rate_hz_s: float = 0.0,
                  delay_s: float = 0.0, jammers: Sequence[str | JammerSpec] = (), fading: str | None = None,
                  seed: int = 0, input_power: float | None = None) -> np.ndarray:
    """The sample-clocked channel on an array: gain, Doppler (with rate), delay, fading, AWGN at `esn0_db` and
    jammers (spec strings as `linksim channel --jammer`, e.g. "type=cw,js_db=0,offset_hz=1000", or JammerSpecs)
    at their J/S against the signal. `input_power` is the declared mean |x|^2 (measured from `iq` if None).
    Same seed, same output, however the array would be cut."""
    from .channel.fading import parse_fading
    from .channel.jammers import parse_jammer

    x = np.asarray(iq, dtype=np.complex64).reshape(-1)
    if x.size == 0:
        raise InputError("iq: no samples")
    p_in = measure_power(x) if input_power is None else float(input_power)
    if not (np.isfinite(p_in) and p_in > 0):
        raise InputError(f"input power must be a positive number, got {p_in:g} (all zeros or NaN input?)")
    duration_s = max(x.size / float(sample_rate_hz), 1e-9)
    prof = ChannelProfile.constant(gain_db=gain_db, doppler_hz=doppler_hz, delay_s=delay_s, esn0_db=esn0_db,
                                   doppler_rate_hz_s=doppler_rate_hz_s, duration_s=duration_s)
    fs = float(sample_rate_hz)
    jams = [j if isinstance(j, JammerSpec) else parse_jammer(j, fs) for j in jammers]
    ch = Channel(sample_rate_hz, sps, prof, input_power=p_in, fading=parse_fading(fading, fs) if fading else None,
                 jammers=jams, seed=seed)
    return ch.process(x)


def receive(iq: np.ndarray, *, sps: float = 2, rolloff: float = 0.2, gold_code: int = 0,
            max_iter: int = RX_LDPC_ITERATIONS, sync: str = "full") -> list[FrameReport]:
    """Decode a whole capture with linksim's DVB-S2 receiver (full sync: acquisition, timing, carrier, all 28
    MODCODs); returns one FrameReport per PLFRAME found (`modcod`, `ok`, `esn0_est_db`, `ts`, ...)."""
    rx = Receiver(sps=sps, rolloff=rolloff, gold_code=gold_code, max_iter=max_iter, sync=sync)
    return rx.process(np.asarray(iq)) + rx.flush()


__all__ = ["FrameReport", "Scenario", "Timeline", "apply_channel", "list_shipped", "load_scenario", "receive",
           "run", "timeline", "transmit"]
