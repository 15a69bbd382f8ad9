#!/usr/bin/env bash
# Sets up, builds and runs pans' main job: train_pans with the defaults of the device found (the
# small preset on the CPU within 15 minutes, or the full model with the paper's recipe on a GPU).
# Arguments are passed on, e.g. tools/main.sh --resume.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
exec build/apps/train_pans "$@"
