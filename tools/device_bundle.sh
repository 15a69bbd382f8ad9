#!/usr/bin/env bash
# Prepares, on a development machine (no GPU needed), what a GPU session carries to the device
# machine so that its few minutes go to running rather than building or installing:
#   .device_deps/    Debian's library packages (tools/device_deps.sh), unpacked there into a prefix;
#   .device_bundle/  the native CUDA executables for Hopper (sm_90): the CUDA test binaries,
#                    bench_kernels and the apps, built in build-device/.
# Both are git-ignored; together they stay well under the device tool's 64 MiB carry limit.
# Then, on the device: bash tools/gpu_suite.sh (it finds both). Usage: tools/device_bundle.sh [arch]
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-90}

[ -d .device_deps ] || tools/device_deps.sh
# The emulator and the CPU-only tests stay out: the device runs the native kernels.
tools/setup.sh build-device -DPANS_SIMT_EMU=OFF -DCMAKE_CUDA_ARCHITECTURES="$arch" >/dev/null
test_targets=$(cd build-device/tests && ls -d test_cuda_* 2>/dev/null | grep -v '\.' || true)
rm -rf .device_bundle
mkdir -p .device_bundle
for binary in $test_targets; do cp "build-device/tests/$binary" .device_bundle/; done
cp build-device/bench/bench_kernels build-device/apps/train_pans build-device/apps/eval_pans .device_bundle/
strip --strip-unneeded .device_bundle/*
git rev-parse HEAD > .device_bundle/COMMIT
echo "device_bundle: $(ls .device_bundle | wc -l) files, $(du -sh .device_bundle | cut -f1), built for sm_$arch at $(cat .device_bundle/COMMIT)"
