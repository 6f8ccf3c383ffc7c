"""Decoding PLFRAMEs on worker threads: soft demapping and deinterleaving (the receiver hands them over as a
function), LDPC, BCH, BB descrambling, BBHEADER.

The receiver's synchronisation stays sequential in the caller's thread (each frame's carrier estimate follows from
the frames before it, and it is the cheap part). Once a frame's symbols are phase-corrected and its Es/N0 measured,
the rest of the frame is `decode_frame`: the demapper, LDPC and BCH are numba kernels that release the GIL, so
frames decode on the other cores while the next ones are synchronised. The same function runs on the same inputs
whether the receiver calls it in its own thread or on the pool, so the results are identical.

    decode_frame(rep, llrs, pf, max_iter, keep_raw_field) -> rep
        llrs: the codeword's LLRs in codeword order, or a function that makes them (the receiver's demapping
        and deinterleaving, run here on the decoding thread). Fills rep.ldpc_iterations, bch_corrected, ok,
        bbheader, info_bits, payload (and raw_field with keep_raw_field).
    DecodePool(threads, name="linksim-decode"): .submit(fn, *args) -> Future, on `threads` worker threads (pools
        are shared per count and name; the receiver's pipelined front end has its own, "linksim-rx-front").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from .bbframe import BBHEADER_BITS, parse_bbheader
from .params import FrameParams
from .scrambling import bb_scramble

_POOLS: dict[tuple[int, str], ThreadPoolExecutor] = {}
_LOCK = threading.Lock()


def decode_frame(rep: Any, llrs: np.ndarray | Callable[[], np.ndarray], pf: FrameParams, max_iter: int,
                 keep_raw_field: bool) -> Any:
    """Decode one frame's codeword LLRs into its FrameReport (see the module doc)."""
    from .bch import bch_decode
    from .ldpc import ldpc_decode

    cw = llrs() if callable(llrs) else llrs
    res = ldpc_decode(np.asarray(cw).astype(np.float32), pf.frame, pf.rate, max_iter=max_iter, early_stop=True)
    rep.ldpc_iterations = int(np.asarray(res.iterations).reshape(-1)[0])
    ldpc_ok = bool(np.asarray(res.ok).reshape(-1)[0])
    bits = np.asarray(res.bits).reshape(-1)[: pf.n_bch]
    b = bch_decode(bits, pf.frame, pf.rate)
    rep.bch_corrected = int(np.asarray(b.corrected).reshape(-1)[0])
    bch_ok = bool(np.asarray(b.ok).reshape(-1)[0])
    bb = bb_scramble(np.asarray(b.bits).reshape(-1)[: pf.k_bch])
    hdr = parse_bbheader(bb[:BBHEADER_BITS])
    rep.bbheader = hdr
    rep.ok = ldpc_ok and bch_ok and hdr.crc_ok and hdr.dfl_bits <= pf.k_bch - BBHEADER_BITS
    rep.info_bits = pf.k_bch - BBHEADER_BITS
    if keep_raw_field:
        rep.raw_field = np.packbits(bb[BBHEADER_BITS : pf.k_bch - (pf.k_bch - BBHEADER_BITS) % 8]).tobytes()
    if rep.ok:
        rep.payload = np.packbits(bb[BBHEADER_BITS : BBHEADER_BITS + hdr.dfl_bits // 8 * 8]).tobytes()
    return rep


class DecodePool:
    """Frames decoded on `threads` worker threads (a pool shared by every receiver with that many)."""

    def __init__(self, threads: int, name: str = "linksim-decode") -> None:
        self.threads = int(threads)
        with _LOCK:
            pool = _POOLS.get((self.threads, name))
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix=name)
                _POOLS[(self.threads, name)] = pool
        self._pool = pool

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self._pool.submit(fn, *args)
