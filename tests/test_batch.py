"""`attn-grade grade`: a class of mixed submissions, one row each, resumable, regrades."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from attn_grade import batch
from attn_grade import gradebook as gb
from attn_grade.cli import app
from batch_fixtures import REFERENCE, notebook, single_file, student_folder, zipped
from typer.testing import CliRunner

FULL = 31.0  # lab01: 25 test points + 6 deliverable points
TESTS_ONLY = 25.0


def run_grade(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "attn_grade", "grade", "lab01", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / gb.CSV_NAME).open(newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """One batch over every kind of submission, graded once for the tests below."""
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    subs.mkdir()
    for kind in ("correct", "missing_scale", "crash", "raises", "syntax_error"):
        student_folder(subs / kind, kind)
    student_folder(subs / "hang_on_import", "hang_on_import")
    student_folder(subs / "memory_hog", "memory_hog")
    single_file(subs / "single_py.py")
    zipped(student_folder(root / "zipped", "correct"), subs / "zipped.zip")
    notebook(subs / "notebook.ipynb")
    (subs / "bad_zip.zip").write_text("this is not a zip")
    (subs / "notes.txt").write_text("a file of no accepted kind")
    (subs / ".DS_Store").write_text("ignored")
    out = root / "results"
    done = run_grade(
        str(subs), "--out", str(out), "--jobs", "2", "--seed", "11", "--time-limit", "2"
    )
    return subs, out, done


def test_mixed_class_gets_one_row_per_student(mixed_class):
    subs, out, done = mixed_class
    assert done.returncode == 0, done.stdout + done.stderr
    table = rows(out)
    expected = {p.stem for p in subs.iterdir() if not p.name.startswith(".")}
    assert set(table) == expected
    assert table["correct"]["score"] == "31" and table["correct"]["status"] == "graded"
    assert table["zipped"]["score"] == "31"
    assert table["correct"]["seed"] == "11"


def test_scores_and_diagnoses_of_wrong_and_broken_code(mixed_class):
    _, out, _ = mixed_class
    table = rows(out)
    wrong = table["missing_scale"]
    assert 0 < float(wrong["score"]) < FULL and "missing-scale" in wrong["diagnoses"]
    assert wrong["softmax_rows"] == "2" and wrong["attention_single"] == "0"
    for student in ("crash", "syntax_error", "memory_hog"):  # softmax broken, attention needs it
        assert float(table[student]["score"]) < 10, student
        assert table[student]["status"] == "graded"
    assert table["raises"]["softmax_rows"] == "2" and table["raises"]["attention_single"] == "0"
    hang = table["hang_on_import"]
    assert hang["status"] == "graded" and "timeout" in hang["note"]
    report = json.loads((out / "students/hang_on_import/report.json").read_text())
    assert {t["status"] for t in report["tests"]} == {"timeout"}


def test_single_file_and_notebook_are_graded_on_their_functions(mixed_class):
    _, out, _ = mixed_class
    table = rows(out)
    assert table["single_py"]["status"] == "graded"
    assert float(table["single_py"]["score"]) >= TESTS_ONLY  # no visualize.py or REPORT.md
    nb = table["notebook"]
    if nb["status"] == "invalid":  # notebook extraction not implemented in this checkout yet
        assert "notebook" in nb["note"]
    else:
        assert float(nb["score"]) >= TESTS_ONLY


def test_malformed_entries_get_an_invalid_row_that_says_why(mixed_class):
    _, out, _ = mixed_class
    table = rows(out)
    assert table["bad_zip"]["status"] == "invalid" and "zip" in table["bad_zip"]["note"]
    assert table["bad_zip"]["score"] == "0"
    assert table["notes"]["status"] == "invalid" and ".zip" in table["notes"]["note"]


def test_feedback_files_and_reports(mixed_class):
    _, out, done = mixed_class
    folder = out / "students" / "missing_scale"
    report = json.loads((folder / "report.json").read_text())
    for key in ("lab", "score", "max_score", "tests", "deliverables", "seed", "hidden_tests_ran"):
        assert key in report  # the `check --json` schema
    assert report["student"] == "missing_scale" and report["status"] == "graded"
    assert report["hidden_tests_ran"] and report["seed"] == 11
    feedback = (folder / "feedback.txt").read_text()
    assert "attention_single" in feedback and "sqrt" in feedback
    assert (folder / "attn_grade_heatmap.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(out.rglob("*.part*")), "a temporary file was left behind"
    summary = json.loads((out / gb.SUMMARY_NAME).read_text())
    assert summary["students"] == len(rows(out))
    assert dict(summary["diagnoses"])["missing-scale"] >= 1
    assert "score distribution" in done.stdout and "missing-scale" in done.stdout


def test_grading_leaves_the_submissions_untouched(mixed_class):
    subs, _, _ = mixed_class
    assert not (subs / "correct" / "attention_heatmap.png").exists()


def small_class(subs: Path, n: int) -> Path:
    subs.mkdir()
    for i in range(n):
        student_folder(subs / f"s{i:02d}", "correct" if i % 2 else "missing_scale")
    return subs


def test_killed_batch_resumes_to_the_same_gradebook(tmp_path):
    subs = small_class(tmp_path / "subs", 8)
    whole = tmp_path / "whole"
    assert run_grade(str(subs), "--out", str(whole), "--seed", "5", "-j", "2").returncode == 0

    out = tmp_path / "interrupted"
    command = [sys.executable, "-m", "attn_grade", "grade", "lab01", str(subs)]
    command += ["--out", str(out), "--seed", "5", "-j", "2"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while len(list(out.glob("students/*/report.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the hardest stop: no cleanup at all
    process.wait()
    finished = list(out.glob("students/*/report.json"))
    assert 2 <= len(finished) < 8, "kill came too late to test a resume"
    for path in finished:
        json.loads(path.read_text())  # written atomically: never half a report
    before = {p: p.stat().st_mtime_ns for p in finished}

    resumed = run_grade(str(subs), "--out", str(out), "--seed", "5", "-j", "2", "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming: {len(finished)} already graded" in resumed.stdout
    assert all(p.stat().st_mtime_ns == t for p, t in before.items()), "a finished one was regraded"
    assert (out / gb.CSV_NAME).read_text() == (whole / gb.CSV_NAME).read_text()


def test_regrade_reuses_seeds_and_says_which_scores_changed(tmp_path):
    subs = small_class(tmp_path / "subs", 2)  # s00 wrong, s01 correct
    out = tmp_path / "out"
    assert run_grade(str(subs), "--out", str(out), "--no-png").returncode == 0
    assert not list(out.rglob("*.png")) and (out / "students/s00/feedback.txt").is_file()
    seeds = {s: r["seed"] for s, r in rows(out).items()}
    shutil.copy2(REFERENCE / "attention.py", subs / "s00" / "attention.py")  # s00 fixes the bug
    regrade = run_grade(str(subs), "--out", str(out))
    assert regrade.returncode == 0
    assert {s: r["seed"] for s, r in rows(out).items()} == seeds
    changes = json.loads((out / gb.SUMMARY_NAME).read_text())["changes"]
    assert [c["student"] for c in changes] == ["s00"] and changes[0]["after"] == FULL
    assert "scores changed" in regrade.stdout

    resumed = run_grade(str(subs), "--out", str(out), "--resume")
    assert "resuming: 2 already graded, 0 to go" in resumed.stdout


def test_a_grader_crash_is_a_grader_error_row_not_a_zero(tmp_path):
    subs = small_class(tmp_path / "subs", 2)
    broken = tmp_path / "solutions"
    shutil.copytree(REFERENCE, broken)
    (broken / "known_mistakes.py").write_text("# the variants are gone\n")
    out = tmp_path / "out"
    done = run_grade(str(subs), "--out", str(out), "--solutions", str(broken))
    assert done.returncode == 1, done.stdout + done.stderr
    for row in rows(out).values():
        assert row["status"] == "grader-error" and row["score"] == ""
        assert row["softmax_rows"] == "" and "grader error" in row["note"]
    assert (out / "students" / "s00" / "grader-error.txt").read_text().startswith("Traceback")

    resumed = run_grade(str(subs), "--out", str(out), "--resume")  # the right reference now
    assert "resuming" not in resumed.stdout  # grader errors are retried
    assert {r["status"] for r in rows(out).values()} == {"graded"}


def test_a_stuck_worker_is_replaced_and_the_batch_goes_on(tmp_path):
    subs = small_class(tmp_path / "subs", 2)
    config = batch.BatchConfig("lab01", REFERENCE, tmp_path / "out")
    plan = batch.plan(config, batch.discover(subs), resume=False, seed=1)
    reports = batch.run_batch(config, plan.tasks, jobs=1, budget=0.05)
    assert [r["status"] for r in reports] == ["grader-error", "grader-error"]
    assert "longer than" in reports[0]["error"]
    assert gb.read_report(config.out, "s01")["status"] == "grader-error"


def test_discover_names_students_and_keeps_same_stems_apart(tmp_path):
    for name in ("alice.py", "alice.zip", "bob", "carol.ipynb", "__MACOSX", ".hidden"):
        path = tmp_path / name
        path.mkdir() if "." not in name or name == ".hidden" else path.write_text("")
    students = [e.student for e in batch.discover(tmp_path)]
    assert students == ["alice.py", "alice.zip", "bob", "carol"]


def test_missing_reference_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setattr("attn_grade.reference.KIT_ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ATTN_GRADE_SOLUTIONS", raising=False)
    (tmp_path / "subs").mkdir()
    done = CliRunner().invoke(app, ["grade", "lab01", str(tmp_path / "subs"), "-o", "out"])
    assert done.exit_code == 2
    assert "--solutions" in done.output


def test_out_inside_submissions_is_refused(tmp_path):
    (tmp_path / "subs").mkdir()
    done = CliRunner().invoke(
        app, ["grade", "lab01", str(tmp_path / "subs"), "-o", str(tmp_path / "subs" / "out")]
    )
    assert done.exit_code == 2 and "inside" in done.output


def test_grade_in_portuguese_says_its_summary_bar_and_notes_in_portuguese(tmp_path):
    """`grade --lang pt`: the progress bar, the summary (how many got full marks, worded
    so that it cannot read as 'the best score was 0') and the gradebook's note."""
    subs = tmp_path / "submissions"
    student_folder(subs / "ana", "correct")
    student_folder(subs / "bruno", "missing_scale")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATTN_GRADE_", "LC_"))}
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "grade", "lab01", str(subs), "--out",
         str(tmp_path / "out"), "--jobs", "1", "--seed", "3", "--lang", "pt", "--no-png"],
        capture_output=True, text=True, timeout=600,
        env={**env, "COLUMNS": "200", "NO_COLOR": "1", "LANG": "C.UTF-8"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "corrigindo lab01" in done.stderr and "grading lab01" not in done.stderr
    assert "1 com nota máxima" in done.stdout, done.stdout
    assert "nota máxima 1" not in done.stdout
    note = rows(tmp_path / "out")["bruno"]["note"]
    assert note.startswith("falhou: ") and "failed" not in note, note
    english = subprocess.run(
        [sys.executable, "-m", "attn_grade", "grade", "lab01", str(subs), "--out",
         str(tmp_path / "out-en"), "--jobs", "1", "--seed", "3", "--no-png"],
        capture_output=True, text=True, timeout=600,
        env={**env, "COLUMNS": "200", "NO_COLOR": "1", "LANG": "C.UTF-8"},
    )
    assert "1 with full marks" in english.stdout, english.stdout
    assert rows(tmp_path / "out-en")["bruno"]["note"].startswith("failed: ")
