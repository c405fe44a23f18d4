"""The terminal report: tests, hints, deliverables, checklist and a heatmap, with Rich."""

from __future__ import annotations

import numpy as np
from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from attn_grade.report.heatmap_png import as_heads
from attn_grade.report.plain import plain_text
from attn_grade.result import ExampleWeights, LabResult
from attn_grade.translation import N_, gettext_for

STATUS_STYLE = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "timeout": "magenta",
    "not-run": "magenta",
    "done": "green",
    "missing": "yellow",
    "incomplete": "yellow",
    "verified": "green",
    "not-verified": "red",
    "self-reported": "cyan",
    "open": "dim",
}
STATUS_LABEL = {
    "passed": N_("PASS"),
    "failed": N_("FAIL"),
    "error": N_("ERROR"),
    "timeout": N_("TIMEOUT"),
    "not-run": N_("NOT RUN"),
}
# deliverable and checklist statuses, as the report shows them
STATUS_WORD = {
    "done": N_("done"),
    "missing": N_("missing"),
    "incomplete": N_("incomplete"),
    "failed": N_("failed"),
    "verified": N_("verified"),
    "not-verified": N_("not-verified"),
    "self-reported": N_("self-reported"),
    "open": N_("open"),
}


def print_report(result: LabResult, console: Console) -> None:
    _ = gettext_for(result.lang)
    header = Text.assemble((f"attn-grade {result.lab}", "bold"), f": {result.title}  ")
    header.append_text(plain_text(f"({result.submission})", "dim"))
    console.print(header)
    console.print(_tests_table(result))
    console.print(_summary(result))
    if result.deliverables:
        console.print(_deliverables_table(result))
    if result.checklist:
        console.print(_checklist_table(result))
    if result.example is not None:
        console.print(text_heatmap(result.example, result.lang))
    if result.heatmap_png:
        console.print(
            Text(_("Heatmap PNG (yours, the reference's, the difference): "))
            + plain_text(result.heatmap_png)
        )
    if result.student_output.strip():
        more = "\n" + _("[... truncated]") if result.student_output_truncated else ""
        console.print(
            Panel(
                plain_text(result.student_output.rstrip() + more),
                title=_("your code printed"),
                border_style="dim",
            )
        )


def _tests_table(result: LabResult) -> Group:
    """One line per test (status, points, name, what it checks); the feedback of a test
    that did not pass goes under its line, as wide as the screen, not in a narrow column.
    A hint, or a message, shared by several tests is shown once, with the tests it
    applies to."""
    width = max((len(t.name) + (9 if t.visibility == "hidden" else 0) for t in result.tests),
                default=4)
    _ = gettext_for(result.lang)
    lines: list = [Text(_("Tests"), style="italic")]
    hinted: dict[str, str] = {}  # diagnosis -> the test whose feedback shows the hint
    said: dict = {}  # a message, or ("line", text), -> the test under which it was shown
    for t in result.tests:
        row = Table.grid(padding=(0, 1))
        row.add_column(width=7, no_wrap=True)
        row.add_column(width=7, no_wrap=True, justify="right")
        row.add_column(width=width, no_wrap=True)
        row.add_column(ratio=1)
        name = Text(t.name)
        if t.visibility == "hidden":
            name.append(" " + _("(hidden)"), style="dim")
        row.add_row(
            Text(_(STATUS_LABEL[t.status]), style=STATUS_STYLE[t.status]),
            f"{t.points:g}/{t.max_points:g}",
            name,
            plain_text(t.description, "dim"),
        )
        lines.append(row)
        if t.status != "passed":
            feedback = _feedback(t, result.tests, hinted, said, _)
            lines.append(Padding(feedback, (0, 0, 0, FEEDBACK_INDENT)))
    return Group(*lines)


FEEDBACK_INDENT = 8


def _feedback(t, tests, hinted: dict[str, str], said: dict[str, str], _=str) -> Text:
    """A test's feedback; `said` maps a message, and each further line of one (an
    explanation), to the test under which it was already shown."""
    text = Text()
    if t.inputs and t.status in ("error", "failed", "timeout"):
        text.append_text(plain_text(_("inputs: {inputs}").format(inputs=t.inputs) + "\n", "dim"))
    if t.message in said:  # e.g. "not run: the time budget was spent...", 15 times
        text.append(
            _("(the same message as under {test})").format(test=said[t.message]) + "\n",
            style="dim",
        )
    elif t.message:
        said[t.message] = t.name
        first, *explanations = t.message.split("\n")
        text.append_text(plain_text(first + "\n"))
        for line in explanations:
            if ("line", line) in said:
                text.append(
                    _("(explained under {test})").format(test=said[("line", line)]) + "\n",
                    style="dim",
                )
                continue
            said[("line", line)] = t.name
            text.append_text(plain_text(line + "\n"))
    if t.diagnosis:
        text.append_text(
            plain_text(_("Likely mistake: {mistake}").format(mistake=t.diagnosis), "bold yellow")
        )
        if t.diagnosis in hinted:
            text.append(
                " " + _("(the hint is under {test})").format(test=hinted[t.diagnosis]), style="dim"
            )
        else:
            hinted[t.diagnosis] = t.name
            others = [o.name for o in tests if o.diagnosis == t.diagnosis and o is not t]
            if others:
                text.append(
                    " " + _("(also in {tests})").format(tests=", ".join(others)), style="dim"
                )
            text.append(". ", style="bold yellow")
            text.append_text(plain_text(t.hint or ""))
    text.rstrip()
    return text


