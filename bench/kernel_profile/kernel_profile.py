#!/usr/bin/env python3
"""Static profile of pans' CUDA kernels from the sm_90 build; needs nvcc, cuobjdump and nvdisasm, no GPU.

For every kernel instantiation in the given .cu files (default: every kernels/cuda/*.cu) it reports
what ptxas says (registers, stack, spills, static shared memory), the dynamic shared memory the
launcher asks for (implicit GEMM only), the theoretical occupancy on an H100 SXM, and, for the
implicit-GEMM kernels, the SASS instruction mix of the main loop and its issue-bound ceiling:

    ceiling = 4 x HMMA / instructions per main-loop iteration   (a fraction of the dense tensor peak)

A sub-partition issues at most one instruction per clock, and at the dense peak one HMMA keeps its
tensor core busy for 4 clocks (m16n8k16 bf16: 4096 flops at 1024 per clock; m16n8k8 tf32: 2048 at
512); a loop that issues more than 4 instructions per HMMA cannot reach that peak even with no
stall at all. A loop's count is its steady-state path: side paths (side_paths below) are reported
apart. docs/kernel_profile.md explains the method and its limits.

Usage:
    kernel_profile.py [--json out.json] [--check budgets.json] [source.cu ...]
--check fails (exit 1) when a kernel spills or uses local memory, when an implicit-GEMM
instantiation has no HMMA in its main loop, or when a main loop exceeds its instruction budget.
"""
import argparse
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# H100 SXM per-SM limits (compute capability 9.0; docs/kernel_profile.md#limits).
SM_REGISTERS = 65536
REGISTER_ALLOCATION_UNIT = 256  # registers, allocated per warp
MAX_REGISTERS_PER_THREAD = 255
MAX_WARPS = 64
MAX_BLOCKS = 32
SM_SHARED_BYTES = 228 * 1024
SHARED_RESERVED_PER_BLOCK = 1024  # the runtime keeps 1 KiB of each block's shared memory
SHARED_ALLOCATION_UNIT = 128
DEFAULT_THREADS = 256  # pans' element-wise and SIMT launchers; kernels without __launch_bounds__

# The implicit-GEMM tiles (kernels/cuda/conv2d_implicit_gemm.cuh): kStages x (A tile + B tile).
# Major of each gather's shared tile, as its kMajor says.
GATHER_MAJOR = {
    "ForwardInputGather": "K", "ForwardWeightGather": "K",
    "BackwardInputGradGather": "K", "BackwardInputWeightGather": "MN",
    "WeightGradOutputGather": "MN", "WeightGradInputGather": "MN",
}
PASS_OF_GATHER = {"ForwardInputGather": "forward", "BackwardInputGradGather": "dgrad",
                  "WeightGradOutputGather": "wgrad"}
STAGES, BLOCK_N, BLOCK_K = 3, 64, 32


def tool(name):
    found = shutil.which(name)
    if found:
        return found
    try:  # the PyPI wheels (nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm)
        import nvidia
        for base in nvidia.__path__:
            for candidate in glob.glob(os.path.join(base, "cu*", "bin", name)):
                return candidate
    except ImportError:
        pass
    if os.path.exists(f"/usr/local/cuda/bin/{name}"):
        return f"/usr/local/cuda/bin/{name}"
    sys.exit(f"kernel_profile: cannot run: {name} not found (pip install nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)")


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True).stdout
    return dict(zip(names, out.splitlines()))


def compile_cubin(nvcc, source, out_dir):
    cubin = os.path.join(out_dir, os.path.basename(source) + ".cubin")
    cmd = [nvcc, "-std=c++17", "-O3", "-DNDEBUG", "-DPANS_WITH_CUDA=1", "-arch=sm_90", "-cubin", "-I", ROOT,
           "-Xptxas", "-v", "-o", cubin, source]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"kernel_profile: nvcc failed on {source}:\n{result.stderr}")
    return cubin, result.stderr


