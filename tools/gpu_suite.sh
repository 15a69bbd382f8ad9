#!/usr/bin/env bash
# The GPU suite: what a session lent a GPU runs, within its 15 device minutes (10 per command).
#
# Prepare here first (no GPU, no device time): tools/device_bundle.sh builds the native executables
# for sm_90 into .device_bundle/ and fetches Debian's libraries into .device_deps/. Then one device
# call, carrying both:
#   run(command="bash tools/gpu_suite.sh", carry=[".device_bundle", ".device_deps"], timeout_s=600)
# and, on the same warm machine, a second for what did not fit: bash tools/gpu_suite.sh sanitize train.
# Without .device_bundle/ the suite builds first (minutes of device time), with the libraries of
# .device_deps/ unpacked into a private prefix, or with tools/setup.sh where apt can reach Debian.
#
# Stages, in the order given (default: check test bench peer):
#   check     the device, driver, clocks (as found: never changed), and the executables' libraries;
#   test      every CUDA test binary natively (doctest's JUnit report);
#   bench     bench_kernels at batch 2 of 450x450: native kernels against cuDNN/cuBLAS;
#   bench8    bench_kernels at batch 8 of 512x1024;
#   peer      bench/torch_peer.py: PyTorch's train step of the same network, float32 and bf16;
#   sanitize  compute-sanitizer memcheck and racecheck over every CUDA test binary;
#   train     train_pans, full model, 40 iterations on the embedded data: native kernels, then
#             PANS_CONV=cudnn PANS_BN=cudnn.
# Every stage has a time limit and the results are rewritten after each one, so a command stopped
# at its limit still brings back what finished. Results: gpu_suite_<time>_<commit>.json and
# suite.log in $OUT (the device tool brings that folder back), else in bench/results/. Commit the
# JSON under bench/results/.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
stages=("$@")
((${#stages[@]})) || stages=(check test bench peer)
results_dir=${OUT:-$repo/bench/results}
mkdir -p "$results_dir"
work=$(mktemp -d /tmp/gpu_suite.XXXXXX)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
result_file="$results_dir/gpu_suite_${stamp}_${commit:0:10}.json"
log="$results_dir/suite.log"
: >"$work/stages.tsv"

say() { echo "gpu_suite: $*" | tee -a "$log" >&2; }

# --- libraries: Debian's, unpacked from .device_deps/, and the CUDA wheels of the device's PyTorch.
deps_prefix=/tmp/pans-deps
if compgen -G ".device_deps/*.deb" >/dev/null; then
  mkdir -p "$deps_prefix"
  for deb in .device_deps/*.deb; do dpkg-deb -x "$deb" "$deps_prefix"; done
  # Debian selects OpenBLAS through update-alternatives, which an unpacked package lacks: name its folder.
  export LD_LIBRARY_PATH="$deps_prefix/usr/lib/x86_64-linux-gnu/openblas-pthread:$deps_prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
fi
# cuDNN, cuBLAS and NCCL as PyTorch's wheels ship them (nvidia/<library>/lib), after the toolkit's.
wheel_libs=$(python3 - <<'PY' 2>/dev/null
import os
try:
    import nvidia
    print(":".join(sorted(os.path.join(root, name, "lib") for root in nvidia.__path__ for name in os.listdir(root)
                          if os.path.isdir(os.path.join(root, name, "lib")))))
except ImportError:
    pass
PY
)
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}:/usr/local/cuda/lib64${wheel_libs:+:$wheel_libs}"

# --- the executables: the carried bundle, else a build here.
build_here() {
  local build=build-gpu arch
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
  local args=(-DPANS_SIMT_EMU=OFF -DCMAKE_CUDA_ARCHITECTURES="$arch")
  if [ -d "$deps_prefix/usr" ]; then
    args+=(-DCMAKE_PREFIX_PATH="$deps_prefix/usr"
           -DCMAKE_LIBRARY_PATH="$deps_prefix/usr/lib/x86_64-linux-gnu/openblas-pthread;$deps_prefix/usr/lib/x86_64-linux-gnu")
    command -v ninja >/dev/null && args+=(-G Ninja)
    CUDACXX=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)} cmake -S . -B "$build" "${args[@]}" &&
      cmake --build "$build" -j "$(nproc)"
  else
    tools/setup.sh "$build" "${args[@]}"
  fi || return 1
  mkdir -p "$work/bin"
  cp "$build"/tests/test_cuda_* "$work/bin/" 2>/dev/null
  rm -f "$work"/bin/*.cmake
  cp "$build/bench/bench_kernels" "$build/apps/train_pans" "$build/apps/eval_pans" "$work/bin/"
}
if [ -x .device_bundle/test_cuda_tensor ]; then
  bin=$repo/.device_bundle
  [ "$(cat .device_bundle/COMMIT 2>/dev/null)" = "$commit" ] ||
    say "warning: .device_bundle was built at $(cat .device_bundle/COMMIT 2>/dev/null), the checkout is at $commit"
else
  say "no .device_bundle: building (tools/device_bundle.sh beforehand saves this device time)"
  build_here >>"$log" 2>&1 || { say "build failed (see suite.log)"; }
  bin=$work/bin
fi

# Writes the results file from what the stages left in $work (atomically: temp file, rename).
summarize() {
  python3 - "$work" "$commit" "$bin" "$result_file" <<'PY'
import glob, json, os, subprocess, sys, xml.etree.ElementTree as ET
work, commit, bin_dir, target = sys.argv[1:]
def run(*cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as error: return f"unavailable: {error}"
def tail(path, n=3000):
    with open(path, errors="replace") as f: return f.read()[-n:]
stages = [dict(zip(("stage", "status", "seconds"), line.rstrip("\n").split("\t"))) for line in open(os.path.join(work, "stages.tsv")) if line.strip()]
tests = []
for junit in sorted(glob.glob(os.path.join(work, "junit_*.xml"))):
    binary = os.path.basename(junit)[len("junit_"):-len(".xml")]
    try: root = ET.parse(junit).getroot()
    except ET.ParseError as error:
        tests.append({"binary": binary, "name": "(unreadable report)", "outcome": f"failed: {error}"}); continue
    for case in root.iter("testcase"):
        outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else (
            "skipped" if case.find("skipped") is not None else "passed")
        tests.append({"binary": binary, "name": case.get("name"), "seconds": float(case.get("time") or 0), "outcome": outcome})
exits = {os.path.basename(p)[len("exit_"):]: open(p).read().strip() for p in sorted(glob.glob(os.path.join(work, "exit_*")))}
result = {
    "commit": commit, "executables": bin_dir,
    "device": run("nvidia-smi", "--query-gpu=name,memory.total,clocks.max.sm,compute_cap", "--format=csv,noheader"),
    "driver": run("nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"),
    "clocks_power": run("nvidia-smi", "-q", "-d", "CLOCK,POWER,PERFORMANCE")[-4000:],
    "nvcc": run("nvcc", "--version").splitlines()[-1:],
    "torch": run("python3", "-c", "import torch; print(torch.__version__, torch.version.cuda, torch.backends.cudnn.version())"),
    "stages": stages, "exit_codes": exits, "tests": tests,
    "tests_summary": {k: sum(t["outcome"].startswith(k) for t in tests) for k in ("passed", "failed", "skipped")},
    "sanitizer_logs_tail": {os.path.basename(p): tail(p, 1500) for p in sorted(glob.glob(os.path.join(work, "*.memcheck.log")) + glob.glob(os.path.join(work, "*.racecheck.log")))},
    "benchmarks": {os.path.basename(p): json.load(open(p)) for p in sorted(glob.glob(os.path.join(work, "bench_*.json")))},
    "peer": {os.path.basename(p): json.load(open(p)) for p in sorted(glob.glob(os.path.join(work, "torch_peer_*.json")))},
    "train_logs_tail": {os.path.basename(p): tail(p) for p in sorted(glob.glob(os.path.join(work, "train_*.log")))},
}
with open(target + ".tmp", "w") as f: json.dump(result, f, indent=1)
os.replace(target + ".tmp", target)
PY
}

# Runs one command under a time limit, its output appended to a log (suite.log unless given as
# limited_log); records its exit code.
limited() {
  local name=$1 seconds=$2
  shift 2
  timeout --kill-after=10 "$seconds" "$@" >>"${limited_log:-$log}" 2>&1
  local code=$?
  echo "$code" >"$work/exit_$name"
  [ "$code" -eq 0 ] || say "$name exited with $code$([ "$code" -eq 124 ] && echo " (time limit ${seconds} s)")"
  return "$code"
}

stage_check() {
  nvidia-smi >>"$log" 2>&1 || return 1
  nvidia-smi -q -d CLOCK,POWER,PERFORMANCE >>"$log" 2>&1
  local missing
  missing=$(for b in "$bin"/*; do [ -x "$b" ] && ldd "$b" | grep "not found" | sed "s|^|$(basename "$b"): |"; done)
  [ -z "$missing" ] || { say "libraries not found:"; echo "$missing" | tee -a "$log" >&2; return 1; }
}

stage_test() {
  local status=0 binary name
  for binary in "$bin"/test_cuda_*; do
    name=$(basename "$binary")
    limited "$name" 300 "$binary" --reporters=junit --out="$work/junit_$name.xml" || status=1
  done
  return $status
}

stage_bench() { limited bench_kernels_2x450 420 "$bin/bench_kernels" --batch-config 2x450 --json "$work/bench_kernels_2x450.json"; }
stage_bench8() { limited bench_kernels_8x512x1024 540 "$bin/bench_kernels" --batch-config 8x512x1024 --json "$work/bench_kernels_8x512x1024.json"; }

stage_peer() {
  local status=0 dtype
  for dtype in f32 bf16; do
    limited "torch_peer_$dtype" 240 python3 bench/torch_peer.py --device cuda --batch 2 --crop 450 --dtype "$dtype" \
      --json "$work/torch_peer_$dtype.json" || status=1
  done
  return $status
}

stage_sanitize() {
  local status=0 tool binary name sanitizer
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  for tool in memcheck racecheck; do
    for binary in "$bin"/test_cuda_*; do
      name=$(basename "$binary")
      timeout --kill-after=10 180 "$sanitizer" --tool "$tool" --error-exitcode 99 "$binary" >"$work/$name.$tool.log" 2>&1
      local code=$?
      echo "$code" >"$work/exit_$name.$tool"
      [ "$code" -eq 0 ] || { say "$tool: $name exited with $code"; status=1; }
    done
  done
  return $status
}

stage_train() {
  local status=0
  local flags=(--device cuda:0 --iterations 5000 --stop-after 40 --log-every 10 --val-every 0)
  limited_log=$work/train_native.log limited train_native 300 "$bin/train_pans" "${flags[@]}" \
    --out "$work/train_native" || status=1
  PANS_CONV=cudnn PANS_BN=cudnn limited_log=$work/train_cudnn.log limited train_cudnn 300 "$bin/train_pans" \
    "${flags[@]}" --out "$work/train_cudnn" || status=1
  return $status
}

overall=0
for stage in "${stages[@]}"; do
  if ! declare -F "stage_$stage" >/dev/null; then
    say "unknown stage '$stage' (check test bench bench8 peer sanitize train)"
    overall=2
    continue
  fi
  say "stage $stage"
  start=$SECONDS
  if "stage_$stage"; then outcome=ok; else outcome=failed; overall=1; fi
  printf '%s\t%s\t%s\n' "$stage" "$outcome" "$((SECONDS - start))" >>"$work/stages.tsv"
  summarize || say "could not write $result_file"
done
say "wrote $result_file"
column -t "$work/stages.tsv" 2>/dev/null || cat "$work/stages.tsv"
exit $overall
