"""IQ links between processes or hosts over ZeroMQ that COUNT samples: drops and gaps are detected and
reported, never silent.

Every message is two frames: a 32-byte header and the complex64 samples. The header carries a magic, a stream id
(random per sender start), a message sequence number and the index of the message's first sample on the sender's
sample clock. The receiver checks both: a jump in the sample index is a gap of exactly that many samples (filled
with zeros by default so the receiver's sample clock stays aligned with the sender's); a new stream id is a
sender restart; an end-of-stream message ends the receiving flowgraph cleanly.

Patterns: `pushpull` (default; PUSH blocks at its high-water mark instead of dropping: lossless unless a process
dies) and `pubsub` (PUB drops silently at its high-water mark in ZeroMQ; here the drops show up as gaps).

Pure pyzmq: `IQSender`, `IQReceiver` (numpy arrays in and out). GNU Radio: `zmq_iq_sink(address, ...)` and
`zmq_iq_source(address, ...)` (Python blocks over the same classes; importing them needs GNU Radio).

Nothing blocks for good: a send waits for room in steps of SEND_POLL_S, gives up with a DeviceError after
`send_timeout_s` (if set), and ends at once when the sender is aborted (`abort()`, as a run does when it stops its
flowgraph); the blocks' `abort()` make the sink and source report themselves done.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zmq

from ..errors import DeviceError, InputError
from ..gr.buffers import large_output_buffer

MAGIC = b"LSIQ"
VERSION = 1
HEADER = struct.Struct("<4sBBHIQQI")  # magic, version, flags, reserved, stream id, seq, first sample, n samples
FLAG_EOS = 1
PATTERNS = ("pushpull", "pubsub")
SEND_POLL_S = 0.1  # a blocked send looks at its abort flag this often
FINAL_SEND_TIMEOUT_S = 5.0  # the last chunk at the end of a stream waits at most this long (no send timeout set)


class LinkAborted(DeviceError):
    """The link was aborted while a send or receive waited (the run is stopping): not a failure of its own."""


@dataclass
class LinkStats:
    """What a receiver saw. Sample counts are in complex samples on the sender's sample clock."""

    messages: int = 0
    samples_received: int = 0
    samples_missing: int = 0
    messages_missing: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (first missing sample index, count)
    restarts: int = 0
    out_of_order: int = 0
    eos: bool = False
    truncated: bool = False  # the receiver gave up waiting before an end-of-stream: a lost tail is unknowable
    stream_id: int | None = None

    @property
    def ok(self) -> bool:
        """True when nothing was lost, reordered, restarted or cut short."""
        return self.samples_missing == 0 and self.out_of_order == 0 and self.restarts == 0 and not self.truncated

    def summary(self) -> str:
        """One line for logs and run reports."""
        if self.ok:
            return f"IQ link ok: {self.samples_received} samples in {self.messages} messages, no gaps"
        return (
            f"IQ link LOST {self.samples_missing} samples in {len(self.gaps)} gaps "
            f"({self.messages_missing} messages); {self.samples_received} received, "
            f"{self.restarts} sender restarts, {self.out_of_order} out of order"
            + ("; ended without end-of-stream (tail unknown)" if self.truncated else "")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "samples_received": self.samples_received,
            "samples_missing": self.samples_missing,
            "messages_missing": self.messages_missing,
            "gaps": [list(g) for g in self.gaps],
            "restarts": self.restarts,
            "out_of_order": self.out_of_order,
            "eos": self.eos,
            "truncated": self.truncated,
            "ok": self.ok,
        }


def open_socket(ctx: zmq.Context, kind: int, address: str, *, bind: bool, what: str,
                options: dict[int, Any] | None = None) -> zmq.Socket:
    """A ZMQ socket of `kind` with `options` set, bound to or connected to `address`; an address that cannot be
    used (taken, malformed, unknown host) is a DeviceError naming `what` and the address, not a traceback."""
    sock = ctx.socket(kind)
    try:
        for opt, val in (options or {}).items():
            sock.setsockopt(opt, val)
        (sock.bind if bind else sock.connect)(address)
    except zmq.ZMQError as e:
        sock.close(0)
        raise DeviceError(f"{what} cannot {'bind' if bind else 'connect'} {address}: {e}") from None
    return sock


def _check_pattern(pattern: str) -> None:
    if pattern not in PATTERNS:
        raise InputError(f"ZMQ pattern {pattern!r} is not one of {', '.join(PATTERNS)}")


