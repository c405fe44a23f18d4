"""Benchmark: `attn-grade check lab01` on the reference, against the floor
`python -c "import numpy, matplotlib"`, measured side by side in one run.

    python benchmarks/bench_check.py [--runs 10]

Runs alternate between the two commands so that machine noise hits both alike;
the ratio of medians is the number to watch (target: at most 2x the floor,
heatmap PNG and the student's visualize.py included).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[1]


def wall(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--lab", default="lab01")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / args.lab
        shutil.copytree(KIT_ROOT / "solutions" / args.lab, folder,
                        ignore=shutil.ignore_patterns("known_mistakes.py", "*.png", ".attn-grade"))
        floor = [sys.executable, "-c", "import numpy, matplotlib"]
        check = [sys.executable, "-m", "attn_grade", "check", args.lab, "--path", str(folder)]
        done = subprocess.run(check, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"the reference does not pass: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        wall(floor, KIT_ROOT), wall(check, KIT_ROOT)  # warm the file cache
        floors, checks = [], []
        for _ in range(args.runs):
            floors.append(wall(floor, KIT_ROOT))
            checks.append(wall(check, KIT_ROOT))
    f, c = statistics.median(floors), statistics.median(checks)
    print(f"baseline  python -c 'import numpy, matplotlib'    median {f:.3f} s  ({args.runs} runs)")
    print(f"measured  attn-grade check {args.lab} (reference)  median {c:.3f} s  ({args.runs} runs)")
    print(f"ratio     check / baseline = {c / f:.2f}x   (target <= 2.00x)")


if __name__ == "__main__":
    main()
