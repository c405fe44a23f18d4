"""The reading list in the terminal: one Rich table per lab, stage by stage, with links."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from attn_grade.reading import STAGES, LabReadings, Reading, format_minutes, total_minutes

KIND_STYLE = {"paper": "magenta", "video": "red", "visualizer": "cyan", "code": "green"}


def print_reading(groups: list[LabReadings], console: Console, filters: str = "") -> None:
    shown = [g for g in groups if g.stages]
    if not shown:
        console.print(f"No readings match{filters}.")
        return
    for group in shown:
        console.print(_lab_table(group, filters))
    console.print(
        "[dim]Titles are links where your terminal supports them; the address is under each. "
        "Tick what you read in your lab's CHECKLIST.md, then run [bold]attn-grade progress[/].[/]"
    )


def _lab_table(group: LabReadings, filters: str) -> Table:
    caption = None
    if group.spec is not None:
        needs = ", ".join(group.spec.prerequisites) or "nothing"
        caption = (
            f"{group.spec.level}, about {format_minutes(group.spec.minutes)} of lab work, "
            f"needs {needs}"
        )
    table = Table(
        title=f"[bold]{escape(group.heading)}[/]{escape(filters)}",
        title_justify="left",
        caption=caption,
        caption_justify="left",
        expand=True,
        show_lines=True,
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("resource", ratio=3, overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("why", ratio=2)
    number = 0
    for stage, readings in group.stages:
        total = format_minutes(total_minutes(readings))
        table.add_row(
            "", Text(f"{STAGES[stage]} (about {total})", style="bold yellow"), end_section=False
        )
        for reading in readings:
            number += 1
            table.add_row(
                str(number),
                _resource(reading),
                _kind(reading),
                format_minutes(reading.minutes),
                reading.why,
            )
    return table


def _resource(r: Reading) -> Text:
    text = Text()
    text.append(r.title, style=f"bold link {r.url}")
    if r.language == "pt":
        text.append("  [em português]", style="bold green")
    year = f", {r.year}" if r.year else ""
    text.append(f"\n{r.author}{year}", style="dim")
    text.append(f"\n{r.url}", style=f"blue link {r.url}")
    text.append(f"\nid: {r.id}", style="dim")
    return text


def _kind(r: Reading) -> Text:
    return Text(f"{r.kind}\n{r.level}", style=KIND_STYLE.get(r.kind, ""))
