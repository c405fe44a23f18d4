"""The results folder of a batch: per-student reports and feedback, the CSV gradebook, the summary.

Layout of RESULTS_DIR (every file is written atomically: a temporary file, then a rename):

    gradebook.csv                 student, score, max, status, points per test and deliverable, ...
    summary.json                  score distribution, statuses, common diagnoses, score changes
    students/<id>/report.json     the `check --json` schema plus the batch fields below
    students/<id>/feedback.txt    the text report a student can read
    students/<id>/attn_grade_heatmap.png   their attention weights beside the reference's

report.json is written last, so its presence means "this student is done" (see --resume).
Batch fields: student, status (graded | invalid | grader-error), error, fingerprint (sha256 of
the submission, to notice a resubmission), seconds (in the worker).
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from attn_grade.labspec import LabSpec
from attn_grade.report.plain import csv_cell
from attn_grade.safe_files import make_folders, write_file
from attn_grade.translation import N_, gettext_for

GRADED, INVALID, GRADER_ERROR = "graded", "invalid", "grader-error"
STUDENTS_DIR = "students"
REPORT_NAME = "report.json"
FEEDBACK_NAME = "feedback.txt"
CSV_NAME = "gradebook.csv"
SUMMARY_NAME = "summary.json"


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write `data` to `path` so that a reader (or a resumed batch) sees all of it or nothing.

    Results are the instructor's: mode 0600 in folders of mode 0700 (whatever the umask),
    so that no student process (another uid, when grading as root) can read them. The file
    is a new one renamed into place: a link at `path` is replaced, never followed, and
    its folder must not be a link either.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    missing, folder = [], path.parent
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)  # parents too: Path.mkdir(parents=True) would use the umask
        except FileExistsError:
            pass
    write_file(path.parent, path.name, payload, mode=0o600, durable=True)
    return path


def student_dir(out: Path, student: str) -> Path:
    return out / STUDENTS_DIR / student


def make_student_dir(out: Path, student: str) -> Path:
    """out/students/<student>, made folder by folder (0700, on older folders too), none of
    them a link: the results tree is the grader's alone."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(make_folders(out, Path(STUDENTS_DIR) / student, 0o700, enforce_mode=True))
    return student_dir(out, student)


def write_report(out: Path, report: dict[str, Any]) -> Path:
    text = json.dumps(report, ensure_ascii=False, allow_nan=False, default=str, indent=1)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a path with bytes that are not UTF-8: \udcxx escapes
        text = json.dumps(report, ensure_ascii=True, allow_nan=False, default=str, indent=1)
    return write_atomic(student_dir(out, report["student"]) / REPORT_NAME, text + "\n")


