"""Device profiles: every shipped profile loads and passes the schema; the schema refuses unknown keys, wrong
types and inconsistent values, naming the file and dotted key; shipped numbers match the vendors' data sheets
(HackRF One: 1 MHz - 6 GHz, 2 - 20 MS/s, RX LNA 0-40 dB in 8 dB steps, VGA 0-62 dB in 2 dB steps, TX VGA 0-47
dB; half duplex; RTL-SDR receive only; USRP B210 up to 61.44 MS/s)."""

from __future__ import annotations

import pytest

from linksim.errors import InputError
from linksim.hw.profiles import KINDS, list_profiles, load_profile, profile_from_dict, profiles_dir

SHIPPED = ["b210", "x310", "hackrf", "pluto", "limesdr", "rtlsdr", "zmq", "sigmf", "loopback"]


def test_every_shipped_profile_loads():
    names = list_profiles()
    assert set(SHIPPED) <= set(names)
    for name in names:
        p = load_profile(name)
        assert p.name == name and p.kind in KINDS
        assert p.min_sps <= (p.default_sps or p.min_sps) <= p.max_sps
        if not p.is_pseudo:
            assert p.tx_allowed is False  # shipped hardware profiles are safe by default
            assert p.rx_gains
        assert p.summary()["name"] == name


def test_vendor_numbers():
    h = load_profile("hackrf")
    assert (h.min_freq_hz, h.max_freq_hz, h.min_sps, h.max_sps) == (1e6, 6e9, 2e6, 20e6)
    assert h.duplex == "half"
    rx = {s.name: (s.min_db, s.max_db, s.step_db) for s in h.rx_gains}
    assert rx["LNA"] == (0, 40, 8) and rx["VGA"] == (0, 62, 2)
    tx = {s.name: (s.min_db, s.max_db, s.step_db) for s in h.tx_gains}
    assert tx["VGA"] == (0, 47, 1)
    r = load_profile("rtlsdr")
    assert r.duplex == "rx_only" and not r.tx
    assert load_profile("b210").max_sps == 61.44e6
    assert load_profile("x310").require_lock and load_profile("x310").kind == "uhd"


BASE = {"name": "t", "kind": "loopback", "driver": "loopback"}


@pytest.mark.parametrize(
    "patch, key",
    [
        ({"bogus": 1}, "bogus: unknown key"),
        ({"sample_rate": {"max_spss": 1}}, "sample_rate.max_spss: unknown key"),
        ({"kind": "usrp"}, "kind: 'usrp' is not one of"),
        ({"duplex": "simplex"}, "duplex:"),
        ({"tx_allowed": True}, "tx_allowed: true but the device cannot transmit"),
        ({"rx": "yes"}, "rx: must be bool"),
        ({"sample_rate": {"min_sps": "2e6"}}, "sample_rate.min_sps: must be a number"),
        ({"sample_rate": {"min_sps": 10.0, "max_sps": 1.0}}, "max_sps below min_sps"),
        ({"gains": {"rx": {"LNA": {"min_db": 0}}}}, "gains.rx.LNA.max_db: missing"),
        ({"gains": {"rx": {"LNA": {"min_db": 0, "max_db": 10, "default_db": 20}}}}, "default_db"),
        ({"gains": {"rx": {"LNA": {"min_db": 0, "max_db": 10, "stepdb": 1}}}}, "gains.rx.LNA.stepdb: unknown"),
        ({"options": {"path_gain": -3}}, "options.path_gain: unknown option for kind loopback"),
        ({"options": {"seed": "x"}}, "options.seed: wrong type"),
        ({"reference": {"require_lock": True}}, "no lock_sensors"),
    ],
)
def test_schema_refuses(patch, key):
    with pytest.raises(InputError) as e:
        profile_from_dict({**BASE, **patch}, source="x.toml")
    msg = str(e.value)
    assert msg.startswith("x.toml: ") and key in msg and "\n" not in msg


def test_missing_fields_and_files(tmp_path):
    with pytest.raises(InputError, match="driver: missing"):
        profile_from_dict({"name": "t", "kind": "soapy"})
    with pytest.raises(InputError, match="no device profile 'nope'"):
        load_profile("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_profile(bad)
    hw_needs_gains = {"name": "t", "kind": "soapy", "driver": "hackrf", "tx": True}
    with pytest.raises(InputError, match="gains.tx"):
        profile_from_dict(hw_needs_gains)


def test_profiles_dir_env(tmp_path, monkeypatch):
    (tmp_path / "mine.toml").write_text('name = "mine"\nkind = "zmq"\ndriver = "zmq"\n')
    monkeypatch.setenv("LINKSIM_HW_PROFILES", str(tmp_path))
    assert profiles_dir() == tmp_path and list_profiles() == ["mine"]
    assert load_profile("mine").kind == "zmq"


def test_gain_clamp_quantizes_to_step():
    h = load_profile("hackrf")
    g, notes = h.clamp_gains("rx", {"LNA": 13, "VGA": 99, "AMP": 5})
    assert g == {"AMP": 0.0, "LNA": 16.0, "VGA": 62.0}
    assert len(notes) == 3
