#!/usr/bin/env bash
# Installs what pans needs from Debian (only what is missing), then configures and builds.
# Usage: tools/setup.sh [build-dir] [extra cmake arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."

# OpenMPI: the MPI backend of dist/ and the two-rank tests under mpirun.
packages=(cmake g++ make pkg-config ccache doctest-dev libstb-dev libcli11-dev nlohmann-json3-dev libopenblas-dev
          libopenmpi-dev openmpi-bin)
bash tools/install_packages.sh "pans setup" "${packages[@]}"

build_dir=${1:-build}
shift || true
# nvcc usually lives outside PATH; CMake finds it through CUDACXX.
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
cmake -S . -B "$build_dir" "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
