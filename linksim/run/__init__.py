"""Runs: the preparation shared by every run (`prepare`: option checks, span, Timeline, stretches, seed and ACM
defaults), the in-process loop that builds and runs the flowgraph per stretch and writes the run directory as it
goes (`loop`), the frame accounting and pro-rata time bins (`metrics`), SDRs and lab gear beside the flowgraph
(`devices`), split runs whose two halves talk over ZeroMQ (`split`), flowgraphs that always end with one clear
error (`flowgraph`), lab gear safe on every exit and signals taken in their own thread (`safety`), the progress
display (`progress`); real-time IP traffic runs (`traffic`, `traffic_split`: namespaces and TUN devices in `netns`,
the split-TCP proxy in `pep`), and the real-time channel emulator for an external modem (`emulate`).

Layer: may import every stage below it (scenario to hw, and report to write a run's report); never campaign or cli.
`linksim.run.run_scenario` (the campaigns' default runner) is loaded on first use.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:  # PEP 562: `linksim.run:run_scenario` without importing GNU Radio-side code eagerly
    if name == "run_scenario":
        from .loop import run_scenario

        return run_scenario
    raise AttributeError(f"module 'linksim.run' has no attribute {name!r}")
