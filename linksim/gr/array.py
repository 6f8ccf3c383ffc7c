"""GNU Radio blocks for a terminal array: the element streams of the channel and the adaptive combiner.

array_channel_cc(channel)
    complex in -> N complex outputs: linksim.channel.array.ArrayChannel (the carrier and each jammer from their own
    directions, independent noise per element, each element chain's errors), on the sample clock.
array_combiner_cc(elements, nulling, window_samples, loading_db)
    N complex inputs -> complex out: linksim.mitigation.array.ArrayCombiner (sample-matrix inversion over windows
    of window_samples, MVDR toward the satellite, power inversion or the plain beam, diagonal loading). Sample-
    aligned; one window stays inside at the end of a finite stream. `combiner.log` keeps each window's weights.
"""

from __future__ import annotations

import threading

import numpy as np
from gnuradio import gr

from ..mitigation.array import ArrayCombiner
from .buffers import large_output_buffer


class array_channel_cc(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """One transmitted stream in, one stream per array element out (see the module docstring)."""

    def __init__(self, channel: object) -> None:
        n = int(channel.elements)  # type: ignore[attr-defined]
        gr.sync_block.__init__(self, name="linksim_array_channel", in_sig=[np.complex64],
                               out_sig=[np.complex64] * n)
        self.channel = channel

    def work(self, input_items, output_items):  # noqa: D102
        x = input_items[0]
        if self.nitems_read(0) != self.channel.n_processed:  # type: ignore[attr-defined]
            raise RuntimeError("linksim_array_channel: stream position and channel clock disagree")
        y = self.channel.process(x)  # type: ignore[attr-defined]
        for m, out in enumerate(output_items):
            out[: len(x)] = y[m]
        return len(x)


class array_combiner_cc(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """N element streams in, the adaptive combination out (see the module docstring)."""

    def __init__(self, elements: int = 4, nulling: str = "mvdr", window_samples: int = 4096,
                 loading_db: float = 0.0) -> None:
        gr.basic_block.__init__(self, name="linksim_array_combiner", in_sig=[np.complex64] * int(elements),
                                out_sig=[np.complex64])
        self.combiner = ArrayCombiner(int(elements), nulling, int(window_samples), float(loading_db))
        large_output_buffer(self)
        self._pending = np.zeros(0, dtype=np.complex64)
        self._lock = threading.Lock()

    def forecast(self, noutput_items, ninputs):  # type: ignore[no-untyped-def]
        return [1] * ninputs

    def general_work(self, input_items, output_items):  # type: ignore[no-untyped-def]
        out = output_items[0]
        # no more input than there is room for output (what is combined leaves with the next calls)
        k = min(min(len(x) for x in input_items), max(len(out) - self._pending.size, 0))
        with self._lock:
            if k:
                x = np.stack([np.asarray(v[:k], dtype=np.complex64) for v in input_items])
                self._pending = np.concatenate([self._pending, self.combiner.process(x)])
                self.consume_each(k)
            n = min(len(out), self._pending.size)
            if n:
                out[:n] = self._pending[:n]
                self._pending = self._pending[n:]
        return n


__all__ = ["array_channel_cc", "array_combiner_cc"]
