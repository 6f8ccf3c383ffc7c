"""The transponder's (and a ground HPA's) amplifier: memoryless AM/AM and AM/PM transfer curves and the operating
point they give a signal.

Models (each maps an input amplitude r to an output amplitude A(r) and a phase shift Phi(r), in the model's own
units):
- `Saleh` (Saleh 1981, IEEE Trans. Commun. 29(11) 1715-1720, the TWT fit): A(r) = alpha_a r / (1 + beta_a r^2),
  Phi(r) = alpha_phi r^2 / (1 + beta_phi r^2) (rad); defaults alpha_a 2.1587, beta_a 1.1517, alpha_phi 4.0033,
  beta_phi 9.1040. Saturation at r_sat = 1/sqrt(beta_a) (0.9318), A_sat = alpha_a / (2 sqrt(beta_a)) (1.0058).
- `Rapp` (Rapp 1991, the SSPA model): A(r) = r / (1 + r^(2p))^(1/(2p)) with unit small-signal gain and unit
  saturated output; no AM/PM. Its "saturation" input is r_sat = 1, where the linear gain line meets A_sat.
- `TableAmplifier`: a measured table of input power, output power (dB, any common reference) and phase (deg),
  interpolated linearly in dB; saturation is the row of highest output power. Below the first row the gain and phase
  of the first row are kept (linear region), above the last row the last output and phase (overdriven).

Normalisation (one convention for every model): the drive is the input amplitude relative to r_sat, so a CW at
input back-off 0 dB is at saturation, and the output is relative to A_sat, so the saturated CW output power is 1.
A signal x of mean power P_in is driven at input back-off IBO as u = x 10^(-IBO/20) / sqrt(P_in) (mean |u|^2 =
10^(-IBO/10)); the output y = G(|u|) exp(j(arg u + Phi(|u|))) has mean power 10^(-OBO/10): the output back-off
follows from the model and the signal's amplitude statistics, it is not entered.

What a signal loses (`bussgang`): y = alpha x + d with d uncorrelated with x (Bussgang); |alpha|^2 P_in is the
useful output power, the rest (P_out - |alpha|^2 P_in) distortion (partly in band, partly spectral regrowth).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError

SALEH_TWT = {"alpha_a": 2.1587, "beta_a": 1.1517, "alpha_phi": 4.0033, "beta_phi": 9.1040}


@dataclass(frozen=True)
class Saleh:
    """Saleh's TWT model (see the module docstring); amplitudes in Saleh's normalised units, phase in radians."""

    alpha_a: float = SALEH_TWT["alpha_a"]
    beta_a: float = SALEH_TWT["beta_a"]
    alpha_phi: float = SALEH_TWT["alpha_phi"]
    beta_phi: float = SALEH_TWT["beta_phi"]
    name: str = "saleh"

    def __post_init__(self) -> None:
        for k in ("alpha_a", "beta_a", "beta_phi"):
            v = getattr(self, k)
            if not (math.isfinite(v) and v > 0):
                raise InputError(f"amplifier saleh {k}: must be > 0, got {v}")
        if not math.isfinite(self.alpha_phi):
            raise InputError(f"amplifier saleh alpha_phi: must be finite, got {self.alpha_phi}")

    @property
    def r_sat(self) -> float:
        return 1.0 / math.sqrt(self.beta_a)

    @property
    def a_sat(self) -> float:
        return self.alpha_a / (2.0 * math.sqrt(self.beta_a))

    def am_am(self, r: ArrayLike) -> np.ndarray:
        r = np.asarray(r, dtype=float)
        return self.alpha_a * r / (1.0 + self.beta_a * r * r)

    def am_pm(self, r: ArrayLike) -> np.ndarray:
        r2 = np.asarray(r, dtype=float) ** 2
        return self.alpha_phi * r2 / (1.0 + self.beta_phi * r2)


@dataclass(frozen=True)
class Rapp:
    """Rapp's SSPA model with smoothness p (larger p: sharper knee); unit gain, unit saturated output, no AM/PM."""

    smoothness: float = 2.0
    name: str = "rapp"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.smoothness) and 0.1 <= self.smoothness <= 100.0):
            raise InputError(f"amplifier rapp smoothness: must be in 0.1..100, got {self.smoothness}")

    r_sat = 1.0
    a_sat = 1.0

    def am_am(self, r: ArrayLike) -> np.ndarray:
        r = np.asarray(r, dtype=float)
        p2 = 2.0 * self.smoothness
        return r / (1.0 + r**p2) ** (1.0 / p2)

    def am_pm(self, r: ArrayLike) -> np.ndarray:
        return np.zeros(np.shape(r))


