"""IP traffic over the simulated link, in real time: applications in two network namespaces, the forward link
through the IQ simulation and the return link at packet level.

    gateway namespace --TUN--> GSE -> DVB-S2 TX -> (IQ in flight: the forward delay) -> channel -> pace -> DVB-S2 RX
        -> GSE -> --TUN--> terminal namespace
    terminal namespace --TUN--> return link (rate, loss and delay from linksim.budget.return_link) --TUN--> gateway

The flowgraph runs on the wall clock (linksim.gr.ip): the receiver gets sample n at t0 + n / fs, and the gateway
fills each PLFRAME with the packets queued when it starts sending it, one forward delay earlier. The channel is still
sample-clocked and follows the Timeline (jammers, fades, ACM as in every run). iperf3 (or ping, or the user's
command) runs between the namespaces; a 1 s sampler reads the TCP stack (`ss -ti`) on both sides.

Run directory, besides what every run writes (frames.csv, measured.csv, summary.json, report.html):
    traffic.csv   per second: application goodput (receiver), IP goodput at the terminal's TUN, PHY goodput
                  (decoded data fields), the budget's predicted goodput, RTT, congestion window, retransmits,
                  forward queue and drops
    iperf3.json   iperf3's own JSON (tcp and udp traffic); ping.txt for ping; command.txt for cmd
The summary's "traffic" entry holds the means, the efficiency (application / PHY goodput), the UDP loss next to
the frame-loss model, and TCP's recovery after each jammer stops.
"""

from __future__ import annotations

import contextlib
import csv
import heapq
import json
import math
import os
import re
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..budget.return_link import ReturnSeries, forward_delay_s, return_series
from ..dvbs2.gse import GseDeencapsulator, GseEncapsulator
from ..dvbs2.params import RX_LDPC_ITERATIONS, frame_params
from ..errors import InputError
from ..scenario.model import Scenario
from .metrics import FrameRecord, RunState, settle_stretch
from .netns import GW_ADDR, UT_ADDR, TrafficNet, check_host
from .prepare import RunPlan, Stretch, acm_controller, prepare_run

IPERF_PORT = 5201
PEP_PORT = 5301
FORWARD_QUEUE_S = 0.6  # the gateway's queue holds this much of the carrier's clear-sky rate (drop-tail), about
FORWARD_QUEUE_MIN_BYTES = 16 * 1024  # one GEO bandwidth-delay product, and never less than a few packets
RETURN_QUEUE_S = 0.5
MAX_BEHIND_S = 1.0  # the receiver may fall this far behind the wall clock before the run is stopped
REALTIME_CPU_SHARE = 0.7  # refuse a symbol rate that needs more than this share of one core
UDP_PAYLOAD = 1200
UDP_OMIT_S = 2  # iperf3 -O: UDP counts start 2 s into the test (its set-up has no retry for a lost datagram)
SS_RE = {k: re.compile(rf"\b{k}:([0-9.]+)") for k in ("cwnd", "bytes_acked", "bytes_received", "snd_wnd",
                                                     "bytes_sent", "delivery_rate")}
RTT_RE = re.compile(r"\brtt:([0-9.]+)/")
RETRANS_RE = re.compile(r"\bretrans:\d+/(\d+)")


@dataclass(frozen=True)
class TrafficSpec:
    """What runs between the namespaces: kind tcp | udp | ping | cmd, with the TCP options."""

    kind: str
    rate_bps: float | None = None  # udp
    udp_payload_bytes: int = 1200  # udp
    command: str = ""  # cmd
    cc: str | None = None  # TCP congestion control
    window_bytes: int | None = None  # iperf3 -w
    pep: bool = False

    def describe(self) -> str:
        parts = [self.kind + (f":{self.rate_bps:g}:{self.udp_payload_bytes}" if self.kind == "udp" else "")]
        if self.cc:
            parts.append(f"cc={self.cc}")
        if self.window_bytes:
            parts.append(f"window={self.window_bytes}")
        if self.pep:
            parts.append("pep")
        return " ".join(parts)


def parse_size(text: str, what: str) -> float:
    """'64K', '2M', '500k', '1.5e6' -> a number (K/M/G are powers of 1000 for rates, 1024 for sizes)."""
    m = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([kKmMgG]?)\s*", text)
    if not m:
        raise InputError(f"{what}: {text!r} is not a number (e.g. 500k, 2M)")
    base = 1024 if what.startswith("--tcp-window") else 1000
    v = float(m.group(1)) * base ** {"": 0, "k": 1, "m": 2, "g": 3}[m.group(2).lower()]
    if not v > 0:
        raise InputError(f"{what}: must be positive, not {text!r}")
    return v


def parse_traffic(text: str, cc: str | None = None, window: str | None = None, pep: bool = False) -> TrafficSpec:
    """--traffic tcp | udp[:RATE[:PAYLOAD_BYTES]] | ping | cmd:"COMMAND" (with --tcp-cc, --tcp-window, --pep)."""
    kind, _, arg = text.partition(":")
    if kind not in ("tcp", "udp", "ping", "cmd"):
        raise InputError(f"--traffic {text!r}: expected tcp, udp[:RATE[:BYTES]], ping or cmd:\"COMMAND\"")
    rate = None
    length = UDP_PAYLOAD
    if kind == "udp":
        r_txt, _, l_txt = arg.partition(":")
        rate = parse_size(r_txt, "--traffic udp:RATE") if r_txt else 100e3
        if l_txt:
            length = int(parse_size(l_txt, "--traffic udp:RATE:BYTES"))
            if not 16 <= length <= 1472:
                raise InputError(f"--traffic udp:RATE:BYTES: payload must be 16 to 1472 bytes, not {length}")
    elif kind == "cmd":
        if not arg.strip():
            raise InputError("--traffic cmd:\"COMMAND\": the command is empty")
    elif arg:
        raise InputError(f"--traffic {kind} takes no argument (got {arg!r})")
    if cc is not None:
        avail = Path("/proc/sys/net/ipv4/tcp_available_congestion_control")
        names = avail.read_text().split() if avail.exists() else []
        if names and cc not in names:
            raise InputError(f"--tcp-cc {cc!r}: this kernel offers {', '.join(names)}")
    win = int(parse_size(window, "--tcp-window")) if window else None
    if (cc or win or pep) and kind not in ("tcp", "cmd"):
        raise InputError("--tcp-cc, --tcp-window and --pep apply to --traffic tcp (or cmd)")
    return TrafficSpec(kind, rate, length, arg if kind == "cmd" else "", cc, win, pep)


