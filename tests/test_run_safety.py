"""`linksim run`, `linksim hw` and `linksim sweep` misused and broken on purpose, through the real CLI in
subprocesses: every case ends within 60 s with its exit code and one line on stderr, no traceback, nothing lost and
nothing half-written; lab gear ends safe on every exit path of a hardware run (against the fakes).

Classes: bad options (the option named with its valid range, exit 2, nothing written), output paths, a second run
on a locked directory, stale files of another run, scenario names that try to leave runs/, Ctrl-C within a long
stretch (frames and bins measured so far kept), an exception inside a GNU Radio block, dead or absent split-run
peers (exit 3, frames and link statistics kept), hardware runs interrupted or losing a device, and a sweep killed
with -9 (no worker left behind)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hil_trials import MAX_DB, hil_trial

from linksim.hw.fakes import FakeAttenuator, FakeRotctld, serve_tcp
from linksim.report.data import check_run_dir

ROOT = Path(__file__).parent.parent
TESTS = Path(__file__).parent
SCN = str(ROOT / "scenarios" / "contested-x-cw.toml")  # fixed geometry, 60 s: a quick budget
LIMIT_S = 60.0


def cli(*args: str, cwd: Path | None = None, timeout: float = LIMIT_S) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "linksim", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or ROOT, env=env)


def popen(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "linksim", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd or ROOT)


def one_line(r: subprocess.CompletedProcess | tuple[int, str], code: int, *fragments: str) -> str:
    rc, err = (r.returncode, r.stderr) if isinstance(r, subprocess.CompletedProcess) else r
    lines = [ln for ln in err.splitlines() if ln.startswith("linksim: error:")]
    assert rc == code, err[-3000:]
    assert "Traceback" not in err and len(lines) == 1, err[-3000:]
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def wait_for(cond, timeout: float = LIMIT_S, what: str = "") -> None:
    t_end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < t_end, f"timed out waiting for {what}"
        time.sleep(0.1)


def data_rows(path: Path) -> int:
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


def free_base_port() -> int:
    from test_split import free_base_port as f

    return f()


# ---------------------------------------------------------------------------------------------- bad options

BAD_RUN = [
    (["--duration", "nan"], "--duration: expected a duration in seconds > 0, got nan"),
    (["--duration", "inf"], "--duration: expected a duration in seconds > 0, got inf"),
    (["--duration", "1e12"], "--duration: start 0 s + duration 1e+12 s goes past the scenario's 60 s"),
    (["--duration", "0"], "--duration: expected a duration in seconds > 0, got 0.0"),
    (["--start", "-1"], "--start: expected a number of seconds >= 0, got -1.0"),
    (["--start", "1e9"], "--start: start 1e+09 s is outside the scenario (0 to 60 s)"),
    (["--seed", "-1"], "--seed: expected an integer seed in [0, 9223372036854775807], got -1"),
    (["--seed", str(2**64)], "--seed: expected an integer seed in [0, 9223372036854775807]"),
    (["--bin", "-1"], "--bin: expected a number of seconds >= 0.01, got -1.0"),
    (["--bin", "0"], "--bin: expected a number of seconds >= 0.01, got 0.0"),
    (["--bin", "nan"], "--bin: expected a number of seconds >= 0.01, got nan"),
    (["--bin", "1e-9"], "--bin: expected a number of seconds >= 0.01, got 1e-09"),
    (["--bin", "1e6"], "--bin: 1e+06 s is longer than the duration (60 s)"),
    (["--every", "10"], "--dwell: --every and --dwell go together"),
    (["--every", "0", "--dwell", "0"], "--every: expected a duration in seconds > 0, got 0.0"),
    (["--every", "nan", "--dwell", "1"], "--every: expected a duration in seconds > 0, got nan"),
    (["--every", "5", "--dwell", "10"], "--dwell: 10 s is longer than --every 5 s"),
    (["--every", "1e-5", "--dwell", "1e-5"], "--every: 1e-05 s makes 6000000 stretches over 60 s (at most 100000)"),
    (["--every", "100", "--dwell", "1"], "--every: 100 s is longer than the scenario (60 s)"),
    (["--set", "scenario.duration_s=2592000", "--every", "0.02", "--dwell", "0.01"], "(at most 100000)"),
    (["--set", "scenario.duration_s=2592000", "--bin", "0.01"], "GB of memory; at most 5000000"),
    (["--link-timeout", "-1"], "--link-timeout: expected seconds in (0, 86400], got -1.0"),
    (["--link-timeout", "nan"], "--link-timeout: expected seconds in (0, 86400], got nan"),
    (["--link", "tcp://127.0.0.1:5560"], "--link needs --role"),
    (["--role", "rx", "--link", "udp://host:5560"], "only tcp://"),
    (["--role", "rx", "--link", "tcp://host"], "expected tcp://HOST:PORT"),
    (["--role", "tx", "--link", "tcp://127.0.0.1:65535"], "PORT must be in 1..65533"),
    (["--role", "tx", "--bin", "1"], "--bin not supported with --role"),
    (["--tx", "loopback", "--rx", "loopback", "--tx-enable", "--tx-scale", "5"],
     "--tx-scale: 5 is out of range (must be in (0, 1])"),
    (["--tx", "loopback", "--rx", "loopback", "--tx-enable", "--tx-scale", "nan"],
     "--tx-scale: must be a finite number (in (0, 1]), got nan"),
    (["--tx", "loopback", "--rx", "loopback", "--tx-enable", "--center-freq", "-5"],
     "--center-freq: -5 Hz is out of range (must be > 0 Hz)"),
    (["--tx", "loopback", "--rx", "b210", "--tx-enable", "--center-freq", "1e3"],
     "--center-freq 1000: profile b210: frequency 1000 Hz outside"),
    (["--tx", "loopback", "--rx", "loopback"], "--tx loopback: TX is off"),
    (["--tx", "no-such-profile", "--rx", "loopback", "--tx-enable"], "no-such-profile"),
    (["--center-freq", "1e9"], "--center-freq needs a hardware run"),
    (["--tx", "loopback"], "--tx and --rx go together"),
    (["--attenuator", "tcp://127.0.0.1:1"], "need a hardware run"),
    (["--attenuation-base", "3"], "--attenuation-base needs --attenuator"),
    (["--record", "/no-such-dir-linksim/rec"], "--record: /no-such-dir-linksim/rec: directory /no-such-dir-linksim "
                                                "does not exist"),
    (["--inject-drop-every", "-1"], "--inject-drop-every: -1 is out of range (must be >= 0)"),
]


def test_bad_run_options_are_one_line_and_write_nothing(tmp_path):
    """Each bad option: exit 2, one line naming it and its range, and the run directory is never created."""

    def case(i: int) -> tuple[list[str], str, subprocess.CompletedProcess, Path]:
        args, frag = BAD_RUN[i]
        out = tmp_path / f"out{i}"
        return args, frag, cli("run", SCN, "--out", str(out), "--no-report", *args), out

    with ThreadPoolExecutor(3) as ex:
        results = list(ex.map(case, range(len(BAD_RUN))))
    for args, frag, r, out in results:
        one_line(r, 2, frag)
        assert not out.exists(), args


@pytest.mark.parametrize("args, frag", [
    (["set", "5", "--timeout", "-1"], "--timeout: -1 s is out of range (must be in (0, 3600] s)"),
    (["set", "5", "--timeout", "nan"], "--timeout: must be a finite number"),
    (["set", "5", "--max-db", "200"], "--max-db: 200 dB is beyond the device's range (must be in [0, 110] dB for "
                                      "RCDAT-6000-110)"),
    (["set", "5", "--max-db", "-3"], "--max-db: -3 dB is out of range"),
    (["set", "5", "--step-db", "0"], "--step-db: 0 dB is out of range"),
    (["set", "nan"], "attenuator set DB: must be a finite number"),
    (["set", "150"], "outside the attenuator's range 0..110 dB"),
])
def test_bad_attenuator_options(args, frag):
    fake = FakeAttenuator(start_db=30.0)
    with serve_tcp(fake) as srv:
        r = cli("hw", "attenuator", srv.url, *args)
    one_line(r, 2, frag)
    assert fake.attenuation_db == 30.0  # nothing was set


@pytest.mark.parametrize("args, frag", [
    (["goto", "10", "10", "--wait-timeout", "-5"], "--wait-timeout: -5 s is out of range"),
    (["get", "--timeout", "nan"], "--timeout: must be a finite number"),
    (["goto", "10", "10", "--tolerance-deg", "0"], "--tolerance-deg: 0 deg is out of range"),
    (["get", "--baud", "0"], "--baud: 0 is out of range (must be an integer in [50, 4000000])"),
])
def test_bad_rotator_options(args, frag):
    fake = FakeRotctld()
    with serve_tcp(fake) as srv:
        r = cli("hw", "rotator", srv.tcp_url, *args)
    one_line(r, 2, frag)
    assert not any(c.startswith("P") for c in fake.commands)  # it never moved


@pytest.mark.parametrize("args, frag", [
    (["--attenuation-db", "nan"], "--attenuation-db: must be a finite number"),
    (["--attenuation-db", "40", "--level-dbfs", "6"], "--level-dbfs: 6 dBFS is out of range"),
    (["--attenuation-db", "40", "--points", "0"], "--points: 0 is out of range"),
    (["--attenuation-db", "40", "--rate", "-1"], "--rate: -1 S/s is out of range"),
])
def test_bad_calibrate_options(args, frag):
    one_line(cli("hw", "calibrate", "--tx", "loopback", "--rx", "loopback", "--tx-enable", *args), 2, frag)


# ---------------------------------------------------------------------------------------------- output paths

def test_output_paths_are_one_line_and_leave_nothing(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = False
    if os.geteuid() == 0:  # root writes through permission bits: a read-only file system it is
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)]).returncode == 0
    if not mounted:
        ro.chmod(0o555)
    try:
        cases = [
            (tmp_path / "missing" / "run", "parent directory"),
            (a_file, "exists and is not a directory"),
            (a_file / "run", "parent directory"),
            (foreign, "not empty and not a linksim run directory"),
            (ro / "run", "cannot write there"),
            (ro, "cannot write there"),
        ]
        for out, frag in cases:
            one_line(cli("run", SCN, "--duration", "1", "--out", str(out), "--no-report"), 2, str(out), frag)
        assert a_file.read_text() == "keep me"
        assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
        assert not (tmp_path / "missing").exists() and list(ro.iterdir()) == []
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)])
        else:
            ro.chmod(0o755)


def test_reused_directory_keeps_nothing_stale_and_names_stay_inside_runs(gr, tmp_path):
    # a directory that an earlier run of another scenario left, with its report and figures
    old = tmp_path / "runs" / "reused"
    old.mkdir(parents=True)
    for name in ("summary.json", "report.html", "overview.png", "goodput_vs_esn0.png", "frame_esn0_hist.png",
                 "error.txt", "measured.csv"):
        (old / name).write_text("stale")
    (old / "scenario.toml").write_text('[scenario]\nname = "another-scenario"\n')
    r = cli("run", SCN, "--duration", "0.3", "--out", str(old), "--no-report", "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    assert not any((old / n).exists() for n in ("report.html", "overview.png", "goodput_vs_esn0.png",
                                                 "frame_esn0_hist.png", "error.txt"))
    assert "contested-x-cw" in (old / "scenario.toml").read_text() and check_run_dir(old) == []
    # a scenario whose name tries to leave runs/ stays inside it
    scn = tmp_path / "escape.toml"
    scn.write_text(Path(SCN).read_text().replace('name = "contested-x-cw"', 'name = "../../escape"', 1))
    work = tmp_path / "work"
    work.mkdir()
    r = cli("run", str(scn), "--duration", "0.2", "--no-report", "--json", cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    made = [p for p in work.rglob("*") if p.is_dir()]
    assert made and [p.relative_to(work).parts[0] for p in made] == ["runs"] * len(made)
    assert not (tmp_path.parent / "escape").exists() and not (tmp_path / "escape").exists()


@pytest.mark.parametrize("name", ["../../escape", "/tmp/abs-escape", "we|ird*na/me\\x", "..", ".hidden", ""])
def test_default_run_directory_names_stay_inside_runs(name):
    from linksim.cli.run import default_out

    out = default_out(name)
    assert out.parent == Path("runs") and len(out.parts) == 2
    assert out.name[0] not in "./-" and set(out.name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                              "0123456789._-")


# ---------------------------------------------------------------------------------------------- interrupts, faults

def test_ctrl_c_in_a_long_stretch_keeps_what_was_measured_and_locks_the_directory(gr, tmp_path):
    out = tmp_path / "run"
    p = popen("run", SCN, "--duration", "40", "--bin", "0.5", "--out", str(out), "--no-report")
    try:
        wait_for(lambda: data_rows(out / "measured.csv") >= 2 or p.poll() is not None, what="two bins")
        # a second run on the same directory is refused while the first writes it
        one_line(cli("run", SCN, "--duration", "1", "--out", str(out), "--no-report"), 2,
                 "another linksim run is writing this directory")
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=LIMIT_S)
        dt = time.monotonic() - t0
    finally:
        p.kill()
    assert p.returncode == 130, err[-2000:]
    assert dt < 10.0 and "Traceback" not in err and "partial results in" in err
    sm = json.loads((out / "summary.json").read_text())
    assert sm["status"] == "partial" and sm["frames_total"] > 0 and sm["bins"] >= 2
    assert any("stopped early" in n for n in sm["notes"])
    assert check_run_dir(out) == []
    bins = data_rows(out / "measured.csv")
    assert bins == sm["bins"] and bins * 0.5 < 40.0  # a single stretch, cut at its last complete bin


def test_ctrl_c_while_the_run_starts_up(tmp_path):
    """SIGINT while the budget is computed (no flowgraph yet), to a process started as a shell starts a background
    job (SIGINT ignored): it still ends within 10 s, and leaves no half-written directory."""
    out = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-m", "linksim", "run", str(ROOT / "scenarios" / "svalbard-x-leo-pass.toml"),
                          "--start", "141", "--duration", "5", "--out", str(out), "--no-report"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        time.sleep(1.5)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=LIMIT_S)
        dt = time.monotonic() - t0
    finally:
        p.kill()
    assert p.returncode == 130 and dt < 10.0 and "Traceback" not in err, err[-2000:]
    if out.exists():  # it got as far as writing: then it is a valid partial run
        assert json.loads((out / "summary.json").read_text())["status"] == "partial", err[-2000:]
    else:  # interrupted before anything was written ("linksim: interrupted" while the scenario still loads)
        assert "interrupted" in err


INJECT = """
import sys
import linksim.channel.core as core
orig = core.Channel.process
calls = [0]
def process(self, x):
    calls[0] += 1
    if calls[0] == 40:
        raise ZeroDivisionError("injected fault in the channel")
    return orig(self, x)
