"""Frequency hopping of the (spread or not) DVB-S2 carrier over a set of channels: the seeded hop pattern, the
hopper (transmit), the dehopper and the decimating low-pass filter (receive).

A hop set of K channels `spacing_hz` apart, centred on the carrier: channel c sits at (c - (K - 1)/2) spacing_hz.
The carrier stays `dwell_s` on a channel, then hops. Hop h (counted from the hop clock's origin) uses channel
perm_b[h mod K] with b = h // K and perm_b a permutation of the K channels drawn from numpy's PCG64 seeded with
(seed, b): every channel once per K hops, in a fresh order each cycle (a partial-band jammer over k channels hits
exactly k of every K hops).

The hopper multiplies transmit sample n by exp(j 2 pi f_c(n) n / fs) (all channel oscillators run continuously
and the hop switches between them; the phase steps at a hop, the receiver's dehopper undoes the same step). The
IQ sample rate must cover the hop set: `HopPlan.band_hz(occupied)` = (K - 1) spacing + occupied bandwidth. A
synchronised receiver knows the pattern and the hop timing: `Dehopper` multiplies receive sample m by the
conjugate phasor of transmit instant n = m - offset(m) (the channel's latency and delay, known to it), then
`Decimator` low-passes to the signal's band and decimates to the despreader's or demodulator's rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import firwin, kaiserord, oaconvolve

from ..errors import InputError

MAX_CHANNELS = 1024
HOP_BAND_MARGIN = 1.25  # the IQ sample rate is at least this times the hop set's band


@dataclass(frozen=True)
class HopPlan:
    """A hop set and its timing: `channels` (2..1024) `spacing_hz` apart, `dwell_s` per hop, pattern `seed`."""

    channels: int
    spacing_hz: float
    dwell_s: float
    seed: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.channels, bool) or int(self.channels) != self.channels or \
                not 2 <= int(self.channels) <= MAX_CHANNELS:
            raise InputError(f"hopping channels must be an integer from 2 to {MAX_CHANNELS}, not {self.channels}")
        if not (np.isfinite(self.spacing_hz) and self.spacing_hz > 0):
            raise InputError(f"hopping spacing_hz must be > 0, not {self.spacing_hz}")
        if not (np.isfinite(self.dwell_s) and self.dwell_s > 0):
            raise InputError(f"hopping dwell must be > 0 s, not {self.dwell_s}")
        if isinstance(self.seed, bool) or int(self.seed) != self.seed or self.seed < 0:
            raise InputError(f"hopping seed must be an integer >= 0, not {self.seed}")

    def offsets_hz(self) -> np.ndarray:
        """Centre of each channel relative to the carrier frequency (Hz)."""
        return (np.arange(self.channels) - (self.channels - 1) / 2.0) * self.spacing_hz

    def band_hz(self, occupied_bw_hz: float) -> float:
        """Band the hopped carrier covers: from the lowest channel's lower edge to the highest's upper edge."""
        return (self.channels - 1) * self.spacing_hz + occupied_bw_hz

    def channel_of_hop(self, hop: np.ndarray) -> np.ndarray:
        """Channel index of each hop number (negative hop numbers, before the hop clock's origin, too)."""
        h = np.asarray(hop, dtype=np.int64)
        k = self.channels
        b = h // k
        out = np.empty(h.shape, dtype=np.int64)
        for bb in np.unique(b):
            sel = b == bb
            out[sel] = _permutation(self.seed, k, int(bb))[h[sel] % k]
        return out


@lru_cache(maxsize=64)
def _permutation(seed: int, k: int, cycle: int) -> np.ndarray:
    p = np.random.default_rng([int(seed), int(cycle) % (1 << 63), k]).permutation(k)
    p.setflags(write=False)
    return p


def parse_hopping(spec: str) -> dict[str, float | int]:
    """'channels=8,spacing_hz=25e3,dwell_s=0.01,seed=1' (or dwell_frames=N instead of dwell_s) -> its fields."""
    allowed = {"channels": int, "spacing_hz": float, "dwell_s": float, "dwell_frames": float, "seed": int}
    out: dict[str, float | int] = {}
    for item in filter(None, (s.strip() for s in str(spec).split(","))):
        k, eq, v = item.partition("=")
        k = k.strip()
        if not eq or k not in allowed:
            raise InputError(f"--hopping '{spec}': '{item}' is not one of {', '.join(f'{a}=...' for a in allowed)}")
        try:
            out[k] = allowed[k](float(v)) if allowed[k] is int and float(v).is_integer() else allowed[k](v)
        except ValueError:
            raise InputError(f"--hopping '{spec}': {k}: '{v.strip()}' is not a number") from None
    for need in ("channels", "spacing_hz"):
        if need not in out:
            raise InputError(f"--hopping '{spec}': {need} is missing")
    if ("dwell_s" in out) == ("dwell_frames" in out):
        raise InputError(f"--hopping '{spec}': give dwell_s or dwell_frames (one of them)")
    return out


def hop_phasor(plan: HopPlan, fs: float, n: np.ndarray, hop_origin: float = 0.0) -> np.ndarray:
    """exp(j 2 pi f_c(n) n / fs) at (fractional) transmit sample indices n; hop h covers samples
    [h dwell fs - hop_origin, (h + 1) dwell fs - hop_origin)."""
    n = np.asarray(n, dtype=np.float64)
    hop = np.floor((n + hop_origin) / (plan.dwell_s * fs)).astype(np.int64)
    f = plan.offsets_hz()[plan.channel_of_hop(hop)] / fs
    cyc = f * n
    return np.exp(2j * np.pi * (cyc - np.floor(cyc)))


class Hopper:
    """Transmit side: x[n] exp(j 2 pi f_c(n) n / fs), n counted from the first sample given (stateful)."""

    def __init__(self, plan: HopPlan, sample_rate_hz: float, hop_origin: float = 0.0) -> None:
        check_sample_rate(plan, sample_rate_hz, 0.0)
        self.plan = plan
        self.fs = float(sample_rate_hz)
        self.hop_origin = float(hop_origin)
        self._n = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.complex64).reshape(-1)
        n = self._n + np.arange(x.size)
        self._n += x.size
        return (x * hop_phasor(self.plan, self.fs, n, self.hop_origin)).astype(np.complex64)


