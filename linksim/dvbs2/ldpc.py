"""LDPC codes: the DVB-S2 inner code (EN 302 307-1 clause 5.3.2, Annexes B and C) and generic alist codes.

Encoder: the standard's parity-bit accumulator (address tables in linksim/data/ldpc/, derived from gr-dtv by
scripts/gen_ldpc_tables.py). Decoder: layered min-sum in numba (corrected by default: boxplus of the three
smallest magnitudes; normalized and offset variants), early stop on a zero syndrome.

The DVB-S2 decoder uses the code's quasi-cyclic structure: with check c = a + s*q renumbered to layer a, row s
(and the parity bits renumbered the same way), every layer is 360 checks that see whole 360-bit groups through
cyclic shifts, so each layer is processed as contiguous vector loops of length 360. Generic codes (alist files)
go through a row-by-row layered decoder over a sparse parity-check matrix.

LLR convention everywhere: log(P(bit=0)/P(bit=1)), positive means bit 0. The default corrected rule needs true
LLRs (scaled by the noise variance); normalized min-sum ("nms") is scale-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from numba import njit

from ..errors import InputError
from .bits import as_bit_rows
from .params import LDPC_K_VLSNR, N_LDPC_ALL, ldpc_k

GROUP = 360  # DVB-S2 parallelism factor M (bits per group, checks per layer)
DEFAULT_ALPHA = 0.875  # normalization factor of normalized min-sum
DEFAULT_BETA = 0.25  # offset of offset min-sum (LLR units)
_BIG = np.float32(1e30)
_LLR_MAX = 1e6  # input LLRs are clipped to this magnitude (inf would make inf - inf = nan)


@dataclass(frozen=True)
class LdpcResult:
    """Decoder output. `bits`: hard decisions of the whole codeword, uint8 (..., n) (the systematic bits first for
    DVB-S2); `iterations`: iterations run per frame (int); `ok`: all parity checks satisfied (bool)."""

    bits: np.ndarray
    iterations: np.ndarray
    ok: np.ndarray


# --------------------------------------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _dvbs2_encode_frames(info: np.ndarray, addr: np.ndarray, addr_ptr: np.ndarray, q: int, out: np.ndarray) -> None:
    """info (F, k) uint8 -> out (F, n) uint8: systematic bits then the accumulated parity bits."""
    nf, k = info.shape
    m = out.shape[1] - k
    for f in range(nf):
        par = np.zeros(m, np.uint8)
        for i in range(k):
            if info[f, i]:
                g = i // GROUP
                off = (i - g * GROUP) * q
                for e in range(addr_ptr[g], addr_ptr[g + 1]):
                    a = addr[e] + off
                    if a >= m:
                        a -= m
                    par[a] ^= 1
        acc = np.uint8(0)
        for j in range(m):
            acc ^= par[j]
            par[j] = acc
        for i in range(k):
            out[f, i] = info[f, i]
        for j in range(m):
            out[f, k + j] = par[j]


NMS, OMS, CMS = 0, 1, 2  # check-node rules: normalized, offset, corrected (3-min boxplus) min-sum
ALGORITHMS = {"nms": NMS, "oms": OMS, "cms": CMS}
SCHEDULES = ("layered", "flooding")


@njit(cache=True, nogil=True, fastmath=True)
def _corr(x: float) -> float:
    """Piecewise-linear stand-in for log(1 + exp(-x)), x >= 0 (the boxplus correction term)."""
    return max(np.float32(0.0), np.float32(0.6931) - np.float32(0.33) * x)


@njit(cache=True, nogil=True, fastmath=True)
def _boxplus(a: float, b: float) -> float:
    """Magnitude of the boxplus of two non-negative LLR magnitudes: min + f(a + b) - f(|a - b|), at least 0."""
    return max(min(a, b) + _corr(a + b) - _corr(abs(a - b)), np.float32(0.0))


# The loops below are written so that LLVM vectorizes them: offsets into flat arrays are unsigned (numba adds a
# negative-index wraparound select to signed indices, which blocks vectorization, and array views cost atomic
# reference counting), every operand of a select is loaded before it, and each loop writes few arrays.
@njit(cache=True, nogil=True, fastmath=True)
def _qc_layered(
    llr: np.ndarray,  # (n,) float32, variables in decoder order
    layer_ptr: np.ndarray,  # (q+1,) blocks of each layer
    blk_lo1: np.ndarray,  # block start minus shift plus 360: check s < shift sees variable lo1 + s
    blk_lo2: np.ndarray,  # block start minus shift: check s >= shift sees variable lo2 + s
    blk_shift: np.ndarray,  # cyclic shift of the block
    blk_skip0: np.ndarray,  # 1: the edge at s = 0 does not exist (the accumulator's first check)
    layer_acc: np.ndarray,  # 1: a variable appears in two blocks of this layer (additive update)
    max_iter: int,
    early_stop: bool,
    stall: int,  # > 0: give up after this many iterations without a new lowest count of unsatisfied checks
    mode: int,
    alpha: float,
    beta: float,
    post: np.ndarray,  # (n,) float32 out: a-posteriori LLRs, decoder order
) -> tuple[int, bool]:
    n = llr.shape[0]
    nblk = blk_lo1.shape[0]
    nlay = layer_ptr.shape[0] - 1
    dmax = 0
    for a in range(nlay):
        dmax = max(dmax, layer_ptr[a + 1] - layer_ptr[a])
    R = np.zeros(nblk * GROUP, np.float32)  # check-to-variable messages, block-major
    Q = np.empty(dmax * GROUP, np.float32)  # variable-to-check messages of the current layer
    min1 = np.empty(GROUP, np.float32)
    min2 = np.empty(GROUP, np.float32)
    min3 = np.empty(GROUP, np.float32)
    sgn = np.empty(GROUP, np.float32)
    OT = np.empty(7 * GROUP, np.float32)  # outgoing magnitudes by rank, and min1..min3 (see below)
    hard = np.empty(n, np.uint8)
    par = np.empty(GROUP, np.uint8)
    a32 = np.float32(alpha)
    b32 = np.float32(beta)
    zero = np.float32(0.0)
    one = np.float32(1.0)
    G = np.uint64(GROUP)
    G2 = np.uint64(2 * GROUP)
    G3 = np.uint64(3 * GROUP)
    G4 = np.uint64(4 * GROUP)
    G5 = np.uint64(5 * GROUP)
    G6 = np.uint64(6 * GROUP)
    for v in range(n):
        post[v] = llr[v]
    it = 0
    ok = False
    best = n + 1
    best_it = 0
    while it < max_iter:
        it += 1
        for a in range(nlay):
            b0 = layer_ptr[a]
            d = layer_ptr[a + 1] - b0
            for s in range(GROUP):
                min1[s] = _BIG
                min2[s] = _BIG
                min3[s] = _BIG
                sgn[s] = one
            # variable-to-check messages Q = L - R and their sign product, 360 checks at a time
            for j in range(d):
                b = b0 + j
                sh = np.uint64(blk_shift[b])
                s0 = np.uint64(blk_skip0[b])
                qo = np.uint64(j) * G
                ro = np.uint64(b) * G
                lo = np.uint64(blk_lo1[b])
                for s in range(s0, sh):
                    u = np.uint64(s)
                    x = post[lo + u] - R[ro + u]
                    Q[qo + u] = x
                    g = sgn[u]
                    sgn[u] = -g if x < zero else g
                lo = np.uint64(blk_lo2[b])
                for s in range(max(sh, s0), G):
                    u = np.uint64(s)
                    x = post[lo + u] - R[ro + u]
                    Q[qo + u] = x
                    g = sgn[u]
                    sgn[u] = -g if x < zero else g
                if s0:
                    Q[qo] = _BIG
                # the smallest magnitudes
                if mode == CMS:
                    for s in range(GROUP):
                        m = abs(Q[qo + np.uint64(s)])
                        m1 = min1[s]
                        m2 = min2[s]
                        min3[s] = min(min3[s], max(m, m2))
                        min2[s] = min(m2, max(m, m1))
                        min1[s] = min(m1, m)
                else:
                    for s in range(GROUP):
                        m = abs(Q[qo + np.uint64(s)])
                        m1 = min1[s]
                        min2[s] = min(min2[s], max(m, m1))
                        min1[s] = min(m1, m)
            # check-to-variable messages before their edge's own sign, by rank of the edge's magnitude:
            # OT rows: 0 most edges, 1 the smallest, 2 the second, 3 the third smallest; rows 4..6 min1..min3
            if mode == CMS:
                for s in range(GROUP):
                    u = np.uint64(s)
                    m1 = min1[s]
                    m2 = min2[s]
                    m3 = min3[s]
                    g = sgn[s]
                    o12 = _boxplus(m1, m2)
                    OT[u] = _boxplus(o12, m3) * g
                    OT[u + G] = _boxplus(m2, m3) * g
                    OT[u + G2] = _boxplus(m1, m3) * g
                    OT[u + G3] = o12 * g
                    OT[u + G4] = m1
                    OT[u + G5] = m2
                    OT[u + G6] = m3
            else:
                for s in range(GROUP):
                    u = np.uint64(s)
                    m1 = min1[s]
                    m2 = min2[s]
                    g = sgn[s]
                    if mode == NMS:
                        v1 = a32 * m1 * g
                        v2 = a32 * m2 * g
                    else:
                        v1 = max(m1 - b32, zero) * g
                        v2 = max(m2 - b32, zero) * g
                    OT[u] = v1
                    OT[u + G] = v2
                    OT[u + G2] = v1
                    OT[u + G3] = v1
                    OT[u + G4] = m1
                    OT[u + G5] = m1
                    OT[u + G6] = m1
            acc = layer_acc[a]
            for j in range(d):
                b = b0 + j
                sh = np.uint64(blk_shift[b])
                s0 = np.uint64(blk_skip0[b])
                qo = np.uint64(j) * G
                ro = np.uint64(b) * G
                for s in range(GROUP):
                    u = np.uint64(s)
                    x = Q[qo + u]
                    ax = abs(x)
                    v0 = OT[u]
                    v1 = OT[u + G]
                    v2 = OT[u + G2]
                    v3 = OT[u + G3]
                    o = v3 if ax == OT[u + G6] else v0
                    o = v2 if ax == OT[u + G5] else o
                    o = v1 if ax == OT[u + G4] else o
                    r = -o if x < zero else o
                    rold = R[ro + u]
                    # Q becomes the new posterior, or the change of R where a variable may get two updates
                    Q[qo + u] = r - rold if acc else x + r
                    R[ro + u] = r
                if s0:
                    R[ro] = zero
                lo1 = np.uint64(blk_lo1[b])
                lo2 = np.uint64(blk_lo2[b])
                if acc:
                    for s in range(s0, sh):
                        u = np.uint64(s)
                        post[lo1 + u] += Q[qo + u]
                    for s in range(max(sh, s0), G):
                        u = np.uint64(s)
                        post[lo2 + u] += Q[qo + u]
                else:
                    for s in range(s0, sh):
                        u = np.uint64(s)
                        post[lo1 + u] = Q[qo + u]
                    for s in range(max(sh, s0), G):
                        u = np.uint64(s)
                        post[lo2 + u] = Q[qo + u]
        if early_stop or stall > 0 or it == max_iter:
            bad = _qc_unsatisfied(post, hard, par, layer_ptr, blk_lo1, blk_lo2, blk_shift, blk_skip0, stall <= 0)
            ok = bad == 0
            stop, best, best_it = _stop_rule(bad, it, early_stop, stall, best, best_it)
            if stop:
                break
    return it, ok


@njit(cache=True, nogil=True)
def _stop_rule(bad: int, it: int, early_stop: bool, stall: int, best: int, best_it: int) -> tuple[bool, int, int]:
    """The layered decoders' stopping rule after iteration `it` left `bad` checks unsatisfied: (stop, best,
    best_it). Stop when every check holds and early_stop, or (stall > 0) when `stall` iterations have passed
    since the lowest count so far (`best`, reached at iteration `best_it`)."""
    if bad == 0 and early_stop:
        return True, best, best_it
    if stall > 0:
        if bad < best:
            return False, bad, it
        if it - best_it >= stall:
            return True, best, best_it
    return False, best, best_it


@njit(cache=True, nogil=True)
def _qc_unsatisfied(post, hard, par, layer_ptr, blk_lo1, blk_lo2, blk_shift, blk_skip0, first_only) -> int:
    """Number of checks the hard decisions of `post` violate (with first_only: 0 or 1, stopping at the first
    failing layer)."""
    for v in range(post.shape[0]):
        hard[v] = np.uint8(post[v] < 0)
    G = np.uint64(GROUP)
    count = 0
    for a in range(layer_ptr.shape[0] - 1):
        for s in range(GROUP):
            par[s] = 0
        for b in range(layer_ptr[a], layer_ptr[a + 1]):
            sh = np.uint64(blk_shift[b])
            s0 = np.uint64(blk_skip0[b])
            lo = np.uint64(blk_lo1[b])
            for s in range(s0, sh):
                u = np.uint64(s)
                par[u] ^= hard[lo + u]
            lo = np.uint64(blk_lo2[b])
            for s in range(max(sh, s0), G):
                u = np.uint64(s)
                par[u] ^= hard[lo + u]
        t = 0
        for s in range(GROUP):
            t += par[s]
        count += t
        if t and first_only:
            return 1
    return count


@njit(cache=True, nogil=True, fastmath=True)
def _row_layered(
    llr: np.ndarray,  # (n,) float32
    row_ptr: np.ndarray,  # (m+1,) CSR rows of H
    cols: np.ndarray,  # (edges,) column of each edge
    max_iter: int,
    early_stop: bool,
    stall: int,  # > 0: give up after this many iterations without a new lowest count of unsatisfied checks
    mode: int,
    alpha: float,
    beta: float,
    post: np.ndarray,  # (n,) float32 out: a-posteriori LLRs
    flooding: bool = False,
) -> tuple[int, bool]:
    """Row-by-row layered min-sum (any sparse code); with flooding, every check of an iteration works from the
    a-posteriori LLRs of the previous iteration (the schedule of classic belief propagation) instead of those
    the checks before it just updated."""
    n = llr.shape[0]
    m = row_ptr.shape[0] - 1
    R = np.zeros(cols.shape[0], np.float32)
    prev = np.empty(n, np.float32) if flooding else post
    dmax = 0
    for c in range(m):
        dmax = max(dmax, row_ptr[c + 1] - row_ptr[c])
    Q = np.empty(dmax, np.float32)
    a32 = np.float32(alpha)
    b32 = np.float32(beta)
    zero = np.float32(0.0)
    one = np.float32(1.0)
    for v in range(n):
        post[v] = llr[v]
    it = 0
    ok = False
    best = m + 1
    best_it = 0
    while it < max_iter:
        it += 1
        if flooding:
            for v in range(n):
                prev[v] = post[v]
                post[v] = llr[v]
        for c in range(m):
            e0 = row_ptr[c]
            d = row_ptr[c + 1] - e0
            m1 = _BIG
            m2 = _BIG
            m3 = _BIG
            sg = one
            for j in range(d):  # branch-free: the three smallest magnitudes and the sign product
                x = prev[cols[e0 + j]] - R[e0 + j]
                Q[j] = x
                mg = abs(x)
                m3 = min(m3, max(mg, m2))
                m2 = min(m2, max(mg, m1))
                m1 = min(m1, mg)
                sg = -sg if x < zero else sg
            if mode == CMS:
                v3 = _boxplus(m1, m2)
                v0 = _boxplus(v3, m3)
                v1 = _boxplus(m2, m3)
                v2 = _boxplus(m1, m3)
            else:
                v0 = a32 * m1 if mode == NMS else max(m1 - b32, zero)
                v1 = a32 * m2 if mode == NMS else max(m2 - b32, zero)
                v2 = v0
                v3 = v0
            v0 *= sg
            v1 *= sg
            v2 *= sg
            v3 *= sg
            for j in range(d):
                x = Q[j]
                ax = abs(x)
                o = v3 if ax == m3 else v0
                o = v2 if ax == m2 else o
                o = v1 if ax == m1 else o
                r = -o if x < zero else o
                R[e0 + j] = r
                if flooding:
                    post[cols[e0 + j]] += r
                else:
                    post[cols[e0 + j]] = x + r
        if early_stop or stall > 0 or it == max_iter:
            bad = _row_unsatisfied(post, row_ptr, cols, stall <= 0)
            ok = bad == 0
            stop, best, best_it = _stop_rule(bad, it, early_stop, stall, best, best_it)
            if stop:
                break
    return it, ok


@njit(cache=True, nogil=True)
def _row_unsatisfied(post, row_ptr, cols, first_only) -> int:
    """Number of CSR checks the hard decisions of `post` violate (with first_only: 0 or 1)."""
    zero = np.float32(0.0)
    bad = 0
    for c in range(row_ptr.shape[0] - 1):
        p = False
        for e in range(row_ptr[c], row_ptr[c + 1]):
            p ^= post[cols[e]] < zero
        if p:
            bad += 1
            if first_only:
                break
    return bad


@njit(cache=True, nogil=True)
def _csr_syndrome_ok(bits: np.ndarray, row_ptr: np.ndarray, cols: np.ndarray, ok: np.ndarray) -> None:
    for f in range(bits.shape[0]):
        good = True
        for c in range(row_ptr.shape[0] - 1):
            p = 0
            for e in range(row_ptr[c], row_ptr[c + 1]):
                p ^= bits[f, cols[e]]
            if p:
                good = False
                break
        ok[f] = good


# ------------------------------------------------------------------------------------------------------- codes


def _as_llr(llr: np.ndarray, n: int) -> tuple[np.ndarray, tuple[int, ...]]:
    a = np.asarray(llr)
    if a.ndim == 0 or a.shape[-1] != n:
        raise InputError(f"LDPC decoder expects LLRs with last dimension {n}, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        raise InputError(f"LDPC decoder expects float LLRs, got dtype {a.dtype}")
    lead = a.shape[:-1]
    a = np.ascontiguousarray(a.reshape(-1, n), dtype=np.float32)
    if np.isnan(a).any():
        raise InputError("LDPC decoder input contains NaN LLRs")
    return np.clip(a, -_LLR_MAX, _LLR_MAX), lead


def _mode(algorithm: str) -> int:
    if algorithm not in ALGORITHMS:
        raise InputError(f"LDPC algorithm must be one of {sorted(ALGORITHMS)}, not {algorithm!r}")
    return ALGORITHMS[algorithm]


def _check_stall(stall_iter: int) -> int:
    if int(stall_iter) != stall_iter or stall_iter < 0:
        raise InputError(f"stall_iter must be 0 (off) or a positive integer, got {stall_iter!r}")
    return int(stall_iter)


def _check_iter(max_iter: int) -> int:
    if int(max_iter) != max_iter or max_iter < 1:
        raise InputError(f"max_iter must be a positive integer, got {max_iter!r}")
    return int(max_iter)


class LdpcCode:
    """A binary LDPC code given by a sparse parity-check matrix (CSR rows). `n` code bits, `m` checks."""

    def __init__(self, n: int, row_ptr: np.ndarray, cols: np.ndarray, name: str = "") -> None:
        self.n = int(n)
        self.row_ptr = np.ascontiguousarray(row_ptr, dtype=np.int32)
        self.cols = np.ascontiguousarray(cols, dtype=np.int32)
        self.m = len(self.row_ptr) - 1
        self.name = name

    @property
    def edges(self) -> int:
        return len(self.cols)

    def parity_ok(self, bits: np.ndarray) -> np.ndarray:
        """True for each word (..., n) that satisfies every parity check."""
        b, lead = as_bit_rows(bits, self.n, "parity check")
        ok = np.empty(len(b), np.bool_)
        _csr_syndrome_ok(b, self.row_ptr, self.cols, ok)
        return ok.reshape(lead)

    def decode(self, llr: np.ndarray, max_iter: int = 50, early_stop: bool = True, algorithm: str = "cms",
               alpha: float = DEFAULT_ALPHA, beta: float = DEFAULT_BETA, stall_iter: int = 0,
               schedule: str = "layered") -> LdpcResult:
        """Row-by-row min-sum over the sparse matrix, layered or flooding (see `ldpc_decode` for the
        arguments)."""
        if schedule not in SCHEDULES:
            raise InputError(f"LDPC schedule must be one of {SCHEDULES}, not {schedule!r}")
        x, lead = _as_llr(llr, self.n)
        max_iter = _check_iter(max_iter)
        mode = _mode(algorithm)
        stall = _check_stall(stall_iter)
        bits = np.empty(x.shape, np.uint8)
        its = np.empty(len(x), np.int64)
        ok = np.empty(len(x), np.bool_)
        post = np.empty(self.n, np.float32)
        for f in range(len(x)):
            its[f], ok[f] = _row_layered(x[f], self.row_ptr, self.cols, max_iter, bool(early_stop), stall,
                                         mode, float(alpha), float(beta), post, schedule == "flooding")
            bits[f] = post < 0
        return LdpcResult(bits.reshape(lead + (self.n,)), its.reshape(lead), ok.reshape(lead))


def _skip_zeros(vals: list[int], pos: int) -> int:
    while pos < len(vals) and vals[pos] == 0:
        pos += 1
    return pos


class AlistCode(LdpcCode):
    """A code read from an alist file (MacKay's format, as used by GNU Radio's gr-fec)."""

    @classmethod
    def from_file(cls, path: str | Path) -> AlistCode:
        """Read an alist file: n m, max degrees, the column and row degrees, then the column lists and the row
        lists (1-based, zero-padded to the maximum degree). The two lists must describe the same matrix."""
        p = Path(path)
        try:
            tokens = p.read_text().split()
        except OSError as e:
            raise InputError(f"cannot read alist file {p}: {e.strerror}") from e
        try:
            vals = [int(t) for t in tokens]
            n, m, cmax, rmax = vals[0:4]
            col_deg = vals[4:4 + n]
            row_deg = vals[4 + n:4 + n + m]
            pos = 4 + n + m
            by_col: list[tuple[int, int]] = []
            for v in range(n):
                pos = _skip_zeros(vals, pos)
                by_col += [(c - 1, v) for c in vals[pos:pos + col_deg[v]]]
                pos += col_deg[v]
            by_row: list[tuple[int, int]] = []
            for c in range(m):
                pos = _skip_zeros(vals, pos)
                by_row += [(c, v - 1) for v in vals[pos:pos + row_deg[c]]]
                pos += row_deg[c]
            if pos > len(vals) or max(col_deg) > cmax or max(row_deg) > rmax:
                raise IndexError("degrees and lists do not match")
        except (ValueError, IndexError) as e:
            raise InputError(f"{p}: not a valid alist file ({e})") from e
        edges = sorted(by_row)
        if edges != sorted(by_col) or any(not (0 <= c < m and 0 <= v < n) for c, v in edges):
            raise InputError(f"{p}: the column and row lists of the alist file disagree")
        row_ptr = np.zeros(m + 1, np.int32)
        np.add.at(row_ptr, np.array([c for c, _ in edges], np.int64) + 1, 1)
        row_ptr = np.cumsum(row_ptr).astype(np.int32)
        cols = np.array([v for _, v in edges], np.int32)
        return cls(n, row_ptr, cols, name=p.name)


class DvbS2Code(LdpcCode):
    """The DVB-S2 LDPC code of one frame size and nominal rate; `k` information bits, `n` = 64800 or 16200; or one
    of the DVB-S2X VL-SNR mother codes (`params.LDPC_K_VLSNR`: normal 2/9, medium (32400) 1/5, 11/45, 1/3, short
    11/45, 4/15), whose tables are in data/ldpc/dvbs2x_*.txt."""

    def __init__(self, frame: str, rate: str) -> None:
        if frame not in N_LDPC_ALL:
            raise InputError(f"frame must be 'normal', 'medium' or 'short', not {frame!r}")
        n = N_LDPC_ALL[frame]
        k = ldpc_k(frame, rate)
        self.frame, self.rate, self.k = frame, rate, k
        m = n - k
        self.q = q = m // GROUP
        prefix = "dvbs2x" if (frame, rate) in LDPC_K_VLSNR else "dvbs2"
        fname = f"data/ldpc/{prefix}_{frame}_{rate.replace('/', '_')}.txt"
        text = resources.files("linksim").joinpath(fname).read_text()
        rows = [[int(t) for t in ln.split()] for ln in text.splitlines() if ln and not ln.startswith("#")]
        if len(rows) != k // GROUP:
            raise InputError(f"{fname}: {len(rows)} rows, expected {k // GROUP}")
        self.addr = np.array([x for r in rows for x in r], np.int32)
        self.addr_ptr = np.zeros(len(rows) + 1, np.int32)
        self.addr_ptr[1:] = np.cumsum([len(r) for r in rows])
        # --- quasi-cyclic layered structure: layer a = checks a + s*q, s = 0..359
        blocks: list[list[tuple[int, int, int]]] = [[] for _ in range(q)]  # (base, shift, skip0)
        for g, r in enumerate(rows):
            for x in r:
                blocks[x % q].append((g * GROUP, x // q, 0))
        for a in range(q):
            blocks[a].append((k + a * GROUP, 0, 0))  # parity bit c
            if a > 0:
                blocks[a].append((k + (a - 1) * GROUP, 0, 0))  # parity bit c - 1
            else:
                blocks[a].append((k + (q - 1) * GROUP, 1, 1))  # c - 1 wraps to the previous row; none for c = 0
        flat = [b for lay in blocks for b in lay]
        self._layer_ptr = np.zeros(q + 1, np.int32)
        self._layer_ptr[1:] = np.cumsum([len(lay) for lay in blocks])
        base = np.array([b[0] for b in flat], np.int64)
        self._blk_shift = np.array([b[1] for b in flat], np.int64)
        self._blk_lo1 = base + GROUP - self._blk_shift
        self._blk_lo2 = base - self._blk_shift
        self._blk_skip0 = np.array([b[2] for b in flat], np.int64)
        self._layer_acc = np.array([len({b[0] for b in lay}) < len(lay) for lay in blocks], np.int64)
        self._layer_ptr = self._layer_ptr.astype(np.int64)
        # decoder order: info bits as is, parity bit c = a + s*q at k + a*360 + s
        c = np.arange(m)
        self._perm = np.concatenate([np.arange(k), k + (c % q) * GROUP + c // q]).astype(np.int64)
        # the same code as a plain sparse matrix (check c: info bits, parity c and c-1), for the generic path
        grp = np.repeat(np.arange(len(rows)), np.diff(self.addr_ptr))
        bit = np.arange(GROUP)
        chk_info = ((self.addr[:, None] + bit[None, :] * q) % m).ravel()
        var_info = (grp[:, None] * GROUP + bit[None, :]).ravel()
        c = np.arange(m)
        chk = np.concatenate([chk_info, c, c[1:]])
        var = np.concatenate([var_info, k + c, k + c[1:] - 1])
        order = np.lexsort((var, chk))
        row_ptr = np.zeros(m + 1, np.int64)
        row_ptr[1:] = np.cumsum(np.bincount(chk, minlength=m))
        cols = var[order]
        super().__init__(n, row_ptr, cols, name=f"DVB-S2 {frame} {rate}")

    def encode(self, bits: np.ndarray) -> np.ndarray:
        """Systematic encoding: bits (..., k) uint8 -> codewords (..., n) uint8 (information bits first)."""
        b, lead = as_bit_rows(bits, self.k, f"LDPC encoder ({self.name})")
        out = np.empty((len(b), self.n), np.uint8)
        _dvbs2_encode_frames(b, self.addr, self.addr_ptr, self.q, out)
        return out.reshape(lead + (self.n,))

    def decode(self, llr: np.ndarray, max_iter: int = 50, early_stop: bool = True, algorithm: str = "cms",
               alpha: float = DEFAULT_ALPHA, beta: float = DEFAULT_BETA, stall_iter: int = 0,
               schedule: str = "layered") -> LdpcResult:
        """Layered min-sum on the 360-group structure (see `ldpc_decode` for the arguments); the flooding
        schedule runs on the plain sparse matrix (slower: for comparisons with flooding references)."""
        if schedule != "layered":
            return super().decode(llr, max_iter, early_stop, algorithm, alpha, beta, stall_iter, schedule)
        x, lead = _as_llr(llr, self.n)
        max_iter = _check_iter(max_iter)
        mode = _mode(algorithm)
        stall = _check_stall(stall_iter)
        bits = np.empty(x.shape, np.uint8)
        its = np.empty(len(x), np.int64)
        ok = np.empty(len(x), np.bool_)
        post = np.empty(self.n, np.float32)
        perm = self._perm
        for f in range(len(x)):
            its[f], ok[f] = _qc_layered(
                _to_decoder_order(x[f], perm), self._layer_ptr, self._blk_lo1, self._blk_lo2, self._blk_shift,
                self._blk_skip0, self._layer_acc, max_iter, bool(early_stop), stall, mode, float(alpha), float(beta),
                post)
            bits[f] = post[perm] < 0
        return LdpcResult(bits.reshape(lead + (self.n,)), its.reshape(lead), ok.reshape(lead))


def _to_decoder_order(x: np.ndarray, perm: np.ndarray) -> np.ndarray:
    y = np.empty_like(x)
    y[perm] = x
    return y


@cache
def dvbs2_code(frame: str, rate: str) -> DvbS2Code:
    """The (cached) DVB-S2 LDPC code for a frame size ('normal' | 'short') and nominal rate ('1/2', ...)."""
    return DvbS2Code(frame, rate)


def ldpc_encode(bits: np.ndarray, frame: str, rate: str) -> np.ndarray:
    """DVB-S2 LDPC encoding: bits uint8 (..., k_ldpc) -> codewords uint8 (..., n_ldpc), systematic first."""
    return dvbs2_code(frame, rate).encode(bits)


def ldpc_decode(llr: np.ndarray, frame: str, rate: str, max_iter: int = 50, early_stop: bool = True,
                algorithm: str = "cms", alpha: float = DEFAULT_ALPHA, beta: float = DEFAULT_BETA,
                stall_iter: int = 0, schedule: str = "layered") -> LdpcResult:
    """DVB-S2 LDPC decoding of LLRs float (..., n_ldpc) (positive = bit 0) by layered min-sum.

    algorithm: "cms" (default) corrected min-sum: each edge gets the boxplus of the two or three smallest incoming
    magnitudes other than its own, with a piecewise-linear correction term, which needs true LLRs
    (2 y / sigma^2 for BPSK, a demapper's LLRs with the right noise variance); "nms" normalized min-sum
    (magnitudes times `alpha`, scale-free); "oms" offset min-sum (magnitudes minus `beta`, in LLR units).
    Each frame is decoded at once (frames in one call are decoded one after the other, none waits for others).
    Returns hard decisions of the whole codeword, the iterations used and whether all checks are satisfied;
    with early_stop the decoder stops at the first iteration whose hard decisions satisfy every check.
    stall_iter > 0 (off by default) gives a frame up, ok False, after that many iterations without a new lowest
    number of unsatisfied checks: it bounds the time spent on frames that will not converge (a receiver that
    must keep real time below threshold), at a small FER cost near the threshold (see docs/ldpc.md).
    schedule: "layered" (default: each check works from what the checks before it just updated, which
    converges in about half the iterations) or "flooding" (all checks from the previous iteration, the
    schedule of the belief-propagation simulations behind DVB-S2 Table 13; slower here).
    """
    return dvbs2_code(frame, rate).decode(llr, max_iter=max_iter, early_stop=early_stop, algorithm=algorithm,
                                          alpha=alpha, beta=beta, stall_iter=stall_iter, schedule=schedule)
