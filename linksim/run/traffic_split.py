"""IP traffic across a split run: the gateway's half (namespace, GSE, DVB-S2 TX, channel) on one host, the
terminal's half (DVB-S2 RX, GSE, namespace) on another, IQ over the sample-counted ZeroMQ link (linksim.hw.zmqlink).

    TX host: gateway namespace --TUN--> GSE -> TX -> channel -> ZMQ IQ ==> RX host: pace -> RX -> GSE --TUN--> terminal
    RX host: terminal namespace --TUN--> return link (rate, loss, delay) == pyzmq "up" ==> TX host --TUN--> gateway
Control beside the IQ (PUSH/PULL, as linksim.run.split): "up" carries the RX half's ready signal, its receiver
reports (the ACM return path) and the return link's packets once due; "down" carries the TX half's start, and at
the end its frame log, forward packet log and TCP samples. Each half paces to its own wall clock: the TX half starts
its clock when the RX half is ready, the RX half when it hears that, so the RX clock trails by the control
channel's one-way latency (well under a frame on a LAN) and the forward delay is never shortened. The RX half
writes the run directory, as in-process traffic runs do.
"""

from __future__ import annotations

import base64
import json
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import zmq

from ..budget.return_link import forward_delay_s, return_series
from ..dvbs2.params import RX_LDPC_ITERATIONS, frame_params
from ..errors import DeviceError
from ..scenario.model import Scenario
from .metrics import RunState, settle_stretch
from .netns import TrafficNet, check_host
from .prepare import DEFAULT_LINK_TIMEOUT_S, acm_controller, prepare_run
from .split import SplitLink, _bind_addr
from .traffic import (
    FORWARD_QUEUE_MIN_BYTES,
    FORWARD_QUEUE_S,
    ForwardLink,
    ReturnLink,
    Sampler,
    TerminalSide,
    TrafficSpec,
    _results,
    application_seconds,
    check_realtime,
    paced_receiver,
    pump,
    sigterm_as_interrupt,
    start_gateway_side,
    start_terminal_side,
    stop_all,
    tun_writer,
    tune_namespaces,
)

IQ_CHUNK_S = 0.005  # IQ messages of 5 ms: the link adds little latency


def run_traffic_split(s: Scenario, out: Path, spec: TrafficSpec, role: str, link_text: str, *,
                      duration_s: float | None = None, seed: int | None = None, acm: bool | None = None,
                      start_s: float = 0.0, progress: Any = None, report: bool = True,
                      link_timeout_s: float = DEFAULT_LINK_TIMEOUT_S) -> dict[str, Any] | None:
    """One half of a split traffic run; the RX half returns the summary, the TX half None. Every wait for the other
    half is bounded by link_timeout_s (a DeviceError naming what did not come)."""
    link = SplitLink.parse(link_text)
    need = ["ip", "ss"] + (["iperf3"] if spec.kind in ("tcp", "udp") else []) + (["ping"] if spec.kind == "ping"
                                                                                    else [])
    check_host(tuple(need))
    plan = prepare_run(s, duration_s=duration_s, start_s=start_s, seed=seed, acm=acm, link_timeout_s=link_timeout_s)
    app_s = application_seconds(plan)
    check_realtime(s, plan.acm)
    with sigterm_as_interrupt():
        if role == "tx":
            _tx_half(plan, spec, link, app_s, progress)
            return None
        return _rx_half(plan, spec, link, Path(out), progress, report)


def _send(sock: zmq.Socket, lock: threading.Lock, msg: dict[str, Any]) -> None:
    with lock:
        sock.send(json.dumps(msg).encode())


