"""Sandbox overhead: grade the same lab01 submissions with each sandbox mode, in one run.

    python benchmarks/bench_sandbox.py [--submissions 20] [--workers 2]

Baseline: `spawn`, a fresh `python -I bootstrap.py` per student process (the lab01
design). Compared: `zygote`, a fork of the warm zygote per student process. Each
submission is graded fully (public and hidden tests, and visualize.py, as `check`
does), `workers` at a time in threads. The ratios are against the baseline, measured
in the same run on the same machine; the 200-submission figure is extrapolated from
the measured throughput.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
BASELINE = "spawn"
MODES = ("spawn", "zygote")


def submissions(n: int, root: Path) -> list[Path]:
    folders = []
    for i in range(n):
        target = root / f"student{i:03d}"
        shutil.copytree(
            KIT / "solutions" / "lab01",
            target,
            ignore=shutil.ignore_patterns("known_mistakes.py", "*.png", "__pycache__", ".*"),
        )
        folders.append(target)
    return folders


def run(mode: str, folders: list[Path], workers: int) -> tuple[float, int]:
    """Wall seconds, and how many submissions got full marks (31/31)."""
    os.environ["ATTN_GRADE_SANDBOX"] = mode
    from attn_grade.grading import grade

    grade("lab01", folders[0], seed=1)  # start-up (the zygote) is not per-submission
    wall0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda f: grade("lab01", f, seed=1), folders))
    wall = time.perf_counter() - wall0
    full = sum(
        sum(t.points for t in r.tests) + sum(d.points for d in r.deliverables) == 31
        for r in results
    )
    return wall, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=MODES, help="one mode (no ratio unless the baseline)")
    args = parser.parse_args()
    sys.path.insert(0, str(KIT / "grader"))
    print(
        f"lab01, {args.submissions} submissions, {args.workers} workers, "
        f"{os.cpu_count()} cores, uid {os.geteuid()}; baseline: {BASELINE}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        folders = submissions(args.submissions, Path(tmp))
        modes = [args.only] if args.only else MODES
        measured = {mode: run(mode, folders, args.workers) for mode in modes}
    base_wall = measured.get(BASELINE, (float("nan"),))[0]
    print(
        f"{'mode':8} {'wall s':>8} {'s/sub':>7} {'200 subs':>9} {'vs ' + BASELINE:>9}  full marks"
    )
    for mode, (wall, full) in measured.items():
        per = wall / args.submissions
        print(
            f"{mode:8} {wall:8.2f} {per:7.3f} {per * 200:8.1f}s "
            f"{wall / base_wall:8.2f}x  {full}/{args.submissions}"
        )


if __name__ == "__main__":
    main()
