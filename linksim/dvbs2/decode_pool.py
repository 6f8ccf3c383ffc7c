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
    ParallelFrames: the part of linksim.dvbs2.rx.Receiver that runs it on several threads (the receiver inherits
        it): frames handed to the pool and delivered in order; the next frames synchronised on a guess of a frame's
        outcome (the guess may stay while more blocks of symbols come in), with a checkpoint of the
        frame-synchronisation state to go back to when the guess was wrong; the front end up to FRONT_END_DEPTH
        blocks ahead on its own thread. The receiver's frame loop and carrier update call into it.
"""

from __future__ import annotations

import threading
from collections import deque
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
    res = ldpc_decode(np.asarray(cw).astype(np.float32), pf.frame, pf.ldpc_rate, max_iter=max_iter,
                      early_stop=True)
    rep.ldpc_iterations = int(np.asarray(res.iterations).reshape(-1)[0])
    ldpc_ok = bool(np.asarray(res.ok).reshape(-1)[0])
    xs = pf.k_ldpc - pf.n_bch  # VL-SNR shortening: zero bits before the BCH codeword
    bits = np.asarray(res.bits).reshape(-1)[xs : xs + pf.n_bch]
    b = bch_decode(bits, pf.frame, pf.bch_rate)
    rep.bch_corrected = int(np.asarray(b.corrected).reshape(-1)[0])
    bch_ok = bool(np.asarray(b.ok).reshape(-1)[0])
    bb = bb_scramble(np.asarray(b.bits).reshape(-1)[: pf.k_bch])
    hdr = parse_bbheader(bb[:BBHEADER_BITS])
    rep.bbheader = hdr
    rep.ok = ldpc_ok and bch_ok and hdr.crc_ok and hdr.dfl_bits <= pf.k_bch - BBHEADER_BITS
    rep.info_bits = pf.k_bch - BBHEADER_BITS
    if keep_raw_field:
        rep.raw_field = np.packbits(bb[BBHEADER_BITS : pf.k_bch]).tobytes()
    if rep.ok:  # DFL bits, the last byte padded when DFL is not whole bytes (DVB-S2X medium frames)
        rep.payload = np.packbits(bb[BBHEADER_BITS : BBHEADER_BITS + hdr.dfl_bits]).tobytes()
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


RESET = object()  # in the delivery queue: the TS deframer starts over here


class Rollback(Exception):
    """A speculation was wrong: the frame-sync state is back at its checkpoint; the frame loop runs again."""


class ParallelFrames:
    """Mixin of linksim.dvbs2.rx.Receiver: decoding on a pool, guess-and-check synchronisation, front end ahead.
    Every method works on the receiver's own state (see the receiver's doc for what each option does)."""

    def _init_parallel(self, decode_threads: int, pipeline: bool) -> None:
        self._pending_carrier: tuple | None = None  # see _settle_carrier
        self._pool = DecodePool(decode_threads) if decode_threads else None
        self._futures: dict[int, Future] = {}  # id(report) -> its decoding, under way on the pool
        self._outq: deque = deque()  # frames (and deframer resets) in order, until delivered
        self._measured: list = []  # frames measured since take_measured()
        self._outq_total = self._outq_done = 0  # items ever queued / delivered
        self._measured_total = self._measured_done = 0
        # (future, report, checkpoint, guessed outcome, blocks of symbols appended since (symbols, positions,
        # stamp), stamp): going on as if known
        self._spec: tuple | None = None
        self._replay: list[tuple] = []  # blocks of symbols to append again after a speculation was taken back
        self._last_ok = True  # the last outcome known: the guess for the next speculation
        self._iter_ckpt: dict | None = None
        self._may_speculate = False
        self.speculation = {"taken": 0, "rolled_back": 0}
        self._pipeline = bool(pipeline)
        self._fe_q: deque = deque()  # blocks whose front end is under way ahead: (future, pre, n0, samples, stamp)
        self._fe_pool = DecodePool(1, name="linksim-rx-front") if self._pipeline else None
        self._stamp = 0  # emitted_after of the frames measured now: samples_processed when the one-thread order
        # returns them (the block they came out of), whatever the threads

    # ----------------------------------------------------------------------- the front end blocks ahead
    # With pipeline=True, while the receiver is locked the front end of each block (carrier NCO, matched filter,
    # timing recovery: numba and FFT code that releases the GIL) runs on a thread, up to FRONT_END_DEPTH blocks
    # ahead of the frame synchronisation: process() then returns the frames up to that many blocks later. A
    # normal frame spans about four blocks and its synchronisation runs in the block where it ends, so a shallower
    # pipeline leaves the synchronisation waiting for the front end in the other blocks. Everything runs in the
    # same order on the same data as without it: locked, the front end reads nothing the frame synchronisation
    # writes; when the frames of a block lose the lock, the blocks after it have their front end redone after
    # them (from the state each job saw first), as the one-thread order has it, and the receiver goes on without
    # the pipeline until it locks again.

    FRONT_END_DEPTH = 4

    def _can_pipeline(self) -> bool:
        return self._locked and self._nco is not None and self.sync == "full" and self._timing is not None

    def _fe_snapshot(self) -> tuple:
        t = self._timing
        assert t is not None
        return (self._mf._hist, t._buf, t._base, t._t, t._state.copy())  # noqa: SLF001

    def _fe_restore(self, snap: tuple) -> None:
        t = self._timing
        assert t is not None
        self._mf._hist, t._buf, t._base, t._t, st = snap  # noqa: SLF001
        t._state[:] = st  # noqa: SLF001

    def _fe_job(self, x: np.ndarray, n0: int) -> tuple[tuple, np.ndarray, np.ndarray]:
        """The locked front end of one block, on the pipeline thread (jobs run in block order): the state it
        starts from (for a redo), then NCO, matched filter, timing (symbols and positions, not appended)."""
        snap = self._fe_snapshot()
        if self._nco and x.size:
            x = self._nco_mix(x, n0)
        if not x.size:
            return snap, np.zeros(0, np.complex64), np.zeros(0)
        return (snap, *self._symbols(self._mf.process(x), False))

    def _serial_block(self, x: np.ndarray, stamp: int) -> list[Any]:
        """One block as the one-thread receiver runs it (a speculation left from the block before settled first):
        coarse carrier, front end, frames."""
        out = self._settle_speculation()
        self._stamp = stamp
        x = self._coarse_carrier(x, final=False)
        if x.size:
            self._front_end(self._mf.process(x))
        return out + self._frames(final=False)

    def _complete_oldest(self) -> list[Any]:
        """The oldest block ahead: its symbols in and its frames out, stamped as that block (a speculation under
        way stays: the symbols it did not see are kept if it is taken back); if the lock is gone by then, it and
        every block after it go again in order."""
        fut, pre, n0, x, stamp = self._fe_q[0]
        snap, s, pos = fut.result()
        if not self._locked:  # a change of lock never rests on a speculation: none is under way
            entries = list(self._fe_q)
            self._fe_q.clear()
            for e in entries[1:]:
                e[0].result()  # the pipeline thread is done with the front end's state
            self._pre, self._nco_n = pre, n0
            self._fe_restore(snap)
            out: list[Any] = []
            for _, _, _, xe, st in entries:
                out += self._serial_block(xe, st)
            return out
        self._fe_q.popleft()
        self._stamp = stamp
        self._append_symbols(s, pos)
        return self._frames(final=False)

    def _drain_ahead(self) -> list[Any]:
        """Every block ahead completed and no speculation left: the frames that came out."""
        out: list[Any] = []
        while self._fe_q:
            out += self._complete_oldest()
        return out + self._settle_speculation()

    def _process_pipelined(self, x: np.ndarray) -> list[Any]:
        """One block (samples_processed already counts it): while locked, its front end goes to the pipeline
        thread and the blocks more than FRONT_END_DEPTH behind it are completed; otherwise the blocks ahead are
        completed first and this one runs as the one-thread receiver runs it."""
        x = np.array(x, dtype=np.complex64)  # its own copy: the front end may read it after process() returned
        now = self._stamp
        out = self._drain_ahead() if self._fe_q and not self._can_pipeline() else []
        if self._can_pipeline():
            return out + self._process_pipelined_locked(x, now)
        return out + self._serial_block(x, now)

    def _process_pipelined_locked(self, x: np.ndarray, now: int) -> list[Any]:
        pre, n0 = self._pre, self._nco_n
        self._pre = []  # what the locked coarse-carrier step does
        self._nco_n += x.size
        self._fe_q.append((self._fe_pool.submit(self._fe_job, x, n0), pre, n0, x, now))  # type: ignore[union-attr]
        out: list[Any] = []
        while len(self._fe_q) > self.FRONT_END_DEPTH:
            out += self._complete_oldest()
        return out


    # ------------------------------------------------------------------------------------------- speculation

    # not part of the frame-synchronisation state a checkpoint keeps: the front end (it runs on its own), the
    # pools, the delivery bookkeeping (handled by count) and the speculation itself
    _NOT_CHECKPOINTED = frozenset({
        "_mf", "_timing", "_pre", "_nco", "_nco_n", "_nco_seen", "_quiet", "_f_spec", "_restart_timing", "_pool",
        "_fe_pool", "_fe_q", "_replay", "_samples_in", "_flushed", "_spec", "_iter_ckpt", "_may_speculate",
        "speculation", "_ts", "_mf_buf", "_mf_buf_base", "_genie_next", "_outq", "_measured", "_futures",
        "_outq_total", "_outq_done", "_measured_total", "_measured_done", "_last_ok", "_stamp", "samples_processed",
        "_stager", "block_samples", "block_symbols", "_pos_last", "_watermark",
    })

    def _push(self, item: object, measured: bool = False) -> None:
        self._outq.append(item)
        self._outq_total += 1
        if measured:
            item.emitted_after = self._stamp  # type: ignore[attr-defined]
            self._measured.append(item)  # type: ignore[arg-type]
            self._measured_total += 1

    def _checkpoint(self) -> dict:
        ck = {k: (v.copy() if isinstance(v, (dict, list)) else v) for k, v in self.__dict__.items()
              if k not in self._NOT_CHECKPOINTED}
        ck["#outq"] = self._outq_total
        ck["#measured"] = self._measured_total
        return ck

    def _restore(self, ck: dict) -> None:
        while self._outq_total > ck["#outq"]:  # frames made after the checkpoint: thrown away
            item = self._outq.pop()
            self._outq_total -= 1
            self._futures.pop(id(item), None)
        while self._measured_total > ck["#measured"]:
            self._measured.pop()
            self._measured_total -= 1
        for k, v in ck.items():
            if not k.startswith("#"):
                self.__dict__[k] = v.copy() if isinstance(v, (dict, list)) else v

    def _resolve_speculation(self) -> None:
        """Wait for the frame the speculation made a guess about: if the guess was right, keep going; if not, go
        back to the checkpoint (raises Rollback; the frame loop runs again from there)."""
        fut, rep, ck, guess, appended, stamp = self._spec  # type: ignore[misc]
        self._spec = None
        fut.result()
        self._last_ok = bool(rep.ok)
        if bool(rep.ok) == guess:
            return
        self.speculation["rolled_back"] += 1
        self._restore(ck)
        # the blocks of symbols that came in meanwhile go in again one by one as the frame loop runs out of
        # symbols, each under its own stamp: the frames come out of the blocks they came out of on one thread
        self._stamp = stamp
        self._replay = list(appended) + self._replay  # (before any blocks an earlier rollback still owes)
        raise Rollback

    def _replay_block(self) -> bool:
        """After a speculation was taken back: the next block of symbols it had seen come in (False: none)."""
        if not self._replay:
            return False
        s, pos, stamp = self._replay.pop(0)
        self._stamp = stamp
        self._append_symbols(s, pos)
        return True

    def _settle_speculation(self) -> list[Any]:
        """Before a block runs as the one-thread receiver runs it, and at the end of the stream: no speculation may
        stay; frames run again after a wrong one (without speculating) are returned."""
        if self._spec is None:
            return []
        try:
            self._resolve_speculation()
        except Rollback:
            return self._frames(final=False, speculate=False)
        return []

    def _drain(self, wait_all: bool) -> list[Any]:
        """The frames at the head of the queue whose decoding is done (all of them with wait_all), delivered in
        order (TS packets, deframer resets between them)."""
        out: list[Any] = []
        # with a speculation under way, the frame it rests on and everything after it wait
        boundary = self._spec[2]["#outq"] - 1 if self._spec is not None else None  # type: ignore[index]
        while self._outq:
            if boundary is not None and self._outq_done >= boundary:
                break  # what follows is speculative
            item = self._outq[0]
            if item is RESET:
                self._ts.reset()
                self._outq.popleft()
                self._outq_done += 1
                continue
            fut = self._futures.pop(id(item), None)
            if fut is not None:
                if not wait_all and not fut.done():  # type: ignore[attr-defined]
                    self._futures[id(item)] = fut
                    break
                fut.result()  # type: ignore[attr-defined]
            if self._pending_carrier is not None and self._pending_carrier[1] is item:
                self._settle_carrier()  # its cfo_cyc
            self._outq.popleft()
            self._outq_done += 1
            out.append(self._deliver(item))
        return out

    def _undelivered_from(self) -> float:
        """The input sample index of the first frame measured but not delivered yet (inf if none)."""
        for item in self._outq:
            if item is not RESET:
                return float(item.sample_index)  # type: ignore[attr-defined]
        return float("inf")

    def take_measured(self) -> list[Any]:
        """The frames measured (synchronised, Es/N0 estimated) since the last call, in order: with decode_threads
        their decoding may still be under way (ok, payload, ... are final once process() or flush() returned them).
        What an ACM return path needs without waiting for the decoders."""
        n = len(self._measured)
        if self._spec is not None:  # not the speculative ones
            n = self._spec[2]["#measured"] - self._measured_done  # type: ignore[index]
        out, self._measured = self._measured[:n], self._measured[n:]
        self._measured_done += len(out)
        return out


    # The carrier state (offset estimate, its variance) read by the synchronisation. After a frame whose decoding
    # is still under way on the pool and whose outcome changes it, it is settled on first use.
    @property
    def _f_cyc(self) -> float:
        if self._pending_carrier is not None:
            self._settle_carrier()
        return self._f_cyc_v

    @_f_cyc.setter
    def _f_cyc(self, v: float) -> None:
        if self._pending_carrier is not None:
            self._settle_carrier()
        self._f_cyc_v = v

    @property
    def _f_var(self) -> float:
        if self._pending_carrier is not None:
            self._settle_carrier()
        return self._f_var_v

    @_f_var.setter
    def _f_var(self, v: float) -> None:
        if self._pending_carrier is not None:
            self._settle_carrier()
        self._f_var_v = v

    def _settle_carrier(self) -> None:
        fut, rep, if_ok, if_not, nco_term = self._pending_carrier  # type: ignore[misc]
        if self._spec is not None:  # an older speculation is settled first (it may take everything back)
            self._resolve_speculation()
        if not fut.done() and self._may_speculate and self._iter_ckpt is not None:
            # go on as if it ends like the last frame that decoded or failed; _resolve_speculation checks it later
            guess = self._last_ok
            self._spec = (fut, rep, self._iter_ckpt, guess, [], self._stamp)
            self._pending_carrier = None
            self._f_cyc_v, self._f_var_v = if_ok if guess else if_not
            rep.cfo_cyc = self._f_cyc_v + nco_term
            self.speculation["taken"] += 1
            return
        self._pending_carrier = None
        fut.result()
        self._last_ok = bool(rep.ok)
        self._f_cyc_v, self._f_var_v = if_ok if rep.ok else if_not
        rep.cfo_cyc = self._f_cyc_v + nco_term

    @property
    def _locked(self) -> bool:
        return self._locked_v

    @_locked.setter
    def _locked(self, v: bool) -> None:
        if v != getattr(self, "_locked_v", v) and self._spec is not None:
            self._resolve_speculation()  # a change of lock never rests on a speculation
        self._locked_v = v
