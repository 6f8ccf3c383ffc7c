"""GNU Radio block over linksim.channel.core.Channel: gain, Doppler (with rate), delay, fading, AWGN and jammers.

channel_cc(sample_rate_hz, sps, esn0_db, gain_db, doppler_hz, doppler_rate_hz_s, delay_s, max_delay_s,
           fading, jammers, input_power, seed, channel=None)
    complex in -> complex out, one output sample per input sample.
    esn0_db: Es/N0 realised for `sps` samples per symbol and an input of mean power `input_power`
             (>= 400 or float('inf'): no noise).
    fading:  "" or a spec such as "rician:K=4,doppler_hz=50" (linksim.channel.fading.parse_fading).
    jammers: list of jammer specs ("type=cw,js_db=0,offset_hz=1000", ...; linksim.channel.jammers.parse_jammer).
    channel: an already built linksim.channel.core.Channel (e.g. linksim.channel.from_budget.channel_from_timeline); the
             other parameters are then ignored except for the live setters.
The block runs on the SAMPLE clock: sample n of its input (nitems_read) is at t0 + n / sample_rate_hz, whatever
the scheduler or the OS do. Its output equals linksim.channel.core.Channel.process on the whole stream (the channel
is chunk-invariant), so a flowgraph and the numpy API give bit-identical IQ for the same seed.

Live updates, from GRC callbacks or the "ctrl" message port: a PMT dict or pair (symbol . number) with keys
esn0_db, gain_db, doppler_hz, doppler_rate_hz_s, delay_s, or js_db (for jammer 0) / js_db.K (for jammer K).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pmt
from gnuradio import gr

from ..channel.core import Channel, ChannelProfile
from ..errors import InputError


def _pmt_items(msg: object) -> list[tuple[str, object]]:
    """(key, value) pairs from a PMT dict, a pair, or a list of pairs."""
    if pmt.is_dict(msg):
        return [(str(k), v) for k, v in pmt.to_python(msg).items()]
    if pmt.is_pair(msg):
        return [(pmt.symbol_to_string(pmt.car(msg)), pmt.to_python(pmt.cdr(msg)))]
    return []


class channel_cc(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """linksim's sample-clocked IQ channel as a GNU Radio block (see module docstring)."""

    def __init__(
        self,
        sample_rate_hz: float = 1e6,
        sps: float = 4.0,
        esn0_db: float = float("inf"),
        gain_db: float = 0.0,
        doppler_hz: float = 0.0,
        doppler_rate_hz_s: float = 0.0,
        delay_s: float = 0.0,
        max_delay_s: float = 0.0,
        fading: str = "",
        jammers: Sequence[str] = (),
        input_power: float = 1.0,
        seed: int = 0,
        channel: Channel | None = None,
    ) -> None:
        gr.sync_block.__init__(self, name="linksim_channel", in_sig=[np.complex64], out_sig=[np.complex64])
        if channel is None:
            from ..channel.fading import parse_fading
            from ..channel.jammers import parse_jammer

            prof = ChannelProfile.constant(gain_db=gain_db, doppler_hz=doppler_hz, delay_s=delay_s,
                                           esn0_db=esn0_db)
            channel = Channel(
                sample_rate_hz, sps, prof, input_power=input_power,
                fading=parse_fading(fading, sample_rate_hz) if fading else None,
                jammers=[parse_jammer(j, sample_rate_hz) for j in jammers], seed=seed,
                max_delay_s=max(max_delay_s, delay_s) if (max_delay_s or delay_s) else None,
            )
            if doppler_rate_hz_s:
                channel.set_doppler_hz(doppler_hz, doppler_rate_hz_s)
        self.channel = channel
        self._doppler_hz = doppler_hz
        self._doppler_rate = doppler_rate_hz_s
        self.message_port_register_in(pmt.intern("ctrl"))
        self.set_msg_handler(pmt.intern("ctrl"), self._on_ctrl)

    # ---- setters (GRC callbacks)
    def set_esn0_db(self, esn0_db: float) -> None:
        self.channel.set_esn0_db(esn0_db)

    def set_gain_db(self, gain_db: float) -> None:
        self.channel.set_gain_db(gain_db)

    def set_doppler_hz(self, doppler_hz: float) -> None:
        self._doppler_hz = float(doppler_hz)
        self.channel.set_doppler_hz(self._doppler_hz, self._doppler_rate)

    def set_doppler_rate_hz_s(self, doppler_rate_hz_s: float) -> None:
        # keep the Doppler reached so far continuous: restart the ramp from the current value
        t = self.channel.time_s
        cur = float(self.channel._doppler(np.array([t]))[0])
        self._doppler_rate = float(doppler_rate_hz_s)
        self.channel.set_doppler_hz(cur, self._doppler_rate)

    def set_delay_s(self, delay_s: float) -> None:
        self.channel.set_delay_s(delay_s)

    def set_js_db(self, js_db: float, index: int = 0) -> None:
        self.channel.set_js_db(int(index), js_db)

    def _on_ctrl(self, msg: object) -> None:
        for key, val in _pmt_items(msg):
            try:
                v = float(val)  # type: ignore[arg-type]
                if key == "esn0_db":
                    self.set_esn0_db(v)
                elif key == "gain_db":
                    self.set_gain_db(v)
                elif key == "doppler_hz":
                    self.set_doppler_hz(v)
                elif key == "doppler_rate_hz_s":
                    self.set_doppler_rate_hz_s(v)
                elif key == "delay_s":
                    self.set_delay_s(v)
                elif key == "js_db":
                    self.set_js_db(v, 0)
                elif key.startswith("js_db."):
                    self.set_js_db(v, int(key.split(".", 1)[1]))
                else:
                    self.logger.warn(f"linksim_channel: unknown control key '{key}'")
            except (InputError, ValueError, TypeError) as e:
                self.logger.warn(f"linksim_channel: bad control {key}={val!r}: {e}")

    def work(self, input_items, output_items):  # noqa: D102
        x = input_items[0]
        n = len(x)
        if self.nitems_read(0) != self.channel.n_processed:  # the sample clock is the stream position
            raise RuntimeError("linksim_channel: stream position and channel clock disagree")
        output_items[0][:n] = self.channel.process(x)
        return n
