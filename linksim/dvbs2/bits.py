"""Checking bit arrays handed to the DVB-S2 FEC codes (BCH, LDPC)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def as_bit_rows(bits: np.ndarray, length: int, what: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """(bits as contiguous uint8 rows of `length`, the leading shape to restore) for `bits` of shape (..., length).

    InputError naming `what` (e.g. "BCH encoder (normal 1/2)") if the last dimension is not `length`, the dtype is
    not integer or bool, or a value is not 0 or 1."""
    a = np.asarray(bits)
    if a.ndim == 0 or a.shape[-1] != length:
        raise InputError(f"{what} expects bits with last dimension {length}, got shape {a.shape}")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    if not np.issubdtype(a.dtype, np.integer):
        raise InputError(f"{what} expects integer 0/1 bits, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() > 1):
        raise InputError(f"{what} expects bits valued 0 or 1")
    return np.ascontiguousarray(a.reshape(-1, length), dtype=np.uint8), a.shape[:-1]
