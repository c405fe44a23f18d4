"""The result of grading one submission: plain data, rendered by report/*."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

PASSED, FAILED, ERROR, TIMEOUT = "passed", "failed", "error", "timeout"
NOT_RUN = "not-run"  # the submission's time budget was spent before this test ran


@dataclass
class TestResult:
    name: str
    function: str
    visibility: str  # public | hidden
    status: str  # passed | failed | error | timeout | not-run
    points: float
    max_points: float
    message: str = ""
    diagnosis: str | None = None  # a known mistake's id
    hint: str | None = None  # what that mistake means and how to fix it
    description: str = ""
    where: str = ""  # file and line in the student's code, when known (where a hang was)
    inputs: str = ""  # the test's input shapes, e.g. "q (2, 5, 6), k (2, 7, 6)"
    diagnosed_by: str | None = None  # "match" (a known variant's output) or "probe" (probes.py)
    # what the test measured, by name, for the deliverables that quote it (a training
    # test's held-out losses: {"attention": 0.96, "MLP": 2.14}; checks/training.py)
    outcome: dict[str, float] = field(default_factory=dict)


@dataclass
class DeliverableResult:
    id: str
    title: str
    status: str  # done | missing | incomplete | failed
    points: float
    max_points: float
    message: str = ""


@dataclass
class ChecklistItem:
    text: str
    ticked: bool
    checked_by: str | None  # what the grader verified it with (a deliverable or function), or None
    status: str  # verified | not-verified | self-reported | open
    readings: list[str] = field(default_factory=list)  # reading-list ids the item cites


@dataclass
class ExampleWeights:
    """The student's attention weights on the lab's example sentence, and the reference's."""

    tokens: list[str]
    student: np.ndarray | None
    reference: np.ndarray | None
    message: str = ""
    # what the picture does not show: the failing tests, by function (lab data, not student text)
    not_shown: str = ""


@dataclass
class LabResult:
    lab: str
    title: str
    submission: str
    tests: list[TestResult]
    deliverables: list[DeliverableResult]
    checklist: list[ChecklistItem] = field(default_factory=list)
    checklist_file: str = "CHECKLIST.md"  # the one read: CHECKLIST.md or CHECKLIST.pt-BR.md
    example: ExampleWeights | None = None
    hidden_tests_ran: bool = False
    seed: int | None = None  # the hidden tests' seed, for a regrade
    student_output: str = ""
    student_output_truncated: bool = False
    heatmap_png: str | None = None  # written by a renderer, recorded for the report
    lang: str = "en"  # the language of the messages, and of the renderers' text

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tests) + sum(d.points for d in self.deliverables)

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.tests) + sum(d.max_points for d in self.deliverables)

    @property
    def all_tests_passed(self) -> bool:
        return all(t.status == PASSED for t in self.tests)

    def count(self, visibility: str, status: str | None = None) -> int:
        return sum(
            1 for t in self.tests if t.visibility == visibility and status in (None, t.status)
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (the schema of `check --json` and of batch results)."""
        return {
            "lab": self.lab,
            "score": round(self.score, 4),
            "max_score": round(self.max_score, 4),
            "tests": [asdict(t) for t in self.tests],
            "deliverables": [asdict(d) for d in self.deliverables],
            "checklist": [asdict(c) for c in self.checklist],
            "checklist_file": self.checklist_file,
            "hidden_tests_ran": self.hidden_tests_ran,
            "seed": self.seed,
            "public_passed": self.count("public", PASSED),
            "public_total": self.count("public"),
            "submission": self.submission,
            "heatmap_png": self.heatmap_png,
            "student_output": self.student_output,
        }
