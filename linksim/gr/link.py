"""The link's topology, once: hier blocks that the CLI runs and the .grc flowgraphs compose.

    transmit_chain:  TS packet source -> DVB-S2 TX -> channel (Timeline-driven, jammers)  -> complex64 out
                     with a bent pipe: ... -> DVB-S2 TX -> [ground HPA] -> uplink channel -> transponder (filter,
                     amplifier or level control) -> downlink channel -> complex64 out (linksim.channel.transponder)
    receive_chain:   complex64 in -> DVB-S2 RX -> TS packets (byte stream) out; per-frame reports to a listener

Loopback connects the two directly; hardware in the loop puts an SDR sink and source (or a ZMQ link) between them.
The channel block advances on the sample clock, so a flowgraph stalled by the OS changes nothing it does.
"""

from __future__ import annotations

import numpy as np
from gnuradio import gr

from ..channel.transponder import LinkChannels
from ..dvbs2.params import RX_LDPC_ITERATIONS
from ..dvbs2.tx import random_ts_packets
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
    linksim.channel.transponder.LinkChannels (HPA, uplink, transponder and downlink stages, each a block) or None."""

    def __init__(self, modcod: str = "QPSK 1/2", frame: str = "normal", pilots: bool = True, rolloff: float = 0.2,
                 sps: int = 2, gold_code: int = 0, seed: int = 0, channel: object | None = None,
                 ring_geometry: dict | None = None) -> None:
        gr.hier_block2.__init__(self, "linksim_transmit_chain", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.source = ts_source(seed)
        self.tx = dvbs2_tx(modcod, frame, pilots, rolloff, sps, gold_code, "ts", ccm=True)
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
        if channel is not None:
            self.channel = channel_cc(channel=channel)
            self.stages.append(self.channel)
            for b in self.stages:
                large_output_buffer(b)
            self.connect(self.source, self.tx, *self.stages, self)
        else:
            self.channel = None
            self.connect(self.source, self.tx, self)


class receive_chain(gr.hier_block2):  # noqa: N801
    """DVB-S2 RX: complex64 in, received TS packets out (bytes); reports go to `rx.report_sink`. vlsnr: take
    DVB-S2X VL-SNR frames too."""

    def __init__(self, sps: float = 2, rolloff: float = 0.2, gold_code: int = 0,
                 max_iter: int = RX_LDPC_ITERATIONS, vlsnr: bool = False, decode_threads: int = 1,
                 pipeline: bool = False) -> None:
        gr.hier_block2.__init__(self, "linksim_receive_chain", gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_char))
        self.rx = dvbs2_rx(sps, rolloff, gold_code, max_iter, vlsnr, decode_threads, pipeline)
        self.connect(self, self.rx, self)



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
        from ..scenario.model import load_scenario

        s = load_scenario(scenario_path)
        c = s.carrier
        end = start_s + s.span_s(start_s, min(duration_s, s.meta.duration_s - start_s))
        tl = compute_timeline(s, duration_s=max(end, s.meta.step_s))
        ch = link_channels(tl, start_s, end, s.channel.sps, seed)
        gr.hier_block2.__init__(self, "linksim_scenario_transmit", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.chain = transmit_chain(c.modcod, c.frame, c.pilots, c.rolloff, s.channel.sps, 0, seed, ch,
                                    ring_geometry(tl, start_s, end))
        self.tx = self.chain.tx
        self.sample_rate_sps = c.symbol_rate_baud * s.channel.sps
        self.message_port_register_hier_in("modcod")
        self.msg_connect(self, "modcod", self.tx, "modcod")
        self.connect(self.chain, self)


__all__ = ["receive_chain", "scenario_transmit", "transmit_chain", "ts_source"]
