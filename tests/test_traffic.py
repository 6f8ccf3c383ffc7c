"""IP traffic runs (network namespaces, TUN, iperf3; root): the UDP loss against the frame-loss model under a jammer,
TCP over a clear GEO link (goodput, RTT, retransmits; >= 80 % of the PHY goodput with large windows; the window
limit without), TCP through an ACM step and a jamming burst, the return-link budget, and that nothing is left behind
after a normal end, an error, Ctrl-C or SIGTERM. Runs are short and at 100 kbaud (real time)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from linksim.errors import DeviceError, InputError
from linksim.run import netns
from linksim.run.traffic import parse_ss, parse_traffic
from linksim.scenario.model import load_scenario

ROOT = Path(__file__).resolve().parents[1]
GEO_IP = ROOT / "scenarios" / "longyearbyen-ka-geo-ip.toml"
UDP_JAM = ROOT / "scenarios" / "longyearbyen-ka-geo-ip-udp-jammer.toml"
JAM_ACM = ROOT / "scenarios" / "longyearbyen-ka-geo-ip-jammed-acm.toml"


def _ours() -> list[str]:
    """Namespaces of this process or its children (linksim runs started by the tests)."""
    return [ns for ns in netns.list_namespaces() if ns.startswith("lsim")]


def _no_leftovers(before_ns: list[str]) -> None:
    assert [ns for ns in _ours() if ns not in before_ns] == []
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert " ls" not in links.replace("\n", " ")  # no TUN device left in the root namespace
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "iperf3 -s -1 -p 5201" not in ps and "linksim.run.pep" not in ps


def _linksim(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linksim", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=kw.pop("timeout", 240), **kw)


# ------------------------------------------------------------------------------------------------ without a run


def test_the_real_time_receiver_works_on_blocks_of_about_10_ms():
    from linksim.run.loop import low_latency_block_symbols

    assert low_latency_block_symbols(100e3) == 1024  # 10.24 ms at the IP scenario's 100 kbaud
    assert low_latency_block_symbols(250e3) == 2560
    assert low_latency_block_symbols(10e3) == 256  # the smallest block (25.6 ms here)
    assert low_latency_block_symbols(5e6) == 8192  # the receiver's default block: 1.6 ms at 5 Mbaud


def test_traffic_specs_and_their_errors():
    assert parse_traffic("tcp").kind == "tcp"
    u = parse_traffic("udp:250k:400")
    assert (u.kind, u.rate_bps, u.udp_payload_bytes) == ("udp", 250e3, 400)
    assert parse_traffic("cmd:ping -c 1 $LINKSIM_TERMINAL_IP").command.startswith("ping")
    t = parse_traffic("tcp", cc="cubic", window="64K", pep=True)
    assert (t.cc, t.window_bytes, t.pep) == ("cubic", 65536, True)
    for bad, match in (("http", "expected tcp"), ("udp:fast", "not a number"), ("tcp:3", "takes no argument"),
                       ("cmd:", "empty"), ("udp:1M:9000", "16 to 1472")):
        with pytest.raises(InputError, match=match):
            parse_traffic(bad)
    with pytest.raises(InputError, match="--tcp-cc 'nosuch'"):
        parse_traffic("tcp", cc="nosuch")
    with pytest.raises(InputError, match="apply to --traffic tcp"):
        parse_traffic("udp", pep=True)


def test_ss_output_is_read():
    text = ("ESTAB 0 0 10.77.0.1:40000 10.77.0.2:5201\n"
            "\t cubic wscale:7,7 rto:764 rtt:561.5/2.1 mss:1448 cwnd:28 bytes_sent:90000 bytes_acked:81000 "
            "bytes_received:12 retrans:0/3 snd_wnd:65536 delivery_rate:120000bps\n"
            "ESTAB 0 0 10.77.0.1:40002 10.77.0.2:5201\n\t rtt:600/1 cwnd:10 bytes_acked:5\n")
    a, b = parse_ss(text)
    assert a["rtt_ms"] == 561.5 and a["cwnd"] == 28 and a["retrans"] == 3 and a["snd_wnd"] == 65536
    assert a["bytes_acked"] == 81000 and b["rtt_ms"] == 600 and "retrans" not in b


def test_refused_without_root_or_tun(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(InputError, match="needs root"):
        netns.check_host()
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    real = os.path.exists
    monkeypatch.setattr(os.path, "exists", lambda p: False if p == "/dev/net/tun" else real(p))
    with pytest.raises(DeviceError, match="/dev/net/tun"):
        netns.check_host()
    monkeypatch.setattr(os.path, "exists", real)
    with pytest.raises(DeviceError, match="'nosuchprogram'"):
        netns.check_host(("nosuchprogram",))


def test_a_non_root_user_gets_one_line_and_exit_2(tmp_path):
    tmp_path.chmod(0o777)  # nobody's working directory: a refused run leaves nothing in it
    res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                          "import sys; from linksim.cli import main; sys.exit(main(sys.argv[1:]))", "run",
                          str(GEO_IP), "--traffic", "tcp", "--duration", "10"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(tmp_path / ".numba")))
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [
        "linksim: error: --traffic needs root (it makes network namespaces and TUN devices): run it as root"]
    assert [p.name for p in tmp_path.iterdir() if p.name != ".numba"] == []


def test_bad_options_are_one_line_errors():
    for args, match in ((["--traffic", "tcp", "--every", "5", "--dwell", "1"], "--every/--dwell not supported"),
                        (["--pep"], "go with --traffic"),
                        (["--traffic", "tcp", "--duration", "3"], "--duration: too short"),
                        (["--traffic", "tcp", "--set", "carrier.symbol_rate_baud=2e8"], "too fast for a real-time")):
        res = _linksim("run", str(GEO_IP), "--no-report", "--out", "/tmp/linksim-test-traffic-bad", *args)
        assert res.returncode == 2 and match in res.stderr and len(res.stderr.strip().splitlines()) == 1, \
            res.stderr


def test_return_link_budget():
    from linksim.budget.return_link import forward_delay_s, return_series
    from linksim.budget.timeline import compute_timeline
    from linksim.dbmath import BOLTZMANN_DBW_K_HZ, fspl_db

    s = load_scenario(GEO_IP)
    tl = compute_timeline(s, duration_s=5)
    r = return_series(tl)
    rng_m = float(tl["slant_range_km"][0]) * 1e3
    # clear sky: EIRP - FSPL + G/T - k - 10 log Rs, by hand
    expect = 40.0 - fspl_db(30e9, rng_m) + 12.0 - BOLTZMANN_DBW_K_HZ - 10 * math.log10(64e3)
    assert r.esn0_db[0] == pytest.approx(expect, abs=1e-6)
    assert r.rate_bps[0] == pytest.approx(64e3 * 0.965327)  # QPSK 1/2 with pilots (Table 13)
    assert r.loss[0] == 0.0
    # GEO at 2.6 deg: one way 2 x 138 ms, so the round trip is about 552 ms
    assert forward_delay_s(tl)[0] == pytest.approx(0.276, abs=0.002) and r.delay_s[0] == forward_delay_s(tl)[0]
    # a terminal too weak to close: every packet lost, no rate
    from dataclasses import replace

    weak = replace(s, return_link=replace(s.return_link, eirp_dbw=10.0))
    rw = return_series(compute_timeline(weak, duration_s=5))
    assert rw.rate_bps[0] == 0.0 and rw.loss[0] == 1.0
    with pytest.raises(InputError, match="return_link: give rate_bps"):
        load_scenario(GEO_IP, {"return_link.eirp_dbw": None})


# ------------------------------------------------------------------------------------------------ real runs


@pytest.fixture
def before_ns() -> list[str]:
    if os.geteuid() != 0:
        pytest.fail("the traffic tests need root (namespaces, TUN): CI runs as root")
    return _ours()


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.mark.timeout(240)
def test_udp_loss_follows_the_frame_loss_model_under_a_jammer(gr, tmp_path, before_ns):
    """A lost frame loses every packet or fragment in it; a packet spanning two frames is lost if either is. The
    iperf3 loss ratio lies in the 95 % binomial interval of that model at the run's own FER (1 % to 30 %)."""
    out = tmp_path / "udp"
    res = _linksim("run", str(UDP_JAM), "--traffic", "udp:40k:200", "--duration", "22", "--out", str(out),
                   "--no-report")
    assert res.returncode == 0, res.stderr
    t = _summary(out)["traffic"]
    u = t["udp_loss"]
    assert 0.01 <= u["fer"] <= 0.30
    assert u["packets_model"] >= 200 and u["within_interval"], u
    # the frame log names each lost packet (those that touched a lost frame): over nearly the same packets (iperf3's
    # counting window starts on its own clock) the two loss ratios agree
    assert abs(u["lost_by_frame_log"] / u["packets_model"] - u["iperf3_loss_ratio"]) <= 0.03
    assert (out / "iperf3.json").exists() and (out / "traffic.csv").exists()
    _no_leftovers(before_ns)


