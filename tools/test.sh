#!/usr/bin/env bash
# Sets up, builds and runs every test. CUDA tests report "skipped" on machines without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
ctest --test-dir build --output-on-failure -j "$(nproc)"
