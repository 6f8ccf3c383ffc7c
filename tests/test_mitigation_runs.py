"""Mitigation in whole runs: the scenario's [mitigation] in `linksim run` (the receive chain's front end, the summary's
and the report's mitigation record), the in-memory runner against the GNU Radio one (the same frames), the bad
inputs (one line, exit code 2), and a campaign sweeping the dotted keys."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from linksim.errors import InputError
from linksim.scenario.model import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "scenarios" / "contested-x-antijam.toml"
ARRAY = ROOT / "scenarios" / "contested-x-array.toml"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "linksim", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=900)


def test_run_with_fft_excision_records_what_it_did(gr, tmp_path):
    """A CW tone at J/S +20 dB on the bench: the run decodes every frame through the excision, and the summary and
    the report say how much it took out; without it nothing decodes."""
    out = tmp_path / "fft"
    r = cli("run", str(BENCH), "--out", str(out), "--duration", "0.4", "--seed", "2", "--set", "jammer.0.js_db=20",
            "--set", "mitigation.excision=fft")
    assert r.returncode == 0, r.stderr[-2000:]
    sm = json.loads((out / "summary.json").read_text())
    assert sm["fer"] == 0.0 and sm["frames_total"] >= 10
    m = sm["mitigation"]
    assert m["excision"] == "fft" and m["blanking"] == "none"
    assert m["excised_power_fraction"] > 0.95 and m["excised_fraction"] < 0.05
    html = (out / "report.html").read_text()
    assert "<h2>Mitigation</h2>" in html and "Excised power" in html
    r = cli("run", str(BENCH), "--out", str(tmp_path / "none"), "--duration", "0.4", "--seed", "2", "--set",
            "jammer.0.js_db=20", "--no-report")
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((tmp_path / "none" / "summary.json").read_text())["fer"] == 1.0


def _frames(path: Path) -> list[dict]:
    with open(path / "frames.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("scenario, over", [
    (BENCH, {"jammer.0.type": "pulsed", "jammer.0.base": "barrage", "jammer.0.bandwidth_hz": 1.2e6,
             "jammer.0.duty_cycle": 0.1, "jammer.0.prf_hz": 10e3, "jammer.0.offset_hz": 0.0,
             "mitigation.blanking": "pulse", "mitigation.excision": "notch"}),
    (ARRAY, {}),
], ids=["blanking+notch", "array"])
def test_in_memory_runner_gives_the_flowgraphs_frames(gr, tmp_path, scenario, over):
    from linksim.run import inmemory, loop

    s = load_scenario(scenario, over)
    a = inmemory.run_scenario(s, tmp_path / "mem", duration_s=0.3, seed=5, report=False)
    b = loop.run_scenario(s, tmp_path / "gr", duration_s=0.3, seed=5, report=False)
    fa, fb = _frames(tmp_path / "mem"), _frames(tmp_path / "gr")
    assert len(fa) == len(fb) >= 8
    for x, y in zip(fa, fb, strict=True):
        assert (x["time_s"], x["ok"], x["found"], x["modcod"]) == (y["time_s"], y["ok"], y["found"], y["modcod"])
        assert float(x["esn0_est_db"]) == pytest.approx(float(y["esn0_est_db"]), abs=0.02)
    assert a["goodput_bps_mean"] == b["goodput_bps_mean"]
    if "array" in a["mitigation"]:
        ja, jb = a["mitigation"]["array"]["jammers"][0], b["mitigation"]["array"]["jammers"][0]
        assert ja["null_depth_db"] == pytest.approx(jb["null_depth_db"], abs=0.01)


def test_in_memory_runner_is_ccm_only(tmp_path):
    from linksim.run import inmemory

    with pytest.raises(InputError, match="CCM"):
        inmemory.run_scenario(load_scenario(BENCH), tmp_path, duration_s=0.2, acm=True)


@pytest.mark.parametrize("args, fragment", [
    (["run", str(BENCH), "--set", "mitigation.excision=fir", "--duration", "0.2"], "mitigation.excision"),
    (["run", str(BENCH), "--set", "mitigation.fft_size=1000", "--duration", "0.2"], "mitigation.fft_size"),
    (["run", str(BENCH), "--set", "mitigation.bogus=1", "--duration", "0.2"], "mitigation.bogus"),
    (["run", str(ARRAY), "--set", "terminal.array.layout=ura", "--set", "terminal.array.elements=7",
      "--duration", "0.2"], "terminal.array.elements"),
    (["run", str(ARRAY), "--record", "/tmp/x", "--duration", "0.2"], "--record"),
    (["run", str(ARRAY), "--role", "rx", "--duration", "0.2"], "loopback only"),
    (["run", str(ARRAY), "--traffic", "udp", "--duration", "0.2"], "not with --traffic"),
    (["run", str(ARRAY), "--set", "satellite.amplifier.model=saleh", "--duration", "0.2"], "satellite amplifier"),
    (["dvbs2", "rx", "--in", str(BENCH), "--excision", "wavelet"], "--excision"),
    (["dvbs2", "rx", "--in", str(BENCH), "--notch-max", "3"], "--notch-max needs --excision notch"),
    (["dvbs2", "rx", "--in", str(BENCH), "--blanking", "pulse", "--blanking-guard", "5000"], "--blanking-guard"),
])
def test_bad_mitigation_input_is_one_line_and_exit_2(args, fragment):
    r = cli(*args)
    assert r.returncode == 2, (r.returncode, r.stderr[-1500:])
    err = r.stderr.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "Traceback" not in err, err


def test_a_campaign_sweeps_the_mitigation_keys(tmp_path):
    from linksim.campaign.runner import load_spec

    spec = tmp_path / "c.toml"
    spec.write_text(f'base = "{BENCH}"\ndescription = "x"\n[grid]\n"mitigation.excision" = ["none", "fft", "notch"]\n'
                    '"terminal.array.nulling" = ["none", "mvdr"]\n[run]\nduration_s = 0.2\n')
    s = load_spec(spec, runner="linksim.run.inmemory:run_scenario")
    assert len(s.points) == 6
    got = {(p.params["mitigation.excision"], p.params["terminal.array.nulling"]) for p in s.points}
    assert ("notch", "mvdr") in got
