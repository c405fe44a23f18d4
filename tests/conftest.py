"""Shared fixtures: the kit's folders and student submissions built from the reference."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

KIT_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = KIT_ROOT / "solutions"
EXERCISES = KIT_ROOT / "exercises"
CORPUS = Path(__file__).parent / "corpus"
HIDDEN_FROM_STUDENTS = ("known_mistakes.py",)


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
