"""Split runs: the transmit half (TS source, DVB-S2 TX, channel) and the receive half (DVB-S2 RX, measurement) in
separate processes or hosts, joined by a sample-counted ZeroMQ IQ link (linksim.hw.zmqlink).

Control and metrics travel over pyzmq beside the IQ:
    RX -> TX  ("up",   PUSH/PULL): {"k": stretch, "processed": samples, "reports": [...]}   the ACM return path;
              {"k", "final": true} once the RX half has all of stretch k; {"abort": why} when it stops early
    TX -> RX  ("down", PUSH/PULL): {"k", "latency": samples, "log": [[index, modcod], ...]} as frames are made,
              {"k", "log": [...], "end": true} when the stretch is sent; {"abort": why} when it stops early
Both halves plan the same stretches from the same scenario and options, so the run directory that the RX half
writes equals an in-process run with the same seed.

A peer that is absent or dies never leaves the other half waiting: every wait is bounded by `link_timeout_s`
(no IQ, no frame log, no progress, a send that cannot go out), after which the half ends with a DeviceError (exit
code 3). The RX half keeps the frames measured up to then, and summary.json's `iq_link` says per stretch how many
samples were expected, received and missing and whether the end of the stream was seen.
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
from ..errors import DeviceError, LinksimError
from ..scenario.model import Scenario
from .flowgraph import Fault, FlowgraphRun
from .loop import StretchSink, acm_loop, receive_half, transmit_half, tx_latency_samples, write_run
from .metrics import RunState, StretchAccount
from .prepare import DEFAULT_LINK_TIMEOUT_S, prepare_run
from .safety import ack_stop

POLL_S = 0.05
LOG_EVERY_S = 0.2  # the TX half sends its new frame-log entries this often


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

    @staticmethod
    def parse(text: str | None) -> SplitLink:
        """--link tcp://HOST:PORT (default tcp://127.0.0.1:5560) -> the three addresses; anything else is an
        InputError naming --link."""
        from ..errors import InputError

        addr = text or "tcp://127.0.0.1:5560"
        try:
            proto, rest = addr.split("://", 1)
            host, port_s = rest.rsplit(":", 1)
            port = int(port_s)
        except ValueError:
            raise InputError(f"--link {addr!r}: expected tcp://HOST:PORT") from None
        if proto != "tcp":
            raise InputError(f"--link {addr!r}: only tcp:// links are supported")
        if not host or not 1 <= port <= 65533:
            raise InputError(f"--link {addr!r}: PORT must be in 1..65533 (control uses PORT+1 and PORT+2)")
        return SplitLink.on_host(host, port)


def _bind_addr(addr: str) -> str:
    proto, rest = addr.split("://", 1)
    return f"{proto}://*:{rest.rsplit(':', 1)[1]}" if proto == "tcp" else addr


def _send(sock: zmq.Socket, msg: dict[str, Any], timeout_s: float, what: str) -> None:
    """Send a control message; a peer that does not take it within timeout_s is a DeviceError."""
    deadline = time.monotonic() + timeout_s
    data = json.dumps(msg).encode()
    while True:
        try:
            sock.send(data, flags=zmq.NOBLOCK)
            return
        except zmq.Again:
            if time.monotonic() > deadline:
                where = sock.getsockopt_string(zmq.LAST_ENDPOINT) or "its control socket"
                raise DeviceError(f"split run: {what} took no control message on {where} for {timeout_s:g} s "
                                  "(not running, or gone?)") from None
            sock.poll(int(POLL_S * 1000), zmq.POLLOUT)


def _recv(sock: zmq.Socket) -> dict[str, Any] | None:
    if not sock.poll(0):
        return None
    return dict(json.loads(sock.recv()))


def run_tx_half(s: Scenario, link: SplitLink, *, duration_s: float | None = None, seed: int | None = None,
                acm: bool | None = None, start_s: float = 0.0, every_s: float | None = None,
                dwell_s: float | None = None, drop_every: int = 0,
                link_timeout_s: float = DEFAULT_LINK_TIMEOUT_S, stop: threading.Event | None = None,
                progress: Any = None) -> int:
    """Serve the transmit half of a split run; returns the number of stretches sent. A receive half that is absent
    or stops taking IQ or control messages for link_timeout_s is a DeviceError; `stop` ends it early
    (KeyboardInterrupt).

    drop_every > 0 drops every n-th IQ message (a test of the link's drop detection)."""
    from gnuradio import gr

    from ..hw.zmqlink import open_socket, release, zmq_iq_sink

    plan = prepare_run(s, duration_s=duration_s, start_s=start_s, every_s=every_s, dwell_s=dwell_s, seed=seed,
                       acm=acm, link_timeout_s=link_timeout_s)
    say = progress or (lambda msg: None)
    stop_ev = stop or threading.Event()
    ctx = zmq.Context.instance()
    up = open_socket(ctx, zmq.PULL, _bind_addr(link.up), bind=True, what="split run control (reports in)")
    down = open_socket(ctx, zmq.PUSH, _bind_addr(link.down), bind=True, what="split run control (MODCODs out)",
                       options={zmq.SNDHWM: 1000})
    try:
        for k in range(len(plan.spans)):
            st, _note = plan.stretch(k)
            loop = acm_loop(s, st, link_timeout_s)
            fault = Fault()
            ended = threading.Event()  # the TX flowgraph has sent everything
            rx_final = threading.Event()
            tb = gr.top_block("linksim_split_tx")
            txc, head, ch = transmit_half(s, plan.timeline, st, loop)
            sink = zmq_iq_sink(_bind_addr(link.iq), bind=True, send_timeout_s=link_timeout_s)
            if drop_every:
                _make_lossy(sink.sender, drop_every)
            tb.connect(txc, head, sink)
            latency = tx_latency_samples(txc, ch)

            def control(loop: Any = loop, k: int = k, txc: Any = txc, latency: int = latency,
                        ended: threading.Event = ended, rx_final: threading.Event = rx_final) -> None:
                first = True
                end_sent = False
                last_log = -1.0
                while not (rx_final.is_set() and end_sent) and not stop_ev.is_set():
                    msg = _recv(up)
                    if msg is None:
                        now = time.monotonic()
                        if not end_sent and (now - last_log >= LOG_EVERY_S or ended.is_set()):
                            end = ended.is_set()  # read before the log: every frame made is in it then
                            log = txc.tx.frame_log
                            n = len(log)
                            entries = log[:n]
                            del log[:n]  # sent: the transmitter's list stays short
                            out = {"k": k, "latency": latency, "log": [[int(i), m] for i, m in entries]}
                            if end:
                                out["end"] = True
                            if entries or first or end:
                                _send(down, out, link_timeout_s, "the RX half")
                            first, end_sent, last_log = False, end, now
                        up.poll(int(POLL_S * 1000))
                        continue
                    if "abort" in msg:
                        raise DeviceError(f"split run: the RX half stopped ({msg['abort']})")
                    if msg.get("k") != k:
                        continue
                    reps = [SimpleNamespace(**r) for r in msg.get("reports", [])]
                    loop.rx_progress(reps, int(msg.get("processed", 0)))
                    if msg.get("final"):
                        loop.finish()
                        rx_final.set()

            ctl = fault.thread(control, "split run control", prefix=False)
            ctl.start()
            try:
                FlowgraphRun(tb, [txc, sink], stop_ev, fault=fault, before_stop=loop.finish).run()
            except KeyboardInterrupt:
                stop_ev.set()
            if stop_ev.is_set():
                ack_stop(stop_ev)
                _abort(down, "TX half interrupted")
                raise KeyboardInterrupt
            ended.set()
            ctl.join(timeout=link_timeout_s + 1.0)  # sends the rest of the log and the end of the stretch
            fault.raise_if_set()
            # the RX half says when it has everything of this stretch (its final progress message)
            if not rx_final.wait(link_timeout_s):
                raise DeviceError(f"split run: the RX half did not confirm stretch {k} within {link_timeout_s:g} s "
                                  f"(is it running? {link.up})")
            release(sink)
            del tb, sink
            say(f"stretch {k + 1}/{len(plan.spans)} sent")
    except LinksimError as e:
        _abort(down, str(e))
        raise
    finally:
        up.close(linger=0)
        down.close(linger=1000)
    return len(plan.spans)


def _abort(sock: zmq.Socket, why: str) -> None:
    try:
        sock.send(json.dumps({"abort": why}).encode(), flags=zmq.NOBLOCK)
    except zmq.ZMQError:
        pass


def run_rx_half(s: Scenario, out_dir: Path, link: SplitLink, *, duration_s: float | None = None,
                seed: int | None = None, acm: bool | None = None, start_s: float = 0.0, every_s: float | None = None,
                dwell_s: float | None = None, max_iter: int = RX_LDPC_ITERATIONS, report: bool = True,
                progress: Any = None, link_timeout_s: float = DEFAULT_LINK_TIMEOUT_S,
                stop: threading.Event | None = None, bar: Any = None,
                report_if_interrupted: bool = True) -> dict[str, Any]:
    """Receive the IQ of a split run, measure, and write the run directory (as linksim.run.run_scenario does).
    A TX half that is absent, or stops sending IQ or its frame log, for link_timeout_s ends the run with a
    DeviceError after writing what was measured (status partial, link statistics in summary.json)."""
    from gnuradio import blocks, gr

    from ..hw.zmqlink import open_socket, release, zmq_iq_source

    plan = prepare_run(s, duration_s=duration_s, start_s=start_s, every_s=every_s, dwell_s=dwell_s, seed=seed,
                       acm=acm, link_timeout_s=link_timeout_s)
    ctx = zmq.Context.instance()
    up = open_socket(ctx, zmq.PUSH, link.up, bind=False, what="split run control (reports out)",
                     options={zmq.SNDHWM: 1000})
    down = open_socket(ctx, zmq.PULL, link.down, bind=False, what="split run control (MODCODs in)")
    stop_ev = stop or threading.Event()
    links: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one_stretch(k: int, state: RunState, sink: StretchSink) -> str:
        st, note = plan.stretch(k)
        if note and note not in state.notes:
            state.notes.append(note)
        fault = Fault()
        acct = StretchAccount(s, st, plan.timeline, sink.bin_s, st.acm, plan.frame_delay_samples(st))
        log: list[list[Any]] = []
        tx_end = threading.Event()
        rxs: dict[str, Any] = {}

        def on_reports(batch: list, consumed: int) -> None:
            receiver = rxs["rx"]
            if not fault.event.is_set():
                acct.add_reports(batch, receiver.reported_through)
            msg = {"k": k, "processed": int(receiver.samples_processed),
                   "reports": [{"sample_index": int(r.sample_index), "modcod": r.modcod, "frame": r.frame,
                                "pilots": bool(r.pilots), "esn0_est_db": float(r.esn0_est_db),
                                "emitted_after": int(r.emitted_after)} for r in batch if r.modcod != "DUMMY"]}
            with lock:
                try:
                    up.send(json.dumps(msg).encode(), flags=zmq.NOBLOCK)
                except zmq.Again:
                    pass  # the TX half is not reading (gone): its own timeouts and ours say so

        def take_down() -> None:
            while True:
                msg = _recv(down)
                if msg is None:
                    return
                if "abort" in msg:
                    raise DeviceError(f"split run: the TX half stopped ({msg['abort']})")
                if msg.get("k") != k:
                    continue
                if acct.latency is None and "latency" in msg:
                    acct.set_latency(float(msg["latency"]))
                log.extend(msg.get("log", []))
                if msg.get("end"):
                    tx_end.set()

        tb = gr.top_block("linksim_split_rx")
        src = zmq_iq_source(link.iq, bind=False, fill_gaps=True, idle_timeout_s=None)
        head = blocks.head(gr.sizeof_gr_complex, st.n_samples)
        rxc = receive_half(s, st, max_iter, on_reports)
        rxs["rx"] = receiver = rxc.rx._rx  # noqa: SLF001 - the numpy receiver: block-exact counters
        tb.connect(src, head, rxc, blocks.null_sink(gr.sizeof_char))

        def tick() -> None:
            take_down()
            acct.take_log(log)
            rows, bins = acct.settle()
            if rows or bins:
                sink.emit(rows, bins)
            if src.idle_s > link_timeout_s:
                got = src.receiver.stats.samples_received
                raise DeviceError(f"split run: no IQ from the TX half at {link.iq} for {link_timeout_s:g} s "
                                  f"({got} of {st.n_samples} samples of stretch {k} received; TX half gone?)")
            sink.show(receiver._samples_in / st.n_samples)  # noqa: SLF001

        def stats() -> dict[str, Any]:
            d = src.receiver.stats.as_dict()
            got = int(receiver._samples_in)  # noqa: SLF001 - samples that reached the receiver (gaps zero-filled)
            d.update(stretch=k, samples_expected=st.n_samples,
                     samples_missing=int(d["samples_missing"]) + max(0, st.n_samples - got),
                     end_of_stream=bool(d["eos"]) or (tx_end.is_set() and got >= st.n_samples))
            d["ok"] = bool(d["ok"]) and d["samples_missing"] == 0 and d["end_of_stream"]
            return d

        run = FlowgraphRun(tb, [src, rxc], stop_ev, fault=fault, tick=tick, before_stop=acct.freeze)
        try:
            outcome = "complete" if run.run() == "done" else "interrupted"
        except KeyboardInterrupt:
            outcome = "interrupted"
        except LinksimError:
            links.append(stats())
            sink.emit(*acct.cut())
            release(src)
            raise
        try:
            if outcome == "complete":
                with lock:
                    _send(up, {"k": k, "processed": st.n_samples, "reports": [], "final": True}, link_timeout_s,
                          "the TX half")
                deadline = time.monotonic() + link_timeout_s
                while not tx_end.is_set():
                    take_down()
                    if tx_end.is_set():
                        break
                    if stop_ev.is_set():
                        outcome = "interrupted"
                        break
                    if time.monotonic() > deadline:
                        raise DeviceError(f"split run: no end of stretch {k} from the TX half within "
                                          f"{link_timeout_s:g} s (is it running? {link.down})")
                    down.poll(int(POLL_S * 1000))
        except LinksimError:
            links.append(stats())
            acct.take_log(log)
            sink.emit(*acct.cut())
            release(src)
            raise
        links.append(stats())
        if not links[-1]["ok"]:
            d = links[-1]
            state.notes.append(f"IQ link lost {d['samples_missing']} samples in stretch {k} "
                               f"({len(d['gaps'])} gaps): frames there count as errors")
        release(src)
        state.sim_symbols += receiver._samples_in / st.sps  # noqa: SLF001
        acct.take_log(log)
        if outcome == "complete":
            sink.emit(*acct.settle(final=True))
        else:
            ack_stop(stop_ev)
            _abort(up, "RX half interrupted")
            sink.emit(*acct.cut())
        return outcome

    try:
        return write_run(plan, Path(out_dir), one_stretch, report=report, progress=progress, stop=stop_ev,
                         extra={"mode": "split", "iq_link": links, "link_timeout_s": link_timeout_s}, bar=bar,
                         report_if_interrupted=report_if_interrupted)
    except LinksimError as e:
        _abort(up, str(e))
        raise
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