@pytest.mark.timeout(240)
def test_tcp_on_a_clear_geo_link_with_large_and_small_windows(gr, tmp_path, before_ns):
    out = tmp_path / "tcp"
    res = _linksim("run", str(GEO_IP), "--traffic", "tcp", "--tcp-window", "2M", "--duration", "20", "--out",
                   str(out))
    assert res.returncode == 0, res.stderr
    sm = _summary(out)
    t = sm["traffic"]
    assert t["retransmits"] is not None and math.isfinite(t["rtt_ms_median"])
    assert 540 <= t["rtt_ms_median"] <= 3000  # 552 ms of path, frames and the gateway's queue on top
    assert t["efficiency"] >= 0.8, t  # large windows: TCP fills the link
    assert sm["fer"] == 0.0
    html = (out / "report.html").read_text()
    assert "IP traffic" in html and "traffic.png" in html
    # a small window: goodput = window / RTT, far below the PHY goodput
    out2 = tmp_path / "tcp-small"
    res = _linksim("run", str(GEO_IP), "--traffic", "tcp", "--tcp-window", "4K", "--duration", "16", "--out",
                   str(out2), "--no-report")
    assert res.returncode == 0, res.stderr
    t2 = _summary(out2)["traffic"]
    assert t2["app_goodput_bps_mean"] < 0.6 * t2["phy_goodput_bps_mean"]
    assert t2["app_goodput_bps_mean"] == pytest.approx(t2["window_limit_bps"], rel=0.35), t2
    _no_leftovers(before_ns)


