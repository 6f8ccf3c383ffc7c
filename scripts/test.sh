#!/usr/bin/env bash
# Install what is needed, then run the whole test suite (unit, flowgraph, protocol; hil only with LINKSIM_HIL=1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LINKSIM_REQUIRE_GNURADIO=1
.venv/bin/ruff check --no-cache linksim tests benchmarks scripts
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
