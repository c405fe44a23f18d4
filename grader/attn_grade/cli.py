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
from attn_grade.cli_options import (
    GRADER_FAILED,
    USAGE,
    budget_seconds,
    os_error_message,
    positive_seconds,
    show_error,
    solutions_option,
)
from attn_grade.errors import AttnGradeError, UsageError
from attn_grade.language import LANGUAGES, checked_language, default_language
from attn_grade.report.plain import one_line
from attn_grade.translation import N_, Sentence, gettext_for

app = typer.Typer(
    name="attn-grade",
    help="Exercise kit and autograder for transformer attention in NumPy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def command(name: str | None = None) -> Callable[[Callable], Callable]:
    """Register a command whose errors become one line and an exit code, not a traceback:
    AttnGradeError by its exit_code, an OSError on a path the user gave as a usage error (2).
    With --json, the error is also one JSON object on stdout."""

    def register(function: Callable) -> Callable:
        @functools.wraps(function)
        def run(*args, **kwargs):
            as_json = bool(kwargs.get("json_output"))
            # --lang's language (reading's --lang is its --language)
            lang = kwargs.get("lang", kwargs.get("language"))
            try:
                return function(*args, **kwargs)
            except AttnGradeError as exc:
                show_error(exc.translated(_error_language(lang)), exc.exit_code, as_json)
                raise typer.Exit(exc.exit_code) from None
            except OSError as exc:
                message, code = os_error_message(exc, _paths_given(kwargs), _error_language(lang))
                show_error(message, code, as_json)
                raise typer.Exit(code) from None

        app.command(name)(run)
        return function

    return register


def _error_language(lang: object) -> str:
    """The language of an error message: --lang's, else the default (also when --lang
    itself, or $ATTN_GRADE_LANG, is what is wrong)."""
    given = lang.replace("-", "_").lower() if isinstance(lang, str) else ""
    if given in LANGUAGES or given.startswith("pt_br"):
        return "pt" if given.startswith("pt") else given
    return default_language()


def _language_of(args: list[str]) -> str:
    """--lang's value in a command line that may not parse, for the error about it."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return _error_language(args[i + 1])
        if arg.startswith("--lang="):
            return _error_language(arg.partition("=")[2])
    return _error_language(None)


def _paths_given(options: dict) -> list[Path]:
    paths = []
    for value in options.values():
        values = value if isinstance(value, list | tuple) else [value]
        paths += [v for v in values if isinstance(v, Path)]
    return paths


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
    html_file: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the report as one self-contained HTML file."),
    ] = None,
    hidden: Annotated[
        bool, typer.Option(help="Run hidden tests when the reference solutions are present.")
    ] = True,
    seed: Annotated[
        int | None,
        typer.Option(min=0, help="Seed of the hidden tests' inputs (to repeat a grading)."),
    ] = None,
    solutions: Annotated[
        Path | None, solutions_option("Folder of the reference solutions (instructors).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option(help="Language of the hints: en or pt (default: from $LANG).")
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            callback=positive_seconds,
            help="Seconds per test (default: the lab's; ATTN_GRADE_TIME_LIMIT).",
        ),
    ] = None,
    time_budget: Annotated[
        float | None,
        typer.Option(
            callback=budget_seconds,
            help="Seconds for all the tests (default: the lab's; ATTN_GRADE_TIME_BUDGET; 0: none).",
        ),
    ] = None,
) -> None:
    """Grade your lab folder and explain what is wrong.

    Exit code 0 when every code test passed, 1 otherwise, 2 for a usage error.
    """
    lang = checked_language(lang)
    if html_file is not None:  # said before grading, not after
        if html_file.is_dir() or html_file.name in ("", ".", ".."):
            raise UsageError(Sentence(N_("--html: {path} is a folder; give a file name"),
                                      {"path": one_line(html_file)}))
        if not html_file.parent.is_dir():
            raise UsageError(Sentence(N_("--html: {path} is not a folder"),
                                      {"path": one_line(html_file.parent)}))
    # not a daemon: the interpreter joins it before it shuts down. A daemon thread still
    # importing matplotlib's C extensions while an early error (nothing to grade) ended
    # the process made the interpreter's exit crash with SIGSEGV (seen under load).
    preload = threading.Thread(target=_preload_matplotlib, name="attn-grade-preload")
    if png:
        preload.start()
    from attn_grade.grading import grade
    from attn_grade.history import save_report
    from attn_grade.labspec import load_lab
    from attn_grade.runner import Limits, sandbox_mode

    # One submission: fresh processes start sooner than a warm zygote, whose start-up
    # (numpy, matplotlib, a warm-up figure) pays off only over many (attn-grade grade).
    spec = load_lab(lab)
    limits = Limits(
        time_limit=time_limit or spec.time_limit,
        mode=sandbox_mode("spawn"),
        time_budget=time_budget,
    )
    submitted = path if path is not None else _default_folder(lab)
    result = grade(
        lab, submitted, solutions=solutions, hidden=hidden, seed=seed, lang=lang, limits=limits
    )
    folder = submitted if submitted.is_dir() else submitted.parent  # where the PNG goes
    image = io.BytesIO()
    if png and result.example is not None:
        from attn_grade.report.heatmap_png import PNG_NAME, draw_heatmaps
        from attn_grade.safe_files import write_file

        preload.join()
        _ = gettext_for(lang)
        title = _("{lab}: attention weights").format(lab=result.lab)
        draw_heatmaps(result.example, image, title, lang)
        try:  # a new file renamed into place: a link planted at its name is never followed
            write_file(folder.resolve(), PNG_NAME, image.getvalue(), mode=0o644)
            result.heatmap_png = str(folder / PNG_NAME)
        except OSError:
            result.heatmap_png = None  # a read-only folder: the report says nothing was written
    save_report(result, folder)
    if html_file is not None:
        _write_html(result, html_file, image.getvalue() or None)
    if json_output:
        from attn_grade.report.json_report import render_json

        sys.stdout.write(render_json(result) + "\n")
    else:
        from attn_grade.report.terminal import print_report

        print_report(result, _console())
    raise typer.Exit(0 if result.all_tests_passed else 1)


LANG_OPTION = typer.Option(help="Language of the messages: en or pt (default: from $LANG).")
LEVELS = {"beginner": N_("beginner"), "intermediate": N_("intermediate"),
          "advanced": N_("advanced")}


@command("list")
def list_labs(
    lang: Annotated[
        str | None, typer.Option(help="Language of the table: en or pt (default: from $LANG).")
    ] = None,
) -> None:
    """List the labs in the order to do them."""
    from rich.table import Table
    from rich.text import Text

    from attn_grade.labspec import lab_ids, load_lab
    from attn_grade.release import hidden_in_kit

    lang = checked_language(lang)
    _ = gettext_for(lang)
    # readable at 80 columns: the title takes the width the numbers leave, and the lab's
    # level, time and prerequisites go below it; numbers never wrap, words are never cut
    labs = [load_lab(lab_id) for lab_id in lab_ids()]
    kit = {lab.id: hidden_in_kit(lab) for lab in labs}  # a student kit: hidden tests removed
    caption = _("tests: public+hidden; points include deliverables")
    if any(kit.values()):
        caption += "\n" + _("This kit runs the public tests (the points 'here'); "
                            "the hidden tests run when your work is graded.")
    table = Table(title=_("attn-grade labs, in the order to do them"), caption=caption)
    table.add_column(_("lab"), no_wrap=True)
    table.add_column(_("title"), ratio=1, min_width=20)
    table.add_column(_("tests"), no_wrap=True, justify="right")
    table.add_column(_("points"), no_wrap=True, justify="right")
    for lab in labs:
        here = lab.max_test_points + sum(d.points for d in lab.deliverables)
        hidden, hidden_points = kit[lab.id] or (len(lab.tests_with("hidden")), 0)
        points = f"{here + hidden_points:g}"
        if kit[lab.id]:
            points = _("{total} ({here} here)").format(total=points, here=f"{here:g}")
        about = [_(LEVELS[lab.level]) if lab.level in LEVELS else lab.level, f"~{lab.minutes} min"]
        if lab.prerequisites:
            about.append(_("needs {labs}").format(labs=", ".join(lab.prerequisites)))
        title = Text(lab.titled(lang) + "\n")
        title.append(" · ".join(about), style="dim")
        table.add_row(lab.id, title, f"{len(lab.tests_with('public'))}+{hidden}", points)
    _console().print(table)


@command()
def freeze(
    lab: Annotated[str, typer.Argument(help="The lab whose public expectations to regenerate.")],
    solutions: Annotated[Path | None, solutions_option()] = None,
    lang: Annotated[str | None, LANG_OPTION] = None,
) -> None:
    """Recompute the public tests' frozen inputs and expected outputs from the reference
    (instructors; the file ships with the student kit)."""
    from attn_grade.frozen import write_public
    from attn_grade.labspec import load_lab
    from attn_grade.reference import load_reference, require_solutions

    _ = gettext_for(checked_language(lang))
    spec = load_lab(lab)
    reference = load_reference(spec, require_solutions(spec, solutions))
    typer.echo(_("wrote {path}").format(path=write_public(spec, reference)))


@command()
def sync(
    lab: Annotated[str, typer.Argument(help="The lab whose exercise stubs to regenerate.")],
    check_only: Annotated[
        bool, typer.Option("--check", help="Only report stale files; exit 1 if any.")
    ] = False,
    solutions: Annotated[Path | None, solutions_option()] = None,
    lang: Annotated[str | None, LANG_OPTION] = None,
) -> None:
    """Regenerate exercises/LAB (the stubs) from solutions/LAB, the single source."""
    from attn_grade.labspec import load_lab
    from attn_grade.reference import require_solutions
    from attn_grade.stubs import exercises_dir, stale_files, write_exercises

    _ = gettext_for(checked_language(lang))
    spec = load_lab(lab)
    source = require_solutions(spec, solutions)
    if check_only:
        stale = stale_files(spec, source, exercises_dir(spec))
        for name in stale:
            typer.echo(_("stale: {name}").format(name=name))
        raise typer.Exit(1 if stale else 0)
    for written in write_exercises(spec, source, exercises_dir(spec)):
        typer.echo(_("wrote {path}").format(path=written))


def _write_html(result, target: Path, heatmap: bytes | None) -> None:
    """The HTML report at `target`: a new file renamed into place (a link there is replaced,
    never followed)."""
    from attn_grade.report.html import heatmap_png, render_html
    from attn_grade.safe_files import write_file

    page = render_html(result, heatmap or heatmap_png(result)).encode("utf-8")
    write_file(target.parent.resolve(), target.name, page, mode=0o644)


def _default_folder(lab: str) -> Path:
    """exercises/LAB; or the current folder when it is that lab's folder (`cd exercises/lab01`)."""
    default = Path("exercises") / lab
    here = Path.cwd()
    if not default.exists() and here.name == lab:
        return Path(".")
    return default


def _console():
    from rich.console import Console

    from attn_grade.report.terminal import report_width

    return Console(width=report_width(is_terminal=sys.stdout.isatty()))


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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `attn-grade` script: every error ends as one line and an exit
    code (2 for a usage error, 3 when the grader failed), never a traceback.
    ATTN_GRADE_TRACEBACK=1 shows the traceback of an unexpected error (for a bug report)."""
    # click's exceptions, from the click that typer uses (recent typers carry their own)
    click = sys.modules[typer.BadParameter.__module__]
    args = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
    _ = gettext_for(_language_of(args[: args.index("--")] if "--" in args else args))
    no_args_help = getattr(click, "NoArgsIsHelpError", ())
    click_error = click.ClickException
    try:
        code = typer.main.get_command(app).main(
            args, prog_name="attn-grade", standalone_mode=False
        )
    except no_args_help as exc:  # `attn-grade` alone: the help, as click shows it
        exc.show()
        code = USAGE
    except click_error as exc:  # a wrong option or argument, found by click
        context = getattr(exc, "ctx", None)
        name = context.command_path.partition(" ")[2] if context is not None else ""
        where = f"{name}: " if name else ""
        hint = (" " + _("(see {command} --help)").format(command=context.command_path)
                if context is not None else "")
        show_error(f"{where}{exc.format_message()}{hint}", USAGE, as_json)
        code = USAGE
    except typer.Abort:
        show_error(_("interrupted"), 130, as_json)
        code = 130
    except Exception as exc:  # a bug: still one line, with a way to see the traceback
        if os.environ.get("ATTN_GRADE_TRACEBACK"):
            raise
        show_error(
            _(
                "internal error, not a verdict on your code: {error} "
                "(ATTN_GRADE_TRACEBACK=1 shows where)"
            ).format(error=f"{type(exc).__name__}: {exc}"),
            GRADER_FAILED,
            as_json,
        )
        code = GRADER_FAILED
    sys.exit(code if isinstance(code, int) else 0)
