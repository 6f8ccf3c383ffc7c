"""GNU Radio blocks for IP over the simulated forward link, paced to the wall clock.

    ip_transmit_chain:  GSE source (IP packets -> BBFRAME data fields -> DVB-S2 TX) -> channel
    pace_cc:            lets sample n through no earlier than wall time t0 + n / fs

Sample indices are the receiver's clock: sample n reaches the receiver at wall time t0 + n / fs (pace_cc before the
receiver holds it back until then). The GSE source builds the PLFRAME that starts at sample n at wall time
t0 + n / fs - lead_s, with lead_s the forward link's one-way delay: the gateway fills a frame with the packets
queued when it starts transmitting it, and the frame reaches the terminal lead_s later. Between the two, GNU Radio's
buffers hold lead_s of samples (the IQ in flight). The channel stays on the sample clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pmt
from gnuradio import gr

from ..dvbs2.tx import Transmitter
from .buffers import large_output_buffer
from .channel import channel_cc

MAX_SLEEP_S = 0.02


class WallClock:
    """Wall time of sample n: t0 + n / fs (t0 set by start())."""

    def __init__(self, fs: float) -> None:
        self.fs = float(fs)
        self.t0 = 0.0

    def start(self) -> None:
        self.t0 = time.monotonic()

    def at(self, n: float) -> float:
        return self.t0 + n / self.fs

    def sample_now(self) -> float:
        return (time.monotonic() - self.t0) * self.fs


def _sleep_until(t_wall: float) -> None:
    """Sleep until t_wall. A block's work() never returns 0 items here: GNU Radio would park a source (or a block
    whose input is all there) until a neighbour wakes it, and that may be much later."""
    while True:
        dt = t_wall - time.monotonic()
        if dt <= 0:
            return
        time.sleep(min(dt, MAX_SLEEP_S))


class gse_source(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """DVB-S2 transmitter of a generic continuous stream whose data fields come from `fill(capacity, n)`.

    fill(capacity_bytes, sample_index) returns exactly capacity_bytes (GSE packets and padding); modcod_source(n),
    if set, chooses each frame's MODCOD (ACM). Every PLFRAME is a data frame (no DUMMY frames): an idle link sends
    GSE padding. frame_log lists (first output sample, MODCOD) of every frame, as dvbs2_tx's does.
    """

    def __init__(self, tx: Transmitter, modcod: str, fill: Callable[[int, int], bytes], clock: WallClock,
                 lead_s: float) -> None:
        gr.sync_block.__init__(self, name="gse_source", in_sig=None, out_sig=[np.complex64])
        self._tx = tx
        self.modcod = modcod
        self.fill = fill
        self.clock = clock
        self.lead_s = float(lead_s)
        self.modcod_source: Callable[[int], str] | None = None
        self.frame_log: list[tuple[int, str]] = []
        self.late_s = 0.0  # worst lateness of a frame build behind its wall time
        self._buf = np.zeros(0, dtype=np.complex64)
        self._tags: list[tuple[int, str]] = []
        large_output_buffer(self)

    def _build(self, n_next: int) -> None:
        modcod = self.modcod_source(n_next) if self.modcod_source is not None else self.modcod
        field = self.fill(self._tx.frame_capacity_bytes(modcod), n_next)
        samples = self._tx.shape(self._tx.frame_symbols(modcod, field))
        self.frame_log.append((n_next, modcod))
        self._tags.append((n_next, modcod))
        self._buf = np.concatenate([self._buf, samples]) if self._buf.size else samples

    def work(self, input_items, output_items):  # noqa: D102 - GNU Radio API
        out = output_items[0]
        n = self.nitems_written(0)
        if self._buf.size == 0:
            n_next = n  # the next frame starts right after what was sent
            due = self.clock.at(n_next) - self.lead_s
            _sleep_until(due)
            if due >= self.clock.t0:  # the frames in flight at the start are made at once
                self.late_s = max(self.late_s, time.monotonic() - due)
            self._build(n_next)
        k = min(len(out), self._buf.size)
        out[:k] = self._buf[:k]
        self._buf = self._buf[k:]
        keep = []
        for idx, name in self._tags:
            if idx < n + k:
                self.add_item_tag(0, idx, pmt.intern("modcod"), pmt.intern(name))
            else:
                keep.append((idx, name))
        self._tags = keep
        return k


class pace_cc(gr.sync_block):  # noqa: N801
    """Passes sample n on no earlier than the clock's wall time for n; counts how far the input fell behind."""

    def __init__(self, clock: WallClock, chunk_s: float = 0.005) -> None:
        gr.sync_block.__init__(self, name="pace_cc", in_sig=[np.complex64], out_sig=[np.complex64])
        self.clock = clock
        self.chunk = max(1, int(chunk_s * clock.fs))
        self.starved_s = 0.0  # worst lateness of the input behind the wall clock

    def work(self, input_items, output_items):  # noqa: D102 - GNU Radio API
        x = input_items[0]
        n = self.nitems_written(0)
        due = int(self.clock.sample_now()) - n
        if due <= 0:
            _sleep_until(self.clock.at(n + min(self.chunk, len(x))))
            due = max(int(self.clock.sample_now()) - n, 1)
        elif due > len(x) + self.chunk:
            self.starved_s = max(self.starved_s, (due - len(x)) / self.clock.fs)
        k = min(due, len(x), len(output_items[0]))
        output_items[0][:k] = x[:k]
        return k


class ip_transmit_chain(gr.hier_block2):  # noqa: N801
    """GSE source -> DVB-S2 TX -> channel (a linksim.channel.core.Channel, or None), paced by `clock`."""

    def __init__(self, modcod: str, frame: str, pilots: bool, rolloff: float, sps: int,
                 fill: Callable[[int, int], bytes], clock: WallClock, lead_s: float, channel: object | None = None,
                 ccm: bool = True) -> None:
        gr.hier_block2.__init__(self, "linksim_ip_transmit_chain", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.tx_core = Transmitter(frame, pilots, rolloff, sps, 0, "generic", ccm)
        self.source = gse_source(self.tx_core, modcod, fill, clock, lead_s)
        if channel is not None:
            self.channel = channel_cc(channel=channel)
            large_output_buffer(self.channel)
            self.connect(self.source, self.channel, self)
        else:
            self.channel = None
            self.connect(self.source, self)

    @property
    def latency_samples(self) -> int:
        """Samples from a frame's first output index to its PLHEADER peak at the receiver (TX filter, channel)."""
        ch = 0 if self.channel is None else self.channel.channel.latency_samples
        return int(self.tx_core.delay_samples + ch)


__all__ = ["WallClock", "gse_source", "ip_transmit_chain", "pace_cc"]
