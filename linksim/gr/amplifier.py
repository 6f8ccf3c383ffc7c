"""GNU Radio block over linksim.channel.amplifier.Amplifier: a transponder's TWTA/SSPA or a ground HPA on IQ.

amplifier_cc(model, ibo_db, input_power, sps, params, amplifier=None)
    complex in -> complex out, one output sample per input sample, delayed by `latency_samples` (the block's
    oversampling filters; none when the stream has 8 samples per symbol or more).
    model: "saleh", "rapp", "linear" or a table file (CSV: pin_db, pout_db, phase_deg); params: the model's NAME=VALUE
    items as on the command line ("p=3" for rapp, "alpha_a=2,beta_a=1" for saleh); ibo_db: input back-off of a
    stream of mean power input_power (fixed drive: more input power compresses more); the output is in units of the
    saturated output power. amplifier: an already built Amplifier (the other parameters are then ignored).
The block's output equals Amplifier.process on the whole stream (the amplifier is chunk-invariant).
"""

from __future__ import annotations

import numpy as np
from gnuradio import gr

from ..channel.amplifier import Amplifier, parse_amplifier


class amplifier_cc(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """linksim's memoryless amplifier as a GNU Radio block (see the module docstring)."""

    def __init__(self, model: str = "saleh", ibo_db: float = 0.0, input_power: float = 1.0, sps: float = 2.0,
                 params: str = "", amplifier: Amplifier | None = None) -> None:
        gr.sync_block.__init__(self, name="linksim_amplifier", in_sig=[np.complex64], out_sig=[np.complex64])
        if amplifier is None:
            spec = parse_amplifier(",".join(x for x in (model, params, f"ibo_db={ibo_db}") if x))
            amplifier = Amplifier(spec.model, spec.ibo_db, input_power, sps)
        self.amplifier = amplifier

    @property
    def latency_samples(self) -> int:
        return self.amplifier.latency_samples

    def work(self, input_items, output_items):  # noqa: D102
        x = input_items[0]
        output_items[0][: len(x)] = self.amplifier.process(x)
        return len(x)




class transponder_cc(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """A bent-pipe transponder (linksim.channel.transponder.Transponder: input filter, then amplifier or level
    control) as a GNU Radio block; one output sample per input sample, delayed by `latency_samples`."""

    def __init__(self, transponder: object) -> None:
        gr.sync_block.__init__(self, name="linksim_transponder", in_sig=[np.complex64], out_sig=[np.complex64])
        self.transponder = transponder

    @property
    def latency_samples(self) -> int:
        return int(self.transponder.latency_samples)

    def work(self, input_items, output_items):  # noqa: D102
        x = input_items[0]
        if self.nitems_read(0) != self.transponder.n_processed:  # the sample clock is the stream position
            raise RuntimeError("linksim_transponder: stream position and transponder clock disagree")
        output_items[0][: len(x)] = self.transponder.process(x)
        return len(x)


__all__ = ["amplifier_cc", "transponder_cc"]