def parse_ptxas(text):
    kernels, current = {}, None
    for line in text.splitlines():
        m = re.search(r"Compiling entry function '([^']+)' for 'sm_90'", line)
        if m:
            current = kernels.setdefault(m.group(1), {})
            continue
        if current is None:
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m:
            current.update(stack=int(m.group(1)), spill_stores=int(m.group(2)), spill_loads=int(m.group(3)))
        m = re.search(r"Used (\d+) registers", line)
        if m:
            current["registers"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            current["static_shared"] = int(s.group(1)) if s else 0
            l = re.search(r"(\d+) bytes lmem", line)
            current["local_memory"] = int(l.group(1)) if l else 0
    return kernels


def max_threads(cuobjdump, cubin):
    """__launch_bounds__ per kernel, from the .nv.info sections (EIATTR_MAX_THREADS)."""
    text = subprocess.run([cuobjdump, "-elf", cubin], capture_output=True, text=True, check=True).stdout
    result, current, pending = {}, None, False
    for line in text.splitlines():
        m = re.match(r"\.nv\.info\.(\S+)", line.strip())
        if m:
            current = m.group(1)
            continue
        if "EIATTR_MAX_THREADS" in line:
            pending = True
        elif pending and "Value:" in line and current:
            x, y, z = (int(v, 16) for v in line.split("Value:")[1].split()[:3])
            result[current] = x * y * z
            pending = False
    return result


INSTRUCTION = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)([^;]*);")


def parse_sass(nvdisasm, cubin):
    text = subprocess.run([nvdisasm, "-c", cubin], capture_output=True, text=True, check=True).stdout
    functions, current, labels = {}, None, {}
    for line in text.splitlines():
        m = re.match(r"\.text\.(\S+):", line)
        if m:
            current = functions.setdefault(m.group(1), {"code": [], "labels": {}})
            continue
        if current is None:
            continue
        m = re.match(r"(\.L_x_\d+):", line)
        if m:
            current["labels"][m.group(1)] = len(current["code"])
            continue
        m = INSTRUCTION.search(line)
        if m:
            current["code"].append({"predicate": (m.group(2) or "").strip(), "op": m.group(3),
                                    "operands": m.group(4)})
    return functions


CATEGORIES = ("HMMA", "LDSM", "LDGSTS", "LDS", "STS", "global", "sync", "integer", "branch", "other")
INTEGER_OPS = {"IMAD", "IADD3", "IADD", "LEA", "SHF", "LOP3", "ISETP", "IABS", "IMNMX", "SEL", "I2F", "F2I", "MOV",
               "PRMT", "SGXT", "BMSK", "POPC", "FLO", "IMUL", "VIADD", "VIMNMX", "S2R", "S2UR", "CS2R", "R2UR",
               "PLOP3", "P2R", "R2P", "LDC", "ULDC"}


def category(op):
    base = op.split(".")[0]
    if base == "HMMA":
        return "HMMA"
    if base == "LDSM":
        return "LDSM"
    if base == "LDGSTS":
        return "LDGSTS"
    if base == "LDS":
        return "LDS"
    if base == "STS":
        return "STS"
    if base in ("LDG", "STG", "LD", "ST", "RED", "ATOM", "ATOMG"):
        return "global"
    if base in ("BAR", "DEPBAR", "LDGDEPBAR", "MEMBAR", "WARPSYNC"):
        return "sync"
    if base in ("BRA", "BSSY", "BSYNC", "EXIT", "RET", "CALL", "JMP", "BREAK"):
        return "branch"
    if base in INTEGER_OPS or (base.startswith("U") and base[1:] in INTEGER_OPS) or base in ("UMOV", "UISETP",
                                                                                             "UIADD3", "UIMAD",
                                                                                             "USHF", "ULOP3",
                                                                                             "USEL", "ULEA"):
        return "integer"
    return "other"


def branch_target(instruction, labels):
    m = re.search(r"`\((\.L_x_\d+)\)", instruction["operands"])
    return labels.get(m.group(1)) if m else None


def main_loop(function):
    """The innermost loop (backward branch) whose body holds an HMMA: (start, end) indices, inclusive."""
    code, labels = function["code"], function["labels"]
    best = None
    for index, instruction in enumerate(code):
        if instruction["op"] != "BRA":
            continue
        target = branch_target(instruction, labels)
        if target is None or target > index:
            continue
        if any(code[i]["op"].startswith("HMMA") for i in range(target, index + 1)):
            if best is None or index - target < best[1] - best[0]:
                best = (target, index)
    return best


def side_paths(function, start, end):
    """Instructions in [start, end] that the steady-state iteration skips: the bodies of forward branches
    that hold shared loads but no HMMA, LDSM or cp.async (the wgrad kernel's row sums for dbias, done by
    the first N tile's blocks only)."""
    code, labels = function["code"], function["labels"]
    skipped = set()
    for index in range(start, end + 1):
        instruction = code[index]
        if instruction["op"] != "BRA" or not instruction["predicate"]:
            continue
        target = branch_target(instruction, labels)
        if target is None or target <= index or target > end + 1:
            continue
        body = [category(code[i]["op"]) for i in range(index + 1, target)]
        if "LDS" in body and not {"HMMA", "LDSM", "LDGSTS"} & set(body):
            skipped.update(range(index + 1, target))
    return skipped


