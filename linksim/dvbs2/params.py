"""DVB-S2 frame parameters: ETSI EN 302 307-1 Tables 5a/5b (BCH and LDPC sizes) and the PLS code's MODCOD numbers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ..errors import InputError
from ..scenario.modcods import BITS_PER_SYMBOL, normalize_name

NORMAL = "normal"
SHORT = "short"
N_LDPC = {NORMAL: 64800, SHORT: 16200}

# The receiver's LDPC iteration limit. ETSI EN 302 307-1 Table 13 (the thresholds the link budget uses) assumes
# 50 iterations of belief propagation with the flooding schedule; the receiver's layered decoder reaches the same
# FER in half the iterations (benchmarks/ldpc_schedules.py: flooding 50 and layered 25 give the same FER at every
# Es/N0 measured, with about twice the iterations), so 25 layered iterations is the effort Table 13 assumes.
# max_iter=50 decodes up to 0.5 dB lower at the lowest code rates, 0.02 to 0.17 dB at the others
# (docs/dvbs2-fer.md, waterfall table).
RX_LDPC_ITERATIONS = 25

# rate -> (K_bch, N_bch = K_ldpc, t errors corrected)   Table 5a (normal) and 5b (short)
_BCH_NORMAL = {
    "1/4": (16008, 16200, 12), "1/3": (21408, 21600, 12), "2/5": (25728, 25920, 12),
    "1/2": (32208, 32400, 12), "3/5": (38688, 38880, 12), "2/3": (43040, 43200, 10),
    "3/4": (48408, 48600, 12), "4/5": (51648, 51840, 12), "5/6": (53840, 54000, 10),
    "8/9": (57472, 57600, 8), "9/10": (58192, 58320, 8),
}
_BCH_SHORT = {
    "1/4": (3072, 3240, 12), "1/3": (5232, 5400, 12), "2/5": (6312, 6480, 12),
    "1/2": (7032, 7200, 12), "3/5": (9552, 9720, 12), "2/3": (10632, 10800, 12),
    "3/4": (11712, 11880, 12), "4/5": (12432, 12600, 12), "5/6": (13152, 13320, 12),
    "8/9": (14232, 14400, 12),
}
# Short-frame nominal rates whose effective LDPC rate differs (Table 5b): 1/4 -> 1/5, 1/3 -> 1/3, 2/5 -> 2/5,
# 1/2 -> 4/9, 3/5 -> 3/5, 2/3 -> 2/3, 3/4 -> 11/15, 4/5 -> 7/9, 5/6 -> 37/45, 8/9 -> 8/9.

# PLS code MODCOD numbers (clause 5.5.2.2): 1..28; 0 is DUMMY PLFRAME.
MODCOD_NUMBERS = {
    "QPSK 1/4": 1, "QPSK 1/3": 2, "QPSK 2/5": 3, "QPSK 1/2": 4, "QPSK 3/5": 5, "QPSK 2/3": 6,
    "QPSK 3/4": 7, "QPSK 4/5": 8, "QPSK 5/6": 9, "QPSK 8/9": 10, "QPSK 9/10": 11,
    "8PSK 3/5": 12, "8PSK 2/3": 13, "8PSK 3/4": 14, "8PSK 5/6": 15, "8PSK 8/9": 16, "8PSK 9/10": 17,
    "16APSK 2/3": 18, "16APSK 3/4": 19, "16APSK 4/5": 20, "16APSK 5/6": 21, "16APSK 8/9": 22,
    "16APSK 9/10": 23,
    "32APSK 3/4": 24, "32APSK 4/5": 25, "32APSK 5/6": 26, "32APSK 8/9": 27, "32APSK 9/10": 28,
}
MODCOD_NAMES = {v: k for k, v in MODCOD_NUMBERS.items()}

SLOT_SYMBOLS = 90
PILOT_BLOCK_SYMBOLS = 36
PILOT_PERIOD_SLOTS = 16
PLHEADER_SYMBOLS = 90


@dataclass(frozen=True)
class FrameParams:
    modcod: str  # "8PSK 3/4"
    frame: str  # "normal" | "short"
    pilots: bool
    constellation: str
    rate: str  # "3/4"
    modcod_number: int  # 1..28
    k_bch: int
    n_bch: int
    t_bch: int
    n_ldpc: int

    @property
    def k_ldpc(self) -> int:
        return self.n_bch

    @property
    def bits_per_symbol(self) -> int:
        return BITS_PER_SYMBOL[self.constellation]

    @property
    def data_symbols(self) -> int:
        return self.n_ldpc // self.bits_per_symbol

    @property
    def slots(self) -> int:
        return self.data_symbols // SLOT_SYMBOLS

    @property
    def pilot_blocks(self) -> int:
        return (self.slots - 1) // PILOT_PERIOD_SLOTS if self.pilots else 0

    @property
    def plframe_symbols(self) -> int:
        """PLHEADER + data slots + pilot blocks."""
        return PLHEADER_SYMBOLS + self.data_symbols + PILOT_BLOCK_SYMBOLS * self.pilot_blocks

    @property
    def data_field_bits(self) -> int:
        """User bits a BBFRAME carries: K_bch minus the 80-bit BBHEADER."""
        return self.k_bch - 80

    @property
    def efficiency(self) -> float:
        """Information bits per transmitted symbol."""
        return self.data_field_bits / self.plframe_symbols

    @property
    def type_bits(self) -> int:
        """The 2 TYPE bits of the PLS code: MSB = short frame, LSB = pilots."""
        return (2 if self.frame == SHORT else 0) | (1 if self.pilots else 0)


@cache
def frame_params(modcod: str, frame: str = NORMAL, pilots: bool = True) -> FrameParams:
    name = normalize_name(modcod)
    if name not in MODCOD_NUMBERS:
        raise InputError(f"unknown MODCOD {modcod!r}")
    if frame not in N_LDPC:
        raise InputError(f"frame must be 'normal' or 'short', not {frame!r}")
    const, rate = name.split()
    table = _BCH_NORMAL if frame == NORMAL else _BCH_SHORT
    if rate not in table:
        raise InputError(f"{name} has no {frame} frame (9/10 is normal frames only)")
    k_bch, n_bch, t = table[rate]
    return FrameParams(name, frame, bool(pilots), const, rate, MODCOD_NUMBERS[name], k_bch, n_bch, t, N_LDPC[frame])
