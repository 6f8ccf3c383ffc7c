"""DVB-S2 MODCODs: ETSI EN 302 307-1 Table 13 (ideal Es/N0 for QEF, normal frames, AWGN) and spectral efficiency."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import InputError

BITS_PER_SYMBOL = {"QPSK": 2, "8PSK": 3, "16APSK": 4, "32APSK": 5}


@dataclass(frozen=True)
class Modcod:
    name: str  # e.g. "QPSK 1/2"
    constellation: str  # QPSK, 8PSK, 16APSK, 32APSK
    rate: Fraction
    eta: float  # information bits per symbol, no pilots (Table 13)
    eta_pilots: float  # with pilot blocks
    esn0_qef_db: float  # Table 13 ideal Es/N0 for QEF

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


def normalize_name(name: str) -> str:
    parts = name.replace("_", " ").split()
    if len(parts) != 2:
        return name.strip()
    const = parts[0].upper()
    return f"{const} {parts[1]}"


def get(name: str) -> Modcod:
    """Look a MODCOD up by name ("QPSK 1/2", "8psk 3/4", "16APSK_2/3"). Unknown names raise InputError."""
    key = normalize_name(name)
    for m in table13():
        if m.name == key:
            return m
    raise InputError(f"unknown MODCOD {name!r}; expected one of Table 13, e.g. 'QPSK 1/2', '8PSK 3/4', '32APSK 9/10'")


def best_closing_arrays(
    esn0_db: np.ndarray | float, margin_db: float = 0.0, pilots: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised: for each Es/N0, the name ("" if none) and efficiency (0) of the most efficient MODCOD whose
    Table 13 threshold + margin is met."""
    e = np.atleast_1d(np.asarray(esn0_db, dtype=float))
    mods = sorted(table13(), key=lambda m: m.efficiency(pilots))
    idx = np.full(e.shape, -1, dtype=int)
    for k, m in enumerate(mods):  # later (more efficient) MODCODs overwrite earlier ones where they close
        idx[m.esn0_qef_db + margin_db <= e] = k
    names = np.array([""] + [m.name for m in mods], dtype=object)[idx + 1]
    etas = np.array([0.0] + [m.efficiency(pilots) for m in mods])[idx + 1]
    return names, etas


def best_closing(esn0_db: np.ndarray | float, margin_db: float = 0.0, pilots: bool = True) -> list[Modcod | None]:
    """For each Es/N0, the MODCOD with the highest efficiency whose threshold + margin is met (None: none closes)."""
    names, _ = best_closing_arrays(esn0_db, margin_db, pilots)
    return [get(n) if n else None for n in names]


def plframe_symbols(name: str, frame: str = "normal", pilots: bool = True) -> int:
    """Symbols of a PLFRAME (clause 5.5): the 90-symbol PLHEADER, the 90-symbol slots of the XFECFRAME and, with
    pilots, a 36-symbol pilot block after every 16 slots (none after the last)."""
    m = get(name)
    slots = (64800 if frame == "normal" else 16200) // m.bits_per_symbol // 90
    return 90 + 90 * slots + (36 * ((slots - 1) // 16) if pilots else 0)


def shannon_esn0_db(eta: float | np.ndarray) -> np.ndarray:
    """Shannon's minimum Es/N0 for a spectral efficiency eta (bits per symbol): 2^eta - 1."""
    return 10.0 * np.log10(np.power(2.0, np.asarray(eta, dtype=float)) - 1.0)