def occupancy(registers, threads, shared_per_block):
    warps = (threads + 31) // 32
    per_warp = ((max(registers, 1) * 32 + REGISTER_ALLOCATION_UNIT - 1) // REGISTER_ALLOCATION_UNIT *
                REGISTER_ALLOCATION_UNIT)
    by_registers = SM_REGISTERS // (per_warp * warps)
    by_warps = MAX_WARPS // warps
    shared = shared_per_block + SHARED_RESERVED_PER_BLOCK
    shared = (shared + SHARED_ALLOCATION_UNIT - 1) // SHARED_ALLOCATION_UNIT * SHARED_ALLOCATION_UNIT
    by_shared = SM_SHARED_BYTES // shared
    blocks = min(by_registers, by_warps, by_shared, MAX_BLOCKS)
    limiter = min((by_registers, "registers"), (by_warps, "warps"), (by_shared, "shared"), (MAX_BLOCKS, "blocks"))[1]
    return {"blocks_per_sm": blocks, "warps_per_sm": blocks * warps, "occupancy": blocks * warps / MAX_WARPS,
            "limited_by": limiter}


def implicit_gemm_config(pretty):
    """(dtype, BM, pass, dynamic shared bytes) of a conv2d_implicit_gemm_mma instantiation, from its name."""
    m = re.search(r"conv2d_implicit_gemm_mma<([^,]+), [^,]+, (\d+), pans::cuda::implicit_gemm::(\w+)<[^>]*>, "
                  r"pans::cuda::implicit_gemm::(\w+)<", pretty)
    if not m:
        return None
    dtype = "bf16" if "bf16" in m.group(1) else "fp32"
    bm, gather_a, gather_b = int(m.group(2)), m.group(3), m.group(4)
    element = 2 if dtype == "bf16" else 4
    chunk = 16 // element
    a = bm * (BLOCK_K + chunk) if GATHER_MAJOR[gather_a] == "K" else BLOCK_K * (bm + 8)
    b = BLOCK_N * (BLOCK_K + chunk) if GATHER_MAJOR[gather_b] == "K" else BLOCK_K * (BLOCK_N + 8)
    return dtype, bm, PASS_OF_GATHER[gather_a], STAGES * (a + b) * element


def profile(sources, nvcc, cuobjdump, nvdisasm, jobs):
    rows = []
    with tempfile.TemporaryDirectory() as out_dir:
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            built = list(pool.map(lambda source: compile_cubin(nvcc, source, out_dir), sources))
        for source, (cubin, ptxas) in zip(sources, built):
            resources = parse_ptxas(ptxas)
            threads = max_threads(cuobjdump, cubin)
            sass = parse_sass(nvdisasm, cubin)
            pretty = demangle(list(resources))
            for mangled, res in sorted(resources.items(), key=lambda item: pretty[item[0]]):
                row = {"source": os.path.relpath(source, ROOT), "kernel": pretty[mangled], "mangled": mangled}
                row.update(res)
                row["threads"] = threads.get(mangled, DEFAULT_THREADS)
                row["threads_assumed"] = mangled not in threads
                config = implicit_gemm_config(pretty[mangled])
                dynamic = 0
                if config:
                    row["dtype"], row["block_m"], row["pass"], dynamic = config
                    row["name"] = f"{row['pass']} {row['dtype']} BM{row['block_m']}"
                row["dynamic_shared"] = dynamic
                row.update(occupancy(res.get("registers", 0), row["threads"], res.get("static_shared", 0) + dynamic))
                function = sass.get(mangled)
                if config and function:
                    loop = main_loop(function)
                    if loop:
                        start, end = loop
                        skipped = side_paths(function, start, end)
                        mix = {c: 0 for c in CATEGORIES}
                        for i in range(start, end + 1):
                            if i not in skipped:
                                mix[category(function["code"][i]["op"])] += 1
                        total = sum(mix.values())
                        row["main_loop_sass"] = [
                            ("  skipped  " if i in skipped else "  ") + function["code"][i]["predicate"] + " " +
                            function["code"][i]["op"] + function["code"][i]["operands"] for i in range(start, end + 1)]
                        row["main_loop"] = {"instructions": total, "side_path_instructions": len(skipped),
                                            "mix": mix, "ceiling": 4 * mix["HMMA"] / total}
                    else:
                        row["main_loop"] = None
                rows.append(row)
    return rows


