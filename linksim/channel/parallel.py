"""Worker threads for the channel's numba kernels (compiled with nogil=True, so they run on several cores at once).

The channel is chunk-invariant: every output sample depends only on its absolute index, the seed and the profile,
and its carrier phase is set exactly at every control-block start. A chunk can therefore be cut at control-block
boundaries and the pieces computed on different threads with bit-identical results, whatever the thread count.

    worker_pool(threads) -> a shared ThreadPoolExecutor with `threads` workers (one per count, made on first use).
    split_points(n0, n, block, parts, min_len) -> offsets 0 = a_0 < a_1 < ... < a_k = n of the pieces of chunk
        [n0, n0 + n): every inner cut falls on an absolute multiple of `block`, and no piece is shorter than
        about min_len (fewer pieces then).
    run_pieces(threads, fn, cuts) -> calls fn(lo, hi) for each piece, the caller and threads - 1 pool workers
        taking pieces in turn, and re-raises the first exception.
    pieces(threads) -> how many pieces to cut a chunk into for `threads` threads (a few per thread, so that a
        thread the OS holds back does not hold up the chunk).
    default_threads() -> the CPUs this process may run on.
    shutdown_pools() -> ends the pools' worker threads (a later worker_pool call makes new ones).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_POOLS: dict[int, ThreadPoolExecutor] = {}
_LOCK = threading.Lock()
MIN_PIECE = 1 << 15  # samples: below this a piece costs more in thread hand-over than it saves


def default_threads() -> int:
    """The number of CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def worker_pool(threads: int) -> ThreadPoolExecutor:
    """A shared pool of `threads` worker threads (daemon-like: idle workers do not keep the process alive)."""
    with _LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"linksim-ch{threads}")
            _POOLS[threads] = pool
        return pool


def shutdown_pools() -> None:
    """End every pool's worker threads (they are not daemon threads: a process that ends at once waits for them)."""
    with _LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.shutdown(wait=True)


PIECES_PER_THREAD = 4


def pieces(threads: int) -> int:
    return 1 if threads <= 1 else PIECES_PER_THREAD * threads


def split_points(n0: int, n: int, block: int, parts: int, min_len: int = MIN_PIECE) -> list[int]:
    """Offsets (relative to the chunk start) that cut [n0, n0 + n) into at most `parts` pieces at absolute
    multiples of `block`, none much shorter than min_len."""
    parts = max(1, min(int(parts), n // max(min_len, 1)))
    if parts <= 1:
        return [0, n]
    cuts = [0]
    for i in range(1, parts):
        a = n0 + (n * i) // parts
        a = -(-a // block) * block - n0  # round up to the next block start
        if cuts[-1] < a < n:
            cuts.append(a)
    cuts.append(n)
    return cuts


def run_pieces(threads: int, fn: Callable[[int, int], object], cuts: list[int]) -> None:
    """fn(lo, hi) for each piece [cuts[i], cuts[i+1]), taken in turn by the caller and threads - 1 pool workers
    (dynamic: a thread the OS holds back takes fewer pieces); re-raises the first exception."""
    npieces = len(cuts) - 1
    if npieces <= 1 or threads <= 1:
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            fn(lo, hi)
        return
    nxt = [0]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def loop() -> None:
        while not errors:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= npieces:
                return
            try:
                fn(cuts[i], cuts[i + 1])
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                errors.append(e)
                return

    pool = worker_pool(threads)
    futs = [pool.submit(loop) for _ in range(min(threads, npieces) - 1)]
    loop()
    for f in futs:
        f.result()
    if errors:
        raise errors[0]
