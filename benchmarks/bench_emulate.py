#!/usr/bin/env python3
"""`linksim emulate` in real time between two stock gr-zeromq endpoints: zero drops, realised delay and Doppler,
a stock gr-dtv DVB-S2 signal decoded at the budget's Es/N0, and the highest sample rate held.

For each --rates value (Msps), in order, until one fails:
  sending modem (this process): a stock flowgraph, file_source (a gr-dtv DVB-S2 QPSK 1/2 recording at 2 samples per
      symbol, looped) -> throttle(rate) -> zeromq.push_sink (binds);
  emulator (another process): linksim emulate SCENARIO --in zmq:... --out zmq:... --sample-rate RATE
      --duration SECONDS --bandwidth-hz 0.6 RATE (the signal: RATE/2 symbols/s, roll-off 0.2);
  receiving modem (this process): zeromq.pull_source (connects) -> head -> a capture that counts every sample and
      keeps a 65 552-sample window every 5 s and the last --decode-s seconds.
The modem starts once the emulator's flowgraph runs. Checked and printed per rate:
  - samples: sent by the modem (the throttle's count), into and out of the emulator, received by the stock sink
    (all must agree; the emulator's drops = 0);
  - real time: the input rate the emulator saw, how far its processing ever lagged the input's real-time clock
    (behind_s_max; "held" needs < 0.5 s and an input rate within 1 % of RATE), its margin (share of the sample
    time left idle by the channel computation), CPU seconds of the emulator process per second of signal;
  - realised delay and Doppler measured by the receiving instrument against the known transmitted signal, every 5 s,
    against the scenario's (Timeline) values: largest error in samples and in Hz (and the emulator's own probes);
  - the DVB-S2 frames in the last --decode-s seconds decoded by linksim's receiver (offline, after the run): frames
    ok / found, and the mean Es/N0 estimate against the budget's C/(N+I+J).
The highest rate held for the whole duration without drops is printed at the end.

Usage: .venv/bin/python benchmarks/bench_emulate.py [--seconds 60] [--rates 10,15,20,25] [--decode-s 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WINDOW = 65536 + 16


class scenario_timeline:  # noqa: N801 - a small callable record
    """The scenario's budget Timeline (signal of the given occupied bandwidth), interpolated in full precision."""

    def __init__(self, path: Path, bandwidth_hz: float, seconds: float) -> None:
        from linksim.budget.timeline import compute_timeline
        from linksim.channel.emulation import emulation_scenario
        from linksim.scenario.model import load_scenario

        self.tl = compute_timeline(emulation_scenario(load_scenario(path), bandwidth_hz), duration_s=seconds)

    def _at(self, col: str, t: float) -> float:
        return float(np.interp(t, self.tl.time_s, np.asarray(self.tl[col], dtype=float)))

    def delay_s(self, t: float) -> float:
        return self._at("delay_s", t)

    def doppler_hz(self, t: float) -> float:
        return self._at("doppler_hz", t)

    def cnij_db(self, t: float) -> float:
        return self._at("cnij_db", t)


