"""The `attn-grade` command line. Heavy imports happen inside the commands."""

from __future__ import annotations

import functools
import io
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from attn_grade import __version__
from attn_grade.errors import AttnGradeError
from attn_grade.language import checked_language

app = typer.Typer(
    name="attn-grade",
    help="Exercise kit and autograder for transformer attention in NumPy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def command(name: str | None = None) -> Callable[[Callable], Callable]:
    """Register a command whose domain errors become a message and an exit code, not a traceback."""

    def register(function: Callable) -> Callable:
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except AttnGradeError as exc:
                typer.echo(f"attn-grade: {exc}", err=True)
                raise typer.Exit(exc.exit_code) from None

        app.command(name)(run)
        return function

    return register


def _version(value: bool) -> None:
    if value:
        typer.echo(f"attn-grade {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Exercise kit and autograder for transformer attention in NumPy."""


def _preload_matplotlib() -> None:
    """Import matplotlib while the student's process runs (it costs most of a check's start-up)."""
    try:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError:
        pass


@command()
def check(
    lab: Annotated[str, typer.Argument(help="The lab to check, e.g. lab01.")],
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            "-p",
            help="Your lab folder, or a .py, .zip or .ipynb file (default: exercises/LAB).",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON object and nothing else.")
    ] = False,
    png: Annotated[bool, typer.Option(help="Write the heatmap PNG next to your code.")] = True,
    hidden: Annotated[
        bool, typer.Option(help="Run hidden tests when the reference solutions are present.")
    ] = True,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the hidden tests' inputs (to repeat a grading).")
    ] = None,
    solutions: Annotated[
        Path | None, typer.Option(help="Folder of the reference solutions (instructors).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option(help="Language of the hints: en or pt (default: from $LANG).")
    ] = None,
) -> None:
    """Grade your lab folder and explain what is wrong.

    Exit code 0 when every code test passed, 1 otherwise, 2 for a usage error.
    """
    lang = checked_language(lang)
    preload = threading.Thread(target=_preload_matplotlib, daemon=True)
    if png:
        preload.start()
    from attn_grade.grading import grade
    from attn_grade.history import save_report
    from attn_grade.labspec import load_lab
    from attn_grade.runner import Limits

    # One submission: fresh processes start sooner than a warm zygote, whose start-up
    # (numpy, matplotlib, a warm-up figure) pays off only over many (attn-grade grade).
    mode = os.environ.get("ATTN_GRADE_SANDBOX", "spawn")
    limits = Limits(time_limit=load_lab(lab).time_limit, mode=mode)
    submitted = path if path is not None else Path("exercises") / lab
    result = grade(
        lab, submitted, solutions=solutions, hidden=hidden, seed=seed, lang=lang, limits=limits
    )
    folder = submitted if submitted.is_dir() else submitted.parent  # where the PNG goes
    if png and result.example is not None:
        from attn_grade.report.heatmap_png import PNG_NAME, draw_heatmaps
        from attn_grade.safe_files import write_file

        preload.join()
        image = io.BytesIO()
        draw_heatmaps(result.example, image, f"{result.lab}: attention weights")
        try:  # a new file renamed into place: a link planted at its name is never followed
            write_file(folder.resolve(), PNG_NAME, image.getvalue(), mode=0o644)
            result.heatmap_png = str(folder / PNG_NAME)
        except OSError:
            result.heatmap_png = None  # a read-only folder: the report says nothing was written
    save_report(result, folder)
    if json_output:
        from attn_grade.report.json_report import render_json

        sys.stdout.write(render_json(result) + "\n")
    else:
        from attn_grade.report.terminal import print_report

        print_report(result, _console())
    raise typer.Exit(0 if result.all_tests_passed else 1)


@command("list")
def list_labs() -> None:
    """List the labs in the order to do them."""
    from rich.table import Table

    from attn_grade.labspec import lab_ids, load_lab

    table = Table(
        title="attn-grade labs, in the order to do them",
        caption="tests: public+hidden; points include deliverables",
    )
    for column in ("lab", "title", "level", "time", "needs", "tests", "points"):
        table.add_column(column, no_wrap=column != "title", overflow="fold")
    for lab_id in lab_ids():
        lab = load_lab(lab_id)
        points = lab.max_test_points + sum(d.points for d in lab.deliverables)
        table.add_row(
            lab.id,
            lab.title,
            lab.level,
            f"~{lab.minutes} min",
            ", ".join(lab.prerequisites) or "-",
            f"{len(lab.tests_with('public'))}+{len(lab.tests_with('hidden'))}",
            f"{points:g}",
        )
    _console().print(table)


@command()
def freeze(
    lab: Annotated[str, typer.Argument(help="The lab whose public expectations to regenerate.")],
    solutions: Annotated[
        Path | None, typer.Option(help="Folder of the reference solutions.")
    ] = None,
) -> None:
    """Recompute the public tests' frozen inputs and expected outputs from the reference
    (instructors; the file ships with the student kit)."""
    from attn_grade.frozen import write_public
    from attn_grade.labspec import load_lab
    from attn_grade.reference import load_reference, require_solutions

    spec = load_lab(lab)
    reference = load_reference(spec, require_solutions(spec, solutions))
    typer.echo(f"wrote {write_public(spec, reference)}")


@command()
def sync(
    lab: Annotated[str, typer.Argument(help="The lab whose exercise stubs to regenerate.")],
    check_only: Annotated[
        bool, typer.Option("--check", help="Only report stale files; exit 1 if any.")
    ] = False,
    solutions: Annotated[
        Path | None, typer.Option(help="Folder of the reference solutions.")
    ] = None,
) -> None:
    """Regenerate exercises/LAB (the stubs) from solutions/LAB, the single source."""
    from attn_grade.labspec import load_lab
    from attn_grade.reference import require_solutions
    from attn_grade.stubs import exercises_dir, stale_files, write_exercises

    spec = load_lab(lab)
    source = require_solutions(spec, solutions)
    if check_only:
        stale = stale_files(spec, source, exercises_dir(spec))
        for name in stale:
            typer.echo(f"stale: {name}")
        raise typer.Exit(1 if stale else 0)
    for written in write_exercises(spec, source, exercises_dir(spec)):
        typer.echo(f"wrote {written}")


def _console():
    from rich.console import Console

    return Console()


# Commands from other modules: command("name")(module.function)
from attn_grade import cli_study  # noqa: E402

command("reading")(cli_study.reading)
command("progress")(cli_study.progress)

from attn_grade import cli_batch  # noqa: E402

command("grade")(cli_batch.grade_class)
command("gradescope")(cli_batch.gradescope_bundle)

from attn_grade import cli_instructor  # noqa: E402

command("nbgrader")(cli_instructor.nbgrader_course)
command("release")(cli_instructor.release)


def main() -> None:
    """Entry point of the `attn-grade` script."""
    app()
