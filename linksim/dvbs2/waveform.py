"""The DVB-S2 carrier on the air: direct-sequence spreading and frequency hopping around the DVB-S2 TX and RX.

    transmit: PLFRAME symbols -> spreading (N chips per symbol) -> RRC at the chip rate -> hopping
    receive:  dehopping -> low-pass and decimation -> despreading (acquisition, tracking) -> DVB-S2 receiver

`Waveform` says how: spreading factor N (1: none) and its code seed, the hop plan (or none), the samples per chip
at the despreader (`sps`). The IQ sample rate is R_s x N x sps x U, U the upsampling that makes it cover the hop
set (1 without hopping): `samples_per_symbol` = N sps U. `WaveformTransmitter` is a DVB-S2 `Transmitter` whose
samples are spread and hopped; `WaveformReceiver` has the `Receiver`'s interface (process, flush, FrameReports,
cfo_cyc, stats) and reports each frame at the input sample where its first PLHEADER symbol's first chip peaks,
as the transmitter's `delay_samples` counts.

With spreading, the despread symbols (one per symbol, in order) are shaped again with the RRC pulse at 2 samples
per symbol and handed to the DVB-S2 receiver, which then does its own timing, frame and carrier synchronisation on
a symbol-rate signal: it needs no change, and what it measures (Es/N0 from the header and pilots) is the Es/N0
after despreading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from ..scenario.model import Scenario, occupied_bw_hz
from .hopping import Decimator, Dehopper, HopBlanker, Hopper, HopPlan, upsampling
from .params import RX_LDPC_ITERATIONS, frame_params
from .rrc import RrcInterpolator
from .rx import MAX_PLFRAME_SYMBOLS, BlockStager, FrameReport, Receiver, check_block_symbols
from .spreading import Despreader, Spreader, check_spreading_factor
from .tx import Transmitter

RESYNTH_SPS = 2  # samples per symbol of the despread signal handed to the DVB-S2 receiver
MAX_SAMPLES_PER_SYMBOL = 1 << 16  # IQ samples per symbol (spreading x samples per chip x hop-band upsampling)


@dataclass(frozen=True)
class Waveform:
    """Spreading factor and code seed, hop plan, samples per chip (or per symbol without spreading), roll-off and
    symbol rate (needed only to turn the hop plan's Hz and seconds into samples)."""

    spreading_factor: int = 1
    spreading_seed: int = 1
    sps: int = 2
    hopping: HopPlan | None = None
    symbol_rate_baud: float = 1e6
    rolloff: float = 0.2

    def __post_init__(self) -> None:
        check_spreading_factor(self.spreading_factor)
        if isinstance(self.spreading_seed, bool) or int(self.spreading_seed) != self.spreading_seed or \
                self.spreading_seed < 0:
            raise InputError(f"spreading seed must be an integer >= 0, not {self.spreading_seed}")
        if int(self.sps) != self.sps or self.sps < 2:
            raise InputError(f"samples per chip must be a whole number >= 2, not {self.sps}")
        if not (np.isfinite(self.symbol_rate_baud) and self.symbol_rate_baud > 0):
            raise InputError(f"symbol rate must be > 0 Bd, not {self.symbol_rate_baud}")
        if self.samples_per_symbol > MAX_SAMPLES_PER_SYMBOL:
            raise InputError(f"hopping: the hop set's band needs {self.samples_per_symbol} samples per symbol "
                             f"(spreading x samples per chip x {self.upsample} to cover it; at most "
                             f"{MAX_SAMPLES_PER_SYMBOL}): fewer channels, a closer spacing or a lower chip rate")

    @property
    def occupied_bw_hz(self) -> float:
        """The band of one hop channel (scenario.model.occupied_bw_hz)."""
        return occupied_bw_hz(self.symbol_rate_baud, self.rolloff, self.spreading_factor)

    @property
    def upsample(self) -> int:
        return upsampling(self.hopping, self.symbol_rate_baud * self.spreading_factor, self.sps, self.rolloff)

    @property
    def samples_per_chip(self) -> int:
        return self.sps * self.upsample

    @property
    def samples_per_symbol(self) -> int:
        return self.spreading_factor * self.samples_per_chip

    @property
    def sample_rate_hz(self) -> float:
        return self.symbol_rate_baud * self.samples_per_symbol

    @property
    def plain(self) -> bool:
        """Neither spread nor hopped: the DVB-S2 carrier as it is."""
        return self.spreading_factor == 1 and self.hopping is None

    def describe(self) -> dict[str, object]:
        d: dict[str, object] = {"spreading_factor": self.spreading_factor, "samples_per_symbol":
                                self.samples_per_symbol, "sample_rate_hz": self.sample_rate_hz}
        if self.spreading_factor > 1:
            d.update(spreading_seed=self.spreading_seed, chip_rate_hz=self.symbol_rate_baud * self.spreading_factor,
                     processing_gain_db=round(10 * np.log10(self.spreading_factor), 3))
        if self.hopping is not None:
            h = self.hopping
            d.update(hop_channels=h.channels, hop_spacing_hz=h.spacing_hz, hop_dwell_s=h.dwell_s, hop_seed=h.seed,
                     hop_band_hz=h.band_hz(self.occupied_bw_hz))
        return d


def dwell_s_from_frames(dwell_frames: float, modcod: str, frame: str, pilots: bool, symbol_rate_baud: float) -> float:
    """A dwell given in PLFRAMEs of `modcod` as seconds."""
    if not (np.isfinite(dwell_frames) and dwell_frames > 0):
        raise InputError(f"hopping dwell_frames must be > 0, not {dwell_frames}")
    return float(dwell_frames) * frame_params(modcod, frame, pilots).plframe_symbols / symbol_rate_baud


def waveform_from_options(spreading: int, hopping: dict[str, float | int] | None, sps: int,
                          symbol_rate_baud: float, rolloff: float, modcod: str, frame: str, pilots: bool,
                          spreading_seed: int = 1) -> Waveform:
    """The Waveform of the command line's --spreading N and --hopping spec (parsed by hopping.parse_hopping)."""
    plan = None
    if hopping is not None:
        h = dict(hopping)
        dwell = h.pop("dwell_s", None)
        frames = h.pop("dwell_frames", None)
        if dwell is None:
            assert frames is not None
            dwell = dwell_s_from_frames(float(frames), modcod, frame, pilots, symbol_rate_baud)
        plan = HopPlan(int(h["channels"]), float(h["spacing_hz"]), float(dwell), int(h.get("seed", 1)))
    return Waveform(int(spreading), int(spreading_seed), int(sps), plan, float(symbol_rate_baud), float(rolloff))


def block_waveform(spreading_factor: int, spreading_seed: int, hopping: str, sps: float, symbol_rate_baud: float,
                   rolloff: float, modcod: str = "QPSK 1/2", frame: str = "normal",
                   pilots: bool = True) -> Waveform | None:
    """The Waveform of a GNU Radio block's parameters (spreading factor, code seed, hopping spec as text), None when
    the carrier is neither spread nor hopped (the block then runs the plain DVB-S2 TX or RX at `sps`)."""
    from .hopping import parse_hopping

    spec = str(hopping or "").strip()
    if int(spreading_factor) == 1 and not spec:
        return None
    if abs(sps - round(sps)) > 1e-12:
        raise InputError(f"spreading and hopping need a whole number of samples per chip, not {sps}")
    return waveform_from_options(int(spreading_factor), parse_hopping(spec) if spec else None, int(round(sps)),
                                 symbol_rate_baud, rolloff, modcod, frame, pilots, int(spreading_seed))


def scenario_waveform(s: Scenario) -> Waveform:
    """The Waveform of a scenario's carrier ([carrier] spreading_factor, spreading_seed, [carrier.hopping]) at its
    channel's samples per chip ([channel] sps)."""
    c = s.carrier
    plan = None
    if c.hopping is not None:
        dwell = c.hop_dwell_s
        assert dwell is not None
        plan = HopPlan(c.hopping.channels, c.hopping.spacing_hz, dwell, c.hopping.seed)
    return Waveform(c.spreading_factor, c.spreading_seed, s.channel.sps, plan, c.symbol_rate_baud, c.rolloff)


class WaveformTransmitter(Transmitter):
    """A DVB-S2 Transmitter whose samples are spread and hopped as `waveform` says (see the module docstring).
    `sps` of the base class is the samples per chip here; `delay_samples` counts to a chip's pulse peak."""

    def __init__(self, waveform: Waveform, frame: str = "normal", pilots: bool = True, gold_code: int = 0,
                 stream: str = "ts", ccm: bool = True, hop_origin: float = 0.0) -> None:
        super().__init__(frame, pilots, waveform.rolloff, waveform.samples_per_chip, gold_code, stream, ccm)
        self.waveform = waveform
        self._spreader = Spreader(waveform.spreading_factor, waveform.spreading_seed)
        self._hopper = None if waveform.hopping is None else \
            Hopper(waveform.hopping, waveform.sample_rate_hz, hop_origin)

    def shape(self, symbols: np.ndarray) -> np.ndarray:
        x = self._rrc(self._spreader(symbols))
        return x if self._hopper is None else self._hopper(x)

    def modulate(self, frames: Iterable[tuple[str | None, bytes | np.ndarray | None]]) -> np.ndarray:
        syms = [self.frame_symbols(m, d) for m, d in frames]
        if not syms:
            return np.zeros(0, dtype=np.complex64)
        return self.shape(np.concatenate(syms))

    def flush(self) -> np.ndarray:
        x = self._rrc.flush()
        return x if self._hopper is None else self._hopper(x)

    @property
    def samples_per_symbol(self) -> int:
        return self.waveform.samples_per_symbol


def make_transmitter(waveform: Waveform | None, frame: str = "normal", pilots: bool = True, rolloff: float = 0.2,
                     sps: int = 2, gold_code: int = 0, stream: str = "ts", ccm: bool = True,
                     hop_origin: float = 0.0) -> Transmitter:
    """A plain Transmitter for no (or a plain) waveform, else a WaveformTransmitter."""
    if waveform is None or waveform.plain:
        return Transmitter(frame, pilots, rolloff, sps if waveform is None else waveform.sps, gold_code, stream, ccm)
    return WaveformTransmitter(replace(waveform, rolloff=rolloff), frame, pilots, gold_code, stream, ccm, hop_origin)


class DespreadReceiver(Receiver):
    """The DVB-S2 receiver on despread symbols re-shaped at RESYNTH_SPS: their timing is known (the despreader's
    delay-locked loop did it), so the matched filter is sampled at the symbol instants, as in genie sync, with no
    timing loop or AGC (a blanked hop's zeros leave nothing to recover from); frame and carrier synchronisation
    run in full (sync "full") or are genie's."""

    def __init__(self, rolloff: float, gold_code: int, max_iter: int, sync: str, demapper: str,
                 delay_samples: int, vlsnr: bool = False) -> None:
        super().__init__(RESYNTH_SPS, rolloff, gold_code, max_iter, sync, genie_delay_samples=delay_samples,
                         demapper=demapper, vlsnr=vlsnr)
        self._timing = None  # the front end then takes the matched filter's output at the known instants


class WaveformReceiver:
    """Dehopping, decimation and despreading in front of a DVB-S2 `Receiver` (see the module docstring).

    hop_offset_samples: where the receiver's samples are on the transmitter's hop clock (a number or a function of
    the receive sample indices: transmit index = receive index - offset); max_cfo_cyc: carrier offsets the
    despreader's acquisition searches (cycles per symbol); genie_first_chip: genie sync, the input sample where the
    stream's first chip peaks (the transmitter's delay_samples); blank: blank jammed parts of hops
    (hopping.HopBlanker). Other arguments as `Receiver`.

    Like `Receiver` it runs on blocks of block_symbols (default BLOCK_SYMBOLS) symbols' input samples cut at fixed
    input indices (the same results however the stream is cut into calls): `samples_processed` counts them, each
    report carries the count when it came out (`emitted_after`), and `reported_through` is the input index before
    which every PLFRAME has been reported."""

    COARSE_DWELLS = 8  # hops the first blind carrier estimate of a hopped carrier spans

    def __init__(self, waveform: Waveform, rolloff: float = 0.2, gold_code: int = 0,
                 max_iter: int = RX_LDPC_ITERATIONS, sync: str = "full", demapper: str = "maxlog",
                 hop_offset_samples: float | Callable[[np.ndarray], np.ndarray] = 0.0, hop_origin: float = 0.0,
                 max_cfo_cyc: float = 0.125, genie_first_chip: float | None = None, blank: bool = True,
                 vlsnr: bool = False, block_symbols: int | None = None) -> None:
        w = replace(waveform, rolloff=rolloff)
        self.waveform = w
        self.u = w.upsample
        n = w.spreading_factor
        self._dehop = None if w.hopping is None else \
            Dehopper(w.hopping, w.sample_rate_hz, hop_offset_samples, hop_origin)
        self._dec = Decimator(self.u, w.sps, rolloff) if self.u > 1 else None
        self._blank = None
        if w.hopping is not None and blank:
            fs_dec = w.sample_rate_hz / self.u
            blk_s = w.hopping.dwell_s / HopBlanker.BLOCKS_PER_DWELL
            off = hop_offset_samples

            def block_id(i: np.ndarray) -> np.ndarray:  # block of the hop clock that decimated sample i is in
                m = i * self.u
                tx = m - (off(m) if callable(off) else off) + hop_origin
                return np.floor(tx / (w.sample_rate_hz * blk_s))

            self._blank = HopBlanker(block_id, w.sps, rolloff, zero=n > 1)
            self._fs_dec = fs_dec
        if sync == "genie" and genie_first_chip is None:
            raise InputError("genie sync through the waveform needs the transmitter's delay (genie_first_chip)")
        g = None if genie_first_chip is None else float(genie_first_chip) / self.u
        if n > 1:
            self._desp: Despreader | None = Despreader(n, w.spreading_seed, w.sps, rolloff, max_cfo_cyc,
                                                       genie_first_chip=g if sync == "genie" else None)
            self._resynth: RrcInterpolator | None = RrcInterpolator(rolloff, RESYNTH_SPS)
            self.rx = DespreadReceiver(rolloff, gold_code, max_iter, sync, demapper, self._resynth.delay_samples,
                                       vlsnr)
        else:
            self._desp = None
            self._resynth = None
            self.rx = Receiver(w.sps, rolloff, gold_code, max_iter, sync, demapper=demapper,
                               genie_delay_samples=g if sync == "genie" else None, vlsnr=vlsnr)
        if w.hopping is not None:  # the blind carrier estimate spans COARSE_DWELLS hops (at most 4 of the longest
            # PLFRAMEs): a jammed hop the blanker has not learnt to blank yet (at the start) would otherwise pull it
            # off the carrier
            span_sym = min(self.COARSE_DWELLS * w.hopping.dwell_s * w.symbol_rate_baud, 4 * MAX_PLFRAME_SYMBOLS)
            self.rx.COARSE_SAMPLES = max(Receiver.COARSE_SAMPLES, int(round(span_sym * self.rx.sps)))
        self._pos = np.zeros(0)  # despread symbol j's position (decimated samples) at _pos[j - _pos_base]
        self._pos_base = 0
        self._samples_in = 0
        self.sync = sync
        self.block_symbols = check_block_symbols(block_symbols)
        self.block_samples = max(1, int(round(self.block_symbols * w.samples_per_symbol)))
        self._stager = BlockStager(self.block_samples)
        self.samples_processed = 0
        self._watermark = float("-inf")
        self._flushed = False

    # ------------------------------------------------------------------------------------------- interface
    @property
    def keep_raw_field(self) -> bool:
        return self.rx.keep_raw_field

    @keep_raw_field.setter
    def keep_raw_field(self, v: bool) -> None:
        self.rx.keep_raw_field = v

    @property
    def stats(self) -> dict[str, int]:
        d = dict(self.rx.stats)
        if self._blank is not None:
            d.update(hop_blocks=self._blank.blocks, hop_blocks_blanked=self._blank.blanked)
        if self._desp is not None:
            d.update({f"despreader_{k}": v for k, v in self._desp.stats.items()})
        return d

    @property
    def cfo_cyc(self) -> float:
        return self.rx.cfo_cyc + (self._desp.cfo_cyc if self._desp is not None else 0.0)

    @property
    def samples_in(self) -> int:
        return self._samples_in

    def process(self, samples: np.ndarray) -> list[FrameReport]:
        if self._flushed:
            raise InputError("this receiver was flushed; make a new one for a new stream")
        x = np.asarray(samples, dtype=np.complex64).reshape(-1)
        self._samples_in += x.size
        out: list[FrameReport] = []
        for blk in self._stager.blocks(x):
            self.samples_processed += blk.size
            out += self._emitted(self._step(blk, final=False))
        return out

    def flush(self) -> list[FrameReport]:
        if self._flushed:
            return []
        rest = self._stager.rest()
        self.samples_processed += rest.size
        out = self._emitted(self._step(rest, final=True))
        self._flushed = True
        return out

    def _emitted(self, reps: list[FrameReport]) -> list[FrameReport]:
        for r in reps:
            r.emitted_after = self.samples_processed
        return reps

    @property
    def reported_through(self) -> float:
        """Input sample index before which every PLFRAME has been reported (the inner receiver's, mapped back)."""
        if self._flushed:
            return float("inf")
        v = float(self.rx.reported_through)
        if np.isfinite(v):
            if self._desp is None:
                v *= self.u
            else:
                assert self._resynth is not None
                k = (v - self._resynth.delay_samples) / RESYNTH_SPS - self._pos_base
                if k < 0 or not self._pos.size:
                    v = float("-inf")
                else:
                    v = float(np.interp(k, np.arange(self._pos.size), self._pos)) * self.u
        self._watermark = max(self._watermark, v)
        return self._watermark

    # ------------------------------------------------------------------------------------------- chain
    def _step(self, x: np.ndarray, final: bool) -> list[FrameReport]:
        if self._dehop is not None and x.size:
            x = self._dehop(x)
        if self._dec is not None:
            x = self._dec.process(x, final=final)
        if self._blank is not None:
            x = self._blank.process(x, final=final)
        if self._desp is None:
            reps = self.rx.process(x) if x.size else []
            if final:
                reps += self.rx.flush()
            return self._map(reps)
        s, p = self._desp.process(x) if x.size else (np.zeros(0, np.complex64), np.zeros(0))
        if final:
            s2, p2 = self._desp.flush()
            s, p = np.concatenate([s, s2]), np.concatenate([p, p2])
        self._pos = np.concatenate([self._pos, p])
        assert self._resynth is not None
        y = self._resynth(s) if s.size else np.zeros(0, np.complex64)
        if final:
            y = np.concatenate([y, self._resynth.flush()])
        reps = self.rx.process(y) if y.size else []
        if final:
            reps += self.rx.flush()
        return self._map(reps)

    def _map(self, reps: list[FrameReport]) -> list[FrameReport]:
        """Frame positions back to input samples (and the despreader's carrier offset added)."""
        for r in reps:
            if self._desp is None:
                r.sample_index = int(round(r.sample_index * self.u))
                continue
            assert self._resynth is not None
            j = int(round((r.sample_index - self._resynth.delay_samples) / RESYNTH_SPS))
            k = j - self._pos_base
            if 0 <= k < self._pos.size:
                r.sample_index = int(round(self._pos[k] * self.u))
            else:  # outside what the despreader produced (a frame cut at the end): extrapolate
                r.sample_index = int(round((self._pos[-1] if self._pos.size else 0.0) * self.u +
                                           (k - self._pos.size + 1) * self.waveform.samples_per_symbol))
            r.cfo_cyc += self._desp.cfo_cyc
        # keep the positions of the symbols the receiver may still report (a few of the longest frames)
        keep = 4 * 33282 + 4096
        if self._pos.size > keep:
            drop = self._pos.size - keep
            self._pos = self._pos[drop:]
            self._pos_base += drop
        return reps


def make_receiver(waveform: Waveform | None, sps: float = 2, rolloff: float = 0.2, gold_code: int = 0,
                  max_iter: int = RX_LDPC_ITERATIONS, sync: str = "full", demapper: str = "maxlog",
                  vlsnr: bool = False, decode_threads: int = 0, pipeline: bool = False,
                  **kw: object) -> Receiver | WaveformReceiver:
    """A plain Receiver for no (or a plain) waveform (decode_threads, pipeline: its parallel decoding), else a
    WaveformReceiver (keywords as its; it decodes in the caller's thread)."""
    if waveform is None or waveform.plain:
        return Receiver(sps if waveform is None else waveform.sps, rolloff, gold_code, max_iter, sync,
                        demapper=demapper, vlsnr=vlsnr, decode_threads=decode_threads, pipeline=pipeline)
    return WaveformReceiver(waveform, rolloff, gold_code, max_iter, sync, demapper, vlsnr=vlsnr,
                            **kw)  # type: ignore[arg-type]


__all__ = ["DespreadReceiver", "Waveform", "WaveformReceiver", "WaveformTransmitter", "block_waveform",
           "dwell_s_from_frames", "make_receiver", "make_transmitter", "scenario_waveform", "waveform_from_options"]
