"""Progress in the terminal: one row per lab, then what to do next."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from attn_grade.progress import DONE, NOT_STARTED, LabProgress, Progress
from attn_grade.report.plain import one_line

STATUS_STYLE = {DONE: "green", NOT_STARTED: "dim"}


def print_progress(progress: Progress, console: Console) -> None:
    table = Table(
        title=f"Your progress in {_shown(progress.work_folder)}", title_justify="left", expand=True
    )
    table.add_column("lab", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("last score", ratio=2)
    table.add_column("tests", justify="right", no_wrap=True)
    table.add_column("deliverables", justify="right", no_wrap=True)
    table.add_column("checklist", justify="right", no_wrap=True)
    table.add_column("readings", ratio=2, overflow="fold")
    for lab in progress.labs:
        table.add_row(
            Text(lab.lab, style="bold"),
            Text(lab.status, style=STATUS_STYLE.get(lab.status, "yellow")),
            _score(lab),
            _fraction(lab.tests_passed, lab.tests_total),
            _fraction(lab.deliverables_done if lab.checked_at else None, lab.deliverables_total),
            _fraction(lab.checklist_done, lab.checklist_total) if lab.checklist_total else "-",
            _readings(lab),
        )
    console.print(table)
    console.print(
        "[dim]Scores are from your last [bold]attn-grade check[/] of each lab (saved in "
        "LAB/.attn-grade/last-report.json); nothing was re-run. Checklist: your ticks in "
        "each CHECKLIST.md as it is now, plus the items that check verified.[/]"
    )
    console.print(_next_step(progress))


def _score(lab: LabProgress) -> Text:
    if lab.checked_at is None:
        return Text("never checked", style="dim")
    text = Text(f"{lab.score:g} / {lab.max_score:g}", style="bold")
    scope = "public + hidden tests" if lab.hidden_tests_ran else "public tests"
    text.append(f"\n{_ago(lab.checked_at)}, {scope}", style="dim")
    if lab.stale:
        text.append("\nfiles changed since: check again", style="yellow")
    return text


def _fraction(done: int | None, total: int | None) -> str:
    return "-" if done is None or not total else f"{done}/{total}"


def _readings(lab: LabProgress) -> Text:
    if not lab.readings_cited:
        return Text("-", style="dim")
    text = Text(f"{len(lab.readings_ticked)}/{len(lab.readings_cited)} ticked")
    unread = [r for r in lab.readings_cited if r not in lab.readings_ticked]
    if unread:
        text.append("\nto read: " + ", ".join(unread), style="dim")
    return text


def _ago(saved_at: float) -> str:
    seconds = max(0, time.time() - saved_at)
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return "just now"


def _next_step(progress: Progress) -> str:
    lab = progress.next_lab
    if lab is None:
        return "[green]Every lab is done.[/] Going further: [bold]attn-grade reading[/] (the 'To go further' parts)."
    command = f"attn-grade check {lab.lab}"
    if Path(lab.folder) != Path("exercises") / lab.lab:
        command += f" --path {_shown(lab.folder)}"
    if lab.stale:
        return (
            f"Next: [bold]{command}[/] again: {_shown(lab.folder)} changed after your last check."
        )
    if lab.status == NOT_STARTED:
        return (
            f"Next: {lab.lab}, {_shown(lab.title)}. Read first: [bold]attn-grade reading "
            f"{lab.lab}[/]; then work in {_shown(lab.folder)} and run [bold]{command}[/]."
        )
    return f"Next: keep going on {lab.lab} in {_shown(lab.folder)}, and run [bold]{command}[/]."


def _shown(path: str) -> str:
    """A folder name in Rich markup: one plain line, brackets escaped."""
    return escape(one_line(path))
