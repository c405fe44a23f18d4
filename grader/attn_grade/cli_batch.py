"""Instructor commands: `attn-grade grade` (a whole class) and `attn-grade gradescope` (a bundle).

Registered in cli.py; heavy imports happen inside the functions.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from attn_grade.cli_options import (
    folder_target,
    given_path,
    new_file_target,
    positive_seconds,
    solutions_option,
)
from attn_grade.errors import UsageError
from attn_grade.language import checked_language, output_language
from attn_grade.translation import N_, Sentence, gettext_for

INTERRUPTED = 130


def grade_class(
    lab: Annotated[str, typer.Argument(help="The lab to grade, e.g. lab01.")],
    submissions: Annotated[
        Path,
        typer.Argument(help="Folder with one entry per student: a folder, .zip, .py or .ipynb."),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Results folder (reports, feedback, CSV).")
    ],
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Submissions graded at once (default: CPUs)."),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(help="Keep the finished results in --out; grade only the rest."),
    ] = False,
    seed: Annotated[
        int | None,
        typer.Option(min=0, help="One seed for every student's hidden tests (default: one each)."),
    ] = None,
    new_seeds: Annotated[
        bool,
        typer.Option(help="On a regrade, draw new seeds instead of reusing the recorded ones."),
    ] = False,
    solutions: Annotated[Path | None, solutions_option()] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(callback=positive_seconds, help="Seconds per test (default: the lab's)."),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(help="Language of the feedback files and the summary: en or pt (default: "
                     "English files; the terminal follows $ATTN_GRADE_LANG or the locale)."),
    ] = None,
    png: Annotated[
        bool, typer.Option(help="Draw each student's heatmap PNG (about 0.3 s per student).")
    ] = True,
) -> None:
    """Grade a class: every submission in SUBMISSIONS, in parallel, into --out.

    Writes students/<id>/report.json, feedback.txt and the heatmap PNG, gradebook.csv and
    summary.json. Exit code 0 when every submission got a result, 1 if the grader failed
    on some (their rows say "grader-error"), 130 when interrupted (rerun with --resume).
    """
    from rich.console import Console

    from attn_grade import batch
    from attn_grade import gradebook as gb
    from attn_grade.labspec import load_lab
    from attn_grade.reference import require_solutions
    from attn_grade.report.batch_summary import print_summary
    from attn_grade.runner import Limits

    shown = checked_language(lang)  # the terminal's language: --lang, else the default
    lang = output_language(lang)  # the feedback files': --lang, else English
    _ = gettext_for(shown)
    spec = load_lab(lab)
    Limits()  # a wrong ATTN_GRADE_* variable is a usage error now, not one per student
    reference = require_solutions(spec, solutions, N_("batch grading runs the hidden tests"))
    entries = batch.discover(submissions)
    for entry in entries:  # ids that are not the entry's name (clashes, control characters)
        if entry.note:
            Console(stderr=True).print(entry.note, markup=False, highlight=False)
    out = given_path(out)
    if out.is_relative_to(submissions.resolve()):
        raise UsageError(Sentence(
            N_("--out {out} is inside {submissions}: it would be graded as a student"),
            {"out": str(out), "submissions": str(submissions)},
        ))
    out = folder_target(out, "--out")
    config = batch.BatchConfig(lab, reference, out, lang, time_limit, png)
    plan = batch.plan(config, entries, resume=resume, seed=seed, new_seeds=new_seeds)
    console = Console()
    if plan.kept:
        console.print(_("resuming: {graded} already graded, {left} to go").format(
            graded=len(plan.kept), left=len(plan.tasks)
        ))
    new: list[dict[str, Any]] = []
    try:
        with _sigterm_as_interrupt():
            _run_with_progress(config, plan.tasks, jobs or os.cpu_count() or 1, new, shown)
    except KeyboardInterrupt:
        gb.write_gradebook(out, spec, plan.kept + new, lang)
        interrupted = _("interrupted")
        console.print(
            f"[yellow]{interrupted}[/]: "
            + _("{graded} of {total} graded; run again with --resume to finish.").format(
                graded=len(plan.kept) + len(new), total=len(entries)
            )
        )
        raise typer.Exit(INTERRUPTED) from None
    reports = plan.kept + new
    stale = gb.stale_students(out, {e.student for e in entries})
    summary = gb.summarize(reports, gb.score_changes(plan.previous, new), stale)
    gb.write_gradebook(out, spec, reports, lang)
    gb.write_summary(out, summary)
    print_summary(summary, console, lang=shown)
    console.print(_("gradebook: {csv}; feedback: {folder}/<id>/").format(
        csv=out / gb.CSV_NAME, folder=out / gb.STUDENTS_DIR
    ))
    raise typer.Exit(1 if summary["statuses"].get(gb.GRADER_ERROR) else 0)


def _run_with_progress(
    config: Any, tasks: list, jobs: int, reports: list, lang: str = "en"
) -> None:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from attn_grade import batch

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}", markup=False),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    from attn_grade.report.batch_summary import status_count

    _ = gettext_for(lang)
    counts: dict[str, int] = {}
    with Progress(*columns, console=Console(stderr=True)) as progress:
        grading = _("grading {lab}").format(lab=config.lab)  # _(): babel extracts it
        bar = progress.add_task(grading, total=len(tasks), counts="")

        def done(report: dict[str, Any]) -> None:
            reports.append(report)
            counts[report["status"]] = counts.get(report["status"], 0) + 1
            text = ", ".join(status_count(n, status, _) for status, n in sorted(counts.items()))
            progress.update(bar, advance=1, counts=text)

        batch.run_batch(config, tasks, jobs, done)


class _sigterm_as_interrupt:
    """A batch stopped with SIGTERM ends like one stopped with Ctrl-C: workers stopped,
    gradebook of what is done written."""

    def __enter__(self) -> None:
        self.previous = signal.signal(signal.SIGTERM, self._raise)

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGTERM, self.previous)

    @staticmethod
    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt


def gradescope_bundle(
    lab: Annotated[str, typer.Argument(help="The lab the autograder grades, e.g. lab01.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The zip to write.")] = Path(
        "autograder.zip"
    ),
    solutions: Annotated[
        Path | None, solutions_option("Folder of the reference solutions to put in the bundle.")
    ] = None,
    hidden_visibility: Annotated[
        str,
        typer.Option(
            help="When students see hidden tests: hidden, after_due_date, after_published "
            "or visible."
        ),
    ] = "after_published",
    wheel: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="A built attn-grade wheel to ship (default: build one from this kit).",
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(help="Language of the students' results on Gradescope: en or pt "
                     "(default: en)."),
    ] = None,
) -> None:
    """Build a Gradescope autograder (setup.sh, run_autograder, the kit, the reference)."""
    from attn_grade import gradescope
    from attn_grade.labspec import load_lab
    from attn_grade.reference import require_solutions

    _ = gettext_for(checked_language(lang))
    lang = output_language(lang)
    spec = load_lab(lab)
    if hidden_visibility not in gradescope.VISIBILITIES:
        raise UsageError(Sentence(N_("--hidden-visibility must be one of {choices}"),
                                  {"choices": ", ".join(gradescope.VISIBILITIES)}))
    if wheel is not None and wheel.suffix != ".whl":
        raise UsageError(Sentence(N_("--wheel {path} is not a wheel (a .whl file)"),
                                  {"path": str(wheel)}))
    output = new_file_target(output, "--output", "autograder.zip")
    reference = require_solutions(spec, solutions, N_("the bundle needs them"))
    written = gradescope.build_bundle(
        spec, reference, output, hidden_visibility, wheel, lang
    )
    typer.echo(_("wrote {path} (upload it as the autograder of a Gradescope assignment)").format(
        path=written))
