"""DVB-S2 frame parameters: ETSI EN 302 307-1 Tables 5a/5b (BCH and LDPC sizes) and the PLS code's MODCOD numbers;
the DVB-S2X VL-SNR MODCODs (EN 302 307-2): their BCH and LDPC codes, shortening, puncturing and spreading."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ..errors import InputError
from ..scenario.modcods import BITS_PER_SYMBOL, normalize_name

NORMAL = "normal"
SHORT = "short"
MEDIUM = "medium"  # the 32400-bit FECFRAME of the DVB-S2X VL-SNR BPSK codes
N_LDPC = {NORMAL: 64800, SHORT: 16200}
N_LDPC_ALL = {NORMAL: 64800, MEDIUM: 32400, SHORT: 16200}

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

# DVB-S2X VL-SNR (EN 302 307-2), as gr-dtv implements it (checked bit for bit against its encoder and framer):
# BCH codes (frame, key) -> (K_bch, N_bch, t) beyond Tables 5a/5b (medium frames: GF(2^15) polynomials), and the
# LDPC mother codes (frame, key) -> K_ldpc beyond DVB-S2's.
BCH_VLSNR = {
    (NORMAL, "2/9"): (14208, 14400, 12),
    (MEDIUM, "1/5"): (5660, 5840, 12), (MEDIUM, "11/45"): (7740, 7920, 12), (MEDIUM, "1/3"): (10620, 10800, 12),
    (SHORT, "1/5"): (2512, 2680, 12), (SHORT, "11/45"): (3792, 3960, 12), (SHORT, "4/15"): (4152, 4320, 12),
}
LDPC_K_VLSNR = {
    (NORMAL, "2/9"): 14400, (MEDIUM, "1/5"): 6480, (MEDIUM, "11/45"): 7920, (MEDIUM, "1/3"): 10800,
    (SHORT, "11/45"): 3960, (SHORT, "4/15"): 4320,
}


@dataclass(frozen=True)
class VlsnrCode:
    """One VL-SNR MODCOD's coding: VL-SNR header index (0..15), set (1: 33282-symbol PLFRAME, 2: 16686), its
    FECFRAME, BCH key, LDPC mother code key, X_s shortened information bits (zeros, not sent, at the start of the
    LDPC information part), every P-th parity bit punctured X_p times from the first, spreading factor."""

    header: int
    set: int
    constellation: str
    frame: str
    bch_rate: str
    ldpc_rate: str
    shortened: int
    puncture_period: int
    punctured: int
    spreading: int = 1


VLSNR_CODES = {
    "QPSK 2/9": VlsnrCode(0, 1, "QPSK", NORMAL, "2/9", "2/9", 0, 15, 3240),
    "BPSK 1/5": VlsnrCode(1, 1, "BPSK", MEDIUM, "1/5", "1/5", 640, 25, 980),
    "BPSK 11/45": VlsnrCode(2, 1, "BPSK", MEDIUM, "11/45", "11/45", 0, 15, 1620),
    "BPSK 1/3": VlsnrCode(3, 1, "BPSK", MEDIUM, "1/3", "1/3", 0, 13, 1620),
    "BPSK-S 1/5": VlsnrCode(4, 1, "BPSK-S", SHORT, "1/5", "1/4", 560, 30, 250, 2),
    "BPSK-S 11/45": VlsnrCode(5, 1, "BPSK-S", SHORT, "11/45", "11/45", 0, 15, 810, 2),
    "BPSK 1/5 short": VlsnrCode(9, 2, "BPSK", SHORT, "1/4", "1/4", 0, 10, 1224),
    "BPSK 4/15 short": VlsnrCode(10, 2, "BPSK", SHORT, "4/15", "4/15", 0, 8, 1224),
    "BPSK 1/3 short": VlsnrCode(11, 2, "BPSK", SHORT, "1/3", "1/3", 0, 8, 1224),
}
VLSNR_BY_HEADER = {c.header: name for name, c in VLSNR_CODES.items()}
VLSNR_PLS = {1: 129, 2: 131}  # PLS code (8 bits, S2X: MODCOD 128/130 | pilots) of VL-SNR sets 1 and 2
VLSNR_HEADER_SYMBOLS = 900
VLSNR_PLFRAME_SYMBOLS = {1: 33282, 2: 16686}


def bch_params(frame: str, rate: str) -> tuple[int, int, int]:
    """(K_bch, N_bch, t) of a BCH code: DVB-S2 Tables 5a/5b, or a VL-SNR code of BCH_VLSNR."""
    table = {NORMAL: _BCH_NORMAL, SHORT: _BCH_SHORT}.get(frame, {})
    if rate in table:
        return table[rate]
    if (frame, rate) in BCH_VLSNR:
        return BCH_VLSNR[(frame, rate)]
    raise InputError(f"no DVB-S2/S2X BCH code for rate {rate!r} with {frame} frames")


def ldpc_k(frame: str, rate: str) -> int:
    """K_ldpc of an LDPC code: DVB-S2 Tables 5a/5b, or a VL-SNR mother code of LDPC_K_VLSNR."""
    table = {NORMAL: _BCH_NORMAL, SHORT: _BCH_SHORT}.get(frame, {})
    if rate in table:
        return table[rate][1]
    if (frame, rate) in LDPC_K_VLSNR:
        return LDPC_K_VLSNR[(frame, rate)]
    raise InputError(f"no DVB-S2/S2X LDPC code for rate {rate!r} with {frame} frames")

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
    vlsnr: VlsnrCode | None = None  # a DVB-S2X VL-SNR MODCOD (then frame is its FECFRAME: normal/medium/short)

    @property
    def k_ldpc(self) -> int:
        return self.n_bch + (self.vlsnr.shortened if self.vlsnr else 0)

    @property
    def bch_rate(self) -> str:
        """Key of the BCH code (bch.bch_code(frame, bch_rate))."""
        return self.vlsnr.bch_rate if self.vlsnr else self.rate

    @property
    def ldpc_rate(self) -> str:
        """Key of the LDPC (mother) code (ldpc.dvbs2_code(frame, ldpc_rate))."""
        return self.vlsnr.ldpc_rate if self.vlsnr else self.rate

    @property
    def coded_bits(self) -> int:
        """Code bits sent per frame: n_ldpc less the shortened and punctured bits (VL-SNR)."""
        return self.n_ldpc - (self.vlsnr.shortened + self.vlsnr.punctured if self.vlsnr else 0)

    @property
    def pls_code(self) -> int:
        """The PLS code of the PLHEADER: 7 bits (MODCOD << 2 | TYPE) for DVB-S2, 8 bits (129, 131) for VL-SNR."""
        if self.vlsnr:
            return VLSNR_PLS[self.vlsnr.set]
        return (self.modcod_number << 2) | self.type_bits

    @property
    def bits_per_symbol(self) -> int:
        return BITS_PER_SYMBOL[self.constellation]

    @property
    def data_symbols(self) -> int:
        if self.vlsnr:
            return self.coded_bits * self.vlsnr.spreading // self.bits_per_symbol
        return self.n_ldpc // self.bits_per_symbol

    @property
    def slots(self) -> int:
        return self.data_symbols // SLOT_SYMBOLS

    @property
    def pilot_blocks(self) -> int:
        return (self.slots - 1) // PILOT_PERIOD_SLOTS if self.pilots else 0

    @property
    def plframe_symbols(self) -> int:
        """PLHEADER + data slots + pilot blocks (VL-SNR: PLHEADER, VL-SNR header, data, pilots and extra pilots)."""
        if self.vlsnr:
            return VLSNR_PLFRAME_SYMBOLS[self.vlsnr.set]
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
    """The frame parameters of a MODCOD for a frame size and pilot setting. A VL-SNR MODCOD has its own FECFRAME
    and always has pilots: `frame` and `pilots` are checked but do not change it."""
    name = normalize_name(modcod)
    if name in VLSNR_CODES:
        if frame not in N_LDPC_ALL:  # a receiver's report says "medium" for the 32400-bit VL-SNR frames
            raise InputError(f"frame must be 'normal' or 'short', not {frame!r}")
        c = VLSNR_CODES[name]
        k_bch, n_bch, t = bch_params(c.frame, c.bch_rate)
        return FrameParams(name, c.frame, True, c.constellation, name.split()[1], 128 + 2 * (c.set - 1), k_bch, n_bch,
                           t, N_LDPC_ALL[c.frame], c)
    if name not in MODCOD_NUMBERS:
        raise InputError(f"unknown MODCOD {modcod!r}; expected a DVB-S2 one ('QPSK 1/4' .. '32APSK 9/10') or a DVB-S2X "
                         "VL-SNR one (" + ", ".join(f"'{n}'" for n in VLSNR_CODES) + ")")
    if frame not in N_LDPC:
        raise InputError(f"frame must be 'normal' or 'short', not {frame!r}")
    const, rate = name.split()
    table = _BCH_NORMAL if frame == NORMAL else _BCH_SHORT
    if rate not in table:
        raise InputError(f"{name} has no {frame} frame (9/10 is normal frames only)")
    k_bch, n_bch, t = table[rate]
    return FrameParams(name, frame, bool(pilots), const, rate, MODCOD_NUMBERS[name], k_bch, n_bch, t, N_LDPC[frame])
