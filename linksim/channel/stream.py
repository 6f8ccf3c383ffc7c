"""Streaming the channel from a source of samples to a sink: reading, computing and writing overlap.

    stream_channel(read_into, write, make_channel, *, input_power=None, power_samples=..., chunk=..., depth=3,
                   progress=None) -> StreamResult
    first_power(chunks, n) -> (mean |x|^2 over the whole chunks covering the first n samples, samples used)

A reader thread fills preallocated complex64 buffers (`read_into(buf) -> samples read`, 0 at the end), the
calling thread runs the channel on each (`Channel.process(x, out=...)`, itself on `Channel.threads` cores) and a
writer thread hands the results to `write(y)`. The queues between them are bounded (`depth` chunks each), so
memory does not grow with the stream, and buffers are reused (no page faults per chunk).

The channel is made once the input power is known (`make_channel(input_power) -> Channel`): the declared
`input_power`, or the mean |x|^2 of the first `power_samples` samples, in whole chunks (the first seconds of the
stream, held in memory until then: never a second pass over the input). An input that is all zeros there is an
InputError naming `what`.

Errors in the reader or writer thread (a disk that fills up, a file that disappears) stop the stream and are
raised in the calling thread; what was written until then stays written.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .core import Channel, measure_power

DEFAULT_CHUNK = 1 << 20  # samples per buffer (8 MiB of complex64)


def first_power(chunks: Iterable[np.ndarray], n: int) -> tuple[float, int]:
    """(mean |x|^2, samples) over the whole chunks that cover the first n samples of a stream given as chunks (it
    stops taking chunks there): how a stream's input power is measured, here and by `linksim channel`'s read-ahead.
    NaN with 0 samples."""
    acc, got = 0.0, 0
    for c in chunks:
        acc += measure_power(c) * c.size
        got += c.size
        if got >= n:
            break
    return (acc / got if got else float("nan")), got


@dataclass
class StreamResult:
    """What a stream did: samples processed, the input power used (and whether it was measured), the channel."""

    samples: int
    input_power: float
    input_power_measured: bool
    channel: Channel


class _Stop(Exception):
    pass


def stream_channel(
    read_into: Callable[[np.ndarray], int],
    write: Callable[[np.ndarray], object],
    make_channel: Callable[[float], Channel],
    *,
    input_power: float | None = None,
    power_samples: int = 10_000_000,
    chunk: int = DEFAULT_CHUNK,
    depth: int = 3,
    progress: Callable[[int], None] | None = None,
    what: str = "input",
) -> StreamResult:
    """Run make_channel(p_in) over everything read_into gives and write every output chunk (see module doc)."""
    chunk = int(chunk)
    if chunk < 1 or depth < 1:
        raise InputError("stream_channel: chunk and depth must be >= 1")
    held_max = 0 if input_power is not None else -(-int(power_samples) // chunk) + 1
    max_in = depth + 1 + held_max
    free_in: queue.Queue[np.ndarray] = queue.Queue()
    free_out: queue.Queue[np.ndarray] = queue.Queue()
    q_in: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue(maxsize=depth)
    q_out: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    errors: list[BaseException] = []
    n_alloc = [0]

    def put(q: queue.Queue, item: object) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stop

    def get(q: queue.Queue) -> object:
        while True:
            try:
                return q.get(timeout=0.1)
            except queue.Empty:
                if stop.is_set():
                    raise _Stop from None

    def reader() -> None:
        try:
            while not stop.is_set():
                try:
                    buf = free_in.get_nowait()
                except queue.Empty:
                    if n_alloc[0] < max_in:
                        n_alloc[0] += 1
                        buf = np.empty(chunk, dtype=np.complex64)
                    else:
                        buf = get(free_in)  # type: ignore[assignment]
                k = int(read_into(buf))
                if k <= 0:
                    put(q_in, None)
                    return
                put(q_in, (buf, k))
        except _Stop:
            return
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread
            errors.append(e)
            stop.set()

    def writer() -> None:
        try:
            while True:
                item = get(q_out)
                if item is None:
                    return
                y, k = item  # type: ignore[misc]
                write(y[:k])
                free_out.put(y)
        except _Stop:
            return
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=reader, name="linksim-read", daemon=True),
               threading.Thread(target=writer, name="linksim-write", daemon=True)]
    for th in threads:
        th.start()
    done = 0
    ch: Channel | None = None
    measured = input_power is None
    try:
        held: list[tuple[np.ndarray, int]] = []
        eof = False
        if input_power is None:

            def first_chunks() -> Iterator[np.ndarray]:
                nonlocal eof
                while True:
                    item = get(q_in)
                    if item is None:
                        eof = True
                        return
                    held.append(item)  # type: ignore[arg-type]
                    yield item[0][: item[1]]  # type: ignore[index]

            input_power, got = first_power(first_chunks(), power_samples)
            if got == 0:
                raise InputError(f"{what}: no samples")
            if not input_power > 0:
                raise InputError(f"{what}: the first {got} samples are all zeros (declare the input power)")
        ch = make_channel(float(input_power))

        def one(buf: np.ndarray, k: int) -> None:
            nonlocal done
            try:
                y = free_out.get_nowait()
            except queue.Empty:
                y = np.empty(chunk, dtype=np.complex64)
            ch.process(buf[:k], out=y[:k])
            free_in.put(buf)
            put(q_out, (y, k))
            done += k
            if progress is not None:
                progress(done)

        for buf, k in held:
            one(buf, k)
        held.clear()
        while not eof:
            item = get(q_in)
            if item is None:
                break
            one(*item)  # type: ignore[misc]
        put(q_out, None)
        threads[1].join()
    except _Stop:
        pass
    except BaseException:
        stop.set()
        raise
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=10.0)
    if errors:
        raise errors[0]
    assert ch is not None
    return StreamResult(done, float(input_power), measured, ch)
