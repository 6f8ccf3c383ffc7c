"""GNU Radio block: DVB-S2 transmitter (bytes in, RRC-shaped complex64 samples out), MODCOD settable per frame.

Wraps `linksim.dvbs2.tx.Transmitter`. Input is a byte stream: MPEG-TS (188-byte packets, sync 0x47; the block
re-aligns on the sync byte if the stream slips) or a generic continuous stream. A PLFRAME is produced as soon as
one BBFRAME's worth of input is queued (like gr-dtv, no padding frames). The MODCOD of the next frame is set by
`set_modcod(...)` or by a message on the "modcod" port (PMT string "8PSK 3/4" or integer MODCOD number 1..28).

Each PLFRAME's first output sample carries a stream tag "modcod" (PMT string), and the output has unit mean
power per sample (Es/N0 = sps / noise variance per sample).
"""

from __future__ import annotations

import threading

import numpy as np
import pmt
from gnuradio import gr

from ..dvbs2.bbframe import TS_PACKET_BYTES, TS_SYNC
from ..dvbs2.params import MODCOD_NAMES, frame_params
from ..dvbs2.waveform import Waveform, block_waveform, make_transmitter
from ..errors import InputError
from .buffers import large_output_buffer

_LOG = gr.logger("linksim.dvbs2_tx")


def parse_modcod(value: object) -> str:
    """A MODCOD name from a str ("8PSK 3/4"), an int (1..28) or a PMT holding either. Raises InputError."""
    if isinstance(value, pmt.pmt_base):
        if pmt.is_symbol(value):
            value = pmt.symbol_to_string(value)
        elif pmt.is_integer(value):
            value = pmt.to_long(value)
        elif pmt.is_pair(value):  # (key . value) pairs, e.g. from a message strobe with a dict entry
            return parse_modcod(pmt.cdr(value))
        else:
            raise InputError(f"modcod message must be a string or an integer, not {value}")
    if isinstance(value, (int, np.integer)):
        if int(value) not in MODCOD_NAMES:
            raise InputError(f"MODCOD number must be 1..28, not {value}")
        return MODCOD_NAMES[int(value)]
    return frame_params(str(value)).modcod  # validates and normalises the name


