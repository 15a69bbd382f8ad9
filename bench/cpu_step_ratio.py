#!/usr/bin/env python3
"""pans against PyTorch on the CPU, step for step: bench_step and bench/torch_peer.py run
interleaved, several rounds, on the same preset, batch, crop and threads; prints each round's
medians and the ratio pans images/s / PyTorch images/s, then the median ratio over the rounds.

Interleaving is what makes a shared machine's numbers comparable: a neighbour's load lands on
both sides of a round alike, and the order alternates between rounds so that neither side always
runs first. The 1-minute load average before each run is printed and recorded: a ratio measured
with the load above the core count is noted as such.

Configurations (the issue's targets): the small preset at 2 x 192^2, and the full preset at a
small crop, 2 x 128^2 (fewer steps: one full step takes seconds on 2 cores).

Usage (from the repository root; --torch-env: a venv with CPU PyTorch, outside the repository):
  bench/cpu_step_ratio.py --torch-env /work/venv-torch --build build --rounds 3 [--threads 2]
      [--configs small,full] [--warmup N --runs N] [--baseline OTHER_BUILD] [--json OUT.json]
Needs nothing but the standard library here; torch runs inside the venv's python.
Exit status: 0 done; 1 a run failed; 2 bad command line.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

# name: (preset, batch, crop, warmup, runs)
CONFIGS = {
    "small": ("small", 2, 192, 10, 50),
    "full": ("full", 2, 128, 3, 10),
}
PHASES = ("train_step", "forward")


def load_average():
    with open("/proc/loadavg") as file:
        return float(file.read().split()[0])


def run_json(command, env=None):
    """Runs a benchmark writing --json to a temporary file; returns the document."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.json")
        result = subprocess.run(command + ["--json", path], capture_output=True, text=True, env=env)
        if result.returncode != 0:
            sys.exit(f"cpu_step_ratio: {' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
        with open(path) as file:
            return json.load(file)


def torch_environment(venv):
    """The environment `source VENV/activate-torch` makes, read from that script."""
    script = os.path.join(venv, "activate-torch")
    if not os.path.isfile(script):
        sys.exit(f"cpu_step_ratio: --torch-env {venv}: no activate-torch (make it with torch-cpu-env {venv})")
    output = subprocess.run(["bash", "-c", f". '{script}' && env -0"], capture_output=True, check=True).stdout
    return dict(entry.split("=", 1) for entry in output.decode().split("\0") if "=" in entry)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch-env", required=True, help="the PyTorch venv folder (torch-cpu-env DIR)")
    parser.add_argument("--build", default="build", help="pans build folder holding bench/bench_step")
    parser.add_argument("--baseline", help="another pans build folder (e.g. of the commit before a change), run in "
                                           "the same rounds: prints its ratio too")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--configs", default="small,full", help="comma-separated from: " + ",".join(CONFIGS))
    parser.add_argument("--warmup", type=int, help="override every configuration's warm-up steps")
    parser.add_argument("--runs", type=int, help="override every configuration's timed steps")
    parser.add_argument("--json", help="write every round's summaries and the ratios here")
    args = parser.parse_args()
    names = args.configs.split(",")
    if any(name not in CONFIGS for name in names) or args.rounds < 1 or args.threads < 1:
        parser.error(f"--configs from {','.join(CONFIGS)}, --rounds and --threads at least 1")
    builds = {"pans": args.build, **({"baseline": args.baseline} if args.baseline else {})}
    for flag, build in builds.items():
        if not os.access(os.path.join(build, "bench", "bench_step"), os.X_OK):
            parser.error(f"{build}: no bench/bench_step (cmake --build {build} --target bench_step)")
    env = torch_environment(args.torch_env)
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_peer.py")

    report = {"threads": args.threads, "cpu_count": os.cpu_count(), "configs": {}}
    for name in names:
        preset, batch, crop, warmup, runs = CONFIGS[name]
        warmup, runs = args.warmup or warmup, args.runs or runs
        common = ["--device", "cpu", "--preset", preset, "--batch", str(batch), "--crop", str(crop),
                  "--threads", str(args.threads), "--warmup", str(warmup), "--runs", str(runs)]
        commands = {side: [os.path.join(build, "bench", "bench_step")] + common for side, build in builds.items()}
        commands["torch"] = [env["PATH"].split(":")[0] + "/python", peer] + common
        sides = list(commands)
        rounds = []
        print(f"\n{name}: {preset} preset, {batch} x {crop}^2, {args.threads} threads, {warmup} warm-up + {runs} "
              f"timed steps per run")
        for index in range(args.rounds):
            order = sides if index % 2 == 0 else sides[::-1]
            result = {}
            for side in order:
                load = load_average()
                record = run_json(commands[side], env if side == "torch" else None)
                result[side] = {"load_before": load,
                                **{phase: {key: record["timings"][phase][key] for key in
                                           ("median_ms", "p10_ms", "p90_ms", "images_per_second")}
                                   for phase in PHASES}}
                if side != "torch":
                    for key in ("system_seconds", "minor_page_faults_per_step"):
                        result[side]["train_step"][key] = record["timings"]["train_step"][key]
            for side in builds:
                result["ratio" if side == "pans" else "baseline_ratio"] = {
                    phase: result[side][phase]["images_per_second"] / result["torch"][phase]["images_per_second"]
                    for phase in PHASES}
            rounds.append(result)
            p, t = result["pans"], result["torch"]
            print(f"  round {index + 1} ({order[0]} first; load {p['load_before']:.1f} / {t['load_before']:.1f}): "
                  f"train pans {p['train_step']['median_ms']:.1f} ms, torch {t['train_step']['median_ms']:.1f} ms, "
                  f"ratio {result['ratio']['train_step']:.2f}x; forward pans {p['forward']['median_ms']:.1f} ms, "
                  f"torch {t['forward']['median_ms']:.1f} ms, ratio {result['ratio']['forward']:.2f}x")
            if args.baseline:
                b = result["baseline"]
                print(f"    baseline (load {b['load_before']:.1f}): train {b['train_step']['median_ms']:.1f} ms, ratio "
                      f"{result['baseline_ratio']['train_step']:.2f}x; forward {b['forward']['median_ms']:.1f} ms, "
                      f"ratio {result['baseline_ratio']['forward']:.2f}x; system s / page faults per step over "
                      f"the timed training steps: pans {p['train_step']['system_seconds']:.2f} / "
                      f"{p['train_step']['minor_page_faults_per_step']:.0f}, baseline "
                      f"{b['train_step']['system_seconds']:.2f} / {b['train_step']['minor_page_faults_per_step']:.0f}")
        summary = {phase: statistics.median(r["ratio"][phase] for r in rounds) for phase in PHASES}
        print(f"  median over {args.rounds} rounds: train step {summary['train_step']:.2f}x, "
              f"forward {summary['forward']:.2f}x PyTorch's images/s")
        if args.baseline:
            base = {phase: statistics.median(r["baseline_ratio"][phase] for r in rounds) for phase in PHASES}
            summary["baseline"] = base
            print(f"  baseline, the same rounds: train step {base['train_step']:.2f}x, forward {base['forward']:.2f}x")
        report["configs"][name] = {"preset": preset, "batch": batch, "crop": crop, "warmup": warmup, "runs": runs,
                                   "rounds": rounds, "median_ratio": summary}
    if args.json:
        with open(args.json, "w") as file:
            json.dump(report, file, indent=1)
            file.write("\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
