"""`linksim run SCENARIO`: the end-to-end loopback run that measures the throughput the terminal keeps.

Every option is checked before anything is written (one line naming the option and its valid range, exit code 2);
the run directory is locked while the run writes it. Signals are taken by linksim.run.safety.Supervisor: Ctrl-C or
SIGTERM stops the run within 10 s, keeping what was measured (status "partial"), with the lab gear safe; a second
Ctrl-C leaves at once (lab gear safe too).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

LOCK_NAME = ".linksim-run.lock"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run", help="run a scenario end to end (DVB-S2 TX -> channel -> RX) and report",
        description="Run a scenario end to end in a GNU Radio loopback flowgraph driven by its budget Timeline, "
                    "measure goodput, FER and Es/N0 per time bin next to the budget's prediction, and write a run "
                    "directory with a report.")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--out", metavar="DIR", help="run directory (default runs/<scenario>-<time>); its parent must "
                   "exist; an existing directory must be empty or an earlier run's (whose files are replaced)")
    p.add_argument("--start", type=float, default=0.0, metavar="S", help="start S seconds into the scenario")
    p.add_argument("--duration", type=float, metavar="S", help="simulate S seconds (default: to the end)")
    p.add_argument("--seed", type=int, help="seed for the channel and the payload (default: the scenario's)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--acm", dest="acm", action="store_true", default=None, help="adaptive coding and modulation")
    mode.add_argument("--ccm", dest="acm", action="store_false", help="constant MODCOD (the scenario's)")
    p.add_argument("--every", type=float, metavar="S", help="dwell mode: simulate a stretch every S seconds ...")
    p.add_argument("--dwell", type=float, metavar="S", help="... of S seconds each")
    p.add_argument("--bin", type=float, metavar="S", help="measurement time bin (default: the timeline step)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a scenario key")
    p.add_argument("--link-timeout", type=float, default=None, metavar="S",
                   help="a receiver, device or split-run peer silent this long ends the run with exit code 3, "
                        "keeping what was measured (default 30)")
    hw = p.add_argument_group("hardware in the loop (profiles in hw/profiles; see hw/README.md)")
    hw.add_argument("--tx", metavar="PROFILE", help="transmit through this device profile (e.g. b210, loopback)")
    hw.add_argument("--rx", metavar="PROFILE", help="receive from this device profile")
    hw.add_argument("--tx-enable", action="store_true", help="allow RF transmission (the profile must allow it too)")
    hw.add_argument("--center-freq", type=float, metavar="HZ", help="lab RF/IF centre frequency for the devices")
    hw.add_argument("--attenuator", metavar="URL", help="replay the scenario's fade on a programmable attenuator")
    hw.add_argument("--attenuation-base", type=float, default=None, metavar="DB",
                    help="attenuator setting with no fade (default 0)")
    hw.add_argument("--rotator", metavar="URL", help="point an antenna rotator at the satellite")
    hw.add_argument("--rotator-model", choices=("rotctld", "gs232a", "gs232b"), default="rotctld")
    hw.add_argument("--record", metavar="PATH", help="record the receiver's input of each stretch as SigMF "
                    "(PATH-stretchK.sigmf-meta/-data, with device, gains, reference lock, scenario hash, sample clock)")
    hw.add_argument("--tx-scale", type=float, default=0.3, metavar="A", help="digital TX amplitude (0 < A <= 1)")
    sp = p.add_argument_group("split run (TX and RX halves in separate processes or hosts, IQ over ZeroMQ)")
    sp.add_argument("--role", choices=("tx", "rx"), help="run only this half; start the tx half first")
    sp.add_argument("--link", metavar="tcp://HOST:PORT", default=None,
                    help="IQ on PORT, control on PORT+1 and PORT+2 (the tx half binds them; default "
                         "tcp://127.0.0.1:5560)")
    sp.add_argument("--inject-drop-every", type=int, default=0, metavar="N", help=argparse.SUPPRESS)
    ip = p.add_argument_group("IP traffic in real time (root: namespaces, TUN, iperf3; docs/ip.md)")
    ip.add_argument("--traffic", metavar="SPEC", help="tcp | udp[:RATE[:BYTES]] | ping | cmd:\"COMMAND\" between a "
                    "gateway and a terminal namespace, the forward link through the IQ simulation")
    ip.add_argument("--tcp-cc", metavar="NAME", help="TCP congestion control (cubic, bbr, ... as the kernel offers)")
    ip.add_argument("--tcp-window", metavar="BYTES", help="iperf3 socket buffer / window (e.g. 16K, 4M)")
    ip.add_argument("--pep", action="store_true", help="split-TCP performance-enhancing proxy in the namespaces")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------- checks

# run options (linksim.run.options keys) as the command line spells them
CLI_NAMES = {"duration_s": "--duration", "start_s": "--start", "every_s": "--every", "dwell_s": "--dwell",
             "bin_s": "--bin", "seed": "--seed", "link_timeout_s": "--link-timeout", "record": "--record",
             "acm": "--acm/--ccm"}


def check_run_options(args: argparse.Namespace, s: Any) -> None:
    """The run's options checked as the run checks them (linksim.run.options), named as typed."""
    from ..errors import FieldError, InputError
    from ..run.options import check_run_options as check

    try:
        check(s, duration_s=args.duration, start_s=args.start, every_s=args.every, dwell_s=args.dwell,
              seed=args.seed, bin_s=args.bin, link_timeout_s=args.link_timeout, record=args.record)
    except FieldError as e:
        problem = e.problem
        for key, name in CLI_NAMES.items():  # "every_s and dwell_s go together" -> "--every and --dwell ..."
            if key.endswith("_s"):
                problem = re.sub(rf"\b{key}\b", name, problem)
        raise InputError(f"{CLI_NAMES.get(e.field, e.field)}: {problem}") from None


