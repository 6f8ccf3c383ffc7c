"""DVB-S2 MODCODs: ETSI EN 302 307-1 Table 13 (ideal Es/N0 for QEF, normal frames, AWGN) and spectral efficiency;
the DVB-S2X VL-SNR MODCODs (EN 302 307-2) in a table of their own, used where a caller asks for them (`vlsnr=True`,
`vlsnr_table`, or by name in `get`)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import InputError

BITS_PER_SYMBOL = {"QPSK": 2, "8PSK": 3, "16APSK": 4, "32APSK": 5, "BPSK": 1, "BPSK-S": 1}
VLSNR_FRAMES = ("normal", "medium", "short")


@dataclass(frozen=True)
class Modcod:
    name: str  # e.g. "QPSK 1/2"
    constellation: str  # QPSK, 8PSK, 16APSK, 32APSK
    rate: Fraction
    eta: float  # information bits per symbol, no pilots (Table 13)
    eta_pilots: float  # with pilot blocks
    esn0_qef_db: float  # Table 13 ideal Es/N0 for QEF
    vlsnr: bool = False  # a DVB-S2X VL-SNR MODCOD (pilots always on, its own FECFRAME)

    @property
    def bits_per_symbol(self) -> int:
        return BITS_PER_SYMBOL[self.constellation]

    def efficiency(self, pilots: bool) -> float:
        return self.eta_pilots if pilots else self.eta


@lru_cache(maxsize=1)
def table13() -> tuple[Modcod, ...]:
    """All 28 DVB-S2 MODCODs, in Table 13 order (increasing threshold within a constellation)."""
    rows = []
    text = resources.files("linksim").joinpath("data/dvbs2_modcods.csv").read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    for r in csv.DictReader(lines):
        rows.append(
            Modcod(
                name=r["modcod"],
                constellation=r["constellation"],
                rate=Fraction(r["rate"]),
                eta=float(r["eta"]),
                eta_pilots=float(r["eta_pilots"]),
                esn0_qef_db=float(r["esn0_qef_db"]),
            )
        )
    return tuple(rows)


@lru_cache(maxsize=1)
def vlsnr_table() -> tuple[Modcod, ...]:
    """The 9 DVB-S2X VL-SNR MODCODs (EN 302 307-2), most robust first within a constellation."""
    text = resources.files("linksim").joinpath("data/dvbs2x_vlsnr_modcods.csv").read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return tuple(Modcod(name=r["modcod"], constellation=r["constellation"], rate=Fraction(r["rate"]),
                        eta=float(r["eta"]), eta_pilots=float(r["eta_pilots"]), esn0_qef_db=float(r["esn0_qef_db"]),
                        vlsnr=True)
                 for r in csv.DictReader(lines))


def all_modcods(vlsnr: bool = False) -> tuple[Modcod, ...]:
    """Table 13's 28 MODCODs, followed by the 9 VL-SNR ones with vlsnr=True."""
    return table13() + (vlsnr_table() if vlsnr else ())


def normalize_name(name: str) -> str:
    parts = name.replace("_", " ").split()
    if len(parts) == 3 and parts[2].lower() == "short":  # "BPSK 1/5 short": the VL-SNR set-2 MODCODs
        return f"{parts[0].upper()} {parts[1]} short"
    if len(parts) != 2:
        return name.strip()
    const = parts[0].upper()
    return f"{const} {parts[1]}"


def get(name: str) -> Modcod:
    """Look a MODCOD up by name ("QPSK 1/2", "8psk 3/4", "16APSK_2/3"). Unknown names raise InputError."""
    key = normalize_name(name)
    for m in all_modcods(vlsnr=True):
        if m.name == key:
            return m
    raise InputError(f"unknown MODCOD {name!r}; expected one of Table 13, e.g. 'QPSK 1/2', '8PSK 3/4', '32APSK 9/10', "
                     "or a DVB-S2X VL-SNR MODCOD: " + ", ".join(repr(m.name) for m in vlsnr_table()))


