"""DVB-S2 physical-layer framing (ETSI EN 302 307-1 clause 5.5): PLHEADER, pilots, PL scrambling, dummy.

A PLFRAME is the 90-symbol PLHEADER (26-symbol SOF + 64-symbol PLS code, pi/2-BPSK, never scrambled)
followed by the XFECFRAME cut in 90-symbol slots, with a 36-symbol pilot block after every 16 slots (pilots
on; none after the last slot), all PL scrambled with Gold code n. Symbols are complex64 with unit energy.

The PLS code is 7 bits: MODCOD (5 bits, 0 = dummy) then TYPE (2 bits: short frame, pilots), value
`pls = (modcod << 2) | type`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import InputError
from .params import PILOT_BLOCK_SYMBOLS, PILOT_PERIOD_SLOTS, PLHEADER_SYMBOLS, SLOT_SYMBOLS, frame_params
from .scrambling import pl_descramble, pl_scramble

SOF = 0x18D2E82
SOF_SYMBOLS = 26
PLSC_SYMBOLS = 64
DUMMY_SLOTS = 36
# Clause 5.5.2.4: the 64-bit sequence XORed onto every PLS codeword.
PLSC_SCRAMBLE = 0x719D83C953422DFA
# Generator rows of the (32, 6) code (clause 5.5.2.4); row 0 is multiplied by the PLS code's first bit. DVB-S2X
# (EN 302 307-2) puts one more row first, for the 8-bit PLS codes' S2X bit (128..255).
_PLSC_G = (0x55555555, 0x33333333, 0x0F0F0F0F, 0x00FF00FF, 0x0000FFFF, 0xFFFFFFFF)
_PLSC_G_S2X = 0x90AC2DDD
_SQ = np.float32(1 / np.sqrt(2))
PILOT_SYMBOL = np.complex64(_SQ + 1j * _SQ)


def pls_code(modcod_number: int, short: bool, pilots: bool) -> int:
    """The 7-bit PLS code of a MODCOD number (0 = dummy, 1..28) and TYPE flags."""
    if not 0 <= modcod_number <= 31:
        raise InputError(f"MODCOD number must be 0..31, not {modcod_number}")
    return (modcod_number << 2) | (2 if short else 0) | (1 if pilots else 0)


def plsc_bits(pls: int) -> np.ndarray:
    """The 64 scrambled PLSC bits (uint8) of a 7-bit PLS code, or of an 8-bit DVB-S2X one (128..255)."""
    if not 0 <= pls <= 255:
        raise InputError(f"PLS code must be 0..255 (0..127 for DVB-S2), not {pls}")
    word = _PLSC_G_S2X if pls & 0x80 else 0
    for i, g in enumerate(_PLSC_G):  # bits 6..1 of the PLS code, MSB first
        if (pls >> (6 - i)) & 1:
            word ^= g
    y = (word >> np.arange(31, -1, -1)) & 1
    out = np.empty(64, dtype=np.uint8)
    out[0::2] = y
    out[1::2] = y ^ (pls & 1)
    scr = (PLSC_SCRAMBLE >> np.arange(63, -1, -1)) & 1
    return (out ^ scr).astype(np.uint8)


def pi2_bpsk(bits: np.ndarray, first_index: int = 0) -> np.ndarray:
    """pi/2-BPSK: bit b at header position k -> (1-2b)(1+j)/sqrt2 for even k, (1-2b)(-1+j)/sqrt2 for odd k."""
    bits = np.asarray(bits, dtype=np.uint8)
    k = first_index + np.arange(bits.size)
    base = np.where(k % 2 == 0, np.complex64(_SQ + 1j * _SQ), np.complex64(-_SQ + 1j * _SQ))
    return ((1 - 2 * bits.astype(np.float32)) * base).astype(np.complex64)


@lru_cache(maxsize=1)
def _sof() -> np.ndarray:
    s = pi2_bpsk(((SOF >> np.arange(SOF_SYMBOLS - 1, -1, -1)) & 1).astype(np.uint8))
    s.setflags(write=False)
    return s


def sof_symbols() -> np.ndarray:
    """The 26 SOF symbols (complex64, read-only)."""
    return _sof()


@lru_cache(maxsize=1)
def _plsc_all() -> np.ndarray:
    c = np.stack([pi2_bpsk(plsc_bits(p), first_index=SOF_SYMBOLS) for p in range(128)])
    c.setflags(write=False)
    return c


def plsc_codewords() -> np.ndarray:
    """All 128 PLSC symbol sequences, shape (128, 64) complex64; row p is PLS code p (PLHEADER symbols
    26..89)."""
    return _plsc_all()


def plheader_symbols(pls: int) -> np.ndarray:
    """The 90 PLHEADER symbols (complex64) for a 7-bit PLS code."""
    return np.concatenate([sof_symbols(), plsc_codewords()[pls]])


def pilot_symbols() -> np.ndarray:
    """One unscrambled pilot block: 36 symbols (1+j)/sqrt2 (complex64)."""
    return np.full(PILOT_BLOCK_SYMBOLS, PILOT_SYMBOL, dtype=np.complex64)


def payload_length(data_symbols: int, pilots: bool) -> int:
    """Symbols after the PLHEADER: data plus pilot blocks."""
    slots = data_symbols // SLOT_SYMBOLS
    blocks = (slots - 1) // PILOT_PERIOD_SLOTS if pilots else 0
    return data_symbols + blocks * PILOT_BLOCK_SYMBOLS


def pilot_mask(data_symbols: int, pilots: bool) -> np.ndarray:
    """Boolean mask over the payload (after the PLHEADER): True where a pilot symbol sits."""
    n = payload_length(data_symbols, pilots)
    mask = np.zeros(n, dtype=bool)
    if pilots:
        period = PILOT_PERIOD_SLOTS * SLOT_SYMBOLS + PILOT_BLOCK_SYMBOLS
        for start in range(PILOT_PERIOD_SLOTS * SLOT_SYMBOLS, n, period):
            mask[start : start + PILOT_BLOCK_SYMBOLS] = True
    return mask


def insert_pilots(data: np.ndarray, pilots: bool) -> np.ndarray:
    """XFECFRAME symbols -> payload with pilot blocks inserted (unscrambled)."""
    data = np.asarray(data, dtype=np.complex64)
    if not pilots:
        return data
    mask = pilot_mask(data.size, True)
    out = np.empty(mask.size, dtype=np.complex64)
    out[mask] = PILOT_SYMBOL
    out[~mask] = data
    return out


def remove_pilots(payload: np.ndarray, data_symbols: int, pilots: bool) -> np.ndarray:
    """Inverse of `insert_pilots`: the data symbols of a (descrambled) payload."""
    payload = np.asarray(payload)
    if not pilots:
        return payload[:data_symbols]
    return payload[~pilot_mask(data_symbols, True)]


def descramble(payload: np.ndarray, gold_code: int) -> np.ndarray:
    """Undo the PL scrambling of the symbols after a PLHEADER (payload[0] is the first symbol after it)."""
    return pl_descramble(payload, gold_code)


def plframe(xfec: np.ndarray, modcod: str, frame: str, pilots: bool, gold_code: int = 0) -> np.ndarray:
    """XFECFRAME symbols (complex, n_ldpc/m) of `modcod` -> the whole PLFRAME (complex64)."""
    p = frame_params(modcod, frame, pilots)
    xfec = np.asarray(xfec, dtype=np.complex64).reshape(-1)
    if xfec.size != p.data_symbols:
        raise InputError(f"{modcod} {frame} needs {p.data_symbols} XFECFRAME symbols, got {xfec.size}")
    out = np.empty(p.plframe_symbols, dtype=np.complex64)
    out[:PLHEADER_SYMBOLS] = plheader_symbols(pls_code(p.modcod_number, frame == "short", pilots))
    out[PLHEADER_SYMBOLS:] = pl_scramble(insert_pilots(xfec, pilots), gold_code)
    return out


def dummy_plframe(gold_code: int = 0) -> np.ndarray:
    """DUMMY PLFRAME: MODCOD 0, TYPE 00, 36 slots of unmodulated (1+j)/sqrt2, scrambled."""
    out = np.empty(PLHEADER_SYMBOLS + DUMMY_SLOTS * SLOT_SYMBOLS, dtype=np.complex64)
    out[:PLHEADER_SYMBOLS] = plheader_symbols(pls_code(0, False, False))
    body = np.full(DUMMY_SLOTS * SLOT_SYMBOLS, PILOT_SYMBOL, dtype=np.complex64)
    out[PLHEADER_SYMBOLS:] = pl_scramble(body, gold_code)
    return out


def plframe_length(pls: int) -> int:
    """PLFRAME length in symbols from a 7-bit PLS code (receiver use). Raises InputError on reserved codes."""
    modcod_number, short, pilots = pls >> 2, bool(pls & 2), bool(pls & 1)
    if modcod_number == 0:
        return PLHEADER_SYMBOLS + DUMMY_SLOTS * SLOT_SYMBOLS
    from .params import MODCOD_NAMES

    if modcod_number not in MODCOD_NAMES:
        raise InputError(f"PLS code {pls} has reserved MODCOD {modcod_number}")
    return frame_params(MODCOD_NAMES[modcod_number], "short" if short else "normal", pilots).plframe_symbols
