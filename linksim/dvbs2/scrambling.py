"""DVB-S2 scrambling sequences (ETSI EN 302 307-1).

- Base-band scrambler (clause 5.2.2): PRBS 1 + X^14 + X^15, register loaded with 100101010000000 at the
  start of every BBFRAME, XORed with the whole BBFRAME (header included).
- Physical-layer scrambler (clause 5.5.4): complex sequence j^R_n(i) built from a Gold sequence (two
  m-sequences of degree 18); `n` is the Gold code number 0 .. 2^18 - 2. It multiplies every PLFRAME
  symbol after the PLHEADER.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import InputError

GOLD_PERIOD = (1 << 18) - 1  # 262143
MAX_GOLD_CODE = GOLD_PERIOD - 1
# Longest PL-scrambled part of any PLFRAME: QPSK normal with pilots: 32400 data + 22 pilot blocks of 36
# symbols.
MAX_SCRAMBLED_SYMBOLS = 32400 + 22 * 36


@lru_cache(maxsize=1)
def _bb_prbs() -> np.ndarray:
    """The BB scrambling PRBS, 64800 bits (longest K_bch is shorter)."""
    out = np.empty(64800, dtype=np.uint8)
    # Register cells 1..15 stored as bits 14..0; initial sequence 100101010000000.
    sr = 0b100101010000000
    for i in range(out.size):
        b = (sr ^ (sr >> 1)) & 1  # cells 14 and 15
        out[i] = b
        sr = (sr >> 1) | (b << 14)
    out.setflags(write=False)
    return out


def bb_prbs(n_bits: int) -> np.ndarray:
    """First `n_bits` of the BB scrambling sequence (uint8 0/1, read-only view)."""
    if not 0 <= n_bits <= 64800:
        raise InputError(f"BB scrambler length must be 0..64800 bits, not {n_bits}")
    return _bb_prbs()[:n_bits]


def bb_scramble(bits: np.ndarray) -> np.ndarray:
    """Scramble (or descramble: the operation is its own inverse) BBFRAME bits along the last axis."""
    bits = np.asarray(bits, dtype=np.uint8)
    return bits ^ bb_prbs(bits.shape[-1])


def _m_sequence(taps: tuple[int, ...], init: np.ndarray, length: int) -> np.ndarray:
    """m-sequence s(i+18) = XOR of s(i+t), t in taps (0 included), first `length` terms."""
    s = np.zeros(length + 18 + 32, dtype=np.uint8)
    s[:18] = init
    step = 18 - max(taps)  # every term in a block of `step` depends only on already computed terms
    i = 0
    while i < length:
        acc = s[i : i + step].copy()
        for t in taps:
            if t:
                acc ^= s[i + t : i + t + step]
        s[i + 18 : i + 18 + step] = acc
        i += step
    return s[:length]


@lru_cache(maxsize=1)
def _gold_x() -> np.ndarray:
    init = np.zeros(18, dtype=np.uint8)
    init[0] = 1
    x = _m_sequence((0, 7), init, GOLD_PERIOD)
    x.setflags(write=False)
    return x


@lru_cache(maxsize=1)
def _gold_y() -> np.ndarray:
    y = _m_sequence((0, 5, 7, 10), np.ones(18, dtype=np.uint8), GOLD_PERIOD)
    y.setflags(write=False)
    return y


@lru_cache(maxsize=16)
def _pl_r(gold_code: int) -> np.ndarray:
    x = _gold_x()
    y = _gold_y()
    idx = np.arange(GOLD_PERIOD)
    z = x[(idx + gold_code) % GOLD_PERIOD] ^ y  # z_n(i) for the whole period
    i = np.arange(MAX_SCRAMBLED_SYMBOLS)
    r = 2 * z[(i + 131072) % GOLD_PERIOD].astype(np.uint8) + z[i]
    r.setflags(write=False)
    return r


def pl_scrambling_indices(gold_code: int, length: int) -> np.ndarray:
    """R_n(i) in {0,1,2,3} for i = 0 .. length-1 (the PLFRAME symbol after the PLHEADER is i = 0)."""
    gold_code = int(gold_code)
    if not 0 <= gold_code <= MAX_GOLD_CODE:
        raise InputError(f"Gold code must be 0..{MAX_GOLD_CODE}, not {gold_code}")
    if not 0 <= length <= MAX_SCRAMBLED_SYMBOLS:
        raise InputError(f"PL scrambling length must be 0..{MAX_SCRAMBLED_SYMBOLS} symbols, not {length}")
    return _pl_r(gold_code)[:length]


@lru_cache(maxsize=16)
def _pl_seq(gold_code: int) -> np.ndarray:
    rot = np.array([1, 1j, -1, -1j], dtype=np.complex64)
    s = rot[pl_scrambling_indices(gold_code, MAX_SCRAMBLED_SYMBOLS)]
    s.setflags(write=False)
    return s


def pl_scrambling_sequence(gold_code: int, length: int) -> np.ndarray:
    """PL scrambling factors j^R_n(i) (complex64, unit magnitude) for the first `length` symbols."""
    pl_scrambling_indices(gold_code, length)  # validates
    return _pl_seq(int(gold_code))[:length]


def pl_scramble(symbols: np.ndarray, gold_code: int) -> np.ndarray:
    """Scramble the part of a PLFRAME after its PLHEADER (complex64)."""
    symbols = np.asarray(symbols)
    return (symbols * pl_scrambling_sequence(gold_code, symbols.shape[-1])).astype(np.complex64, copy=False)


def pl_descramble(symbols: np.ndarray, gold_code: int) -> np.ndarray:
    """Undo `pl_scramble` (multiply by the conjugate sequence)."""
    symbols = np.asarray(symbols)
    seq = pl_scrambling_sequence(gold_code, symbols.shape[-1])
    return (symbols * np.conj(seq)).astype(np.complex64, copy=False)