class IQSender:
    """Sends complex64 sample blocks with counting headers. Binds by default (`tcp://*:5555`)."""

    def __init__(
        self,
        address: str,
        *,
        pattern: str = "pushpull",
        bind: bool = True,
        hwm: int = 64,
        send_timeout_s: float | None = None,
        context: zmq.Context | None = None,
    ) -> None:
        _check_pattern(pattern)
        self.address = address
        self.pattern = pattern
        self._ctx = context or zmq.Context.instance()
        opts = {zmq.SNDHWM: int(hwm), zmq.LINGER: 2000}
        if send_timeout_s is not None:
            opts[zmq.SNDTIMEO] = int(send_timeout_s * 1000)
        self._sock = open_socket(self._ctx, zmq.PUSH if pattern == "pushpull" else zmq.PUB, address, bind=bind,
                                 what="ZMQ IQ sender", options=opts)
        # the address actually bound (resolves a wildcard port such as tcp://127.0.0.1:*)
        self.endpoint = self._sock.getsockopt_string(zmq.LAST_ENDPOINT) if bind else address
        self.stream_id = int.from_bytes(os.urandom(4), "little")
        self.seq = 0
        self.next_sample = 0
        self.closed = False
        self.send_timeout_s = send_timeout_s
        self.aborted = threading.Event()

    def abort(self) -> None:
        """End a send that waits for room (it raises LinkAborted), now and from now on."""
        self.aborted.set()

    def send(self, samples: np.ndarray) -> None:
        """Send one block of samples (any length >= 1; converted to complex64). Waits while the receiver is slow or
        absent: DeviceError after send_timeout_s, LinkAborted once aborted."""
        x = np.ascontiguousarray(samples, dtype=np.complex64)
        head = HEADER.pack(MAGIC, VERSION, 0, 0, self.stream_id, self.seq, self.next_sample, x.size)
        deadline = None if self.send_timeout_s is None else time.monotonic() + self.send_timeout_s
        while True:
            if self.aborted.is_set():
                raise LinkAborted(f"ZMQ IQ sender {self.address}: aborted")
            try:
                # x may view a GNU Radio buffer: copy now
                self._sock.send_multipart([head, x], copy=True, flags=zmq.NOBLOCK)
                break
            except zmq.Again:
                if deadline is not None and time.monotonic() > deadline:
                    raise DeviceError(f"ZMQ IQ sender {self.address}: receiver not taking samples for "
                                      f"{self.send_timeout_s:g} s (gone?)") from None
                self._sock.poll(int(SEND_POLL_S * 1000), zmq.POLLOUT)
            except zmq.ZMQError as e:
                raise DeviceError(f"ZMQ IQ sender {self.address}: {e}") from None
        self.seq += 1
        self.next_sample += x.size

    def close(self, eos: bool = True) -> None:
        """Send end-of-stream (so the receiver finishes) and close."""
        if self.closed:
            return
        self.closed = True
        if eos:
            head = HEADER.pack(MAGIC, VERSION, FLAG_EOS, 0, self.stream_id, self.seq, self.next_sample, 0)
            # PUB drops silently when its queue is full: repeat end-of-stream while the queue drains, so the
            # receiver learns the final sample count (and so the size of any tail it lost).
            for _ in range(1 if self.pattern == "pushpull" else 5):
                try:
                    self._sock.send_multipart([head, b""], flags=zmq.NOBLOCK)
                except zmq.ZMQError:
                    pass
                if self.pattern == "pubsub":
                    time.sleep(0.05)
        self._sock.close(linger=0 if self.aborted.is_set() else None)  # aborted: drop what is queued


