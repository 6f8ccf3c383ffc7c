"""`linksim hw ...` end to end: list, probe, attenuator and rotator against fakes, and the cabled-loopback
calibration on the loopback pseudo-device with a known noise floor.

Calibration reference: with a tone at L dBFS, TX gain G, attenuation X and RX-input noise N dBFS, the path SNR
is L + G - X - N (dB) whatever the RX gain; received power rises 1 dB per dB of TX gain. Tolerance 0.1 dB."""

from __future__ import annotations

import json

import pytest

from linksim.cli import main
from linksim.hw.fakes import FakeAttenuator, FakeGS232, FakeRotctld, serve_http, serve_pty, serve_tcp


def test_list_profiles_without_and_with_scan(capsys):
    assert main(["hw", "list", "--no-scan"]) == 0
    out = capsys.readouterr().out
    for name in ("b210", "hackrf", "loopback", "rtlsdr", "x310", "zmq"):
        assert f"  {name} " in out
    assert main(["hw", "list", "--json"]) == 0  # a machine with no SDR: "none found" is not an error
    data = json.loads(capsys.readouterr().out)
    assert len(data["profiles"]) >= 9 and isinstance(data["devices"], list)


def test_probe_missing_device_is_one_line_exit_3(capsys):
    assert main(["hw", "probe", "hackrf"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("linksim: error: profile hackrf: cannot open")


def test_probe_pseudo_device(capsys):
    assert main(["hw", "probe", "loopback", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["direction"] == "rx" and info["sample_rate_sps"] == 1e6 and info["link"]["ok"]
    assert main(["hw", "probe", "nope"]) == 2


@pytest.mark.parametrize("serve", [serve_pty, serve_tcp, serve_http], ids=["pty", "tcp", "http"])
def test_attenuator_cli(serve, capsys):
    fake = FakeAttenuator(model="RUDAT-6000-60", max_db=60.0)
    with serve(fake) as srv:
        assert main(["hw", "attenuator", srv.url, "set", "12.3", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["attenuation_db"] == 12.25
        assert fake.attenuation_db == 12.25  # a CLI 'set' leaves the value in place
        assert main(["hw", "attenuator", srv.url, "get"]) == 0
        assert "12.25 dB (range 0..60 dB)" in capsys.readouterr().out
        assert main(["hw", "attenuator", srv.url, "set", "61"]) == 2
        assert main(["hw", "attenuator", srv.url, "set"]) == 2
        srv.disappear()
        assert main(["hw", "attenuator", srv.url, "get", "--timeout", "0.3"]) == 3
    assert len(capsys.readouterr().err.strip().splitlines()) == 3


def test_rotator_cli_gs232b_and_rotctld(capsys):
    fake = FakeGS232("b", rate_deg_s=200.0)
    with serve_pty(fake) as srv:
        assert main(["hw", "rotator", srv.url, "--model", "gs232b", "goto", "45", "20", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert (out["az_deg"], out["el_deg"]) == (45.0, 20.0)
        assert main(["hw", "rotator", srv.url, "--model", "gs232b", "get"]) == 0
        assert "az 45.0 deg  el 20.0 deg" in capsys.readouterr().out
    wire = bytes(fake.wire)
    assert wire.startswith(b"W045 020\rC2\r") and wire.endswith(b"S\r")
    rot = FakeRotctld(rate_deg_s=1e4)
    with serve_tcp(rot) as srv:
        hostport = srv.tcp_url.removeprefix("tcp://")
        assert main(["hw", "rotator", hostport, "goto", "200", "30"]) == 0
        assert main(["hw", "rotator", hostport, "stop"]) == 0
        assert main(["hw", "rotator", hostport, "goto", "10"]) == 2
    assert bytes(rot.wire).startswith(b"P 200.00 30.00\np\n")


def test_rotator_cli_stops_when_wait_times_out(capsys):
    fake = FakeGS232("a", rate_deg_s=1.0)
    with serve_tcp(fake) as srv:
        rc = main(["hw", "rotator", srv.url, "--model", "gs232a", "goto", "180", "0", "--wait-timeout", "0.3"])
        assert rc == 3 and "did not reach" in capsys.readouterr().err
    assert not fake.axes.moving and fake.commands[-1] == "S"  # the safety stop went out (checked once drained)


def test_calibrate_loopback_known_noise(capsys, tmp_path):
    out_file = tmp_path / "cal.json"
    args = [
        "hw",
        "calibrate",
        "--tx",
        "loopback",
        "--rx",
        "loopback",
        "--attenuation-db",
        "30",
        "--tx-enable",
        "--noise-dbfs",
        "-60",
        "--points",
        "3",
        "--rx-gain",
        "RX=10",
        "--max-esn0-db",
        "20",
        "--out",
        str(out_file),
        "--json",
    ]
    assert main(args) == 0
    res = json.loads(capsys.readouterr().out)
    assert json.loads(out_file.read_text())["best_snr_db"] == res["best_snr_db"]
    gains = [p["tx_gain_total_db"] for p in res["points"]]
    assert gains == [0.0, 20.0, 40.0]
    for p in res["points"]:
        assert p["snr_db"] == pytest.approx(-6 + p["tx_gain_total_db"] - 30 + 60, abs=0.1)
        assert p["noise_floor_dbfs"] == pytest.approx(-60 + 10, abs=0.1)  # RX gain 10 dB
    assert res["slope_db_per_db"] == pytest.approx(1.0, abs=0.01)
    assert res["supports"] is True and res["warnings"] == []


def test_calibrate_warns_when_path_too_noisy(capsys):
    """TX gains 0 and 40 dB give path SNRs of -16 dB (below the noise: still measured) and 24 dB."""
    args = [
        "hw",
        "calibrate",
        "--tx",
        "loopback",
        "--rx",
        "loopback",
        "--attenuation-db",
        "60",
        "--tx-enable",
        "--noise-dbfs",
        "-50",
        "--points",
        "2",
        "--max-esn0-db",
        "22",
        "--margin-db",
        "3",
        "--json",
    ]
    assert main(args) == 0
    cap = capsys.readouterr()
    res = json.loads(cap.out)
    assert [p["snr_db"] for p in res["points"]] == pytest.approx([-16.0, 24.0], abs=0.3)
    assert res["supports"] is False
    assert "linksim: warning: RF path Es/N0" in cap.err


def test_calibrate_needs_tx_enabled_twice(capsys):
    base = ["hw", "calibrate", "--rx", "loopback", "--attenuation-db", "30"]
    assert main([*base, "--tx", "loopback"]) == 2  # profile allows, caller did not
    assert "enable it explicitly" in capsys.readouterr().err
    assert main([*base, "--tx", "b210", "--tx-enable"]) == 2  # caller enables, profile does not
    assert "tx_allowed = false" in capsys.readouterr().err


def test_rotator_cli_ctrl_c_stops(monkeypatch, capsys):
    from linksim.hw.rotator import Rotator

    fake = FakeGS232("b", rate_deg_s=1.0)
    calls = [0]
    real_position = Rotator.position

    def interrupted(self):
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt
        return real_position(self)

    monkeypatch.setattr(Rotator, "position", interrupted)
    with serve_pty(fake) as srv:
        assert main(["hw", "rotator", srv.url, "--model", "gs232b", "goto", "300", "60"]) == 130
    assert fake.commands[-1] == "S" and not fake.axes.moving  # after the server drained the line
    assert "interrupted" in capsys.readouterr().err
