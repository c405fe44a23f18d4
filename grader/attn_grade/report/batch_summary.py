"""The end of a batch on the terminal: what the class got, and what it got wrong."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from attn_grade.report.plain import plain_text

BAR_WIDTH = 30
STATUS_STYLE = {"graded": "green", "invalid": "yellow", "grader-error": "bold red"}


def print_summary(summary: dict[str, Any], console: Console, top: int = 8) -> None:
    console.print(_status_line(summary))
    console.print(_distribution(summary))
    if summary["diagnoses"]:
        console.print(_counted("most common mistakes (diagnosis id)", summary["diagnoses"][:top]))
    if summary["failing_tests"]:
        console.print(_counted("tests failed most often", summary["failing_tests"][:top]))
    if summary["changes"]:
        console.print(_changes(summary["changes"]))
    if summary.get("not_in_submissions"):
        names = ", ".join(summary["not_in_submissions"])
        console.print(
            plain_text(
                f"not counted: results of {len(summary['not_in_submissions'])} students who are "
                f"no longer in the submissions folder ({names}), left in place"
            )
        )


def _status_line(summary: dict[str, Any]) -> str:
    parts = [
        f"[{STATUS_STYLE.get(status, '')}]{n} {status}[/]"
        for status, n in sorted(summary["statuses"].items())
    ]
    line = f"[bold]{summary['students']} students[/]: " + ", ".join(parts)
    if summary["students_with_timeouts"]:
        line += f"; {summary['students_with_timeouts']} hit a time limit"
    if summary["mean_percent"] is not None:
        of = " (of the graded)" if len(summary["statuses"]) > 1 else ""
        line += (
            f"; mean {summary['mean_percent']:g}%, median {summary['median_percent']:g}%,"
            f" full marks {summary['full_marks']}{of}"
        )
    return line


def _distribution(summary: dict[str, Any]) -> Table:
    table = Table(title="score distribution", title_justify="left", show_edge=False)
    table.add_column("score", justify="right")
    table.add_column("students", justify="right")
    table.add_column("", no_wrap=True)
    bins = summary["percent_bins"]
    largest = max(bins) or 1
    for n, count in enumerate(bins):
        label = f"{10 * n}-{10 * n + 9}%" if n < 9 else "90-100%"
        table.add_row(label, str(count), "█" * round(BAR_WIDTH * count / largest))
    return table


def _counted(title: str, rows: list[tuple[str, int]]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("id")
    table.add_column("students", justify="right")
    for name, count in rows:
        table.add_row(plain_text(name), str(count))
    return table


def _changes(changes: list[dict[str, Any]]) -> Table:
    table = Table(title="scores changed since the last run", title_justify="left", show_edge=False)
    for column in ("student", "before", "after"):
        table.add_column(column, justify="left" if column == "student" else "right")
    for change in changes:
        table.add_row(
            plain_text(change["student"]), _score(change["before"]), _score(change["after"])
        )
    return table


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
