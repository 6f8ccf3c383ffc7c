"""Runs without GNU Radio: the same stretches, channel, front end and receiver as `linksim.run.loop`, on numpy arrays
in one thread (for campaigns of many short CCM runs: the jamming-margin sweeps of docs/antijam.md).

Every piece is the object the flowgraph's blocks wrap: `dvbs2.tx.Transmitter` fed with the TS source's packets
(same seeds), `channel.from_budget.link_channels` or `channel.array.array_channel_from_timeline`, the array
combiner, `mitigation.chain.ReceiverMitigation` and `dvbs2.rx.Receiver`; frames are accounted by the same
`metrics.settle_stretch` and the run directory is written by the same `loop.write_run`. The channel is
chunk-invariant and the front end sample-aligned, so a point gives the frames of the GNU Radio run with the same
seed (the flowgraph's front end keeps its last look-ahead inside at the end of a stretch; the frames measured end
earlier: see tests/test_mitigation_runs.py). CCM only: the ACM return path is the flowgraph's.

    linksim sweep campaigns/antijam-margins.toml --runner linksim.run.inmemory:run_scenario
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..dvbs2.params import RX_LDPC_ITERATIONS, frame_params
from ..errors import InputError
from ..scenario.model import Scenario
from .metrics import RunState, settle_stretch
from .prepare import RunPlan, prepare_run, uses_vlsnr

if TYPE_CHECKING:
    from .loop import StretchSink

TS_BLOCK = 64  # packets per block of the TS source (linksim.gr.link.ts_source)


def _stretch(plan: RunPlan, k: int, max_iter: int, state: RunState, sink: StretchSink) -> str:
    from ..channel.from_budget import ring_geometry
    from ..dvbs2.rx import Receiver
    from ..dvbs2.tx import Transmitter, random_ts_packets
    from ..mitigation.array import ArrayCombiner
    from ..mitigation.chain import ReceiverMitigation

    s, tl = plan.scenario, plan.timeline
    st, note = plan.stretch(k)
    if note and note not in state.notes:
        state.notes.append(note)
    c = s.carrier
    arr = s.terminal.array
    if arr is not None:
        from ..channel.array import array_channel_from_timeline

        ch: Any = array_channel_from_timeline(tl, st.t_base_s, st.t_end_s, st.sps, st.channel_seed)
        comb: ArrayCombiner | None = ArrayCombiner(arr.elements, arr.nulling, arr.window_samples, arr.loading_db)
    else:
        from ..channel.from_budget import link_channels

        ch = link_channels(tl, st.t_base_s, st.t_end_s, st.sps, st.channel_seed)  # a bent pipe's stages included
        comb = None
    front = ReceiverMitigation(s.mitigation, st.sps) if s.mitigation.active else None
    tx = Transmitter(c.frame, c.pilots, c.rolloff, st.sps, 0, "ts", ccm=True)
    rings = ring_geometry(tl, st.t_base_s, st.t_end_s)
    if rings:  # pre-distorted APSK rings for the satellite's amplifier (as linksim.gr.link.transmit_chain)
        tx.ring_geometry = dict(rings)
    rx = Receiver(sps=st.sps, rolloff=c.rolloff, max_iter=max_iter, vlsnr=uses_vlsnr(s))
    modcod = st.initial_modcod
    frame_log: list[tuple[int, str]] = []
    reports: list = []
    block = 0
    produced = 0

    def receive(y: np.ndarray, final: bool) -> None:
        if comb is not None:
            y = np.concatenate([comb.process(y), comb.flush()]) if final else comb.process(y)
        mask = None
        if front is not None:
            y, mask = front.process(y)
            if final:
                y2, m2 = front.flush()
                y = np.concatenate([y, y2])
                mask = None if mask is None else np.concatenate([mask, m2])
        reports.extend(rx.process(y, erasures=mask))
        if final:
            reports.extend(rx.flush())

    cap = tx.frame_capacity_bytes(modcod)
    while produced < st.n_samples:
        while tx.pending_bytes < cap:
            tx.push(random_ts_packets(TS_BLOCK, seed=st.payload_seed * 1_000_003 + block))
            block += 1
        x = tx.modulate([(modcod, None)])[: st.n_samples - produced]
        frame_log.append((produced, modcod))
        produced += x.size
        receive(ch.process(x), final=produced >= st.n_samples)
    if s.mitigation.active or arr is not None:
        from .antijam import stretch_record

        stats = front.stats() if front is not None else {}
        n0 = int(round((st.t0_s - st.t_base_s) * st.fs))
        n1 = int(round((st.t1_s - st.t_base_s) * st.fs))
        state.mitigation.append(stretch_record(s, stats, comb, ch, n0, n1, 0.5 * (st.t0_s + st.t1_s)))
    state.sim_symbols += st.n_samples / st.sps
    frames, bins = settle_stretch(s, st, tl, sink.bin_s, st.acm, frame_log, reports,
                                  int(tx.delay_samples + ch.latency_samples), plan.frame_delay_samples(st))
    sink.emit(frames, bins)
    return "complete"


def run_scenario(scenario: Scenario, out_dir: Path, *, duration_s: float | None = None, seed: int | None = None,
                 acm: bool | None = None, progress: Callable[[str], None] | None = None,
                 every_s: float | None = None, dwell_s: float | None = None, bin_s: float | None = None,
                 max_iter: int = RX_LDPC_ITERATIONS, report: bool = True, stop: threading.Event | None = None,
                 start_s: float = 0.0) -> dict[str, Any]:
    """linksim.run.run_scenario's loopback run, in memory (see the module docstring); returns the summary."""
    from .antijam import check_array_run
    from .loop import write_run

    check_array_run(scenario)
    plan = prepare_run(scenario, duration_s=duration_s, start_s=start_s, every_s=every_s, dwell_s=dwell_s,
                       seed=seed, acm=acm, bin_s=bin_s)
    if plan.acm:
        raise InputError("the in-memory runner runs CCM only (ACM's return path is the flowgraph's): use "
                         "linksim.run:run_scenario")
    if scenario.carrier.spreading_factor > 1 or scenario.carrier.hopping is not None:
        raise InputError("the in-memory runner has no spread or hopped carrier: use linksim.run:run_scenario")
    frame_params(scenario.carrier.modcod, scenario.carrier.frame, scenario.carrier.pilots)

    def one_stretch(k: int, state: RunState, sink: StretchSink) -> str:
        return _stretch(plan, k, max_iter, state, sink)

    return write_run(plan, Path(out_dir), one_stretch, report=report, progress=progress, bin_s=bin_s,
                     stop=stop or threading.Event(), extra={"mode": "loopback (in memory)"})


__all__ = ["run_scenario"]
