"""DVB-S2X VL-SNR framing and coding (ETSI EN 302 307-2), transmitter side and the frame layout the receiver shares.

A VL-SNR PLFRAME (set 1: 33282 symbols, set 2: 16686) is:
- the PLHEADER (90): SOF, then the PLSC of the 8-bit PLS code 129 (set 1) or 131 (set 2): the (64, 8) code (the
  DVB-S2 (64, 7) code with one more generator row for the S2X bit), scrambled as in DVB-S2 and pi/2-BPSK modulated
  turned by 90 degrees (the S2X PLS codes);
- the VL-SNR header (900): 2 zero bits, the header's 896-bit sequence (one of 16; the index names the MODCOD), 2
  zero bits, pi/2-BPSK, not scrambled. The 16 sequences share one 896-bit sequence and differ by one sign per
  56-bit block (a length-16 orthogonal code): `header_structure`;
- the data, in 90-symbol slots counted with the header's 10 slots: a 36-symbol pilot block after every 16 slots
  (none after the last), and an extra pilot block in the middle of each 16-slot group after the first (set 1: 34
  symbols in groups 1..18, 36 in groups 19..21; set 2: 32 symbols in groups 1..9, 36 in group 10), so that the
  pilots come about every 740 symbols.
The PL scrambling index i counts from the first symbol after the PLHEADER (the VL-SNR header takes i = 0..899 and
is not scrambled); pilots and QPSK data are multiplied by j^R(i), pi/2-BPSK data by (-1)^R(i) (the sign alone, so
that the constellation stays pi/2-BPSK).

Coding: BBFRAME (K_bch bits) -> BCH -> LDPC mother code (with X_s zero information bits first, not sent) -> every
P-th parity bit punctured X_p times -> the N_bch information bits and the remaining parity bits, in order. QPSK
maps bit pairs as DVB-S2 (no interleaver); pi/2-BPSK maps each bit to (1 - 2b)(1 + j)/sqrt2 at even symbol
positions and (1 - 2b)(-1 + j)/sqrt2 at odd ones; pi/2-BPSK-S sends each bit twice (spreading factor 2).

All of it follows gr-dtv 3.10 (`dvbs2_physical_cc`, `dvb_ldpc_bb`, `dvb_bch_bb`, `dvbs2_interleaver_bb`,
`dvbs2_modulator_bc`), whose author checked it against the DVB-S2X test vectors; tests compare whole frames with
stock gr-dtv bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import InputError
from .params import (
    PILOT_BLOCK_SYMBOLS,
    PILOT_PERIOD_SLOTS,
    PLHEADER_SYMBOLS,
    SLOT_SYMBOLS,
    VLSNR_CODES,
    VLSNR_HEADER_SYMBOLS,
    VLSNR_PLFRAME_SYMBOLS,
    VLSNR_PLS,
    FrameParams,
)
from .plframe import PILOT_SYMBOL, SOF_SYMBOLS, pi2_bpsk, plsc_bits, sof_symbols
from .scrambling import pl_scrambling_indices

HEADER_BLOCK_BITS = 56  # the 16 VL-SNR headers differ by one sign per 56-bit block
HEADER_BLOCKS = 16
KNOWN_HEAD_SYMBOLS = PLHEADER_SYMBOLS + VLSNR_HEADER_SYMBOLS  # 990
# extra pilot blocks (length per 16-slot group g >= 1, centred in the group's 1440 symbols)
_EXTRA_PILOTS = {1: [34] * 18 + [36] * 3, 2: [32] * 9 + [36]}
_SQ = np.float32(1 / np.sqrt(2))
# gr-dtv's names of the VL-SNR MODCODs: (frame size, code rate, constellation) of its DVB-S2X blocks
GRDTV_NAMES = {
    "QPSK 2/9": ("FECFRAME_NORMAL", "C2_9_VLSNR", "MOD_QPSK"),
    "BPSK 1/5": ("FECFRAME_MEDIUM", "C1_5_MEDIUM", "MOD_BPSK"),
    "BPSK 11/45": ("FECFRAME_MEDIUM", "C11_45_MEDIUM", "MOD_BPSK"),
    "BPSK 1/3": ("FECFRAME_MEDIUM", "C1_3_MEDIUM", "MOD_BPSK"),
    "BPSK-S 1/5": ("FECFRAME_SHORT", "C1_5_VLSNR_SF2", "MOD_BPSK_SF2"),
    "BPSK-S 11/45": ("FECFRAME_SHORT", "C11_45_VLSNR_SF2", "MOD_BPSK_SF2"),
    "BPSK 1/5 short": ("FECFRAME_SHORT", "C1_5_VLSNR", "MOD_BPSK"),
    "BPSK 4/15 short": ("FECFRAME_SHORT", "C4_15_VLSNR", "MOD_BPSK"),
    "BPSK 1/3 short": ("FECFRAME_SHORT", "C1_3_VLSNR", "MOD_BPSK"),
}
__all__ = ["GRDTV_NAMES", "VLSNR_CODES", "VLSNR_HEADER_SYMBOLS", "VLSNR_PLS", "data_llrs", "frame_reference",
           "header_sequences", "header_structure", "layout", "map_data", "mother_llrs", "plheader_s2x", "scrambling",
           "vlsnr_encode", "vlsnr_frame", "vlsnr_header_symbols"]


@lru_cache(maxsize=8)
def plheader_s2x(pls: int) -> np.ndarray:
    """The 90 PLHEADER symbols of an 8-bit PLS code (complex64, read-only): SOF, then the PLSC in pi/2-BPSK,
    turned by 90 degrees (times j) when the S2X bit (MSB) is set."""
    plsc = pi2_bpsk(plsc_bits(pls), first_index=SOF_SYMBOLS)
    if pls & 0x80:
        plsc = (plsc * np.complex64(1j)).astype(np.complex64)
    out = np.concatenate([sof_symbols(), plsc]).astype(np.complex64)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=1)
def header_sequences() -> np.ndarray:
    """The 16 VL-SNR header sequences, (16, 896) uint8 (data/dvbs2x_vlsnr_headers.txt)."""
    text = resources.files("linksim").joinpath("data/dvbs2x_vlsnr_headers.txt").read_text()
    rows = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    seq = np.array([[(int(h, 16) >> (3 - b)) & 1 for h in r for b in range(4)] for r in rows], dtype=np.uint8)
    seq.setflags(write=False)
    return seq


@lru_cache(maxsize=1)
def header_structure() -> tuple[np.ndarray, np.ndarray]:
    """(common, chips): the 896-bit sequence all headers share (header 0's) and, per header index, the 16 block
    signs (+1/-1) that turn it into that header: bit k of header h is common[k] xor (chips[h, k // 56] < 0)."""
    seq = header_sequences().astype(np.int8)
    common = seq[0].astype(np.uint8)
    diff = (seq ^ seq[0]).reshape(16, HEADER_BLOCKS, HEADER_BLOCK_BITS)
    if np.any(diff != diff[:, :, :1]):
        raise InputError("VL-SNR header table: headers do not differ by whole 56-bit blocks")
    chips = (1 - 2 * diff[:, :, 0]).astype(np.float32)
    common.setflags(write=False)
    chips.setflags(write=False)
    return common, chips


@lru_cache(maxsize=16)
def vlsnr_header_symbols(index: int) -> np.ndarray:
    """The 900 VL-SNR header symbols of header index 0..15 (complex64, read-only)."""
    if not 0 <= index < 16:
        raise InputError(f"VL-SNR header index must be 0..15, not {index}")
    bits = np.zeros(VLSNR_HEADER_SYMBOLS, dtype=np.uint8)
    bits[2:898] = header_sequences()[index]
    out = pi2_bpsk(bits)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class VlsnrLayout:
    """Where everything sits in a VL-SNR PLFRAME of one set (positions count from the PLHEADER's first symbol).

    data: positions of the data symbols, in order; pilots: positions of the pilot symbols (regular and extra);
    known_starts/known_lens: the known-symbol blocks (PLHEADER + VL-SNR header first, then each pilot block);
    scr: per-position complex scrambling factor (1 on the two headers); bpsk_sign: per-position sign (-1)^R(i);
    pi2: per-position pi/2-BPSK base point ((1+j)/sqrt2 at even positions, (-1+j)/sqrt2 at odd ones)."""

    set: int
    length: int
    data: np.ndarray
    pilots: np.ndarray
    known_starts: tuple[int, ...]
    known_lens: tuple[int, ...]


@lru_cache(maxsize=2)
def layout(vlsnr_set: int) -> VlsnrLayout:
    """The frame layout of VL-SNR set 1 or 2."""
    if vlsnr_set not in VLSNR_PLFRAME_SYMBOLS:
        raise InputError(f"VL-SNR set must be 1 or 2, not {vlsnr_set}")
    length = VLSNR_PLFRAME_SYMBOLS[vlsnr_set]
    slots = (length - PLHEADER_SYMBOLS) // SLOT_SYMBOLS
    slots -= (slots - 1) // PILOT_PERIOD_SLOTS * PILOT_BLOCK_SYMBOLS // SLOT_SYMBOLS  # 22 or 11 blocks of 36
    kind = np.zeros(length, dtype=np.int8)  # 0 data, 1 header, 2 pilot
    kind[:KNOWN_HEAD_SYMBOLS] = 1
    extra = _EXTRA_PILOTS[vlsnr_set]
    pos = PLHEADER_SYMBOLS
    period = PILOT_PERIOD_SLOTS * SLOT_SYMBOLS
    for g in range(-(-slots // PILOT_PERIOD_SLOTS)):
        n = min(PILOT_PERIOD_SLOTS, slots - g * PILOT_PERIOD_SLOTS) * SLOT_SYMBOLS
        if 1 <= g <= len(extra):
            off = (period - extra[g - 1]) // 2
            kind[pos + off : pos + off + extra[g - 1]] = 2
        pos += n
        if pos < length:  # a regular pilot block after every full group but the last
            kind[pos : pos + PILOT_BLOCK_SYMBOLS] = 2
            pos += PILOT_BLOCK_SYMBOLS
    if pos != length:
        raise InputError(f"VL-SNR layout of set {vlsnr_set} does not add up ({pos} != {length})")
    known = kind > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], known.astype(np.int8), [0]])))
    starts, ends = edges[0::2], edges[1::2]
    data = np.flatnonzero(kind == 0)
    pilots = np.flatnonzero(kind == 2)
    data.setflags(write=False)
    pilots.setflags(write=False)
    return VlsnrLayout(vlsnr_set, length, data, pilots, tuple(int(x) for x in starts),
                       tuple(int(x) for x in ends - starts))


