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


def _hil_enabled() -> bool:
    return os.environ.get("LINKSIM_HIL") == "1"


def pytest_report_header(config) -> str:
    if _hil_enabled():
        return "linksim: hardware-in-the-loop tests enabled (LINKSIM_HIL=1)"
    return ("linksim: hardware-in-the-loop tests (marker hil) not collected: set LINKSIM_HIL=1 in the lab "
            "(hw/HIL-PROCEDURE.md)")


def pytest_collection_modifyitems(config, items) -> None:
    """Real-hardware tests run only in the lab: without LINKSIM_HIL=1 they are deselected, not skipped."""
    if _hil_enabled():
        return
    hil = [it for it in items if it.get_closest_marker("hil")]
    if hil:
        config.hook.pytest_deselected(items=hil)
        items[:] = [it for it in items if not it.get_closest_marker("hil")]
