"""A DVB-S2 carrier's statistics for the budget: a seeded reference stretch of a MODCOD's symbols (its constellation
from the standard's ring ratios, with the pilot blocks and PLHEADERs in their places), RRC-shaped, and the matched
filter that gives the symbols back. The amplifier and phase-noise terms of the budget are computed on it.

Shaping and matched filtering are circular (one FFT over the whole stretch, the root of budget.interference's
raised-cosine weight as the filter): the stretch is one period of a periodic signal, so its statistics have no edge.
The layout follows ETSI EN 302 307-1 clause 5.5: a 90-symbol PLHEADER (pi/2-BPSK, unit modulus), then slots of 90
data symbols with a 36-symbol pilot block (unit modulus) after every 16 slots. The known symbols are drawn as
random unit-modulus QPSK points (PL scrambling makes pilots look so).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..scenario import modcods
from .interference import raised_cosine_weight

PLHEADER_SYMBOLS = 90
SLOT_SYMBOLS = 90
PILOT_BLOCK_SYMBOLS = 36
SLOTS_PER_PILOT_BLOCK = 16
REFERENCE_SPS = 8  # samples per symbol of the reference stretch (room for the amplifier's spectral regrowth)


def frame_known_mask(data_symbols: int, pilots: bool) -> np.ndarray:
    """True at the known symbols (PLHEADER, pilot blocks) of one PLFRAME with data_symbols XFEC symbols."""
    m = [np.ones(PLHEADER_SYMBOLS, dtype=bool)]
    block = SLOT_SYMBOLS * SLOTS_PER_PILOT_BLOCK
    for start in range(0, data_symbols, block):
        n = min(block, data_symbols - start)
        m.append(np.zeros(n, dtype=bool))
        if pilots and start + block < data_symbols:
            m.append(np.ones(PILOT_BLOCK_SYMBOLS, dtype=bool))
    return np.concatenate(m)


def data_symbols_per_frame(modcod: str, frame: str = "normal") -> int:
    m = modcods.get(modcod)
    n_ldpc = 64800 if frame == "normal" else 16200
    return n_ldpc // m.bits_per_symbol


@dataclass(frozen=True)
class Reference:
    """A stretch of a MODCOD's symbols: `symbols` (unit mean energy over the data), `known` mask, the constellation
    `points` indexed by bit label (unit average energy) and each data symbol's label (-1 at known symbols)."""

    modcod: str
    symbols: np.ndarray
    known: np.ndarray
    points: np.ndarray
    label: np.ndarray


@lru_cache(maxsize=64)
def reference(modcod: str, n_frames: int = 2, pilots: bool = True, frame: str = "normal", seed: int = 1,
              ring_ratios: tuple[float, ...] | None = None,
              ring_phase_rad: tuple[float, ...] | None = None) -> Reference:
    """n_frames PLFRAMEs of random data of `modcod` (the standard's ring ratios unless given)."""
    m = modcods.get(modcod)
    ratios = ring_ratios or modcods.ring_ratios(m.constellation, str(m.rate))
    pts = modcods.constellation_points(m.constellation, ratios, ring_phase_rad)
    rng = np.random.default_rng(seed)
    mask = np.tile(frame_known_mask(data_symbols_per_frame(modcod, frame), pilots), n_frames)
    label = np.where(mask, -1, rng.integers(0, pts.size, mask.size))
    qpsk = np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, mask.size)))
    sym = np.where(mask, qpsk, pts[np.maximum(label, 0)])
    sym.setflags(write=False)
    return Reference(modcod, sym, mask, pts, label)


def _rrc_response(n: int, sps: int, rolloff: float) -> np.ndarray:
    f = np.fft.fftfreq(n, d=1.0 / sps)  # in units of the symbol rate
    return np.sqrt(raised_cosine_weight(f, 1.0, rolloff))


def shape(symbols: np.ndarray, rolloff: float, sps: int = REFERENCE_SPS) -> np.ndarray:
    """Circular RRC shaping: sps samples per symbol, mean power equal to the symbols' mean energy."""
    n = symbols.size * sps
    up = np.zeros(n, dtype=np.complex128)
    up[::sps] = symbols
    return np.fft.ifft(np.fft.fft(up) * _rrc_response(n, sps, rolloff)) * sps


def matched(samples: np.ndarray, rolloff: float, sps: int = REFERENCE_SPS) -> np.ndarray:
    """Circular matched filter and symbol-rate sampling: `shape`'s inverse for a linear channel."""
    n = samples.size
    z = np.fft.ifft(np.fft.fft(samples) * _rrc_response(n, sps, rolloff))
    return z[::sps]


__all__ = ["REFERENCE_SPS", "Reference", "frame_known_mask", "matched", "reference", "shape"]