def _tx_half(plan: Any, spec: TrafficSpec, link: SplitLink, app_s: float, progress: Any) -> None:
    from gnuradio import blocks, gr

    from ..channel.from_budget import channel_from_timeline
    from ..gr.buffers import BUFFER_ITEMS
    from ..gr.ip import WallClock, ip_transmit_chain
    from ..hw.zmqlink import open_socket, release, zmq_iq_sink
    from .loop import AcmLoop

    s, tl = plan.scenario, plan.timeline
    c = s.carrier
    st, _ = plan.stretch(0)
    say = progress or (lambda m: None)
    fwd_delay = float(np.interp(st.t0_s, tl.time_s, forward_delay_s(tl)))
    ret_series = return_series(tl)
    clock = WallClock(st.fs)
    ctx = zmq.Context.instance()
    up = open_socket(ctx, zmq.PULL, _bind_addr(link.up), bind=True, what="split traffic control (in)")
    down = open_socket(ctx, zmq.PUSH, _bind_addr(link.down), bind=True, what="split traffic control (out)")
    net = TrafficNet(half="gw")
    tb = None
    sink = None
    apps: list = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    files = Path(tempfile.mkdtemp(prefix="linksim-traffic-tx-"))
    loop = None
    try:
        tune_namespaces(net, spec)
        rate = c.symbol_rate_baud * frame_params(c.modcod, c.frame, c.pilots).efficiency
        fwd = ForwardLink(net.fd_gw, max(FORWARD_QUEUE_MIN_BYTES, int(FORWARD_QUEUE_S * rate / 8)))
        ch = channel_from_timeline(tl, st.t_base_s, st.t_end_s, st.sps, st.channel_seed)
        txc = ip_transmit_chain(st.initial_modcod, c.frame, c.pilots, c.rolloff, st.sps, fwd.fill, clock, fwd_delay,
                                ch, ccm=not st.acm)
        for b in (txc.source, txc.channel):
            b.set_min_output_buffer(int(fwd_delay * st.fs) + 2 * BUFFER_ITEMS)
        if st.acm:
            delay = fwd_delay + float(np.nanmean(ret_series.delay_s))
            loop = AcmLoop(acm_controller(s, delay, st.initial_modcod), st.fs, st.sps, st.t_base_s, delay,
                           st.n_samples)
            txc.source.modcod_source = loop.modcod_at
        sink = zmq_iq_sink(_bind_addr(link.iq), bind=True, chunk_samples=max(1, int(IQ_CHUNK_S * st.fs)),
                           send_timeout_s=plan.link_timeout_s)
        head = blocks.head(gr.sizeof_gr_complex, st.n_samples)  # the TX flowgraph ends with the stretch
        tb = gr.top_block("linksim_traffic_tx")
        tb.connect(txc, head, sink)
        say(f"traffic {spec.describe()}: gateway half waiting for the terminal half on {link.up}")
        if not up.poll(int(plan.link_timeout_s * 1000)):
            raise DeviceError(f"split traffic run: the terminal half did not connect within {plan.link_timeout_s:g} s")
        json.loads(up.recv())  # "ready"
        clock.start()
        down.send(json.dumps({"start": True}).encode())  # the terminal half starts its clock on this (a little later)
        tb.start()
        gw_write = tun_writer(net.fd_gw)
        threads.append(threading.Thread(target=pump, args=({net.fd_gw: fwd.on_packet}, None, stop), daemon=True))
        sampler = Sampler(net, spec)
        threads.append(threading.Thread(target=sampler.loop, args=(stop,), daemon=True))
        for th in threads:
            th.start()
        t_meas = clock.at((st.t0_s - st.t_base_s) * st.fs) + 1.0  # the terminal's server is up by then
        t_end = clock.at(st.n_samples) + 3.0
        final = False
        while time.monotonic() < t_end and not final:
            if not apps and time.monotonic() >= t_meas:
                apps = start_gateway_side(net, spec, files, app_s - 1.0)
            if not up.poll(20):
                continue
            msg = json.loads(up.recv())
            for pkt in msg.get("ret", []):
                try:
                    gw_write(base64.b64decode(pkt))
                except OSError:
                    pass
            if loop is not None and msg.get("reports"):
                loop.rx_progress([SimpleNamespace(**r) for r in msg["reports"]], int(msg["consumed"]))
            final = bool(msg.get("final"))
    finally:
        stop_all(net, stop, apps, tb, loop, threads)
    texts = {}
    for f in sorted(files.iterdir()):  # the applications' own output goes into the RX half's run directory
        texts[f.name] = f.read_text(errors="replace")
        f.unlink()
    files.rmdir()
    scn = [st.t_base_s + (w - clock.t0) for w in fwd.log.arrival]
    rows = [dict(r, t_s=st.t_base_s + (r["wall"] - clock.t0)) for r in sampler.rows]
    down.send(json.dumps({"frame_log": [[int(i), m] for i, m in txc.source.frame_log],
                          "latency": txc.latency_samples, "late_s": txc.source.late_s, "drops": fwd.drops,
                          "queue_bytes": fwd.queue_bytes, "arrival_s": scn, "length": fwd.log.length,
                          "proto": fwd.log.proto, "dport": fwd.log.dport, "frames": fwd.log.frames,
                          "rows": rows, "files": texts}).encode())
    if sink is not None:
        release(sink)
    up.close(linger=0)
    down.close(linger=5000)


