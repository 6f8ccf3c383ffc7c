"""SDR device profiles: TOML files under `hw/profiles/` with a closed vocabulary, checked by a schema.

A profile says how to open a device (`kind`, `driver`, `device_args`), what it can do (sample-rate and
frequency limits, named gain stages with ranges and steps, duplex) and what the lab allows (`tx_allowed`, TX
gain/power limits, whether the reference must be locked). Every unknown key, wrong type or inconsistent value is
refused with an InputError naming the file and the dotted key.

Example (hw/profiles/hackrf.toml):

    name = "hackrf"
    kind = "soapy"
    driver = "hackrf"
    duplex = "half"
    tx_allowed = false
    [sample_rate]
    min_sps = 2e6
    max_sps = 20e6
    [gains.rx.LNA]
    min_db = 0
    max_db = 40
    step_db = 8
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import InputError
from ..files import FileError, read_toml

KINDS = ("soapy", "uhd", "zmq", "sigmf", "loopback")
PSEUDO_KINDS = ("zmq", "sigmf", "loopback")
DUPLEX = ("full", "half", "rx_only")

# Options each pseudo-device kind accepts in its [options] table: name -> type.
PSEUDO_OPTIONS: Mapping[str, Mapping[str, type | tuple[type, ...]]] = MappingProxyType(
    {
        "zmq": {
            "tx_address": str,
            "rx_address": str,
            "tx_bind": bool,
            "rx_bind": bool,
            "pattern": str,
            "hwm": int,
            "fill_gaps": bool,
            "idle_timeout_s": (int, float),
            "send_timeout_s": (int, float),
        },
        "sigmf": {"path": str, "throttle": bool, "repeat": bool},
        "loopback": {
            "channel": str,
            "path_gain_db": (int, float),
            "noise_dbfs": (int, float),
            "seed": int,
            "idle_timeout_s": (int, float),
        },
        "soapy": {},
        "uhd": {},
    }
)

_NUM = (int, float)
# The closed vocabulary: key -> type, or a nested dict for a table.
_SCHEMA: dict[str, Any] = {
    "name": str,
    "description": str,
    "kind": str,
    "driver": str,
    "device_args": str,
    "stream_args": str,
    "duplex": str,
    "rx": bool,
    "tx": bool,
    "tx_allowed": bool,
    "sample_rate": {"min_sps": _NUM, "max_sps": _NUM, "default_sps": _NUM},
    "frequency": {"min_hz": _NUM, "max_hz": _NUM},
    "antenna": {"rx": str, "tx": str},
    "tx_limits": {"max_gain_db": _NUM, "max_power_dbm": _NUM},
    "reference": {
        "clock_source": str,
        "time_source": str,
        "lock_sensors": list,
        "require_lock": bool,
    },
    "gains": {"rx": "stages", "tx": "stages"},
    "options": "options",
    "notes": str,
}
_STAGE_KEYS = {"min_db": _NUM, "max_db": _NUM, "step_db": _NUM, "default_db": _NUM}


@dataclass(frozen=True)
class GainStage:
    """A named gain element (e.g. HackRF `LNA`): range and step in dB."""

    name: str
    min_db: float
    max_db: float
    step_db: float
    default_db: float

    def clamp(self, gain_db: float) -> float:
        """Nearest settable gain within the range (dB)."""
        g = min(max(float(gain_db), self.min_db), self.max_db)
        if self.step_db > 0:
            g = self.min_db + round((g - self.min_db) / self.step_db) * self.step_db
            g = min(g, self.max_db)
        return float(g)


@dataclass(frozen=True)
class DeviceProfile:
    """A validated device profile. Frequencies in Hz, rates in samples/s, gains in dB, power in dBm."""

    name: str
    kind: str
    driver: str
    description: str = ""
    device_args: str = ""
    stream_args: str = ""
    duplex: str = "full"
    rx: bool = True
    tx: bool = False
    tx_allowed: bool = False
    min_sps: float = 0.0
    max_sps: float = math.inf
    default_sps: float | None = None
    min_freq_hz: float = 0.0
    max_freq_hz: float = math.inf
    antenna_rx: str | None = None
    antenna_tx: str | None = None
    tx_max_gain_db: float | None = None
    tx_max_power_dbm: float | None = None
    clock_source: str | None = None
    time_source: str | None = None
    lock_sensors: tuple[str, ...] = ()
    require_lock: bool = False
    rx_gains: tuple[GainStage, ...] = ()
    tx_gains: tuple[GainStage, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def is_pseudo(self) -> bool:
        return self.kind in PSEUDO_KINDS

    def soapy_args(self) -> str:
        """SoapySDR device string, e.g. `driver=hackrf,serial=...`."""
        parts = [f"driver={self.driver}"] + ([self.device_args] if self.device_args else [])
        return ",".join(parts)

    def stages(self, direction: str) -> tuple[GainStage, ...]:
        if direction not in ("rx", "tx"):
            raise InputError(f"direction must be 'rx' or 'tx', got {direction!r}")
        return self.rx_gains if direction == "rx" else self.tx_gains

    def clamp_gains(self, direction: str, gains_db: Mapping[str, float] | None) -> tuple[dict[str, float], list[str]]:
        """Gains to apply per stage (defaults filled in), each clamped to its stage's range and step, and the
        TX total capped at `tx_limits.max_gain_db`. Returns (gains, notes); notes name every change made."""
        stages = {s.name: s for s in self.stages(direction)}
        req = dict(gains_db or {})
        unknown = sorted(set(req) - set(stages))
        if unknown:
            raise InputError(
                f"profile {self.name}: no {direction} gain stage {', '.join(unknown)}; "
                f"stages are {', '.join(stages) or 'none'}"
            )
        out: dict[str, float] = {}
        notes: list[str] = []
        for name, st in stages.items():
            want = float(req.get(name, st.default_db))
            got = st.clamp(want)
            if name in req and abs(got - want) > 1e-9:
                notes.append(f"{direction} gain {name} {want:g} dB -> {got:g} dB (range {st.min_db:g}..{st.max_db:g})")
            out[name] = got
        if direction == "tx" and self.tx_max_gain_db is not None:
            total = sum(out.values())
            excess = total - self.tx_max_gain_db
            for name in list(out):  # take the excess off in profile order (front-end stages first)
                if excess <= 1e-9:
                    break
                st = stages[name]
                cut = min(excess, out[name] - st.min_db)
                new = st.clamp(out[name] - cut)
                if new > out[name] - cut + 1e-9:  # rounding went up: go one step lower if possible
                    new = max(st.min_db, new - st.step_db)
                excess -= out[name] - new
                out[name] = new
            if sum(out.values()) < total - 1e-9:
                notes.append(
                    f"tx gain total {total:g} dB capped to {sum(out.values()):g} dB "
                    f"(profile limit {self.tx_max_gain_db:g} dB)"
                )
        return out, notes

    def check_rate(self, sample_rate_sps: float) -> None:
        if not (self.min_sps <= sample_rate_sps <= self.max_sps):
            raise InputError(
                f"profile {self.name}: sample rate {sample_rate_sps:g} S/s outside {self.min_sps:g}..{self.max_sps:g}"
            )

    def check_frequency(self, freq_hz: float) -> None:
        if not (self.min_freq_hz <= freq_hz <= self.max_freq_hz):
            raise InputError(
                f"profile {self.name}: frequency {freq_hz:g} Hz outside {self.min_freq_hz:g}..{self.max_freq_hz:g}"
            )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description (for `linksim hw list --json` and run metadata)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "driver": self.driver,
            "description": self.description,
            "duplex": self.duplex,
            "rx": self.rx,
            "tx": self.tx,
            "tx_allowed": self.tx_allowed,
            "sample_rate_sps": [_finite(self.min_sps), _finite(self.max_sps)],
            "frequency_hz": [_finite(self.min_freq_hz), _finite(self.max_freq_hz)],
            "rx_gains_db": {s.name: [s.min_db, s.max_db, s.step_db] for s in self.rx_gains},
            "tx_gains_db": {s.name: [s.min_db, s.max_db, s.step_db] for s in self.tx_gains},
            "source": self.source,
        }


def _finite(x: float) -> float | None:
    """JSON has no infinity: an open limit is None."""
    return float(x) if math.isfinite(x) else None


def profiles_dir() -> Path:
    """Where shipped profiles live: $LINKSIM_HW_PROFILES, else `hw/profiles` at the repository root."""
    env = os.environ.get("LINKSIM_HW_PROFILES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "hw" / "profiles"


def list_profiles(directory: Path | None = None) -> list[str]:
    d = directory or profiles_dir()
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def load_profile(name_or_path: str | os.PathLike[str], directory: Path | None = None) -> DeviceProfile:
    """Load a profile by name (`hackrf`) from the profiles directory, or from a `.toml` path."""
    p = Path(name_or_path)
    if p.suffix != ".toml":
        p = (directory or profiles_dir()) / f"{name_or_path}.toml"
        if not p.is_file():
            avail = ", ".join(list_profiles(directory)) or "none"
            raise InputError(f"no device profile {str(name_or_path)!r} (profiles: {avail})")
    try:
        data = read_toml(p)[1]  # bounded UTF-8 text: a FIFO, a device or a binary file is refused
    except FileError as e:
        raise InputError(f"{p}: {'no such profile file' if e.problem == 'no such file' else e.problem}") from None
    return profile_from_dict(data, source=str(p))


def profile_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> DeviceProfile:
    """Validate a profile table against the schema and build the DeviceProfile."""

    def bad(key: str, problem: str) -> InputError:
        return InputError(f"{source}: {key}: {problem}")

    def check_table(table: Mapping[str, Any], schema: Mapping[str, Any], prefix: str) -> None:
        for key, value in table.items():
            dotted = f"{prefix}{key}"
            if key not in schema:
                raise bad(dotted, f"unknown key (allowed: {', '.join(schema)})")
            want = schema[key]
            if isinstance(want, dict):
                if not isinstance(value, dict):
                    raise bad(dotted, "must be a table")
                check_table(value, want, dotted + ".")
            elif want == "stages":
                if not isinstance(value, dict):
                    raise bad(dotted, "must be a table of gain stages")
                for stage, spec in value.items():
                    if not isinstance(spec, dict):
                        raise bad(f"{dotted}.{stage}", "must be a table with min_db, max_db, step_db")
                    check_table(spec, _STAGE_KEYS, f"{dotted}.{stage}.")
                    for req in ("min_db", "max_db"):
                        if req not in spec:
                            raise bad(f"{dotted}.{stage}.{req}", "missing")
            elif want == "options":
                if not isinstance(value, dict):
                    raise bad(dotted, "must be a table")
            elif want is _NUM:
                if isinstance(value, bool) or not isinstance(value, _NUM) or not math.isfinite(value):
                    raise bad(dotted, f"must be a number, got {value!r}")
            elif not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise bad(dotted, f"must be {want.__name__}, got {type(value).__name__}")

    check_table(data, _SCHEMA, "")
    for req in ("name", "kind", "driver"):
        if req not in data:
            raise bad(req, "missing")
    kind = data["kind"]
    if kind not in KINDS:
        raise bad("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    duplex = data.get("duplex", "full")
    if duplex not in DUPLEX:
        raise bad("duplex", f"{duplex!r} is not one of {', '.join(DUPLEX)}")
    opts = dict(data.get("options", {}))
    check_options(kind, opts, source)

    def stages(direction: str) -> tuple[GainStage, ...]:
        out = []
        for name, spec in data.get("gains", {}).get(direction, {}).items():
            lo, hi = float(spec["min_db"]), float(spec["max_db"])
            step = float(spec.get("step_db", 0.0))
            dflt = float(spec.get("default_db", lo))
            key = f"gains.{direction}.{name}"
            if hi < lo or step < 0:
                raise bad(key, f"range {lo:g}..{hi:g} dB with step {step:g} dB is not valid")
            if not lo <= dflt <= hi:
                raise bad(f"{key}.default_db", f"{dflt:g} dB outside {lo:g}..{hi:g}")
            out.append(GainStage(name, lo, hi, step, dflt))
        return tuple(out)

    sr = data.get("sample_rate", {})
    fr = data.get("frequency", {})
    ref = data.get("reference", {})
    lim = data.get("tx_limits", {})
    ant = data.get("antenna", {})
    lock_sensors = ref.get("lock_sensors", [])
    if not all(isinstance(s, str) for s in lock_sensors):
        raise bad("reference.lock_sensors", "must be a list of sensor names")
    rx = bool(data.get("rx", True))
    tx = bool(data.get("tx", False))
    tx_allowed = bool(data.get("tx_allowed", False))
    if tx_allowed and not tx:
        raise bad("tx_allowed", "true but the device cannot transmit (tx = false)")
    if duplex == "rx_only" and tx:
        raise bad("duplex", "rx_only but tx = true")
    prof = DeviceProfile(
        name=data["name"],
        kind=kind,
        driver=data["driver"],
        description=data.get("description", ""),
        device_args=data.get("device_args", ""),
        stream_args=data.get("stream_args", ""),
        duplex=duplex,
        rx=rx,
        tx=tx,
        tx_allowed=tx_allowed,
        min_sps=float(sr.get("min_sps", 0.0)),
        max_sps=float(sr.get("max_sps", math.inf)),
        default_sps=float(sr["default_sps"]) if "default_sps" in sr else None,
        min_freq_hz=float(fr.get("min_hz", 0.0)),
        max_freq_hz=float(fr.get("max_hz", math.inf)),
        antenna_rx=ant.get("rx"),
        antenna_tx=ant.get("tx"),
        tx_max_gain_db=float(lim["max_gain_db"]) if "max_gain_db" in lim else None,
        tx_max_power_dbm=float(lim["max_power_dbm"]) if "max_power_dbm" in lim else None,
        clock_source=ref.get("clock_source"),
        time_source=ref.get("time_source"),
        lock_sensors=tuple(lock_sensors),
        require_lock=bool(ref.get("require_lock", False)),
        rx_gains=stages("rx"),
        tx_gains=stages("tx"),
        options=MappingProxyType(opts),
        source=source,
    )
    if prof.max_sps < prof.min_sps:
        raise bad("sample_rate", "max_sps below min_sps")
    if prof.max_freq_hz < prof.min_freq_hz:
        raise bad("frequency", "max_hz below min_hz")
    if prof.default_sps is not None:
        try:
            prof.check_rate(prof.default_sps)
        except InputError:
            raise bad("sample_rate.default_sps", "outside min_sps..max_sps") from None
    if prof.require_lock and not prof.lock_sensors:
        raise bad("reference.require_lock", "true but no lock_sensors are named")
    if prof.tx and not prof.tx_gains and not prof.is_pseudo:
        raise bad("gains.tx", "a TX-capable device needs its TX gain stages")
    if prof.rx and not prof.rx_gains and not prof.is_pseudo:
        raise bad("gains.rx", "an RX device needs its RX gain stages")
    return prof


def check_options(kind: str, opts: Mapping[str, Any], source: str = "options") -> None:
    """InputError unless every key of `opts` is an option of pseudo-device `kind` with the right type."""
    allowed = PSEUDO_OPTIONS[kind]
    for k, v in opts.items():
        if k not in allowed:
            raise InputError(
                f"{source}: options.{k}: unknown option for kind {kind} (allowed: {', '.join(allowed) or 'none'})"
            )
        want = allowed[k]
        if not isinstance(v, want) or (isinstance(v, bool) and want is not bool):
            raise InputError(f"{source}: options.{k}: wrong type {type(v).__name__}")
    if kind == "zmq" and opts.get("pattern", "pushpull") not in ("pushpull", "pubsub"):
        raise InputError(f"{source}: options.pattern: must be 'pushpull' or 'pubsub'")
