"""GNU Radio block: the scenario's channel applied, in real time, to an external modem's signal (the emulator).

emulator_cc(scenario, sample_rate_hz, start_s=0, span_s=0, loop=False, center_hz=0, bandwidth_hz=0,
            input_power=0, power_window_s=0.2, seed=-1, threads=0, duration_s=0, emulation=None)
    complex64 in -> complex64 out, one output sample per input sample (plus the zeros that fill a device overflow).
    scenario:     scenario TOML file (its Timeline: delay, Doppler, weather, fading, phase noise, jammers)
    span_s:       scenario seconds from start_s to emulate (0: to the scenario's end); loop: replay the span
    center_hz:    where the signal sits in the sampled band; bandwidth_hz: its occupied bandwidth (0: the
                  scenario carrier's symbol rate x (1 + rolloff)); jammers are placed relative to the centre
    input_power:  mean |x|^2 of the signal (0: measured on its first power_window_s seconds, which are held
                  back until then, a one-off latency)
    seed:         -1: the scenario's (or 0); threads: compute threads (0: every CPU this process may use)
    duration_s:   stop after this many seconds of samples (0: the span, or never with loop)
    emulation:    an already built linksim.channel.emulation.EmulatedChannel (the other parameters but
                  power_window_s and duration_s are then ignored; linksim.run.emulate passes one)

The block paces nothing: it runs at the rate its input arrives (the modem's or the SDR's sample clock) and
applies the channel on the sample clock. It keeps count of everything, for the run directory:
    samples_in, samples_out, gap_samples (zeros inserted where a device reported lost samples through its rx_time
    tags: the sample clock stays on the device's), overflow_events, busy_s (time spent computing), and per second
    of the sample clock a record: what was applied (linksim.channel.emulation.EmulatedChannel.applied), the
    input's measured power, the wall-clock time, how far processing lags the input's real-time clock
    (behind_s = wall time since the first sample - samples in / sample rate), the input rate and the busy share.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pmt
from gnuradio import gr

from ..channel.emulation import EmulatedChannel, build_emulation
from ..errors import InputError, LinksimError
from .buffers import large_output_buffer

RX_TIME = pmt.intern("rx_time")
MIN_CHUNK = 1 << 17  # output items per call, at least (13 ms at 10 Msps)
OUTPUT_BUFFER = 1 << 19  # the block's output buffer: room for a few chunks
INPUT_BUFFER = 1 << 20  # items the block upstream should be able to hold (linksim.run.emulate asks for it)


class emulator_cc(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """The emulator's channel block (see the module doc)."""

    RECORD_EVERY_S = 1.0

    def __init__(self, scenario: str = "", sample_rate_hz: float = 10e6, start_s: float = 0.0, span_s: float = 0.0,
                 loop: bool = False, center_hz: float = 0.0, bandwidth_hz: float = 0.0, input_power: float = 0.0,
                 power_window_s: float = 0.2, seed: int = -1, threads: int = 0, duration_s: float = 0.0,
                 emulation: EmulatedChannel | None = None) -> None:
        gr.basic_block.__init__(self, name="linksim_emulator", in_sig=[np.complex64], out_sig=[np.complex64])
        if emulation is None:
            if not scenario:
                raise InputError("linksim emulator: a scenario file is needed")
            emulation = build_emulation(scenario, sample_rate_hz, start_s=start_s, span_s=span_s or None,
                                        loop=loop, center_hz=center_hz, bandwidth_hz=bandwidth_hz or None,
                                        input_power=input_power or None, seed=None if seed < 0 else seed,
                                        threads=threads or None)
        if not (np.isfinite(power_window_s) and power_window_s > 0):
            raise InputError(f"power_window_s: must be > 0, got {power_window_s}")
        if not (np.isfinite(duration_s) and duration_s >= 0):
            raise InputError(f"duration_s: must be >= 0, got {duration_s}")
        self.emu = emulation
        self.fs = emulation.fs
        if duration_s > 0:
            self.n_end: int | None = int(round(duration_s * self.fs))
        elif emulation.loop:
            self.n_end = None
        else:
            self.n_end = int(round(emulation.span_s * self.fs))
        self._window = max(1, int(round(power_window_s * self.fs)))
        self._held: list[np.ndarray] = []
        self._held_n = 0
        self._pending: list[np.ndarray] = []  # processed samples waiting for output space, in order
        self.samples_in = 0
        self.samples_out = 0
        self.gap_samples = 0
        self.overflow_events = 0
        self.busy_s = 0.0
        self.wall_first: float | None = None
        self.wall_last: float | None = None  # when the last sample went out
        self.records: list[dict] = []
        self.done = threading.Event()
        self.error: LinksimError | None = None
        self._rx_ref: tuple[int, float] | None = None
        self._period = int(round(self.RECORD_EVERY_S * self.fs))
        self._next_record = self._period
        self._last = (0.0, 0, 0.0)  # (wall, samples_in, busy) at the last record
        self._psum = 0.0
        self._pcount = 0
        large_output_buffer(self)
        self.set_min_output_buffer(OUTPUT_BUFFER)
        # called with at least this much room: when the channel falls behind, its input piles up and is taken in
        # large chunks (the per-call cost of a Python block is paid less often), so it catches up
        self.set_min_noutput_items(MIN_CHUNK)
        self.set_tag_propagation_policy(gr.TPP_DONT)

    def forecast(self, noutput_items, ninputs):  # type: ignore[no-untyped-def]
        return [1] * ninputs

    # ------------------------------------------------------------------------------------------------- helpers

    def _elapsed(self) -> float:
        return 0.0 if self.wall_first is None else time.monotonic() - self.wall_first

    @property
    def active_s(self) -> float:
        """Wall time from the first sample in to the last sample out."""
        if self.wall_first is None or self.wall_last is None:
            return 0.0
        return self.wall_last - self.wall_first

    def _record(self, n: int) -> None:
        wall = self._elapsed()
        w0, s0, b0 = self._last
        dw = max(wall - w0, 1e-9)
        rec = {"time_s": n / self.fs, **self.emu.applied(n), "samples_in": self.samples_in,
               "samples_out": self.samples_out, "gap_samples": self.gap_samples,
               "input_power_db": 10 * np.log10(self._psum / self._pcount) if self._psum > 0 else None,
               "wall_s": wall, "behind_s": wall - self.samples_in / self.fs,
               "input_rate_sps": (self.samples_in - s0) / dw, "busy_share": (self.busy_s - b0) / dw}
        self.records.append(rec)
        self._last = (wall, self.samples_in, self.busy_s)
        self._psum = 0.0
        self._pcount = 0

    def _run(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The channel on x (input samples in order, gaps already filled), into `out` (a new array if None)."""
        t0 = time.monotonic()
        y = np.empty(x.size, dtype=np.complex64) if out is None else out
        self.emu.process(x, y)
        self.busy_s += time.monotonic() - t0
        return y

    def _gap(self, offset: int, tag_time: float) -> int:
        """Samples lost before input offset `offset` according to an rx_time tag (0 for the first tag)."""
        if self._rx_ref is None:
            self._rx_ref = (offset, tag_time)
            return 0
        expected = self._rx_ref[0] + (tag_time - self._rx_ref[1]) * self.fs
        lost = int(round(expected - (offset + self.gap_samples)))
        return max(lost, 0)

    # ------------------------------------------------------------------------------------------------- work

    def general_work(self, input_items, output_items):  # type: ignore[no-untyped-def]
        if self.error is not None:
            return -1
        try:
            produced = self._work(input_items[0], output_items[0])
        except LinksimError as e:  # one clear line for the caller (linksim.run.emulate), the flowgraph ends
            self.error = e
            self.done.set()
            return -1
        if produced < 0:
            self.done.set()
            return -1
        while self.samples_out >= self._next_record:
            self._record(self._next_record)
            self._next_record += self._period
        return produced

    def _work(self, x: np.ndarray, out: np.ndarray) -> int:
        if self.wall_first is None and len(x):
            self.wall_first = time.monotonic()
        produced = 0
        # processed samples first, in order
        while self._pending and produced < len(out):
            p = self._pending[0]
            k = min(p.size, len(out) - produced)
            out[produced : produced + k] = p[:k]
            produced += k
            if k == p.size:
                self._pending.pop(0)
            else:
                self._pending[0] = p[k:]
        self.samples_out += produced
        if produced:
            self.wall_last = time.monotonic()
        if self._pending:
            return produced
        if self.n_end is not None and self.emu.n_processed >= self.n_end:
            return produced if produced else -1  # WORK_DONE: the emulation is over
        n = len(x)
        if self.n_end is not None:
            n = min(n, self.n_end - self.emu.n_processed - self._held_n)
        if self.emu.ready:
            n = min(n, len(out) - produced)
        if n <= 0:
            return produced
        base = self.nitems_read(0)
        # a device's rx_time tag after lost samples (an overflow): fill the gap with zeros, then go on
        cut = n
        gap = 0
        for tag in self.get_tags_in_window(0, 0, n, RX_TIME):
            v = pmt.to_python(tag.value)
            lost = self._gap(int(tag.offset), float(v[0]) + float(v[1]))
            if lost > 0:
                cut, gap = int(tag.offset - base), lost
                break
        if cut == 0 and gap > 0:
            self.overflow_events += 1
            self.gap_samples += gap
            filler = np.zeros(gap, dtype=np.complex64)
            if not self.emu.ready:
                self._hold(filler)
            else:
                self._pending.append(self._run(filler))
            return produced
        xs = np.asarray(x[:cut])  # a view of GNU Radio's input buffer: consumed (released) only once used
        self.samples_in += cut
        self._psum += float(np.vdot(xs, xs).real)
        self._pcount += cut
        if not self.emu.ready:
            self._hold(xs.copy())
            self.consume(0, cut)
            return produced
        self._run(xs, out[produced : produced + cut])  # straight into GNU Radio's output buffer
        self.consume(0, cut)
        self.samples_out += cut
        self.wall_last = time.monotonic()
        return produced + cut

    def _hold(self, xs: np.ndarray) -> None:
        """Before the input power is known: keep the samples; once the window is full, measure and process them."""
        self._held.append(xs)
        self._held_n += xs.size
        end = self.n_end is not None and self._held_n >= self.n_end
        if self._held_n >= self._window or end:
            allx = np.concatenate(self._held)
            p = float(np.mean(allx.real.astype(np.float64) ** 2 + allx.imag.astype(np.float64) ** 2))
            if not p > 0:
                raise InputError(f"emulator input: the first {self._held_n} samples are all zeros; declare the "
                                 "signal's power (--input-power)")
            self.emu.set_input_power(p)
            self._held, self._held_n = [], 0
            self._pending.append(self._run(allx))
