"""Progress in the terminal: one row per lab, then what to do next."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from attn_grade.progress import DONE, IN_PROGRESS, NOT_STARTED, LabProgress, Progress
from attn_grade.report.plain import one_line
from attn_grade.translation import N_, gettext_for

STATUS_STYLE = {DONE: "green", NOT_STARTED: "dim"}
STATUS_WORD = {DONE: N_("done"), IN_PROGRESS: N_("in progress"), NOT_STARTED: N_("not started")}


def print_progress(progress: Progress, console: Console, lang: str = "en") -> None:
    _ = gettext_for(lang)
    # readable at 80 columns: each lab's status under its name, the score's details
    # under it, numbers alone in their columns (headers may wrap, numbers never do), and
    # the readings still to do listed below the table for the next lab only
    table = Table(
        title=_("Your progress in {folder}").format(folder=_shown(progress.work_folder)),
        title_justify="left",
        expand=True,
    )
    table.add_column(_("lab"), no_wrap=True)
    table.add_column(_("last score"), ratio=1, min_width=14)
    for header in (_("tests"), _("deliverables"), _("checklist"), _("readings")):
        table.add_column(header, justify="right", max_width=12)  # a long header wraps
    for lab in progress.labs:
        name = Text(lab.lab + "\n", style="bold")
        name.append(_(STATUS_WORD.get(lab.status, lab.status)),
                    style=STATUS_STYLE.get(lab.status, "yellow"))
        table.add_row(
            name,
            _score(lab, _),
            _fraction(lab.tests_passed, lab.tests_total),
            _fraction(lab.deliverables_done if lab.checked_at else None, lab.deliverables_total),
            _fraction(lab.checklist_done, lab.checklist_total) if lab.checklist_total else "-",
            _fraction(len(lab.readings_ticked), len(lab.readings_cited)),
        )
    console.print(table)
    unread = _unread(progress.next_lab, _)
    if unread:
        console.print(unread)
    console.print(
        "[dim]"
        + _(
            "Scores are from your last [bold]attn-grade check[/] of each lab (saved in "
            "LAB/.attn-grade/last-report.json); nothing was re-run. Checklist: your ticks in "
            "each CHECKLIST.md as it is now, plus the items that check verified."
        )
        + "[/]"
    )
    console.print(_next_step(progress, _))


def _score(lab: LabProgress, _=str) -> Text:
    if lab.checked_at is None:
        return Text(_("never checked"), style="dim")
    text = Text(f"{lab.score:g} / {lab.max_score:g}", style="bold")
    scope = _("public + hidden tests") if lab.hidden_tests_ran else _("public tests")
    text.append(f"\n{_ago(lab.checked_at, _)}, {scope}", style="dim")
    if lab.stale:
        text.append("\n" + _("files changed since: check again"), style="yellow")
    return text


def _fraction(done: int | None, total: int | None) -> str:
    return "-" if done is None or not total else f"{done}/{total}"


def _unread(lab: LabProgress | None, _=str) -> Text | None:
    """'lab01, still to read: a, b' (the readings its handout cites, not ticked)."""
    unread = [r for r in lab.readings_cited if r not in lab.readings_ticked] if lab else []
    if not unread:
        return None
    return Text(_("{lab}, still to read: {ids}").format(lab=lab.lab, ids=", ".join(unread)))


def _ago(saved_at: float, _=str) -> str:
    seconds = max(0, time.time() - saved_at)
    if seconds >= 86400:
        n = int(seconds // 86400)
        return (_("{n} day ago") if n == 1 else _("{n} days ago")).format(n=n)
    for template, size in ((N_("{n} h ago"), 3600), (N_("{n} min ago"), 60)):
        if seconds >= size:
            return _(template).format(n=int(seconds // size))
    return _("just now")


def _next_step(progress: Progress, _=str) -> str:
    lab = progress.next_lab
    if lab is None:
        return _(
            "[green]Every lab is done.[/] Going further: [bold]attn-grade reading[/] (the 'To go "
            "further' parts)."
        )
    command = f"attn-grade check {lab.lab}"
    if Path(lab.folder) != Path("exercises") / lab.lab:
        command += f" --path {_shown(lab.folder)}"
    values = {"lab": lab.lab, "folder": _shown(lab.folder), "command": command}
    if lab.stale:
        return _("Next: [bold]{command}[/] again: {folder} changed after your last check.").format(
            **values
        )
    if lab.status == NOT_STARTED:
        return _(
            "Next: {lab}, {title}. Read first: [bold]attn-grade reading {lab}[/]; then work in "
            "{folder} and run [bold]{command}[/]."
        ).format(**values, title=_shown(lab.title))
    return _("Next: keep going on {lab} in {folder}, and run [bold]{command}[/].").format(**values)


def _shown(path: str) -> str:
    """A folder name in Rich markup: one plain line, brackets escaped."""
    return escape(one_line(path))