def table(rows):
    lines = ["| kernel | regs | stack | spill | smem static+dyn | blocks/SM | occupancy (limit) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        # "void pans::cuda::(anonymous namespace)::name<...>(args)" -> "name<...>": the namespaces
        # first, since the argument list is cut at the first parenthesis.
        plain = r["kernel"].replace("(anonymous namespace)::", "").replace("pans::cuda::", "")
        name = r.get("name") or re.sub(r"^void ", "", re.sub(r"\(.*", "", plain))
        if "dtype" not in r and "bf16" in r["kernel"] and "bf16" not in name:
            name += " <bf16>"
        lines.append(f"| {name} | {r.get('registers')} | {r.get('stack')} | "
                     f"{r.get('spill_stores', 0) + r.get('spill_loads', 0)} | "
                     f"{r.get('static_shared', 0)}+{r['dynamic_shared']} | {r['blocks_per_sm']} | "
                     f"{r['occupancy']:.2f} ({r['limited_by']}){' *' if r['threads_assumed'] else ''} |")
    lines += ["", "| implicit GEMM | instr/iter | HMMA | LDSM | LDGSTS | LDS | STS | integer | branch | sync | "
              "other | side path | ceiling |", "|---|" + "---:|" * 12]
    for r in rows:
        loop = r.get("main_loop")
        if not loop:
            continue
        mix = loop["mix"]
        lines.append(f"| {r['name']} | {loop['instructions']} | {mix['HMMA']} | {mix['LDSM']} | {mix['LDGSTS']} | "
                     f"{mix['LDS']} | {mix['STS']} | {mix['integer']} | {mix['branch']} | {mix['sync']} | "
                     f"{mix['other'] + mix['global']} | {loop['side_path_instructions']} | {loop['ceiling']:.2f} |")
    return "\n".join(lines)


def check(rows, budgets):
    failures = []
    for r in rows:
        label = r.get("name") or r["kernel"]
        if r.get("spill_stores") or r.get("spill_loads") or r.get("stack") or r.get("local_memory"):
            failures.append(f"{label}: spills or local memory (stack {r.get('stack')}, spill stores "
                            f"{r.get('spill_stores')}, loads {r.get('spill_loads')})")
        if "dtype" in r:
            loop = r.get("main_loop")
            if not loop or loop["mix"]["HMMA"] == 0:
                failures.append(f"{label}: no HMMA in the main loop")
                continue
            budget = budgets.get(r["name"])
            if budget is None:
                failures.append(f"{label}: no main-loop budget in the budget file")
            elif loop["instructions"] > budget:
                failures.append(f"{label}: {loop['instructions']} main-loop instructions exceed the budget {budget}")
    names = {r.get("name") for r in rows}
    failures += [f"budget for {name}: no such instantiation was built" for name in budgets if name not in names]
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="*", help="CUDA sources (default: kernels/cuda/*.cu)")
    parser.add_argument("--json", help="write the profile here")
    parser.add_argument("--check", help="budget file: fail on spills, missing HMMA or a loop over budget")
    parser.add_argument("--nvcc", default=os.environ.get("CUDACXX") or shutil.which("nvcc") or
                        "/usr/local/cuda/bin/nvcc")
    parser.add_argument("--sass", metavar="NAME", help='print the main loop of one instantiation, e.g. "dgrad bf16 BM128"')
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="nvcc processes at once")
    args = parser.parse_args()
    sources = args.sources or sorted(glob.glob(os.path.join(ROOT, "kernels", "cuda", "*.cu")))
    rows = profile([os.path.abspath(s) for s in sources], args.nvcc, tool("cuobjdump"), tool("nvdisasm"),
                   args.jobs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{k: v for k, v in r.items() if k != "main_loop_sass"} for r in rows], f, indent=1)
    for r in rows:
        if args.sass and r.get("name") == args.sass:
            print(f"main loop of {args.sass}:\n" + "\n".join(r.get("main_loop_sass", [])))
    print(table(rows))
    if args.check:
        with open(args.check) as f:
            budgets = json.load(f)["main_loop_instructions"]
        failures = check(rows, budgets)
        for failure in failures:
            print("kernel_profile check FAILED:", failure, file=sys.stderr)
        if failures:
            sys.exit(1)
        print(f"kernel_profile check: {len(rows)} kernels, no spills, HMMA and budgets hold")


if __name__ == "__main__":
    main()
