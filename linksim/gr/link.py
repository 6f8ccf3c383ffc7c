"""The link's topology, once: hier blocks that the CLI runs and the .grc flowgraphs compose.

    transmit_chain:  TS packet source -> DVB-S2 TX (spread, hopped) -> channel (Timeline-driven, jammers) -> complex64
                     with a bent pipe: ... -> DVB-S2 TX -> [ground HPA] -> uplink channel -> transponder (filter,
                     amplifier or level control) -> downlink channel -> complex64 out (linksim.channel.transponder)
    receive_chain:   complex64 in (one stream per element with an array) -> [array combiner] -> [pulse blanking]
                     -> [excision] -> (dehop, despread) DVB-S2 RX -> TS packets (byte stream) out; per-frame
                     reports to a listener

Loopback connects the two directly; hardware in the loop puts an SDR sink and source (or a ZMQ link) between them.
The channel block advances on the sample clock, so a flowgraph stalled by the OS changes nothing it does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from gnuradio import gr

from ..channel.transponder import LinkChannels
from ..dvbs2.params import RX_LDPC_ITERATIONS
from ..dvbs2.tx import random_ts_packets
from ..dvbs2.waveform import Waveform
from .amplifier import amplifier_cc, transponder_cc
from .buffers import large_output_buffer
from .channel import channel_cc
from .dvbs2_rx import dvbs2_rx
from .dvbs2_tx import dvbs2_tx

PACKETS_PER_BLOCK = 64


class ts_source(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """An endless stream of seeded pseudo-random MPEG-TS packets (188 bytes, sync 0x47), same seed same bytes."""

    def __init__(self, seed: int = 0) -> None:
        gr.sync_block.__init__(self, name="ts_source", in_sig=None, out_sig=[np.uint8])
        self._seed = int(seed)
        self._block = 0
        self._buf = np.zeros(0, dtype=np.uint8)

    def work(self, input_items, output_items):  # noqa: D102 - GNU Radio API
        out = output_items[0]
        while self._buf.size < len(out):
            chunk = np.frombuffer(random_ts_packets(PACKETS_PER_BLOCK, seed=self._seed * 1_000_003 + self._block),
                                  dtype=np.uint8)
            self._block += 1
            self._buf = np.concatenate([self._buf, chunk])
        n = len(out)
        out[:] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


class transmit_chain(gr.hier_block2):  # noqa: N801
    """TS source -> DVB-S2 TX -> channel. `channel` is a linksim.channel.core.Channel, a
    linksim.channel.transponder.LinkChannels (HPA, uplink, transponder and downlink stages, each a block), None, or a
    linksim.channel.array.ArrayChannel: then the chain has one output per array element."""

    def __init__(self, modcod: str = "QPSK 1/2", frame: str = "normal", pilots: bool = True, rolloff: float = 0.2,
                 sps: int = 2, gold_code: int = 0, seed: int = 0, channel: object | None = None,
                 ring_geometry: dict | None = None, waveform: Waveform | None = None,
                 hop_origin: float = 0.0) -> None:
        n_out = int(getattr(channel, "elements", 1))
        gr.hier_block2.__init__(self, "linksim_transmit_chain", gr.io_signature(0, 0, 0),
                                gr.io_signature(n_out, n_out, gr.sizeof_gr_complex))
        self.source = ts_source(seed)
        self.tx = dvbs2_tx(modcod, frame, pilots, rolloff, sps, gold_code, "ts", ccm=True, waveform=waveform,
                           hop_origin=hop_origin)
        if ring_geometry:  # pre-distorted APSK rings for the satellite's amplifier
            self.tx._tx.ring_geometry = dict(ring_geometry)  # noqa: SLF001 - the block's numpy transmitter
        self.stages: list = []
        if isinstance(channel, LinkChannels):
            if channel.hpa is not None:
                self.stages.append(amplifier_cc(amplifier=channel.hpa))
            if channel.uplink is not None:
                self.stages.append(channel_cc(channel=channel.uplink))
            if channel.transponder is not None:
                self.stages.append(transponder_cc(channel.transponder))
            channel = channel.downlink
        if n_out > 1:
            from .array import array_channel_cc

            self.channel = array_channel_cc(channel)
            large_output_buffer(self.channel)
            self.connect(self.source, self.tx, self.channel)
            for m in range(n_out):
                self.connect((self.channel, m), (self, m))
        elif channel is not None:
            self.channel = channel_cc(channel=channel)
            self.stages.append(self.channel)
            for b in self.stages:
                large_output_buffer(b)
            self.connect(self.source, self.tx, *self.stages, self)
        else:
            self.channel = None
            self.connect(self.source, self.tx, self)


class receive_chain(gr.hier_block2):  # noqa: N801
    """[array combiner] -> [pulse blanking] -> [excision] -> DVB-S2 RX: complex64 in (one stream per element with
    an array), received TS packets out (bytes); reports go to `rx.report_sink`. `mitigation` (a
    linksim.scenario.model.Mitigation: the scenario's [mitigation]), or the `excision` ("none", "fft", "notch") and
    `blanking` ("none", "pulse") switches with default parameters, put the front end of linksim.gr.mitigation
    before the receiver; the blanker's erasure mask goes to the receiver beside the samples. `array` (a
    linksim.scenario.model.TerminalArray: the scenario's [terminal.array]) takes its element streams into the
    adaptive combiner of linksim.gr.array first. `mitigation_stats()` says what the front end did. vlsnr: take
    DVB-S2X VL-SNR frames too. With spreading or hopping (the waveform's parameters or a Waveform, as
    linksim.gr.dvbs2_rx takes them) the receiver dehops and despreads first (excision then works on the chips;
    blanking's erasures and the array are refused: the scenario checks say so). decode_threads, pipeline: the
    receiver's parallel decoding (linksim.dvbs2.decode_pool; same reports); block_symbols: the receiver's block
    (0: its default; smaller blocks, lower latency)."""

    def __init__(self, sps: float = 2, rolloff: float = 0.2, gold_code: int = 0,
                 max_iter: int = RX_LDPC_ITERATIONS, excision: str = "none", blanking: str = "none",
                 mitigation: object | None = None, array: object | None = None, vlsnr: bool = False,
                 spreading_factor: int = 1, spreading_seed: int = 1, hopping: str = "",
                 symbol_rate_baud: float = 1e6, waveform: Waveform | None = None,
                 hop_offset_samples: float | Callable[[np.ndarray], np.ndarray] = 0.0,
                 hop_origin: float = 0.0, dwell_modcod: str = "QPSK 1/2", frame: str = "normal",
                 pilots: bool = True, decode_threads: int = 1, pipeline: bool = False,
                 block_symbols: int = 0) -> None:
        n_in = int(getattr(array, "elements", 1))
        gr.hier_block2.__init__(self, "linksim_receive_chain", gr.io_signature(n_in, n_in, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_char))
        from ..scenario.model import Mitigation

        m = mitigation if isinstance(mitigation, Mitigation) else Mitigation(excision=excision, blanking=blanking)
        self.front: list = []
        self.rx = dvbs2_rx(sps, rolloff, gold_code, max_iter, vlsnr, erasures=m.blanking == "pulse",
                           spreading_factor=spreading_factor, spreading_seed=spreading_seed, hopping=hopping,
                           symbol_rate_baud=symbol_rate_baud, waveform=waveform,
                           hop_offset_samples=hop_offset_samples, hop_origin=hop_origin,
                           dwell_modcod=dwell_modcod, frame=frame, pilots=pilots,
                           decode_threads=decode_threads, pipeline=pipeline, block_symbols=block_symbols)
        head: object = self
        self.combiner = None
        if array is not None:
            from .array import array_combiner_cc

            self.combiner = array_combiner_cc(n_in, array.nulling, array.window_samples,  # type: ignore[attr-defined]
                                              array.loading_db)  # type: ignore[attr-defined]
            for k in range(n_in):
                self.connect((self, k), (self.combiner, k))
            head = self.combiner
        if m.active:
            from .mitigation import excision_cc, pulse_blanker_cb

            if m.blanking == "pulse":
                bl = pulse_blanker_cb(m.blanking_threshold_db, m.blanking_guard_samples, m.blanking_mode)
                self.front.append(bl)
                self.connect((head, 0), (bl, 0))
                self.connect((bl, 1), (self.rx, 1))
                head = bl
            if m.excision != "none":
                ex = excision_cc(m.excision, sps, m.fft_size, m.excision_threshold_db, m.excision_mode, m.notch_bw_t,
                                 m.notch_max, m.notch_threshold_db)
                self.front.append(ex)
                self.connect((head, 0), ex)
                head = ex
        self.connect((head, 0), (self.rx, 0))
        self.connect(self.rx, self)

    def mitigation_stats(self) -> dict:
        out: dict = {}
        for b in self.front:
            out.update(b.stats())
        return out


class scenario_transmit(gr.hier_block2):  # noqa: N801
    """The transmit chain set up from a scenario file: its MODCOD, frame, pilots, roll-off and sps, and a channel
    that follows the scenario's Timeline from `start_s` for `duration_s` (sample 0 at start_s; a duration past the
    scenario's end is clipped there, a start outside it is an InputError). For GRC; the CLI builds its chains
    through linksim.run (with a lead-in and per-stretch seeds, so the samples differ); both build the same stages
    (linksim.channel.from_budget.link_channels: a bent pipe's HPA, uplink and transponder included). The "modcod"
    message port of `tx` changes the MODCOD live."""

    def __init__(self, scenario_path: str, start_s: float = 0.0, duration_s: float = 60.0, seed: int = 1) -> None:
        from ..budget.timeline import compute_timeline
        from ..channel.from_budget import link_channels, ring_geometry
        from ..dvbs2.waveform import scenario_waveform
        from ..scenario.model import load_scenario

        s = load_scenario(scenario_path)
        c = s.carrier
        end = start_s + s.span_s(start_s, min(duration_s, s.meta.duration_s - start_s))
        tl = compute_timeline(s, duration_s=max(end, s.meta.step_s))
        wf = scenario_waveform(s)  # spreading and hopping: sps samples per chip, the hop set's band
        ch = link_channels(tl, start_s, end, wf.samples_per_symbol, seed)
        gr.hier_block2.__init__(self, "linksim_scenario_transmit", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.chain = transmit_chain(c.modcod, c.frame, c.pilots, c.rolloff, s.channel.sps, 0, seed, ch,
                                    ring_geometry(tl, start_s, end), waveform=wf,
                                    hop_origin=start_s * wf.sample_rate_hz)
        self.tx = self.chain.tx
        self.sample_rate_sps = c.symbol_rate_baud * wf.samples_per_symbol
        self.message_port_register_hier_in("modcod")
        self.msg_connect(self, "modcod", self.tx, "modcod")
        self.connect(self.chain, self)


__all__ = ["receive_chain", "scenario_transmit", "transmit_chain", "ts_source"]