def one_rate(rate: float, seconds: float, scenario: Path, tx_path: Path, tx: np.ndarray, decode_s: float,
             workdir: Path) -> dict:
    from stock_zmq import StockRx, StockTx, free_port, realised_from_capture

    n = int(round(seconds * rate))
    p_in, p_out = free_port(), free_port()
    win_starts = [int(k * rate) for k in np.arange(2.0, seconds - 0.5, 5.0)]
    n_dec = int(decode_s * rate)
    dec_start = n - n_dec
    windows = [(a, WINDOW) for a in win_starts] + [(dec_start, n_dec)]
    sender = StockTx(str(tx_path), f"tcp://127.0.0.1:{p_in}", rate)
    receiver = StockRx(f"tcp://127.0.0.1:{p_out}", n, windows)
    run = workdir / f"run-{rate / 1e6:g}"
    cmd = [sys.executable, "-m", "linksim", "emulate", str(scenario), "--in", f"zmq:tcp://127.0.0.1:{p_in}",
           "--out", f"zmq:tcp://127.0.0.1:{p_out}", "--sample-rate", str(rate), "--bandwidth-hz", str(0.6 * rate),
           "--duration", str(seconds), "--span-s", str(seconds + 10), "--run-dir", str(run), "--json"]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        receiver.start()
        assert p.stderr is not None
        line = p.stderr.readline()
        if "channel" not in line:
            raise SystemExit(f"emulator did not start: {line}{p.stderr.read()}")
        sender.start()
        out, err = p.communicate(timeout=seconds * 3 + 300)
        receiver.wait_count(n, 30.0)
    finally:
        if p.poll() is None:
            p.kill()
        receiver.stop()
        sent = sender.sink.nitems_read(0)
        sender.stop()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"emulator failed ({p.returncode}): {err[-3000:]}")
    sm = json.loads(out)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    tl = scenario_timeline(scenario, 0.6 * rate, seconds + 10)  # the reference: the scenario's own budget
    d_err, f_err, rhos = [], [], []
    for (a, _), (_, y) in zip(windows[:-1], receiver.capture.windows[:-1], strict=True):
        t_out = a / rate
        d_exp = tl.delay_s(t_out - tl.delay_s(t_out)) * rate  # the delay the output at t_out has
        f_exp = tl.doppler_hz(t_out)
        d, f, rho = realised_from_capture(tx, a, y, d_exp, f_exp, rate)
        d_err.append(d - d_exp)
        f_err.append(f - f_exp)
        rhos.append(rho)
    from linksim.dvbs2.rx import Receiver

    y = receiver.capture.windows[-1][1]
    rx = Receiver(sps=2)  # fed in blocks, as a GNU Radio flowgraph would
    reps = [r for i in range(0, y.size, 1 << 16) for r in rx.process(y[i : i + (1 << 16)]) if r.modcod != "DUMMY"]
    ok = [r for r in reps if r.ok]
    cnij = tl.cnij_db(dec_start / rate)
    rate_in = sm["samples_in"] / sm["active_s"] if sm.get("active_s") else float("nan")
    held = (sm["drops"] == 0 and receiver.capture.count == n and sm["samples_out"] == n
            and (sm["behind_s_max"] or 0.0) < 0.5 and rate_in >= 0.99 * rate)
    return {
        "rate": rate, "n": n, "sent": int(sent), "emu_in": sm["samples_in"], "emu_out": sm["samples_out"],
        "received": receiver.capture.count, "drops": sm["drops"], "behind_s_max": sm["behind_s_max"],
        "rate_in": rate_in, "margin": sm["realtime_margin"], "cpu_per_s": cpu / seconds, "held": held,
        "delay_err_max": float(np.max(np.abs(d_err))) if d_err else float("nan"),
        "doppler_err_max": float(np.max(np.abs(f_err))) if f_err else float("nan"),
        "rho_min": float(np.min(rhos)) if rhos else float("nan"), "windows": len(d_err),
        "probe_delay_err": sm["realised_delay_error_samples_max"],
        "probe_doppler_err": sm["realised_doppler_error_hz_max"],
        "frames_ok": len(ok), "frames": len(reps),
        "esn0_est_db": float(np.mean([r.esn0_est_db for r in ok])) if ok else float("nan"), "cnij_db": cnij,
        "delay_ms": tl.delay_s(0.0) * 1e3, "doppler_hz": tl.doppler_hz(0.0),
        "threads": sm["threads"], "d_err": d_err, "f_err": f_err, "worst_probe": worst_probe(run / "realised.csv"),
    }