def _check_cli(args: argparse.Namespace) -> None:
    """The options that only the command line has (the rest are checked where the run is prepared)."""
    from ..errors import InputError
    from ..run.options import DEFAULT_LINK_TIMEOUT_S
    from . import check_option

    hardware = bool(args.tx or args.rx)
    if args.link is not None and not args.role:
        raise InputError("--link needs --role tx or --role rx (a split run)")
    if args.link_timeout is None:
        args.link_timeout = DEFAULT_LINK_TIMEOUT_S
    if args.inject_drop_every < 0:
        raise InputError(f"--inject-drop-every: {args.inject_drop_every} is out of range (must be >= 0)")
    check_option("--tx-scale", args.tx_scale, 0.0, 1.0, lo_open=True)  # digital full scale
    if args.center_freq is not None:
        check_option("--center-freq", args.center_freq, 0.0, None, lo_open=True, unit="Hz")
        if not hardware:
            raise InputError("--center-freq needs a hardware run (--tx PROFILE --rx PROFILE)")
    if args.attenuation_base is not None:
        if not args.attenuator:
            raise InputError("--attenuation-base needs --attenuator URL")
        check_option("--attenuation-base", args.attenuation_base, 0.0, None, unit="dB")
    if hardware and not (args.tx and args.rx):
        raise InputError("--tx and --rx go together (use the loopback profile for the side without hardware)")
    if (args.attenuator or args.rotator) and not hardware:
        raise InputError("--attenuator and --rotator need a hardware run (--tx PROFILE --rx PROFILE)")
    if args.role:
        unsupported = [o for o, v in (("--tx/--rx", hardware), ("--record", args.record), ("--bin", args.bin)) if v]
        if unsupported:  # the two halves carry neither hardware nor these options
            raise InputError(f"{', '.join(unsupported)} not supported with --role (split runs are loopback only)")


def safe_name(name: str) -> str:
    """A scenario name as one directory name: letters, digits, '.', '_' and '-' only; never '', '.' or '..'."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")[:80]
    return s or "run"


def default_out(name: str) -> Path:
    """runs/<name>-<time>: always inside runs/, whatever the scenario's name says."""
    return Path("runs") / f"{safe_name(name)}-{time.strftime('%Y%m%dT%H%M%S')}"


def _is_run_dir(path: Path) -> bool:
    return (path / "summary.json").is_file() or (path / "scenario.toml").is_file()


