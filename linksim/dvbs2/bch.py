"""DVB-S2 BCH outer code (EN 302 307-1 clause 5.3.1): systematic encoder and Berlekamp-Massey + Chien decoder.

The generator polynomial is the product of the first t polynomials of Table 6a (normal frames, GF(2^16)) or
Table 6b (short frames, GF(2^14)), or for the DVB-S2X medium (32400) frames of the VL-SNR codes the GF(2^15)
polynomials of EN 302 307-2 (as gr-dtv's `dvb_bch_bb` holds them); g1 is the field's primitive polynomial.
Bit order as in the standard: the first bit of a block is the coefficient of the highest power of x, and the
parity bits follow the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numba import njit

from ..errors import InputError
from .bits import as_bit_rows
from .params import MEDIUM, NORMAL, SHORT, bch_params

# Table 6a (normal FECFRAME) and Table 6b (short FECFRAME): g1..g12, each as the powers of x with coefficient 1.
_G_NORMAL_EXPONENTS = (
    (0, 2, 3, 5, 16),
    (0, 1, 4, 5, 6, 8, 16),
    (0, 2, 3, 4, 5, 7, 8, 9, 10, 11, 16),
    (0, 2, 4, 6, 9, 11, 12, 14, 16),
    (0, 1, 2, 3, 5, 8, 9, 10, 11, 12, 16),
    (0, 2, 4, 5, 7, 8, 9, 10, 12, 13, 14, 15, 16),
    (0, 2, 5, 6, 8, 9, 10, 11, 13, 15, 16),
    (0, 1, 2, 5, 6, 8, 9, 12, 13, 14, 16),
    (0, 5, 7, 9, 10, 11, 16),
    (0, 1, 2, 5, 7, 8, 10, 12, 13, 14, 16),
    (0, 2, 3, 5, 9, 11, 12, 13, 16),
    (0, 1, 5, 6, 7, 9, 11, 12, 16),
)
_G_SHORT_EXPONENTS = (
    (0, 1, 3, 5, 14),
    (0, 6, 8, 11, 14),
    (0, 1, 2, 6, 9, 10, 14),
    (0, 4, 7, 8, 10, 12, 14),
    (0, 2, 4, 6, 8, 9, 11, 13, 14),
    (0, 3, 7, 8, 9, 13, 14),
    (0, 2, 5, 6, 7, 10, 11, 13, 14),
    (0, 5, 8, 9, 10, 11, 14),
    (0, 1, 2, 3, 9, 10, 14),
    (0, 3, 6, 9, 11, 12, 14),
    (0, 4, 11, 12, 14),
    (0, 1, 2, 3, 5, 6, 7, 8, 10, 13, 14),
)

# DVB-S2X medium FECFRAME (EN 302 307-2, VL-SNR BPSK codes): g1..g12 over GF(2^15), from gr-dtv's polym01..12.
_G_MEDIUM_EXPONENTS = (
    (0, 2, 3, 5, 15),
    (0, 1, 4, 7, 10, 11, 15),
    (0, 2, 4, 6, 8, 10, 12, 13, 15),
    (0, 2, 3, 5, 6, 8, 10, 11, 15),
    (0, 1, 2, 4, 6, 7, 10, 12, 15),
    (0, 4, 6, 7, 12, 13, 15),
    (0, 2, 4, 5, 7, 11, 12, 14, 15),
    (0, 2, 4, 6, 8, 9, 11, 14, 15),
    (0, 1, 2, 4, 5, 7, 9, 11, 12, 13, 15),
    (0, 1, 2, 3, 4, 7, 10, 11, 12, 13, 15),
    (0, 1, 2, 4, 9, 11, 15),
    (0, 2, 4, 8, 10, 11, 13, 14, 15),
)
_GF_BITS = {NORMAL: 16, MEDIUM: 15, SHORT: 14}


@dataclass(frozen=True)
class BchResult:
    """Decoder output: `bits` the message (..., k_bch) uint8 (uncorrected where ok is False); `corrected` the
    number of bit errors corrected per block; `ok` False where the block had more errors than it could correct
    (detected)."""

    bits: np.ndarray
    corrected: np.ndarray
    ok: np.ndarray


def _poly_from_exponents(exps: tuple[int, ...]) -> int:
    return sum(1 << e for e in exps)


def _clmul(a: int, b: int) -> int:
    """Product of two GF(2) polynomials held as integers (bit i = coefficient of x^i)."""
    out = 0
    while b:
        if b & 1:
            out ^= a
        a <<= 1
        b >>= 1
    return out


def table_polynomials(frame: str) -> tuple[int, ...]:
    """g1..g12 of Table 6a (normal), 6b (short) or the medium-frame table, as integers (bit i = coefficient of
    x^i)."""
    exps = {NORMAL: _G_NORMAL_EXPONENTS, MEDIUM: _G_MEDIUM_EXPONENTS}.get(frame, _G_SHORT_EXPONENTS)
    return tuple(_poly_from_exponents(e) for e in exps)


# ------------------------------------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _lfsr_bytes(data: np.ndarray, nbits: int, table: np.ndarray, gw: np.ndarray, reg: np.ndarray,
                bitwise: bool = False) -> None:
    """reg (W uint64, left-aligned) <- (data(x) * x^P) mod g for the first nbits of the MSB-first bytes `data`
    (byte-wise with `table`, or bit by bit when `bitwise`: how the table itself is built)."""
    W = reg.shape[0]
    for w in range(W):
        reg[w] = 0
    nfull = 0 if bitwise else nbits // 8
    for i in range(nfull):
        top = (reg[0] >> np.uint64(56)) ^ np.uint64(data[i])
        for w in range(W - 1):
            reg[w] = (reg[w] << np.uint64(8)) | (reg[w + 1] >> np.uint64(56))
        reg[W - 1] = reg[W - 1] << np.uint64(8)
        for w in range(W):
            reg[w] ^= table[top, w]
    for b in range(nbits - 8 * nfull):
        bit = (np.uint64(data[nfull + b // 8]) >> np.uint64(7 - b % 8)) & np.uint64(1)
        fb = (reg[0] >> np.uint64(63)) ^ bit
        for w in range(W - 1):
            reg[w] = (reg[w] << np.uint64(1)) | (reg[w + 1] >> np.uint64(63))
        reg[W - 1] = reg[W - 1] << np.uint64(1)
        if fb:
            for w in range(W):
                reg[w] ^= gw[w]


@njit(cache=True, nogil=True)
def _reg_bits(reg: np.ndarray, nparity: int, out: np.ndarray) -> None:
    """The register's nparity bits, highest power first (the transmission order of the parity bits)."""
    for i in range(nparity):
        out[i] = (reg[i // 64] >> np.uint64(63 - (i % 64))) & np.uint64(1)


@njit(cache=True, nogil=True)
def _bch_encode_frames(msg_bytes, k, table, gw, nparity, out) -> None:
    W = gw.shape[0]
    reg = np.zeros(W, np.uint64)
    par = np.zeros(nparity, np.uint8)
    for f in range(msg_bytes.shape[0]):
        _lfsr_bytes(msg_bytes[f], k, table, gw, reg)
        _reg_bits(reg, nparity, par)
        for i in range(nparity):
            out[f, k + i] = par[i]


@njit(cache=True, nogil=True)
def _gf_mul(a: int, b: int, exp: np.ndarray, log: np.ndarray, nn: int) -> int:
    if a == 0 or b == 0:
        return 0
    s = log[a] + log[b]
    if s >= nn:
        s -= nn
    return exp[s]


@njit(cache=True, nogil=True)
def _bch_decode_frames(cw_bytes, bits, n, k, t, table, gw, nparity, exp, log, nn, out, corrected, ok) -> None:
    """Per block: remainder r(x) mod g(x); if non-zero, syndromes, Berlekamp-Massey, Chien search, correction."""
    W = gw.shape[0]
    reg = np.zeros(W, np.uint64)
    rem = np.zeros(nparity, np.uint8)
    S = np.zeros(2 * t + 1, np.int64)
    lam = np.zeros(2 * t + 2, np.int64)
    B = np.zeros(2 * t + 2, np.int64)
    T = np.zeros(2 * t + 2, np.int64)
    lam_log = np.zeros(2 * t + 2, np.int64)
    step = np.zeros(2 * t + 2, np.int64)
    pos = np.zeros(t + 1, np.int64)
    for f in range(cw_bytes.shape[0]):
        for i in range(k):
            out[f, i] = bits[f, i]
        corrected[f] = 0
        ok[f] = True
        # r(x) mod g = (message part * x^P mod g) + received parity
        _lfsr_bytes(cw_bytes[f], k, table, gw, reg)
        _reg_bits(reg, nparity, rem)
        nz = False
        for i in range(nparity):
            rem[i] ^= bits[f, k + i]
            if rem[i]:
                nz = True
        if not nz:
            continue
        # syndromes S_j = rem(alpha^j), j = 1..2t; rem[i] is the coefficient of x^(nparity-1-i)
        for j in range(1, 2 * t + 1):
            s = 0
            for i in range(nparity):
                if rem[i]:
                    e = (j * (nparity - 1 - i)) % nn
                    s ^= exp[e]
            S[j] = s
        # Berlekamp-Massey over GF(2^m)
        for i in range(2 * t + 2):
            lam[i] = 0
            B[i] = 0
        lam[0] = 1
        B[0] = 1
        L = 0
        mshift = 1
        b = 1
        for r in range(1, 2 * t + 1):
            d = S[r]
            for i in range(1, L + 1):
                d ^= _gf_mul(lam[i], S[r - i], exp, log, nn)
            if d == 0:
                mshift += 1
                continue
            coef = _gf_mul(d, exp[(nn - log[b]) % nn], exp, log, nn)
            if 2 * L <= r - 1:
                for i in range(2 * t + 2):
                    T[i] = lam[i]
                for i in range(mshift, 2 * t + 2):
                    lam[i] ^= _gf_mul(coef, B[i - mshift], exp, log, nn)
                L = r - L
                for i in range(2 * t + 2):
                    B[i] = T[i]
                b = d
                mshift = 1
            else:
                for i in range(mshift, 2 * t + 2):
                    lam[i] ^= _gf_mul(coef, B[i - mshift], exp, log, nn)
                mshift += 1
        deg = 0
        for i in range(2 * t + 2):
            if lam[i]:
                deg = i
        if L > t or deg != L:
            ok[f] = False
            continue
        # Chien search over the shortened code: an error at x^e has locator alpha^e, Lambda(alpha^-e) = 0.
        # term i at position e is alpha^(log(lambda_i) - e*i): keep its exponent and step it down by i.
        nt = 0
        for i in range(1, L + 1):
            if lam[i]:
                lam_log[nt] = log[lam[i]]
                step[nt] = i
                nt += 1
        found = 0
        for e in range(n):
            v = lam[0]
            for i in range(nt):
                x = lam_log[i]
                v ^= exp[x]
                x -= step[i]
                if x < 0:
                    x += nn
                lam_log[i] = x
            if v == 0:
                if found < t + 1:
                    pos[found] = n - 1 - e
                found += 1
                if found == L:
                    break
        if found != L:
            ok[f] = False
            continue
        for i in range(found):
            p = pos[i]
            if p < k:
                out[f, p] ^= 1
        corrected[f] = found


# ------------------------------------------------------------------------------------------------------- code


class BchCode:
    """The DVB-S2 BCH code for one frame size and nominal rate: k_bch message bits, n_bch = k_ldpc, t errors
    (or a DVB-S2X VL-SNR BCH code, `params.BCH_VLSNR`)."""

    def __init__(self, frame: str, rate: str) -> None:
        if frame not in _GF_BITS:
            raise InputError(f"frame must be 'normal', 'medium' or 'short', not {frame!r}")
        self.frame, self.rate = frame, rate
        self.k, self.n, self.t = bch_params(frame, rate)
        self.m = _GF_BITS[frame]  # GF(2^m)
        polys = table_polynomials(frame)
        g = 1
        for p in polys[: self.t]:
            g = _clmul(g, p)
        self.generator = g  # bit i = coefficient of x^i
        self.nparity = g.bit_length() - 1
        if self.nparity != self.n - self.k:
            raise InputError(f"BCH {frame} {rate}: generator degree {self.nparity} != n - k = {self.n - self.k}")
        W = (self.nparity + 63) // 64
        glow = (g ^ (1 << self.nparity)) << (64 * W - self.nparity)  # left-aligned in W words
        self._gw = np.array([(glow >> (64 * (W - 1 - w))) & (2**64 - 1) for w in range(W)], np.uint64)
        self._table = np.zeros((256, W), np.uint64)
        reg = np.zeros(W, np.uint64)
        for v in range(256):
            _lfsr_bytes(np.array([v], np.uint8), 8, self._table, self._gw, reg, True)
            self._table[v] = reg
        # GF(2^m) tables from the primitive polynomial g1
        nn = (1 << self.m) - 1
        exp = np.zeros(2 * nn, np.int64)
        log = np.zeros(nn + 1, np.int64)
        x = 1
        prim = polys[0]
        for i in range(nn):
            exp[i] = x
            log[x] = i
            x <<= 1
            if x >> self.m:
                x ^= prim
        exp[nn:] = exp[:nn]
        self._exp, self._log, self._nn = exp, log, nn

    def encode(self, bits: np.ndarray) -> np.ndarray:
        """bits uint8 (..., k_bch) -> codewords uint8 (..., n_bch): the message then the n-k parity bits."""
        b, lead = as_bit_rows(bits, self.k, f"BCH encoder ({self.frame} {self.rate})")
        out = np.empty((len(b), self.n), np.uint8)
        out[:, : self.k] = b
        _bch_encode_frames(np.packbits(b, axis=1), self.k, self._table, self._gw, self.nparity, out)
        return out.reshape(lead + (self.n,))

    def decode(self, bits: np.ndarray) -> BchResult:
        """Hard-decision decoding of (..., n_bch) bits; corrects up to t errors and flags blocks it cannot."""
        b, lead = as_bit_rows(bits, self.n, f"BCH decoder ({self.frame} {self.rate})")
        out = np.empty((len(b), self.k), np.uint8)
        corrected = np.zeros(len(b), np.int64)
        ok = np.zeros(len(b), np.bool_)
        _bch_decode_frames(np.packbits(b, axis=1), b, self.n, self.k, self.t, self._table, self._gw,
                           self.nparity, self._exp, self._log, self._nn, out, corrected, ok)
        return BchResult(out.reshape(lead + (self.k,)), corrected.reshape(lead), ok.reshape(lead))


@cache
def bch_code(frame: str, rate: str) -> BchCode:
    """The (cached) DVB-S2 BCH code for a frame size ('normal' | 'short') and nominal rate."""
    return BchCode(frame, rate)


def bch_encode(bits: np.ndarray, frame: str, rate: str) -> np.ndarray:
    """DVB-S2 BCH encoding: bits uint8 (..., k_bch) -> (..., n_bch), message first."""
    return bch_code(frame, rate).encode(bits)


def bch_decode(bits: np.ndarray, frame: str, rate: str) -> BchResult:
    """DVB-S2 BCH decoding of hard bits (..., n_bch): Berlekamp-Massey and Chien search, up to t errors."""
    return bch_code(frame, rate).decode(bits)
