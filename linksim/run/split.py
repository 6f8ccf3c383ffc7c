"""Split runs: the transmit half (TS source, DVB-S2 TX, channel) and the receive half (DVB-S2 RX, measurement) in
separate processes or hosts, joined by a sample-counted ZeroMQ IQ link (linksim.hw.zmqlink).

Control and metrics travel over pyzmq beside the IQ:
    RX -> TX  ("up",   PUSH/PULL): {"k": stretch, "consumed": samples, "reports": [...]}   the ACM return path
    TX -> RX  ("down", PUSH/PULL): {"k": stretch, "frame_log": [[index, modcod], ...], "latency": samples}
Both halves plan the same stretches from the same scenario and options, so the run directory that the RX half
writes equals an in-process run with the same seed. The IQ link's statistics (gaps, drops, restarts) go into the
summary; a link that lost samples is reported there and in the notes, never silently.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import zmq

from ..dvbs2.params import RX_LDPC_ITERATIONS
from ..errors import DeviceError
from ..scenario.model import Scenario
from .loop import acm_loop, receive_half, run_flowgraph, transmit_half, tx_latency_samples, write_run
from .metrics import RunState, account
from .prepare import prepare_run

CONTROL_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class SplitLink:
    """Addresses: IQ on `iq`, control on `up` (RX -> TX) and `down` (TX -> RX). The TX half binds all three."""

    iq: str = "tcp://127.0.0.1:5560"
    up: str = "tcp://127.0.0.1:5561"
    down: str = "tcp://127.0.0.1:5562"

    @staticmethod
    def on_host(host: str, base_port: int) -> SplitLink:
        return SplitLink(f"tcp://{host}:{base_port}", f"tcp://{host}:{base_port + 1}",
                         f"tcp://{host}:{base_port + 2}")


def _bind_addr(addr: str) -> str:
    proto, rest = addr.split("://", 1)
    return f"{proto}://*:{rest.rsplit(':', 1)[1]}" if proto == "tcp" else addr


def run_tx_half(s: Scenario, link: SplitLink, *, duration_s: float | None = None, seed: int | None = None,
                acm: bool | None = None, start_s: float = 0.0, every_s: float | None = None,
                dwell_s: float | None = None, drop_every: int = 0) -> int:
    """Serve the transmit half of a split run; returns the number of stretches sent.

    drop_every > 0 drops every n-th IQ message (a test of the link's drop detection)."""
    from gnuradio import gr

    from ..hw.zmqlink import open_socket, zmq_iq_sink

    plan = prepare_run(s, duration_s=duration_s, start_s=start_s, every_s=every_s, dwell_s=dwell_s, seed=seed,
                       acm=acm)
    ctx = zmq.Context.instance()
    up = open_socket(ctx, zmq.PULL, _bind_addr(link.up), bind=True, what="split run control (reports in)")
    down = open_socket(ctx, zmq.PUSH, _bind_addr(link.down), bind=True, what="split run control (MODCODs out)")
    stop = threading.Event()
    try:
        for k in range(len(plan.spans)):
            st, _note = plan.stretch(k)
            loop = acm_loop(s, st)
            done = threading.Event()

            def listen(loop=loop, done=done, k=k) -> None:  # the ACM return path from the RX half
                while not done.is_set():
                    if not up.poll(100):
                        continue
                    msg = json.loads(up.recv())
                    if msg.get("k") != k:
                        continue
                    reps = [SimpleNamespace(**r) for r in msg["reports"]]
                    loop.rx_progress(reps, int(msg["consumed"]))
                    if msg.get("final"):
                        loop.finish()

            th = threading.Thread(target=listen, daemon=True)
            th.start()
            tb = gr.top_block("linksim_split_tx")
            txc, head, ch = transmit_half(s, plan.timeline, st, loop)
            sink = zmq_iq_sink(_bind_addr(link.iq), bind=True)
            if drop_every:
                _make_lossy(sink.sender, drop_every)
            tb.connect(txc, head, sink)
            run_flowgraph(tb, stop)
            down.send(json.dumps({"k": k, "frame_log": [[int(i), m] for i, m in txc.tx.frame_log],
                                  "latency": tx_latency_samples(txc, ch)}).encode())
            # the RX half says when it has everything of this stretch (its final progress message)
            t_end = time.monotonic() + CONTROL_TIMEOUT_S
            while not loop._done and time.monotonic() < t_end:  # noqa: SLF001
                time.sleep(0.05)
            done.set()
            th.join()
            from ..hw.zmqlink import release

            release(sink)
            del tb, sink
    finally:
        up.close(linger=0)
        down.close(linger=2000)
    return len(plan.spans)


def run_rx_half(s: Scenario, out_dir: Path, link: SplitLink, *, duration_s: float | None = None,
                seed: int | None = None, acm: bool | None = None, start_s: float = 0.0, every_s: float | None = None,
                dwell_s: float | None = None, max_iter: int = RX_LDPC_ITERATIONS, report: bool = True,
                progress: Any = None) -> dict[str, Any]:
    """Receive the IQ of a split run, measure, and write the run directory (as linksim.run.run_scenario does)."""
    from gnuradio import blocks, gr

    from ..hw.zmqlink import open_socket, zmq_iq_source

    plan = prepare_run(s, duration_s=duration_s, start_s=start_s, every_s=every_s, dwell_s=dwell_s, seed=seed,
                       acm=acm)
    ctx = zmq.Context.instance()
    up = open_socket(ctx, zmq.PUSH, link.up, bind=False, what="split run control (reports out)")
    down = open_socket(ctx, zmq.PULL, link.down, bind=False, what="split run control (MODCODs in)")
    stop = threading.Event()
    links: list[dict[str, Any]] = []

    def one_stretch(k: int, state: RunState) -> list:
        st, note = plan.stretch(k)
        if note and note not in state.notes:
            state.notes.append(note)
        reports: list = []
        lock = threading.Lock()

        def on_reports(batch: list, consumed: int) -> None:
            reports.extend(batch)
            msg = {"k": k, "consumed": int(consumed),
                   "reports": [{"sample_index": int(r.sample_index), "modcod": r.modcod, "frame": r.frame,
                                "pilots": bool(r.pilots), "esn0_est_db": float(r.esn0_est_db)} for r in batch]}
            with lock:
                up.send(json.dumps(msg).encode())

        tb = gr.top_block("linksim_split_rx")
        src = zmq_iq_source(link.iq, bind=False, fill_gaps=True, idle_timeout_s=CONTROL_TIMEOUT_S)
        head = blocks.head(gr.sizeof_gr_complex, st.n_samples)
        rxc = receive_half(s, st, max_iter, on_reports, plan.hop_offset_samples(st))
        tb.connect(src, head, rxc, blocks.null_sink(gr.sizeof_char))
        run_flowgraph(tb, stop)
        with lock:
            up.send(json.dumps({"k": k, "consumed": st.n_samples, "reports": [], "final": True}).encode())
        if not down.poll(int(CONTROL_TIMEOUT_S * 1000)):
            raise DeviceError(f"split run: no frame log from the TX half for stretch {k} "
                              f"within {CONTROL_TIMEOUT_S:g} s (is it running? {link.down})")
        msg = json.loads(down.recv())
        stats = src.receiver.stats.as_dict()
        stats["stretch"] = k
        links.append(stats)
        if not stats.get("ok", True) or stats.get("samples_missing", 0):
            state.notes.append(f"IQ link lost {stats.get('samples_missing', 0)} samples in stretch {k} "
                               f"({len(stats.get('gaps', []))} gaps): frames there count as errors")
        from ..hw.zmqlink import release

        release(src)
        state.sim_symbols += st.n_samples / st.sps
        log = [(int(i), str(m)) for i, m in msg["frame_log"]]
        return account(s, st, log, reports, float(msg["latency"]), plan.frame_delay_samples(st))

    try:
        return write_run(plan, Path(out_dir), one_stretch, report=report, progress=progress,
                         extra={"mode": "split", "iq_link": links})
    finally:
        up.close(linger=1000)
        down.close(linger=0)


def _make_lossy(sender: Any, every: int) -> None:
    """Test hook: lose every n-th IQ message on the wire (the sender's counters advance as if it was sent)."""
    send = sender.send
    count = [0]

    def lossy(samples: np.ndarray) -> None:
        count[0] += 1
        if count[0] % every == 0:
            sender.seq += 1
            sender.next_sample += len(samples)
            return
        send(samples)

    sender.send = lossy


__all__ = ["SplitLink", "run_rx_half", "run_tx_half"]
