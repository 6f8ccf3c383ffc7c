"""DVB-S2 bit interleaver (ETSI EN 302 307-1 clause 5.3.3) and its inverse for LLRs.

For 8PSK, 16APSK and 32APSK the LDPC codeword is written column-wise into m columns (m = bits per symbol) of
n_ldpc/m rows and read row-wise; each row is one symbol label, MSB first. 8PSK rate 3/5 reads its columns in
reverse order (third column first). QPSK is not interleaved (consecutive bit pairs form the labels).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def _column_order(constellation: str, rate: str, m: int) -> np.ndarray:
    if constellation.upper() == "8PSK" and rate == "3/5":
        return np.arange(m - 1, -1, -1)
    return np.arange(m)


def bits_per_symbol(constellation: str) -> int:
    table = {"QPSK": 2, "8PSK": 3, "16APSK": 4, "32APSK": 5}
    try:
        return table[constellation.upper()]
    except KeyError:
        raise InputError(f"unknown constellation {constellation!r}") from None


def interleave(codeword: np.ndarray, constellation: str, rate: str) -> np.ndarray:
    """LDPC codeword bits (uint8 0/1, shape (n_ldpc,)) -> symbol labels (uint8, shape (n_ldpc/m,))."""
    bits = np.asarray(codeword, dtype=np.uint8).reshape(-1)
    m = bits_per_symbol(constellation)
    if bits.size % m:
        raise InputError(f"codeword length {bits.size} is not a multiple of {m}")
    weights = (1 << np.arange(m - 1, -1, -1)).astype(np.uint8)
    if constellation.upper() == "QPSK":  # not interleaved: consecutive bit pairs
        return np.einsum("rc,c->r", bits.reshape(-1, m), weights, dtype=np.uint8)
    cols = bits.reshape(m, -1)[_column_order(constellation, rate, m)]  # (m, rows): column c = bits c*rows..
    return np.einsum("cr,c->r", cols, weights, dtype=np.uint8)


def deinterleave_llrs(llrs: np.ndarray, constellation: str, rate: str) -> np.ndarray:
    """Per-symbol LLRs (n_symbols, m) from `constellations.llrs` -> codeword-order LLRs (n_symbols*m,)."""
    llrs = np.asarray(llrs)
    m = bits_per_symbol(constellation)
    if llrs.ndim != 2 or llrs.shape[1] != m:
        raise InputError(f"LLRs must have shape (n_symbols, {m}), not {llrs.shape}")
    if constellation.upper() == "QPSK":
        return np.ascontiguousarray(llrs).reshape(-1)
    inv = np.argsort(_column_order(constellation, rate, m))
    return np.ascontiguousarray(llrs[:, inv].T).reshape(-1)


def deinterleave_bits(labels: np.ndarray, constellation: str, rate: str) -> np.ndarray:
    """Inverse of `interleave` for hard decisions: symbol labels -> codeword bits (uint8)."""
    m = bits_per_symbol(constellation)
    lab = np.asarray(labels, dtype=np.uint8).reshape(-1)
    bits = (lab[:, None] >> np.arange(m - 1, -1, -1)[None, :]) & 1
    if constellation.upper() == "QPSK":
        return bits.reshape(-1).astype(np.uint8)
    inv = np.argsort(_column_order(constellation, rate, m))
    return np.ascontiguousarray(bits[:, inv].T).reshape(-1).astype(np.uint8)