@dataclass(frozen=True)
class TableAmplifier:
    """A measured AM/AM and AM/PM table: input power (dB), output power (dB) and phase (deg) per row."""

    pin_db: tuple[float, ...]
    pout_db: tuple[float, ...]
    phase_deg: tuple[float, ...]
    name: str = "table"

    def __post_init__(self) -> None:
        n = len(self.pin_db)
        if n < 2 or len(self.pout_db) != n or len(self.phase_deg) != n:
            raise InputError("amplifier table: needs at least two rows, each with pin_db, pout_db and phase_deg")
        pin = np.asarray(self.pin_db, dtype=float)
        if not np.all(np.isfinite(pin)) or np.any(np.diff(pin) <= 0):
            raise InputError("amplifier table: pin_db must be finite and increase row by row")
        if not (np.all(np.isfinite(self.pout_db)) and np.all(np.isfinite(self.phase_deg))):
            raise InputError("amplifier table: pout_db and phase_deg must be finite")

    @property
    def _sat_row(self) -> int:
        return int(np.argmax(self.pout_db))

    @property
    def r_sat(self) -> float:
        return 1.0  # amplitudes are relative to the saturating input

    @property
    def a_sat(self) -> float:
        return 1.0  # and to the saturated output

    def _level_db(self, r: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return 20.0 * np.log10(r) + self.pin_db[self._sat_row]

    def am_am(self, r: ArrayLike) -> np.ndarray:
        r = np.asarray(r, dtype=float)
        pin = np.asarray(self.pin_db, dtype=float)
        pout = np.asarray(self.pout_db, dtype=float) - self.pout_db[self._sat_row]
        lv = self._level_db(r)
        out_db = np.interp(lv, pin, pout)
        out_db = np.where(lv < pin[0], pout[0] + (lv - pin[0]), out_db)  # linear below the table
        return np.where(r > 0, 10.0 ** (out_db / 20.0), 0.0)

    def am_pm(self, r: ArrayLike) -> np.ndarray:
        lv = self._level_db(np.asarray(r, dtype=float))
        return np.radians(np.interp(lv, np.asarray(self.pin_db, dtype=float), np.asarray(self.phase_deg, dtype=float)))


AmplifierModel = Saleh | Rapp | TableAmplifier


def transfer(model: AmplifierModel, u: np.ndarray) -> np.ndarray:
    """The normalised complex transfer: drive u (|u| = 1 is the saturating CW) -> output (saturated CW output 1)."""
    u = np.asarray(u)
    r = np.abs(u).astype(np.float64)
    rs = r * model.r_sat
    g = model.am_am(rs) / model.a_sat
    ph = model.am_pm(rs)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(r > 0, u / np.where(r > 0, r, 1.0), 0.0)
    return g * unit * np.exp(1j * ph)


def drive_scale(ibo_db: float, input_power: float) -> float:
    """The factor that takes a signal of mean power input_power to the drive of input back-off ibo_db."""
    return float(10.0 ** (-ibo_db / 20.0) / math.sqrt(input_power))


def operate(model: AmplifierModel, x: np.ndarray, ibo_db: float, input_power: float = 1.0) -> np.ndarray:
    """The amplifier's output (saturated CW output power 1) for x of mean power input_power at back-off ibo_db."""
    return transfer(model, np.asarray(x) * drive_scale(ibo_db, input_power))


def curve_db(model: AmplifierModel, input_db: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(output power dB, phase deg) of a CW at input levels input_db relative to saturation (the datasheet
    curves: 0 dB in is the saturating drive, 0 dB out the saturated output)."""
    u = 10.0 ** (np.asarray(input_db, dtype=float) / 20.0)
    y = transfer(model, u.astype(complex))
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(np.abs(y)), np.degrees(np.angle(y))


@dataclass(frozen=True)
class Bussgang:
    """What a signal keeps through the amplifier: y = alpha x + d, d uncorrelated with x.

    alpha: complex gain (normalised units); useful_db: 10 log10 |alpha|^2 P_in over P_out (<= 0), the share of the
    output power that is the wanted signal; obo_db: output back-off 10 log10(1 / P_out); sdr_db: useful over
    distortion power, over the whole simulated band."""

    alpha: complex
    obo_db: float
    useful_db: float
    sdr_db: float


def bussgang(x: np.ndarray, y: np.ndarray) -> Bussgang:
    """The Bussgang decomposition of y (output, saturated CW power 1) on x (input, any scale)."""
    x = np.asarray(x, dtype=np.complex128)
    y = np.asarray(y, dtype=np.complex128)
    px = float(np.mean(np.abs(x) ** 2))
    py = float(np.mean(np.abs(y) ** 2))
    alpha = complex(np.vdot(x, y) / (px * x.size))
    useful = abs(alpha) ** 2 * px
    dist = max(py - useful, 1e-30)
    return Bussgang(alpha, -10.0 * math.log10(py), 10.0 * math.log10(useful / py), 10.0 * math.log10(useful / dist))


def from_table_rows(rows: Sequence[dict[str, float]]) -> TableAmplifier:
    """A TableAmplifier from rows {pin_db, pout_db, phase_deg} (as [[satellite.amplifier.table]] gives them)."""
    return TableAmplifier(tuple(float(r["pin_db"]) for r in rows), tuple(float(r["pout_db"]) for r in rows),
                          tuple(float(r.get("phase_deg", 0.0)) for r in rows))


__all__ = ["SALEH_TWT", "AmplifierModel", "Bussgang", "Rapp", "Saleh", "TableAmplifier", "bussgang", "curve_db",
           "drive_scale", "from_table_rows", "operate", "transfer"]
