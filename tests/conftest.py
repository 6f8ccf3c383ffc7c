"""Shared test fixtures. GNU Radio tests skip when GNU Radio is missing, except in CI where they must fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def _gnuradio_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("LINKSIM_REQUIRE_GNURADIO") == "1"


@pytest.fixture(scope="session")
def gr():
    """The gnuradio.gr module. Use this fixture in every test that needs GNU Radio."""
    try:
        from gnuradio import gr as _gr
    except ImportError as e:  # pragma: no cover - depends on the machine
        if _gnuradio_required():
            pytest.fail(f"GNU Radio is required here (CI) but cannot be imported: {e}")
        pytest.skip(f"GNU Radio not available: {e}")
    return _gr


@pytest.fixture
def data_dir() -> Path:
    return DATA
