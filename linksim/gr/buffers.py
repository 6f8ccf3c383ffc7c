"""Output buffer size around linksim's Python blocks (one place for the CLI runs, the GRC blocks and the ZMQ link).

Every Python work() call costs; a normal PLFRAME is tens of thousands of samples, so the blocks ask GNU Radio for
large output buffers and downstream Python blocks get large chunks.
"""

from __future__ import annotations

from typing import Any

BUFFER_ITEMS = 1 << 17  # items per output buffer


def large_output_buffer(block: Any) -> None:
    """Ask for a BUFFER_ITEMS output buffer (GNU Radio logs the request at info level, on stdout: silenced)."""
    block.set_log_level("warn")
    block.set_min_output_buffer(BUFFER_ITEMS)