class Dehopper:
    """Receive side: y[m] times the conjugate hop phasor at transmit instant m - offset(m). `offset_samples` is a
    number or a function of the receive sample indices (the channel's latency plus the propagation delay)."""

    def __init__(self, plan: HopPlan, sample_rate_hz: float,
                 offset_samples: float | Callable[[np.ndarray], np.ndarray] = 0.0, hop_origin: float = 0.0) -> None:
        self.plan = plan
        self.fs = float(sample_rate_hz)
        self.offset = offset_samples
        self.hop_origin = float(hop_origin)
        self._m = 0

    def __call__(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.complex64).reshape(-1)
        m = self._m + np.arange(y.size, dtype=np.float64)
        self._m += y.size
        off = self.offset(m) if callable(self.offset) else self.offset
        n = m - np.asarray(off, dtype=np.float64)
        return (y * np.conj(hop_phasor(self.plan, self.fs, n, self.hop_origin))).astype(np.complex64)


def check_sample_rate(plan: HopPlan, sample_rate_hz: float, occupied_bw_hz: float) -> None:
    band = plan.band_hz(occupied_bw_hz)
    if sample_rate_hz < band:
        raise InputError(f"hopping: the IQ sample rate {sample_rate_hz:g} Hz does not cover the hop set's "
                         f"{band:g} Hz")


def upsampling(plan: HopPlan | None, chip_rate_hz: float, sps: int, rolloff: float) -> int:
    """Samples per despreader (or demodulator) sample so that the IQ sample rate covers the hop set with margin."""
    if plan is None:
        return 1
    band = plan.band_hz(chip_rate_hz * (1.0 + rolloff))
    return max(1, int(np.ceil(HOP_BAND_MARGIN * band / (chip_rate_hz * sps) - 1e-9)))


class Decimator:
    """Streaming low-pass FIR and decimation by `factor`: output i is the filtered input at sample i * factor (the
    filter's delay removed). The pass band holds a signal of (1 + rolloff) / (2 sps_out) of the output rate
    either side of 0 Hz; what would alias onto it is attenuated by ATTEN_DB."""

    ATTEN_DB = 80.0

    def __init__(self, factor: int, sps_out: int, rolloff: float) -> None:
        if int(factor) != factor or factor < 1:
            raise InputError(f"decimation factor must be a whole number >= 1, not {factor}")
        self.factor = int(factor)
        u = self.factor
        f_pass = (1.0 + rolloff) / (2.0 * sps_out * u)  # cycles per input sample
        f_stop = 1.0 / u - f_pass
        ntaps, beta = kaiserord(self.ATTEN_DB, 2.0 * (f_stop - f_pass))
        ntaps |= 1
        self.taps = firwin(ntaps, (f_pass + f_stop), window=("kaiser", beta)).astype(np.float32)
        self.delay = (ntaps - 1) // 2
        self._buf = np.zeros(self.taps.size - 1 + self.delay, dtype=np.complex64)  # history, then a lead of zeros
        self._buf_start = -(self.taps.size - 1) - self.delay  # absolute input index of _buf[0]
        self._next = 0  # next output index

    def process(self, x: np.ndarray, final: bool = False) -> np.ndarray:
        x = np.asarray(x, dtype=np.complex64).reshape(-1)
        if self.factor == 1:
            return x
        buf = np.concatenate([self._buf, x]) if x.size else self._buf
        if final:
            buf = np.concatenate([buf, np.zeros(self.delay, dtype=np.complex64)])
        L = self.taps.size
        # output i needs input indices up to i*u + delay
        end = self._buf_start + buf.size  # one past the last absolute index held
        last = (end - 1 - self.delay) // self.factor
        if last < self._next:
            self._buf = buf
            return np.zeros(0, dtype=np.complex64)
        centres = np.arange(self._next, last + 1) * self.factor  # absolute input indices
        lo = int(centres[0] + self.delay - (L - 1) - self._buf_start)
        hi = int(centres[-1] + self.delay + 1 - self._buf_start)
        seg = buf[lo:hi]
        full = oaconvolve(seg, self.taps.astype(np.complex64), mode="valid") if seg.size >= L else \
            np.zeros(0, np.complex64)
        out = full[:: self.factor].astype(np.complex64)
        self._next = last + 1
        keep_from = int(self._next * self.factor + self.delay - (L - 1) - self._buf_start)
        self._buf = buf[max(keep_from, 0):]
        self._buf_start += max(keep_from, 0)
        return out


