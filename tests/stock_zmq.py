"""Stock GNU Radio flowgraphs that stand for an external modem on both sides of `linksim emulate` (test and
benchmark helper, needs GNU Radio). Nothing of linksim is in them: gr-zeromq push_sink/pull_source with stock
defaults, a file source with a throttle on the sending side (a modem's sample clock), and on the receiving side a
counting and capturing sink (the instrument).

    free_port() -> a TCP port nobody listens on now
    StockTx(path, address, sample_rate_hz): file_source(repeat) -> throttle -> zeromq.push_sink(address, binds)
    StockRx(address, n_samples, windows): zeromq.pull_source(address, connects) -> head(n) -> Capture
        Capture counts every sample and keeps the windows [(start, length), ...] asked for; wait_count(n, s).
    realised_from_capture(tx, start, y, lag_exp, doppler_exp_hz, fs) -> (delay samples, Doppler Hz, rho): the delay
        and Doppler between the known periodic transmitted signal and a captured output window.
"""

from __future__ import annotations

import socket

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StockTx:
    """The sending modem: a recording played in a loop at the sample rate into a stock push_sink (binds)."""

    def __init__(self, path: str, address: str, sample_rate_hz: float) -> None:
        from gnuradio import blocks, gr, zeromq

        self.tb = gr.top_block("stock_tx")
        src = blocks.file_source(gr.sizeof_gr_complex, str(path), True)
        thr = blocks.throttle(gr.sizeof_gr_complex, sample_rate_hz)
        self.sink = zeromq.push_sink(gr.sizeof_gr_complex, 1, address, 100, False, -1)
        self.tb.connect(src, thr, self.sink)

    def start(self) -> None:
        self.tb.start()

    def stop(self) -> None:
        self.tb.stop()
        self.tb.wait()


def _capture_block(n_total: int, windows: list[tuple[int, int]]):
    from gnuradio import gr

    class Capture(gr.sync_block):
        def __init__(self) -> None:
            gr.sync_block.__init__(self, name="capture", in_sig=[np.complex64], out_sig=None)
            self.count = 0
            self.windows = [(int(a), np.zeros(int(n), np.complex64)) for a, n in windows]

        def work(self, input_items, output_items):  # type: ignore[no-untyped-def]
            x = input_items[0]
            n0, n1 = self.count, self.count + len(x)
            for a, buf in self.windows:
                lo, hi = max(a, n0), min(a + buf.size, n1)
                if hi > lo:
                    buf[lo - a : hi - a] = x[lo - n0 : hi - n0]
            self.count = n1
            return len(x)

    return Capture()


class StockRx:
    """The receiving modem: a stock pull_source (connects) feeding a capture of n_samples."""

    def __init__(self, address: str, n_samples: int, windows: list[tuple[int, int]]) -> None:
        from gnuradio import blocks, gr, zeromq

        self.tb = gr.top_block("stock_rx")
        self.src = zeromq.pull_source(gr.sizeof_gr_complex, 1, address, 100, False, -1)
        self.head = blocks.head(gr.sizeof_gr_complex, int(n_samples))
        self.capture = _capture_block(int(n_samples), windows)
        self.tb.connect(self.src, self.head, self.capture)

    def start(self) -> None:
        self.tb.start()

    def wait(self) -> None:
        self.tb.wait()

    def stop(self) -> None:
        self.tb.stop()
        self.tb.wait()

    def wait_count(self, n: int, timeout_s: float) -> int:
        """Wait until n samples have arrived (or timeout_s passed); returns how many did."""
        import time

        t_end = time.monotonic() + timeout_s
        while self.capture.count < n and time.monotonic() < t_end:
            time.sleep(0.1)
        return self.capture.count


def realised_from_capture(tx: np.ndarray, start: int, y: np.ndarray, lag_exp: float, doppler_exp_hz: float,
                          fs: float, search: int = 8) -> tuple[float, float, float]:
    """Delay and Doppler of a captured output window y (output samples start .. start + len - 1) against the
    periodic transmitted signal tx (input sample n = tx[n mod len(tx)])."""
    from linksim.channel.emulation import measure_delay_doppler

    lag0 = int(round(lag_exp))
    w = y.size - 2 * search
    b = start + search - lag0  # input index of the window the output carries
    x = tx[(b + np.arange(w)) % tx.size]
    return measure_delay_doppler(x, y, lag0, fs, doppler_exp_hz, b)