@pytest.mark.timeout(300)
def test_tcp_through_acm_and_a_jamming_burst(gr, tmp_path, before_ns):
    """Jammer on at 14 s and off at 26 s: ACM steps down and back up; application, PHY and predicted goodput share
    one time axis in traffic.csv and the report, and TCP's recovery after the jammer is measured."""
    out = tmp_path / "acm"
    res = _linksim("run", str(JAM_ACM), "--traffic", "tcp", "--start", "6", "--duration", "34", "--out", str(out))
    assert res.returncode == 0, res.stderr
    sm = _summary(out)
    rec = sm["traffic"]["recovery"]
    assert len(rec) == 1 and rec[0]["stop_s"] == 26.0
    assert rec[0]["app_recovery_s"] is not None and rec[0]["app_recovery_s"] <= 10.0
    from linksim.report.data import read_csv_columns

    c = read_csv_columns(out / "traffic.csv")
    t = c["time_s"]
    jam = (t >= 15) & (t < 25)
    # after the jammer, while the application still runs (iperf3 stops before the link: the summary's window)
    assert sm["traffic"]["measured_to_s"] >= 31.0, sm["traffic"]
    clear = (t >= 28) & (t < min(33.0, sm["traffic"]["measured_to_s"]))
    # the PHY follows the prediction: ACM carries a low MODCOD under the jammer, a high one after
    assert np.nanmean(c["phy_goodput_bps"][clear]) > 2.5 * np.nanmean(c["phy_goodput_bps"][jam])
    assert np.nanmean(c["predicted_goodput_bps"][clear]) > 2.5 * np.nanmean(c["predicted_goodput_bps"][jam])
    assert np.nanmean(c["app_goodput_bps"][clear]) > 2.0 * np.nanmean(c["app_goodput_bps"][jam])
    assert "IP traffic" in (out / "report.html").read_text()
    _no_leftovers(before_ns)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_and_sigterm_leave_nothing_behind(gr, tmp_path, before_ns, sig):
    out = tmp_path / "int"
    p = subprocess.Popen([sys.executable, "-m", "linksim", "run", str(GEO_IP), "--traffic", "tcp", "--duration",
                          "60", "--out", str(out), "--no-report"], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / "iperf3-client.txt").exists():
        time.sleep(0.2)
    time.sleep(3.0)  # traffic flowing
    assert [ns for ns in _ours() if ns not in before_ns], "the run should have made its namespaces"
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "namespaces removed" in err
    assert _summary(out)["status"] == "partial"
    _no_leftovers(before_ns)


