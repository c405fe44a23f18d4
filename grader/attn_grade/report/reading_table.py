"""The reading list in the terminal: one Rich table per lab, stage by stage, with links."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from attn_grade.reading import STAGES, LabReadings, Reading, format_minutes, total_minutes
from attn_grade.translation import gettext_for

KIND_STYLE = {"paper": "magenta", "video": "red", "visualizer": "cyan", "code": "green"}


def print_reading(
    groups: list[LabReadings], console: Console, filters: str = "", lang: str = "en"
) -> None:
    """The tables, with headings and annotations in `lang` (the resources' titles as they are)."""
    _ = gettext_for(lang)
    shown = [g for g in groups if g.stages]
    if not shown:
        console.print(escape(_("No readings match{filters}.").format(filters=filters)))
        return
    for group in shown:
        console.print(_lab_table(group, filters, lang))
    console.print(
        "[dim]"
        + _(
            "Titles are links where your terminal supports them; the address is under each. "
            "Tick what you read in your lab's CHECKLIST.md, then run [bold]attn-grade progress[/]."
        )
        + "[/]"
    )


def _lab_table(group: LabReadings, filters: str, lang: str = "en") -> Table:
    _ = gettext_for(lang)
    caption = None
    if group.spec is not None:
        needs = ", ".join(group.spec.prerequisites) or _("nothing")
        caption = _("{level}, about {time} of lab work, needs {needs}").format(
            level=_(group.spec.level), time=format_minutes(group.spec.minutes), needs=needs
        )
    table = Table(
        title=f"[bold]{escape(group.heading_in(lang))}[/]{escape(filters)}",
        title_justify="left",
        caption=caption,
        caption_justify="left",
        expand=True,
        show_lines=True,
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(_("resource"), ratio=3, overflow="fold")
    table.add_column(_("kind"), no_wrap=True)
    table.add_column(_("time"), justify="right", no_wrap=True)
    table.add_column(_("why"), ratio=2)
    number = 0
    for stage, readings in group.stages:
        total = format_minutes(total_minutes(readings))
        table.add_row(
            "",
            Text(
                _("{stage} (about {time})").format(stage=_(STAGES[stage]), time=total),
                style="bold yellow",
            ),
            end_section=False,
        )
        for reading in readings:
            number += 1
            table.add_row(
                str(number),
                _resource(reading, _),
                _kind(reading, _),
                format_minutes(reading.minutes),
                reading.why_in(lang),
            )
    return table


def _resource(r: Reading, _=str) -> Text:
    text = Text()
    text.append(r.title, style=f"bold link {r.url}")
    if r.language == "pt":
        text.append("  " + _("[em português]"), style="bold green")
    year = f", {r.year}" if r.year else ""
    text.append(f"\n{r.author}{year}", style="dim")
    text.append(f"\n{r.url}", style=f"blue link {r.url}")
    text.append(f"\nid: {r.id}", style="dim")
    return text


def _kind(r: Reading, _=str) -> Text:
    return Text(f"{_(r.kind)}\n{_(r.level)}", style=KIND_STYLE.get(r.kind, ""))
