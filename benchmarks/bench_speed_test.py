"""The margin of lab04's speed test: run it N times on the reference, print the ratios.

    python benchmarks/bench_speed_test.py [--runs 20] [--workers 1]

Each run is the real thing: `grade(..., only=["speed_matrix_vs_loops"])`, a fresh
student process that times self_attention against self_attention_loops (warm-up,
7 interleaved repeats, medians). `--workers 2` grades two copies at a time, as
`attn-grade grade --jobs 2` does on a 2-core machine. The bound is the lab's.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
TEST = "speed_matrix_vs_loops"
TIMES = re.compile(r"self_attention_loops ([0-9.]+) ms, self_attention ([0-9.]+) ms.*?([0-9.]+)x faster")
# (a loops time of 1 s or more is printed in seconds and not matched: not the reference's)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    from attn_grade.grading import grade
    from attn_grade.labspec import load_lab

    bound = next(t for t in load_lab("lab04").tests if t.name == TEST).options["min_ratio"]
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for i in range(args.workers):
            folder = Path(tmp) / f"ref{i}"
            shutil.copytree(KIT / "solutions" / "lab04", folder,
                            ignore=shutil.ignore_patterns("known_mistakes.py", "*.png", "__pycache__"))
            folders.append(folder)

        def one(i: int):
            (result,) = grade("lab04", folders[i % args.workers], only=[TEST], hidden=False).tests
            return result

        with ThreadPoolExecutor(args.workers) as pool:
            results = list(pool.map(one, range(args.runs)))
    failed = [r.message for r in results if r.status != "passed"]
    found = [TIMES.search(r.message) for r in results if r.status == "passed"]
    loops, matrix, ratios = ([float(m.group(g)) for m in found] for g in (1, 2, 3))
    print(f"lab04 {TEST}: {args.runs} runs, {args.workers} at a time, bound {bound:g}x")
    if ratios:
        print(f"  loops  median {statistics.median(loops):8.2f} ms a batch")
        print(f"  matrix median {statistics.median(matrix):8.3f} ms a batch")
        print(f"  ratio  min {min(ratios):.1f}x  median {statistics.median(ratios):.1f}x  "
              f"max {max(ratios):.1f}x  (min / bound = {min(ratios) / bound:.1f})")
    print(f"  passed {args.runs - len(failed)}/{args.runs}")
    for message in failed:
        print("  FAILED:", message)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
