"""IP traffic over the simulated GEO link: TCP tuning (congestion control, window, split-TCP PEP) on a clear and on a
jammed link with ACM, and UDP loss against the frame-loss model at several jammer levels. Needs root (namespaces,
TUN) and iperf3; each run is real time. Prints markdown tables (docs/ip.md records them) with the load average,
since a loaded machine changes the timing of the TCP stacks.

    sudo .venv/bin/python benchmarks/ip_traffic.py [--out runs/ip-bench] [--only tcp|udp] [--duration S]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLEAR = ROOT / "scenarios" / "longyearbyen-ka-geo-ip.toml"
JAMMED = ROOT / "scenarios" / "longyearbyen-ka-geo-ip-jammed-acm.toml"
UDP = ROOT / "scenarios" / "longyearbyen-ka-geo-ip-udp-jammer.toml"

TCP_CASES = [
    ("cubic, 4 KiB window", ["--tcp-cc", "cubic", "--tcp-window", "4K"]),
    ("cubic, 16 KiB window", ["--tcp-cc", "cubic", "--tcp-window", "16K"]),
    ("cubic, autotuned window", ["--tcp-cc", "cubic"]),
    ("bbr, autotuned window", ["--tcp-cc", "bbr"]),
    ("cubic, 4 KiB window + PEP", ["--tcp-cc", "cubic", "--tcp-window", "4K", "--pep"]),
    ("bbr, 4 KiB window + PEP", ["--tcp-cc", "bbr", "--tcp-window", "4K", "--pep"]),
]
UDP_JS_DB = [0.25, 0.3, 0.35, 0.4]


def run(args: list[str], out: Path) -> dict:
    cmd = [sys.executable, "-m", "linksim", "run", *args, "--out", str(out), "--no-report", "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{res.stderr}")
    return json.loads((out / "summary.json").read_text())


def k(v: object) -> str:
    return f"{v / 1e3:.1f}" if isinstance(v, (int, float)) else "n/a"


def tcp_table(out: Path, duration: float) -> None:
    print(f"\n### TCP (load average before: {os.getloadavg()[0]:.1f})\n")
    print("| link | TCP | application kb/s | PHY kb/s | predicted kb/s | efficiency | RTT median ms | retransmits "
          "| window/RTT kb/s | recovery after jammer s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, scen, extra in (("clear GEO", CLEAR, ["--duration", str(duration)]),
                              ("jammed GEO, ACM", JAMMED, ["--start", "6", "--duration", str(max(duration, 30))])):
        for label, opts in TCP_CASES:
            tag = f"{name}-{label}".replace(" ", "_").replace(",", "").replace("+", "p").replace("/", "")
            sm = run([str(scen), "--traffic", "tcp", *opts, *extra], out / tag)
            t = sm["traffic"]
            rec = t.get("recovery") or []
            rec_s = rec[0]["app_recovery_s"] if rec else None
            wl = t.get("window_limit_bps")
            print(f"| {name} | {label} | {k(t['app_goodput_bps_mean'])} | {k(t['phy_goodput_bps_mean'])} | "
                  f"{k(t['predicted_goodput_bps_mean'])} | {t['efficiency']:.2f} | {t['rtt_ms_median']:.0f} | "
                  f"{t['retransmits']:.0f} | {k(wl) if wl and '--pep' not in opts else '-'} | "
                  f"{rec_s if rec_s is not None else '-'} |", flush=True)


def udp_table(out: Path, duration: float) -> None:
    print(f"\n### UDP against the frame-loss model, 22 s runs (load average before: {os.getloadavg()[0]:.1f})\n")
    print("| J/S dB | FER | packets | frames per packet | model loss | 95 % interval | iperf3 loss | inside |")
    print("|---|---|---|---|---|---|---|---|")
    for js in UDP_JS_DB:
        sm = run([str(UDP), "--traffic", "udp:40k:200", "--duration", "22", "--set",
                  f"jammer.0.js_db={js}"], out / f"udp-js{js}")
        u = sm["traffic"]["udp_loss"]
        if "iperf3_interval_95" not in u:
            print(f"| {js} | {u['fer']:.3f} | iperf3 did not finish its test: {sm['traffic']['iperf3']} |||||")
            continue
        lo, hi = u["iperf3_interval_95"]
        print(f"| {js} | {u['fer']:.3f} | {sm['traffic']['iperf3']['udp_packets']} | "
              f"{u['frames_per_packet_mean']:.3f} | {u['expected_loss_ratio']:.3f} | {lo:.3f} - {hi:.3f} | "
              f"{u['iperf3_loss_ratio']:.3f} | {'yes' if u['within_interval'] else 'no'} |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/ip-bench")
    p.add_argument("--only", choices=("tcp", "udp"))
    p.add_argument("--duration", type=float, default=30.0)
    a = p.parse_args()
    out = Path(a.out)
    print(f"# IP traffic benchmark ({os.cpu_count()} cores)")
    if a.only in (None, "tcp"):
        tcp_table(out, a.duration)
    if a.only in (None, "udp"):
        udp_table(out, a.duration)


if __name__ == "__main__":
    main()