def follower_hit_frames(plan: HopPlan, frame_s: float, first: int, frames: int, reaction_s: float) -> int:
    """How many of the frames first .. first + frames - 1 (back to back from the hop clock's origin, frame_s long)
    a follower with reaction time reaction_s reaches: at time t it is on the channel the carrier used at
    t - reaction_s, so a frame is reached if that is its own channel at some instant of it. This counts the main
    effect (from reaction_s after each hop to the end of the dwell) and the hops where the pattern comes back,
    within reaction_s, to a channel it left."""
    hit = 0
    for i in range(first, first + frames):
        t = (i + (np.arange(256) + 0.5) / 256) * frame_s  # instants inside the frame (none on a hop boundary)
        own = plan.channel_of_hop(np.floor(t / plan.dwell_s).astype(np.int64))
        back = t - reaction_s
        ok = back >= 0
        seen = plan.channel_of_hop(np.floor(back[ok] / plan.dwell_s).astype(np.int64))
        hit += bool(np.any(seen == own[ok]))
    return hit


class HopBlanker:
    """Blanks jammed parts of hops, as a synchronised hopper can: the decimated stream is cut into blocks of
    1/BLOCKS_PER_DWELL of a dwell on the hop clock; a block whose power in the signal's band (through the matched
    filter at `sps` samples per chip or symbol) exceeds by THRESHOLD_DB the QUANTILE of the last HISTORY blocks'
    powers (the clean level: a partial-band jammer or a follower leaves most blocks or the
    first part of every dwell clean) is scaled down to that level (or zeroed, for a despreader that coasts through
    zeros), so that the demodulator's gain, timing and
    carrier loops are not dragged by a jammer for a whole dwell (the block's symbols are lost either way). Holds one
    block back. `block_id(i)` gives the block of decimated sample i."""

    BLOCKS_PER_DWELL = 8
    THRESHOLD_DB = 6.0
    QUANTILE = 0.25
    HISTORY = 64

    def __init__(self, block_id: Callable[[np.ndarray], np.ndarray], sps: int, rolloff: float,
                 zero: bool = False) -> None:
        from .sync import MatchedFilter

        self.block_id = block_id
        self.zero = zero
        self._mf = MatchedFilter(sps, rolloff)  # powers are measured in the signal's band
        self._held = np.zeros(0, dtype=np.complex64)
        self._held_ids = np.zeros(0, dtype=np.int64)
        self._held_pw = np.zeros(0)
        self._next = 0  # decimated index of the next sample given
        self._powers: list[float] = []
        self.blanked = 0  # blocks blanked
        self.blocks = 0

    def process(self, x: np.ndarray, final: bool = False) -> np.ndarray:
        x = np.asarray(x, dtype=np.complex64).reshape(-1)
        ids = self.block_id(self._next + np.arange(x.size, dtype=np.float64)).astype(np.int64)
        self._next += x.size
        buf = np.concatenate([self._held, x])
        bid = np.concatenate([self._held_ids, ids])
        # in-band power of each sample (matched filter; its delay of a few dozen samples is neglected)
        self._held_pw = np.concatenate([self._held_pw, np.abs(self._mf.process(x)) ** 2])
        pw = self._held_pw
        if not buf.size:
            return buf
        cuts = np.flatnonzero(np.diff(bid)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [buf.size]])
        if not final:  # the last block may go on: hold it
            starts, ends = starts[:-1], ends[:-1]
        out = []
        for a, b in zip(starts, ends, strict=True):
            blk = buf[a:b]
            p = float(np.mean(pw[a:b])) if b > a else 0.0
            hist = self._powers[-self.HISTORY :]
            ref = float(np.quantile(hist, self.QUANTILE)) if len(hist) >= 4 else None
            self.blocks += 1
            if ref is not None and ref > 0 and p > ref * 10 ** (self.THRESHOLD_DB / 10):
                blk = np.zeros_like(blk) if self.zero else (blk * np.float32(np.sqrt(ref / p))).astype(np.complex64)
                self.blanked += 1
            self._powers.append(p)
            del self._powers[: -self.HISTORY]
            out.append(blk)
        last = int(ends[-1]) if len(ends) else 0
        self._held = buf[last:]
        self._held_ids = bid[last:]
        self._held_pw = pw[last:]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.complex64)


__all__ = ["Decimator", "Dehopper", "HopBlanker", "HopPlan", "Hopper", "follower_hit_frames", "hop_phasor",
           "parse_hopping", "upsampling"]
