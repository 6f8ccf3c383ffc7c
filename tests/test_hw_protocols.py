"""Lab-gear drivers against faithful fakes on PTYs, TCP and HTTP: exact bytes on the wire, error replies,
timeouts, and a device that disappears mid-run (DeviceError with one line).

The expected wire bytes follow the vendors' protocol references: Mini-Circuits SCPI (`:SETATT=`, `:ATT?`,
`:MN?`, `:SN?`), Yaesu GS-232A/B (`W%03u %03u` CR, `C2` CR, `S` CR; C2 replies `+0aaa+0eee` and `AZ=aaa
EL=eee`) and Hamlib rotctld (`P az el`, `p`, `S`, `K`, `RPRT n`).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from linksim.errors import DeviceError, InputError
from linksim.hw.attenuator import Attenuator, open_attenuator, range_from_model
from linksim.hw.commands import GS232A, GS232B, run
from linksim.hw.fakes import FakeAttenuator, FakeGS232, FakeRotctld, serve_http, serve_pty, serve_tcp
from linksim.hw.rotator import Rotator, open_rotator
from linksim.hw.transport import TcpTransport, open_transport, parse_hid_url

T = 0.3  # seconds: every timeout in these tests


def _one_line_device_error(exc: pytest.ExceptionInfo[DeviceError]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


# ---------------------------------------------------------------- attenuator


@pytest.mark.parametrize("serve", [serve_pty, serve_tcp, serve_http], ids=["pty", "tcp", "http"])
def test_attenuator_starts_at_max_and_sets_quantized(serve):
    fake = FakeAttenuator(model="RCDAT-6000-60", max_db=60.0, step_db=0.25, start_db=0.0)
    with serve(fake) as srv:
        with open_attenuator(srv.url, timeout_s=T) as att:
            assert fake.attenuation_db == 60.0  # safe by default: max at start
            assert att.max_db == 60.0 and att.model == "RCDAT-6000-60"
            assert att.set_db(10.3) == 10.25  # nearest 0.25 dB step
            assert att.get_db() == 10.25
            assert fake.attenuation_db == 10.25
        assert fake.attenuation_db == 60.0  # back to max on exit
    if serve is serve_http:
        expected = b"/MN?\n/SN?\n/SETATT=60.00\n/SETATT=10.25\n/ATT?\n/SETATT=60.00\n"
    else:
        expected = b":MN?\r\n:SN?\r\n:SETATT=60.00\r\n:SETATT=10.25\r\n:ATT?\r\n:SETATT=60.00\r\n"
    assert bytes(fake.wire) == expected


def test_attenuator_refuses_out_of_range_before_sending():
    fake = FakeAttenuator(max_db=30.0, model="RUDAT-6000-30")
    with serve_tcp(fake) as srv, open_attenuator(srv.url, timeout_s=T) as att:
        n = len(fake.wire)
        with pytest.raises(InputError, match="outside the attenuator's range 0..30 dB"):
            att.set_db(31.0)
        with pytest.raises(InputError):
            att.set_db(-1.0)
        assert len(fake.wire) == n  # nothing sent


def test_attenuator_error_reply_is_device_error():
    """The device answers 2 (above its range, set to max) when the driver believes in a wider range."""
    fake = FakeAttenuator(max_db=30.0, model="RUDAT-6000-30")
    with serve_tcp(fake) as srv:
        t = open_transport(srv.url, timeout_s=T)
        att = Attenuator(t, max_db=60.0, start_at_max=False)  # wrong range on purpose
        with pytest.raises(DeviceError) as e:
            att.set_db(45.0)
        assert "status 2" in _one_line_device_error(e)
        t.close()


def test_attenuator_range_from_model_name():
    assert range_from_model("RCDAT-6000-110") == 110.0
    assert range_from_model("RUDAT-13G-90") == 90.0
    # Mini-Circuits writes a decimal point as R: the ZX76-31R75PP+ steps 0 to 31.75 dB in 0.25 dB
    assert range_from_model("ZX76-31R75PP") == 31.75
    assert range_from_model("ZX76-31R75PP+") == 31.75
    assert range_from_model("ZX76-15R5-PP+") == 15.5
    assert range_from_model("RCDAT-8000-90") == 90.0
    assert range_from_model("RC4DAT") is None


def test_attenuator_replay_schedule_and_clipping():
    fake = FakeAttenuator(max_db=30.0, model="RUDAT-6000-30")
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(dt: float) -> None:
        now[0] += dt

    with serve_tcp(fake) as srv, open_attenuator(srv.url, timeout_s=T) as att:
        fade = np.array([0.0, 1.1, 2.6, 40.0, 5.0])
        rep = att.replay(fade, 0.5, base_db=3.0, clock=clock, sleep=sleep)
        assert now[0] == pytest.approx(2.5)  # 5 steps of 0.5 s on the fake clock
        np.testing.assert_allclose(rep.applied_db, [3.0, 4.0, 5.5, 30.0, 8.0])
        assert rep.clipped_steps == 1 and "clipped" in rep.notes[0]
        assert fake.history_db[-5:] == [3.0, 4.0, 5.5, 30.0, 8.0]


def test_attenuator_timeout_when_mute():
    fake = FakeAttenuator()
    with serve_pty(fake) as srv:
        fake.mute = True
        t0 = time.monotonic()
        with pytest.raises(DeviceError) as e:
            open_attenuator(srv.url, timeout_s=0.2)
        assert time.monotonic() - t0 < 1.0
        assert "no reply to ':MN?' within 0.2 s" in _one_line_device_error(e)


@pytest.mark.parametrize("serve", [serve_pty, serve_tcp, serve_http], ids=["pty", "tcp", "http"])
def test_attenuator_disappears_mid_run(serve):
    fake = FakeAttenuator()
    srv = serve(fake)
    att = open_attenuator(srv.url, timeout_s=T)
    att.set_db(20.0)
    srv.disappear()
    with pytest.raises(DeviceError) as e:
        att.set_db(21.0)
        att.set_db(22.0)  # a socket may accept one write after the peer left; the read fails
    assert srv.url.split("://")[-1].split(":")[0] in _one_line_device_error(e) or srv.url in str(e.value)
    att.close()  # best effort to max; must not raise
    srv.close()


def test_http_setatt_answers_one():
    fake = FakeAttenuator()
    with serve_http(fake) as srv:
        t = open_transport(srv.url, timeout_s=T)
        assert t.transact(":SETATT=10.25", b"", 1) == ["1"]
        assert fake.attenuation_db == 10.25


# ---------------------------------------------------------------- rotators


@pytest.mark.parametrize("variant", ["a", "b"])
@pytest.mark.parametrize("serve", [serve_pty, serve_tcp], ids=["pty", "tcp"])
def test_gs232_goto_slew_read_stop(variant, serve):
    fake = FakeGS232(variant, rate_deg_s=400.0, az_deg=10.0, el_deg=5.0)
    with serve(fake) as srv:
        with open_rotator(srv.url, f"gs232{variant}", timeout_s=T) as rot:
            assert rot.position() == (10.0, 5.0)
            assert rot.goto(100.4, 30.6) == (100.0, 31.0)  # 1-degree resolution
            az, el = rot.wait_until(100.0, 31.0, tolerance_deg=0.5, timeout_s=2.0, poll_s=0.02)
            assert (az, el) == (100.0, 31.0)
    wire = bytes(fake.wire)
    assert wire.startswith(b"C2\rW100 031\rC2\r")
    assert wire.endswith(b"S\r")


def test_gs232_replies_exact_format():
    a, b = FakeGS232("a", az_deg=7, el_deg=45), FakeGS232("b", az_deg=7, el_deg=45)
    assert a.feed(b"C2\r") == b"+0007+0045\r\n"
    assert b.feed(b"C2\r") == b"AZ=007   EL=045\r\n"
    assert a.feed(b"X9\r") == b"?>\r\n"
    assert GS232A.commands["position"].parse(["+0007+0045"]) == (7.0, 45.0)
    assert GS232B.commands["position"].parse(["AZ=007   EL=045"]) == (7.0, 45.0)


def test_gs232_slews_at_set_rate():
    now = [0.0]
    fake = FakeGS232("b", rate_deg_s=6.0, clock=lambda: now[0])
    fake.feed(b"W090 000\r")
    now[0] = 5.0
    assert fake.feed(b"C2\r") == b"AZ=030   EL=000\r\n"  # 6 deg/s for 5 s
    fake.feed(b"S\r")
    now[0] = 10.0
    assert fake.feed(b"C2\r") == b"AZ=030   EL=000\r\n"  # stopped


def test_gs232_error_reply_is_device_error():
    fake = FakeGS232("a")
    with serve_pty(fake) as srv:
        t = open_transport(srv.url, timeout_s=T)
        bad = type(GS232A)(
            model=GS232A.model,
            eol=b"\r",
            error_reply=GS232A.error_reply,
            commands={"bogus": type(GS232A.commands["position"])("Q9", 1)},
        )
        with pytest.raises(DeviceError) as e:
            run(t, bad, "bogus")
        assert "refused 'Q9'" in _one_line_device_error(e)
        t.close()


def test_rotator_refuses_out_of_range_target():
    fake = FakeGS232("b")
    with serve_tcp(fake) as srv, open_rotator(srv.url, "gs232b", timeout_s=T) as rot:
        with pytest.raises(InputError, match="elevation 181"):
            rot.goto(10, 181)
        assert b"W" not in bytes(fake.wire)
        assert rot.goto(-90, 10) == (270.0, 10.0)  # negative azimuth wraps


def test_rotctld_protocol_and_errors():
    fake = FakeRotctld(rate_deg_s=1e4)
    with serve_tcp(fake) as srv:
        with open_rotator(srv.tcp_url, "rotctld", timeout_s=T) as rot:
            rot.goto(123.25, 45.0)
            time.sleep(0.05)
            assert rot.position() == pytest.approx((123.25, 45.0))
            rot.park()
            # error reply: P outside the dummy's limits gives RPRT -21 (RIG_ELIMIT; checked at the protocol level)
            reply = rot.transport.transact("P 999 0", b"\n", 2, b"\n", rot.commands.error_reply)
            assert reply == ["RPRT -21"]
            rot.az_range_deg = (0.0, 1000.0)
            with pytest.raises(DeviceError) as e:
                rot.goto(999.0, 0.0)
            assert "RPRT -21 (limit exceeded)" in _one_line_device_error(e)
    assert bytes(fake.wire).startswith(b"P 123.25 45.00\np\nK\nP 999 0\nP 999.00 0.00\n")
    assert bytes(fake.wire).endswith(b"S\n")


def test_rotctld_fake_answers_as_hamlib_dummy():
    """`rotctld -m 1`: limits az -180..450, el 0..90 (rot_dummy.c caps; rot_set_position returns -RIG_ELIMIT
    outside them), %.2f positions, RPRT -1 for an argument that is not a number, and no reply at all to an unknown
    command (rotctl_parse.c prints "Command 'X' not found!" on stderr and answers nothing)."""
    fake = FakeRotctld(rate_deg_s=1e4, az_deg=10.0, el_deg=20.0)
    with serve_tcp(fake) as srv, TcpTransport(srv.tcp_url, timeout_s=T) as t:
        def ask(cmd: str, lines: int) -> list[str]:
            return t.transact(cmd, b"\n", lines, b"\n")

        assert ask("p", 2) == ["10.00", "20.00"]
        assert ask("P 10 95", 1) == ["RPRT -21"]  # above the dummy's 90 deg
        assert ask("P 10 -1", 1) == ["RPRT -21"]
        assert ask("P 460 10", 1) == ["RPRT -21"]
        assert ask("P -180 90", 1) == ["RPRT 0"]  # the limits themselves are allowed
        assert ask("P ten 5", 1) == ["RPRT -1"]
        time.sleep(0.05)
        assert ask("p", 2) == ["-180.00", "90.00"]  # no wrap: the dummy keeps -180
        with pytest.raises(DeviceError, match="no reply to 'X'"):
            ask("X", 1)
        assert fake.stderr == ["Command 'X' not found!"]
        assert ask("S", 1) == ["RPRT 0"]  # still answering after the unknown command


def test_rotator_track_and_stop_on_ctrl_c():
    now = [0.0]
    fake = FakeRotctld(rate_deg_s=1e7)  # real clock: arrives within microseconds

    def sleep(dt: float) -> None:
        now[0] += dt

    with serve_tcp(fake) as srv, open_rotator(srv.tcp_url, "rotctld", timeout_s=T) as rot:
        track = np.column_stack([np.linspace(180, 190, 6), np.linspace(5, 10, 6)])
        rep = rot.track(track, 1.0, clock=lambda: now[0], sleep=sleep)
        np.testing.assert_allclose(rep.commanded_az_deg, track[:, 0])
        assert np.all(rep.pointing_error_deg < 1e-3)
        n_stop = fake.commands.count("S")
        assert n_stop == 1  # stopped at the end

        def interrupt(dt: float) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            rot.track(track, 1.0, clock=lambda: now[0], sleep=interrupt)
        assert fake.commands.count("S") == n_stop + 1  # Ctrl-C stops the rotator


def test_rotator_disappears_mid_track():
    fake = FakeGS232("b", rate_deg_s=100)
    srv = serve_pty(fake)
    rot = open_rotator(srv.url, "gs232b", timeout_s=T)
    calls = [0]

    def sleep(dt: float) -> None:
        calls[0] += 1
        if calls[0] == 2:
            srv.disappear()

    with pytest.raises(DeviceError) as e:
        rot.track([(10, 10), (20, 10), (30, 10)], 0.01, sleep=sleep, clock=lambda: 0.0 + calls[0] * 0.0)
    _one_line_device_error(e)
    rot.close()
    srv.close()


def test_tcp_connect_refused_is_one_line():
    with serve_tcp(FakeRotctld()) as srv:
        url = srv.tcp_url
    with pytest.raises(DeviceError) as e:
        TcpTransport(url, timeout_s=T)
    assert url in _one_line_device_error(e)


def test_missing_serial_port_and_bad_urls():
    with pytest.raises(DeviceError) as e:
        open_transport("/dev/does-not-exist-linksim", timeout_s=T)
    assert "cannot open" in _one_line_device_error(e)
    with pytest.raises(InputError):
        parse_hid_url("hid://zz")
    assert parse_hid_url("hid://20ce:0023/1191") == (0x20CE, 0x23, "1191")
    with pytest.raises(InputError):
        Rotator(open_transport("tcp://127.0.0.1:1", timeout_s=T) if False else None, "gs999")  # type: ignore[arg-type]


# ---------------------------------------------------------------- USB HID (hidapi replaced by a fake module)


class _FakeHidModule:
    """Stands in for hidapi: a Mini-Circuits USB attenuator answering 64-byte reports (code 42 = SCPI)."""

    def __init__(self, fake: FakeAttenuator) -> None:
        self.fake = fake
        self.reports: list[bytes] = []

    def device(self):
        mod = self

        class _Dev:
            def open(self, vid, pid, serial=None):
                if (vid, pid) != (0x20CE, 0x0023):
                    raise OSError("open failed")
                self.reply = b""

            def write(self, data):
                data = bytes(data)
                mod.reports.append(data)
                assert data[0] == 0 and len(data) == 65 and data[1] == 42
                cmd = data[2:].split(b"\x00", 1)[0].decode()
                text = (mod.fake.handle(cmd) or "").strip().encode()
                self.reply = (bytes([42]) + text).ljust(64, b"\x00")
                return len(data)

            def read(self, n, timeout_ms=0):
                out, self.reply = self.reply, b""
                return list(out)

            def close(self):
                pass

        return _Dev()


def test_hid_attenuator_reports(monkeypatch):
    import sys

    fake = FakeAttenuator(model="RUDAT-6000-90", max_db=90.0)
    hid = _FakeHidModule(fake)
    monkeypatch.setitem(sys.modules, "hid", hid)
    with open_attenuator("hid://20ce:0023", timeout_s=T) as att:
        assert att.model == "RUDAT-6000-90" and fake.attenuation_db == 90.0
        assert att.set_db(33.3) == 33.25 and att.get_db() == 33.25
    assert hid.reports[0] == b"\x00*:MN?" + bytes(64 - 6 + 1)
    assert hid.reports[3][:16] == b"\x00*:SETATT=33.25\x00"
    with pytest.raises(DeviceError, match="cannot open HID device"):
        open_attenuator("hid://20ce:9999", timeout_s=T)


def test_hid_without_hidapi_is_one_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "hid", None)  # import fails
    with pytest.raises(DeviceError, match="optional 'hidapi' package"):
        open_attenuator("hid://20ce:0023")


def test_replay_and_track_stop_from_another_thread():
    """A run aborts the fade replay and the track from its own thread: both end early; the rotator stops."""
    import threading

    stop = threading.Event()
    fake_att, fake_rot = FakeAttenuator(max_db=30.0, model="RUDAT-6000-30"), FakeRotctld(rate_deg_s=1e4)
    with serve_tcp(fake_att) as a_srv, serve_tcp(fake_rot) as r_srv:
        with open_attenuator(a_srv.url, timeout_s=T) as att, open_rotator(r_srv.tcp_url, timeout_s=T) as rot:
            threading.Timer(0.15, stop.set).start()
            rep = att.replay(np.arange(100) * 0.25, 0.05, stop=stop)
            k = int(np.count_nonzero(np.isfinite(rep.applied_db)))
            assert 1 <= k < 100 and rep.notes[-1] == f"stopped after {k} of 100 steps"
            n_stop = fake_rot.commands.count("S")
            tr = rot.track(np.column_stack([np.arange(50.0), np.full(50, 10.0)]), 0.05, stop=stop)
            assert tr.notes == ["stopped after 0 of 50 steps"] and np.all(np.isnan(tr.commanded_az_deg))
            assert fake_rot.commands.count("S") == n_stop + 1
