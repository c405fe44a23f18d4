"""The end of a batch on the terminal: what the class got, and what it got wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from attn_grade.report.plain import plain_text
from attn_grade.translation import N_, gettext_for

BAR_WIDTH = 30
STATUS_STYLE = {"graded": "green", "invalid": "yellow", "grader-error": "bold red"}
# the gradebook's statuses (ids, as in gradebook.csv) as the summary says them
STATUS_SHOWN = {"graded": N_("graded"), "invalid": N_("invalid"), "grader-error": N_("grader-error")}


def print_summary(summary: dict[str, Any], console: Console, top: int = 8, lang: str = "en") -> None:
    _ = gettext_for(lang)
    console.print(_status_line(summary, _))
    console.print(_distribution(summary, _))
    if summary["diagnoses"]:
        title = _("most common mistakes (diagnosis id)")
        console.print(_counted(title, summary["diagnoses"][:top], _))
    if summary["failing_tests"]:
        console.print(_counted(_("tests failed most often"), summary["failing_tests"][:top], _))
    if summary["changes"]:
        console.print(_changes(summary["changes"], _))
    if summary.get("not_in_submissions"):
        names = ", ".join(summary["not_in_submissions"])
        console.print(
            plain_text(
                _(
                    "not counted: results of {n} students who are no longer in the "
                    "submissions folder ({names}), left in place"
                ).format(n=len(summary["not_in_submissions"]), names=names)
            )
        )


def status_count(n: int, status: str, _: Callable[[str], str] = str) -> str:
    """'3 graded': how many submissions have a gradebook status, in the summary's words."""
    return _("{n} {status}").format(n=n, status=_(STATUS_SHOWN.get(status, status)))


def _status_line(summary: dict[str, Any], _: Callable[[str], str] = str) -> str:
    parts = [
        f"[{STATUS_STYLE.get(status, '')}]{status_count(n, status, _)}[/]"
        for status, n in sorted(summary["statuses"].items())
    ]
    students = _("{n} students").format(n=summary["students"])
    line = f"[bold]{students}[/]: " + ", ".join(parts)
    if summary["students_with_timeouts"]:
        line += "; " + _("{n} hit a time limit").format(n=summary["students_with_timeouts"])
    if summary["mean_percent"] is not None:
        of = " " + _("(of the graded)") if len(summary["statuses"]) > 1 else ""
        line += "; " + _(
            "mean {mean:g}%, median {median:g}%, {full} with full marks{of}"
        ).format(mean=summary["mean_percent"], median=summary["median_percent"],
                 full=summary["full_marks"], of=of)
    return line


def _distribution(summary: dict[str, Any], _: Callable[[str], str] = str) -> Table:
    table = Table(title=_("score distribution"), title_justify="left", show_edge=False)
    table.add_column(_("score"), justify="right")
    table.add_column(_("students"), justify="right")
    table.add_column("", no_wrap=True)
    bins = summary["percent_bins"]
    largest = max(bins) or 1
    for n, count in enumerate(bins):
        label = f"{10 * n}-{10 * n + 9}%" if n < 9 else "90-100%"
        table.add_row(label, str(count), "█" * round(BAR_WIDTH * count / largest))
    return table


def _counted(title: str, rows: list[tuple[str, int]], _: Callable[[str], str] = str) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("id")
    table.add_column(_("students"), justify="right")
    for name, count in rows:
        table.add_row(plain_text(name), str(count))
    return table


def _changes(changes: list[dict[str, Any]], _: Callable[[str], str] = str) -> Table:
    table = Table(
        title=_("scores changed since the last run"), title_justify="left", show_edge=False
    )
    table.add_column(_("student"), justify="left")
    table.add_column(_("before"), justify="right")
    table.add_column(_("after"), justify="right")
    for change in changes:
        table.add_row(
            plain_text(change["student"]), _score(change["before"]), _score(change["after"])
        )
    return table


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