# ---------------------------------------------------------------------------------------------- real-time budget


def realtime_capacity_baud(s: Scenario, frames: int = 3, acm: bool = False) -> float:
    """Symbols per CPU-second this machine manages for TX + receiver on the scenario's carrier (its MODCOD, or with
    ACM the highest one ACM may pick, the most costly to decode), measured on a few frames now (the second pass:
    compilation excluded), with the low-latency receiver's blocks."""
    from ..dvbs2.rx import Receiver
    from ..dvbs2.tx import Transmitter
    from .loop import low_latency_block_symbols
    from .prepare import acm_allowed

    c = s.carrier
    modcod = acm_allowed(s)[-1] if acm else c.modcod
    rate = math.inf
    for _ in range(2):
        tx = Transmitter(c.frame, c.pilots, c.rolloff, s.channel.sps, 0, "generic")
        rx = Receiver(sps=s.channel.sps, rolloff=c.rolloff,
                      block_symbols=low_latency_block_symbols(c.symbol_rate_baud))
        cap = tx.frame_capacity_bytes(modcod)
        t0 = time.process_time()
        x = tx.shape(np.concatenate([tx.frame_symbols(modcod, bytes(cap)) for _ in range(frames)]))
        x = np.concatenate([x, tx.flush()])
        rx.process(x.astype(np.complex64))
        rx.flush()
        cpu = max(time.process_time() - t0, 1e-6)
        rate = x.size / s.channel.sps / cpu
    return float(rate)


def check_realtime(s: Scenario, acm: bool = False) -> float:
    """Refuse a carrier this machine cannot run in real time; returns the measured capacity (baud per CPU-s)."""
    cap = realtime_capacity_baud(s, acm=acm)
    need = s.carrier.symbol_rate_baud
    if need > REALTIME_CPU_SHARE * cap:
        raise InputError(f"carrier.symbol_rate_baud {need:g}: too fast for a real-time traffic run on this machine "
                         f"(it holds about {REALTIME_CPU_SHARE * cap:,.0f} baud now); lower it with "
                         f"--set carrier.symbol_rate_baud=...")
    return cap


# ---------------------------------------------------------------------------------------------- packet paths


@dataclass
class PacketLog:
    """Forward packets: arrival (wall), length, IP protocol, UDP destination port, frames (TX indices) they used."""

    arrival: list[float] = field(default_factory=list)
    length: list[int] = field(default_factory=list)
    proto: list[int] = field(default_factory=list)
    dport: list[int] = field(default_factory=list)
    frames: list[list[int]] = field(default_factory=list)


def _ip_info(pkt: bytes) -> tuple[int, int]:
    """(IP protocol, destination port) of an IPv4 packet ((0, 0) otherwise)."""
    if len(pkt) < 24 or pkt[0] >> 4 != 4:
        return 0, 0
    ihl = (pkt[0] & 0x0F) * 4
    proto = pkt[9]
    port = int.from_bytes(pkt[ihl + 2 : ihl + 4], "big") if proto in (6, 17) and len(pkt) >= ihl + 4 else 0
    return proto, port


class ForwardLink:
    """The gateway's side of the forward link: TUN -> drop-tail queue -> GSE data fields (for the TX block)."""

    def __init__(self, fd: int, queue_bytes: int) -> None:
        self.fd = fd
        self.enc = GseEncapsulator(label=b"\x00\x00\x01")
        self.queue_bytes = queue_bytes
        self.lock = threading.Lock()
        self.log = PacketLog()
        self.drops = 0
        self.bytes_in = 0

    def on_packet(self, pkt: bytes, now: float) -> None:
        proto, port = _ip_info(pkt)
        with self.lock:
            if self.enc.queued_bytes + len(pkt) > self.queue_bytes:
                self.drops += 1
                return
            tag = len(self.log.arrival)
            self.log.arrival.append(now)
            self.log.length.append(len(pkt))
            self.log.proto.append(proto)
            self.log.dport.append(port)
            self.log.frames.append([])
            self.enc.push(pkt, tag=tag)
            self.bytes_in += len(pkt)

    def fill(self, capacity: int, tx_index: int) -> bytes:
        with self.lock:
            data, placed = self.enc.data_field(capacity)
            for pl in placed:
                self.log.frames[pl.tag].append(tx_index)  # type: ignore[index]
        return data

    def queued(self) -> int:
        with self.lock:
            return self.enc.queued_bytes


class TerminalSide:
    """The terminal's side of the forward link: receiver reports -> GSE -> TUN; counts what it delivers."""

    def __init__(self, fd: int, clock_now: Callable[[], float]) -> None:
        self.fd = fd
        self.dec = GseDeencapsulator()
        self.now = clock_now
        self.delivered: list[tuple[float, int, int, int]] = []  # (wall, length, proto, dport)
        self.write_errors = 0

    def on_reports(self, reports: list) -> None:
        for r in reports:
            if r.modcod == "DUMMY":
                continue
            if not r.ok:
                self.dec.frame_lost()
                continue
            now = self.now()
            for pdu in self.dec.data_field(r.payload):
                try:
                    os.write(self.fd, pdu.data)
                except OSError:
                    self.write_errors += 1
                    continue
                proto, port = _ip_info(pdu.data)
                self.delivered.append((now, len(pdu.data), proto, port))