@lru_cache(maxsize=8)
def scrambling(vlsnr_set: int, gold_code: int) -> tuple[np.ndarray, np.ndarray]:
    """(complex factor j^R per position, 1 on the headers; real sign (-1)^R per position) of a VL-SNR frame."""
    lay = layout(vlsnr_set)
    r = np.zeros(lay.length, dtype=np.int64)
    r[KNOWN_HEAD_SYMBOLS:] = pl_scrambling_indices(gold_code, lay.length - PLHEADER_SYMBOLS)[VLSNR_HEADER_SYMBOLS:]
    cplx = np.array([1, 1j, -1, -1j], dtype=np.complex64)[r]
    cplx[:KNOWN_HEAD_SYMBOLS] = 1
    sign = (1 - 2 * (r & 1)).astype(np.float32)
    sign[:KNOWN_HEAD_SYMBOLS] = 1
    cplx.setflags(write=False)
    sign.setflags(write=False)
    return cplx, sign


def pi2_base(positions: np.ndarray) -> np.ndarray:
    """pi/2-BPSK base point per symbol position: (1+j)/sqrt2 at even positions, (-1+j)/sqrt2 at odd ones."""
    return np.where(np.asarray(positions) % 2 == 0, np.complex64(_SQ + 1j * _SQ),
                    np.complex64(-_SQ + 1j * _SQ)).astype(np.complex64)


