#!/usr/bin/env bash
# Downloads, on a machine with Debian's apt (this project's development machines), the Debian
# packages pans builds with into .device_deps/ (git-ignored, ~14 MB), for a GPU machine that cannot
# fetch anything: tools/gpu_suite.sh unpacks them into a private prefix there instead of running
# tools/setup.sh. Library packages only; the GPU machine brings its compiler, CMake and CUDA.
# Usage: tools/device_deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# doctest, CLI11, nlohmann-json, stb (headers and libstb.so) and OpenBLAS with what it links to.
packages=(doctest-dev libcli11-dev nlohmann-json3-dev libstb-dev libstb0 libopenblas-dev libopenblas0
          libopenblas0-pthread libopenblas-pthread-dev libgfortran5)
rm -rf .device_deps
mkdir -p .device_deps
# apt's download user cannot write into most folders: download in a temporary one, then move.
staging=$(mktemp -d)
chmod 777 "$staging"
(cd "$staging" && apt-get download "${packages[@]}")
mv "$staging"/*.deb .device_deps/
rmdir "$staging"
echo "device_deps: $(ls .device_deps | wc -l) packages, $(du -sh .device_deps | cut -f1), in .device_deps/"
