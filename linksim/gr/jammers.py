"""GNU Radio block that adds one linksim jammer to a stream: jammer_cc(sample_rate_hz, spec, signal_power, seed).

complex in (the victim signal) -> complex out = in + jammer. The jammer (a linksim.channel.jammers spec such as
"type=barrage,js_db=3,bandwidth_hz=2e6"; its js_db is the initial J/S) has power signal_power * 10^(js_db/10):
J/S relative to the DECLARED mean power of the victim at this point of the flowgraph (`signal_power`, mean
|x|^2). A follower jammer senses the incoming victim signal. The block runs on the sample clock (nitems_read)
and is chunk-invariant: same seed, same output as linksim.channel.core.Channel with that jammer.
Live updates: set_js_db(js_db) (GRC callback) or the "ctrl" message port with a pair or dict {js_db: value}.
"""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from ..channel.core import Channel
from ..channel.jammers import parse_jammer
from ..errors import InputError
from .channel import _pmt_items


class jammer_cc(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """Adds one jammer waveform, scaled by J/S to the declared victim power (see module docstring)."""

    def __init__(self, sample_rate_hz: float = 1e6, spec: str = "type=cw,js_db=0,offset_hz=0",
                 signal_power: float = 1.0, seed: int = 0) -> None:
        gr.sync_block.__init__(self, name="linksim_jammer", in_sig=[np.complex64], out_sig=[np.complex64])
        self.channel = Channel(sample_rate_hz, 1.0, input_power=signal_power,
                               jammers=[parse_jammer(spec, sample_rate_hz)], seed=seed)
        self.message_port_register_in(pmt.intern("ctrl"))
        self.set_msg_handler(pmt.intern("ctrl"), self._on_ctrl)

    def set_js_db(self, js_db: float) -> None:
        self.channel.set_js_db(0, js_db)

    def _on_ctrl(self, msg: object) -> None:
        for key, val in _pmt_items(msg):
            if key != "js_db":
                self.logger.warn(f"linksim_jammer: unknown control key '{key}'")
                continue
            try:
                self.set_js_db(float(val))  # type: ignore[arg-type]
            except (InputError, ValueError, TypeError) as e:
                self.logger.warn(f"linksim_jammer: bad js_db {val!r}: {e}")

    def work(self, input_items, output_items):  # noqa: D102
        x = input_items[0]
        n = len(x)
        if self.nitems_read(0) != self.channel.n_processed:
            raise RuntimeError("linksim_jammer: stream position and jammer clock disagree")
        output_items[0][:n] = self.channel.process(x)
        return n
