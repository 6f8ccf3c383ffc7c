"""GNU Radio block: DVB-S2 receiver (complex64 samples in, TS packet bytes out, per-frame reports as messages).

Wraps `linksim.dvbs2.rx.Receiver` (timing, frame and carrier synchronisation, LDPC and BCH decoding). Output is
the byte stream of the TS packets received (188-byte packets, sync bytes restored); frames that fail to decode
give no packets. Every PLFRAME, failed ones included, publishes a PMT dictionary on the message port "frames"
with the keys sample_index, modcod, frame, pilots, ldpc_iterations, bch_corrected, ok, esn0_est_db, cfo_cyc,
payload_bytes, ts_packets, ts_crc_errors.

The receiver works on blocks of block_symbols (default `Receiver.BLOCK_SYMBOLS`) symbols' worth of samples cut at
fixed input indices (so its reports do not depend on how GNU Radio chunks the stream): a frame leaves it once the
block holding its last sample (plus the matched filter's delay, some 30 samples) has arrived and its decoding is
done: with decode_threads > 0 frames decode on worker threads while the next ones are synchronised, and with
pipeline the front end of each block runs on a thread too (frames then come up to 4 blocks later); the reports
and TS packets are the same and in the same order. At the end of a finite stream GNU Radio gives a Python block no
end-of-input call: the frames still inside are published (messages only) when the flowgraph stops. Append
5 x block_symbols x sps zero samples to a finite recording to have its last frame's TS packets on the output too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pmt
from gnuradio import gr

from ..dvbs2.params import RX_LDPC_ITERATIONS
from ..dvbs2.rx import FrameReport, Receiver
from ..dvbs2.waveform import Waveform, WaveformReceiver, block_waveform
from ..errors import InputError

FRAMES_PORT = "frames"


def report_to_pmt(r: FrameReport) -> pmt.pmt_base:
    """A FrameReport as a PMT dictionary (numbers as PMT integers/doubles, text as symbols)."""
    d = pmt.make_dict()
    for k, v in r.as_dict().items():
        if isinstance(v, bool):
            pv = pmt.from_bool(v)
        elif isinstance(v, (int, np.integer)):
            pv = pmt.from_long(int(v))
        elif isinstance(v, (float, np.floating)):
            pv = pmt.from_double(float(v))
        else:
            pv = pmt.intern(str(v))
        d = pmt.dict_add(d, pmt.intern(k), pv)
    return d


class dvbs2_rx(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """DVB-S2 receiver block. sps: input samples per symbol (>= 2, need not be an integer: sample rate / symbol
    rate of an SDR capture; per chip, an integer, with spreading or hopping); rolloff: 0.35, 0.25, 0.20;
    gold_code: PL scrambling code; max_iter: LDPC iteration limit; vlsnr: also receive DVB-S2X VL-SNR frames (down
    to Es/N0 -10 dB); erasures: a second input, bytes beside the samples (non-zero: the sample was blanked, e.g. by
    linksim.gr.mitigation.pulse_blanker_cb), whose symbols the receiver erases (without spreading or hopping).
    spreading_factor, spreading_seed, hopping, symbol_rate_baud (or waveform): as the transmitter's
    (linksim.gr.dvbs2_tx); hop_offset_samples: how many samples the input lags the transmitter's hop clock (a
    number, or a function of the input sample indices); dwell_modcod, frame, pilots: the PLFRAME that a hop spec's
    dwell_frames counts. decode_threads: frames decoded on this many worker threads (0: in the block's thread);
    pipeline: the front end runs up to 4 blocks ahead on a thread (see linksim.dvbs2.rx.Receiver; not with spreading
    or hopping, whose receiver decodes in the block's thread). block_symbols: the receiver's block (0: its default
    Receiver.BLOCK_SYMBOLS); a frame leaves once the block holding its end is in, so smaller blocks lower the
    latency."""

    def __init__(self, sps: float = 2, rolloff: float = 0.2, gold_code: int = 0,
                 max_iter: int = RX_LDPC_ITERATIONS, vlsnr: bool = False, erasures: bool = False,
                 spreading_factor: int = 1, spreading_seed: int = 1, hopping: str = "",
                 symbol_rate_baud: float = 1e6, waveform: Waveform | None = None,
                 hop_offset_samples: float | Callable[[np.ndarray], np.ndarray] = 0.0, hop_origin: float = 0.0,
                 dwell_modcod: str = "QPSK 1/2", frame: str = "normal", pilots: bool = True,
                 decode_threads: int = 1, pipeline: bool = False, block_symbols: int = 0) -> None:
        in_sig = [np.complex64, np.uint8] if erasures else [np.complex64]
        gr.basic_block.__init__(self, name="dvbs2_rx", in_sig=in_sig, out_sig=[np.uint8])
        self._erasures = bool(erasures)
        if waveform is None:
            waveform = block_waveform(spreading_factor, spreading_seed, hopping, sps, symbol_rate_baud, rolloff,
                                      dwell_modcod, frame, pilots)
        if waveform is None or waveform.plain:
            self._rx: Receiver | WaveformReceiver = Receiver(sps=sps, rolloff=rolloff, gold_code=gold_code,
                                                             max_iter=max_iter, vlsnr=bool(vlsnr),
                                                             decode_threads=decode_threads, pipeline=pipeline,
                                                             block_symbols=block_symbols or None)
        else:
            if erasures:
                raise InputError("dvbs2_rx: erasures (pulse blanking) do not reach a despread or dehopped "
                                 "receiver; blank without spreading and hopping")
            self._rx = WaveformReceiver(waveform, rolloff, gold_code, max_iter,
                                        hop_offset_samples=hop_offset_samples, hop_origin=hop_origin,
                                        vlsnr=bool(vlsnr), block_symbols=block_symbols or None)
        self._samples_in = 0
        self._pending = np.zeros(0, dtype=np.uint8)
        self._lock = threading.Lock()
        self.frames = 0
        self.frame_errors = 0
        # in-process listener (the run engine): called with each batch of FrameReports (decoded, in order) and the
        # number of input samples consumed so far, in the scheduler's thread
        self.report_sink = None
        self.message_port_register_out(pmt.intern(FRAMES_PORT))

    def forecast(self, noutput_items, ninputs):  # type: ignore[no-untyped-def]
        # output depends on whole frames: ask for whatever input is there
        return [1] * ninputs

    def _publish(self, reports: list[FrameReport]) -> None:
        chunks = []
        for r in reports:
            self.frames += 1
            self.frame_errors += 0 if r.ok else 1
            if r.ts:
                chunks.append(np.frombuffer(r.ts, dtype=np.uint8))
            self.message_port_pub(pmt.intern(FRAMES_PORT), report_to_pmt(r))
        if chunks:
            self._pending = np.concatenate([self._pending, *chunks])
        if self.report_sink is not None:
            self.report_sink(reports, self._samples_in)

    def general_work(self, input_items, output_items):  # type: ignore[no-untyped-def]
        x = input_items[0]
        n = min(len(x), len(input_items[1])) if self._erasures else len(x)
        with self._lock:
            if n:
                self._samples_in += n
                if self._erasures:
                    er = np.asarray(input_items[1][:n]) != 0
                    self._publish(self._rx.process(np.array(x[:n], dtype=np.complex64), erasures=er))
                else:
                    self._publish(self._rx.process(np.array(x[:n], dtype=np.complex64)))
                self.consume_each(n)
            out = output_items[0]
            m = min(len(out), self._pending.size)
            if m:
                out[:m] = self._pending[:m]
                self._pending = self._pending[m:]
        return m

    def stop(self) -> bool:
        with self._lock:
            self._publish(self._rx.flush())
        return True