core.Channel.process = process
from linksim.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_an_exception_in_a_block_thread_ends_the_run_with_one_line(gr, tmp_path):
    out = tmp_path / "run"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", INJECT, "run", SCN, "--duration", "20", "--out", str(out),
                        "--no-report"], capture_output=True, text=True, timeout=LIMIT_S, cwd=ROOT)
    assert time.monotonic() - t0 < LIMIT_S
    line = one_line(r, 1, "block linksim_channel: ZeroDivisionError: injected fault in the channel",
                    f"partial results in {out}")
    assert "thread_body_wrapper" not in r.stderr  # GNU Radio never saw the exception
    sm = json.loads((out / "summary.json").read_text())
    assert sm["status"] == "partial" and check_run_dir(out) == []
    assert any("stopped by an error" in n for n in sm["notes"]), line


# ---------------------------------------------------------------------------------------------- split runs

def _split(role: str, base: int, *extra: str, timeout_s: float = 3.0) -> list[str]:
    return ["run", SCN, "--role", role, "--link", f"tcp://127.0.0.1:{base}", "--link-timeout", f"{timeout_s:g}",
            *extra]


MID_TIMEOUT_S = 6.0  # the other half may take seconds to start on a loaded machine: not a dead peer yet


def test_rx_half_without_tx_half_ends_with_link_statistics(gr, tmp_path):
    out = tmp_path / "rx"
    t0 = time.monotonic()
    r = cli(*_split("rx", free_base_port(), "--duration", "1", "--out", str(out), "--no-report"))
    assert time.monotonic() - t0 < 30.0
    one_line(r, 3, "no IQ from the TX half", "for 3 s")
    sm = json.loads((out / "summary.json").read_text())
    (link,) = sm["iq_link"]
    assert sm["status"] == "partial" and link["samples_received"] == 0
    assert link["samples_missing"] == link["samples_expected"] > 0 and link["end_of_stream"] is False
    assert check_run_dir(out) == []


