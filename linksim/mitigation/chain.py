"""The receiver's front-end mitigation as one streaming object: pulse blanking, then excision (FFT or notch bank).

Blanking goes first: a pulse is broadband and would light up every bin of an excision frame; once it is blanked,
the excision sees the narrowband jammers alone. The blanker's erasure mask leaves beside the samples, delayed with
them, so the receiver gets samples and mask in step: `process(x)` returns (samples, mask or None) completed so far,
`flush()` the rest, one output sample per input sample in the end.

Parameters come from a scenario's [mitigation] section (`linksim.scenario.model.Mitigation`); rates that the
section gives per symbol (the notch width, `notch_bw_t`) become per sample with the stream's samples per symbol.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..scenario.model import Mitigation
from .blanking import PulseBlanker
from .excision import FftExcision
from .notch import NotchBank


def make_excision(m: Mitigation, sps: float) -> FftExcision | NotchBank | None:
    """The excision processor the section asks for (None for "none")."""
    if m.excision == "fft":
        return FftExcision(fft_size=m.fft_size, threshold_db=m.excision_threshold_db, mode=m.excision_mode)
    if m.excision == "notch":
        return NotchBank(bandwidth_cyc=m.notch_bw_t / float(sps), max_notches=m.notch_max,
                         threshold_db=m.notch_threshold_db)
    return None


def make_blanker(m: Mitigation) -> PulseBlanker | None:
    if m.blanking == "pulse":
        return PulseBlanker(threshold_db=m.blanking_threshold_db, guard_samples=m.blanking_guard_samples,
                            mode=m.blanking_mode)
    return None


class ReceiverMitigation:
    """Blanker (optional) then excision (optional), sample-aligned, with the erasure mask carried along."""

    def __init__(self, m: Mitigation, sps: float) -> None:
        self.settings = m
        self.blanker = make_blanker(m)
        self.excision = make_excision(m, sps)
        self._mask = np.zeros(0, dtype=bool)  # the blanker's mask, waiting for the excision's output

    def process(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return self._step(x, final=False)

    def flush(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self._step(np.zeros(0, dtype=np.complex64), final=True)

    def _step(self, x: np.ndarray, final: bool) -> tuple[np.ndarray, np.ndarray | None]:
        y = np.asarray(x, dtype=np.complex64).reshape(-1)
        mask = None
        if self.blanker is not None:
            y, mask = self.blanker.process(y)
            if final:
                y2, m2 = self.blanker.flush()
                y, mask = np.concatenate([y, y2]), np.concatenate([mask, m2])
        if self.excision is not None:
            out = self.excision.process(y)
            if final:
                out = np.concatenate([out, self.excision.flush()])
            if mask is not None:  # the mask waits for the excision's samples
                self._mask = np.concatenate([self._mask, mask])
                mask, self._mask = self._mask[: out.size], self._mask[out.size:]
            y = out
        return y, mask

    def stats(self) -> dict[str, Any]:
        """What each stage did so far (for the run's summary and the CLI)."""
        out: dict[str, Any] = {"excision": self.settings.excision, "blanking": self.settings.blanking}
        if self.excision is not None:
            out.update(self.excision.stats.as_dict())
        if self.blanker is not None:
            out.update(self.blanker.stats.as_dict())
        return out
