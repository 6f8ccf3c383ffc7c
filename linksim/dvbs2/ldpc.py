"""LDPC codes: the DVB-S2 inner code (EN 302 307-1 clause 5.3.2, Annexes B and C) and generic alist codes.

Encoder: the standard's parity-bit accumulator (address tables in linksim/data/ldpc/, derived from gr-dtv by
scripts/gen_ldpc_tables.py). Decoder: layered normalized min-sum in numba, early stop on a zero syndrome.

The DVB-S2 decoder uses the code's quasi-cyclic structure: with check c = a + s*q renumbered to layer a, row s
(and the parity bits renumbered the same way), every layer is 360 checks that see whole 360-bit groups through
cyclic shifts, so each layer is processed as contiguous vector loops of length 360. Generic codes (alist files)
go through a row-by-row layered decoder over a sparse parity-check matrix.

LLR convention everywhere: log(P(bit=0)/P(bit=1)), positive means bit 0. Min-sum is scale-free, so LLRs only
need the right sign and relative size (no noise variance needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from numba import njit

from ..errors import InputError
from .params import _BCH_NORMAL, _BCH_SHORT, N_LDPC, NORMAL, SHORT

GROUP = 360  # DVB-S2 parallelism factor M (bits per group, checks per layer)
DEFAULT_ALPHA = 0.75  # normalization factor of normalized min-sum
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


@njit(cache=True, nogil=True, fastmath=True)
def _qc_layered_nms(
    llr: np.ndarray,  # (n,) float32, variables in decoder order
    layer_ptr: np.ndarray,  # (q+1,) blocks of each layer
    blk_base: np.ndarray,  # first variable of the block's 360-group (decoder order)
    blk_shift: np.ndarray,  # check s of the layer sees variable base + (s - shift) mod 360
    blk_skip0: np.ndarray,  # 1: the edge at s = 0 does not exist (the accumulator's first check)
    layer_acc: np.ndarray,  # 1: a variable appears in two blocks of this layer (additive update)
    max_iter: int,
    early_stop: bool,
    alpha: float,
    post: np.ndarray,  # (n,) float32 out: a-posteriori LLRs, decoder order
) -> tuple[int, bool]:
    n = llr.shape[0]
    nblk = blk_base.shape[0]
    nlay = layer_ptr.shape[0] - 1
    dmax = 0
    for a in range(nlay):
        dmax = max(dmax, layer_ptr[a + 1] - layer_ptr[a])
    R = np.zeros((nblk, GROUP), np.float32)
    Q = np.empty((dmax, GROUP), np.float32)
    min1 = np.empty(GROUP, np.float32)
    min2 = np.empty(GROUP, np.float32)
    amin = np.empty(GROUP, np.int32)
    sgn = np.empty(GROUP, np.uint8)
    hard = np.empty(n, np.uint8)
    par = np.empty(GROUP, np.uint8)
    alpha32 = np.float32(alpha)
    for v in range(n):
        post[v] = llr[v]
    it = 0
    ok = False
    while it < max_iter:
        it += 1
        for a in range(nlay):
            b0 = layer_ptr[a]
            d = layer_ptr[a + 1] - b0
            for s in range(GROUP):
                min1[s] = _BIG
                min2[s] = _BIG
                amin[s] = 0
                sgn[s] = 0
            # gather Q = L - R and find the two smallest magnitudes and the sign parity, 360 checks at once
            for j in range(d):
                b = b0 + j
                base = blk_base[b]
                sh = blk_shift[b]
                lo = base + GROUP - sh
                for s in range(sh):
                    Q[j, s] = post[lo + s] - R[b, s]
                lo = base - sh
                for s in range(sh, GROUP):
                    Q[j, s] = post[lo + s] - R[b, s]
                if blk_skip0[b]:
                    Q[j, 0] = _BIG
                for s in range(GROUP):
                    x = Q[j, s]
                    m = abs(x)
                    m1 = min1[s]
                    amin[s] = j if m < m1 else amin[s]
                    min2[s] = min(min2[s], max(m, m1))
                    min1[s] = min(m1, m)
                    sgn[s] ^= np.uint8(x < 0)
            for s in range(GROUP):
                min1[s] *= alpha32
                min2[s] *= alpha32
            # new check-to-variable messages and posteriors
            acc = layer_acc[a]
            for j in range(d):
                b = b0 + j
                base = blk_base[b]
                sh = blk_shift[b]
                for s in range(GROUP):
                    x = Q[j, s]
                    mag = min2[s] if amin[s] == j else min1[s]
                    neg = sgn[s] ^ np.uint8(x < 0)
                    r = -mag if neg else mag
                    Q[j, s] = r - R[b, s] if acc else x + r
                    R[b, s] = r
                s0 = 1 if blk_skip0[b] else 0
                if s0:
                    R[b, 0] = 0.0
                lo = base + GROUP - sh
                if acc:
                    for s in range(s0, sh):
                        post[lo + s] += Q[j, s]
                else:
                    for s in range(s0, sh):
                        post[lo + s] = Q[j, s]
                lo = base - sh
                if acc:
                    for s in range(max(sh, s0), GROUP):
                        post[lo + s] += Q[j, s]
                else:
                    for s in range(max(sh, s0), GROUP):
                        post[lo + s] = Q[j, s]
        if early_stop or it == max_iter:
            ok = _qc_syndrome_ok(post, hard, par, layer_ptr, blk_base, blk_shift, blk_skip0)
            if ok and early_stop:
                break
    return it, ok


@njit(cache=True, nogil=True)
def _qc_syndrome_ok(post, hard, par, layer_ptr, blk_base, blk_shift, blk_skip0) -> bool:
    for v in range(post.shape[0]):
        hard[v] = np.uint8(post[v] < 0)
    for a in range(layer_ptr.shape[0] - 1):
        for s in range(GROUP):
            par[s] = 0
        for b in range(layer_ptr[a], layer_ptr[a + 1]):
            base = blk_base[b]
            sh = blk_shift[b]
            s0 = 1 if blk_skip0[b] else 0
            lo = base + GROUP - sh
            for s in range(s0, sh):
                par[s] ^= hard[lo + s]
            lo = base - sh
            for s in range(max(sh, s0), GROUP):
                par[s] ^= hard[lo + s]
        t = np.uint8(0)
        for s in range(GROUP):
            t |= par[s]
        if t:
            return False
    return True


@njit(cache=True, nogil=True, fastmath=True)
def _row_layered_nms(
    llr: np.ndarray,  # (n,) float32
    row_ptr: np.ndarray,  # (m+1,) CSR of H
    cols: np.ndarray,  # (edges,)
    max_iter: int,
    early_stop: bool,
    alpha: float,
    post: np.ndarray,  # (n,) float32 out
) -> tuple[int, bool]:
    n = llr.shape[0]
    m = row_ptr.shape[0] - 1
    ne = cols.shape[0]
    R = np.zeros(ne, np.float32)
    dmax = 0
    for c in range(m):
        dmax = max(dmax, row_ptr[c + 1] - row_ptr[c])
    Q = np.empty(dmax, np.float32)
    alpha32 = np.float32(alpha)
    for v in range(n):
        post[v] = llr[v]
    it = 0
    ok = False
    while it < max_iter:
        it += 1
        for c in range(m):
            e0 = row_ptr[c]
            d = row_ptr[c + 1] - e0
            min1 = _BIG
            min2 = _BIG
            amin = 0
            sgn = 0
            for j in range(d):
                x = post[cols[e0 + j]] - R[e0 + j]
                Q[j] = x
                mg = abs(x)
                if mg < min1:
                    min2 = min1
                    min1 = mg
                    amin = j
                elif mg < min2:
                    min2 = mg
                sgn ^= x < 0
            min1 *= alpha32
            min2 *= alpha32
            for j in range(d):
                x = Q[j]
                mag = min2 if j == amin else min1
                r = -mag if (sgn ^ (x < 0)) else mag
                R[e0 + j] = r
                post[cols[e0 + j]] = x + r
        if early_stop or it == max_iter:
            ok = True
            for c in range(m):
                p = 0
                for e in range(row_ptr[c], row_ptr[c + 1]):
                    p ^= post[cols[e]] < 0
                if p:
                    ok = False
                    break
            if ok and early_stop:
                break
    return it, ok


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


def _as_bits(bits: np.ndarray, k: int, what: str) -> tuple[np.ndarray, tuple[int, ...]]:
    a = np.asarray(bits)
    if a.ndim == 0 or a.shape[-1] != k:
        raise InputError(f"{what} expects bits with last dimension {k}, got shape {a.shape}")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    if not np.issubdtype(a.dtype, np.integer):
        raise InputError(f"{what} expects integer 0/1 bits, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() > 1):
        raise InputError(f"{what} expects bits valued 0 or 1")
    lead = a.shape[:-1]
    return np.ascontiguousarray(a.reshape(-1, k), dtype=np.uint8), lead


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
        b, lead = _as_bits(bits, self.n, "parity check")
        ok = np.empty(len(b), np.bool_)
        _csr_syndrome_ok(b, self.row_ptr, self.cols, ok)
        return ok.reshape(lead)

    def decode(self, llr: np.ndarray, max_iter: int = 50, early_stop: bool = True,
               alpha: float = DEFAULT_ALPHA) -> LdpcResult:
        """Row-layered normalized min-sum over the sparse matrix. llr (..., n), positive = bit 0."""
        x, lead = _as_llr(llr, self.n)
        max_iter = _check_iter(max_iter)
        bits = np.empty(x.shape, np.uint8)
        its = np.empty(len(x), np.int64)
        ok = np.empty(len(x), np.bool_)
        post = np.empty(self.n, np.float32)
        for f in range(len(x)):
            its[f], ok[f] = _row_layered_nms(x[f], self.row_ptr, self.cols, max_iter, bool(early_stop),
                                             float(alpha), post)
            bits[f] = post < 0
        return LdpcResult(bits.reshape(lead + (self.n,)), its.reshape(lead), ok.reshape(lead))


class AlistCode(LdpcCode):
    """A code read from an alist file (MacKay's format, as used by GNU Radio's gr-fec)."""

    @classmethod
    def from_file(cls, path: str | Path) -> AlistCode:
        p = Path(path)
        try:
            tokens = p.read_text().split()
        except OSError as e:
            raise InputError(f"cannot read alist file {p}: {e.strerror}") from e
        try:
            vals = [int(t) for t in tokens]
            n, m = vals[0], vals[1]
            pos = 4 + n + m  # skip max degrees and the degree lists
            col_deg = vals[4:4 + n]
            rows: list[list[int]] = [[] for _ in range(m)]
            for v in range(n):
                for _ in range(col_deg[v]):
                    c = vals[pos]
                    pos += 1
                    if c > 0:
                        rows[c - 1].append(v)
                # column lists may be zero-padded to the maximum degree
                while pos < len(vals) and vals[pos] == 0:
                    pos += 1
        except (ValueError, IndexError) as e:
            raise InputError(f"{p}: not a valid alist file ({e})") from e
        row_ptr = np.zeros(m + 1, np.int32)
        row_ptr[1:] = np.cumsum([len(r) for r in rows])
        cols = np.array([c for r in rows for c in sorted(r)], np.int32)
        return cls(n, row_ptr, cols, name=p.name)


class DvbS2Code(LdpcCode):
    """The DVB-S2 LDPC code of one frame size and nominal rate; `k` information bits, `n` = 64800 or 16200."""

    def __init__(self, frame: str, rate: str) -> None:
        table = {NORMAL: _BCH_NORMAL, SHORT: _BCH_SHORT}.get(frame)
        if table is None:
            raise InputError(f"frame must be 'normal' or 'short', not {frame!r}")
        if rate not in table:
            raise InputError(f"no DVB-S2 LDPC code for rate {rate!r} with {frame} frames")
        n = N_LDPC[frame]
        k = table[rate][1]
        self.frame, self.rate, self.k = frame, rate, k
        m = n - k
        self.q = q = m // GROUP
        fname = f"data/ldpc/dvbs2_{frame}_{rate.replace('/', '_')}.txt"
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
        self._blk_base = np.array([b[0] for b in flat], np.int32)
        self._blk_shift = np.array([b[1] for b in flat], np.int32)
        self._blk_skip0 = np.array([b[2] for b in flat], np.uint8)
        self._layer_acc = np.array([len({b[0] for b in lay}) < len(lay) for lay in blocks], np.uint8)
        # decoder order: info bits as is, parity bit c = a + s*q at k + a*360 + s
        c = np.arange(m)
        self._perm = np.concatenate([np.arange(k), k + (c % q) * GROUP + c // q]).astype(np.int64)
        # the same code as a plain sparse matrix (check c: info bits, parity c and c-1), for the generic path
        chk_rows: list[list[int]] = [[] for _ in range(m)]
        for g, r in enumerate(rows):
            for bit in range(GROUP):
                for x in r:
                    chk_rows[(x + bit * q) % m].append(g * GROUP + bit)
        for cc in range(m):
            chk_rows[cc].append(k + cc)
            if cc:
                chk_rows[cc].append(k + cc - 1)
        row_ptr = np.zeros(m + 1, np.int32)
        row_ptr[1:] = np.cumsum([len(r) for r in chk_rows])
        cols = np.array([v for r in chk_rows for v in sorted(r)], np.int32)
        super().__init__(n, row_ptr, cols, name=f"DVB-S2 {frame} {rate}")

    def encode(self, bits: np.ndarray) -> np.ndarray:
        """Systematic encoding: bits (..., k) uint8 -> codewords (..., n) uint8 (information bits first)."""
        b, lead = _as_bits(bits, self.k, f"LDPC encoder ({self.name})")
        out = np.empty((len(b), self.n), np.uint8)
        _dvbs2_encode_frames(b, self.addr, self.addr_ptr, self.q, out)
        return out.reshape(lead + (self.n,))

    def decode(self, llr: np.ndarray, max_iter: int = 50, early_stop: bool = True,
               alpha: float = DEFAULT_ALPHA) -> LdpcResult:
        """Layered normalized min-sum on the 360-group structure. llr (..., n), positive = bit 0."""
        x, lead = _as_llr(llr, self.n)
        max_iter = _check_iter(max_iter)
        bits = np.empty(x.shape, np.uint8)
        its = np.empty(len(x), np.int64)
        ok = np.empty(len(x), np.bool_)
        post = np.empty(self.n, np.float32)
        perm = self._perm
        for f in range(len(x)):
            its[f], ok[f] = _qc_layered_nms(
                _to_decoder_order(x[f], perm),
                self._layer_ptr, self._blk_base, self._blk_shift, self._blk_skip0, self._layer_acc,
                max_iter, bool(early_stop), float(alpha), post)
            bits[f] = post[perm] < 0
        return LdpcResult(bits.reshape(lead + (self.n,)), its.reshape(lead), ok.reshape(lead))


def _to_decoder_order(x: np.ndarray, perm: np.ndarray) -> np.ndarray:
    y = np.empty_like(x)
    y[perm] = x
    return y


@lru_cache(maxsize=None)
def dvbs2_code(frame: str, rate: str) -> DvbS2Code:
    """The (cached) DVB-S2 LDPC code for a frame size ('normal' | 'short') and nominal rate ('1/2', ...)."""
    return DvbS2Code(frame, rate)


def ldpc_encode(bits: np.ndarray, frame: str, rate: str) -> np.ndarray:
    """DVB-S2 LDPC encoding: bits uint8 (..., k_ldpc) -> codewords uint8 (..., n_ldpc), systematic first."""
    return dvbs2_code(frame, rate).encode(bits)


def ldpc_decode(llr: np.ndarray, frame: str, rate: str, max_iter: int = 50, early_stop: bool = True,
                alpha: float = DEFAULT_ALPHA) -> LdpcResult:
    """DVB-S2 LDPC decoding of LLRs float (..., n_ldpc) (positive = bit 0), layered normalized min-sum.

    Each frame is decoded at once (frames in one call are decoded one after the other, none waits for others).
    Returns hard decisions of the whole codeword, the iterations used and whether all checks are satisfied.
    """
    return dvbs2_code(frame, rate).decode(llr, max_iter=max_iter, early_stop=early_stop, alpha=alpha)
