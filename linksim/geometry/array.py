"""A terminal's antenna array: element positions, steering vectors, and each element chain's gain and phase errors.

Geometry. The array is a flat panel whose normal points at the satellite (it tracks the satellite as a dish would):
its x axis is horizontal and its y axis completes a right-handed frame with the normal, both rotated by
`orientation_deg` about the normal. Elements sit in that plane, `spacing_wavelengths` apart: "ula" along x,
"ura" on a rows x columns grid (the most square rectangle with that many elements). A plane wave from the
direction u (unit vector, east-north-up) reaches element m with the phase exp(j 2 pi p_m . u) (p_m in
wavelengths), so the satellite, on the normal, has the steering vector of all ones, and a jammer at off-axis angle
theta and position angle psi in the panel has phases 2 pi sin(theta) (x_m cos psi + y_m sin psi).

Element errors. Each element's receive chain (feed, LNA, filters, converter) differs from the others in gain and
phase, and the difference is not the same across the band: an array calibrated at one frequency keeps the
ripple. The model: element m's chain has the response E_m(f) = 10^(g_m(f)/20) exp(j phi_m(f)), where g_m and phi_m
are drawn independently (Gaussian, standard deviations `error_db` and `error_deg`, seeded) at ERROR_KNOTS frequencies
spread evenly over the sample band and joined by trigonometric interpolation: a FIR filter of ERROR_KNOTS taps whose
response passes through the drawn values (delay ERROR_KNOTS / 2 samples, the same for every element). The part of
the error common to the whole band an adaptive combiner learns with its weights; the ripple across the band it
cannot follow with one weight per element, and that limits how deep it can null a wideband jammer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError

ARRAY_LAYOUTS = ("ula", "ura")
ERROR_KNOTS = 8  # independent error values across the sample band (and taps of each element's error filter)


def layout_shape(elements: int, layout: str) -> tuple[int, int]:
    """(rows, columns) of the layout; InputError if a "ura" cannot be made with that many elements."""
    n = int(elements)
    if n < 1:
        raise InputError(f"an array needs at least one element, not {elements}")
    if layout == "ula":
        return 1, n
    if layout == "ura":
        rows = max(r for r in range(1, int(np.sqrt(n)) + 1) if n % r == 0)
        if rows < 2:
            raise InputError(f"a \"ura\" needs a rectangular number of elements (4, 6, 8, 9, ...), not {n}")
        return rows, n // rows
    raise InputError(f"array layout must be one of {', '.join(ARRAY_LAYOUTS)}, not {layout!r}")


def element_positions_wl(elements: int, layout: str, spacing_wavelengths: float) -> np.ndarray:
    """(N, 2) element positions (x, y) in the panel, in wavelengths, centred on the array's middle."""
    rows, cols = layout_shape(elements, layout)
    x = (np.arange(cols) - (cols - 1) / 2.0) * spacing_wavelengths
    y = (np.arange(rows) - (rows - 1) / 2.0) * spacing_wavelengths
    xx, yy = np.meshgrid(x, y)
    return np.stack([xx.reshape(-1), yy.reshape(-1)], axis=1)


def direction_enu(azimuth_deg: ArrayLike, elevation_deg: ArrayLike) -> np.ndarray:
    """Unit vectors (..., 3) east-north-up toward the given azimuth and elevation."""
    az = np.radians(np.asarray(azimuth_deg, dtype=float))
    el = np.radians(np.asarray(elevation_deg, dtype=float))
    return np.stack(np.broadcast_arrays(np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)), axis=-1)


def panel_axes(boresight_az_deg: ArrayLike, boresight_el_deg: ArrayLike,
               orientation_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The panel's x and y axes (..., 3), east-north-up, for a panel whose normal points at the boresight."""
    az = np.radians(np.asarray(boresight_az_deg, dtype=float))
    el = np.radians(np.asarray(boresight_el_deg, dtype=float))
    az, el = np.broadcast_arrays(az, el)
    ux = np.stack([np.cos(az), -np.sin(az), np.zeros_like(az)], axis=-1)  # horizontal, to the right of boresight
    uz = np.stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)], axis=-1)
    uy = np.cross(uz, ux)
    r = np.radians(orientation_deg)
    return np.cos(r) * ux + np.sin(r) * uy, -np.sin(r) * ux + np.cos(r) * uy


def steering_vectors(positions_wl: np.ndarray, axes: tuple[np.ndarray, np.ndarray],
                     direction: np.ndarray) -> np.ndarray:
    """(..., N) complex phases exp(j 2 pi p_m . u) of a plane wave from `direction` (..., 3) at each element."""
    ux, uy = axes
    cx = np.sum(np.asarray(direction) * ux, axis=-1)
    cy = np.sum(np.asarray(direction) * uy, axis=-1)
    ph = 2 * np.pi * (np.asarray(cx)[..., None] * positions_wl[:, 0] + np.asarray(cy)[..., None] * positions_wl[:, 1])
    return np.exp(1j * ph)


@dataclass(frozen=True)
class ElementErrors:
    """Each element chain's response at the ERROR_KNOTS knots (DFT order over the sample band) and its FIR taps."""

    knots: np.ndarray  # (N, K) complex: 10^(g/20) exp(j phi) at frequencies k / K cycles per sample
    taps: np.ndarray  # (N, K) complex FIR taps, delay K / 2 samples

    @property
    def delay_samples(self) -> int:
        return self.knots.shape[1] // 2

    def response(self, freq_cyc: ArrayLike) -> np.ndarray:
        """(N, F) response of each element's chain at frequencies (cycles per sample), without the common delay."""
        f = np.asarray(freq_cyc, dtype=float).reshape(-1)
        k = np.arange(self.taps.shape[1])
        h = self.taps @ np.exp(-2j * np.pi * np.outer(k, f))
        return h * np.exp(2j * np.pi * f * self.delay_samples)[None, :]


def element_errors(elements: int, error_db: float, error_deg: float, seed: int,
                   knots: int = ERROR_KNOTS) -> ElementErrors:
    """Seeded gain and phase errors of each element chain (see the module docstring)."""
    if error_db < 0 or error_deg < 0 or not np.isfinite(error_db) or not np.isfinite(error_deg):
        raise InputError(f"element errors must be >= 0, got {error_db} dB and {error_deg} deg")
    rng = np.random.default_rng([int(seed), 0xA77A])
    g = rng.standard_normal((elements, knots)) * error_db
    ph = np.radians(rng.standard_normal((elements, knots)) * error_deg)
    h_knots = 10.0 ** (g / 20.0) * np.exp(1j * ph)
    # taps whose response passes through the knots, centred on the common delay K / 2
    f = np.fft.fftfreq(knots)
    d = knots // 2
    taps = np.fft.ifft(h_knots * np.exp(-2j * np.pi * f * d)[None, :], axis=1)
    return ElementErrors(h_knots, taps)


def panel_offaxis_deg(axes: tuple[np.ndarray, np.ndarray], direction: np.ndarray) -> np.ndarray:
    """Angle (deg) between the panel's normal and a direction."""
    ux, uy = axes
    uz = np.cross(ux, uy)
    return np.degrees(np.arccos(np.clip(np.sum(uz * direction, axis=-1), -1.0, 1.0)))