class IQReceiver:
    """Receives sample blocks, checks the counting headers and keeps `stats`. Connects by default."""

    def __init__(
        self,
        address: str,
        *,
        pattern: str = "pushpull",
        bind: bool = False,
        hwm: int = 64,
        fill_gaps: bool = True,
        context: zmq.Context | None = None,
    ) -> None:
        _check_pattern(pattern)
        self.address = address
        self.fill_gaps = fill_gaps
        self._ctx = context or zmq.Context.instance()
        opts: dict[int, Any] = {zmq.RCVHWM: int(hwm), zmq.LINGER: 0}
        if pattern == "pubsub":
            opts[zmq.SUBSCRIBE] = b""
        self._sock = open_socket(self._ctx, zmq.PULL if pattern == "pushpull" else zmq.SUB, address, bind=bind,
                                 what="ZMQ IQ receiver", options=opts)
        self.endpoint = self._sock.getsockopt_string(zmq.LAST_ENDPOINT) if bind else address
        self.stats = LinkStats()
        self._expect_sample: int | None = None
        self._expect_seq: int | None = None
        self.closed = False

    def recv(self, timeout_s: float = 0.1) -> np.ndarray | None:
        """Next block (complex64), with zeros in front if a gap was detected and `fill_gaps` is on.

        None on timeout; an empty array after end-of-stream (stats.eos is then True)."""
        if self.stats.eos:
            return np.zeros(0, np.complex64)
        if not self._sock.poll(int(timeout_s * 1000)):
            return None
        frames = self._sock.recv_multipart(copy=True)
        if len(frames) != 2 or len(frames[0]) != HEADER.size:
            raise DeviceError(f"ZMQ IQ receiver {self.address}: not a linksim IQ message ({len(frames)} frames)")
        magic, version, flags, _, sid, seq, first, n = HEADER.unpack(frames[0])
        if magic != MAGIC or version != VERSION:
            raise DeviceError(f"ZMQ IQ receiver {self.address}: bad header (magic {magic!r}, version {version})")
        st = self.stats
        if st.stream_id is None:
            st.stream_id = sid
            if first != 0 and self._expect_sample is None:
                # joined a running stream (PUB/SUB late join): everything before `first` was never seen
                st.gaps.append((0, first))
                st.samples_missing += first
                st.messages_missing += seq
        elif sid != st.stream_id:
            st.restarts += 1
            st.stream_id = sid
            self._expect_sample = None
        pad = 0
        if self._expect_sample is not None:
            if first > self._expect_sample:
                pad = first - self._expect_sample
                st.gaps.append((self._expect_sample, pad))
                st.samples_missing += pad
                st.messages_missing += max(0, seq - (self._expect_seq or 0))
            elif first < self._expect_sample:
                st.out_of_order += 1
        self._expect_sample = first + n
        self._expect_seq = seq + 1
        if flags & FLAG_EOS:
            st.eos = True
            return np.zeros(pad if self.fill_gaps else 0, np.complex64)
        data = np.frombuffer(frames[1], dtype=np.complex64)
        if data.size != n:
            raise DeviceError(f"ZMQ IQ receiver {self.address}: message says {n} samples, carries {data.size}")
        st.messages += 1
        st.samples_received += n
        if pad and self.fill_gaps:
            return np.concatenate([np.zeros(pad, np.complex64), data])
        return data

    def recv_all(self, idle_timeout_s: float = 1.0) -> np.ndarray:
        """Everything until end-of-stream (or `idle_timeout_s` without a message)."""
        parts = []
        last = time.monotonic()
        while not self.stats.eos:
            block = self.recv(0.05)
            if block is None:
                if time.monotonic() - last > idle_timeout_s:
                    self.stats.truncated = True
                    break
                continue
            last = time.monotonic()
            parts.append(block)
        return np.concatenate(parts) if parts else np.zeros(0, np.complex64)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._sock.close(0)


# ---------------------------------------------------------------- GNU Radio blocks

# GNU Radio does not keep a Python block's Python object alive: a block passed straight to connect() and
# dropped by the caller would be collected while its scheduler thread still calls work() (a segfault).
# Each block registers itself here and leaves on stop().
_LIVE: set[Any] = set()


def zmq_iq_sink(
    address: str,
    *,
    pattern: str = "pushpull",
    bind: bool = True,
    hwm: int = 64,
    chunk_samples: int = 32768,
    send_timeout_s: float | None = None,
    context: zmq.Context | None = None,
) -> Any:
    """A GNU Radio sink (one complex input) sending over an `IQSender`. `.sender` is the sender.

    PUSH waits at the high-water mark while the receiver is slow or absent (no loss); `send_timeout_s` turns a
    receiver that stops taking samples into a DeviceError in the TX flowgraph instead of a wait.

    Samples go out in messages of `chunk_samples` (fewer messages, more throughput; at 1 MS/s 32768 samples
    add 33 ms of latency). The remainder and the end-of-stream go out when the TX flowgraph finishes (stop())."""
    from gnuradio import blocks, gr

    if chunk_samples < 1:
        raise InputError(f"chunk_samples must be >= 1, got {chunk_samples}")

    class ZmqIqSink(gr.sync_block):
        def __init__(self) -> None:
            gr.sync_block.__init__(self, name="linksim_zmq_iq_sink", in_sig=[np.complex64], out_sig=None)
            self.sender = IQSender(
                address, pattern=pattern, bind=bind, hwm=hwm, send_timeout_s=send_timeout_s, context=context
            )
            self._buf = np.empty(chunk_samples, np.complex64)
            self._fill = 0

        def work(self, input_items: list[np.ndarray], output_items: list[np.ndarray]) -> int:
            x = input_items[0]
            i = 0
            while i < len(x):
                take = min(len(x) - i, chunk_samples - self._fill)
                self._buf[self._fill : self._fill + take] = x[i : i + take]
                self._fill += take
                i += take
                if self._fill == chunk_samples:
                    try:
                        self.sender.send(self._buf)
                    except LinkAborted:
                        return -1
                    self._fill = 0
            return len(x)

        def abort(self) -> None:
            self.sender.abort()

        def stop(self) -> bool:
            if not self.sender.closed:
                if self.sender.send_timeout_s is None:
                    self.sender.send_timeout_s = FINAL_SEND_TIMEOUT_S  # the flowgraph's end must not hang here
                try:
                    if self._fill and not self.sender.aborted.is_set():
                        self.sender.send(self._buf[: self._fill])
                        self._fill = 0
                except LinkAborted:
                    pass
                finally:
                    self.sender.close(eos=not self.sender.aborted.is_set())
            _LIVE.discard(hier)
            return True

    class ZmqIqSinkHier(gr.hier_block2):
        """copy (large output buffer, so the Python sink gets large work() calls) -> ZmqIqSink."""

        def __init__(self) -> None:
            gr.hier_block2.__init__(
                self, "linksim_zmq_iq_sink", gr.io_signature(1, 1, gr.sizeof_gr_complex), gr.io_signature(0, 0, 0)
            )
            self.copy = blocks.copy(gr.sizeof_gr_complex)
            large_output_buffer(self.copy)
            self.sink = ZmqIqSink()
            self.sender = self.sink.sender
            self.connect(self, self.copy, self.sink)

        def abort(self) -> None:
            self.sink.abort()

    hier = ZmqIqSinkHier()
    _LIVE.add(hier)
    return hier