@lru_cache(maxsize=32)
def frame_reference(modcod: str, gold_code: int) -> tuple[np.ndarray, np.ndarray]:
    """(known mask, reference symbols as sent, zero elsewhere) of a VL-SNR PLFRAME of `modcod`."""
    from .params import frame_params

    p = frame_params(modcod)
    assert p.vlsnr is not None
    lay = layout(p.vlsnr.set)
    cplx, _ = scrambling(p.vlsnr.set, gold_code)
    ref = np.zeros(lay.length, dtype=np.complex64)
    ref[:PLHEADER_SYMBOLS] = plheader_s2x(p.pls_code)
    ref[PLHEADER_SYMBOLS:KNOWN_HEAD_SYMBOLS] = vlsnr_header_symbols(p.vlsnr.header)
    ref[lay.pilots] = PILOT_SYMBOL * cplx[lay.pilots]
    known = np.zeros(lay.length, dtype=bool)
    known[:KNOWN_HEAD_SYMBOLS] = True
    known[lay.pilots] = True
    known.setflags(write=False)
    ref.setflags(write=False)
    return known, ref


# --------------------------------------------------------------------------------------------------------- coding


@lru_cache(maxsize=16)
def puncture_mask(p: FrameParams) -> np.ndarray:
    """Boolean mask over the mother code's parity bits: True where a bit is sent."""
    assert p.vlsnr is not None
    keep = np.ones(p.n_ldpc - p.k_ldpc, dtype=bool)
    c = p.vlsnr
    keep[np.arange(c.punctured) * c.puncture_period] = False
    keep.setflags(write=False)
    return keep


