"""DVB-S2 transmitter (ETSI EN 302 307-1): byte stream -> PLFRAME symbols -> RRC-shaped samples.

Chain per frame: stream adaptation (BBHEADER, data field, padding) -> BB scrambling -> BCH -> LDPC -> bit
interleaving -> mapping -> PL framing (PLHEADER, pilots, PL scrambling). The MODCOD may change from
frame to frame (VCM/ACM); pilots, frame size, roll-off and Gold code are fixed per Transmitter. Output
symbols have unit average energy; RRC output samples have unit mean power (see `rrc.RrcInterpolator`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import InputError
from .bbframe import TS_PACKET_BYTES, TS_SYNC, BbHeader, StreamAdapter
from .constellations import constellation, map_symbols
from .interleave import interleave
from .params import FrameParams, frame_params
from .plframe import dummy_plframe, plframe
from .rrc import DEFAULT_SPAN_SYMBOLS, DVBS2_ROLLOFFS, RrcInterpolator
from .scrambling import bb_scramble


def fec_encode(bbframe_scrambled: np.ndarray, p: FrameParams) -> np.ndarray:
    """Scrambled BBFRAME (K_bch bits) -> LDPC codeword (n_ldpc bits), via BCH then LDPC (uint8 0/1)."""
    from .bch import bch_encode
    from .ldpc import ldpc_encode

    bch = bch_encode(np.asarray(bbframe_scrambled, dtype=np.uint8), p.frame, p.rate)
    return np.asarray(ldpc_encode(bch, p.frame, p.rate), dtype=np.uint8)


def codeword_to_xfec(codeword: np.ndarray, p: FrameParams, const: object | None = None) -> np.ndarray:
    """LDPC codeword -> XFECFRAME symbols (complex64): bit interleaving and mapping (onto `const`, default the
    standard constellation of the MODCOD)."""
    const = const if const is not None else constellation(p.constellation, p.rate)
    return map_symbols(interleave(codeword, p.constellation, p.rate), const)


class Transmitter:
    """A DVB-S2 transmitter with a fixed frame size, pilot setting, roll-off and Gold code.

    frame: "normal" (64800) or "short" (16200); pilots: pilot blocks on/off; rolloff: 0.35, 0.25 or 0.20
    (also written in the BBHEADER); sps: samples per symbol of `modulate`; gold_code: PL scrambling code n;
    stream: "ts" (188-byte MPEG-TS packets) or "generic" (continuous byte stream);
    ccm: BBHEADER CCM flag (True, as gr-dtv) or False to signal ACM/VCM.
    """

    def __init__(
        self,
        frame: str = "normal",
        pilots: bool = True,
        rolloff: float = 0.2,
        sps: int = 2,
        gold_code: int = 0,
        stream: str = "ts",
        ccm: bool = True,
        span_symbols: int = DEFAULT_SPAN_SYMBOLS,
    ) -> None:
        if frame not in ("normal", "short"):
            raise InputError(f"frame must be 'normal' or 'short', not {frame!r}")
        if not any(abs(rolloff - r) < 1e-9 for r in DVBS2_ROLLOFFS):
            raise InputError(f"roll-off must be 0.35, 0.25 or 0.20, not {rolloff}")
        self.frame = frame
        self.pilots = bool(pilots)
        self.rolloff = float(rolloff)
        self.sps = int(sps)
        self.gold_code = int(gold_code)
        dummy_plframe(self.gold_code)  # validates the Gold code
        self.stream = stream
        self._adapter = StreamAdapter(stream, rolloff, ccm)
        self._rrc = RrcInterpolator(rolloff, sps, span_symbols)
        self.last_header: BbHeader | None = None
        # pre-distorted APSK rings: MODCOD -> (ring ratios, ring phase offsets in rad), from
        # linksim.budget.distortion.ring_predistortion or given; the other MODCODs map onto the standard's rings
        self.ring_geometry: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {}

    # ---------------------------------------------------------------------------------------- input stream
    def push(self, data: bytes | np.ndarray) -> None:
        """Append input bytes (TS mode: whole 188-byte packets starting with 0x47)."""
        self._adapter.push(data)

    @property
    def pending_bytes(self) -> int:
        """Input bytes not yet put into a BBFRAME."""
        return self._adapter.pending_bytes

    def params(self, modcod: str) -> FrameParams:
        return frame_params(modcod, self.frame, self.pilots)

    def frame_capacity_bytes(self, modcod: str) -> int:
        """Input bytes one BBFRAME of `modcod` takes: (K_bch - 80)/8, rounded up (the DVB-S2X medium frames carry
        half bytes; the nibble left over goes into the next frame)."""
        return -(-self.params(modcod).data_field_bits // 8)

    # ---------------------------------------------------------------------------------------- frames
    def bbframe(self, modcod: str, data: bytes | np.ndarray | None = None) -> np.ndarray:
        """Push `data`, then cut the next BBFRAME of `modcod` and BB scramble it (K_bch bits, uint8)."""
        if data is not None:
            self.push(data)
        p = self.params(modcod)
        bits, self.last_header = self._adapter.next_bbframe(p.k_bch)
        return bb_scramble(bits)

    def frame_symbols(self, modcod: str | None, data: bytes | np.ndarray | None = None) -> np.ndarray:
        """Push `data` (may be None) and return the next PLFRAME's symbols (complex64).

        The frame takes up to `frame_capacity_bytes(modcod)` bytes of pending input; the rest stays queued
        for the
        next frame. With less pending, the data field is shorter and zero padded. modcod None gives a DUMMY
        PLFRAME (input stays queued).
        """
        if modcod is None:
            if data is not None:
                self.push(data)
            return dummy_plframe(self.gold_code)
        p = self.params(modcod)
        if p.vlsnr is not None:  # DVB-S2X VL-SNR: its own coding and framing
            from .vlsnr import vlsnr_frame

            return vlsnr_frame(self.bbframe(modcod, data), p, self.gold_code)
        codeword = fec_encode(self.bbframe(modcod, data), p)
        const = None
        if p.modcod in self.ring_geometry:
            from .constellations import with_rings

            const = with_rings(p.constellation, *self.ring_geometry[p.modcod])
        return plframe(codeword_to_xfec(codeword, p, const), p.modcod, self.frame, self.pilots, self.gold_code)

    def dummy_frame_symbols(self) -> np.ndarray:
        return dummy_plframe(self.gold_code)

    # ---------------------------------------------------------------------------------------- samples
    def shape(self, symbols: np.ndarray) -> np.ndarray:
        """RRC-interpolate symbols (stateful across calls): complex64, sps samples per symbol."""
        return self._rrc(symbols)

    def modulate(self, frames: Iterable[tuple[str | None, bytes | np.ndarray | None]]) -> np.ndarray:
        """Frames (modcod or None for dummy, payload bytes or None) -> RRC-shaped samples (complex64).

        State (input queue, packet alignment, filter memory) carries over between calls, so a long stream can
        be produced call by call. The filter delays the output by `delay_samples`; `flush()` drains it.
        """
        syms = [self.frame_symbols(m, d) for m, d in frames]
        if not syms:
            return np.zeros(0, dtype=np.complex64)
        return self._rrc(np.concatenate(syms))

    def flush(self) -> np.ndarray:
        """Samples that drain the RRC filter at the end of a transmission."""
        return self._rrc.flush()

    @property
    def delay_samples(self) -> int:
        """Samples between a symbol entering the RRC filter and its pulse peak."""
        return self._rrc.delay_samples


def random_ts_packets(n_packets: int, seed: int = 0, pid: int = 0x100) -> bytes:
    """Pseudo-random MPEG-TS packets: sync 0x47, PID `pid`, payload-only with a running continuity counter,
    184 random payload bytes (numpy Generator from `seed`)."""
    return RandomTsStream(seed, pid).take(n_packets)


class RandomTsStream:
    """random_ts_packets in pieces, for streams too long to hold: successive take(k) calls give exactly the bytes
    of random_ts_packets(total, seed, pid) (184 payload bytes a packet is a whole number of the 32-bit words
    numpy's Generator draws bytes from, so the draws do not depend on how the stream is cut)."""

    def __init__(self, seed: int = 0, pid: int = 0x100) -> None:
        self._rng = np.random.default_rng(seed)
        self._pid = pid
        self.packets = 0  # packets taken so far

    def take(self, n_packets: int) -> bytes:
        if n_packets < 0:
            raise InputError(f"number of packets must be >= 0, not {n_packets}")
        pk = np.empty((n_packets, TS_PACKET_BYTES), dtype=np.uint8)
        pk[:, 0] = TS_SYNC
        pk[:, 1] = (self._pid >> 8) & 0x1F
        pk[:, 2] = self._pid & 0xFF
        pk[:, 3] = 0x10 | ((self.packets + np.arange(n_packets)) & 0x0F)
        pk[:, 4:] = self._rng.integers(0, 256, size=(n_packets, TS_PACKET_BYTES - 4), dtype=np.uint8)
        self.packets += n_packets
        return pk.tobytes()


def random_ts_frames(tx: Transmitter, modcod: str, n_frames: int, seed: int = 0) -> tuple[list[np.ndarray], bytes]:
    """PLFRAMEs of `n_frames` full BBFRAMEs of pseudo-random TS packets from `seed`.

    Returns (one complex64 array per PLFRAME, the TS bytes pushed). Packets that did not fit completely stay
    queued in `tx`; all packets that ended inside these frames are in the returned bytes' prefix.
    """
    cap = tx.frame_capacity_bytes(modcod) * n_frames
    need = max(0, cap - tx.pending_bytes)
    n_packets = -(-need // TS_PACKET_BYTES)
    ts = random_ts_packets(n_packets, seed)
    tx.push(ts)
    return [tx.frame_symbols(modcod) for _ in range(n_frames)], ts
