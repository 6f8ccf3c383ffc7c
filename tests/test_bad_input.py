"""Bad input through the real CLI: every case ends within 60 s with the promised exit code, exactly one line on
stderr (`linksim: error: ...` naming the option, key or file), no traceback, and no file lost, changed or
half-written (the working directory is identical before and after the case, existing outputs included).

Each class of the hardening issue (#11) is tried with many members, not only the issue's examples: files that are
not UTF-8 TOML, binary, a FIFO, /dev/zero or huge (scenarios, campaign specs, device profiles, IQ and TS inputs);
IQ that is NaN, infinite, absurd or random bytes, and SigMF recordings whose data does not match core:sha512; output
paths that are the input (same name, symlink, hard link, SigMF pair), in a missing or read-only directory, under a
file, a directory or a device, or with an unknown figure extension; every numeric option of channel, dvbs2
tx/rx/ber, budget and report with NaN, infinity and values out of range or aliasing at the sample rate; every
jammer and fading spec field; campaign run options that `sweep --plan` must refuse as the run would; messages that
name the key as typed (duty vs duty_cycle, K, overrides).

Most cases run in one interpreter per group (tests/bad_input_driver.py: linksim.cli.main with the same exit codes
and one-line handler as the `linksim` script; one start instead of one per case); REAL_CLI runs a member of each
class through `python -m linksim` in its own process. The read-only cases run as user `nobody` when the tests run
as root (root may write into a directory without write permission).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "bad_input_driver.py"
CASE_LIMIT_S = 60.0
CH = ["channel", "--in", "in.cf32", "--out", "o.cf32", "--sample-rate", "2e6", "--sps", "2"]
TX = ["dvbs2", "tx", "--modcod", "QPSK 1/2", "--frame", "short", "--frames", "1"]
RX = ["dvbs2", "rx", "--in"]
BER = ["dvbs2", "ber", "--modcod", "QPSK 1/2", "--frame", "short", "--frames", "1", "--esn0-db", "8"]
BUDGET = ["budget", "good.toml"]


@dataclass
class Case:
    id: str
    argv: list[str]
    says: tuple[str, ...]  # every one of these is in the error line
    rc: int = 2
    group: str = "main"
    warning: bool = False  # rc 0 with one warning line instead of an error


def case(id: str, argv: list[str], *says: str, **kw) -> Case:  # noqa: A002 - pytest's word
    return Case(id, argv, says, **kw)


@dataclass
class SpecFile:
    name: str
    text: str
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- the cases

BAD_TEXT_FILES = [  # (file, what the message says)
    ("latin1.toml", "not UTF-8"), ("binary.toml", "binary"), ("rand.toml", "rand.toml"), ("fifo.toml", "FIFO"),
    ("zero.toml", "character device"), ("/dev/zero", "character device"), ("huge.toml", "MiB"),
    ("adir.toml", "directory"), ("notoml.toml", "TOML"),
]
CASES: list[Case] = []
for f, says in BAD_TEXT_FILES:
    CASES += [case(f"scenario-{f}", ["budget", f], says), case(f"spec-{f}", ["sweep", f, "--plan"], says)]
    if f.endswith(".toml"):  # a device profile is a name or a .toml path
        CASES.append(case(f"profile-{f}", ["hw", "probe", f], says))
CASES += [
    case("scenario-missing", ["budget", "missing.toml"], "missing.toml", "no such scenario file"),
    case("scenario-empty", ["budget", "empty.toml"], "scenario", "required section is missing"),
    case("scenario-via-channel-fifo", [*CH, "--scenario", "fifo.toml"], "fifo.toml", "FIFO"),
    case("scenario-via-channel-binary", [*CH, "--scenario", "binary.toml"], "binary.toml", "binary"),
    case("spec-base-fifo", ["sweep", "spec-base-fifo.toml", "--plan"], "FIFO"),
    case("spec-base-binary", ["sweep", "spec-base-binary.toml", "--plan"], "binary"),
    case("spec-base-devzero", ["sweep", "spec-base-devzero.toml", "--plan"], "character device"),
]
# IQ inputs: file types, samples, SigMF metadata
for cmd, base in (("channel", [*CH[:1], "--in"]), ("rx", RX)):
    tail = ["--out", "o.cf32", "--sample-rate", "2e6", "--sps", "2"] if cmd == "channel" else []
    for f, says in (("fifo.cf32", "FIFO"), ("zero.cf32", "character device"), ("dir.cf32", "directory"),
                    ("missing.cf32", "no such file"), ("odd.cf32", "whole number of complex samples"),
                    ("nan.cf32", "NaN or infinite"), ("inf.cf32", "NaN or infinite"), ("big.cf32", "magnitude"),
                    ("rand.cf32", "rand.cf32"), ("empty.cf32", "no samples"), ("bad.sigmf-meta", "core:sha512"),
                    ("garbage.sigmf-meta", "not readable SigMF"), ("list.sigmf-meta", "not SigMF metadata"),
                    ("nanrate.sigmf-meta", "core:sample_rate"), ("strch.sigmf-meta", "core:num_channels"),
                    ("nodata.sigmf-meta", "no such SigMF data file"), ("hb.sigmf-meta", "header_bytes"),
                    ("fifometa.sigmf-meta", "FIFO"), ("sha.sigmf-meta", "core:sha512")):
        CASES.append(case(f"iq-{cmd}-{f}", [*base, f, *tail], says))
CASES += [
    case("iq-rx-bad-checksum-ignored", [*RX, "bad.sigmf-meta", "--ignore-checksum"], "core:sha512",
         "--ignore-checksum", rc=0, warning=True),
    case("ts-in-fifo", [*TX[:6], "--ts-in", "fifo.ts", "--out", "x.cf32"], "FIFO"),
    case("ts-in-devzero", [*TX[:6], "--ts-in", "zero.ts", "--out", "x.cf32"], "character device"),
    case("ts-in-not-ts", [*TX[:6], "--ts-in", "notts.ts", "--out", "x.cf32"], "--ts-in", "188"),
    case("ts-in-missing", [*TX[:6], "--ts-in", "missing.ts", "--out", "x.cf32"], "missing.ts"),
]
# outputs
CASES += [
    case("out-is-in", [*CH[:3], "--out", "in.cf32", *CH[5:]], "--out in.cf32", "is the input"),
    case("out-symlink-to-in", [*CH[:3], "--out", "link.cf32", *CH[5:]], "link.cf32", "is the input"),
    case("out-hardlink-to-in", [*CH[:3], "--out", "hard.cf32", *CH[5:]], "hard.cf32", "is the input"),
    case("out-sigmf-pair", ["channel", "--in", "rec.sigmf-meta", "--out", "rec.sigmf-data", "--sps", "2"],
         "rec.sigmf-data", "is the input"),
    case("out-sigmf-base", ["channel", "--in", "rec.sigmf-data", "--out", "rec", "--sps", "2"], "is the input"),
    case("out-missing-dir", [*CH[:3], "--out", "nodir/o.cf32", *CH[5:]], "nodir", "does not exist"),
    case("out-under-a-file", [*CH[:3], "--out", "afile/o.cf32", *CH[5:]], "afile/o.cf32", "not a directory"),
    case("out-is-a-dir", [*CH[:3], "--out", "dir.cf32", *CH[5:]], "dir.cf32", "directory"),
    case("out-is-a-device", [*BUDGET, "--csv", "/dev/null"], "/dev/null", "character device"),
    case("out-unknown-type", [*CH[:3], "--out", "o.txt", *CH[5:]], "o.txt", "unknown IQ file type"),
    case("out-existing-kept-on-error", ["channel", "--in", "nan.cf32", "--out", "exists.cf32", *CH[5:]],
         "NaN or infinite"),
    case("out-overflow", [*CH, "--input-power", "1e24", "--esn0-db=-50", "--sps", "65536"], "overflows"),
    case("tx-out-missing-dir", [*TX, "--out", "nodir/x.cf32"], "nodir", "does not exist"),
    case("tx-out-under-a-file", [*TX, "--out", "afile/x.cf32"], "not a directory"),
    case("tx-out-is-a-dir", [*TX, "--out", "dir.cf32"], "directory"),
    case("tx-out-sigmf", [*TX, "--out", "x.sigmf-meta"], "x.sigmf-meta", ".cf32"),
    case("tx-out-is-ts-in", [*TX[:6], "--ts-in", "in.ts", "--out", "in.ts"], "is the input"),
    case("tx-save-ts-is-out", [*TX, "--out", "x.cf32", "--save-ts", "x.cf32"], "--save-ts", "same file"),
    case("tx-save-ts-missing-dir", [*TX, "--out", "x.cf32", "--save-ts", "nodir/x.ts"], "--save-ts", "nodir"),
    case("rx-ts-out-missing-dir", [*RX, "in.cf32", "--ts-out", "nodir/x.ts"], "--ts-out", "nodir"),
    case("rx-frames-out-under-a-file", [*RX, "in.cf32", "--frames-out", "afile/x.jsonl"], "--frames-out"),
    case("rx-ts-out-is-in", [*RX, "in.cf32", "--ts-out", "in.cf32"], "is the input"),
    case("rx-two-outputs-one-file", [*RX, "in.cf32", "--ts-out", "y.ts", "--frames-out", "y.ts"], "same file"),
    case("budget-csv-missing-dir", [*BUDGET, "--csv", "nodir/x.csv"], "--csv", "nodir"),
    case("budget-csv-under-a-file", [*BUDGET, "--csv", "afile/x.csv"], "--csv", "not a directory"),
    case("budget-csv-is-a-dir", [*BUDGET, "--csv", "adir.toml"], "--csv", "directory"),
    case("budget-csv-is-the-scenario", [*BUDGET, "--csv", "good.toml"], "is the input"),
    case("budget-plot-unknown-ext", [*BUDGET, "--plot", "x.xyz"], "--plot", "unknown figure format .xyz"),
    case("budget-plot-no-ext", [*BUDGET, "--plot", "plotfile"], "--plot", "no extension"),
    case("budget-plot-missing-dir", [*BUDGET, "--plot", "nodir/x.png"], "--plot", "nodir"),
    case("budget-csv-and-plot-one-file", [*BUDGET, "--csv", "x.png", "--plot", "x.png"], "same file"),
    case("report-missing-dir", ["report", "nodir"], "nodir", "does not exist"),
    case("report-a-file", ["report", "afile"], "afile", "not a directory"),
    case("report-not-a-run", ["report", "adir.toml"], "not a run directory"),
    case("report-binary-summary", ["report", "binrun"], "summary.json", "binary"),
    case("report-fifo-csv", ["report", "fiforun"], "FIFO"),
]
READ_ONLY = [  # in the read-only directory ro/ (run as nobody when the tests run as root)
    case("ro-channel-out", [*CH[:3], "--out", "ro/o.cf32", *CH[5:]], "--out ro/o.cf32", "Permission denied"),
    case("ro-tx-out", [*TX, "--out", "ro/x.cf32"], "--out ro/x.cf32", "Permission denied"),
    case("ro-tx-save-ts", [*TX, "--out", "rw/x.cf32", "--save-ts", "ro/x.ts"], "--save-ts", "Permission denied"),
    case("ro-rx-ts-out", [*RX, "in.cf32", "--ts-out", "ro/x.ts"], "--ts-out", "Permission denied"),
    case("ro-rx-frames-out", [*RX, "in.cf32", "--frames-out", "ro/x.jsonl"], "--frames-out", "Permission denied"),
    case("ro-budget-csv", [*BUDGET, "--csv", "ro/x.csv"], "--csv", "Permission denied"),
    case("ro-budget-plot", [*BUDGET, "--plot", "ro/x.png"], "--plot", "Permission denied"),
    case("ro-report", ["report", "ro"], "ro", "Permission denied"),
]
for c in READ_ONLY:
    c.group = "readonly"
CASES += READ_ONLY
# numbers: every numeric option with NaN, infinities and values out of range or aliasing
NUMBERS = {
    "channel": (CH, {
        "--sample-rate": ["nan", "inf", "0", "-1", "1e12"], "--sps": ["nan", "0", "0.5", "1e9"],
        "--esn0-db": ["nan", "inf", "-inf", "1e6", "-1e6"], "--gain-db": ["nan", "1e6", "-1e6", "inf"],
        "--doppler-hz": ["nan", "1e9", "1e6", "-1e6"], "--doppler-rate-hz-s": ["nan", "1e12", "-1e9"],
        "--delay-s": ["nan", "-1", "1e9", "20"], "--input-power": ["nan", "inf", "0", "-1", "1e30"],
        "--seed": ["-1", str(2**63)],
    }),
    "tx": ([*TX, "--out", "x.cf32"], {
        "--sps": ["0", "65", "1000000000"], "--gold-code": ["-1", "262143"], "--seed": ["-1", str(2**63)],
    }),
    "tx-frames": ([*TX[:6], "--out", "x.cf32"], {"--frames": ["0", "-1", "1000000000000"]}),
    "rx": ([*RX, "in.cf32"], {
        "--sps": ["1", "nan", "inf", "1e9"], "--gold-code": ["-5", "999999999"], "--max-iter": ["0", "100000000"],
    }),
    "ber": (BER, {
        "--esn0-db": ["nan", "inf", "-inf", "1e6", "-1e6"], "--frames": ["0", "10000000000"],
        "--sps": ["1", "100000"], "--cfo-hz": ["nan", "5e6", "5e5", "-5e5"],
        "--symbol-rate-baud": ["nan", "0", "-1", "inf"], "--timing-offset": ["nan", "1e9", "-2"],
        "--seed": ["-1"], "--max-iter": ["0", "5000"],
    }),
    "budget": (BUDGET, {"--duration": ["nan", "inf", "1e12", "0", "-5"], "--step": ["nan", "1e-9", "0", "1e6"]}),
    "report": (["report", "nodir"], {"--esn0-tol": ["nan", "0", "-1", "inf"], "--goodput-tol": ["nan", "0", "inf"]}),
}
for group, (base, opts) in NUMBERS.items():
    for opt, values in opts.items():
        for v in values:
            argv = [*base]
            if opt in argv:  # drop the base's own value
                i = argv.index(opt)
                del argv[i : i + 2]
            CASES.append(case(f"num-{group}{opt}={v}", [*argv, f"{opt}={v}"], opt))
CASES += [
    case("num-channel-start-without-scenario", [*CH, "--start-s", "5"], "--start-s", "--scenario"),
    case("num-channel-start-past-scenario", [*CH, "--scenario", "good.toml", "--start-s", "1e9"], "--start-s",
         "outside the scenario"),
    case("num-channel-start-nan", [*CH, "--scenario", "good.toml", "--start-s", "nan"], "--start-s"),
    case("num-channel-start-negative", [*CH, "--scenario", "good.toml", "--start-s=-1"], "--start-s"),
    case("num-channel-gain-with-scenario", [*CH, "--scenario", "good.toml", "--gain-db", "3"], "--gain-db",
         "--scenario"),
    case("num-channel-doppler-rate-leaves-band", [*CH, "--doppler-hz", "9e5", "--doppler-rate-hz-s", "1e8"],
         "--doppler-rate-hz-s"),
    case("num-ber-cfo-with-genie", [*BER, "--sync", "genie", "--cfo-hz", "1e3"], "genie"),
    case("num-ber-modcod-list", [*BER[:2], "--modcod", "QPSK 1/2,8PSK 3/4", *BER[4:]], "--modcod", "one MODCOD"),
    case("num-ber-modcod-bad", [*BER[:2], "--modcod", "9PSK 3/4", *BER[4:]], "--modcod"),
    case("num-budget-rows", [*BUDGET, "--duration", "1e6", "--step", "0.01"], "--duration and --step", "rows"),
    case("num-budget-at-garbage", [*BUDGET, "--at", "garbage"], "garbage"),
    case("num-budget-at-outside", [*BUDGET, "--at", "2099-01-01T00:00:00Z"], "--at", "outside the scenario"),
    case("key-budget-set-nan", [*BUDGET, "--set", "jammer.0.js_db=nan"], "jammer.0.js_db"),
    case("key-budget-set-duration", [*BUDGET, "--set", "scenario.duration_s=1e12"], "scenario.duration_s"),
    case("key-budget-set-unknown", [*BUDGET, "--set", "jammer.0.duty=0.5"], "jammer.0.duty", "unknown key"),
    case("key-budget-set-not-kv", [*BUDGET, "--set", "nokey"], "--set", "KEY=VALUE"),
    case("key-budget-set-track-lon", [*BUDGET, "--set", "jammer.0.track=[[0,70,1e9,0],[10,70,15,0]]"],
         "jammer[0].track[0]", "longitude"),
]
# jammer and fading specs: every field, named as typed
JAMMERS = [
    ("type=cw,js_db=nan", "js_db"), ("type=cw,js_db=1e6", "js_db"), ("type=cw,js_db=inf", "js_db"),
    ("type=cw,offset_hz=1", "js_db is missing"), ("js_db=0", "type is missing"), ("type=laser,js_db=0", "laser"),
    ("type=cw,js_db=0,offset_hz=5e6", "offset_hz"), ("type=cw,js_db=0,offset_hz=nan", "offset_hz"),
    ("type=cw,js_db=0,phase_rad=inf", "phase_rad"), ("type=cw,js_db=0,bad", "'bad' is not NAME=VALUE"),
    ("type=cw,js_db=0,freq=3", "'freq'"), ("type=barrage,js_db=0,bandwidth_hz=3e6", "bandwidth_hz"),
    ("type=barrage,js_db=0,bandwidth_hz=nan", "bandwidth_hz"), ("type=barrage,js_db=0", "bandwidth_hz"),
    ("type=barrage,js_db=0,bandwidth_hz=5e5,offset_hz=9e5", "bandwidth_hz"),
    ("type=multitone,js_db=0,n_tones=0,bandwidth_hz=1e5", "n_tones"),
    ("type=multitone,js_db=0,n_tones=100000,bandwidth_hz=1e5", "n_tones"),
    ("type=multitone,js_db=0,n_tones=2.5,bandwidth_hz=1e5", "n_tones"),
    ("type=multitone,js_db=0,n_tones=4,bandwidth_hz=5e6", "bandwidth_hz"),
    ("type=partial_band,js_db=0,band_hz=1e6,rho=0", "rho"), ("type=partial_band,js_db=0,band_hz=1e6,rho=2", "rho"),
    ("type=partial_band,js_db=0,band_hz=nan,rho=0.5", "band_hz"),
    ("type=partial_band,js_db=0,band_hz=1e6,fraction=0", "fraction"),
    ("type=swept,js_db=0,bandwidth_hz=1e5,sweep_rate_hz_s=0", "sweep_rate_hz_s"),
    ("type=swept,js_db=0,bandwidth_hz=1e5,sweep_rate_hz_s=1e20", "sweep_rate_hz_s"),
    ("type=swept,js_db=0,bandwidth_hz=1e7,sweep_rate_hz_s=1e6", "bandwidth_hz"),
    ("type=pulsed,js_db=0,duty=0,prf_hz=100", "duty"), ("type=pulsed,js_db=0,duty=2,prf_hz=100", "duty"),
    ("type=pulsed,js_db=0,duty_cycle=2,prf_hz=100", "duty_cycle"),
    ("type=pulsed,js_db=0,duty=0.5,prf_hz=1e9", "prf_hz"), ("type=pulsed,js_db=0,duty=0.5,prf_hz=nan", "prf_hz"),
    ("type=pulsed,js_db=0,duty=0.5,prf_hz=100,delay_s=nan", "delay_s"),
    ("type=pulsed,js_db=0,base=pulsed,duty=0.5,prf_hz=100", "base"),
    ("type=pulsed,js_db=0,base=laser,duty=0.5,prf_hz=100", "laser"),
    ("type=pulsed,js_db=0,duty=0.5,prf_hz=100,x=1", "pulsed (base cw) has no parameter 'x'"),
    ("type=pulsed,js_db=0,prf_hz=100", "duty"), ("type=pulsed,js_db=0,duty=0.1,duty_cycle=0.2,prf_hz=1", "twice"),
    ("type=pulsed,js_db=0,base=barrage,duty=0.5,prf_hz=100,bandwidth_hz=9e6", "bandwidth_hz"),
    ("type=follower,js_db=0,bandwidth_hz=1e5,look_time_s=1e-9", "look_time_s"),
    ("type=follower,js_db=0,bandwidth_hz=1e5,reaction_time_s=1e9", "reaction_time_s"),
    ("type=follower,js_db=0,bandwidth_hz=1e5,threshold_db=1e6", "threshold_db"),
    ("type=modulated,js_db=0,symbol_rate_hz=5e6", "symbol_rate_hz"),
    ("type=modulated,js_db=0,symbol_rate_baud=0", "symbol_rate_baud"),
    ("type=modulated,js_db=0,symbol_rate_hz=1e5,order=16", "order"),
    ("type=modulated,js_db=0,symbol_rate_hz=1e5,rolloff=2", "rolloff"),
]
FADINGS = [
    ("rician:K=nan,doppler_hz=10", "K"), ("rician:K=-1,doppler_hz=10", "K"), ("rician:K=1e9,doppler_hz=10", "K"),
    ("rician:K=4,doppler_hz=0", "doppler_hz"), ("rician:K=4,doppler_hz=1e9", "doppler_hz"),
    ("rician:K=4,doppler_hz=0.01", "doppler_hz"), ("rician:K=4,doppler_hz=10,los_doppler_hz=2e6", "los_doppler_hz"),
    ("loo:doppler_hz=10,los_mean_db=1e6", "los_mean_db"), ("loo:doppler_hz=10,los_std_db=-1", "los_std_db"),
    ("loo:doppler_hz=10,multipath_db=nan", "multipath_db"), ("lutz:K=4,doppler_hz=10,mean_good_s=0", "mean_good_s"),
    ("lutz:K=4,doppler_hz=10,bad_std_db=nan", "bad_std_db"), ("lutz:K=4,doppler_hz=10,shadow_corr_s=-1",
                                                               "shadow_corr_s"),
    ("rayleigh:K=3,doppler_hz=10", "'K'"), ("nakagami:m=2", "nakagami"), ("rician:K=4", "doppler_hz"),
    ("rician:doppler_hz", "not NAME=VALUE"), ("rician:K=4,doppler_hz=x", "'x' is not a number"),
    ("", "unknown model ''"), ("rician:K=4,K=5,doppler_hz=10", "given twice"),
]
CASES += [case(f"jammer-{i}-{spec}", [*CH, "--jammer", spec], spec, says) for i, (spec, says) in enumerate(JAMMERS)]
CASES += [case(f"fading-{i}-{spec}", [*CH, "--fading", spec], spec, says) for i, (spec, says) in enumerate(FADINGS)]
# campaign specs: sweep --plan refuses what the run would
SPEC_HEAD = 'base = "good.toml"\n'
CAMPAIGN = {
    "duration-1e12": ("[run]\nduration_s = 1e12\n", ("run.duration_s", "goes past")),
    "duration-nan": ("[run]\nduration_s = nan\n", ("run.duration_s",)),
    "bin-negative": ("[run]\nbin_s = -1.0\n", ("run.bin_s",)),
    "bin-nan": ("[run]\nbin_s = nan\n", ("run.bin_s",)),
    "seed-negative": ("[run]\nseed = -1\n", ("run.seed",)),
    "seed-float": ("[run]\nseed = 1.5\n", ("run.seed",)),
    "seed-huge": ("[run]\nseed = 9223372036854775807\n[grid]\nacm = [true, 1]\n", ("grid", "acm")),
    "acm-string": ("[run]\nacm = \"yes\"\n", ("run.acm",)),
    "max-iter-zero": ("[run]\nmax_iter = 0\n", ("run.max_iter",)),
    "report-int": ("[run]\nreport = 1\n", ("run.report",)),
    "every-alone": ("[run]\nevery_s = 10.0\n", ("every_s and dwell_s go together",)),
    "dwell-longer": ("[run]\nevery_s = 10.0\ndwell_s = 20.0\n", ("run.dwell_s", "longer")),
    "start-past": ("[run]\nstart_s = 1e9\n", ("run.start_s", "outside the scenario")),
    "start-plus-duration": ("[run]\nstart_s = 50.0\nduration_s = 20.0\n", ("run.duration_s", "goes past")),
    "record": ("[run]\nrecord = \"x\"\n", ("record", "hardware")),
    "devices": ("[run]\ndevices = \"x\"\n", ("devices", "hardware")),
    "grid-duration": ("[grid]\nduration_s = [1.0, 1e12]\n", ("point 2", "duration_s", "goes past")),
    "grid-bin": ("[grid]\nbin_s = [1.0, -1.0]\n", ("bin_s",)),
    "point-seed": ("[[point]]\nseed = -3\n", ("point[0]", "seed")),
    "unknown-option": ("[run]\nduration_sec = 2.0\n", ("unknown run option 'duration_sec'",)),
    "scenario-key-nan": ("[grid]\n\"jammer.0.eirp_dbw\" = [nan]\n", ("jammer[0].eirp_dbw", "finite")),
}
CASES += [case(f"campaign-{k}", ["sweep", f"spec-{k}.toml", "--plan"], *says) for k, (_, says) in CAMPAIGN.items()]

# one member of each class through `python -m linksim`, each in its own process
REAL_CLI = ["scenario-fifo.toml", "spec-binary.toml", "profile-latin1.toml", "iq-rx-rand.cf32", "iq-rx-bad.sigmf-meta",
            "out-is-in", "out-symlink-to-in", "ro-channel-out", "num-channel--gain-db=1e6", "num-ber--cfo-hz=5e6",
            "jammer-1-type=cw,js_db=1e6", "campaign-bin-negative", "iq-rx-bad-checksum-ignored"]


# ------------------------------------------------------------------------------------------- fixtures

def _make_files(d: Path) -> None:
    from linksim.dvbs2.tx import Transmitter, random_ts_packets
    from linksim.iqfile import write_iq

    tx = Transmitter("short", sps=2)
    cap = tx.frame_capacity_bytes("QPSK 1/2")
    tx.push(random_ts_packets(2 * cap // 188 + 1, 1))
    x = np.concatenate([tx.modulate([("QPSK 1/2", None)] * 2), tx.flush()]).astype(np.complex64)
    x.tofile(d / "in.cf32")
    (d / "in.ts").write_bytes(random_ts_packets(10, 2))
    os.symlink("in.cf32", d / "link.cf32")
    os.link(d / "in.cf32", d / "hard.cf32")
    write_iq(d / "rec.sigmf-meta", x, 2e6)
    for name, fix in (("nan", np.nan), ("inf", np.inf), ("big", 1e30)):
        y = x.copy()
        y[1000] = fix
        y.tofile(d / f"{name}.cf32")
    rng = np.random.default_rng(7)
    (d / "rand.cf32").write_bytes(rng.integers(0, 256, 80_000, dtype=np.uint8).tobytes())
    (d / "odd.cf32").write_bytes(b"123")
    (d / "empty.cf32").write_bytes(b"")
    (d / "exists.cf32").write_bytes(b"an existing output, kept as it is")
    # SigMF recordings: data changed after recording, broken metadata
    meta = json.loads((d / "rec.sigmf-meta").read_text())
    data = bytearray((d / "rec.sigmf-data").read_bytes())
    data[100] ^= 1
    (d / "bad.sigmf-data").write_bytes(bytes(data))
    (d / "bad.sigmf-meta").write_text(json.dumps(meta))
    for name, doc in (("garbage", "{not json"), ("list", "[1, 2]"),
                      ("nanrate", json.dumps({**meta, "global": {**meta["global"], "core:sample_rate": float("nan")}})),
                      ("strch", json.dumps({**meta, "global": {**meta["global"], "core:num_channels": "2"}})),
                      ("hb", json.dumps({**meta, "captures": [{"core:sample_start": 0, "core:header_bytes": -5}]})),
                      ("sha", json.dumps({**meta, "global": {**meta["global"], "core:sha512": "abc"}}))):
        (d / f"{name}.sigmf-meta").write_text(doc)
        if name != "nodata":
            shutil.copyfile(d / "rec.sigmf-data", d / f"{name}.sigmf-data")
    (d / "nodata.sigmf-meta").write_text(json.dumps(meta))
    os.mkfifo(d / "fifometa.sigmf-meta")
    shutil.copyfile(d / "rec.sigmf-data", d / "fifometa.sigmf-data")
    # text files
    shutil.copyfile(ROOT / "scenarios" / "contested-x-cw.toml", d / "good.toml")
    (d / "latin1.toml").write_bytes("[scenario]\nname = 'Bod\u00f8'\n".encode("latin-1"))
    (d / "binary.toml").write_bytes(b"[scenario]\n\x00\x01\x02")
    (d / "rand.toml").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with open(d / "huge.toml", "wb") as f:  # valid TOML, 17 MiB of comments
        line = b"# " + b"x" * 1021 + b"\n"
        for _ in range(17 * 1024):
            f.write(line)
    (d / "notoml.toml").write_text("= what\n")
    (d / "empty.toml").write_text("")
    (d / "notts.ts").write_bytes(rng.integers(0, 256, 100, dtype=np.uint8).tobytes())
    for fifo in ("fifo.toml", "fifo.cf32", "fifo.ts"):
        os.mkfifo(d / fifo)
    for z in ("zero.toml", "zero.cf32", "zero.ts"):
        os.symlink("/dev/zero", d / z)
    (d / "dir.cf32").mkdir()
    (d / "adir.toml").mkdir()
    (d / "afile").write_text("a file, not a directory\n")
    for k, target in (("fifo", "fifo.toml"), ("binary", "binary.toml"), ("devzero", "/dev/zero")):
        (d / f"spec-base-{k}.toml").write_text(f'base = "{target}"\n')
    for k, (body, _) in CAMPAIGN.items():
        (d / f"spec-{k}.toml").write_text(SPEC_HEAD + body)
    # run directories for `report`: binary summary.json, a FIFO as frames.csv
    (d / "binrun").mkdir()
    (d / "binrun" / "summary.json").write_bytes(b"\x00\x01")
    (d / "fiforun").mkdir()
    (d / "fiforun" / "summary.json").write_text("{}")
    os.mkfifo(d / "fiforun" / "frames.csv")


@pytest.fixture(scope="module")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="linksim-bad-input-"))
    aux = Path(str(d) + "-aux")  # matplotlib's and numba's caches, writable by the read-only group's user
    for sub in ("mpl", "numba"):
        (aux / sub).mkdir(parents=True)
    for p in (aux, aux / "mpl", aux / "numba"):
        os.chmod(p, 0o777)
    try:
        os.chmod(d, 0o755)  # the read-only group may run as nobody
        _make_files(d)
        ro = d / "ro"
        ro.mkdir()
        (ro / "summary.json").write_text("{}")  # a run directory `report` cannot write into
        os.chmod(ro, 0o555)
        (d / "rw").mkdir()
        for p in d.rglob("*"):
            if p.is_file() and not p.is_symlink():
                os.chmod(p, 0o644)
        os.chmod(d / "rw", 0o777)
        yield d
    finally:
        if (d / "ro").exists():
            os.chmod(d / "ro", 0o755)
        shutil.rmtree(d)
        shutil.rmtree(aux)


def _demote() -> None:  # pragma: no cover - runs in the child
    os.setgid(65534)
    os.setuid(65534)


def _env(d: Path, demote: bool = False) -> dict[str, str]:
    aux = Path(str(d) + "-aux")
    env = dict(os.environ, MPLCONFIGDIR=str(aux / "mpl"), PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1")
    if demote:  # nobody cannot write numba's cache beside the package
        env["NUMBA_CACHE_DIR"] = str(aux / "numba")
    return env


@pytest.fixture(scope="module")
def results(workdir):
    out: dict[str, dict] = {}
    for group in ("main", "readonly"):
        cases = [{"id": c.id, "argv": c.argv} for c in CASES if c.group == group]
        demote = group == "readonly" and os.geteuid() == 0
        try:
            r = subprocess.run([sys.executable, str(DRIVER)], input=json.dumps(cases), capture_output=True,
                               text=True, cwd=workdir, env=_env(workdir, demote),
                               timeout=CASE_LIMIT_S + 10 * len(cases), preexec_fn=_demote if demote else None)
        except subprocess.TimeoutExpired as e:
            err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
            last = [ln for ln in err.splitlines() if ln.startswith("CASE ")][-1:]
            pytest.fail(f"the {group} cases did not finish: hung at {last}")
        assert r.returncode == 0, r.stderr[-3000:]
        out.update({x["id"]: x for x in json.loads(r.stdout)})
    return out


def _check(c: Case, rc, stderr: str, before: dict | None = None, after: dict | None = None) -> None:
    lines = stderr.splitlines()
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, f"{c.id}: expected one line on stderr, got {len(lines)}:\n{stderr}"
    line = lines[0]
    assert rc == c.rc, f"{c.id}: exit code {rc}, expected {c.rc}: {line}"
    assert line.startswith("linksim: warning: " if c.warning else "linksim: error: "), line
    for word in c.says:
        assert word in line, f"{c.id}: {word!r} not in {line!r}"
    if before is not None and not c.warning:
        changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
        assert not changed, f"{c.id}: files changed by a command that failed: {changed}"


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_changes_no_file(c: Case, results):
    r = results[c.id]
    assert r["seconds"] < CASE_LIMIT_S
    _check(c, r["rc"], r["stderr"], r["before"], r["after"])
    if c.warning:  # decoded anyway, with the warning
        assert "frames" in r["stdout"]


@pytest.mark.parametrize("cid", REAL_CLI)
def test_real_cli_process(cid: str, workdir):
    c = next(x for x in CASES if x.id == cid)
    demote = c.group == "readonly" and os.geteuid() == 0
    r = subprocess.run([sys.executable, "-m", "linksim", *c.argv], capture_output=True, text=True, cwd=workdir,
                       env=_env(workdir, demote), timeout=CASE_LIMIT_S, preexec_fn=_demote if demote else None)
    _check(c, r.returncode, r.stderr)
    if not c.warning:
        assert r.stdout == ""


def test_every_class_is_covered():
    """At least a handful of members per class (the issue's check tries other members of each class)."""
    prefixes = ["scenario-", "spec-", "profile-", "iq-channel-", "iq-rx-", "ts-in-", "out-", "tx-", "rx-", "budget-",
                "report-", "ro-", "num-channel", "num-tx", "num-rx", "num-ber", "num-budget", "num-report", "key-",
                "jammer-", "fading-", "campaign-"]
    for p in prefixes:
        assert sum(c.id.startswith(p) for c in CASES) >= 3, p
    assert len({c.id for c in CASES}) == len(CASES)
