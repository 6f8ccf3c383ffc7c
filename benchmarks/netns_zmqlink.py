"""The ZMQ IQ link across two Linux network namespaces (two "hosts" joined by a veth pair): TX flowgraph in one,
RX flowgraph in the other, bit-exact check, link statistics and throughput; optionally with netem delay/loss
on the veth (TCP retransmits: the samples still arrive, late).

Needs root (ip netns). Cleans up its namespaces on exit.

    sudo .venv/bin/python benchmarks/netns_zmqlink.py [--samples 20e6] [--netem "delay 5ms loss 0.5%"]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import textwrap

NS_TX, NS_RX = "linksim_tx", "linksim_rx"
ADDR_TX, ADDR_RX = "10.231.0.1", "10.231.0.2"

TX = """
import numpy as np, sys
from gnuradio import gr, blocks
from linksim.hw.zmqlink import zmq_iq_sink
n = int(sys.argv[1])
k = np.arange(1 << 16)
pattern = (np.cos(0.001 * k) + 1j * np.sin(0.003 * k)).astype(np.complex64)
tb = gr.top_block()
src = blocks.vector_source_c(pattern.tolist(), True)
tb.connect(src, blocks.head(gr.sizeof_gr_complex, n), zmq_iq_sink("tcp://{addr}:5555", bind=True))
tb.run()
"""

RX = """
import json, sys, time
import numpy as np
from gnuradio import gr, blocks
from linksim.hw.zmqlink import zmq_iq_source
n = int(sys.argv[1])
k = np.arange(1 << 16)
pattern = (np.cos(0.001 * k) + 1j * np.sin(0.003 * k)).astype(np.complex64)
src = zmq_iq_source("tcp://{addr}:5555", idle_timeout_s=30.0)
snk = blocks.vector_sink_c()
tb = gr.top_block()
tb.connect(src, snk)
t0 = time.perf_counter()
tb.run()
dt = time.perf_counter() - t0
y = np.asarray(snk.data(), dtype=np.complex64)
exact = y.size == n and all(np.array_equal(y[i:i + pattern.size], pattern[: min(pattern.size, n - i)])
                            for i in range(0, n, pattern.size))
print(json.dumps({{"received": int(y.size), "bit_exact": bool(exact), "seconds": dt,
                  "msps": y.size / dt / 1e6, "stats": src.receiver.stats.as_dict()}}))
"""


def sh(cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(shlex.split(cmd), check=check, capture_output=True, text=True)


def setup(netem: str | None) -> None:
    sh(f"ip netns add {NS_TX}")
    sh(f"ip netns add {NS_RX}")
    sh("ip link add lsim_tx type veth peer name lsim_rx")
    sh(f"ip link set lsim_tx netns {NS_TX}")
    sh(f"ip link set lsim_rx netns {NS_RX}")
    sh(f"ip -n {NS_TX} addr add {ADDR_TX}/30 dev lsim_tx")
    sh(f"ip -n {NS_RX} addr add {ADDR_RX}/30 dev lsim_rx")
    for ns, dev in ((NS_TX, "lsim_tx"), (NS_RX, "lsim_rx")):
        sh(f"ip -n {ns} link set {dev} up")
        sh(f"ip -n {ns} link set lo up")
    if netem:
        sh(f"ip netns exec {NS_TX} tc qdisc add dev lsim_tx root netem {netem}")


def teardown() -> None:
    for ns in (NS_TX, NS_RX):
        sh(f"ip netns del {ns}", check=False)  # removes the veth pair too


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=float, default=20e6)
    ap.add_argument("--netem", default=None, help='tc netem arguments on the TX side, e.g. "delay 5ms loss 0.5%%"')
    a = ap.parse_args()
    n = int(a.samples)
    if os.geteuid() != 0:
        print("needs root (ip netns)", file=sys.stderr)
        return 2
    teardown()
    with tempfile.TemporaryDirectory() as d:
        tx_py, rx_py = os.path.join(d, "tx.py"), os.path.join(d, "rx.py")
        with open(tx_py, "w") as f:
            f.write(textwrap.dedent(TX.format(addr=ADDR_TX)))
        with open(rx_py, "w") as f:
            f.write(textwrap.dedent(RX.format(addr=ADDR_TX)))
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        try:
            try:
                setup(a.netem)
            except subprocess.CalledProcessError as e:
                print(f"setup failed: {' '.join(e.cmd)}: {e.stderr.strip()}", file=sys.stderr)
                return 2
            rx = subprocess.Popen(
                ["ip", "netns", "exec", NS_RX, sys.executable, rx_py, str(n)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            tx = subprocess.run(
                ["ip", "netns", "exec", NS_TX, sys.executable, tx_py, str(n)],
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
            )
            out, err = rx.communicate(timeout=600)
        finally:
            teardown()
    if tx.returncode != 0 or rx.returncode != 0:
        print(f"TX rc={tx.returncode} {tx.stderr.strip()[-500:]}\nRX rc={rx.returncode} {err.strip()[-500:]}")
        return 1
    res = json.loads(out.strip().splitlines()[-1])
    print(f"namespaces {NS_TX} ({ADDR_TX}) -> {NS_RX} ({ADDR_RX}), netem: {a.netem or 'none'}")
    print(f"samples sent {n}, received {res['received']}, bit exact: {res['bit_exact']}")
    print(f"link: ok={res['stats']['ok']} missing={res['stats']['samples_missing']} eos={res['stats']['eos']}")
    print(f"throughput (RX flowgraph wall time, includes start-up): {res['msps']:.1f} Msps")
    return 0 if res["bit_exact"] and res["stats"]["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
