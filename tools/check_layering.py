#!/usr/bin/env python3
"""Fails when an #include points up pans' dependency order (README.md, Layout).

Each folder may include itself and the folders listed for it; everything else is an arrow up or
sideways between siblings. Also kept: kernels/cuda/ and kernels/cpu/ are siblings that share only
kernels/shared/. Usage: tools/check_layering.py [repository root]; prints every violation.
"""
import os
import re
import sys

BELOW_TRAIN_AND_EVAL = {"tensor", "config", "kernels", "optim", "layers", "models", "data", "dist", "checkpoint",
                        "metrics"}
ALLOWED = {
    "tensor": set(),
    "config": {"tensor"},
    "kernels": {"tensor", "config"},
    "optim": {"tensor", "config", "kernels"},
    "layers": {"tensor", "config", "kernels"},
    "models": {"tensor", "config", "kernels", "layers"},
    "data": {"tensor", "config"},
    "dist": {"tensor", "config", "kernels", "layers"},
    "checkpoint": {"tensor", "config", "kernels", "optim", "layers", "models", "data"},
    "metrics": {"tensor", "config", "data", "dist"},
    "train": BELOW_TRAIN_AND_EVAL,
    "eval": BELOW_TRAIN_AND_EVAL,
    "bench": BELOW_TRAIN_AND_EVAL | {"train", "eval"},
    "apps": BELOW_TRAIN_AND_EVAL | {"train", "eval"},
    "tests": BELOW_TRAIN_AND_EVAL | {"train", "eval", "apps", "tests"},
}
# Within kernels/: the CPU oracle and the CUDA kernels do not include each other.
SIBLINGS = {"kernels/cuda": "kernels/cpu", "kernels/cpu": "kernels/cuda"}
INCLUDE = re.compile(r'\s*#\s*include\s+"([^"]+)"')
SOURCES = (".h", ".cpp", ".cu", ".cuh")


def violations(root):
    for folder, allowed in ALLOWED.items():
        for directory, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if not name.endswith(SOURCES):
                    continue
                path = os.path.join(directory, name)
                relative = os.path.relpath(path, root)
                with open(path, errors="replace") as source:
                    for number, line in enumerate(source, 1):
                        match = INCLUDE.match(line)
                        if not match or "/" not in match.group(1):
                            continue
                        target = match.group(1)
                        top = target.split("/")[0]
                        if top not in ALLOWED:
                            continue  # a system or third-party header spelled with a folder
                        if top != folder and top not in allowed:
                            yield f"{relative}:{number}: {folder}/ includes {target}"
                        for inside, sibling in SIBLINGS.items():
                            if relative.startswith(inside + "/") and target.startswith(sibling + "/"):
                                yield f"{relative}:{number}: {inside}/ includes its sibling {target}"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    found = list(violations(root))
    for line in found:
        print(line)
    print(f"check_layering: {len(found)} include(s) against the dependency order")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