def zmq_iq_source(
    address: str,
    *,
    pattern: str = "pushpull",
    bind: bool = False,
    hwm: int = 64,
    fill_gaps: bool = True,
    idle_timeout_s: float | None = None,
    context: zmq.Context | None = None,
) -> Any:
    """A GNU Radio source (one complex output) over an `IQReceiver`. `.receiver.stats` holds the LinkStats.

    Gaps are zero-filled (fill_gaps) and tagged `linksim_gap` (value: missing samples) at the first filled
    sample. The block finishes on the sender's end-of-stream, or after `idle_timeout_s` with no data (None:
    wait until the flowgraph is stopped)."""
    import pmt
    from gnuradio import gr

    class ZmqIqSource(gr.sync_block):
        def __init__(self) -> None:
            gr.sync_block.__init__(self, name="linksim_zmq_iq_source", in_sig=None, out_sig=[np.complex64])
            large_output_buffer(self)
            self.receiver = IQReceiver(
                address, pattern=pattern, bind=bind, hwm=hwm, fill_gaps=fill_gaps, context=context
            )
            self._pending = np.zeros(0, np.complex64)
            self._gap_tags: list[tuple[int, int]] = []
            self._last = time.monotonic()
            self._produced = 0
            self.aborted = threading.Event()

        def abort(self) -> None:
            """Report done at the next work() call (the run is stopping)."""
            self.aborted.set()

        @property
        def idle_s(self) -> float:
            """Seconds since the last message arrived (or since the block was made)."""
            return time.monotonic() - self._last

        def work(self, input_items: list[np.ndarray], output_items: list[np.ndarray]) -> int:
            out = output_items[0]
            if self.aborted.is_set():
                return -1
            if self._pending.size == 0:
                n_gaps = len(self.receiver.stats.gaps)
                block = self.receiver.recv(0.05)
                if block is None:
                    if idle_timeout_s is not None and time.monotonic() - self._last > idle_timeout_s:
                        self.receiver.stats.truncated = True
                        return -1
                    return 0
                self._last = time.monotonic()
                for first_missing, count in self.receiver.stats.gaps[n_gaps:]:
                    if fill_gaps:
                        self._gap_tags.append((self._produced, count))
                    del first_missing
                self._pending = block
                if self._pending.size == 0 and self.receiver.stats.eos:
                    return -1
            n = min(len(out), self._pending.size)
            out[:n] = self._pending[:n]
            self._pending = self._pending[n:]
            for off, count in [t for t in self._gap_tags if t[0] < self._produced + n]:
                self.add_item_tag(
                    0, self.nitems_written(0) + (off - self._produced), pmt.intern("linksim_gap"), pmt.from_long(count)
                )
                self._gap_tags.remove((off, count))
            self._produced += n
            return n

        def stop(self) -> bool:
            self.receiver.close()
            _LIVE.discard(self)
            return True

    blk = ZmqIqSource()
    _LIVE.add(blk)
    return blk


def release(block: Any) -> None:
    """Close the socket of a zmq_iq_sink/zmq_iq_source that will not run (or has finished) and drop the
    module's reference to it. A sink sends no end-of-stream here."""
    sender = getattr(block, "sender", None)
    if sender is not None:
        sender.close(eos=False)
    receiver = getattr(block, "receiver", None)
    if receiver is not None:
        receiver.close()
    _LIVE.discard(block)