class ReturnLink:
    """Terminal -> gateway at packet level: serialisation at the return rate, a drop-tail queue, seeded random loss,
    and the delay, all from the return series at the current scenario time."""

    def __init__(self, out: Callable[[bytes], None], series: ReturnSeries, scenario_time: Callable[[float], float],
                 seed: int) -> None:
        self.out = out
        self.series = series
        self.scenario_time = scenario_time
        self.rng = np.random.default_rng(seed)
        self.busy_until = 0.0
        self.heap: list[tuple[float, int, bytes]] = []
        self.seq = 0
        self.sent = self.lost = self.queue_drops = 0

    def on_packet(self, pkt: bytes, now: float) -> None:
        rate, loss, delay = self.series.at(self.scenario_time(now))
        if loss > 0 and self.rng.random() < loss:
            self.lost += 1
            return
        start = max(now, self.busy_until)
        if start - now > RETURN_QUEUE_S:
            self.queue_drops += 1
            return
        done = start + (8.0 * len(pkt) / rate if math.isfinite(rate) and rate > 0 else 0.0)
        self.busy_until = done
        self.seq += 1
        heapq.heappush(self.heap, (done + delay, self.seq, pkt))

    def deliver_due(self, now: float) -> float:
        """Write the packets whose time has come; returns the wall time of the next one (inf if none)."""
        while self.heap and self.heap[0][0] <= now:
            _, _, pkt = heapq.heappop(self.heap)
            try:
                self.out(pkt)
                self.sent += 1
            except OSError:
                self.queue_drops += 1
        return self.heap[0][0] if self.heap else math.inf


def pump(readers: dict[int, Callable[[bytes, float], None]], ret: ReturnLink | None, stop: threading.Event) -> None:
    """Read the TUNs until stop, each packet to its handler (the forward queue, the return link), and deliver the
    return link's packets when due."""
    fds = list(readers)
    while not stop.is_set():
        now = time.monotonic()
        nxt = ret.deliver_due(now) if ret is not None else math.inf
        timeout = min(max(nxt - now, 0.0), 0.01)
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except (OSError, ValueError):
            return
        now = time.monotonic()
        for fd in ready:
            while True:
                try:
                    pkt = os.read(fd, 65535)
                except (BlockingIOError, OSError):
                    break
                if not pkt:
                    break
                readers[fd](pkt, now)


def tun_writer(fd: int) -> Callable[[bytes], None]:
    def write(pkt: bytes) -> None:
        os.write(fd, pkt)

    return write


# ---------------------------------------------------------------------------------------------- TCP sampler


def parse_ss(text: str) -> list[dict[str, float]]:
    """`ss -tinH` output -> one dict per socket (rtt_ms, cwnd, bytes_acked, bytes_received, retrans, snd_wnd)."""
    socks: list[dict[str, float]] = []
    for line in text.splitlines():
        if not line.startswith((" ", "\t")):
            socks.append({})
            continue
        if not socks:
            continue
        d = socks[-1]
        m = RTT_RE.search(line)
        if m:
            d["rtt_ms"] = float(m.group(1))
        m = RETRANS_RE.search(line)
        if m:
            d["retrans"] = float(m.group(1))
        for k, rx in SS_RE.items():
            m = rx.search(line)
            if m:
                d[k] = float(m.group(1))
    return socks


class Sampler:
    """Once a second: the TCP stack on both sides (ss) and the link's counters, on the wall clock."""

    def __init__(self, net: TrafficNet, spec: TrafficSpec) -> None:
        self.net = net
        self.spec = spec
        self.rows: list[dict[str, float]] = []

    def sample(self) -> None:
        now = time.monotonic()
        gw = ut = []
        if self.net.ns_gw:
            gw = parse_ss(self.net.run(self.net.ns_gw, ["ss", "-tinH", "state", "established", "dst", UT_ADDR]))
        if self.net.ns_ut:
            ut_filter = ["sport", "=", f":{IPERF_PORT}"] if self.spec.kind in ("tcp", "udp") else []
            ut = parse_ss(self.net.run(self.net.ns_ut, ["ss", "-tinH", "state", "established", *ut_filter]))
        row: dict[str, float] = {"wall": now}
        if gw:
            main = max(gw, key=lambda d: d.get("bytes_acked", 0.0))
            for k in ("rtt_ms", "cwnd", "snd_wnd"):
                if k in main:
                    row[k] = main[k]
            row["retrans_total"] = sum(d.get("retrans", 0.0) for d in gw)
            row["bytes_acked"] = sum(d.get("bytes_acked", 0.0) for d in gw)
        if self.net.ns_ut:
            row["bytes_received"] = sum(d.get("bytes_received", 0.0) for d in ut)
        self.rows.append(row)

    def loop(self, stop: threading.Event) -> None:
        nxt = time.monotonic()
        while not stop.is_set():
            self.sample()
            nxt += 1.0
            stop.wait(max(nxt - time.monotonic(), 0.05))


# ---------------------------------------------------------------------------------------------- applications


def start_traffic(net: TrafficNet, spec: TrafficSpec, out: Path, seconds: float) -> list[Any]:
    """Start the traffic between the namespaces; returns the processes whose end ends the traffic."""
    start_terminal_side(net, spec, out)
    return start_gateway_side(net, spec, out, seconds)


