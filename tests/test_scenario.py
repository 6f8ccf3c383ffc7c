"""Scenario files: every shipped file loads; every kind of bad input gives one line naming the key."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from linksim.errors import ScenarioError
from linksim.scenario.model import apply_overrides, list_shipped, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "longyearbyen-ka-geo.toml"


def base_table() -> dict:
    return tomllib.loads(BASE.read_text())


def test_every_shipped_scenario_loads():
    files = list_shipped()
    assert len(files) >= 2
    for f in files:
        s = load_scenario(f)
        assert s.name
        # the resolved table is itself a valid scenario, with every default filled in
        again = scenario_from_dict(s.resolved())
        assert again.resolved() == s.resolved()


def test_example_contract_keys():
    s = load_scenario(BASE)
    assert s.site.lat_deg == 78.22 and s.terminal.pattern == "S.465"
    assert s.carrier.modcod == "QPSK 1/2" and s.propagation.exceedance_pct == 1.0
    assert s.terminal.lna_temp_k == 120.0


@pytest.mark.parametrize(
    "mutate, key, words",
    [
        (lambda d: d["site"].update(latitude=1.0), "site.latitude", "unknown key"),
        (lambda d: d["site"].update(lat_deg="north"), "site.lat_deg", "expected a number"),
        (lambda d: d["site"].update(lat_deg=95.0), "site.lat_deg", "out of range"),
        (lambda d: d["carrier"].update(modcod="QPSK 7/8"), "carrier.modcod", "unknown MODCOD"),
        (lambda d: d["terminal"].update(pattern="S.999"), "terminal.pattern", "not one of"),
        (lambda d: d.pop("carrier"), "carrier", "missing"),
        (lambda d: d["satellite"].update(geo_lon_deg=-70.0), "satellite.geo_lon_deg", "below the horizon"),
        (lambda d: d.update(jammer=[{"name": "j", "type": "cw", "eirp_dbw": 10.0}]), "jammer[0].lat_deg",
         "no position"),
        (lambda d: d.update(jammer=[{"name": "j", "type": "laser", "js_db": 0.0}]), "jammer[0].type", "not one of"),
        (lambda d: d.update(jammer=[{"name": "j", "type": "barrage", "js_db": 0.0}]), "jammer[0].bandwidth_hz",
         "bandwidth_hz > 0"),
        (lambda d: d["scenario"].update(start="yesterday"), "scenario.start", "ISO 8601"),
        (lambda d: d["terminal"].pop("noise_temp_k"), "terminal.noise_temp_k", "noise_figure_db"),
        (lambda d: d.update(weather={}), "weather", "unknown section"),
    ],
)
def test_bad_input_names_the_key(mutate, key, words):
    d = base_table()
    mutate(d)
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(d, "x.toml")
    assert e.value.key == key
    assert words in str(e.value)
    assert "\n" not in str(e.value)


def test_bad_tle_checksum():
    d = base_table()
    d["satellite"].pop("geo_lon_deg")
    good = [
        "1 90001U          26001.00000000  .00000000  00000-0  00000+0 0    01",
        "2 90001  63.4000   0.0000 5500629 270.0000 180.0000  1.50404703    04",
    ]
    d["satellite"]["tle"] = good
    scenario_from_dict(d)
    d["satellite"]["tle"] = [good[0], good[1][:-1] + "5"]
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(d)
    assert e.value.key == "satellite.tle" and "checksum" in str(e.value)


def test_overrides_set_dotted_keys():
    d = base_table()
    d["jammer"] = [{"name": "a", "type": "cw", "js_db": 0.0}]
    out = apply_overrides(d, {"jammer.0.js_db": 5.0, "carrier.modcod": "8PSK 3/4"})
    s = scenario_from_dict(out)
    assert s.jammers[0].js_db == 5.0 and s.carrier.modcod == "8PSK 3/4"
    assert d["jammer"][0]["js_db"] == 0.0  # the input table is not modified
    with pytest.raises(ScenarioError):
        apply_overrides(d, {"jammer.3.js_db": 1.0})


def test_cli_bad_scenario_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE.read_text().replace("lat_deg = 78.22", 'lat_deg = "78N"'))
    r = subprocess.run([sys.executable, "-m", "linksim", "budget", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "site.lat_deg" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "linksim", "budget", str(tmp_path / "missing.toml")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "no such scenario file" in r.stderr
    bad.write_text("[scenario\nname=")
    r = subprocess.run([sys.executable, "-m", "linksim", "budget", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "not valid TOML" in r.stderr


def test_a_bad_override_is_named_as_given(tmp_path):
    with pytest.raises(ScenarioError) as e:
        load_scenario(BASE, {"site.lat_deg": 95.0})
    assert e.value.key == "site.lat_deg (override)" and "<= 90" in e.value.problem
    with pytest.raises(ScenarioError) as e:  # a list index: jammer.0.x is jammer[0].x in the file
        load_scenario(ROOT / "scenarios" / "contested-x-cw.toml", {"jammer.0.eirp_dbw": float("nan")})
    assert e.value.key == "jammer.0.eirp_dbw (override)" and "finite" in e.value.problem
    # a bad key of the file itself keeps the file's name for it
    p = tmp_path / "s.toml"
    p.write_text(BASE.read_text().replace("lat_deg = 78.22", "lat_deg = 95.0"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(p, {"carrier.modcod": "8PSK 3/4"})
    assert e.value.key == "site.lat_deg"


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda d: d["carrier"].update(modcode="QPSK 1/2"), ["carrier.modcode", "did you mean modcod?"]),
        (lambda d: d["jammer"][0].update(duty=0.5), ["jammer[0].duty", "did you mean duty_cycle?"]),
        (lambda d: d.update(jammers=d.pop("jammer")), ["jammers", "did you mean jammer?"]),
    ],
)
def test_an_unknown_key_suggests_the_closest_name(mutate, words):
    d = tomllib.loads((ROOT / "scenarios" / "contested-x-pulsed.toml").read_text())
    mutate(d)
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(d)
    for w in words:
        assert w in str(e.value)


def test_files_that_are_not_scenarios_are_refused_without_reading_them(tmp_path):
    import os

    os.mkfifo(tmp_path / "fifo.toml")  # reading it would block
    (tmp_path / "latin1.toml").write_bytes("[scenario]\nname = 'Bod\u00f8'\n".encode("latin-1"))
    (tmp_path / "nul.toml").write_bytes(b"[scenario]\x00")
    os.symlink("/dev/zero", tmp_path / "zero.toml")  # never ends
    for name, words in (("fifo.toml", "FIFO"), ("latin1.toml", "not UTF-8 text (byte 0xf8"),
                        ("nul.toml", "binary"), ("zero.toml", "character device")):
        with pytest.raises(ScenarioError) as e:
            load_scenario(tmp_path / name)
        assert words in str(e.value) and name in str(e.value)