def report_width(environ: dict[str, str] | None = None, is_terminal: bool = False) -> int | None:
    """The width to lay the report out at: None lets Rich decide (a terminal, or COLUMNS);
    under Jupyter or Colab (`!attn-grade`, output piped) 120 columns, as the cell is wide."""
    import os

    env = os.environ if environ is None else environ
    if is_terminal or env.get("COLUMNS"):
        return None
    jupyter = ("JPY_PARENT_PID", "JPY_SESSION_NAME", "COLAB_RELEASE_TAG", "COLAB_GPU")
    if any(k in env for k in jupyter) or "ipykernel" in env.get("MPLBACKEND", ""):
        return JUPYTER_WIDTH
    return None


JUPYTER_WIDTH = 120


def _summary(result: LabResult) -> Text:
    _ = gettext_for(result.lang)
    text = Text()
    text.append(
        _("Score: {score:g} / {max_score:g}").format(
            score=result.score, max_score=result.max_score
        ),
        style="bold",
    )
    text.append(
        "   "
        + _("public tests passed: {passed}/{total}").format(
            passed=result.count("public", "passed"), total=result.count("public")
        )
    )
    if result.hidden_tests_ran:
        text.append(
            "   "
            + _("hidden tests passed: {passed}/{total} (seed {seed})").format(
                passed=result.count("hidden", "passed"),
                total=result.count("hidden"),
                seed=result.seed,
            )
        )
    else:
        text.append(
            "\n" + _("Hidden tests are not included here: they run at grading, on fresh inputs."),
            style="dim",
        )
    return text


def _deliverables_table(result: LabResult) -> Table:
    _ = gettext_for(result.lang)
    table = Table(title=_("Deliverables"), title_justify="left", expand=True)
    table.add_column(_("deliverable"), ratio=1, overflow="fold")
    table.add_column(_("points"), justify="right", no_wrap=True)
    table.add_column(_("status"), no_wrap=True)
    table.add_column(_("feedback"), ratio=2, overflow="fold")
    for d in result.deliverables:
        table.add_row(
            d.title,
            f"{d.points:g}/{d.max_points:g}",
            Text(_(STATUS_WORD.get(d.status, d.status)), style=STATUS_STYLE.get(d.status, "white")),
            plain_text(d.message),
        )
    return table


def _checklist_table(result: LabResult) -> Table:
    _ = gettext_for(result.lang)
    title = _("Checklist ({file})").format(file=result.checklist_file)
    table = Table(title=title, title_justify="left", expand=True)
    table.add_column("", no_wrap=True)
    table.add_column(_("item"), ratio=3)
    table.add_column(_("status"), ratio=2, overflow="fold")
    for item in result.checklist:
        mark = "[x]" if item.ticked else "[ ]"
        label = _(STATUS_WORD[item.status])
        if item.checked_by:
            label += f" ({item.checked_by})"
        text = plain_text(item.text)  # the student's CHECKLIST.md
        if item.readings:
            text.append_text(
                plain_text(
                    "  " + _("(reading: {ids})").format(ids=", ".join(item.readings)), "dim"
                )
            )
        table.add_row(Text(mark), text, plain_text(label, STATUS_STYLE[item.status]))
    return table


def text_heatmap(example: ExampleWeights, lang: str = "en") -> Panel:
    """The student's weights as a coloured grid: rows are queries, columns are keys."""
    _ = gettext_for(lang)
    if example.student is None:
        return Panel(
            plain_text(
                _("No heatmap: {reason}").format(
                    reason=example.message or _("your attention did not run on the example")
                )
            ),
            title=_("Your attention weights on the example sentence"),
            border_style="yellow",
        )
    heads = as_heads(example.student)
    weights = heads[0]
    tokens = example.tokens
    table = Table(show_header=True, box=None, padding=(0, 1), pad_edge=False)
    table.add_column(_("query \\ key"), justify="right", no_wrap=True)
    for token in tokens:
        table.add_column(token[:4], justify="right", no_wrap=True, min_width=3)
    for i, token in enumerate(tokens):
        cells = [Text(f"{_pct(w)}", style=_cell_style(w)) for w in weights[i]]
        table.add_row(token, *cells)
    note = _("weights x100; darker = less attention")
    if heads.shape[0] > 1:
        note += "; " + _("head 0 of {heads} (all heads in the PNG)").format(heads=heads.shape[0])
    return Panel(
        Group(table, Text(note, style="dim"), *_not_shown(example)),
        title=_("Your attention weights on the example sentence"),
        expand=False,
    )


def _not_shown(example: ExampleWeights) -> list[Text]:
    return [Text(example.not_shown, style="yellow")] if example.not_shown else []


def _pct(weight: float) -> str:
    if not np.isfinite(weight):
        return "nan"
    return f"{round(100 * float(weight)):>3d}"


def _cell_style(weight: float) -> str:
    if not np.isfinite(weight):
        return "bold white on red"
    level = int(min(max(weight, 0.0), 1.0) * 5 + 0.5)
    background = ["grey11", "grey30", "dark_cyan", "cyan3", "yellow3", "yellow1"][level]
    foreground = "black" if level >= 3 else "white"
    return f"{foreground} on {background}"
