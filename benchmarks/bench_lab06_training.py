"""How long lab06's training test takes on the reference, against its time limit, and
how its held-out losses spread over seeds (where lab.toml's thresholds come from).

    python benchmarks/bench_lab06_training.py              # 40 seeds
    python benchmarks/bench_lab06_training.py --seeds 10

For each seed, the reference's train_both runs in this process with the test's budget
(steps, lr) on the graded run's data (corpus.txt with a secret substitution drawn from
the seed, as a grading with that seed draws it), training seed = that seed; its parameters are judged exactly as the grader judges
a student's (checks/training.py: the reference forwards on the held-out lines). Then one
`attn-grade check lab06` of the reference, timed as a whole.
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

import numpy as np
from attn_grade.cases import test_case
from attn_grade.checks.training import mean_loss, read_lines, substituted, training_options
from attn_grade.expected import call_reference
from attn_grade.labspec import load_lab
from attn_grade.reference import find_solutions, load_reference

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args()
    lab = load_lab("lab06")
    reference = load_reference(lab, find_solutions(lab))
    test = next(t for t in lab.tests if t.kind == "training")
    case = test_case(lab, test, 0)
    options = training_options(lab, case)
    data = read_lines(lab.spec_dir / options.data, options.vocab, options.line_start)
    heldout = read_lines(reference.folder / options.heldout, options.vocab, options.line_start)
    outputs = case.function.outputs
    rows, times = [], []
    sub = options.substitution
    for seed in range(args.seeds):
        # the graded run: the run's secret substitution (drawn per seed here) on both files
        key = test_case(lab, test, seed).args[sub.key]
        secret = substituted(data, options.vocab, sub, key)
        secret_heldout = substituted(heldout, options.vocab, sub, key)
        given = {k: v for k, v in case.args.items() if k != sub.key}  # never sent
        seeded = type(case)(case.key, case.function, {**given, "data": secret, "seed": seed}, test)
        start = time.perf_counter()
        got = dict(zip(outputs, call_reference(reference.function(case.function.name), seeded)))
        times.append(time.perf_counter() - start)
        losses = []
        for model in (options.model, options.baseline):
            params = {k[len(model.prefix):]: v for k, v in got.items() if k.startswith(model.prefix)}
            losses.append(mean_loss(reference.function(model.forward), params, secret_heldout))
        rows.append(losses)
    lm, mlp = np.array(rows).T
    gap = mlp - lm
    print(f"training test: {case.args['steps']} steps, lr {case.args['lr']}, {args.seeds} seeds")
    print(f"  attention held-out: min {lm.min():.3f}  median {np.median(lm):.3f}  max {lm.max():.3f}"
          f"   (max_loss {options.max_loss})")
    print(f"  MLP held-out:       min {mlp.min():.3f}  median {np.median(mlp):.3f}  max {mlp.max():.3f}")
    print(f"  MLP - attention:    min {gap.min():.3f}  median {np.median(gap):.3f}  max {gap.max():.3f}"
          f"   (min_margin {options.min_margin})")
    print(f"  train_both wall time: median {statistics.median(times):.2f} s, max {max(times):.2f} s"
          f"   (time limit {lab.time_limit:g} s: {lab.time_limit / max(times):.0f}x the slowest)")
    with tempfile.TemporaryDirectory() as tmp:  # the check writes its PNGs beside the code
        copy = shutil.copytree(ROOT / "solutions" / "lab06", Path(tmp) / "lab06",
                               ignore=shutil.ignore_patterns("known_mistakes.py", "heldout.txt"))
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "attn_grade", "check", "lab06", "--path", str(copy),
             "--seed", "1", "--json"],
            capture_output=True, text=True, check=False,
        )
        print(f"attn-grade check lab06 (reference): {time.perf_counter() - start:.1f} s wall, "
              f"exit code {done.returncode}")


if __name__ == "__main__":
    main()
