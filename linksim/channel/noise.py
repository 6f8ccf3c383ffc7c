"""Fast, seeded, counter-based Gaussian noise for the IQ channel (numba).

Why counter-based: the channel must give bit-identical output whether a stream is processed at once or in
chunks of any sizes, with memory that does not grow with stream length. Here the random numbers for sample n
depend only on (key, n): a 64-bit word is the SplitMix64 finaliser of ``key + n * GAMMA`` (SplitMix64 is that
exact generator, which passes BigCrush). Its two 32-bit halves each feed one ziggurat draw (Marsaglia and Tsang
2000, 256 layers: 8 bits pick the layer, 24 bits are the signed uniform), so one word gives the I and Q parts
of one complex normal sample. About 1 % of draws fall outside the fast path; they continue on a sub-stream
keyed by (key, n, half) with the full float64 ziggurat (wedge test and exact tail), so the distribution is the
exact standard normal (to the 24-bit resolution of float32 output), white, and never repeats within 2^64
samples.

Functions:
    stream_key(seed, *labels) -> int: a 64-bit key for one named random stream of one seed.
    complex_normal(key, n0, n) -> complex64 array: unit-variance (E|z|^2 = 1) circular noise for samples n0..n0+n-1.
    standard_normal(key, n0, n) -> float64 array: real standard normals (I parts of the same words).
"""

from __future__ import annotations

import zlib

import numpy as np

from ..compiled import kernel

_U64 = np.uint64
GAMMA = _U64(0x9E3779B97F4A7C15)
_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)
_S30 = _U64(30)
_S27 = _U64(27)
_S31 = _U64(31)
_S32 = _U64(32)
_S8 = _U64(8)
_MASK32 = _U64(0xFFFFFFFF)
_MASK8 = _U64(0xFF)
_SUBKEY = _U64(0x5851F42D4C957F2D)

# Ziggurat tables (Marsaglia & Tsang 2000, 256 layers, f(x) = exp(-x^2/2) unnormalised).
_C = 256
_R = 3.6541528853610088
_V = 4.92867323399e-3


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x = np.zeros(_C + 1)
    x[0] = _V / np.exp(-0.5 * _R * _R)
    x[1] = _R
    for i in range(1, _C - 1):
        x[i + 1] = np.sqrt(-2.0 * np.log(_V / x[i] + np.exp(-0.5 * x[i] * x[i])))
    x[_C] = 0.0
    f = np.exp(-0.5 * x * x)
    k = np.floor(x[1:] / x[:-1] * 2.0**23).astype(np.int64)  # fast-path threshold on |j| (j in [-2^23, 2^23))
    w = x[:-1] / 2.0**23
    return x, f, k, w


_X, _F, _K, _W = _tables()


@kernel(inline="always")
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@kernel(inline="always")
def _u01(z: np.uint64) -> float:
    """Uniform in (0, 1) from the top 53 bits."""
    return ((z >> _U64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@kernel(nogil=True)
def _slow_normal(key: np.uint64, idx: np.uint64, layer: int, j: int) -> float:
    """Full ziggurat from a rejected fast-path draw (layer, j); continues on a sub-stream keyed by idx."""
    s = _mix((key ^ _SUBKEY) + idx * GAMMA)
    c = _U64(0)
    while True:
        u = j * (1.0 / 8388608.0)  # [-1, 1)
        x = u * _X[layer]
        if abs(x) < _X[layer + 1]:
            return x
        if layer == 0:  # tail beyond r: Marsaglia's method
            while True:
                c += _U64(1)
                a = -np.log(_u01(_mix(s + c * GAMMA))) / _R
                c += _U64(1)
                b = -np.log(_u01(_mix(s + c * GAMMA)))
                if b + b > a * a:
                    return _R + a if u >= 0.0 else -(_R + a)
        c += _U64(1)
        y = _F[layer] + _u01(_mix(s + c * GAMMA)) * (_F[layer + 1] - _F[layer])
        if y < np.exp(-0.5 * x * x):
            return x
        c += _U64(1)
        w = _mix(s + c * GAMMA) & _MASK32
        layer = int(w & _MASK8)
        j = int(w >> _S8) - 8388608


@kernel(inline="always")
def normal_pair(key: np.uint64, n: np.uint64) -> tuple[float, float]:
    """Two independent standard normals for absolute sample index n (uint64) of stream `key`."""
    z = _mix(key + n * GAMMA)
    lo = z & _MASK32
    hi = z >> _S32
    i1 = int(lo & _MASK8)
    j1 = int(lo >> _S8) - 8388608
    i2 = int(hi & _MASK8)
    j2 = int(hi >> _S8) - 8388608
    if abs(j1) < _K[i1]:
        g1 = j1 * _W[i1]
    else:
        g1 = _slow_normal(key, n + n, i1, j1)
    if abs(j2) < _K[i2]:
        g2 = j2 * _W[i2]
    else:
        g2 = _slow_normal(key, n + n + _U64(1), i2, j2)
    return g1, g2


@kernel(nogil=True)
def _fill_complex(key: np.uint64, n0: np.int64, out: np.ndarray) -> None:
    s = np.sqrt(0.5)
    for m in range(out.shape[0]):
        g1, g2 = normal_pair(key, _U64(n0 + m))
        out[m] = complex(g1 * s, g2 * s)


@kernel(nogil=True)
def _fill_real(key: np.uint64, n0: np.int64, out: np.ndarray) -> None:
    for m in range(out.shape[0]):
        g1, _ = normal_pair(key, _U64(n0 + m))
        out[m] = g1


def stream_key(seed: int, *labels: str | int) -> np.uint64:
    """64-bit key of one random stream: the seed mixed with each label (a name or an index)."""
    z = int(seed) & 0xFFFFFFFFFFFFFFFF
    for lab in labels:
        v = zlib.crc32(lab.encode()) if isinstance(lab, str) else int(lab) & 0xFFFFFFFF
        z = _mix_py(z ^ (v * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF))
    return _U64(_mix_py(z))


def _mix_py(z: int) -> int:
    m = 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def complex_normal(key: np.uint64, n0: int, n: int) -> np.ndarray:
    """Circular complex Gaussian noise, E|z|^2 = 1, for absolute samples n0 .. n0+n-1 (complex64)."""
    out = np.empty(int(n), dtype=np.complex64)
    _fill_complex(_U64(key), np.int64(n0), out)
    return out


def standard_normal(key: np.uint64, n0: int, n: int) -> np.ndarray:
    """Real standard normals for absolute samples n0 .. n0+n-1 (float64)."""
    out = np.empty(int(n), dtype=np.float64)
    _fill_real(_U64(key), np.int64(n0), out)
    return out
