"""Shared fixtures: the kit's folders and student submissions built from the reference.

Tests never read the working tree's exercises/: a student fills it in. The stubs are
generated from solutions/ (`attn-grade sync`'s output, into a temp folder), and the
handouts (README.md, CHECKLIST.md, REPORT.md) are read as committed, from git.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

KIT_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = KIT_ROOT / "solutions"
HANDOUTS = ("README.md", "CHECKLIST.md", "REPORT.md")
CORPUS = Path(__file__).parent / "corpus"
HIDDEN_FROM_STUDENTS = ("known_mistakes.py", "heldout.txt")


def copy_reference(lab: str, target: Path) -> Path:
    """A student folder holding the reference's student-facing files (not known_mistakes.py)."""
    shutil.copytree(
        SOLUTIONS / lab, target, ignore=shutil.ignore_patterns(*HIDDEN_FROM_STUDENTS, "*.png",
                                                              "__pycache__", ".attn-grade"),
    )
    return target


@pytest.fixture
def reference_copy(tmp_path):
    """reference_copy("lab01") -> a fresh folder with the lab01 reference, to edit."""
    return lambda lab: copy_reference(lab, tmp_path / lab)


def committed(path: str) -> str:
    """The text of `path` (relative to the kit, e.g. exercises/lab01/REPORT.md) as committed
    in git's HEAD, whatever the working tree holds. Skips the test outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(KIT_ROOT), "show", f"HEAD:{path}"],
            capture_output=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"git cannot read {path} ({exc}): not a git checkout")
    if done.returncode != 0:
        if subprocess.run(["git", "-C", str(KIT_ROOT), "rev-parse", "HEAD"],
                          capture_output=True).returncode != 0:
            pytest.skip(f"not a git checkout: {path} is read from git, never the working tree")
        raise FileNotFoundError(f"{path} is not in git's HEAD: {done.stderr.decode()[:200]}")
    return done.stdout.decode("utf-8")


def write_stubs(lab: str, target: Path) -> Path:
    """A lab folder as a student starts it: the stubs `attn-grade sync` generates from
    solutions/, and the handouts as committed. Never the working tree's exercises/."""
    from attn_grade.labspec import load_lab
    from attn_grade.stubs import exercise_files

    target.mkdir(parents=True, exist_ok=True)
    for name, text in exercise_files(load_lab(lab), SOLUTIONS / lab).items():
        (target / name).write_text(text, encoding="utf-8")
    for name in HANDOUTS:
        (target / name).write_text(committed(f"exercises/{lab}/{name}"), encoding="utf-8")
    return target


@pytest.fixture
def stubs(tmp_path):
    """stubs("lab01") -> a fresh folder with lab01's untouched stubs and handouts."""
    return lambda lab: write_stubs(lab, tmp_path / "stubs" / lab)
