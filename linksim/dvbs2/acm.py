"""DVB-S2 coding and modulation control: CCM, VCM (a schedule) and ACM (Es/N0 reports over a delayed return path).

Time is the sample clock of the link, in seconds (symbol count / symbol rate), never the wall clock.

ACM: the receiver reports its Es/N0 estimate (dB) for each frame; a report made at time t reaches the
transmitter at t + return_delay_s (a GEO round trip is about 0.5 s). For each new frame the controller takes the
newest report that has arrived (the minimum over the last `window` reports that arrived, to be safe against a
noisy estimate), and picks the most efficient MODCOD whose Table 13 threshold plus `margin_db` it meets. To avoid
toggling, it moves to a more efficient MODCOD only when the estimate also clears that MODCOD's threshold plus
`margin_db + hysteresis_db`; it moves down at once. Before any report arrives it uses `initial_modcod` (the most
robust MODCOD by default). With `predict`, a falling Es/N0 trend (slope of the reports over the last
`trend_window_s`) is extrapolated over the age of the newest report, so the margin need not cover what a fade
does during the return delay. With `fallback_after_s`, when no report has arrived for that long (the receiver
lost the link, as under a sudden barrage, and reports nothing), the controller falls back to the most robust
MODCOD of its ladder, as a hub does for a silent terminal; reports that arrive later take it up again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import InputError
from ..scenario.modcods import Modcod, get, table13

MODES = ("ccm", "vcm", "acm")


@dataclass(frozen=True)
class AcmDecision:
    t_s: float
    modcod: str
    esn0_used_db: float | None  # the estimate the choice was based on (None: no report yet, CCM, VCM)


class ModcodController:
    """Picks each frame's MODCOD. mode "ccm": always `modcod`; "vcm": `schedule` [(t_s, modcod), ...] (the entry
    with the latest start time <= t applies); "acm": from delayed Es/N0 reports (see the module docstring).
    `allowed`: MODCOD names ACM may use (default: all 28; rate 9/10 is left out for short frames; DVB-S2X VL-SNR
    names extend the ladder down), `pilots`: which efficiency column ranks them. `fallback_after_s`: see the module
    docstring (None: off). `threshold_offsets_db`: per MODCOD, dB to add to its Table 13 threshold (the budget's
    implementation losses that the Es/N0 estimate does not see; linksim.budget.prediction)."""

    def __init__(self, mode: str = "acm", modcod: str | None = None,
                 schedule: list[tuple[float, str]] | None = None, margin_db: float = 0.5,
                 hysteresis_db: float = 0.3, return_delay_s: float = 0.5, window: int = 1,
                 allowed: list[str] | None = None, pilots: bool = True, initial_modcod: str | None = None,
                 frame: str = "normal", predict: bool = False, trend_window_s: float = 1.0,
                 fallback_after_s: float | None = None,
                 threshold_offsets_db: dict[str, float] | None = None) -> None:
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if return_delay_s < 0:
            raise InputError(f"return_delay_s must be >= 0, not {return_delay_s}")
        if margin_db < 0 or hysteresis_db < 0:
            raise InputError("margin_db and hysteresis_db must be >= 0")
        if window < 1:
            raise InputError(f"window must be >= 1, not {window}")
        self.mode = mode
        self.margin_db = float(margin_db)
        self.hysteresis_db = float(hysteresis_db)
        self.return_delay_s = float(return_delay_s)
        self.window = int(window)
        self.pilots = bool(pilots)
        self.predict = bool(predict)
        if trend_window_s <= 0:
            raise InputError(f"trend_window_s must be positive, not {trend_window_s}")
        self.trend_window_s = float(trend_window_s)
        if fallback_after_s is not None and not fallback_after_s > 0:
            raise InputError(f"fallback_after_s must be positive, not {fallback_after_s}")
        self.fallback_after_s = fallback_after_s
        self._heard_t: float | None = None  # report time of the newest report arrived (or the first frame's time)
        if mode == "ccm":
            if modcod is None:
                raise InputError("CCM needs a modcod")
            self._ccm = get(modcod).name
        if mode == "vcm":
            if not schedule:
                raise InputError("VCM needs a schedule [(t_s, modcod), ...]")
            self._schedule = sorted((float(t), get(m).name) for t, m in schedule)
        mods = [get(m) for m in allowed] if allowed else list(table13())
        if frame not in ("normal", "short"):
            raise InputError(f"frame must be 'normal' or 'short', not {frame!r}")
        if frame == "short":  # rate 9/10 has no short FECFRAME
            mods = [m for m in mods if m.rate != Fraction(9, 10)]
        if not mods:
            raise InputError("no MODCOD left to choose from")
        self._ladder: list[Modcod] = sorted(mods, key=lambda m: m.efficiency(self.pilots))
        # what the receiver's Es/N0 estimate must show for each MODCOD to decode: Table 13's threshold, raised by
        # the implementation losses the estimate does not see (the budget's threshold offsets: an amplifier's ring
        # distortion on APSK, the phase error between pilots)
        offs = threshold_offsets_db or {}
        self._thr = {m.name: m.esn0_qef_db + float(offs.get(m.name, 0.0)) for m in self._ladder}
        start = get(initial_modcod) if initial_modcod else min(self._ladder, key=lambda m: m.esn0_qef_db)
        self._current = start
        self._in_flight: deque[tuple[float, float, float]] = deque()  # (arrival time, report time, esn0_db)
        self._arrived: deque[float] = deque(maxlen=self.window)
        self._history: deque[tuple[float, float]] = deque()  # (report time, esn0_db) over the trend window
        self.decisions: list[AcmDecision] = []

    # ------------------------------------------------------------------------------------------------ return path
    def report(self, t_s: float, esn0_db: float) -> None:
        """The receiver's Es/N0 estimate for a frame that ended at sample-clock time t_s (seconds)."""
        if esn0_db == esn0_db:  # skip NaN
            self._in_flight.append((float(t_s) + self.return_delay_s, float(t_s), float(esn0_db)))

    def _deliver(self, t_s: float) -> None:
        while self._in_flight and self._in_flight[0][0] <= t_s:
            _, t_rep, e = self._in_flight.popleft()
            self._arrived.append(e)
            self._heard_t = t_rep if self._heard_t is None else max(self._heard_t, t_rep)
            if self.predict:
                self._history.append((t_rep, e))
        while self._history and self._history[0][0] < t_s - self.return_delay_s - self.trend_window_s:
            self._history.popleft()

    def _predicted(self, est: float, t_s: float) -> float:
        """With predict: the estimate extrapolated to now along a falling trend (least-squares slope of the
        reports within trend_window_s); a rising trend is not extrapolated (fades come faster than they go)."""
        if not self.predict or len(self._history) < 3:
            return est
        tr = np.array([h[0] for h in self._history])
        er = np.array([h[1] for h in self._history])
        if tr[-1] - tr[0] < 0.25 * self.trend_window_s:
            return est
        slope = float(np.polyfit(tr - tr[-1], er, 1)[0])  # dB/s
        if slope >= 0:
            return est
        return est + slope * (t_s - tr[-1])

    # ------------------------------------------------------------------------------------------------ choice
    def best_for(self, esn0_db: float, extra_db: float = 0.0) -> Modcod:
        """Most efficient allowed MODCOD with threshold + margin + extra <= esn0_db (else the most robust)."""
        ok = [m for m in self._ladder if self._thr[m.name] + self.margin_db + extra_db <= esn0_db]
        if not ok:
            return min(self._ladder, key=lambda m: self._thr[m.name])
        return max(ok, key=lambda m: m.efficiency(self.pilots))

    def select(self, t_s: float) -> str:
        """The MODCOD for the frame that starts at sample-clock time t_s."""
        if self.mode == "ccm":
            name = self._ccm
            self.decisions.append(AcmDecision(t_s, name, None))
            return name
        if self.mode == "vcm":
            name = self._schedule[0][1]
            for t0, m in self._schedule:
                if t0 <= t_s:
                    name = m
            self.decisions.append(AcmDecision(t_s, name, None))
            return name
        self._deliver(t_s)
        if self._heard_t is None:
            self._heard_t = t_s
        if self.fallback_after_s is not None and t_s - self.return_delay_s - self._heard_t > self.fallback_after_s:
            # silence on the return path: the most robust MODCOD, and stale estimates forgotten
            self._arrived.clear()
            self._current = min(self._ladder, key=lambda m: m.esn0_qef_db)
        est = min(self._arrived) if self._arrived else None
        if est is not None:
            est = self._predicted(est, t_s)
        if est is not None:
            down = self.best_for(est)
            up = self.best_for(est, self.hysteresis_db)
            cur = self._current
            if self._thr.get(cur.name, cur.esn0_qef_db) + self.margin_db > est:  # no longer closes: drop at once
                self._current = down
            elif up.efficiency(self.pilots) > cur.efficiency(self.pilots):
                self._current = up
        self.decisions.append(AcmDecision(t_s, self._current.name, est))
        return self._current.name
