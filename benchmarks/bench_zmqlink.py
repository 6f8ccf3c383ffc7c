"""Throughput of the sample-counting ZMQ IQ link (linksim.hw.zmqlink) against GNU Radio's stock ZMQ blocks
(zeromq.push_sink -> zeromq.pull_source, which count nothing), same machine, TCP on 127.0.0.1.

    .venv/bin/python benchmarks/bench_zmqlink.py [--samples 20e6]

Prints Msps for both and the ratio linksim / stock.
"""

from __future__ import annotations

import argparse
import time

from gnuradio import blocks, gr, zeromq

from linksim.hw.zmqlink import zmq_iq_sink, zmq_iq_source


def _run(make_pair, n: int) -> float:
    tb_tx, tb_rx = gr.top_block(), gr.top_block()
    src = blocks.null_source(gr.sizeof_gr_complex)
    head = blocks.head(gr.sizeof_gr_complex, n)
    snk_rx = blocks.null_sink(gr.sizeof_gr_complex)
    tx, rx, rx_head = make_pair(n)
    tb_tx.connect(src, head, tx)
    if rx_head is not None:
        tb_rx.connect(rx, rx_head, snk_rx)
    else:
        tb_rx.connect(rx, snk_rx)
    tb_rx.start()
    time.sleep(0.2)
    t0 = time.perf_counter()
    tb_tx.start()
    if rx_head is None:
        tb_tx.wait()  # linksim: the TX flowgraph finishing sends end-of-stream, which ends the RX flowgraph
        tb_rx.wait()
        dt = time.perf_counter() - t0
    else:
        # stock: no end-of-stream, and pull_source does not stop when its consumer is done: poll the count
        while snk_rx.nitems_read(0) < n:
            time.sleep(0.001)
        dt = time.perf_counter() - t0
        for tb in (tb_tx, tb_rx):
            tb.stop()
            tb.wait()
    return n / dt / 1e6


def linksim_pair(n: int):
    tx = zmq_iq_sink("tcp://127.0.0.1:5771", bind=True, hwm=64)
    rx = zmq_iq_source("tcp://127.0.0.1:5771", hwm=64)
    return tx, rx, None  # the source ends on the sender's end-of-stream


def stock_pair(n: int):
    tx = zeromq.push_sink(gr.sizeof_gr_complex, 1, "tcp://127.0.0.1:5772", 100, False, -1)
    rx = zeromq.pull_source(gr.sizeof_gr_complex, 1, "tcp://127.0.0.1:5772", 100, False, -1)
    return tx, rx, blocks.head(gr.sizeof_gr_complex, n)  # stock blocks have no end-of-stream


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=float, default=20e6)
    n = int(ap.parse_args().samples)
    ours = _run(linksim_pair, n)
    stock = _run(stock_pair, n)
    print(f"samples per run: {n}")
    print(f"linksim zmq_iq_sink -> zmq_iq_source (counted, EOS): {ours:8.1f} Msps")
    print(f"GNU Radio zeromq push_sink -> pull_source (stock)     : {stock:8.1f} Msps")
    print(f"ratio linksim / stock: {ours / stock:.2f}")


if __name__ == "__main__":
    main()
