"""GNU Radio blocks over linksim.mitigation: excision (FFT or notch bank) and pulse blanking before the receiver.

excision_cc(kind, sps, fft_size, threshold_db, mode, notch_bw_t, notch_max, notch_threshold_db)
    complex in -> complex out. kind "fft": linksim.mitigation.excision.FftExcision; "notch":
    linksim.mitigation.notch.NotchBank (notch width notch_bw_t times the symbol period, sps samples per symbol).
pulse_blanker_cb(threshold_db, guard_samples, mode)
    complex in -> complex out (pulses blanked) and a byte stream beside it (1 where a sample was blanked), for
    linksim.gr.dvbs2_rx.dvbs2_rx(..., erasures=True), which erases the symbols the pulses hit.

Both are sample-aligned: output sample n is input sample n processed. They hold back what their processing needs
to look ahead (about one FFT frame, one notch search block, one blanking segment); at the end of a finite stream
GNU Radio gives a Python block no end-of-input call, so that tail stays inside (append some thousand zero samples
to a finite recording, or use `linksim dvbs2 rx`, which flushes). `stats()` says what each block did so far.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from gnuradio import gr

from ..mitigation.blanking import PulseBlanker
from ..mitigation.excision import FftExcision
from ..mitigation.notch import NotchBank
from .buffers import large_output_buffer


class _Pending:
    """Output produced but not yet handed to the scheduler (one array per output port)."""

    def __init__(self, dtypes: list[Any]) -> None:
        self.bufs = [np.zeros(0, dtype=d) for d in dtypes]

    def push(self, *arrays: np.ndarray) -> None:
        self.bufs = [np.concatenate([b, a.astype(b.dtype, copy=False)]) for b, a in zip(self.bufs, arrays, strict=True)]

    def pop(self, n: int) -> list[np.ndarray]:
        out = [b[:n] for b in self.bufs]
        self.bufs = [b[n:] for b in self.bufs]
        return out

    @property
    def size(self) -> int:
        return self.bufs[0].size


class excision_cc(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """Narrowband jammer excision before the matched filter (see the module docstring)."""

    def __init__(self, kind: str = "fft", sps: float = 2.0, fft_size: int = 1024, threshold_db: float = 13.0,
                 mode: str = "zero", notch_bw_t: float = 0.002, notch_max: int = 8,
                 notch_threshold_db: float = 15.0) -> None:
        gr.basic_block.__init__(self, name="linksim_excision", in_sig=[np.complex64], out_sig=[np.complex64])
        self.proc: FftExcision | NotchBank
        if kind == "fft":
            self.proc = FftExcision(fft_size=fft_size, threshold_db=threshold_db, mode=mode)
        elif kind == "notch":
            self.proc = NotchBank(bandwidth_cyc=notch_bw_t / float(sps), max_notches=notch_max,
                                  threshold_db=notch_threshold_db)
        else:
            from ..errors import InputError

            raise InputError(f"excision kind must be 'fft' or 'notch', not {kind!r}")
        self.kind = kind
        large_output_buffer(self)  # large chunks for the receiver after it (one Python call per chunk)
        self._pending = _Pending([np.complex64])
        self._lock = threading.Lock()

    def forecast(self, noutput_items, ninputs):  # type: ignore[no-untyped-def]
        return [1] * ninputs

    def general_work(self, input_items, output_items):  # type: ignore[no-untyped-def]
        # take no more input than there is room for output: what is processed leaves with the next calls, and at
        # the end of a stream only the processor's own look-ahead stays inside
        m = min(len(input_items[0]), max(len(output_items[0]) - self._pending.size, 0))
        with self._lock:
            if m:
                self._pending.push(self.proc.process(np.array(input_items[0][:m], dtype=np.complex64)))
                self.consume(0, m)
            n = min(len(output_items[0]), self._pending.size)
            if n:
                output_items[0][:n] = self._pending.pop(n)[0]
        return n

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"excision": self.kind, **self.proc.stats.as_dict()}


class pulse_blanker_cb(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """Pulse blanker: samples out, and the erasure mask as bytes on the second output (see the module docstring)."""

    def __init__(self, threshold_db: float = 8.0, guard_samples: int = 1, mode: str = "zero") -> None:
        gr.basic_block.__init__(self, name="linksim_pulse_blanker", in_sig=[np.complex64],
                                out_sig=[np.complex64, np.uint8])
        self.proc = PulseBlanker(threshold_db=threshold_db, guard_samples=guard_samples, mode=mode)
        large_output_buffer(self)
        self._pending = _Pending([np.complex64, np.uint8])
        self._lock = threading.Lock()

    def forecast(self, noutput_items, ninputs):  # type: ignore[no-untyped-def]
        return [1] * ninputs

    def general_work(self, input_items, output_items):  # type: ignore[no-untyped-def]
        room = min(len(output_items[0]), len(output_items[1]))
        k = min(len(input_items[0]), max(room - self._pending.size, 0))  # see excision_cc
        with self._lock:
            if k:
                y, m = self.proc.process(np.array(input_items[0][:k], dtype=np.complex64))
                self._pending.push(y, m)
                self.consume(0, k)
            n = min(room, self._pending.size)
            if n:
                y, m = self._pending.pop(n)
                output_items[0][:n] = y
                output_items[1][:n] = m
        self.produce(0, n)
        self.produce(1, n)
        return gr.WORK_CALLED_PRODUCE

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"blanking": "pulse", **self.proc.stats.as_dict()}


__all__ = ["excision_cc", "pulse_blanker_cb"]
