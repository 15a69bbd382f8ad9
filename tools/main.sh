#!/usr/bin/env bash
# Sets up, builds and runs pans' main job. Until train_pans exists (the PAnS training issue) this
# is the demo: a tiny conv net trained on random data for a few steps, printing a falling loss.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
exec build/apps/demo_train "$@"