def vlsnr_encode(bbframe_scrambled: np.ndarray, p: FrameParams) -> np.ndarray:
    """Scrambled BBFRAME (K_bch bits) -> the coded bits sent (uint8): BCH, the LDPC mother code after X_s zero
    bits, then the N_bch information bits and the parity bits that puncturing leaves."""
    from .bch import bch_encode
    from .ldpc import ldpc_encode

    assert p.vlsnr is not None
    bch = np.asarray(bch_encode(np.asarray(bbframe_scrambled, dtype=np.uint8), p.frame, p.bch_rate), dtype=np.uint8)
    info = np.concatenate([np.zeros(p.vlsnr.shortened, dtype=np.uint8), bch])
    cw = np.asarray(ldpc_encode(info, p.frame, p.ldpc_rate), dtype=np.uint8)
    return np.concatenate([bch, cw[p.k_ldpc :][puncture_mask(p)]])


def mother_llrs(llr: np.ndarray, p: FrameParams, known_llr: float = 1e4) -> np.ndarray:
    """LLRs of the sent coded bits -> LLRs of the mother codeword (float32): the shortened bits known zero
    (+known_llr), punctured parity bits unknown (0)."""
    assert p.vlsnr is not None
    out = np.zeros(p.n_ldpc, dtype=np.float32)
    xs = p.vlsnr.shortened
    out[:xs] = known_llr
    out[xs : p.k_ldpc] = llr[: p.n_bch]
    par = out[p.k_ldpc :]
    par[puncture_mask(p)] = llr[p.n_bch :]
    return out


def map_data(bits: np.ndarray, p: FrameParams) -> np.ndarray:
    """Coded bits -> the data symbols, unscrambled (complex64), in data order (positions `layout(set).data`)."""
    assert p.vlsnr is not None
    bits = np.asarray(bits, dtype=np.uint8)
    lay = layout(p.vlsnr.set)
    if p.constellation == "QPSK":
        b = bits.reshape(-1, 2).astype(np.float32)
        return (((1 - 2 * b[:, 0]) + 1j * (1 - 2 * b[:, 1])) * _SQ).astype(np.complex64)
    b = np.repeat(bits, p.vlsnr.spreading).astype(np.float32)
    return ((1 - 2 * b) * pi2_base(lay.data)).astype(np.complex64)


def vlsnr_frame(bbframe_scrambled: np.ndarray, p: FrameParams, gold_code: int = 0) -> np.ndarray:
    """A scrambled BBFRAME -> the whole VL-SNR PLFRAME (complex64, unit-energy symbols)."""
    assert p.vlsnr is not None
    lay = layout(p.vlsnr.set)
    known, ref = frame_reference(p.modcod, gold_code)
    cplx, sign = scrambling(p.vlsnr.set, gold_code)
    data = map_data(vlsnr_encode(bbframe_scrambled, p), p)
    out = ref.copy()
    if p.constellation == "QPSK":
        out[lay.data] = data * cplx[lay.data]
    else:
        out[lay.data] = data * sign[lay.data]
    return out


def data_llrs(v: np.ndarray, p: FrameParams, noise_var: float) -> np.ndarray:
    """LLRs (float32, positive = bit 0) of the coded bits sent, from the data symbols of one frame in data order,
    descrambled (QPSK: times conj(j^R); pi/2-BPSK: times the sign), phase-corrected and scaled to unit amplitude;
    noise_var = E|n|^2 at that scale. pi/2-BPSK-S adds the LLRs of a bit's two symbols."""
    assert p.vlsnr is not None
    v = np.asarray(v, dtype=np.complex64)
    if p.constellation == "QPSK":
        s = np.float32(2 * np.sqrt(2) / noise_var)
        out = np.empty((v.size, 2), dtype=np.float32)
        out[:, 0] = v.real * s
        out[:, 1] = v.imag * s
        return out.reshape(-1)
    base = pi2_base(layout(p.vlsnr.set).data)
    r = (v * np.conj(base)).real * np.float32(4.0 / noise_var)
    sf = p.vlsnr.spreading
    return r.reshape(-1, sf).sum(axis=1).astype(np.float32) if sf > 1 else r.astype(np.float32)