class dvbs2_tx(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """DVB-S2 transmitter block.

    modcod: initial MODCOD ("QPSK 1/2" or 1..28); frame: "normal" | "short"; pilots: bool; rolloff: 0.35, 0.25,
    0.20; sps: output samples per symbol (per chip with spreading); gold_code: PL scrambling code; stream: "ts" |
    "generic"; ccm: BBHEADER CCM flag (set False when the MODCOD will change).
    spreading_factor (1..512) and spreading_seed: direct-sequence spreading; hopping: "" or a hop spec
    "channels=8,spacing_hz=25e3,dwell_s=0.01,seed=1" (dwell_frames=N instead of dwell_s); symbol_rate_baud: for
    the hop spec's Hz and seconds; waveform: a linksim.dvbs2.waveform.Waveform instead of those; hop_origin: where
    output sample 0 is on the hop clock. With spreading or hopping the output has sps x spreading x (hop band
    upsampling) samples per symbol (linksim.dvbs2.waveform).
    """

    def __init__(
        self,
        modcod: str | int = "QPSK 1/2",
        frame: str = "normal",
        pilots: bool = True,
        rolloff: float = 0.2,
        sps: int = 2,
        gold_code: int = 0,
        stream: str = "ts",
        ccm: bool = True,
        spreading_factor: int = 1,
        spreading_seed: int = 1,
        hopping: str = "",
        symbol_rate_baud: float = 1e6,
        waveform: Waveform | None = None,
        hop_origin: float = 0.0,
    ) -> None:
        gr.basic_block.__init__(self, name="dvbs2_tx", in_sig=[np.uint8], out_sig=[np.complex64])
        if waveform is None:
            waveform = block_waveform(spreading_factor, spreading_seed, hopping, sps, symbol_rate_baud, rolloff,
                                      parse_modcod(modcod), frame, pilots)
        self._tx = make_transmitter(waveform, frame, pilots, rolloff, sps, gold_code, stream, ccm, hop_origin)
        self._lock = threading.Lock()
        self._modcod = parse_modcod(modcod)
        self._tx.params(self._modcod)  # short frames have no 9/10
        self._stream = stream
        self._partial = np.zeros(0, dtype=np.uint8)
        self._out = np.zeros(0, dtype=np.complex64)
        self._tags: list[tuple[int, str]] = []  # (offset into self._out, modcod) of frame starts
        self._frames = 0
        # ACM/VCM hook: called with the output sample index where the next PLFRAME will start; returns its MODCOD
        self.modcod_source = None
        self.frame_log: list[tuple[int, str]] = []  # (first output sample index, MODCOD) of every PLFRAME made
        large_output_buffer(self)
        self.message_port_register_in(pmt.intern("modcod"))
        self.set_msg_handler(pmt.intern("modcod"), self._handle_modcod)

    # ------------------------------------------------------------------------------------------ control
    def set_modcod(self, modcod: str | int) -> None:
        """MODCOD of the next PLFRAME (name or number 1..28)."""
        name = parse_modcod(modcod)
        self._tx.params(name)
        with self._lock:
            self._modcod = name

    def modcod(self) -> str:
        return self._modcod

    def frames_sent(self) -> int:
        return self._frames

    def _handle_modcod(self, msg: pmt.pmt_base) -> None:
        try:
            self.set_modcod(msg)
        except InputError as e:
            _LOG.warn(f"dvbs2_tx: ignored modcod message: {e}")

    # ------------------------------------------------------------------------------------------ streaming
    def forecast(self, noutput_items: int, ninputs: int) -> list[int]:
        return [0 if self._out.size else 1] * ninputs

    def _take_input(self, data: np.ndarray) -> None:
        if self._stream != "ts":
            self._tx.push(data)
            return
        buf = np.concatenate([self._partial, data]) if self._partial.size else data
        # re-align on the sync byte if the stream slipped
        while buf.size and buf[0] != TS_SYNC:
            idx = np.nonzero(buf == TS_SYNC)[0]
            _LOG.warn("dvbs2_tx: TS stream not aligned on 0x47; skipping bytes")
            buf = buf[idx[0] :] if idx.size else buf[:0]
        n = buf.size // TS_PACKET_BYTES * TS_PACKET_BYTES
        whole = buf[:n].reshape(-1, TS_PACKET_BYTES)
        bad = np.nonzero(whole[:, 0] != TS_SYNC)[0]
        if bad.size:  # keep the good packets before the slip; the rest is re-aligned next call
            n = int(bad[0]) * TS_PACKET_BYTES
        if n:
            self._tx.push(buf[:n])
        self._partial = buf[n:].copy()

    def general_work(self, input_items, output_items):  # noqa: D102 - GNU Radio API
        inp = input_items[0]
        out = output_items[0]
        with self._lock:
            modcod = self._modcod
        # with a MODCOD source (ACM over a sample-clock return path that may wait on the receiver) the next frame is
        # made only once every sample made so far is out, so the receiver can always get what it waits for
        room = self._out.size < len(out) if self.modcod_source is None else self._out.size == 0
        if room and self.modcod_source is not None:
            modcod = self.modcod_source(self.nitems_written(0))
        cap = self._tx.frame_capacity_bytes(modcod)
        # take input only while less than one frame is queued (bounded memory)
        used = 0
        if self._tx.pending_bytes < cap and len(inp):
            used = min(len(inp), cap - self._tx.pending_bytes + TS_PACKET_BYTES)
            self._take_input(np.asarray(inp[:used], dtype=np.uint8))
        self.consume(0, used)
        # make frames while there is data for a full one and little output queued
        if room and self._tx.pending_bytes >= cap:
            samples = self._tx.modulate([(modcod, None)])
            self._tags.append((self._out.size, modcod))
            self.frame_log.append((self.nitems_written(0) + self._out.size, modcod))
            self._out = np.concatenate([self._out, samples]) if self._out.size else samples
            self._frames += 1
        n = min(len(out), self._out.size)
        if n == 0:
            return 0
        out[:n] = self._out[:n]
        base = self.nitems_written(0)
        keep = []
        for off, name in self._tags:
            if off < n:
                self.add_item_tag(0, base + off, pmt.intern("modcod"), pmt.intern(name))
            else:
                keep.append((off - n, name))
        self._tags = keep
        self._out = self._out[n:]
        return n