def start_terminal_side(net: TrafficNet, spec: TrafficSpec, out: Path) -> None:
    """The terminal's side: the iperf3 server (and the terminal's PEP half)."""
    if spec.kind not in ("tcp", "udp"):
        return
    net.popen(net.ns_ut, ["iperf3", "-s", "-1", "-p", str(IPERF_PORT)], stdout=out / "iperf3-server.txt",
              stderr=out / "iperf3-server.txt")
    if spec.pep:
        net.popen(net.ns_ut, [sys.executable, "-m", "linksim.run.pep", "--listen", f"{UT_ADDR}:{PEP_PORT}",
                              "--connect", f"127.0.0.1:{IPERF_PORT}", "--satellite-side", "in",
                              *(["--cc", spec.cc] if spec.cc else [])], stderr=out / "pep-terminal.txt")
    time.sleep(1.0 if spec.pep else 0.3)


def start_gateway_side(net: TrafficNet, spec: TrafficSpec, out: Path, seconds: float) -> list[Any]:
    """The gateway's side: iperf3's client (through the gateway's PEP half), ping or the user's command."""
    t = max(1, int(seconds))
    if spec.kind in ("tcp", "udp"):
        target = UT_ADDR
        if spec.pep:
            target = GW_ADDR
            net.popen(net.ns_gw, [sys.executable, "-m", "linksim.run.pep", "--listen", f"{GW_ADDR}:{IPERF_PORT}",
                                  "--connect", f"{UT_ADDR}:{PEP_PORT}", "--satellite-side", "out",
                                  *(["--cc", spec.cc] if spec.cc else [])], stderr=out / "pep-gateway.txt")
            time.sleep(1.0)
        argv = ["iperf3", "-c", target, "-p", str(IPERF_PORT), "-t", str(t), "-i", "1", "-J", "--get-server-output"]
        if spec.kind == "udp":
            argv += ["-u", "-l", str(spec.udp_payload_bytes), "-b", str(int(spec.rate_bps or 100e3)),
                     "-O", str(UDP_OMIT_S)]
        if spec.cc and not spec.pep:
            argv += ["-C", spec.cc]
        if spec.window_bytes:
            argv += ["-w", str(spec.window_bytes)]
        return [net.popen(net.ns_gw, argv, stdout=out / "iperf3.json", stderr=out / "iperf3-client.txt")]
    if spec.kind == "ping":
        return [net.popen(net.ns_gw, ["ping", "-D", "-i", "0.5", "-w", str(t), UT_ADDR], stdout=out / "ping.txt",
                          stderr=out / "ping.txt")]
    env = dict(os.environ, LINKSIM_GATEWAY_NS=net.ns_gw, LINKSIM_TERMINAL_NS=net.ns_ut, LINKSIM_GATEWAY_IP=GW_ADDR,
               LINKSIM_TERMINAL_IP=UT_ADDR)
    return [net.popen(net.ns_gw, ["sh", "-c", spec.command], stdout=out / "command.txt", stderr=out / "command.txt",
                      env=env)]