def best_closing_arrays(
    esn0_db: np.ndarray | float, margin_db: float = 0.0, pilots: bool = True, vlsnr: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised: for each Es/N0, the name ("" if none) and efficiency (0) of the most efficient MODCOD whose
    Table 13 threshold + margin is met (with vlsnr, the VL-SNR MODCODs compete too)."""
    e = np.atleast_1d(np.asarray(esn0_db, dtype=float))
    mods = sorted(all_modcods(vlsnr), key=lambda m: m.efficiency(pilots))
    idx = np.full(e.shape, -1, dtype=int)
    for k, m in enumerate(mods):  # later (more efficient) MODCODs overwrite earlier ones where they close
        idx[m.esn0_qef_db + margin_db <= e] = k
    names = np.array([""] + [m.name for m in mods], dtype=object)[idx + 1]
    etas = np.array([0.0] + [m.efficiency(pilots) for m in mods])[idx + 1]
    return names, etas


def best_closing(esn0_db: np.ndarray | float, margin_db: float = 0.0, pilots: bool = True,
                 vlsnr: bool = False) -> list[Modcod | None]:
    """For each Es/N0, the MODCOD with the highest efficiency whose threshold + margin is met (None: none closes)."""
    names, _ = best_closing_arrays(esn0_db, margin_db, pilots, vlsnr)
    return [get(n) if n else None for n in names]


def shannon_esn0_db(eta: float | np.ndarray) -> np.ndarray:
    """Shannon's minimum Es/N0 for a spectral efficiency eta (bits per symbol): 2^eta - 1."""
    return 10.0 * np.log10(np.power(2.0, np.asarray(eta, dtype=float)) - 1.0)


# Constellations (ETSI EN 302 307-1 clause 5.4): ring ratios by code rate (Table 9: 16APSK gamma = R2/R1; Table 10:
# 32APSK gamma1 = R2/R1, gamma2 = R3/R1) and the bit labels. linksim.dvbs2.constellations builds the transmitter's and
# receiver's constellations from them; the budget's amplifier terms use them too, so they live here, below both.
APSK16_GAMMA = {"2/3": 3.15, "3/4": 2.85, "4/5": 2.75, "5/6": 2.70, "8/9": 2.60, "9/10": 2.57}
APSK32_GAMMA = {
    "3/4": (2.84, 5.27),
    "4/5": (2.72, 4.87),
    "5/6": (2.64, 4.64),
    "8/9": (2.54, 4.33),
    "9/10": (2.53, 4.30),
}
# Bit labels (clause 5.4, Figures 9 to 12): label -> (ring, phase in units of pi); the label's most significant bit
# is the first bit of the symbol in the interleaved stream.
# QPSK (Figure 9): first bit sets the sign of I, second the sign of Q (Gray).
_QPSK = {0b00: (0, 1 / 4), 0b01: (0, 7 / 4), 0b10: (0, 3 / 4), 0b11: (0, 5 / 4)}
# 8PSK (Figure 10).
_8PSK = {
    0b000: (0, 1 / 4),
    0b001: (0, 0),
    0b010: (0, 1),
    0b011: (0, 5 / 4),
    0b100: (0, 1 / 2),
    0b101: (0, 7 / 4),
    0b110: (0, 3 / 4),
    0b111: (0, 3 / 2),
}
# 16APSK (Figure 11): ring 0 inner (4 points), ring 1 outer (12 points); phase in units of pi.
_16APSK = {
    0b0000: (1, 1 / 4),
    0b0001: (1, -1 / 4),
    0b0010: (1, 3 / 4),
    0b0011: (1, -3 / 4),
    0b0100: (1, 1 / 12),
    0b0101: (1, -1 / 12),
    0b0110: (1, 11 / 12),
    0b0111: (1, -11 / 12),
    0b1000: (1, 5 / 12),
    0b1001: (1, -5 / 12),
    0b1010: (1, 7 / 12),
    0b1011: (1, -7 / 12),
    0b1100: (0, 1 / 4),
    0b1101: (0, -1 / 4),
    0b1110: (0, 3 / 4),
    0b1111: (0, -3 / 4),
}
# 32APSK (Figure 12): rings 0 (4 points), 1 (12 points), 2 (16 points); phase in units of pi.
_32APSK = {
    0b00000: (1, 1 / 4),
    0b00001: (1, 5 / 12),
    0b00010: (1, -1 / 4),
    0b00011: (1, -5 / 12),
    0b00100: (1, 3 / 4),
    0b00101: (1, 7 / 12),
    0b00110: (1, -3 / 4),
    0b00111: (1, -7 / 12),
    0b01000: (2, 1 / 8),
    0b01001: (2, 3 / 8),
    0b01010: (2, -1 / 4),
    0b01011: (2, -1 / 2),
    0b01100: (2, 3 / 4),
    0b01101: (2, 1 / 2),
    0b01110: (2, -7 / 8),
    0b01111: (2, -5 / 8),
    0b10000: (1, 1 / 12),
    0b10001: (0, 1 / 4),
    0b10010: (1, -1 / 12),
    0b10011: (0, -1 / 4),
    0b10100: (1, 11 / 12),
    0b10101: (0, 3 / 4),
    0b10110: (1, -11 / 12),
    0b10111: (0, -3 / 4),
    0b11000: (2, 0),
    0b11001: (2, 1 / 4),
    0b11010: (2, -1 / 8),
    0b11011: (2, -3 / 8),
    0b11100: (2, 7 / 8),
    0b11101: (2, 5 / 8),
    0b11110: (2, 1),
    0b11111: (2, -3 / 4),
}


CONSTELLATION_LABELS = {"QPSK": _QPSK, "8PSK": _8PSK, "16APSK": _16APSK, "32APSK": _32APSK}
def ring_ratios(constellation: str, rate: str) -> tuple[float, ...]:
    """Ring radii relative to the inner ring, (1, gamma...), of a DVB-S2 constellation at a code rate ("3/4")."""
    if constellation in ("QPSK", "8PSK"):
        return (1.0,)
    table = APSK16_GAMMA if constellation == "16APSK" else APSK32_GAMMA if constellation == "32APSK" else None
    if table is None or rate not in table:
        raise InputError(f"no DVB-S2 ring ratio for {constellation} {rate}")
    g = table[rate]
    return (1.0, *(g if isinstance(g, tuple) else (g,)))


def constellation_points(constellation: str, ratios: tuple[float, ...],
                         ring_phase_rad: tuple[float, ...] | None = None) -> np.ndarray:
    """The points of a DVB-S2 constellation indexed by bit label, with these ring ratios (radii relative to the inner
    ring), unit average energy; ring k turned by ring_phase_rad[k] if given (a predistorted transmitter)."""
    labels = CONSTELLATION_LABELS[constellation]
    n_rings = 1 + max(ring for ring, _ in labels.values())
    if len(ratios) != n_rings:
        raise InputError(f"{constellation} has {n_rings} ring(s), got {len(ratios)} ring ratio(s)")
    turn = ring_phase_rad or (0.0,) * n_rings
    p = np.array([ratios[ring] * np.exp(1j * (np.pi * ph + turn[ring])) for _, (ring, ph) in sorted(labels.items())])
    return p / np.sqrt(np.mean(np.abs(p) ** 2))
