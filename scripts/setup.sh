#!/usr/bin/env bash
# Install what linksim needs on a Debian/Ubuntu machine: GNU Radio (system packages) and a virtual environment
# made from the system Python (the only interpreter with GNU Radio's bindings). Idempotent: a second run is fast.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
# scipy and matplotlib from Debian too: they are built against the same numpy as GNU Radio
APT_PACKAGES="gnuradio gcc python3-venv python3-pip python3-scipy python3-matplotlib python3-yaml soapysdr-tools iperf3 tshark iproute2 iputils-ping"

need_apt=0
/usr/bin/python3 -c "import gnuradio.gr, gnuradio.dtv, gnuradio.soapy, scipy, matplotlib, yaml" >/dev/null 2>&1 || need_apt=1
command -v grcc >/dev/null 2>&1 || need_apt=1
for tool in iperf3 tshark ip ping cc nm; do command -v "$tool" >/dev/null 2>&1 || need_apt=1; done
/usr/bin/python3 -c "import ensurepip" >/dev/null 2>&1 || need_apt=1
if [ "$need_apt" = "1" ]; then
    echo "setup: installing system packages: $APT_PACKAGES" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends $APT_PACKAGES
fi

# numpy in the venv must be the one GNU Radio was built against.
SYS_NUMPY=$(/usr/bin/python3 -c "import numpy; print(numpy.__version__)")
stamp_src="$(cat pyproject.toml constraints.txt)$SYS_NUMPY"
stamp=$(printf '%s' "$stamp_src" | sha256sum | cut -c1-16)
# The channel's kernels compiled for this machine (linksim/compiled.py, `linksim kernels`): rebuilt when stale.
build_kernels() { .venv/bin/linksim kernels --if-stale >&2; }
if [ -x .venv/bin/python ] && [ "$(cat .venv/.linksim-stamp 2>/dev/null)" = "$stamp" ]; then
    build_kernels
    exit 0
fi
if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv --system-site-packages .venv
fi
cons=$(mktemp)
sed "s/^numpy==.*/numpy==$SYS_NUMPY/" constraints.txt > "$cons"
.venv/bin/python -m pip install -q --disable-pip-version-check -c "$cons" -e ".[dev]"
rm -f "$cons"
.venv/bin/python -c "import numpy, gnuradio.gr; assert numpy.__version__ == '$SYS_NUMPY', numpy.__version__"
build_kernels
echo "$stamp" > .venv/.linksim-stamp
echo "setup: .venv ready (numpy $SYS_NUMPY, GNU Radio $(.venv/bin/python -c 'from gnuradio import gr; print(gr.version())'))" >&2
