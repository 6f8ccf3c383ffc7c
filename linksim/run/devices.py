"""Hardware in the loop for a run: the SDRs (through the device factory), lab gear beside the flowgraph (attenuator
replaying the fade, rotator tracking the satellite) and SigMF recording of the receiver's input."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..budget import timeline as budget
from ..errors import InputError
from ..scenario.model import Scenario

if TYPE_CHECKING:
    from .flowgraph import Fault
    from .prepare import RunPlan, Stretch
    from .safety import LabGuard


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
    guard: LabGuard | None = None  # what makes the lab gear safe on any exit (the TX mute is added per stretch)

    def check(self, plan: RunPlan) -> None:
        """Refuse, before anything runs, what the devices cannot do: unknown profiles, TX not allowed, a sample
        rate or centre frequency outside a profile's range, an attenuation base outside the attenuator's range."""
        from ..hw.profiles import load_profile

        fs = plan.scenario.carrier.symbol_rate_baud * plan.scenario.channel.sps
        fc = self.center_freq_hz
        if fc is not None and not (math.isfinite(fc) and fc > 0):
            raise InputError(f"--center-freq {fc:g}: must be a positive frequency in Hz")
        for name, direction in ((self.tx_profile, "tx"), (self.rx_profile, "rx")):
            prof = load_profile(name)
            if direction == "tx" and not prof.tx:
                raise InputError(f"--tx {name}: the device cannot transmit")
            if direction == "rx" and not prof.rx:
                raise InputError(f"--rx {name}: the device cannot receive")
            if direction == "tx" and not (prof.tx_allowed and self.tx_enable):
                raise InputError(f"--tx {name}: TX is off (the profile must allow it and --tx-enable must be given)")
            try:
                prof.check_rate(fs)
                if fc is not None and not prof.is_pseudo:
                    prof.check_frequency(fc)
            except InputError as e:
                opt = f"--center-freq {fc:g}" if "frequency" in str(e) else f"--{direction} {name}"
                raise InputError(f"{opt}: {e}") from None
        att = self.attenuator
        if att is not None and not att.min_db <= self.attenuation_base_db <= att.max_db:
            raise InputError(f"--attenuation-base {self.attenuation_base_db:g}: outside the attenuator's range "
                             f"{att.min_db:g}..{att.max_db:g} dB")


def lab_threads(d: Devices, tl: budget.Timeline, st: Stretch, stop: threading.Event,
                fault: Fault | None = None) -> list[threading.Thread]:
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

        threads.append(fault.thread(att, "attenuator") if fault else threading.Thread(target=att, daemon=True))
    if d.rotator is not None:
        pts = np.column_stack([tl["azimuth_deg"][m], np.maximum(tl["elevation_deg"][m], 0.0)])

        def rot() -> None:
            r = d.rotator.track(pts, step, stop=stop)
            err = r.pointing_error_deg[np.isfinite(r.pointing_error_deg)]
            report["rotator"] = {"max_pointing_error_deg": float(err.max()) if err.size else None,
                                 "steps": int(len(r.commanded_az_deg)), "notes": r.notes}

        threads.append(fault.thread(rot, "rotator") if fault else threading.Thread(target=rot, daemon=True))
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


def open_devices(d: Devices, fs: float, link_timeout_s: float | None = None) -> tuple[Any, Any]:
    """The TX sink and RX source; a ZeroMQ sink (zmq and loopback profiles) gives up a send after
    link_timeout_s instead of waiting for a peer that is gone."""
    from ..hw.sdr import make_sink, make_source

    tx = make_sink(d.tx_profile, sample_rate_sps=fs, center_freq_hz=d.center_freq_hz, gains_db=d.tx_gains_db,
                   tx_enable=d.tx_enable)
    try:
        rx = make_source(d.rx_profile, sample_rate_sps=fs, center_freq_hz=d.center_freq_hz, gains_db=d.rx_gains_db)
    except BaseException:
        tx.close()
        raise
    sender = getattr(getattr(tx, "zmq_block", None), "sender", None)
    if sender is not None and link_timeout_s is not None and sender.send_timeout_s is None:
        sender.send_timeout_s = link_timeout_s
    return tx, rx
