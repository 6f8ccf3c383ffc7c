#!/usr/bin/env bash
# The main job: install what is needed, then run a shipped loopback scenario end to end and print where its
# report is. A low-elevation Arctic Ka-band terminal with a horizon jammer, ACM on, sampled as dwells.
# LINKSIM_DEMO_OUT sets the run directory (default runs/demo); its parent is made if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out="${LINKSIM_DEMO_OUT:-runs/demo}"
mkdir -p "$(dirname "$out")"
exec .venv/bin/linksim run scenarios/arctic-horizon-jammer-acm.toml --every 150 --dwell 2 --out "$out" "$@"
