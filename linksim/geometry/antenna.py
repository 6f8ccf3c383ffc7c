"""Earth-station antenna gain: peak gain, beamwidth and off-axis reference patterns (ITU-R S.465, S.580, RR AP8).

Angles are off-axis angles phi in degrees (0..180) from the antenna's boresight; gains are dBi. All functions
take scalars or numpy arrays and broadcast.

Patterns (``pattern=``; the recommendation's revision is part of the name, the short name is an alias):

- ``"AP8"`` (Radio Regulations Appendix 8, Annex III; D/lambda = ratio of diameter to wavelength):
  main lobe G_max - 2.5e-3 (D/lambda phi)^2 for phi < phi_m; first sidelobe G1 = 2 + 15 log(D/lambda) up to phi_r;
  then for D/lambda >= 100: 32 - 25 log(phi) to 48 deg and -10 dBi beyond (phi_r = 15.85 (D/lambda)^-0.6);
  for D/lambda < 100: 52 - 10 log(D/lambda) - 25 log(phi) to 48 deg and 10 - 10 log(D/lambda) beyond
  (phi_r = 100 lambda/D). phi_m = 20 (lambda/D) sqrt(G_max - G1).
- ``"S.465"`` (ITU-R S.465-6, 2 to 31 GHz): 32 - 25 log(phi) for phi_min <= phi < 48 deg, -10 dBi to 180 deg;
  phi_min = max(1, 100 lambda/D) deg for D/lambda >= 50, max(2, 114 (D/lambda)^-1.09) deg for D/lambda < 50.
  The recommendation gives no gain inside phi_min; there this module uses the AP8 curve above (main lobe, G1 ...).
- ``"S.580"`` (ITU-R S.580-6 design objective, D/lambda >= 50): 29 - 25 log(phi) for phi_min <= phi <= 20 deg
  (phi_min = max(1, 100 lambda/D) deg), -3.5 dBi for 20 < phi <= 26.3 deg (its Note, so that the pattern joins
  S.465 without a 3 dB jump), then S.465 (32 - 25 log(phi) to 48 deg, -10 dBi beyond). AP8 inside phi_min.

The gain never exceeds the peak gain G_max = 10 log(eta (pi D / lambda)^2) (the sidelobe envelopes can, for very
small dishes; they are capped).

Continuity. The AP8 curve is continuous at phi_m by construction and at phi_r to 0.0007 dB (AP8 writes 15.85
for 10^1.2); its step at 48 deg is 0.03 dB (32 - 25 log 48 = -10.03). S.580's steps are 0.03 dB at 20 deg
(29 - 25 log 20 = -3.53) and 0.001 dB at 26.3 deg (32 - 25 log 26.3 = -3.499). Where this module joins
the AP8 near-in curve to a recommendation's envelope at phi_min there can be a real step, because the
recommendations leave phi < phi_min undefined:
- S.465, D/lambda >= 100: none (AP8 and S.465 share 32 - 25 log(phi)).
- S.465, 50 <= D/lambda < 100: G1 - (32 - 25 log phi_min) = 20 - 10 log(D/lambda), 0 to 3 dB down.
- S.465, D/lambda < 50: G1 - (32 - 25 log phi_min); e.g. 3.3 dB down at D/lambda = 30 (1.2 m at 7.5 GHz).
- S.580: the envelope is 3 dB below S.465, so the step is about 3 dB more than S.465's.
``pattern_angles_deg`` returns phi_m, phi_r, phi_min so a caller can see where they are.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from ..dbmath import C_M_S
from ..errors import InputError, ValidityWarning

__all__ = [
    "PATTERNS",
    "peak_gain_dbi",
    "beamwidth_3db_deg",
    "gain_dbi",
    "pattern_angles_deg",
]

# canonical name -> accepted spellings
PATTERNS: dict[str, tuple[str, ...]] = {
    "S.465-6": ("S.465", "S.465-6"),
    "S.580-6": ("S.580", "S.580-6"),
    "AP8": ("AP8", "RR-AP8", "APPENDIX 8"),
}


def _canonical(pattern: str) -> str:
    if isinstance(pattern, str):
        key = pattern.strip().upper()
        for name, aliases in PATTERNS.items():
            if key in aliases:
                return name
    known = ", ".join(repr(a[0]) for a in PATTERNS.values())
    raise InputError(f"antenna pattern {pattern!r} is not known (use one of {known})")


def _positive(name: str, value: ArrayLike) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0.0):
        raise InputError(f"antenna {name}: {value!r} must be a finite number > 0")
    return arr


def _efficiency(value: ArrayLike) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0.0) or np.any(arr > 1.0):
        raise InputError(f"antenna efficiency: {value!r} must be in (0, 1]")
    return arr


def _d_over_lambda(diameter_m: ArrayLike, freq_hz: ArrayLike) -> np.ndarray:
    return _positive("diameter_m", diameter_m) * _positive("freq_hz", freq_hz) / C_M_S


def peak_gain_dbi(diameter_m: ArrayLike, efficiency: ArrayLike, freq_hz: ArrayLike) -> np.ndarray:
    """Boresight gain (dBi) of a circular aperture: 10 log10(eta (pi D f / c)^2)."""
    x = _d_over_lambda(diameter_m, freq_hz)
    return 10.0 * np.log10(_efficiency(efficiency) * (np.pi * x) ** 2)


def beamwidth_3db_deg(diameter_m: ArrayLike, freq_hz: ArrayLike) -> np.ndarray:
    """Half-power beamwidth (deg), the usual reflector rule 70 lambda / D."""
    return 70.0 / _d_over_lambda(diameter_m, freq_hz)


def _ap8_parts(x: np.ndarray, gmax: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(G1 dBi, phi_m deg, phi_r deg) of RR Appendix 8 for D/lambda = x."""
    g1 = 2.0 + 15.0 * np.log10(x)
    phi_m = 20.0 / x * np.sqrt(np.maximum(gmax - g1, 0.0))
    phi_r = np.where(x >= 100.0, 15.85 * x**-0.6, 100.0 / x)
    return g1, phi_m, phi_r