class RunDirLock:
    """The run directory, checked, created if needed and locked (flock) for this run: a second run on the same
    directory is refused. `created` tells whether this run made it (removed again if nothing was written)."""

    def __init__(self, path: Path, explicit: bool) -> None:
        from ..errors import InputError

        opt = "--out " if explicit else ""
        self.path = path
        self.created = False
        if path.exists() and not path.is_dir():
            raise InputError(f"{opt}{path}: exists and is not a directory")
        if explicit and not path.exists() and not path.parent.is_dir():
            raise InputError(f"{opt}{path}: parent directory {path.parent} does not exist")
        if path.is_dir():
            others = [p.name for p in path.iterdir() if p.name != LOCK_NAME]
            if others and not _is_run_dir(path):
                raise InputError(f"{opt}{path}: not empty and not a linksim run directory (choose a new or empty "
                                 "directory)")
        try:
            if not path.exists():
                path.mkdir(parents=not explicit)
                self.created = True
            self._fd = os.open(path / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as e:
            self._cleanup()
            raise InputError(f"{opt}{path}: cannot write there ({e.strerror})") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise InputError(f"{opt}{path}: another linksim run is writing this directory") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def _cleanup(self) -> None:
        if self.created:
            try:
                (self.path / LOCK_NAME).unlink(missing_ok=True)
                self.path.rmdir()
            except OSError:
                pass

    def release(self, keep: bool) -> None:
        """Unlock; unless `keep`, remove what a run that stopped before its first summary wrote in a directory it
        made, and the directory: nothing half-written stays."""
        if not keep and self.created:  # (a reused directory keeps the earlier run's files until a run writes)
            from ..run.loop import clear_run_files

            clear_run_files(self.path)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        if not keep:
            self._cleanup()


# ---------------------------------------------------------------------------------------------- the command

def run(args: argparse.Namespace) -> int:
    if args.traffic or args.tcp_cc or args.tcp_window or args.pep:
        return _traffic(args)
    from ..run.flowgraph import abandoned
    from ..run.progress import Progress
    from ..run.safety import LabGuard, StopEvent, Supervisor

    bar = Progress("linksim run")
    guard = LabGuard(say=lambda msg: bar.line(msg))
    stop = StopEvent()
    with Supervisor(guard, stop, say=bar.line) as sup:  # signals are taken from here on
        try:
            rc = _run(args, guard, stop, sup, bar)
        finally:
            guard.close()  # attenuator at maximum, rotator stopped, TX muted: on every return path
    if abandoned():  # a flowgraph that did not stop would keep the interpreter from exiting
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    return rc


def _run(args: argparse.Namespace, guard: Any, stop: Any, sup: Any, bar: Any) -> int:
    from ..errors import LinksimError
    from ..scenario.model import load_scenario
    from .budget import parse_overrides

    _check_cli(args)
    s = load_scenario(args.scenario, parse_overrides(args.set))
    check_run_options(args, s)
    from ..run.antijam import check_array_run

    # a terminal array runs in loopback only
    check_array_run(s, (args.tx or args.rx) or None, args.record, split=bool(args.role))
    if args.role == "tx":
        return _tx_half(args, s, stop, sup, bar)
    out = Path(args.out) if args.out else default_out(s.name)
    lock = RunDirLock(out, explicit=bool(args.out))
    wrote = False
    try:
        sm = _measure(args, s, out, guard, stop, bar)
        wrote = True
    except KeyboardInterrupt:
        wrote = (out / "summary.json").exists()
        bar.line(f"interrupted ({stop.reason or 'SIGINT'}); "
                 + (f"partial results in {out} (`linksim report {out}` builds its report)" if wrote else
                    "nothing was written"))
        return sup.exit_code
    except LinksimError as e:
        wrote = (out / "summary.json").exists()
        if wrote:
            err = LinksimError(f"{e} (partial results in {out})")
            err.exit_code = e.exit_code
            raise err from None
        raise
    except Exception as e:
        wrote = (out / "summary.json").exists()
        raise _internal(e, out if wrote else None) from None
    finally:
        lock.release(keep=wrote or (out / "summary.json").exists())
    return _print_summary(args, s, sm, out)


def _traffic(args: argparse.Namespace) -> int:
    """A real-time IP traffic run (no lab gear: it stops and removes its namespaces itself on Ctrl-C or SIGTERM)."""
    from ..scenario.model import load_scenario
    from .budget import parse_overrides
    from .traffic import traffic

    _check_cli(args)
    s = load_scenario(args.scenario, parse_overrides(args.set))
    check_run_options(args, s)
    from ..run.antijam import check_array_run

    check_array_run(s, traffic=True)
    from ..run.netns import check_host

    check_host()  # not root, no TUN: refused before the run directory (or runs/) is made
    out = Path(args.out) if args.out else default_out(s.name)
    if args.role == "tx":  # the gateway half writes no run directory
        return traffic(args, s, out, lambda msg: sys.stderr.write(f"linksim run: {msg}\n"), _print_summary)
    lock = RunDirLock(out, explicit=bool(args.out))
    try:
        return traffic(args, s, out, lambda msg: sys.stderr.write(f"linksim run: {msg}\n"), _print_summary)
    finally:
        lock.release(keep=(out / "summary.json").exists())


def _internal(e: BaseException, out: Path | None) -> Exception:
    """An unexpected exception as one line (its traceback in the run directory, or a temporary file)."""
    import tempfile
    import traceback

    from ..errors import LinksimError

    text = "".join(traceback.format_exception(e))
    if out is not None:
        where = out / "error.txt"
        where.write_text(text)
    else:
        fd, name = tempfile.mkstemp(prefix="linksim-error-", suffix=".txt")
        os.write(fd, text.encode())
        os.close(fd)
        where = Path(name)
    first = " ".join(str(e).split()) or type(e).__name__
    return LinksimError(f"internal error: {type(e).__name__}: {first} (traceback in {where})")


def _measure(args: argparse.Namespace, s: Any, out: Path, guard: Any, stop: Any, bar: Any) -> dict[str, Any]:
    from ..run.loop import Devices, run_scenario

    if args.role == "rx":
        return _rx_half(args, s, out, stop, bar)
    devices = None
    if args.tx:
        devices = Devices(args.tx, args.rx, tx_enable=args.tx_enable, center_freq_hz=args.center_freq,
                          tx_scale=args.tx_scale, attenuation_base_db=args.attenuation_base or 0.0, guard=guard)
        if args.attenuator:
            from ..hw.attenuator import open_attenuator

            devices.attenuator = open_attenuator(args.attenuator)  # at maximum attenuation until the run starts
            guard.attenuators.append(devices.attenuator)
        if args.rotator:
            from ..hw.rotator import open_rotator

            devices.rotator = open_rotator(args.rotator, args.rotator_model)
            guard.rotators.append(devices.rotator)
    return run_scenario(s, out, duration_s=args.duration, seed=args.seed, acm=args.acm, progress=bar.line,
                        every_s=args.every, dwell_s=args.dwell, bin_s=args.bin, report=not args.no_report,
                        devices=devices, start_s=args.start, record=Path(args.record) if args.record else None,
                        link_timeout_s=args.link_timeout, stop=stop, bar=bar, report_if_interrupted=False)


def _split_link(args: argparse.Namespace) -> Any:
    from ..run.split import SplitLink

    return SplitLink.parse(args.link)


def _common(args: argparse.Namespace) -> dict[str, Any]:
    return dict(duration_s=args.duration, seed=args.seed, acm=args.acm, start_s=args.start, every_s=args.every,
                dwell_s=args.dwell, link_timeout_s=args.link_timeout, stop=None)


def _tx_half(args: argparse.Namespace, s: Any, stop: Any, sup: Any, bar: Any) -> int:
    from ..run.split import run_tx_half

    link = _split_link(args)
    bar.line(f"{s.name}: transmit half serving IQ on {link.iq}")
    common = _common(args)
    common["stop"] = stop
    try:
        n = run_tx_half(s, link, drop_every=args.inject_drop_every, progress=bar.line, **common)
    except KeyboardInterrupt:
        bar.line(f"interrupted ({stop.reason or 'SIGINT'})")
        return sup.exit_code
    bar.line(f"sent {n} stretches")
    return 0


def _rx_half(args: argparse.Namespace, s: Any, out: Path, stop: Any, bar: Any) -> dict[str, Any]:
    from ..run.split import run_rx_half

    link = _split_link(args)
    bar.line(f"{s.name}: receive half from {link.iq}")
    common = _common(args)
    common["stop"] = stop
    return run_rx_half(s, out, link, report=not args.no_report, progress=bar.line, bar=bar,
                       report_if_interrupted=False, **common)


def _print_summary(args: argparse.Namespace, s: Any, sm: dict, out: Path) -> int:
    if args.json:
        print(json.dumps(sm, indent=2, default=str))
        return 0

    from ..report.html import fmt, fmt_bps  # the report's number formatting (units, n/a for missing)

    print(f"{s.name}: {sm['status']} ({'ACM' if sm['acm'] else 'CCM ' + sm['modcod']}, seed {sm['seed']})")
    print(f"  frames            {sm['frames_total']:g} sent, {sm['frames_ok']:g} ok, FER {fmt(sm['fer'], digits=4)}"
          " (frames pro rata of their time in the measured span)")
    print(f"  goodput           {fmt_bps(sm['goodput_bps_mean'])} measured, "
          f"{fmt_bps(sm['predicted_goodput_bps_mean'])} predicted, {fmt_bps(sm['clear_sky_goodput_bps'])} clear sky")
    print(f"  degradation       {fmt(sm['degradation_pct'], '%')}   availability {fmt(sm['availability_pct'], '%')}")
    print(f"  Es/N0 bias        {fmt(sm['esn0_bias_db'], 'dB', signed=True)} (measured - predicted)")
    print(f"  real-time factor  {fmt(sm['realtime_factor'])}")
    report = out / "report.html"
    print(f"report: {report if report.exists() else out}")
    return 0