def read_report(out: Path, student: str) -> dict[str, Any] | None:
    """A student's finished report, or None (not graded yet, or unreadable)."""
    try:
        report = json.loads((student_dir(out, student) / REPORT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and report.get("student") == student else None


def error_report(
    lab: LabSpec, student: str, submission: str, status: str, error: str, seed: int | None
) -> dict[str, Any]:
    """A report for a submission that could not be graded: the same keys as a graded one.

    An invalid submission scores 0 (it is the student's to fix); a grader error has no
    score at all, so it never reads as the student's zero.
    """
    max_score = lab.max_test_points + sum(d.points for d in lab.deliverables)
    return {
        "lab": lab.id,
        "score": 0.0 if status == INVALID else None,
        "max_score": max_score,
        "tests": [],
        "deliverables": [],
        "checklist": [],
        "hidden_tests_ran": False,
        "seed": seed,
        "public_passed": 0,
        "public_total": len(lab.tests_with("public")),
        "submission": submission,
        "heatmap_png": None,
        "student_output": "",
        "student": student,
        "status": status,
        "error": error,
    }


# -- the CSV gradebook ---------------------------------------------------------------


def gradebook_columns(lab: LabSpec) -> list[str]:
    return (
        ["student", "score", "max", "status"]
        + [t.name for t in lab.tests]
        + [d.id for d in lab.deliverables]
        + ["seed", "diagnoses", "note"]
    )


def gradebook_row(lab: LabSpec, report: dict[str, Any], lang: str = "en") -> list[str]:
    status = report.get("status", GRADED)
    points = {t["name"]: t["points"] for t in report.get("tests", [])}
    points.update({d["id"]: d["points"] for d in report.get("deliverables", [])})
    blank = "" if status == GRADER_ERROR else "0"
    cells = [_number(points[name]) if name in points else blank for name in _item_names(lab)]
    # text cells may hold a student's words (id, error): one line, never a formula
    return (
        [csv_cell(report["student"]), _number(report.get("score"))]
        + [_number(report["max_score"]), csv_cell(status)]
        + cells
        + [
            _number(report.get("seed")),
            csv_cell(" ".join(diagnoses(report))),
            csv_cell(note(report, lang)),
        ]
    )


def render_gradebook(lab: LabSpec, reports: list[dict[str, Any]], lang: str = "en") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(gradebook_columns(lab))
    for report in sorted(reports, key=lambda r: r["student"]):
        writer.writerow(gradebook_row(lab, report, lang))
    return buffer.getvalue()


def write_gradebook(
    out: Path, lab: LabSpec, reports: list[dict[str, Any]], lang: str = "en"
) -> Path:
    """gradebook.csv: its columns are ids (students, tests, statuses); its note is in `lang`."""
    return write_atomic(out / CSV_NAME, render_gradebook(lab, reports, lang))


def _item_names(lab: LabSpec) -> list[str]:
    return [t.name for t in lab.tests] + [d.id for d in lab.deliverables]


def _number(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def diagnoses(report: dict[str, Any]) -> list[str]:
    """The known mistakes named in a report, once each, in test order."""
    found = [t["diagnosis"] for t in report.get("tests", []) if t.get("diagnosis")]
    return list(dict.fromkeys(found))


# a test's status as the note says it (the statuses themselves are ids)
NOTE_STATUS = {"failed": N_("failed"), "error": N_("error"), "timeout": N_("timeout"),
               "not-run": N_("not-run")}


def note(report: dict[str, Any], lang: str = "en") -> str:
    """One line on what went wrong, for the gradebook: the error, or the failing tests by
    status ('failed: 2, timeout: 1'; in `lang`)."""
    if report.get("error"):
        return str(report["error"]).splitlines()[0][:200]
    _ = gettext_for(lang)
    counts = Counter(t["status"] for t in report.get("tests", []) if t["status"] != "passed")
    return ", ".join(
        f"{_(NOTE_STATUS.get(status, status))}: {n}" for status, n in sorted(counts.items())
    )


# -- the class summary ---------------------------------------------------------------


def summarize(
    reports: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    not_in_submissions: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """What the class got: statuses, score distribution, common mistakes, failing tests.

    The score statistics are over graded submissions only: an `invalid` entry (a stray
    README.txt, an empty folder, a broken zip) has its row in the gradebook, with its
    reason, but is not a score of the class. `not_in_submissions`: students with results
    in the folder but no entry any more (see stale_students), reported, never counted.
    """
    graded = [
        r for r in reports if r.get("status", GRADED) == GRADED and r.get("score") is not None
    ]
    percents = [100.0 * r["score"] / r["max_score"] for r in graded if r["max_score"]]
    bins = [0] * 10  # 0-9%, 10-19%, ..., 90-100%
    for p in percents:
        bins[min(int(p // 10), 9)] += 1
    mistakes: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    for r in reports:
        mistakes.update(diagnoses(r))
        failing.update({t["name"] for t in r.get("tests", []) if t["status"] != "passed"})
        problems.update({t["status"] for t in r.get("tests", []) if t["status"] != "passed"})
    return {
        "students": len(reports),
        "statuses": dict(Counter(r.get("status", GRADED) for r in reports)),
        "students_with_timeouts": sum(
            1 for r in reports if any(t["status"] == "timeout" for t in r.get("tests", []))
        ),
        "mean_percent": round(statistics.fmean(percents), 1) if percents else None,
        "median_percent": round(statistics.median(percents), 1) if percents else None,
        "full_marks": sum(1 for r in graded if r["score"] >= r["max_score"]),
        "percent_bins": bins,
        "diagnoses": mistakes.most_common(),
        "failing_tests": failing.most_common(),
        "test_problems": dict(problems),
        "changes": changes,
        "not_in_submissions": sorted(not_in_submissions),
    }


def stale_students(out: Path, current: set[str]) -> list[str]:
    """Students with a results folder in `out` but no entry in this run (removed since)."""
    try:
        folders = [p.name for p in (out / STUDENTS_DIR).iterdir() if p.is_dir()]
    except OSError:
        return []
    return sorted(set(folders) - current)


def score_changes(
    previous: dict[str, float | None], reports: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Students whose score differs from the previous run in the same folder."""
    changes = []
    for r in sorted(reports, key=lambda r: r["student"]):
        if r["student"] in previous and previous[r["student"]] != r.get("score"):
            changes.append(
                {"student": r["student"], "before": previous[r["student"]], "after": r.get("score")}
            )
    return changes


def write_summary(out: Path, summary: dict[str, Any]) -> Path:
    return write_atomic(out / SUMMARY_NAME, json.dumps(summary, indent=1) + "\n")
