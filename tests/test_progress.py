"""`attn-grade progress`: last saved scores, deliverables and readings ticked, nothing re-run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from attn_grade.cli import app
from attn_grade.history import save_report
from attn_grade.labspec import lab_ids, load_lab
from attn_grade.progress import DONE, IN_PROGRESS, NOT_STARTED, gather_progress
from attn_grade.result import ChecklistItem, DeliverableResult, LabResult
from attn_grade.result import TestResult as Outcome  # not a pytest test class
from typer.testing import CliRunner

WIDE = {"COLUMNS": "200"}
runner = CliRunner()

CHECKLIST = """# Lab 01 checklist

- [x] Watch the lesson <!-- reading: 3b1b-attention -->
- [X] Read it, and the video <!-- reading: alammar-illustrated-transformer --> <!-- reading: 3b1b-attention-video -->
- [ ] Reread section 3.2 <!-- reading: vaswani2017 -->
- [x] Explain queries, keys and values
- [ ] Implement softmax <!-- check: tests:softmax -->
Not an item: <!-- reading: bertviz -->
"""


def _result(passed: int, failed: int, done: int, missing: int) -> LabResult:
    tests = [Outcome(f"t{i}", "softmax", "public", "passed", 1, 1) for i in range(passed)]
    tests += [Outcome(f"f{i}", "softmax", "public", "failed", 0, 1) for i in range(failed)]
    deliverables = [DeliverableResult(f"d{i}", "D", "done", 2, 2) for i in range(done)]
    deliverables += [DeliverableResult(f"m{i}", "M", "missing", 0, 2) for i in range(missing)]
    return LabResult("lab01", "Softmax", "work/lab01", tests, deliverables)


def _make_lab(work: Path, result: LabResult | None, checklist: str = CHECKLIST) -> Path:
    folder = work / "lab01"
    folder.mkdir(parents=True)
    (folder / "CHECKLIST.md").write_text(checklist, encoding="utf-8")
    (folder / "softmax.py").write_text("def softmax(x, axis=-1): ...\n", encoding="utf-8")
    past = time.time() - 3600
    os.utime(folder / "softmax.py", (past, past))  # written before the check
    if result is not None:
        assert save_report(result, folder) is not None
    return folder


def test_progress_reads_the_saved_report_and_the_checklist(tmp_path):
    _make_lab(tmp_path, _result(passed=3, failed=1, done=1, missing=2))
    progress = gather_progress(tmp_path)
    assert [lab.lab for lab in progress.labs] == [lab for lab in lab_ids()]
    lab01 = progress.labs[0]
    assert (lab01.score, lab01.max_score) == (5, 10)
    assert (lab01.tests_passed, lab01.tests_total) == (3, 4)
    assert (lab01.deliverables_done, lab01.deliverables_total) == (1, 3)
    assert (lab01.checklist_done, lab01.checklist_total) == (3, 5)
    assert lab01.readings_cited == [
        "3b1b-attention",
        "alammar-illustrated-transformer",
        "3b1b-attention-video",
        "vaswani2017",
    ]
    assert lab01.readings_ticked == [
        "3b1b-attention",
        "alammar-illustrated-transformer",
        "3b1b-attention-video",
    ]
    assert not lab01.stale
    assert lab01.status == IN_PROGRESS
    assert progress.next_lab.lab == "lab01"


def test_a_lab_never_checked(tmp_path):
    progress = gather_progress(tmp_path)
    lab01 = progress.labs[0]
    assert lab01.checked_at is None and lab01.score is None
    assert lab01.status == NOT_STARTED
    assert lab01.deliverables_total == len(load_lab("lab01").deliverables)


def test_ticks_alone_mean_in_progress(tmp_path):
    _make_lab(tmp_path, None)
    assert gather_progress(tmp_path).labs[0].status == IN_PROGRESS


def test_a_complete_lab_is_done_and_the_next_one_is_suggested(tmp_path):
    _make_lab(tmp_path, _result(passed=4, failed=0, done=3, missing=0))
    progress = gather_progress(tmp_path)
    assert progress.labs[0].status == DONE
    if len(progress.labs) > 1:
        assert progress.next_lab.lab == progress.labs[1].lab


def test_an_edit_after_the_check_makes_the_report_stale(tmp_path):
    folder = _make_lab(tmp_path, _result(passed=4, failed=0, done=3, missing=0))
    future = time.time() + 60
    os.utime(folder / "softmax.py", (future, future))
    lab01 = gather_progress(tmp_path).labs[0]
    assert lab01.stale and lab01.status == IN_PROGRESS
    result = runner.invoke(app, ["progress", "--path", str(tmp_path)], env=WIDE)
    assert "changed after your last check" in " ".join(result.output.split())


def test_ticking_the_checklist_does_not_make_the_report_stale(tmp_path):
    folder = _make_lab(tmp_path, _result(passed=4, failed=0, done=3, missing=0))
    future = time.time() + 60
    os.utime(folder / "CHECKLIST.md", (future, future))
    assert not gather_progress(tmp_path).labs[0].stale


def test_progress_never_grades(tmp_path, monkeypatch):
    import attn_grade.grading

    def fail(*args, **kwargs):
        raise AssertionError("progress must not re-grade")

    monkeypatch.setattr(attn_grade.grading, "grade", fail)
    _make_lab(tmp_path, _result(passed=1, failed=0, done=0, missing=0))
    result = runner.invoke(app, ["progress", "--path", str(tmp_path)], env=WIDE)
    assert result.exit_code == 0, result.output


def test_progress_table(tmp_path):
    _make_lab(tmp_path, _result(passed=3, failed=1, done=1, missing=2))
    result = runner.invoke(app, ["progress", "--path", str(tmp_path)], env=WIDE)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "5 / 10" in out
    assert "3/4" in out and "1/3" in out
    assert "lab01, still to read: vaswani2017" in out  # the next lab's readings
    assert "nothing was re-run" in out
    assert "never checked" in out  # lab02 and later
    assert f"--path {tmp_path / 'lab01'}" in out  # the next command names the folder


def test_progress_json(tmp_path):
    _make_lab(tmp_path, _result(passed=3, failed=1, done=1, missing=2))
    result = runner.invoke(app, ["progress", "--path", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["next_lab"] == "lab01"
    assert "nothing re-run" in data["source"]
    lab01 = data["labs"][0]
    assert lab01["lab"] == "lab01" and lab01["score"] == 5
    assert lab01["readings_ticked"][0] == "3b1b-attention"


def test_progress_without_a_work_folder(tmp_path):
    result = runner.invoke(app, ["progress", "--path", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "No folder" in result.output


@pytest.mark.parametrize("lab", lab_ids())
def test_lab_metadata_is_shown_in_progress(tmp_path, lab):
    spec = load_lab(lab)
    mine = next(p for p in gather_progress(tmp_path).labs if p.lab == lab)
    assert (mine.level, mine.minutes, mine.prerequisites) == (
        spec.level,
        spec.minutes,
        list(spec.prerequisites),
    )


def test_an_item_the_grader_verified_counts_as_done_without_a_tick(tmp_path):
    result = _result(passed=3, failed=0, done=0, missing=0)
    result.checklist = [ChecklistItem("Implement softmax", False, "tests:softmax", "verified")]
    _make_lab(tmp_path, result)
    lab01 = gather_progress(tmp_path).labs[0]
    assert (lab01.checklist_done, lab01.checklist_total) == (4, 5)
    assert "vaswani2017" not in lab01.readings_ticked


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_progress_is_readable_at_80_columns(tmp_path, lang):
    """A standard terminal or piped output: no line wider than 80, no cell cropped (…),
    no word or reading id cut across lines, every number whole."""
    folder = _make_lab(tmp_path, _result(passed=3, failed=1, done=1, missing=2))
    result = runner.invoke(app, ["progress", "--path", str(tmp_path), "--lang", lang],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80, result.output
    assert "…" not in result.output, result.output
    assert "5 / 10" in result.output
    words = set(result.output.replace(",", " ").split())
    for whole in ("3/4", "1/3", "vaswani2017"):
        assert whole in words, (whole, result.output)
    scope = "testes públicos" if lang == "pt" else "public tests"
    assert scope in " ".join(result.output.replace("│", " ").split()), result.output
    assert folder.name in result.output


@pytest.mark.parametrize("check_lang", ["en", "pt"])
def test_items_check_verified_count_in_both_languages(tmp_path, check_lang):
    """check verifies checklist items (by their check tags) in the checklist of its language;
    progress shows the same count in English and in Portuguese, whichever checklist it reads.
    Before, an item verified by `check` counted only in progress in the check's language."""
    import shutil

    from conftest import SOLUTIONS, committed, write_stubs

    folder = write_stubs("lab01", tmp_path / "work" / "lab01")
    (folder / "CHECKLIST.pt-BR.md").write_text(
        committed("exercises/lab01/CHECKLIST.pt-BR.md"), encoding="utf-8")
    for module in load_lab("lab01").modules:
        shutil.copy2(SOLUTIONS / "lab01" / f"{module}.py", folder)
    checked = runner.invoke(app, ["check", "lab01", "--path", str(folder), "--no-png",
                                  "--json", "--lang", check_lang])
    assert checked.exit_code == 0, checked.output
    counts = {}
    for lang in ("en", "pt"):
        shown = runner.invoke(app, ["progress", "--path", str(tmp_path / "work"), "--json",
                                    "--lang", lang])
        assert shown.exit_code == 0, shown.output
        lab01 = json.loads(shown.output)["labs"][0]
        counts[lang] = (lab01["checklist_done"], lab01["checklist_total"])
    assert counts["en"] == counts["pt"] and counts["en"][0] > 0, counts
