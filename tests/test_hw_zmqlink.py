"""The sample-counting ZMQ IQ link: lossless PUSH/PULL, drops detected (never silent) on PUB/SUB at the
high-water mark, exact gap size and position, sender restarts, GNU Radio blocks, and a TX in another process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import zmq

from linksim.hw.zmqlink import IQReceiver, IQSender, zmq_iq_sink, zmq_iq_source


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def _ramp(n: int, start: int = 0) -> np.ndarray:
    k = np.arange(start, start + n)
    return (k + 1j * (k % 7)).astype(np.complex64)


def _pair(ctx, pattern="pushpull", hwm=64, fill_gaps=True):
    tx = IQSender("tcp://127.0.0.1:*", pattern=pattern, hwm=hwm, context=ctx)
    rx = IQReceiver(tx.endpoint, pattern=pattern, hwm=hwm, fill_gaps=fill_gaps, context=ctx)
    time.sleep(0.05)  # let SUB join before PUB sends
    return tx, rx


def test_pushpull_is_lossless_and_exact(ctx):
    tx, rx = _pair(ctx)
    x = _ramp(50_000)
    for k in range(0, x.size, 777):
        tx.send(x[k : k + 777])
    tx.close()
    y = rx.recv_all(idle_timeout_s=2.0)
    assert np.array_equal(x, y)
    assert rx.stats.ok and rx.stats.eos and rx.stats.samples_received == x.size
    assert rx.stats.messages == -(-x.size // 777)
    rx.close()


def test_gap_has_exact_size_and_position_and_is_zero_filled(ctx):
    tx, rx = _pair(ctx)
    x = _ramp(3000)
    tx.send(x[:1000])
    tx.seq += 1
    tx.next_sample += 1000  # the message carrying samples 1000..1999 is "lost"
    tx.send(x[2000:])
    tx.close()
    y = rx.recv_all(idle_timeout_s=2.0)
    st = rx.stats
    assert st.gaps == [(1000, 1000)] and st.samples_missing == 1000 and st.messages_missing == 1
    assert not st.ok and "LOST 1000 samples in 1 gaps" in st.summary()
    assert y.size == 3000  # sample clock kept: zeros in the gap
    assert np.array_equal(y[:1000], x[:1000]) and np.all(y[1000:2000] == 0) and np.array_equal(y[2000:], x[2000:])
    rx.close()


def test_gap_without_fill_keeps_only_received(ctx):
    tx, rx = _pair(ctx, fill_gaps=False)
    x = _ramp(300)
    tx.send(x[:100])
    tx.next_sample += 100
    tx.send(x[200:])
    tx.close()
    y = rx.recv_all(idle_timeout_s=2.0)
    assert y.size == 200 and rx.stats.samples_missing == 100
    rx.close()


def test_pubsub_drops_at_hwm_are_detected(ctx):
    """PUB drops silently at its high-water mark in ZeroMQ; the counting headers make every drop visible."""
    tx, rx = _pair(ctx, pattern="pubsub", hwm=2)
    block = _ramp(8192)
    n_msgs = 300
    for _ in range(n_msgs):
        tx.send(block)
    tx.close()  # end-of-stream carries the final sample count
    y = rx.recv_all(idle_timeout_s=1.0)
    st = rx.stats
    assert st.eos
    assert st.samples_missing > 0 and not st.ok  # a receiver this slow cannot keep up with a 2-message HWM
    assert st.samples_received + st.samples_missing == n_msgs * block.size  # every sample accounted for
    assert y.size == n_msgs * block.size
    rx.close()


def test_restart_and_truncation_are_reported(ctx):
    tx, rx = _pair(ctx)
    tx.send(_ramp(10))
    tx.stream_id ^= 0xFFFF  # a new sender process
    tx.next_sample = 0
    tx.send(_ramp(10))
    assert rx.recv(1.0) is not None and rx.recv(1.0) is not None
    assert rx.stats.restarts == 1 and not rx.stats.ok
    y = rx.recv_all(idle_timeout_s=0.2)  # no end-of-stream: truncated
    assert y.size == 0 and rx.stats.truncated and "tail unknown" in rx.stats.summary()
    tx.close(eos=False)
    rx.close()


def test_gr_blocks_tag_the_gap(gr, ctx):
    from gnuradio import blocks

    rx_blk = zmq_iq_source("tcp://127.0.0.1:*", bind=True, context=ctx)
    endpoint = rx_blk.receiver.endpoint
    snk = blocks.vector_sink_c()
    tb = gr.top_block()
    tb.connect(rx_blk, snk)
    tb.start()
    tx = IQSender(endpoint, bind=False, context=ctx)
    x = _ramp(5000)
    tx.send(x[:2500])
    tx.next_sample += 500
    tx.seq += 1
    tx.send(x[3000:])
    tx.close()
    tb.wait()
    y = np.array(snk.data(), dtype=np.complex64)
    assert y.size == 5000 and np.all(y[2500:3000] == 0)
    tags = [(t.offset, str(t.key), int(__import__("pmt").to_long(t.value))) for t in snk.tags()]
    assert tags == [(2500, "linksim_gap", 500)]
    assert rx_blk.receiver.stats.gaps == [(2500, 500)]


def test_split_tx_in_another_process(gr, tmp_path):
    """TX flowgraph in a separate Python process, RX here: bit-exact, counted, end-of-stream seen."""
    from gnuradio import blocks

    rx_blk = zmq_iq_source("tcp://127.0.0.1:*", bind=True, idle_timeout_s=20.0)
    endpoint = rx_blk.receiver.endpoint
    snk = blocks.vector_sink_c()
    tb = gr.top_block()
    tb.connect(rx_blk, snk)
    tb.start()
    script = tmp_path / "tx.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import numpy as np
            from gnuradio import gr, blocks
            from linksim.hw.zmqlink import zmq_iq_sink
            k = np.arange(200000)
            x = (np.cos(0.01 * k) + 1j * np.sin(0.01 * k)).astype(np.complex64)
            tb = gr.top_block()
            tb.connect(blocks.vector_source_c(x.tolist(), False), zmq_iq_sink({endpoint!r}, bind=False))
            tb.run()
            """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    tb.wait()
    y = np.array(snk.data(), dtype=np.complex64)
    k = np.arange(200000)
    assert np.array_equal(y, (np.cos(0.01 * k) + 1j * np.sin(0.01 * k)).astype(np.complex64))
    st = rx_blk.receiver.stats
    assert st.ok and st.eos and st.samples_received == 200000


def test_zmq_sink_block_sends_eos_on_stop(gr, ctx):
    from gnuradio import blocks

    rx = IQReceiver("tcp://127.0.0.1:*", bind=True, context=ctx)
    tb = gr.top_block()
    x = _ramp(10_000)
    tb.connect(blocks.vector_source_c(x.tolist(), False), zmq_iq_sink(rx.endpoint, bind=False, context=ctx))
    tb.run()
    y = rx.recv_all(idle_timeout_s=2.0)
    assert np.array_equal(x, y) and rx.stats.eos and rx.stats.ok
    rx.close()


def test_send_timeout_when_nobody_receives(ctx):
    from linksim.errors import DeviceError

    tx = IQSender("tcp://127.0.0.1:*", send_timeout_s=0.2, context=ctx)
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match="receiver not taking samples"):
        tx.send(_ramp(10))  # PUSH with no peer: waits, then the timeout
    assert 0.15 < time.monotonic() - t0 < 2.0
    tx.close(eos=False)
