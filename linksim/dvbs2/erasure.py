"""Erased samples (a pulse blanker's mask) carried to the symbols they spoil.

A blanker before the receiver zeroes the samples it found jammed and says which (a boolean mask beside the samples).
The receiver keeps the blanked stretches as runs of absolute input-sample indices; once a frame's symbols are timed
(each symbol's position, in input samples, where the matched filter's output peaks), a symbol counts as erased when
the blanked samples carry more than ERASED_ENERGY of its matched filter's energy (the taps' squares around its
position). Its LLRs are then set to zero (the decoder hears nothing there rather than garbage), and erased known
symbols (PLHEADER, pilots) are left out of the phase and Es/N0 estimates.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

ERASED_ENERGY = 0.3  # share of a symbol's matched-filter energy on blanked samples that erases it


class ErasureRuns:
    """Blanked stretches of a stream, as [start, end) runs of absolute sample indices."""

    def __init__(self, taps: np.ndarray) -> None:
        h2 = np.asarray(taps, dtype=np.float64) ** 2
        self._w = h2 / h2.sum()  # energy weights of the matched filter, centred
        self._half = (h2.size - 1) // 2
        self._starts = np.zeros(0, dtype=np.int64)
        self._ends = np.zeros(0, dtype=np.int64)
        self.samples_erased = 0

    def add(self, n0: int, mask: np.ndarray, n: int) -> None:
        """Record the mask of the n samples starting at absolute index n0."""
        m = np.asarray(mask)
        if m.ndim != 1 or m.size != n:
            raise InputError(f"erasures: the mask must have one entry per sample ({n}), got shape {m.shape}")
        m = m.astype(bool, copy=False)
        if not m.any():
            return
        d = np.diff(np.concatenate([[False], m, [False]]).astype(np.int8))
        st = np.flatnonzero(d == 1) + n0
        en = np.flatnonzero(d == -1) + n0
        self.samples_erased += int(m.sum())
        self._starts = np.concatenate([self._starts, st])
        self._ends = np.concatenate([self._ends, en])

    def drop_before(self, index: float) -> None:
        """Forget the runs that end before this sample (minus the filter's half span)."""
        if self._ends.size == 0:
            return
        keep = self._ends > index - self._half
        if not keep.all():
            self._starts = self._starts[keep]
            self._ends = self._ends[keep]

    def erased_symbols(self, pos: np.ndarray) -> np.ndarray | None:
        """Boolean per symbol at input-sample positions `pos`: erased; None when no run comes near them."""
        if self._starts.size == 0 or pos.size == 0:
            return None
        lo = int(np.floor(np.min(pos))) - self._half
        hi = int(np.ceil(np.max(pos))) + self._half + 1
        near = (self._ends > lo) & (self._starts < hi)
        if not near.any():
            return None
        dense = np.zeros(hi - lo, dtype=np.float64)
        for s, e in zip(self._starts[near], self._ends[near], strict=True):
            dense[max(s, lo) - lo : min(e, hi) - lo] = 1.0
        frac = np.convolve(dense, self._w, mode="same")
        idx = np.clip(np.rint(pos).astype(np.int64) - lo, 0, dense.size - 1)
        return frac[idx] > ERASED_ENERGY