@pytest.mark.timeout(120)
def test_an_error_inside_the_run_leaves_nothing_behind(gr, tmp_path, before_ns, monkeypatch):
    from linksim.run import traffic

    def broken(*a, **k):
        raise RuntimeError("application failed to start")

    monkeypatch.setattr(traffic, "start_traffic", broken)
    with pytest.raises(RuntimeError, match="failed to start"):
        traffic.run_traffic(load_scenario(GEO_IP), tmp_path / "err", parse_traffic("tcp"), duration_s=12,
                            report=False)
    _no_leftovers(before_ns)
    # a namespace left by a process that died (kill -9) is swept by the next run
    subprocess.run(["ip", "netns", "add", "lsim999999gw"], check=True)
    assert "lsim999999gw" in netns.sweep_stale()
    assert "lsim999999gw" not in netns.list_namespaces()


@pytest.mark.timeout(240)
def test_split_run_carries_the_same_traffic(gr, tmp_path, before_ns):
    """--traffic across a split run: the gateway half (TX) and the terminal half (RX) in two processes, IQ over
    ZeroMQ, the return link's packets over the control channel."""
    out = tmp_path / "split"
    common = [str(GEO_IP), "--traffic", "ping", "--duration", "14", "--link", "tcp://127.0.0.1:5930"]
    tx = subprocess.Popen([sys.executable, "-m", "linksim", "run", *common, "--role", "tx"], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        res = _linksim("run", *common, "--role", "rx", "--out", str(out), "--no-report")
        _, tx_err = tx.communicate(timeout=60)
    finally:
        if tx.poll() is None:
            tx.kill()
    assert res.returncode == 0 and tx.returncode == 0, (res.stderr, tx_err)
    sm = _summary(out)
    assert sm["mode"] == "traffic-split" and sm["status"] == "complete" and sm["fer"] == 0.0
    # 2 x 276 ms of path, 0 to 84 ms of waiting for the next frame and 84 ms of its reception, the receiver's 10 ms
    # blocks (the low-latency receiver), 12 ms on the 64 kbaud return link, on two wall clocks: about 700 ms on an
    # idle machine (the parallel receiver's extra block gave 830 ms)
    assert 600 <= sm["traffic"]["rtt_ms_median"] <= 900
    assert (out / "ping.txt").read_text().count("bytes from 10.77.0.2") >= 6  # 0.5 s apart for about 4 s
    _no_leftovers(before_ns)
