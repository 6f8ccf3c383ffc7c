"""Pulse blanking: samples far above the running power level are zeroed (or clipped), and marked as erasures.

The stream is cut into blocks of `block` samples. A block whose mean power exceeds `threshold_db` over the running
level is a pulse; so is a block whose neighbourhood (the moving average over LONG_BLOCKS blocks, eroded by half that
so it does not reach past a pulse's edges) exceeds a threshold LONG_MARGIN_DB lower: a pulse a few dB over the level
fluctuates through the short blocks' threshold (noise-like pulse samples are exponential), its neighbourhood average
does not. Gaps of up to 2 CLOSE_BLOCKS blocks between pulse blocks are pulse too (a closing: holes inside a pulse are
filled, nothing else grows). The running level of a segment of SEGMENT samples (absolute boundaries) is the median
block power over it and the HISTORY - 1 segments before it: a median, so pulses up to half the time do not lift it,
and a lasting change of level (a fade, a jammer that stays on) is followed within a few segments. The samples of a
pulse's blocks and `guard_samples` either side are blanked: set to zero (mode "zero"), or, in mode "clip", the
samples of the pulse brought down to the threshold's amplitude with their phase kept (the guard samples pass).

Every blanked sample is marked in the erasure mask that comes out beside the samples: a receiver given the mask
(`linksim.dvbs2.rx.Receiver.process(x, erasures=mask)`) sets the LLRs of the symbols whose matched filter span
falls mostly on blanked samples to zero, so the decoder hears nothing there rather than garbage. Blanking a share
d of the time costs about -10 log10(1 - d) dB of signal energy, plus the code's loss to the erasures.

Streaming and sample-aligned: `process(x)` returns (samples, mask) completed so far (one segment behind the
input: a pulse at the start of the next segment blanks the guard before it), `flush()` the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

BLANKING_MODES = ("zero", "clip")
SEGMENT = 4096  # samples per update of the running level
HISTORY = 4  # segments in the running level's median
LONG_BLOCKS = 8  # short blocks per long block (16 samples with the default 2)
LONG_MARGIN_DB = 4.0  # the long blocks' threshold is this much under the short blocks'
CLOSE_BLOCKS = 2  # gaps of up to twice this many short blocks inside a pulse are blanked too


def _dilate(flags: np.ndarray, r: int) -> np.ndarray:
    """True where any of the +-r neighbours is."""
    n = flags.size
    c = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    i = np.arange(n)
    return (c[np.minimum(i + r + 1, n)] - c[np.maximum(i - r, 0)]) > 0


def _erode(flags: np.ndarray, r: int) -> np.ndarray:
    """True where all of the +-r neighbours are."""
    return ~_dilate(~flags, r)


def _close(flags: np.ndarray, r: int) -> np.ndarray:
    """Morphological closing of a boolean sequence by +-r: gaps of up to 2 r between flagged stretches are filled,
    nothing else grows."""
    return _erode(_dilate(flags, r), r)


@dataclass
class BlankingStats:
    """What the blanker did so far."""

    samples: int = 0
    blanked: int = 0
    pulses: int = 0

    @property
    def blanked_fraction(self) -> float:
        return self.blanked / self.samples if self.samples else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"blanked_fraction": self.blanked_fraction, "pulses": self.pulses}


class PulseBlanker:
    """Streaming pulse blanker with an erasure mask (see the module docstring).

    threshold_db: pulse level over the running level (3 to 40 dB); block: samples per power measurement (1 to 256,
    dividing SEGMENT); guard_samples: extra samples blanked either side of a pulse (0 to 1024); mode: "zero" or
    "clip".
    """

    def __init__(self, threshold_db: float = 8.0, block: int = 2, guard_samples: int = 1, mode: str = "zero") -> None:
        if not 3.0 <= float(threshold_db) <= 40.0:
            raise InputError(f"blanking threshold_db must be from 3 to 40 dB, not {threshold_db}")
        if int(block) != block or not 1 <= int(block) <= 256 or SEGMENT % int(block):
            raise InputError(f"blanking block must be a power of two from 1 to 256 samples, not {block}")
        if int(guard_samples) != guard_samples or not 0 <= int(guard_samples) <= 1024:
            raise InputError(f"blanking guard_samples must be an integer from 0 to 1024, not {guard_samples}")
        if mode not in BLANKING_MODES:
            raise InputError(f"blanking mode must be one of {', '.join(BLANKING_MODES)}, not {mode!r}")
        self.threshold = float(10.0 ** (float(threshold_db) / 10.0))
        self.long_threshold = float(10.0 ** ((float(threshold_db) - LONG_MARGIN_DB) / 10.0))
        self.block = int(block)
        self.guard = int(guard_samples)
        self.mode = mode
        self._x = np.zeros(0, dtype=np.complex64)  # buffered input from the first segment not yet output
        self._hist: list[np.ndarray] = []  # block powers of the last segments output (for the running level)
        self._pw: list[np.ndarray] = []  # block powers, pulse flags and running levels of the buffered complete
        self._flags: list[np.ndarray] = []  # segments, measured as each completes
        self._levels: list[float] = []
        self._prev_flags = np.zeros(SEGMENT // self.block, dtype=bool)  # flags of the last segment output
        self._flushed = False
        self.stats = BlankingStats()

    def process(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed samples; returns (blanked samples complex64, erasure mask bool) completed so far."""
        if self._flushed:
            raise InputError("this blanker was flushed; make a new one for a new stream")
        x = np.asarray(x, dtype=np.complex64).reshape(-1)
        self._x = np.concatenate([self._x, x])
        return self._run(final=False)

    def flush(self) -> tuple[np.ndarray, np.ndarray]:
        """End of stream: the remaining samples and their mask."""
        if self._flushed:
            return np.zeros(0, dtype=np.complex64), np.zeros(0, dtype=bool)
        self._flushed = True
        return self._run(final=True)

    def _run(self, final: bool) -> tuple[np.ndarray, np.ndarray]:
        real = self._x.size
        if final and real % SEGMENT:
            self._x = np.concatenate([self._x, np.zeros(SEGMENT - real % SEGMENT, dtype=np.complex64)])
        n_seg = self._x.size // SEGMENT
        while len(self._flags) < n_seg:  # measure the segments that completed
            i = len(self._flags)
            seg = self._x[i * SEGMENT:(i + 1) * SEGMENT]
            pw = np.mean((seg.real * seg.real + seg.imag * seg.imag).reshape(-1, self.block), axis=1)
            self._pw.append(pw)
            level = float(np.median(np.concatenate([*self._hist, *self._pw][-HISTORY:])))
            # short blocks over the threshold, or long blocks (LONG_BLOCKS short ones) over a lower one: a pulse only
            # a few dB over the level fluctuates through the short blocks' threshold, its long blocks do not
            long_pw = np.convolve(pw, np.full(LONG_BLOCKS, 1.0 / LONG_BLOCKS), mode="same")
            long_hot = _erode(long_pw > self.long_threshold * level, LONG_BLOCKS // 2)
            self._flags.append((pw > self.threshold * level) | long_hot)
            self._levels.append(level)
        # output the segments whose successor is measured (all of them at the end)
        n_out = n_seg if final else n_seg - 1
        if n_out <= 0:
            return np.zeros(0, dtype=np.complex64), np.zeros(0, dtype=bool)
        nb = SEGMENT // self.block
        ys: list[np.ndarray] = []
        ms: list[np.ndarray] = []
        for i in range(n_out):
            nxt = self._flags[i + 1] if i + 1 < n_seg else np.zeros(nb, dtype=bool)
            y, m = self._blank(self._x[i * SEGMENT:(i + 1) * SEGMENT], self._prev_flags, self._flags[i], nxt,
                               self._levels[i])
            ys.append(y)
            ms.append(m)
            self._prev_flags = self._flags[i]
            self._hist = [*self._hist, self._pw[i]][-(HISTORY - 1):]
        self._x = self._x[n_out * SEGMENT:]
        del self._pw[:n_out], self._flags[:n_out], self._levels[:n_out]
        y = np.concatenate(ys)
        m = np.concatenate(ms)
        if final:
            y, m = y[:real], m[:real]
        self.stats.samples += y.size
        self.stats.blanked += int(np.count_nonzero(m))
        return y, m

    def _blank(self, seg: np.ndarray, prev: np.ndarray, cur: np.ndarray, nxt: np.ndarray,
               level: float) -> tuple[np.ndarray, np.ndarray]:
        """One segment blanked, from its own pulse flags and its neighbours' (whose guards reach into it)."""
        b, g = self.block, self.guard
        reach = (-(-g // b) if g else 0) + CLOSE_BLOCKS  # blocks of a neighbour that can reach this segment
        near = cur.any() or prev[-reach:].any() or nxt[:reach].any()
        if not near:
            return seg.copy(), np.zeros(seg.size, dtype=bool)
        flags = _close(np.concatenate([prev, cur, nxt]), CLOSE_BLOCKS)
        nb = cur.size
        self.stats.pulses += int(np.count_nonzero(np.diff(flags[nb - 1:2 * nb].astype(np.int8)) == 1))
        hot = np.repeat(flags, b)
        if g:
            c = np.concatenate([[0], np.cumsum(hot, dtype=np.int64)])
            idx = np.arange(SEGMENT, 2 * SEGMENT)
            mask = (c[idx + g + 1] - c[idx - g]) > 0
        else:
            mask = hot[SEGMENT:2 * SEGMENT]
        y = seg.copy()
        if self.mode == "zero":
            y[mask] = 0
        else:
            p = seg.real * seg.real + seg.imag * seg.imag
            over = np.repeat(flags[nb:2 * nb], b) & (p > self.threshold * level)
            y[over] *= np.sqrt(self.threshold * level / p[over]).astype(np.float32)
        return y, mask
