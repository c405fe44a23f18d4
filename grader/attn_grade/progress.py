"""How far a student is: per lab, the last saved score, the deliverables done and the
readings ticked. Plain data; nothing is re-graded.

Scores come from the report that `attn-grade check LAB` saved in
``<work>/<lab>/.attn-grade/last-report.json``; ticks come from ``<work>/<lab>/CHECKLIST.md``
as it is now. A report older than the student's latest edit is flagged as stale.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from attn_grade.history import load_report
from attn_grade.labspec import LabSpec
from attn_grade.reading import cited_ids, lab_specs_in_order

CHECKLIST = "CHECKLIST.md"
CHECKLIST_PT = "CHECKLIST.pt-BR.md"  # the Portuguese one: the student ticks one of the two
# Edits to these files can change a grade; ticking CHECKLIST.md cannot.
GRADED_SUFFIXES = (".py", ".md")

NOT_STARTED, IN_PROGRESS, DONE = "not started", "in progress", "done"


@dataclass
class LabProgress:
    lab: str
    title: str
    level: str
    minutes: int
    prerequisites: list[str]
    folder: str
    status: str  # not started | in progress | done
    # from the last saved report (None: the lab was never checked)
    checked_at: float | None = None
    score: float | None = None
    max_score: float | None = None
    tests_passed: int | None = None
    tests_total: int | None = None
    hidden_tests_ran: bool = False
    stale: bool = False  # a file changed after the report was saved
    deliverables_done: int = 0
    deliverables_total: int = 0
    # from CHECKLIST.md
    checklist_done: int = 0
    checklist_total: int = 0
    readings_ticked: list[str] = field(default_factory=list)
    readings_cited: list[str] = field(default_factory=list)


@dataclass
class Progress:
    work_folder: str
    labs: list[LabProgress]
    source: str = "last saved reports (nothing re-run)"

    @property
    def next_lab(self) -> LabProgress | None:
        return next((lab for lab in self.labs if lab.status != DONE), None)

    def to_dict(self) -> dict[str, Any]:
        nxt = self.next_lab
        return {
            "work_folder": self.work_folder,
            "source": self.source,
            "next_lab": nxt.lab if nxt else None,
            "labs": [asdict(lab) for lab in self.labs],
        }


def gather_progress(work_folder: Path, lang: str = "en") -> Progress:
    """Progress in every lab, in the order to study; `work_folder` holds one folder per lab.
    The labs' titles are in `lang`."""
    labs = [
        lab_progress(spec, Path(work_folder) / spec.id, lang) for spec in lab_specs_in_order()
    ]
    return Progress(str(work_folder), labs)


def lab_progress(spec: LabSpec, folder: Path, lang: str = "en") -> LabProgress:
    progress = LabProgress(
        lab=spec.id,
        title=spec.titled(lang),
        level=spec.level,
        minutes=spec.minutes,
        prerequisites=list(spec.prerequisites),
        folder=str(folder),
        status=NOT_STARTED,
        deliverables_total=len(spec.deliverables),
    )
    report = load_report(folder)
    # by the item's check tag (tests:softmax, visualize), the same in CHECKLIST.md and
    # CHECKLIST.pt-BR.md: the check may have read the other language's checklist
    verified = {
        c.get("checked_by")
        for c in (report or {}).get("checklist", [])
        if isinstance(c, dict) and c.get("status") == "verified" and c.get("checked_by")
    }
    _add_checklist(progress, folder, lang, verified)
    if report is not None:
        _add_report(progress, report, folder)
    progress.status = _status(progress)
    return progress


def _add_report(progress: LabProgress, report: dict[str, Any], folder: Path) -> None:
    tests = report.get("tests", [])
    deliverables = report.get("deliverables", [])
    progress.checked_at = report.get("saved_at")
    progress.score = report.get("score")
    progress.max_score = report.get("max_score")
    progress.tests_passed = sum(1 for t in tests if t.get("status") == "passed")
    progress.tests_total = len(tests)
    progress.hidden_tests_ran = bool(report.get("hidden_tests_ran"))
    progress.deliverables_done = sum(1 for d in deliverables if d.get("status") == "done")
    progress.deliverables_total = len(deliverables) or progress.deliverables_total
    if progress.checked_at is not None:
        progress.stale = last_edit(folder) > progress.checked_at


def _add_checklist(progress: LabProgress, folder: Path, lang: str, verified: set[str]) -> None:
    """Items done: ticked by the student, or verified by the grader at the last check
    (the student need not tick those: `verified` holds their check tags). CHECKLIST.md or
    CHECKLIST.pt-BR.md, the one filled."""
    # one definition of a checklist item, and of which checklist the student fills
    from attn_grade.deliverables import CHECK_TAG, ITEM, filled_handout

    path = filled_handout(folder, CHECKLIST, lang)

    if not path.is_file():
        return
    done_count, cited, read = 0, [], []
    items = [ITEM.match(line) for line in path.read_text("utf-8", errors="replace").splitlines()]
    for item in filter(None, items):
        ids = cited_ids(item["text"])
        ticked = item["tick"] != " "
        tag = CHECK_TAG.search(item["text"])
        done_count += ticked or (tag is not None and tag["id"] in verified)
        cited += [i for i in ids if i not in cited]
        read += [i for i in ids if ticked and i not in read]
    progress.checklist_done = done_count
    progress.checklist_total = sum(1 for item in items if item)
    progress.readings_cited, progress.readings_ticked = cited, read


def last_edit(folder: Path) -> float:
    """When the student last changed a file that is graded (0.0 if none)."""
    times = [
        p.stat().st_mtime
        for p in folder.iterdir()
        if p.is_file() and p.suffix in GRADED_SUFFIXES and p.name not in (CHECKLIST, CHECKLIST_PT)
    ]
    return max(times, default=0.0)


def _status(p: LabProgress) -> str:
    if p.checked_at is None:
        return IN_PROGRESS if p.checklist_done else NOT_STARTED
    complete = (
        p.tests_total
        and p.tests_passed == p.tests_total
        and p.deliverables_done == p.deliverables_total
    )
    return DONE if complete and not p.stale else IN_PROGRESS