def test_tx_half_without_rx_half_ends(gr):
    t0 = time.monotonic()
    r = cli(*_split("tx", free_base_port(), "--duration", "1"))
    assert time.monotonic() - t0 < 30.0
    line = one_line(r, 3, "for 3 s")
    assert "took no control message" in line or "not taking samples" in line, line


def test_split_peer_dying_mid_stream(gr, tmp_path):
    """The TX half killed (-9) mid-stream: the RX half ends with exit 3, keeps the frames it measured and says how
    many samples were missing. Then the same with the RX half killed: the TX half ends with exit 3."""
    base = free_base_port()
    out = tmp_path / "rx"
    tx = popen(*_split("tx", base, "--duration", "20", timeout_s=MID_TIMEOUT_S))
    rx = popen(*_split("rx", base, "--duration", "20", "--out", str(out), "--no-report", timeout_s=MID_TIMEOUT_S))
    try:
        wait_for(lambda: data_rows(out / "frames.csv") >= 10 or rx.poll() is not None, what="frames")
        tx.kill()
        t0 = time.monotonic()
        _, err = rx.communicate(timeout=LIMIT_S)
        assert time.monotonic() - t0 < MID_TIMEOUT_S + 10.0
    finally:
        tx.kill()
        rx.kill()
    one_line((rx.returncode, err), 3, "TX half")
    sm = json.loads((out / "summary.json").read_text())
    (link,) = sm["iq_link"]
    assert sm["status"] == "partial" and sm["frames_total"] > 0 and check_run_dir(out) == []
    assert link["samples_missing"] > 0 and link["end_of_stream"] is False and not link["ok"]
    # now the receive half dies
    base = free_base_port()
    tx = popen(*_split("tx", base, "--duration", "20", timeout_s=MID_TIMEOUT_S))
    rx = popen(*_split("rx", base, "--duration", "20", "--out", str(tmp_path / "rx2"), "--no-report",
                       timeout_s=MID_TIMEOUT_S))
    try:
        wait_for(lambda: data_rows(tmp_path / "rx2" / "frames.csv") >= 10 or rx.poll() is not None, what="frames")
        rx.kill()
        t0 = time.monotonic()
        _, err = tx.communicate(timeout=LIMIT_S)
        assert time.monotonic() - t0 < MID_TIMEOUT_S + 10.0
    finally:
        tx.kill()
        rx.kill()
    one_line((tx.returncode, err), 3)


