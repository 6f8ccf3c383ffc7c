"""GNU Radio blocks over the channel and jammers: a flowgraph gives bit-identical output to the numpy channel
(whatever the scheduler's chunk sizes: the blocks run on the sample clock), live updates through setters and the
"ctrl" message port, and calibrated J/S in the jammer block."""

from __future__ import annotations

import numpy as np
import pytest

from linksim.channel.core import Channel, ChannelProfile, measure_power
from linksim.channel.fading import parse_fading
from linksim.channel.jammers import parse_jammer

FS = 1e6
JAMS = ["type=cw,js_db=-3,offset_hz=12000", "type=barrage,js_db=0,bandwidth_hz=2e5,offset_hz=-1e5",
        "type=follower,js_db=-6,bandwidth_hz=1e5,reaction_time_s=1e-4,look_time_s=1e-4"]


def qpsk(n: int, sps: int = 4) -> np.ndarray:
    rng = np.random.default_rng(5)
    return np.repeat(np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, n // sps))), sps).astype(np.complex64)


def run_block(gr, blk, x: np.ndarray, max_items: int | None = None) -> np.ndarray:
    from gnuradio import blocks

    tb = gr.top_block()
    src = blocks.vector_source_c(x.tolist(), False)
    snk = blocks.vector_sink_c()
    tb.connect(src, blk, snk)
    if max_items:
        tb.run(max_items)
    else:
        tb.run()
    return np.array(snk.data(), dtype=np.complex64)


@pytest.mark.parametrize("max_items", [None, 37, 1000])
def test_channel_block_equals_numpy_channel(gr, max_items):
    from linksim.gr.channel import channel_cc

    x = qpsk(200_000)
    kw = dict(esn0_db=12.0, gain_db=-4.0, doppler_hz=1500.0, doppler_rate_hz_s=2000.0, delay_s=3.3e-6)
    blk = channel_cc(FS, 4, fading="rician:K=4,doppler_hz=80", jammers=JAMS, input_power=1.0, seed=9,
                     max_delay_s=1e-5, **kw)
    y = run_block(gr, blk, x, max_items)
    ref = Channel(FS, 4, ChannelProfile.constant(gain_db=-4.0, doppler_hz=1500.0, delay_s=3.3e-6, esn0_db=12.0),
                  fading=parse_fading("rician:K=4,doppler_hz=80"), jammers=[parse_jammer(j) for j in JAMS], seed=9,
                  max_delay_s=1e-5)
    ref.set_doppler_hz(1500.0, 2000.0)
    assert np.array_equal(y, ref.process(x))


def test_channel_block_live_updates(gr):
    import pmt

    from linksim.gr.channel import channel_cc

    blk = channel_cc(FS, 1, esn0_db=30.0, jammers=["type=cw,js_db=-20,offset_hz=1000"])
    x = np.ones(100_000, np.complex64)
    blk._on_ctrl(pmt.cons(pmt.intern("esn0_db"), pmt.from_double(0.0)))
    d = pmt.make_dict()
    d = pmt.dict_add(d, pmt.intern("gain_db"), pmt.from_double(-6.0))
    d = pmt.dict_add(d, pmt.intern("js_db.0"), pmt.from_double(3.0))
    blk._on_ctrl(d)
    p = blk.channel.process_parts(x)
    assert 10 * np.log10(measure_power(p.signal)) == pytest.approx(-6.0, abs=0.01)
    assert 10 * np.log10(measure_power(p.signal) / measure_power(p.noise)) == pytest.approx(0.0, abs=0.1)
    assert 10 * np.log10(measure_power(p.jammers[0]) / measure_power(p.signal)) == pytest.approx(3.0, abs=0.01)
    blk.set_doppler_hz(250.0)
    blk.set_esn0_db(float("inf"))
    blk.set_js_db(-200.0)
    y = blk.channel.process(np.ones(10_000, np.complex64))[256:]  # a new Doppler starts at the next grid point
    f = np.polyfit(np.arange(y.size) / FS, np.unwrap(np.angle(y.astype(np.complex128))), 1)[0] / (2 * np.pi)
    assert f == pytest.approx(250.0, abs=1e-3)
    # bad control values are logged, not raised
    blk._on_ctrl(pmt.cons(pmt.intern("delay_s"), pmt.from_double(5.0)))


def test_jammer_block_adds_calibrated_jammer(gr):
    from linksim.gr.jammers import jammer_cc

    x = qpsk(400_000)
    blk = jammer_cc(FS, "type=barrage,bandwidth_hz=2e5,offset_hz=5e4,js_db=99", signal_power=1.0, seed=4)
    blk.set_js_db(-3.0)
    y = run_block(gr, blk, x, 4096)
    j = y - x
    assert 10 * np.log10(measure_power(j) / measure_power(x)) == pytest.approx(-3.0, abs=0.1)
    ref = Channel(FS, 1, jammers=[parse_jammer("type=barrage,bandwidth_hz=2e5,offset_hz=5e4,js_db=-3")], seed=4)
    assert np.array_equal(y, ref.process(x))
