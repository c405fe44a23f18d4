"""Instructors' commands: an nbgrader course from a lab, and the student release."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

import typer

from attn_grade.cli_options import folder_target, solutions_option
from attn_grade.errors import UsageError
from attn_grade.language import checked_language, output_language
from attn_grade.reference import require_solutions
from attn_grade.translation import N_, Sentence, gettext_for


def nbgrader_course(
    lab: Annotated[str, typer.Argument(help="The lab to turn into an nbgrader assignment.")],
    course_dir: Annotated[Path, typer.Argument(help="The nbgrader course folder (created).")],
    course_id: Annotated[
        str, typer.Option(help="CourseDirectory.course_id of a new nbgrader_config.py.")
    ] = "attn-grade",
    timeout: Annotated[
        int, typer.Option(min=1, help="Seconds per notebook cell when nbgrader runs it.")
    ] = 120,
    solutions: Annotated[Path | None, solutions_option()] = None,
    lang: Annotated[
        str | None,
        typer.Option(help="Language of the notebook's text and its feedback: en or pt "
                     "(default: en)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(help="Overwrite a source notebook that differs (edited, other language)."),
    ] = False,
) -> None:
    """Write COURSE_DIR/source/LAB/LAB.ipynb (and nbgrader_config.py if absent) from the
    reference; then run `nbgrader generate_assignment LAB` in COURSE_DIR.

    A source notebook already there that differs from the one it would write (you edited
    it, or made it in the other language) is kept: nothing is written, exit code 2,
    unless --force."""
    from attn_grade.labspec import load_lab
    from attn_grade.nbgrader_course import source_notebook, write_course

    _ = gettext_for(checked_language(lang))  # the terminal's language
    lang = output_language(lang)  # the notebook's: --lang, else English
    spec = load_lab(lab)
    if not course_id.strip():
        raise UsageError(Sentence(N_("--course-id must not be empty")))
    reference = require_solutions(spec, solutions, N_("the notebook is made from them"))
    course_dir = folder_target(course_dir, "COURSE_DIR")
    written = write_course(spec, reference, course_dir, course_id, timeout, lang, force)
    for path in written:
        typer.echo(_("wrote {path}").format(path=path))
    if source_notebook(course_dir, spec) not in written:
        typer.echo(_("unchanged: {path}").format(path=source_notebook(course_dir, spec)))
    if find_spec("nbgrader") is None:
        typer.echo(
            _("nbgrader is not installed here; to run it on this course: {command}").format(
                command="python -m pip install 'attn-grade[instructor]'"
            )
        )


def release(
    out_dir: Annotated[Path, typer.Argument(help="A new or empty folder for the student kit.")],
    labs: Annotated[
        list[str] | None,
        typer.Option("--lab", help="A lab to include (repeat the option); default: every lab."),
    ] = None,
    solutions: Annotated[
        Path | None, solutions_option("Folder of the reference solutions (or of all labs).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option(help="Language of the messages: en or pt (default: from $LANG).")
    ] = None,
) -> None:
    """Write the student kit to OUT_DIR: grader, exercise stubs, handouts, reading list and
    public expectations; no solutions and no hidden tests. Students `pip install` it."""
    from attn_grade.labspec import lab_ids, load_lab
    from attn_grade.release import build_release

    _ = gettext_for(checked_language(lang))
    specs = [load_lab(lab) for lab in (labs or lab_ids())]
    written = build_release(out_dir, specs, {s.id: require_solutions(s, solutions) for s in specs})
    typer.echo(_("wrote {n} files to {folder} ({labs})").format(
        n=len(written), folder=out_dir, labs=", ".join(s.id for s in specs)
    ))
    typer.echo(_("students: {command}").format(
        command=f"python -m pip install {out_dir} && attn-grade check {specs[0].id}"
    ))