# ---------------------------------------------------------------------------------------------- hardware runs

@pytest.mark.parametrize("kind", ["SIGINT", "SIGTERM", "SIGINT2", "attenuator-vanishes", "rotator-vanishes",
                                  "sdr-vanishes"])
def test_hardware_run_leaves_lab_gear_safe(gr, tmp_path, kind):
    """Against a fake attenuator, rotctld and SDR: whatever ends the run, it exits within 10 s of it (the SDR's
    loss is noticed after --link-timeout, 3 s here) with a message; the attenuator is at its maximum, the
    rotator stopped and the transmitter quiet, except for the device that vanished (which is reported)."""
    t = hil_trial(tmp_path, kind, seed=hash(kind) % 1000)
    assert not t.notes, t.notes
    assert "Traceback" not in t.stderr
    bound = 10.0 + (3.0 if kind == "sdr-vanishes" else 0.0)
    assert t.exit_s <= bound, (t.exit_s, t.stderr[-2000:])
    assert t.tx_last_s <= 2.0  # nothing radiated after the mute (what was in flight aside)
    if kind in ("SIGINT", "SIGINT2"):
        assert t.rc == 130
    elif kind == "SIGTERM":
        assert t.rc == 143
    else:
        one_line((t.rc or 0, t.stderr), 3)
    if kind != "attenuator-vanishes":
        assert t.attenuator_db == MAX_DB and t.attenuator_min_db < MAX_DB
    else:
        assert "attenuator" in t.stderr and "could not be set to maximum" in t.stderr
    if kind != "rotator-vanishes":
        assert t.rotator_last == "S"
    else:
        assert "rotator" in t.stderr
    assert json.loads((t.out / "summary.json").read_text())["status"] == "partial"
    assert check_run_dir(t.out) == []


