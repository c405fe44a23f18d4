"""Instructors' commands: an nbgrader course from a lab, and the student release."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attn_grade.reference import require_solutions


def nbgrader_course(
    lab: Annotated[str, typer.Argument(help="The lab to turn into an nbgrader assignment.")],
    course_dir: Annotated[Path, typer.Argument(help="The nbgrader course folder (created).")],
    course_id: Annotated[
        str, typer.Option(help="CourseDirectory.course_id of a new nbgrader_config.py.")
    ] = "attn-grade",
    timeout: Annotated[
        int, typer.Option(help="Seconds per notebook cell when nbgrader runs it.")
    ] = 120,
    solutions: Annotated[
        Path | None, typer.Option(help="Folder of the reference solutions.")
    ] = None,
) -> None:
    """Write COURSE_DIR/source/LAB/LAB.ipynb (and nbgrader_config.py if absent) from the
    reference; then run `nbgrader generate_assignment LAB` in COURSE_DIR."""
    from attn_grade.labspec import load_lab
    from attn_grade.nbgrader_course import write_course

    spec = load_lab(lab)
    for path in write_course(
        spec, require_solutions(spec, solutions), course_dir, course_id, timeout
    ):
        typer.echo(f"wrote {path}")


def release(
    out_dir: Annotated[Path, typer.Argument(help="A new or empty folder for the student kit.")],
    labs: Annotated[
        list[str] | None,
        typer.Option("--lab", help="A lab to include (repeat the option); default: every lab."),
    ] = None,
    solutions: Annotated[
        Path | None, typer.Option(help="Folder of the reference solutions (or of all labs).")
    ] = None,
) -> None:
    """Write the student kit to OUT_DIR: grader, exercise stubs, handouts, reading list and
    public expectations; no solutions and no hidden tests. Students `pip install` it."""
    from attn_grade.labspec import lab_ids, load_lab
    from attn_grade.release import build_release

    specs = [load_lab(lab) for lab in (labs or lab_ids())]
    written = build_release(out_dir, specs, {s.id: require_solutions(s, solutions) for s in specs})
    typer.echo(f"wrote {len(written)} files to {out_dir} ({', '.join(s.id for s in specs)})")
    typer.echo(f"students: python -m pip install {out_dir} && attn-grade check {specs[0].id}")
