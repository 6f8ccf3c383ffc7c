"""`linksim kernels [--if-stale] [-v]`: compile the channel's kernels ahead of time for this machine.

What it builds and why: linksim.compiled. The library holds the (kernel, argument types) pairs that `linksim
channel` uses with the options users pass: the command first runs `linksim channel` in this process over a short
file for each option set in TRAINING (one and two threads), so that numba records every kernel call's argument
types, then compiles those. scripts/setup.sh runs `linksim kernels --if-stale`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np

# `linksim channel` options whose kernels the library holds
TRAINING = [
    ["--gain-db", "-3", "--doppler-hz", "12345", "--esn0-db", "10"],
    ["--gain-db", "-3", "--doppler-hz", "12345", "--doppler-rate-hz-s", "-40", "--esn0-db", "10",
     "--fading", "rician:K=4,doppler_hz=500"],
    ["--fading", "rician:K=4,doppler_hz=500"],
    ["--fading", "rayleigh:doppler_hz=50"],
    ["--fading", "loo:doppler_hz=20,los_mean_db=-3"],
    ["--fading", "lutz:K=10,doppler_hz=50"],
    ["--esn0-db", "8", "--delay-s", "1e-5", "--doppler-hz", "300"],
    ["--esn0-db", "8", "--jammer", "type=cw,js_db=0,offset_hz=1000",
     "--jammer", "type=barrage,js_db=-3,bandwidth_hz=2e6"],
    ["--esn0-db", "8", "--jammer", "type=partial_band,js_db=-3,band_hz=1e6,rho=0.5,offset_hz=2e5",
     "--jammer", "type=chirp,js_db=-3,bandwidth_hz=2e6,sweep_rate_hz_s=1e9"],
    ["--esn0-db", "8", "--jammer", "type=multitone,js_db=-3,n_tones=8,bandwidth_hz=1e6",
     "--jammer", "type=modulated,js_db=-3,symbol_rate_hz=1e6,order=4"],
    ["--esn0-db", "8", "--jammer", "type=follower,js_db=0,bandwidth_hz=1e6,reaction_time_s=1e-4,look_time_s=1e-4"],
    ["--esn0-db", "8", "--jammer", "type=pulsed,base=barrage,js_db=3,duty=0.2,prf_hz=1000,bandwidth_hz=1e6"],
    ["--esn0-db", "8", "--amplifier", "saleh,ibo_db=3"],
]
TRAINING_RATE_HZ = 10e6
TRAINING_SAMPLES = 300_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kernels", help="compile the channel's kernels ahead of time for this machine",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--if-stale", action="store_true",
                   help="only when the library is missing or was built from other sources, numba or CPU")
    p.add_argument("-v", "--verbose", action="store_true", help="list every kernel signature compiled or left")
    p.set_defaults(func=run)


def train(work: Path) -> None:
    """Run `linksim channel` in this process over TRAINING, so that numba records every kernel's argument types."""
    from . import main

    rng = np.random.default_rng(1)
    x = (rng.standard_normal(TRAINING_SAMPLES) + 1j * rng.standard_normal(TRAINING_SAMPLES)) / np.sqrt(2)
    src, out = work / "in.cf32", work / "out.cf32"
    x.astype(np.complex64).tofile(src)
    for opts in TRAINING:
        for threads in ("1", "2"):
            with contextlib.redirect_stdout(io.StringIO()):
                rc = main(["channel", "--in", str(src), "--out", str(out), "--sample-rate", str(TRAINING_RATE_HZ),
                           "--sps", "4", "--threads", threads, "--json", *opts])
            if rc != 0:
                raise RuntimeError(f"training run failed (exit {rc}): linksim channel {' '.join(opts)}")
            out.unlink(missing_ok=True)


def run(args: argparse.Namespace) -> int:
    from .. import compiled

    if args.if_stale and compiled.is_current():
        print(f"compiled kernels: {compiled.LIB_DIR / compiled.LIB_NAME} is up to date")
        return 0
    with tempfile.TemporaryDirectory(prefix="linksim-kernels-") as tmp:
        n = compiled.build(lambda: train(Path(tmp)), verbose=args.verbose)
    print(f"compiled kernels: {compiled.LIB_DIR / compiled.LIB_NAME} ({n} entries)")
    return 0