# ---------------------------------------------------------------------------------------------- sweeps

def _descendants(pid: int) -> set[int]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_sweep_killed_with_9_leaves_no_worker(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(f'base = "{ROOT / "scenarios" / "contested-x-cw.toml"}"\n'
                    '[grid]\n"scenario.description" = ["sleep:60"]\nseed = [1, 2, 3, 4]\n')
    # TMPDIR: the forkserver's socket directory (pymp-*), which nothing can remove after a SIGKILL, in tmp_path
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")]),
               TMPDIR=str(tmp_path))
    p = subprocess.Popen([sys.executable, "-m", "linksim", "sweep", str(spec), "--out", str(tmp_path / "out"),
                          "--workers", "2", "--runner", "campaign_runners:fake_run", "--no-figures"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        # two workers running a point each (calls.log gets one line per point started)
        wait_for(lambda: data_rows(tmp_path / "out" / "calls.log") + 1 >= 2 or p.poll() is not None,
                 what="two points running")
        procs = _descendants(p.pid)
        assert len(procs) >= 3, procs  # the forkserver and the two workers
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        t_end = time.monotonic() + 10.0
        while any(_alive(q) for q in procs) and time.monotonic() < t_end:
            time.sleep(0.1)
        assert not [q for q in procs if _alive(q)]
    finally:
        p.kill()
        for q in _descendants(p.pid):
            try:
                os.kill(q, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_progress_on_a_terminal_and_in_a_log():
    import io

    from linksim.run.progress import Progress, eta_s, fmt_duration

    tty, log = io.StringIO(), io.StringIO()
    pt, pl = Progress("linksim run", tty, tty=True), Progress("linksim run", log, tty=False, every_s=0.0)
    for p in (pt, pl):
        p.update(30.0, 120.0, "stretch 1/2, 0.50x real time, ETA 3m00s; this stretch: 12.0 frames", force=True)
        p.line("stretch 1/2 t=0-60 s: 30.1 frames, FER 0.000")
    assert tty.getvalue().startswith("\rlinksim run: [######..................]  25.0% stretch 1/2")
    assert "\r" in tty.getvalue().split("\n")[0] and tty.getvalue().endswith("FER 0.000\n")
    assert log.getvalue().splitlines() == [
        "linksim run: 25% stretch 1/2, 0.50x real time, ETA 3m00s; this stretch: 12.0 frames",
        "linksim run: stretch 1/2 t=0-60 s: 30.1 frames, FER 0.000"]
    assert fmt_duration(eta_s(30.0, 120.0, 45.0)) == "2m15s" and fmt_duration(eta_s(0.0, 1.0, 5.0)) == "?"
