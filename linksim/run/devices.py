"""Hardware in the loop for a run: the SDRs (through the device factory), lab gear beside the flowgraph (attenuator
replaying the fade, rotator tracking the satellite) and SigMF recording of the receiver's input."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..budget import timeline as budget
from ..scenario.model import Scenario

if TYPE_CHECKING:
    from .prepare import Stretch


@dataclass
class Devices:
    """Hardware in the loop: TX through an SDR sink, RX from an SDR source (profiles from hw/profiles)."""

    tx_profile: str
    rx_profile: str
    tx_enable: bool = False
    center_freq_hz: float | None = None  # lab IF; default the profile's
    tx_gains_db: dict[str, float] | None = None
    rx_gains_db: dict[str, float] | None = None
    tx_scale: float = 0.3  # digital back-off of the unit-power waveform (peaks stay below full scale)
    attenuator: Any = None  # an open linksim.hw.attenuator.Attenuator: replays the fade on the RF path
    attenuation_base_db: float = 0.0  # attenuator setting with no fade (the cabled path's own loss is separate)
    rotator: Any = None  # an open linksim.hw.rotator.Rotator: tracks the satellite's az/el
    metadata: list[dict[str, Any]] = field(default_factory=list)
    lab: list[dict[str, Any]] = field(default_factory=list)  # attenuator/rotator reports per stretch


def lab_threads(d: Devices, tl: budget.Timeline, st: Stretch, stop: threading.Event) -> list[threading.Thread]:
    """Attenuator and rotator running beside the flowgraph on the wall clock (the hardware is real time).

    The attenuator replays the carrier's fade over the stretch (the budget's thermal Es/N0 below its best value over
    the stretch, from the lead-in on, at the Timeline's step: geometry and weather, not jamming, which the channel
    applies digitally) on top of its base setting; the rotator points at the satellite."""
    t = tl.time_s
    m = tl.rows_within(st.t_base_s, st.t1_s, nearest_to_s=st.t0_s)
    step = float(t[1] - t[0]) if len(t) > 1 else 1.0
    threads = []
    report: dict[str, Any] = {"stretch": st.k}
    d.lab.append(report)
    if d.attenuator is not None:
        cn = np.nan_to_num(np.asarray(tl["esn0_db"][m], dtype=float), nan=-30.0)
        fade = cn.max() - cn

        def att() -> None:
            r = d.attenuator.replay(fade, step, base_db=d.attenuation_base_db, stop=stop)
            report["attenuator"] = {"requested_db": [float(x) for x in r.requested_db],
                                    "applied_db": [None if not np.isfinite(x) else float(x) for x in r.applied_db],
                                    "clipped_steps": r.clipped_steps, "step_s": r.step_s, "notes": r.notes}

        threads.append(threading.Thread(target=att, daemon=True))
    if d.rotator is not None:
        pts = np.column_stack([tl["azimuth_deg"][m], np.maximum(tl["elevation_deg"][m], 0.0)])

        def rot() -> None:
            r = d.rotator.track(pts, step, stop=stop)
            err = r.pointing_error_deg[np.isfinite(r.pointing_error_deg)]
            report["rotator"] = {"max_pointing_error_deg": float(err.max()) if err.size else None,
                                 "steps": int(len(r.commanded_az_deg)), "notes": r.notes}

        threads.append(threading.Thread(target=rot, daemon=True))
    return threads


def recorder(record: Path, s: Scenario, st: Stretch, rx: Any = None, tx: Any = None) -> Any:
    """A SigMF recorder of the receiver's input for one stretch, with the run's metadata."""
    import tomli_w

    from ..geometry.orbit import format_utc
    from ..hw.sigmf_io import hil_metadata, sigmf_recorder

    clock = {"sample_rate_sps": st.fs, "scenario_time_of_sample_0_s": st.t_base_s,
             "utc_of_sample_0": format_utc(s.start_unix_s + st.t_base_s), "stretch": st.k}
    meta = hil_metadata(rx=rx, tx=tx, scenario_text=tomli_w.dumps(s.resolved()), sample_clock=clock)
    meta["scenario"] = s.name
    return sigmf_recorder(Path(f"{record}-stretch{st.k}"), sample_rate_sps=st.fs,
                          center_freq_hz=rx.center_freq_hz if rx is not None else s.carrier.freq_hz,
                          description=f"linksim run {s.name}, stretch {st.k}: receiver input",
                          hw=(rx.profile.name if rx is not None else "loopback"), linksim=meta)


def open_devices(d: Devices, fs: float) -> tuple[Any, Any]:
    from ..hw.sdr import make_sink, make_source

    tx = make_sink(d.tx_profile, sample_rate_sps=fs, center_freq_hz=d.center_freq_hz, gains_db=d.tx_gains_db,
                   tx_enable=d.tx_enable)
    rx = make_source(d.rx_profile, sample_rate_sps=fs, center_freq_hz=d.center_freq_hz, gains_db=d.rx_gains_db)
    return tx, rx
