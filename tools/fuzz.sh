#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, AddressSanitizer + UBSan, in build-fuzz/) and
# runs each for the given number of seconds, from seeds that fuzz_seeds writes with pans' own writers
# plus the corpus earlier runs kept in build-fuzz/corpus/. Prints executions and coverage per target;
# exits non-zero when any target found a crash, a hang (an input running over 10 s), a sanitizer
# report or an allocation over 2 GiB, whose reproducer it names (build-fuzz/artifacts/).
# Usage: tools/fuzz.sh [seconds per target, default 60] [target...]   (targets: png npy checkpoint
# recipe streethazards; all by default)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(png npy checkpoint recipe streethazards)

# clang and its runtime libraries (libFuzzer, the sanitizers): Debian's, only what is missing.
packages=(clang libclang-rt-dev cmake make pkg-config ccache doctest-dev libstb-dev libcli11-dev nlohmann-json3-dev
          libopenblas-dev)
bash tools/install_packages.sh "pans fuzz" "${packages[@]}"

build=build-fuzz
# -fno-sanitize-recover: a UBSan finding aborts, so libFuzzer records it as a crash.
CC=clang CXX=clang++ cmake -S . -B "$build" -DPANS_FUZZ=ON -DPANS_CUDA=OFF -DPANS_SIMT_EMU=OFF \
  -DPANS_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS=-fno-sanitize-recover=all \
  >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_all

seeds=$build/seeds
rm -rf "$seeds"
"$build/tests/fuzz/fuzz_seeds" "$seeds"
mkdir -p "$build/artifacts" "$build/logs"

failed=()
printf '%-14s %8s %12s %8s %8s  %s\n' target seconds executions cov ft result
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  log=$build/logs/$target.log
  mkdir -p "$corpus"
  status=0
  # -rss_limit_mb / -malloc_limit_mb: an input that makes a parser allocate 2 GiB is a finding (a size
  # field trusted before it was checked against the file's length).
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target-" "$corpus" "$seeds/$target" >"$log" 2>&1 || status=$?
  # libFuzzer's last status line: "#<executions> DONE cov: <edges> ft: <features> corp: ...".
  stats=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  executions=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$stats")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$stats")
  result=ok
  if ((status != 0)); then
    result="FAILED (exit $status): $(grep -m1 -E 'ERROR|Test unit written' "$log" || true); log $log"
    failed+=("$target")
  fi
  printf '%-14s %8s %12s %8s %8s  %s\n' "$target" "$seconds" "${executions:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
if ((${#failed[@]})); then
  echo "pans fuzz: findings in ${failed[*]} (reproduce: $build/tests/fuzz/fuzz_<target> <artifact>)" >&2
  exit 1
fi
