"""`linksim hw`: device profiles and attached SDRs, probing, lab gear (attenuator, rotator), RF path calibration.

    linksim hw list [--json]
    linksim hw probe PROFILE [--rate SPS] [--freq HZ] [--json]
    linksim hw attenuator URL get | set DB            (URL: /dev/ttyUSB0, socket://h:p, tcp://h:p, http://ip, hid://)
    linksim hw rotator URL [--model gs232a|gs232b|rotctld] get | goto AZ EL | stop
    linksim hw calibrate --tx PROFILE --rx PROFILE --attenuation-db X --tx-enable [--max-esn0-db E] [--json]

Exit codes: 0 ok, 2 bad input, 3 device missing or refusing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from ..errors import InputError
from . import check_int_option, check_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hw", help="hardware in the loop: SDR profiles, probing, attenuator, rotator, calibration")
    hw = p.add_subparsers(dest="hw_command", metavar="HW_COMMAND", parser_class=type(p))
    hw.required = True

    q = hw.add_parser("list", help="device profiles and SDRs found (SoapySDR enumerate)")
    q.add_argument("--json", action="store_true")
    q.add_argument("--no-scan", action="store_true", help="list profiles only; do not enumerate devices")
    q.set_defaults(func=cmd_list)

    q = hw.add_parser("probe", help="open a profile's device; report sensors, reference lock, rates, gains")
    q.add_argument("profile", help="profile name (hw/profiles/NAME.toml) or a .toml path")
    q.add_argument("--rate", type=float, default=None, help="sample rate to open at, S/s (default: profile's)")
    q.add_argument("--freq", type=float, default=None, help="centre frequency, Hz (default: device's)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_probe)

    q = hw.add_parser("attenuator", help="read or set a programmable attenuator")
    q.add_argument("url", help="serial device, socket://host:port, tcp://host:port, http://ip or hid://VID:PID")
    q.add_argument("action", choices=["get", "set"])
    q.add_argument("db", nargs="?", type=float, help="attenuation for 'set', dB")
    q.add_argument("--max-db", type=float, default=None, help="range maximum (default: from the model name)")
    q.add_argument("--step-db", type=float, default=0.25)
    q.add_argument("--timeout", type=float, default=1.0, help="reply timeout, s")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_attenuator)

    q = hw.add_parser("rotator", help="read, move or stop an az/el rotator")
    q.add_argument("url", help="rotctld host:port or tcp://host:port; GS-232: serial device or socket://host:port")
    q.add_argument("action", choices=["get", "goto", "stop"])
    q.add_argument("az", nargs="?", type=float, help="azimuth for 'goto', deg")
    q.add_argument("el", nargs="?", type=float, help="elevation for 'goto', deg")
    q.add_argument("--model", choices=["gs232a", "gs232b", "rotctld"], default="rotctld")
    q.add_argument("--baud", type=int, default=9600)
    q.add_argument("--timeout", type=float, default=1.0, help="reply timeout, s")
    q.add_argument("--no-wait", action="store_true", help="goto: return at once and leave the rotator moving")
    q.add_argument("--wait-timeout", type=float, default=120.0, help="goto: give up after this many s")
    q.add_argument("--tolerance-deg", type=float, default=1.0)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_rotator)

    q = hw.add_parser("calibrate", help="cabled loopback: RX power and noise vs TX gain, RF path SNR")
    q.add_argument("--tx", required=True, help="TX profile")
    q.add_argument("--rx", required=True, help="RX profile")
    q.add_argument("--attenuation-db", type=float, required=True, help="attenuation in the cabled path, dB")
    q.add_argument("--tx-enable", action="store_true", help="allow transmitting (the profile must allow it too)")
    q.add_argument("--rate", type=float, default=None, help="sample rate, S/s")
    q.add_argument("--freq", type=float, default=None, help="centre frequency, Hz")
    q.add_argument("--symbol-rate", type=float, default=None, help="symbol rate for Es/N0, Bd (default: rate)")
    q.add_argument("--level-dbfs", type=float, default=-6.0, help="test tone level, dBFS")
    q.add_argument("--tx-gain", action="append", default=[], metavar="STAGE=DB")
    q.add_argument("--rx-gain", action="append", default=[], metavar="STAGE=DB")
    q.add_argument("--sweep-stage", default=None, help="TX gain stage to sweep (default: the widest)")
    q.add_argument("--points", type=int, default=5, help="TX gain steps")
    q.add_argument("--max-esn0-db", type=float, default=None, help="highest Es/N0 the scenario needs, dB")
    q.add_argument("--margin-db", type=float, default=3.0)
    q.add_argument("--attenuator", default=None, metavar="URL", help="programmable attenuator to set to X")
    q.add_argument("--noise-dbfs", type=float, default=None, help="loopback only: RX input noise, dBFS")
    q.add_argument("--out", default=None, help="write the result as JSON to this file")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_calibrate)


MAX_TIMEOUT_S = 3600.0


def _in_range(opt: str, value: float | None, lo: float, hi: float, unit: str, *, lo_open: bool = False) -> None:
    """An option given (not None) must be finite and in range: InputError naming it otherwise."""
    if value is not None:
        check_option(opt, value, lo, hi, lo_open=lo_open, unit=unit)


def _check_timeouts(args: argparse.Namespace) -> None:
    _in_range("--timeout", getattr(args, "timeout", None), 0.0, MAX_TIMEOUT_S, "s", lo_open=True)
    _in_range("--wait-timeout", getattr(args, "wait_timeout", None), 0.0, 86400.0, "s", lo_open=True)


def _json_safe(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_json_safe(v) for v in o]
    return o


def _dump(obj: Any) -> str:
    return json.dumps(_json_safe(obj), indent=2, default=str)


def _gains(items: list[str], flag: str) -> dict[str, float]:
    out = {}
    for it in items:
        name, sep, val = it.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(val)
        except ValueError:
            raise InputError(f"{flag} {it!r}: expected STAGE=DB, e.g. {flag} VGA=20") from None
    return out


# ---------------------------------------------------------------- list / probe


def cmd_list(args: argparse.Namespace) -> int:
    from ..errors import DeviceError
    from ..hw.profiles import list_profiles, load_profile, profiles_dir

    profiles = [load_profile(n).summary() for n in list_profiles()]
    devices: list[dict[str, str]] = []
    scan_error = None
    if not args.no_scan:
        from ..hw.discovery import find_devices

        try:
            devices = find_devices()
        except DeviceError as e:
            scan_error = str(e)
    if args.json:
        print(
            _dump(
                {
                    "profiles_dir": str(profiles_dir()),
                    "profiles": profiles,
                    "devices": devices,
                    "scan_error": scan_error,
                }
            )
        )
        return 0
    print(f"profiles ({profiles_dir()}):")
    for p in profiles:
        tx = "tx allowed" if p["tx_allowed"] else ("tx off" if p["tx"] else "rx only")
        print(f"  {p['name']:<10} {p['kind']:<9} {p['duplex']:<8} {tx:<10} {p['description']}")
    if args.no_scan:
        return 0
    if scan_error:
        print(f"devices: not scanned ({scan_error})")
    elif not devices:
        print("devices: none found")
    else:
        print("devices:")
        for d in devices:
            print("  " + ", ".join(f"{k}={v}" for k, v in d.items()))
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from ..hw.profiles import load_profile
    from ..hw.sdr import make_source

    _in_range("--rate", args.rate, 0.0, 1e10, "S/s", lo_open=True)
    _in_range("--freq", args.freq, 0.0, 1e12, "Hz", lo_open=True)
    prof = load_profile(args.profile)
    if not prof.rx:
        raise InputError(f"profile {prof.name}: cannot probe a device that does not receive")
    blk = make_source(prof, sample_rate_sps=args.rate, center_freq_hz=args.freq)
    try:
        return _report_probe(args, prof, blk)
    finally:
        blk.close()


def _report_probe(args: argparse.Namespace, prof: Any, blk: Any) -> int:
    info: dict[str, Any] = blk.metadata()
    info["sensors"] = blk.sensors()
    dev = blk.device
    if prof.kind == "soapy" and dev is not None:
        try:
            info["device_sample_rate_sps"] = dev.get_sample_rate(0)
            info["device_gains_db"] = {n: dev.get_gain(0, n) for n in dev.list_gains(0)}
            info["antennas"] = list(dev.list_antennas(0))
        except (RuntimeError, ValueError) as e:
            info["device_error"] = " ".join(str(e).split())
    elif prof.kind == "uhd" and dev is not None:
        info["device_sample_rate_sps"] = dev.get_samp_rate()
        info["device_gain_names"] = list(dev.get_gain_names(0))
    if args.json:
        print(_dump(info))
        return 0
    print(f"{prof.name}: {prof.description}")
    print(f"  opened {prof.kind} rx at {blk.sample_rate_sps} S/s; gains {blk.gains_db}")
    if "reference" in info:
        from ..hw.reference import ReferenceStatus

        print("  " + ReferenceStatus(**info["reference"]).summary())
    for k, v in info["sensors"].items():
        print(f"  sensor {k}: {v}")
    for k in ("device_sample_rate_sps", "device_gains_db", "antennas", "device_gain_names", "device_error"):
        if k in info:
            print(f"  {k}: {info[k]}")
    if "link" in info:
        print(f"  link: {info['link']}")
    return 0


# ---------------------------------------------------------------- lab gear


def cmd_attenuator(args: argparse.Namespace) -> int:
    from ..hw.attenuator import Attenuator, range_from_model
    from ..hw.transport import open_transport

    if args.action == "set" and args.db is None:
        raise InputError("attenuator set: give the attenuation in dB")
    if args.action == "get" and args.db is not None:
        raise InputError("attenuator get takes no value")
    _check_timeouts(args)
    _in_range("--max-db", args.max_db, 0.0, 1000.0, "dB", lo_open=True)
    _in_range("--step-db", args.step_db, 0.0, 100.0, "dB", lo_open=True)
    if args.db is not None:
        check_option("attenuator set DB", args.db, 0.0, None, unit="dB")
    transport = open_transport(args.url, timeout_s=args.timeout)
    # a CLI 'get' must not change the setting, and a 'set' must leave the value in place
    try:
        att = Attenuator(transport, max_db=args.max_db, step_db=args.step_db, start_at_max=False)
        model_max = range_from_model(att.model)
        if args.max_db is not None and model_max is not None and args.max_db > model_max:
            raise InputError(f"--max-db: {args.max_db:g} dB is beyond the device's range (must be in [0, "
                             f"{model_max:g}] dB for {att.model})")
    except BaseException:
        transport.close()
        raise
    try:
        if args.action == "set":
            att.set_db(args.db)
        value = att.get_db()
    finally:
        att.close(to_max=False)
    out = {
        "url": args.url,
        "model": att.model,
        "serial": att.serial,
        "attenuation_db": value,
        "range_db": [att.min_db, att.max_db],
        "step_db": att.step_db,
    }
    if args.json:
        print(_dump(out))
    else:
        print(f"{att.model} (SN {att.serial}): {value:g} dB (range {att.min_db:g}..{att.max_db:g} dB)")
    return 0


def cmd_rotator(args: argparse.Namespace) -> int:
    from ..hw.rotator import open_rotator

    if args.action == "goto" and (args.az is None or args.el is None):
        raise InputError("rotator goto: give AZ and EL in degrees")
    if args.action != "goto" and args.az is not None:
        raise InputError(f"rotator {args.action} takes no angles")
    _check_timeouts(args)
    _in_range("--tolerance-deg", args.tolerance_deg, 0.0, 180.0, "deg", lo_open=True)
    check_int_option("--baud", args.baud, 50, 4_000_000)
    rot = open_rotator(args.url, args.model, baudrate=args.baud, timeout_s=args.timeout)
    out: dict[str, Any] = {"url": args.url, "model": args.model}
    if args.action == "goto" and args.no_wait:
        # leave it moving on purpose: release the port without the safety stop
        try:
            out["target"] = rot.goto(args.az, args.el)
        except BaseException:
            rot.close()  # stops
            raise
        rot.transport.close()
    else:
        with rot:  # stops on exit, error and Ctrl-C
            if args.action == "goto":
                out["target"] = rot.goto(args.az, args.el)
                out["az_deg"], out["el_deg"] = rot.wait_until(
                    *out["target"], tolerance_deg=args.tolerance_deg, timeout_s=args.wait_timeout
                )
            elif args.action == "stop":
                rot.stop()
                out["az_deg"], out["el_deg"] = rot.position()
            else:
                out["az_deg"], out["el_deg"] = rot.position()
    if args.json:
        print(_dump(out))
    elif "az_deg" in out:
        print(f"az {out['az_deg']:.1f} deg  el {out['el_deg']:.1f} deg")
    else:
        print(f"moving to az {out['target'][0]:g} el {out['target'][1]:g} deg")
    return 0


# ---------------------------------------------------------------- calibration


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..hw.attenuator import open_attenuator
    from ..hw.calibrate import calibrate
    from ..hw.profiles import load_profile

    _in_range("--attenuation-db", args.attenuation_db, 0.0, 1000.0, "dB")
    _in_range("--rate", args.rate, 0.0, 1e10, "S/s", lo_open=True)
    _in_range("--freq", args.freq, 0.0, 1e12, "Hz", lo_open=True)
    _in_range("--symbol-rate", args.symbol_rate, 0.0, 1e10, "Bd", lo_open=True)
    _in_range("--level-dbfs", args.level_dbfs, -200.0, 0.0, "dBFS")
    _in_range("--max-esn0-db", args.max_esn0_db, -30.0, 100.0, "dB")
    _in_range("--margin-db", args.margin_db, 0.0, 100.0, "dB")
    _in_range("--noise-dbfs", args.noise_dbfs, -300.0, 0.0, "dBFS")
    check_int_option("--points", args.points, 2, 1000)
    tx_p, rx_p = load_profile(args.tx), load_profile(args.rx)
    opts_rx: dict[str, Any] = {}
    if args.noise_dbfs is not None:
        if rx_p.kind != "loopback":
            raise InputError("--noise-dbfs applies to the loopback pseudo-device only")
        opts_rx["noise_dbfs"] = args.noise_dbfs
    att = open_attenuator(args.attenuator) if args.attenuator else None
    try:
        res = calibrate(
            tx_p,
            rx_p,
            attenuation_db=args.attenuation_db,
            tx_enable=args.tx_enable,
            sample_rate_sps=args.rate,
            center_freq_hz=args.freq,
            symbol_rate_sps=args.symbol_rate,
            level_dbfs=args.level_dbfs,
            tx_gains_db=_gains(args.tx_gain, "--tx-gain"),
            rx_gains_db=_gains(args.rx_gain, "--rx-gain"),
            sweep_stage=args.sweep_stage,
            points=args.points,
            max_esn0_db=args.max_esn0_db,
            margin_db=args.margin_db,
            attenuator=att,
            options_rx=opts_rx,
        )
        if att is not None:
            res.devices["attenuator"] = att.metadata()
    finally:
        if att is not None:
            att.close()
    d = res.as_dict()
    if args.out:
        with open(args.out, "w") as f:
            f.write(_dump(d) + "\n")
    for w in res.warnings:
        sys.stderr.write(f"linksim: warning: {w}\n")
    if args.json:
        print(_dump(d))
        return 0
    print(
        f"RF path {res.tx_profile} -> {res.attenuation_db:g} dB -> {res.rx_profile} at {res.sample_rate_sps:g} S/s, "
        f"tone {res.level_dbfs:g} dBFS, RX gains {res.rx_gains_db}"
    )
    print(f"  {'TX gain dB':>10} {'RX power dBFS':>14} {'noise dBFS':>11} {'SNR dB':>8}")
    for p in res.points:
        print(f"  {p.tx_gain_total_db:10.2f} {p.rx_power_dbfs:14.2f} {p.noise_floor_dbfs:11.2f} {p.snr_db:8.2f}")
    print(
        f"  slope {res.slope_db_per_db:.3f} dB/dB; best SNR {res.best_snr_db:.2f} dB; "
        f"path Es/N0 {res.path_esn0_db:.2f} dB at {res.symbol_rate_sps:g} Bd"
    )
    if res.supports is not None:
        verdict = "supports" if res.supports else "CANNOT support"
        print(f"  {verdict} max Es/N0 {res.max_esn0_db:g} dB + {res.margin_db:g} dB margin")
    return 0
