"""Reference clock / GPSDO lock as a precondition of a hardware run, recorded in the run's metadata.

`read_reference(device, profile)` reads the profile's lock sensors (`ref_locked`, `gps_locked`, ...) from
anything with `read_sensor(name)` (a gr-soapy block, the SDR factory's blocks, a fake) or `get_mboard_sensor`
(a gr-uhd block). `require_lock(status)` raises DeviceError (one line) when the profile requires lock and
the reference is not locked.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import DeviceError
from .profiles import DeviceProfile

_TRUE = ("true", "1", "yes", "locked")
_FALSE = ("false", "0", "no", "unlocked")


@dataclass
class ReferenceStatus:
    """Lock state of a device's frequency/time reference. `locked` None means 'no lock sensor to read'."""

    device: str
    clock_source: str | None
    time_source: str | None
    locked: bool | None
    sensors: dict[str, str] = field(default_factory=dict)
    read_utc: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        state = {True: "LOCKED", False: "NOT LOCKED", None: "lock unknown"}[self.locked]
        src = self.clock_source or "default"
        sens = ", ".join(f"{k}={v}" for k, v in self.sensors.items()) or "no sensors"
        return f"reference {src}: {state} ({sens}){'; ' + self.note if self.note else ''}"


def sensor_bool(value: Any) -> bool | None:
    """Interpret a sensor reading as a lock flag (SoapySDR strings, UHD sensor_value_t, bools)."""
    if isinstance(value, bool):
        return value
    to_bool = getattr(value, "to_bool", None)
    if callable(to_bool):
        try:
            return bool(to_bool())
        except Exception:  # noqa: BLE001 - a non-boolean UHD sensor
            return None
    text = str(getattr(value, "value", value)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _read(device: Any, name: str) -> Any:
    if hasattr(device, "get_mboard_sensor"):
        return device.get_mboard_sensor(name, 0)
    return device.read_sensor(name)


def read_reference(device: Any, profile: DeviceProfile) -> ReferenceStatus:
    """Read the profile's lock sensors from `device`. Unreadable sensors are recorded, not fatal."""
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    status = ReferenceStatus(profile.name, profile.clock_source, profile.time_source, None, read_utc=now)
    if profile.is_pseudo:
        status.note = "pseudo-device: no reference"
        return status
    if not profile.lock_sensors:
        status.note = "profile names no lock sensor"
        return status
    flags: list[bool] = []
    for name in profile.lock_sensors:
        try:
            raw = _read(device, name)
        except Exception as e:  # noqa: BLE001 - drivers raise RuntimeError/ValueError/KeyError
            status.sensors[name] = f"unreadable: {' '.join(str(e).split())}"
            continue
        flag = sensor_bool(raw)
        pp = getattr(raw, "to_pp_string", None)
        status.sensors[name] = pp() if callable(pp) else str(raw)
        if flag is not None:
            flags.append(flag)
    status.locked = all(flags) if flags else None
    return status


def require_lock(status: ReferenceStatus, profile: DeviceProfile) -> None:
    """DeviceError unless the reference is locked, when the profile requires lock."""
    if profile.require_lock and status.locked is not True:
        raise DeviceError(f"profile {profile.name}: reference not locked ({status.summary()}); check the 10 MHz/PPS")