def _rx_half(plan: Any, spec: TrafficSpec, link: SplitLink, out: Path, progress: Any,
             report: bool) -> dict[str, Any]:
    from gnuradio import gr

    from ..gr.ip import WallClock
    from ..hw.zmqlink import open_socket, release, zmq_iq_source
    from .loop import write_run
    from .traffic import ForwardLink as _Fwd

    s, tl = plan.scenario, plan.timeline
    st0, _ = plan.stretch(0)
    ctx = zmq.Context.instance()
    up = open_socket(ctx, zmq.PUSH, link.up, bind=False, what="split traffic control (out)")
    down = open_socket(ctx, zmq.PULL, link.down, bind=False, what="split traffic control (in)")
    lock = threading.Lock()  # the return link's outbox
    send_lock = threading.Lock()  # the "up" socket (the scheduler's thread and this one both send)
    extra: dict[str, Any] = {"mode": "traffic-split"}

    def one_stretch(k: int, state: RunState, sink: Any) -> str:
        st, note = plan.stretch(k)
        if note and note not in state.notes:
            state.notes.append(note)
        fwd_delay = float(np.interp(st.t0_s, tl.time_s, forward_delay_s(tl)))
        ret_series = return_series(tl)
        clock = WallClock(st.fs)
        net = TrafficNet(half="ut")
        tb = None
        stop = threading.Event()
        threads: list[threading.Thread] = []
        outbox: list[str] = []
        try:
            tune_namespaces(net, spec)
            start_terminal_side(net, spec, out)
            term = TerminalSide(net.fd_ut, time.monotonic)

            def scenario_time(wall: float) -> float:
                return st.t_base_s + (wall - clock.t0)

            def to_gateway(pkt: bytes) -> None:  # the return link's packets, when due, to the other host
                with lock:
                    outbox.append(base64.b64encode(pkt).decode())

            ret = ReturnLink(to_gateway, ret_series, scenario_time, st.channel_seed + 17)
            reports: list = []

            def on_reports(batch: list, consumed: int) -> None:
                reports.extend(batch)
                term.on_reports(batch)
                with lock:
                    pkts, outbox[:] = list(outbox), []
                _send(up, send_lock, {"consumed": int(consumed), "ret": pkts, "reports": [
                    {"sample_index": int(r.sample_index), "modcod": r.modcod, "frame": r.frame,
                     "pilots": bool(r.pilots), "esn0_est_db": float(r.esn0_est_db)} for r in batch]})

            src = zmq_iq_source(link.iq, bind=False, fill_gaps=True, idle_timeout_s=plan.link_timeout_s)
            tb = gr.top_block("linksim_traffic_rx")
            head = paced_receiver(tb, src, s, st, clock, RX_LDPC_ITERATIONS, on_reports)
            sampler = Sampler(net, spec)
            threads = [threading.Thread(target=pump, args=({net.fd_ut: ret.on_packet}, ret, stop), daemon=True),
                       threading.Thread(target=sampler.loop, args=(stop,), daemon=True)]
            _send(up, send_lock, {"ready": True})
            # this half's clock starts when the gateway's has started: sample n is never due here before the
            # gateway could have sent it, so the forward delay is kept (plus the control channel's latency)
            if not down.poll(int(plan.link_timeout_s * 1000)):
                raise DeviceError(f"split traffic run: the gateway half did not start within {plan.link_timeout_s:g} s")
            json.loads(down.recv())
            clock.start()
            tb.start()
            for th in threads:
                th.start()
            t_end = clock.at(st.n_samples)
            while time.monotonic() < t_end + 2.0 and head.nitems_written(0) < st.n_samples:
                time.sleep(0.005)
                with lock:
                    pkts, outbox[:] = list(outbox), []
                if pkts:
                    _send(up, send_lock, {"ret": pkts})
        finally:
            stop_all(net, stop, [], tb, None, threads, then=lambda: _send(up, send_lock, {"final": True}))
        if not down.poll(int(plan.link_timeout_s * 1000)):
            raise DeviceError(f"split traffic run: no frame log from the gateway half within {plan.link_timeout_s:g} s")
        msg = json.loads(down.recv())
        for name, text in msg.get("files", {}).items():
            (out / Path(name).name).write_text(text)
        release(src)
        state.sim_symbols += head.nitems_written(0) / st.sps
        log = [(int(i), str(m)) for i, m in msg["frame_log"]]

        def settle(width_s: float) -> tuple[list, list]:
            return settle_stretch(s, st, tl, width_s, st.acm, log, reports, float(msg["latency"]),
                                  plan.frame_delay_samples(st))

        frames, bins = settle(sink.bin_s)
        fwd = _Fwd(-1, int(msg["queue_bytes"]))
        fwd.drops = int(msg["drops"])
        fwd.log.arrival, fwd.log.length = list(msg["arrival_s"]), list(msg["length"])
        fwd.log.proto, fwd.log.dport, fwd.log.frames = list(msg["proto"]), list(msg["dport"]), list(msg["frames"])
        sampler.rows = sampler.rows + list(msg["rows"])
        res = _results(plan, st, spec, out, clock, frames, settle(1.0)[1], fwd, term, ret, sampler, fwd_delay,
                       ret_series, 0.0, float(msg["late_s"]), fwd_scn=lambda t: t)
        extra.update(res)
        extra["iq_link"] = src.receiver.stats.as_dict()
        sink.emit(frames, bins)
        return "complete"

    try:
        return write_run(plan, out, one_stretch, report=report, progress=progress, extra=extra)
    finally:
        up.close(linger=1000)
        down.close(linger=0)


__all__ = ["run_traffic_split"]