def worst_probe(path: Path) -> str:
    """The emulator's own measurement (realised.csv) with the largest Doppler error, as one line."""
    import csv

    rows = list(csv.DictReader(open(path)))
    if not rows:
        return "no measurements"
    r = max(rows, key=lambda r: abs(float(r["doppler_hz_realised"]) - float(r["doppler_hz_expected"])))
    d = float(r["delay_samples_realised"]) - float(r["delay_samples_expected"])
    f = float(r["doppler_hz_realised"]) - float(r["doppler_hz_expected"])
    return f"t {float(r['time_s']):.1f} s: delay {d:+.3f} samples, Doppler {f:+.3f} Hz, rho {float(r['rho']):.3f} " \
        f"({len(rows)} measurements)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rates", default="10,15,20,25", help="sample rates to try in order, Msps")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "emulator-geo-ka-cw.toml"))
    ap.add_argument("--decode-s", type=float, default=1.0, help="seconds at the end decoded with linksim's receiver")
    ap.add_argument("--keep-going", action="store_true", help="try every rate even after one fails")
    ap.add_argument("--workdir", help="keep the run directories here (default: a temporary directory)")
    args = ap.parse_args()
    from grdtv_dvbs2 import grdtv_samples, ts_packets

    tx = grdtv_samples("QPSK 1/2", ts_packets(6000), sps=2)  # about 40 normal frames, looped by the modem
    tx = (tx / np.sqrt(np.mean(np.abs(tx) ** 2))).astype(np.complex64)
    print(f"linksim emulate between stock gr-zeromq endpoints, {args.seconds:g} s per rate; scenario "
          f"{Path(args.scenario).name}; modem signal: gr-dtv DVB-S2 QPSK 1/2, 2 samples/symbol ({tx.size} samples, "
          f"looped); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    best = None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        tx_path = work / "modem.cf32"
        tx.tofile(tx_path)
        for r in [float(v) * 1e6 for v in args.rates.split(",") if v.strip()]:
            res = one_rate(r, args.seconds, Path(args.scenario), tx_path, tx, args.decode_s, work)
            print(f"{r / 1e6:5.1f} Msps: {'HELD' if res['held'] else 'NOT HELD'}; samples sent {res['sent']}, "
                  f"emulator in {res['emu_in']} out {res['emu_out']}, received {res['received']} of {res['n']}, "
                  f"drops {res['drops']}", flush=True)
            print(f"      real time: input rate {res['rate_in'] / 1e6:.3f} Msps, largest lag "
                  f"{res['behind_s_max']:.3f} s, margin {res['margin']:.2f}, emulator CPU {res['cpu_per_s']:.2f} "
                  f"s per s of signal ({res['threads']} threads)", flush=True)
            print(f"      realised (instrument, {res['windows']} windows): delay {res['delay_ms']:.3f} ms within "
                  f"{res['delay_err_max']:.3f} samples, Doppler {res['doppler_hz']:.2f} Hz within "
                  f"{res['doppler_err_max']:.3f} Hz (rho >= {res['rho_min']:.2f}); emulator's probes "
                  f"{res['probe_delay_err']:.3f} samples, {res['probe_doppler_err']:.3f} Hz", flush=True)
            print(f"      emulator's largest Doppler error: {res['worst_probe']}", flush=True)
            print("      per window: delay error " + " ".join(f"{e:+.3f}" for e in res["d_err"]) + " samples; "
                  "Doppler error " + " ".join(f"{e:+.3f}" for e in res["f_err"]) + " Hz", flush=True)
            print(f"      DVB-S2 (last {args.decode_s:g} s): {res['frames_ok']}/{res['frames']} frames decoded, "
                  f"Es/N0 estimate {res['esn0_est_db']:.2f} dB vs budget C/(N+I+J) {res['cnij_db']:.2f} dB "
                  f"({res['esn0_est_db'] - res['cnij_db']:+.2f} dB)", flush=True)
            if res["held"]:
                best = r
            elif not args.keep_going:
                break
    print(f"highest rate held for {args.seconds:g} s without drops: "
          f"{'none' if best is None else f'{best / 1e6:g} Msps'}; load average at the end "
          f"{os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
