"""Benchmark: `attn-grade check lab01` on a submission whose softmax never returns, with the
lab's time budget (30 s) against the old behaviour (no budget: every test that reaches the
hang waits its full time limit), measured side by side in one run.

    python benchmarks/bench_hang.py [--lab lab01]

The submission is the reference with softmax.py replaced by a `while True` loop, and the
reference's attention.py calls that softmax: every test reaches the hang. The old behaviour
takes about 3 minutes (18 tests x 10 s); the target for the new one is a full report in
under 40 s. (tests/test_feedback.py checks, untimed, that tests which do not reach the
hang keep their points.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[1]

HANGING_SOFTMAX = """import numpy as np


def softmax(x, axis=-1):
    while True:  # never returns
        pass
"""


def timed_check(folder: Path, lab: str, *options: str) -> tuple[float, dict]:
    command = [sys.executable, "-m", "attn_grade", "check", lab, "--path", str(folder), "--json",
               "--no-png", *options]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=KIT_ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    try:
        return seconds, json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"check failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")


def describe(report: dict) -> str:
    statuses: dict[str, int] = {}
    for t in report["tests"]:
        statuses[t["status"]] = statuses.get(t["status"], 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    return f"score {report['score']:g}/{report['max_score']:g} ({counts})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="lab01")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / args.lab
        shutil.copytree(KIT_ROOT / "solutions" / args.lab, folder,
                        ignore=shutil.ignore_patterns("known_mistakes.py", "*.png", ".attn-grade"))
        (folder / "softmax.py").write_text(HANGING_SOFTMAX)
        new, budgeted = timed_check(folder, args.lab, "--seed", "1")
        old, unbudgeted = timed_check(folder, args.lab, "--seed", "1", "--time-budget", "0")
    print(f"old  no time budget:         {old:7.1f} s  {describe(unbudgeted)}")
    print(f"new  the lab's time budget:  {new:7.1f} s  {describe(budgeted)}")
    print(f"ratio old / new = {old / new:.1f}x   (target: new under 40 s)")
    hung = next((t for t in budgeted["tests"] if t["status"] == "timeout"), None)
    if hung:
        print(f"first hang: {hung['name']}: {hung['message']}")


if __name__ == "__main__":
    main()