def _ap8_gain(phi: np.ndarray, x: np.ndarray, gmax: np.ndarray) -> np.ndarray:
    g1, phi_m, phi_r = _ap8_parts(x, gmax)
    with np.errstate(divide="ignore"):
        log_phi = np.log10(phi)
    main = gmax - 2.5e-3 * (x * phi) ** 2
    big = x >= 100.0
    side = np.where(big, 32.0 - 25.0 * log_phi, 52.0 - 10.0 * np.log10(x) - 25.0 * log_phi)
    far = np.where(big, -10.0, 10.0 - 10.0 * np.log10(x))
    return np.where(phi < phi_m, main, np.where(phi < phi_r, g1, np.where(phi < 48.0, side, far)))


def _s465_phi_min(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 50.0, np.maximum(1.0, 100.0 / x), np.maximum(2.0, 114.0 * x**-1.09))


def _s465_envelope(phi: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(phi < 48.0, 32.0 - 25.0 * np.log10(phi), -10.0)


def pattern_angles_deg(
    diameter_m: ArrayLike, efficiency: ArrayLike, freq_hz: ArrayLike, pattern: str = "S.465"
) -> dict[str, np.ndarray]:
    """Break-point angles (deg) and levels (dBi) of a pattern: phi_m, phi_r, phi_min, g1_dbi, gmax_dbi."""
    name = _canonical(pattern)
    x = _d_over_lambda(diameter_m, freq_hz)
    gmax = peak_gain_dbi(diameter_m, efficiency, freq_hz)
    g1, phi_m, phi_r = _ap8_parts(x, gmax)
    if name == "S.465-6":
        phi_min = _s465_phi_min(x)
    elif name == "S.580-6":
        phi_min = np.maximum(1.0, 100.0 / x)
    else:
        phi_min = phi_r
    return {"phi_m": phi_m, "phi_r": phi_r, "phi_min": phi_min, "g1_dbi": g1, "gmax_dbi": gmax}


def gain_dbi(
    off_axis_deg: ArrayLike,
    diameter_m: ArrayLike,
    efficiency: ArrayLike,
    freq_hz: ArrayLike,
    pattern: str = "S.465",
) -> np.ndarray:
    """Off-axis gain (dBi) of an earth-station dish at ``off_axis_deg`` (0..180) from boresight.

    ``pattern`` is "S.465" (S.465-6), "S.580" (S.580-6) or "AP8" (RR Appendix 8); see the module docstring for
    the formulas and the joins. Outside a recommendation's validity range the gain is still computed and a
    ValidityWarning is issued: S.465-6 outside 2..31 GHz, S.580-6 for D/lambda < 50, AP8 for G_max < 9.3 dBi.
    """
    name = _canonical(pattern)
    phi = np.asarray(off_axis_deg, dtype=float)
    if not np.all(np.isfinite(phi)) or np.any(phi < 0.0) or np.any(phi > 180.0):
        raise InputError(f"off-axis angle {off_axis_deg!r} must be in 0..180 deg")
    x = _d_over_lambda(diameter_m, freq_hz)
    gmax = peak_gain_dbi(diameter_m, efficiency, freq_hz)
    near = _ap8_gain(phi, x, gmax)
    if name == "AP8":
        if np.any(gmax < 9.3):
            warnings.warn("RR Appendix 8 pattern used with a peak gain below 9.3 dBi", ValidityWarning, stacklevel=2)
        g = near
    elif name == "S.465-6":
        f = np.asarray(freq_hz, dtype=float)
        if np.any((f < 2e9) | (f > 31e9)):
            warnings.warn("ITU-R S.465-6 used outside 2 to 31 GHz", ValidityWarning, stacklevel=2)
        g = np.where(phi < _s465_phi_min(x), near, _s465_envelope(phi))
    else:  # S.580-6
        if np.any(x < 50.0):
            warnings.warn(
                "ITU-R S.580-6 used with D/lambda < 50 (it applies to D/lambda >= 50)", ValidityWarning, stacklevel=2
            )
        phi_min = np.maximum(1.0, 100.0 / x)
        with np.errstate(divide="ignore"):
            design = 29.0 - 25.0 * np.log10(phi)
        outer = np.where(phi <= 20.0, design, np.where(phi <= 26.3, -3.5, _s465_envelope(phi)))
        g = np.where(phi < phi_min, near, outer)
    return np.minimum(g, gmax)
