"""Progress of long work on stderr: on a terminal one line redrawn in place (a bar, the rate and the time left);
otherwise plain lines, one every `every_s` seconds, that a log file or CI keeps readably.

    p = Progress("linksim run")
    p.update(done, total, rate_text, figures)   # throttled: cheap to call often
    p.line("stretch 1/3 ...")                  # a line that stays (the bar is redrawn under it)
    p.close()
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import TextIO

BAR = 24
TTY_INTERVAL_S = 0.2
PLAIN_INTERVAL_S = 10.0


def fmt_duration(s: float) -> str:
    """A short duration: 45s, 3m05s, 2h10m ('?' when unknown)."""
    if not math.isfinite(s) or s < 0:
        return "?"
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def eta_s(done: float, total: float, elapsed_s: float) -> float:
    """Time left at the rate so far (inf when nothing is done yet)."""
    if done <= 0 or elapsed_s <= 0:
        return math.inf
    return max(total - done, 0.0) * elapsed_s / done


class Progress:
    def __init__(self, prefix: str, stream: TextIO | None = None, *, tty: bool | None = None,
                 every_s: float = PLAIN_INTERVAL_S) -> None:
        self.prefix = prefix
        self.stream = stream or sys.stderr
        if tty is None:
            try:
                tty = self.stream.isatty() and os.environ.get("TERM", "") != "dumb"
            except (AttributeError, ValueError):
                tty = False
        self.tty = tty
        self.every_s = every_s
        self._last = -math.inf
        self._shown = False  # a bar is on the screen
        self._width = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must not end the run
            pass

    def update(self, done: float, total: float, text: str, *, force: bool = False) -> None:
        """Show progress `done` of `total` with `text` (rate, time left, figures); throttled unless `force`."""
        now = time.monotonic()
        if not force and now - self._last < (TTY_INTERVAL_S if self.tty else self.every_s):
            return
        self._last = now
        frac = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        if self.tty:
            fill = int(round(frac * BAR))
            line = f"{self.prefix}: [{'#' * fill}{'.' * (BAR - fill)}] {100 * frac:5.1f}% {text}"
            cols = _columns()
            if len(line) > cols - 1:
                line = line[: cols - 2] + "…"
            pad = max(self._width - len(line), 0)
            self._write("\r" + line + " " * pad)
            self._width = len(line)
            self._shown = True
        else:
            self._write(f"{self.prefix}: {100 * frac:.0f}% {text}\n")

    def line(self, msg: str) -> None:
        """A line that stays (above the bar on a terminal)."""
        self.clear()
        self._write(f"{self.prefix}: {msg}\n")
        self._last = -math.inf if self.tty else time.monotonic()

    def clear(self) -> None:
        if self.tty and self._shown:
            self._write("\r" + " " * self._width + "\r")
            self._shown = False
            self._width = 0

    def close(self) -> None:
        self.clear()


def _columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 100


__all__ = ["Progress", "eta_s", "fmt_duration"]
