"""The bent pipe on the sample clock: a ground HPA, the uplink channel, the transponder (input filter and amplifier)
and the downlink channel, in that order (`LinkChannels`); the run and GRC put them in one flowgraph.

`Transponder(sample_rate_hz, bandwidth_hz, amplifier, drive)`:
- input filter: a linear-phase windowed-sinc low-pass of the transponder's band (two-sided bandwidth_hz; none when
  the band covers the whole stream), FILTER_TAPS taps, latency (FILTER_TAPS - 1) / 2 samples;
- then either the amplifier (linksim.channel.amplifier.Amplifier, fixed drive: what arrives above the nominal input
  power compresses it, the carrier loses its share and small-signal suppression follows from the curves), or, with
  no amplifier model, an ideal automatic level control that keeps the output power at its nominal value: the output
  is scaled by 1/sqrt(drive(t)), drive(t) the transponder's input power over its nominal (a (time_s, dB) profile
  from the budget: uplink jamming in the transponder's band), so the carrier's share of the output is
  C / (C + N_u + J_u), as the budget's power-robbing formula says.
Both the filter and the level control run on the sample clock and are chunk-invariant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import upfirdn

from ..errors import InputError
from .amplifier import Amplifier
from .core import Column

FILTER_TAPS = 129
KAISER_BETA = 8.0


class Transponder:
    """Input filter and amplifier (or level control) of a bent-pipe transponder (see the module docstring)."""

    def __init__(self, sample_rate_hz: float, bandwidth_hz: float, amplifier: Amplifier | None = None,
                 drive_db: tuple[np.ndarray, np.ndarray] | None = None, t0_s: float = 0.0) -> None:
        # bandwidth inf: no input filter (a satellite amplifier on its own, without a bent pipe)
        if not (np.isfinite(sample_rate_hz) and sample_rate_hz > 0 and bandwidth_hz > 0):
            raise InputError(f"transponder: sample rate and bandwidth must be > 0 (bandwidth inf: no filter), got "
                             f"{sample_rate_hz}, {bandwidth_hz}")
        self.fs = float(sample_rate_hz)
        self.bandwidth_hz = float(bandwidth_hz)
        self.amplifier = amplifier
        self.t0_s = float(t0_s)
        self._drive = Column(drive_db[0], drive_db[1]) if drive_db is not None else Column(None, 0.0)
        self._h = None
        if bandwidth_hz < 0.98 * sample_rate_hz:
            k = np.arange(FILTER_TAPS) - (FILTER_TAPS - 1) / 2
            cut = bandwidth_hz / sample_rate_hz  # two-sided band over the sample rate
            h = cut * np.sinc(cut * k) * np.kaiser(FILTER_TAPS, KAISER_BETA)
            self._h = (h / h.sum()).astype(np.complex128)
            self._hist = np.zeros(FILTER_TAPS - 1, dtype=np.complex128)
        self._n = 0

    @property
    def latency_samples(self) -> int:
        lat = (FILTER_TAPS - 1) // 2 if self._h is not None else 0
        return lat + (self.amplifier.latency_samples if self.amplifier is not None else 0)

    @property
    def n_processed(self) -> int:
        return self._n

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.complex64)
        n0, n = self._n, x.size
        self._n += n
        if n == 0:
            return np.zeros(0, dtype=np.complex64)
        y = x.astype(np.complex128)
        if self._h is not None:
            buf = np.concatenate([self._hist, y])
            y = upfirdn(self._h, buf)[FILTER_TAPS - 1 : FILTER_TAPS - 1 + n]
            self._hist = buf[-(FILTER_TAPS - 1):]
        if self.amplifier is not None:
            return self.amplifier.process(y)
        if self._drive.is_const and self._drive.value == 0.0:
            return y.astype(np.complex64)
        t = self.t0_s + np.arange(n0, n0 + n) / self.fs
        return (y * 10.0 ** (-self._drive(t) / 20.0)).astype(np.complex64)


@dataclass
class LinkChannels:
    """The IQ stages of a link, in order: ground HPA, uplink channel, transponder (bent pipe), downlink channel.
    Absent stages are None; the downlink channel is always there."""

    downlink: object
    hpa: Amplifier | None = None
    uplink: object | None = None
    transponder: Transponder | None = None

    @property
    def stages(self) -> list:
        return [x for x in (self.hpa, self.uplink, self.transponder, self.downlink) if x is not None]

    @property
    def latency_samples(self) -> int:
        """Samples the stages together delay the stream by (filters and delay lines)."""
        return int(sum(st.latency_samples for st in self.stages))

    def process(self, x: np.ndarray) -> np.ndarray:
        for st in self.stages:
            x = st.process(x)
        return x


__all__ = ["LinkChannels", "Transponder"]