def tune_namespaces(net: TrafficNet, spec: TrafficSpec) -> None:
    """No IPv6 chatter on the link; the congestion control asked for; a PEP's large initial window."""
    for ns in (x for x in (net.ns_gw, net.ns_ut) if x):
        net.run(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        if spec.cc and not spec.pep:
            net.run(ns, ["sysctl", "-qw", f"net.ipv4.tcp_congestion_control={spec.cc}"])
    if spec.pep:  # the satellite segment starts with a large window, as PEPs do
        for ns, dev, peer in ((net.ns_gw, net.dev_gw, UT_ADDR), (net.ns_ut, net.dev_ut, GW_ADDR)):
            if ns:
                net.run(ns, ["ip", "route", "replace", f"{peer}/32", "dev", dev, "initcwnd", "64", "initrwnd",
                             "64"])


# ---------------------------------------------------------------------------------------------- the run


@dataclass
class TrafficResult:
    frames: list[FrameRecord]
    bins: list[dict[str, Any]]
    extra: dict[str, Any]


def paced_receiver(tb: Any, src: Any, s: Scenario, st: Stretch, clock: Any, max_iter: int,
                   on_reports: Callable[[list, int], None]) -> Any:
    """src -> pace to the wall clock -> head(stretch) -> DVB-S2 receiver (low latency: linksim.run.loop.receive_half)
    in tb; returns the head (its count is the receiver's progress)."""
    from gnuradio import blocks, gr

    from ..gr.ip import pace_cc
    from .loop import receive_half

    chain = [src, pace_cc(clock), blocks.head(gr.sizeof_gr_complex, st.n_samples),
             receive_half(s, st, max_iter, on_reports, low_latency=True), blocks.null_sink(gr.sizeof_char)]
    tb.connect(*chain)
    tb.linksim_blocks = chain  # Python blocks must outlive this function (GNU Radio holds no Python reference)
    return chain[2]


def stop_all(net: TrafficNet, stop: threading.Event, apps: list, tb: Any, loop: Any, threads: list[threading.Thread],
             then: Callable[[], None] | None = None) -> None:
    """Whatever happened: the applications, the flowgraph, the ACM loop, the link's threads, `then`, and last (even
    if one of those fails) the namespaces and TUN devices."""
    stop.set()
    try:
        for p in apps:
            net.stop_process(p, grace_s=3.0)
        if tb is not None:
            tb.stop()
            tb.wait()
        if loop is not None:
            loop.finish()
        for th in threads:
            th.join(timeout=5.0)
        if then is not None:
            then()
    finally:
        net.close()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends a traffic run as Ctrl-C does: everything stopped and removed, what was measured kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def application_seconds(plan: RunPlan) -> float:
    """How long the application runs: the stretch less its set-up (a few round trips over the link) and the time
    its last data needs to arrive. Refuses a run too short for any."""
    s, tl = plan.scenario, plan.timeline
    c = s.carrier
    t0, t1 = plan.spans[0]
    frame_s = frame_params(c.modcod, c.frame, c.pilots).plframe_symbols / c.symbol_rate_baud
    fwd = float(np.interp(t0, tl.time_s, forward_delay_s(tl)))
    rtt_est = fwd + float(np.nanmean(return_series(tl).delay_s)) + 2.0 * frame_s
    app_s = (t1 - t0) - 8.0 * rtt_est - 3.0
    if app_s < 1.0:
        raise InputError(f"--duration: too short for traffic over a {rtt_est * 1e3:.0f} ms round trip "
                         f"(give at least {t1 - t0 - app_s + 1.0:.0f} s)")
    return app_s


def check_plain_carrier(s: Scenario) -> None:
    """IP traffic rides a plain carrier: its transmit chain (linksim.gr.ip) neither spreads nor hops."""
    if s.carrier.spreading_factor > 1:
        raise InputError(f"carrier.spreading_factor {s.carrier.spreading_factor}: --traffic runs carry a plain "
                         "carrier (spreading_factor 1, no [carrier.hopping])")
    if s.carrier.hopping is not None:
        raise InputError("carrier.hopping: --traffic runs carry a plain carrier (spreading_factor 1, no "
                         "[carrier.hopping])")


def run_traffic(scenario: Scenario, out_dir: Path, spec: TrafficSpec, *, duration_s: float | None = None,
                seed: int | None = None, acm: bool | None = None, start_s: float = 0.0,
                progress: Callable[[str], None] | None = None, report: bool = True,
                max_iter: int = RX_LDPC_ITERATIONS, stop: threading.Event | None = None,
                check_cpu: bool = True) -> dict[str, Any]:
    """A real-time IP traffic run (module docstring); returns the summary. Refuses without root, TUN, the
    programs it needs, or a machine fast enough for the carrier in real time."""
    from .loop import _json_safe, write_run

    check_plain_carrier(scenario)
    need = ["ip", "ss"] + (["iperf3"] if spec.kind in ("tcp", "udp") else []) + (["ping"] if spec.kind == "ping"
                                                                                    else [])
    check_host(tuple(need))
    plan = prepare_run(scenario, duration_s=duration_s, start_s=start_s, seed=seed, acm=acm)
    if not plan.spans:
        raise InputError("--traffic: the satellite is below the terminal's minimum elevation for the whole run")
    application_seconds(plan)
    cap = check_realtime(scenario, plan.acm) if check_cpu else math.nan
    out = Path(out_dir)
    extra: dict[str, Any] = {"mode": "traffic"}
    behind: list[str] = []
    interrupted: list[bool] = []
    run_stop = threading.Event()  # write_run's: left clear so the stretch's results are written

    def one_stretch(k: int, state: RunState, sink: Any) -> str:
        res = _traffic_stretch(plan, k, spec, out, state, stop or threading.Event(), max_iter, behind, progress,
                               interrupted, sink.bin_s)
        extra.update(res.extra)
        extra["traffic"]["capacity_baud_per_cpu_s"] = cap
        sink.emit(res.frames, res.bins)
        return "interrupted" if interrupted else "complete"

    with sigterm_as_interrupt():  # an interrupted stretch: write_run keeps what was measured, then re-raises
        sm = write_run(plan, out, one_stretch, report=report, progress=progress, stop=run_stop, extra=extra)
    if behind:
        sm["status"] = "partial"
        (out / "summary.json").write_text(json.dumps(_json_safe(sm), indent=2))
        raise InputError(behind[0])
    return sm


def _traffic_stretch(plan: RunPlan, k: int, spec: TrafficSpec, out: Path, state: RunState, stop: threading.Event,
                     max_iter: int, behind: list[str], progress: Callable[[str], None] | None,
                     interrupted: list[bool], bin_s: float) -> TrafficResult:
    from gnuradio import gr

    from ..channel.from_budget import channel_from_timeline
    from ..gr.buffers import BUFFER_ITEMS
    from ..gr.ip import WallClock, ip_transmit_chain
    from .loop import AcmLoop

    s, tl = plan.scenario, plan.timeline
    st, note = plan.stretch(k)
    if note and note not in state.notes:
        state.notes.append(note)
    say = progress or (lambda m: None)
    c = s.carrier
    fwd_delay = float(np.interp(st.t0_s, tl.time_s, forward_delay_s(tl)))
    ret_series = return_series(tl)
    clock = WallClock(st.fs)

    def scenario_time(wall: float) -> float:
        return st.t_base_s + (wall - clock.t0)

    clear_rate = c.symbol_rate_baud * frame_params(c.modcod, c.frame, c.pilots).efficiency
    app_s = application_seconds(plan)
    net = TrafficNet()
    tb = None
    apps: list = []
    threads: list[threading.Thread] = []
    link_stop = threading.Event()
    loop = None
    worst = 0.0
    try:
        tune_namespaces(net, spec)
        fwd = ForwardLink(net.fd_gw, max(FORWARD_QUEUE_MIN_BYTES, int(FORWARD_QUEUE_S * clear_rate / 8)))
        term = TerminalSide(net.fd_ut, time.monotonic)
        ret = ReturnLink(tun_writer(net.fd_gw), ret_series, scenario_time, st.channel_seed + 17)
        ch = channel_from_timeline(tl, st.t_base_s, st.t_end_s, st.sps, st.channel_seed)
        txc = ip_transmit_chain(st.initial_modcod, c.frame, c.pilots, c.rolloff, st.sps, fwd.fill, clock, fwd_delay,
                                ch, ccm=not st.acm)
        in_flight = int(fwd_delay * st.fs) + 2 * BUFFER_ITEMS
        for b in (txc.source, txc.channel):
            b.set_min_output_buffer(in_flight)
        if st.acm:
            ret_delay = float(np.nanmean(ret_series.delay_s))
            ctl = acm_controller(s, fwd_delay + ret_delay, st.initial_modcod)
            loop = AcmLoop(ctl, st.fs, st.sps, st.t_base_s, fwd_delay + ret_delay, st.n_samples)
            txc.source.modcod_source = loop.modcod_at
        reports: list = []

        def on_reports(batch: list, consumed: int) -> None:
            reports.extend(batch)
            term.on_reports(batch)
            if loop is not None:
                loop.rx_progress(batch, consumed)

        tb = gr.top_block("linksim_traffic")
        head = paced_receiver(tb, txc, s, st, clock, max_iter, on_reports)
        sampler = Sampler(net, spec)
        readers = {net.fd_gw: fwd.on_packet, net.fd_ut: ret.on_packet}
        threads = [threading.Thread(target=pump, args=(readers, ret, link_stop), daemon=True),
                   threading.Thread(target=sampler.loop, args=(link_stop,), daemon=True)]
        clock.start()
        tb.start()
        for th in threads:
            th.start()
        t_meas = clock.at((st.t0_s - st.t_base_s) * st.fs)
        t_end = clock.at(st.n_samples)
        while time.monotonic() < t_meas and not stop.is_set():
            time.sleep(0.02)
        if not stop.is_set():
            apps = start_traffic(net, spec, out, app_s)
        say(f"traffic {spec.describe()} over {c.symbol_rate_baud / 1e3:g} kbaud, forward delay "
            f"{fwd_delay * 1e3:.0f} ms, return link {ret_series.described}")
        while not stop.is_set():
            now = time.monotonic()
            if now >= t_end + 2.0 or head.nitems_written(0) >= st.n_samples:
                break
            lag = (now - clock.t0) - head.nitems_written(0) / st.fs  # samples the receiver has taken
            worst = max(worst, lag - fwd_delay if now < t_end else 0.0)
            if now < t_end and lag > MAX_BEHIND_S + fwd_delay:
                behind.append(f"carrier.symbol_rate_baud {c.symbol_rate_baud:g}: the receiver fell {lag:.1f} s "
                              f"behind real time at {scenario_time(now):.1f} s; lower it with --set "
                              f"carrier.symbol_rate_baud=... (results so far are in {out})")
                state.notes.append(behind[0])
                break
            time.sleep(0.1)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop everything below, keep what was measured
        stop.set()
        interrupted.append(True)
    finally:
        stop_all(net, link_stop, apps, tb, loop, threads)
    if tb is None:
        return TrafficResult([], [], {"traffic": {"spec": spec.describe()}})
    state.sim_symbols += head.nitems_written(0) / st.sps

    def settle(width_s: float) -> tuple[list[FrameRecord], list[dict[str, Any]]]:
        return settle_stretch(s, st, tl, width_s, st.acm, txc.source.frame_log, reports, txc.latency_samples,
                              plan.frame_delay_samples(st))

    frames, bins = settle(bin_s)
    extra = _results(plan, st, spec, out, clock, frames, settle(1.0)[1], fwd, term, ret, sampler, fwd_delay,
                     ret_series, worst, txc.source.late_s)
    return TrafficResult(frames, bins, extra)


# ---------------------------------------------------------------------------------------------- results


def _per_second(times: list[float], values: list[float], edges: np.ndarray) -> np.ndarray:
    if not times:
        return np.zeros(len(edges) - 1)
    return np.histogram(np.asarray(times), bins=edges, weights=np.asarray(values, dtype=float))[0]


def _results(plan: RunPlan, st: Stretch, spec: TrafficSpec, out: Path, clock: Any, frames: list[FrameRecord],
             bins: list[dict[str, Any]], fwd: ForwardLink, term: TerminalSide, ret: ReturnLink, sampler: Sampler,
             fwd_delay: float, ret_series: ReturnSeries, worst_behind_s: float, late_s: float,
             fwd_scn: Callable[[float], float] | None = None) -> dict[str, Any]:
    """traffic.csv and the summary's "traffic" entry. Times: wall clock of this process, turned into scenario time
    (sampler rows may carry their scenario time "t_s" instead, and fwd_scn maps the forward packets' arrival times
    when they come from another host)."""
    s = plan.scenario
    t0, t1 = st.t0_s, st.t1_s

    def scn(wall: float) -> float:
        return st.t_base_s + (wall - clock.t0)

    edges = np.arange(t0, t1 + 1e-9, 1.0)
    if edges.size < 2:
        edges = np.array([t0, t1])
    width = np.diff(edges)
    # PHY goodput: decoded data fields; prediction: the budget's, per second
    phy = _per_second([f.time_s for f in frames if f.ok], [f.info_bits for f in frames if f.ok], edges) / width
    # bins: the stretch's 1 s bins (metrics.settle_stretch), for the budget's prediction per second
    pred = np.full(len(edges) - 1, np.nan)
    for b in bins:
        i = int(round(b["time_s"] - t0))
        if 0 <= i < pred.size:
            pred[i] = b["predicted_goodput_bps"]
    # IP goodput delivered to the terminal's TUN; application goodput at the receiver
    ip_bits = _per_second([scn(w) for w, *_ in term.delivered], [8.0 * n for _, n, _, _ in term.delivered], edges)
    udp = [(w, n) for w, n, p, port in term.delivered if p == 17 and port == IPERF_PORT]
    rows = sampler.rows
    app = np.full(len(edges) - 1, np.nan)
    rtt = np.full(len(edges) - 1, np.nan)
    cwnd = np.full(len(edges) - 1, np.nan)
    retr = np.full(len(edges) - 1, np.nan)
    wnd = np.full(len(edges) - 1, np.nan)
    if spec.kind == "udp":
        app = _per_second([scn(w) for w, _ in udp], [8.0 * (n - 28) for _, n in udp], edges) / width
    elif spec.kind in ("tcp", "cmd") and len(rows) > 1:
        # the stack's counters are cumulative: read them at the bin edges (linear between samples, 1 s apart)
        rows = sorted(rows, key=lambda r: r["t_s"] if "t_s" in r else scn(r["wall"]))
        ts = np.array([r["t_s"] if "t_s" in r else scn(r["wall"]) for r in rows])
        recv = np.maximum.accumulate([r.get("bytes_received", 0.0) for r in rows])
        retx = np.maximum.accumulate([r.get("retrans_total", 0.0) for r in rows])
        inside = (edges >= ts[0]) & (edges <= ts[-1])
        cum_rx = np.where(inside, np.interp(edges, ts, recv), np.nan)
        cum_re = np.where(inside, np.interp(edges, ts, retx), np.nan)
        app = 8.0 * np.diff(cum_rx) / width
        retr = np.diff(cum_re)
        for r, t in zip(rows, ts, strict=True):
            i = int(np.floor(t - t0))
            if 0 <= i < app.size:
                rtt[i] = r.get("rtt_ms", rtt[i])
                cwnd[i] = r.get("cwnd", cwnd[i])
                wnd[i] = r.get("snd_wnd", wnd[i])
    ping_rtt = _ping_rtts(out / "ping.txt", scn, edges) if spec.kind == "ping" else None
    if ping_rtt is not None:
        rtt = ping_rtt
    cols = {"time_s": edges[:-1], "app_goodput_bps": app, "ip_goodput_bps": ip_bits / width, "phy_goodput_bps": phy,
            "predicted_goodput_bps": pred, "rtt_ms": rtt, "cwnd_packets": cwnd, "send_window_bytes": wnd,
            "retransmits": retr}
    with open(out / "traffic.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(cols))
        for i in range(len(edges) - 1):
            w.writerow([f"{cols[k][i]:.6g}" if np.isfinite(cols[k][i]) else "" for k in cols])
    iperf = _read_iperf(out / "iperf3.json")
    # measure over the seconds the application ran (from its first delivered byte to its last)
    active = np.isfinite(app) & (app > 0.1 * np.nanmax(app)) if np.isfinite(app).any() else np.zeros(app.size, bool)
    if active.any():
        i0, i1 = int(np.argmax(active)), int(len(active) - np.argmax(active[::-1]))
        sl = slice(min(i0 + 1, i1 - 1), max(i1 - 1, i0 + 1))  # leave out the partial first and last seconds
    else:
        sl = slice(0, 0)
    app_mean = float(np.nanmean(app[sl])) if sl.stop > sl.start else math.nan
    phy_mean = float(np.nanmean(phy[sl])) if sl.stop > sl.start else math.nan
    pred_mean = float(np.nanmean(pred[sl])) if sl.stop > sl.start and np.isfinite(pred[sl]).any() else math.nan
    fin = [r for r in (rtt if spec.kind == "ping" else rtt[sl]) if np.isfinite(r)]
    summary: dict[str, Any] = {
        "spec": spec.describe(), "kind": spec.kind, "cc": spec.cc, "window_bytes": spec.window_bytes, "pep": spec.pep,
        "forward_delay_s": fwd_delay, "return_link": ret_series.described,
        "return_delay_s_mean": float(np.nanmean(ret_series.delay_s)),
        "measured_from_s": float(edges[sl.start]) if sl.stop > sl.start else None,
        "measured_to_s": float(edges[sl.stop]) if sl.stop > sl.start else None,
        "app_goodput_bps_mean": app_mean, "phy_goodput_bps_mean": phy_mean,
        "predicted_goodput_bps_mean": pred_mean,
        "efficiency": app_mean / phy_mean if phy_mean > 0 else math.nan,
        "rtt_ms_median": float(np.median(fin)) if fin else math.nan,
        "retransmits": float(np.nansum(retr)) if spec.kind in ("tcp", "cmd") else None,
        "forward_packets": len(fwd.log.arrival), "forward_queue_drops": fwd.drops,
        "forward_queue_bytes": fwd.queue_bytes, "delivered_packets": len(term.delivered),
        "gse": term.dec.stats.as_dict(), "return_packets": ret.sent, "return_lost": ret.lost,
        "return_queue_drops": ret.queue_drops, "worst_behind_s": worst_behind_s, "worst_frame_late_s": late_s,
        "iperf3": iperf,
    }
    if spec.kind in ("tcp", "cmd"):
        wmed = [x for x in wnd[sl] if np.isfinite(x)]
        if wmed and fin:
            summary["window_limit_bps"] = 8.0 * float(np.median(wmed)) / (float(np.median(fin)) / 1e3)
        summary["recovery"] = _recovery(s, app, phy, edges)
    if spec.kind == "udp":
        summary["udp_loss"] = udp_loss_model(fwd.log, frames, iperf, st.t0_s, fwd_scn or scn)
    return {"traffic": summary}


def _ping_rtts(path: Path, scn: Callable[[float], float], edges: np.ndarray) -> np.ndarray:
    out = np.full(len(edges) - 1, np.nan)
    if not path.exists():
        return out
    mono_minus_wall = time.monotonic() - time.time()
    for line in path.read_text(errors="replace").splitlines():
        m = re.match(r"\[([0-9.]+)\].*time=([0-9.]+) ms", line)
        if m:
            t = scn(float(m.group(1)) + mono_minus_wall)
            i = int(np.floor(t - edges[0]))
            if 0 <= i < out.size:
                out[i] = float(m.group(2)) if not np.isfinite(out[i]) else min(out[i], float(m.group(2)))
    return out


def _read_iperf(path: Path) -> dict[str, Any] | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {"error": "iperf3 wrote no complete JSON (stopped early?)"}
    end = doc.get("end", {})
    res: dict[str, Any] = {"error": doc.get("error")}
    if res["error"]:  # an interrupted test: its end sums are the sender's so far, not the receiver's
        return res
    if "sum_received" in end:
        res["received_bps"] = end["sum_received"].get("bits_per_second")
        res["sent_bps"] = end.get("sum_sent", {}).get("bits_per_second")
        res["retransmits"] = end.get("sum_sent", {}).get("retransmits")
    srv = doc.get("server_output_json") or {}
    ssum = srv.get("end", {}).get("sum", {})
    if "lost_packets" in ssum:
        res["udp_packets"] = ssum.get("packets")
        res["udp_lost_packets"] = ssum.get("lost_packets")
        res["udp_lost_percent"] = ssum.get("lost_percent")
        res["received_bps"] = ssum.get("bits_per_second")
    elif "lost_packets" in end.get("sum", {}):
        sm = end["sum"]
        res["udp_packets"], res["udp_lost_packets"] = sm.get("packets"), sm.get("lost_packets")
        res["udp_lost_percent"] = sm.get("lost_percent")
    streams = end.get("streams", [])
    if streams and "sender" in streams[0]:
        snd = streams[0]["sender"]
        for k in ("mean_rtt", "min_rtt", "max_rtt", "max_snd_cwnd"):
            if k in snd:
                res[k] = snd[k]
    return res


def udp_loss_model(log: PacketLog, frames: list[FrameRecord], iperf: dict[str, Any] | None, t0_s: float,
                   scn: Callable[[float], float]) -> dict[str, Any]:
    """iperf3's UDP loss next to the frame-loss model: a lost frame loses every packet or fragment it carries, so a
    packet that used k frames is lost with probability 1 - (1 - FER)^k; the expected loss ratio is the mean of that
    over the packets, and iperf3's count must fall in the 95 % binomial interval around it. The model takes the
    packets iperf3 counts (from UDP_OMIT_S after its first datagram) and the FER of the frames that carried them."""
    from scipy.stats import binom

    ok_by_index = {f.tx_index: f.ok for f in frames}
    udp = [i for i in range(len(log.arrival)) if log.proto[i] == 17 and log.dport[i] == IPERF_PORT
           and scn(log.arrival[i]) >= t0_s]
    t_from = scn(log.arrival[udp[0]]) + UDP_OMIT_S if udp else math.inf
    ks, used_frames, lost_exact = [], set(), 0
    for i in udp:
        if scn(log.arrival[i]) < t_from:
            continue
        used = [ok_by_index.get(j) for j in log.frames[i]]
        if not used or any(u is None for u in used):
            continue  # not sent inside the measured frames
        ks.append(len(used))
        used_frames.update(log.frames[i])
        lost_exact += 0 if all(used) else 1
    if used_frames:
        lo_f, hi_f = min(used_frames), max(used_frames)
        span = [f for f in frames if lo_f <= f.tx_index <= hi_f]
        fer = sum(1 for f in span if not f.ok) / len(span)
    else:
        fer = math.nan
    n = len(ks)
    res: dict[str, Any] = {"fer": fer, "packets_model": n, "frames_per_packet_mean": float(np.mean(ks)) if ks else None,
                           "lost_by_frame_log": lost_exact, "counted_from_s": t_from if udp else None}
    if n and math.isfinite(fer):
        p = float(np.mean(1.0 - (1.0 - fer) ** np.asarray(ks)))
        lo, hi = binom.ppf(0.025, n, p), binom.ppf(0.975, n, p)
        res.update(expected_loss_ratio=p, interval_95=[float(lo) / n, float(hi) / n])
        if iperf and iperf.get("udp_packets") and not iperf.get("error"):
            r = float(iperf["udp_lost_packets"]) / float(iperf["udp_packets"])
            n_i = int(iperf["udp_packets"])
            lo_i, hi_i = binom.ppf(0.025, n_i, p) / n_i, binom.ppf(0.975, n_i, p) / n_i
            res.update(iperf3_loss_ratio=r, iperf3_interval_95=[float(lo_i), float(hi_i)],
                       within_interval=bool(lo_i <= r <= hi_i))
    return res


def _recovery(s: Scenario, app: np.ndarray, phy: np.ndarray, edges: np.ndarray) -> list[dict[str, Any]]:
    """After each jammer stops inside the run: seconds until the application's goodput is back to 80 % of the PHY
    goodput of that second (and the PHY's own recovery, for comparison)."""
    res = []
    for j in s.jammers:
        if j.stop_s is None or not edges[0] < j.stop_s < edges[-1]:
            continue
        i0 = int(np.searchsorted(edges, j.stop_s, side="right") - 1)
        phy_back = app_back = None
        ref = np.nanmedian(phy[: max(int(np.searchsorted(edges, j.start_s)) - 1, 1)]) if j.start_s > edges[0] \
            else np.nanmax(phy)
        for i in range(i0, len(app)):
            if phy_back is None and phy[i] >= 0.8 * ref:
                phy_back = float(edges[i] - j.stop_s)
            if app_back is None and phy[i] > 0 and np.isfinite(app[i]) and app[i] >= 0.8 * phy[i]:
                app_back = float(edges[i] - j.stop_s)
        res.append({"jammer": j.name, "start_s": j.start_s, "stop_s": j.stop_s, "phy_recovery_s": phy_back,
                    "app_recovery_s": app_back})
    return res


__all__ = ["TrafficSpec", "check_plain_carrier", "check_realtime", "parse_traffic", "run_traffic",
           "sigterm_as_interrupt", "udp_loss_model"]
