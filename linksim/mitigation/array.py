"""Adaptive combining of a terminal array's element streams: sample-matrix inversion over a sliding window.

The element streams are cut into windows of `window_samples` (absolute boundaries). For each window the sample
covariance R = X X^H / W of its samples gives the weights (budget.nulling.combiner_weights: MVDR toward the
satellite, power inversion on element 0, or the plain beam toward the satellite), with diagonal loading
10^(loading_db/10) times R's smallest eigenvalue (the noise floor as the combiner sees it), and the window's output
is w^H x. The weights of a window come from the window itself (one window of look-ahead; the output lags the input
by up to a window), so a jammer that appears is nulled from the window it appears in.

The combiner keeps each window's weights. With the array's true manifold (steering vectors and the element chains'
responses, which the channel knows) and the components' spectra, `adapted_pattern` turns them into what the weights
did to each component: the measured null depth of each jammer (its J/S after the combiner over its J/S at an
element) and the array's thermal SNR gain, to compare with the budget's prediction (budget.nulling).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..budget.nulling import combiner_weights, element_power, response_power
from ..errors import InputError
from ..scenario.model import NULLING_KINDS


@dataclass
class WeightLog:
    """Weights of each window: (first sample index, weights (N,))."""

    starts: list[int] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)

    def between(self, n0: int, n1: int) -> np.ndarray:
        """(windows, N) weights of the windows that start in [n0, n1)."""
        w = [wt for s, wt in zip(self.starts, self.weights, strict=True) if n0 <= s < n1]
        return np.array(w) if w else np.zeros((0, 0), dtype=complex)


class ArrayCombiner:
    """Streaming SMI combiner: `process(X)` with X (N, n) returns the combined samples completed so far (aligned:
    output sample i is element sample i combined); `flush()` the rest.

    nulling: "mvdr", "power_inversion" or "none"; window_samples >= 16 N; loading_db: diagonal loading over the
    noise floor; steering: the satellite's steering vector (N,) (default all ones: the panel faces it)."""

    def __init__(self, elements: int, nulling: str = "mvdr", window_samples: int = 4096, loading_db: float = 0.0,
                 steering: np.ndarray | None = None) -> None:
        if nulling not in NULLING_KINDS:
            raise InputError(f"nulling must be one of {', '.join(NULLING_KINDS)}, not {nulling!r}")
        if not 2 <= int(elements) <= 64:
            raise InputError(f"an array combiner needs 2 to 64 elements, not {elements}")
        if int(window_samples) < 16 * int(elements):
            raise InputError(f"window_samples must be at least 16 x elements = {16 * int(elements)}, "
                             f"not {window_samples}")
        self.elements = int(elements)
        self.nulling = nulling
        self.window = int(window_samples)
        self.loading_db = float(loading_db)
        self.steering = np.ones(self.elements, dtype=complex) if steering is None else np.asarray(steering, complex)
        self._buf = np.zeros((self.elements, 0), dtype=np.complex64)
        self._n = 0  # absolute index of _buf[:, 0]
        self._flushed = False
        self.log = WeightLog()

    def set_steering(self, steering: np.ndarray) -> None:
        self.steering = np.asarray(steering, dtype=complex)

    def process(self, x: np.ndarray) -> np.ndarray:
        if self._flushed:
            raise InputError("this combiner was flushed; make a new one for a new stream")
        x = np.asarray(x, dtype=np.complex64)
        if x.ndim != 2 or x.shape[0] != self.elements:
            raise InputError(f"the combiner takes ({self.elements}, n) element samples, got shape {x.shape}")
        self._buf = np.concatenate([self._buf, x], axis=1)
        k = self._buf.shape[1] // self.window
        if k == 0:
            return np.zeros(0, dtype=np.complex64)
        out = np.concatenate([self._combine(self._buf[:, i * self.window:(i + 1) * self.window]) for i in range(k)])
        self._buf = self._buf[:, k * self.window:]
        return out

    def flush(self) -> np.ndarray:
        if self._flushed or self._buf.shape[1] == 0:
            self._flushed = True
            return np.zeros(0, dtype=np.complex64)
        self._flushed = True
        out = self._combine(self._buf)
        self._buf = self._buf[:, :0]
        return out

    def _combine(self, xw: np.ndarray) -> np.ndarray:
        n = xw.shape[1]
        x64 = xw.astype(np.complex128)
        r = (x64 @ x64.conj().T) / max(n, 1)
        w = combiner_weights(r[None], self.steering[None], self.nulling, self.loading_db)[0]
        self.log.starts.append(self._n)
        self.log.weights.append(w)
        self._n += n
        return (np.conj(w) @ x64).astype(np.complex64)


def adapted_pattern(weights: np.ndarray, a_s: np.ndarray, a_k: list[np.ndarray], response: np.ndarray,
                    s_psd: np.ndarray, j_psd: list[np.ndarray], noise_response: np.ndarray) -> dict[str, object]:
    """What weights (windows, N) did, averaged over the windows (in power): each jammer's null depth (dB: its J/S
    after the combiner over its J/S at an element) and the thermal SNR gain (dB), for the true manifold: steering
    vectors a_s, a_k (N,), element responses (N, F) and the components' spectra over the same F frequencies."""
    w = np.asarray(weights, dtype=complex)
    if w.size == 0:
        return {"null_depth_db": [float("nan")] * len(a_k), "array_gain_db": float("nan")}
    rows = w.shape[0]
    v_s = np.broadcast_to((a_s[:, None] * response)[None], (rows, *response.shape))
    s_out = response_power(w, v_s, s_psd)
    s_in = element_power(v_s, s_psd)
    n_out = np.sum(np.abs(w) ** 2 * noise_response[None], axis=1)
    n_in = float(np.mean(noise_response))
    depths = []
    for a, psd in zip(a_k, j_psd, strict=True):
        v = np.broadcast_to((a[:, None] * response)[None], (rows, *response.shape))
        ratio = (response_power(w, v, psd) / s_out) / (element_power(v, psd) / s_in)
        depths.append(float(10 * np.log10(np.mean(ratio))))
    gain = float(10 * np.log10(np.mean(s_out / n_out) / (np.mean(s_in) / n_in)))
    return {"null_depth_db": depths, "array_gain_db": gain}
