#!/usr/bin/env bash
# The GPU suite, for a machine with a GPU: builds with CUDA for the local GPU's architecture, runs
# the CUDA tests natively, again under compute-sanitizer (memcheck and racecheck), runs the
# benchmarks that exist, and writes one JSON results file under bench/results/ with the commit,
# device, driver and library versions and every test's outcome and time.
# Usage: tools/gpu_suite.sh [build-dir]     (on the device machine: bash tools/gpu_suite.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-gpu}
out_dir=bench/results
mkdir -p "$out_dir" "$build"

command -v nvidia-smi >/dev/null || { echo "gpu_suite: nvidia-smi not found: no GPU here" >&2; exit 1; }
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
tools/setup.sh "$build" -DPANS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch"

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log_dir="$build/gpu_suite_$stamp"
mkdir -p "$log_dir"

status=0
ctest --test-dir "$build" -L cuda --output-on-failure --output-junit "$PWD/$log_dir/native.xml" || status=1

sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
for tool in memcheck racecheck; do
  for binary in "$build"/tests/test_cuda_*; do
    name=$(basename "$binary")
    if ! "$sanitizer" --tool "$tool" --error-exitcode 99 "$binary" >"$log_dir/$name.$tool.log" 2>&1; then
      echo "gpu_suite: $tool failed on $name (see $log_dir/$name.$tool.log)" >&2
      status=1
    fi
  done
done

for bench in "$build"/bench/bench_*; do
  [ -x "$bench" ] || continue
  "$bench" --json "$log_dir/$(basename "$bench").json" || status=1
done

python3 - "$log_dir" "$commit" "$out_dir/gpu_suite_${stamp}_${commit:0:10}.json" <<'PY'
import glob, json, os, subprocess, sys, xml.etree.ElementTree as ET
log_dir, commit, target = sys.argv[1:]
def run(*cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except Exception as error: return f"unavailable: {error}"
tests = []
junit = os.path.join(log_dir, "native.xml")
if os.path.exists(junit):
    for case in ET.parse(junit).getroot().iter("testcase"):
        outcome = "failed" if case.find("failure") is not None else ("skipped" if case.find("skipped") is not None else "passed")
        tests.append({"name": case.get("name"), "seconds": float(case.get("time", 0)), "outcome": outcome})
sanitizers = {os.path.basename(p): open(p).read()[-2000:] for p in sorted(glob.glob(os.path.join(log_dir, "*.log")))}
benchmarks = {os.path.basename(p): json.load(open(p)) for p in sorted(glob.glob(os.path.join(log_dir, "bench_*.json")))}
result = {
    "commit": commit,
    "device": run("nvidia-smi", "--query-gpu=name,memory.total,clocks.max.sm,compute_cap", "--format=csv,noheader"),
    "driver": run("nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"),
    "nvcc": run("nvcc", "--version").splitlines()[-1] if run("nvcc", "--version") else "",
    "tests": tests, "sanitizer_logs_tail": sanitizers, "benchmarks": benchmarks,
}
tmp = target + ".tmp"
with open(tmp, "w") as f: json.dump(result, f, indent=1)
os.replace(tmp, target)
print("gpu_suite: wrote", target)
PY
exit $status
