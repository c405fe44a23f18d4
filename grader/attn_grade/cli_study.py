"""Commands for studying alone: `attn-grade reading` and `attn-grade progress`.

Registered in cli.py; heavy imports (Rich, the grader) happen inside the commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from attn_grade.errors import UsageError
from attn_grade.translation import N_, Sentence


def reading(
    lab: Annotated[
        str | None,
        typer.Argument(help="A lab, e.g. lab01. Without it: every lab, in the order to study."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Only one kind: paper, video, article, tutorial, visualizer, book, course or code."
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language", "--lang", help="Only resources in one language: en, or pt (português)."
        ),
    ] = None,
    write_readme: Annotated[
        bool,
        typer.Option(
            "--write-readme", help="Regenerate reading_list/README.md from the data (maintainers)."
        ),
    ] = False,
) -> None:
    """What to read or watch before, during and after each lab, with links."""
    from attn_grade.reading import KINDS, LANGUAGES, by_lab, load_reading_list

    readings = load_reading_list()
    if write_readme:
        _write_readme(readings)
        return
    if kind is not None and kind not in KINDS:
        raise UsageError(Sentence(N_("Unknown kind {kind}. Kinds: {kinds}."),
                                  {"kind": repr(kind), "kinds": ", ".join(KINDS)}))
    if language is not None and language not in LANGUAGES:
        raise UsageError(Sentence(N_("Unknown language {language}. Languages: {languages}."),
                                  {"language": repr(language), "languages": ", ".join(LANGUAGES)}))
    groups = by_lab(readings.filtered(kind, language), lab)
    if lab is not None and not readings.for_lab(lab):
        raise UsageError(Sentence(N_("{lab} has no readings yet."), {"lab": lab}))
    from rich.console import Console

    from attn_grade.language import checked_language
    from attn_grade.report.reading_table import print_reading
    from attn_grade.translation import gettext_for

    # --lang here chooses the resources' language (as documented); asking for Portuguese
    # resources also shows the table in Portuguese, else ATTN_GRADE_LANG or the locale does
    shown_in = "pt" if language == "pt" else checked_language(None)
    _ = gettext_for(shown_in)
    filters = "".join(" " + _("({value} only)").format(value=value)
                      for value in (kind, language) if value)
    print_reading(groups, Console(), filters, shown_in)


def _write_readme(readings) -> None:
    from attn_grade.reading import by_lab, readme_path, render_readme

    target = readme_path()
    target.write_text(render_readme(readings, by_lab(readings)), encoding="utf-8")
    typer.echo(f"wrote {target}")


def progress(
    path: Annotated[
        Path,
        typer.Option("--path", "-p", help="Your work folder, with one folder per lab."),
    ] = Path("exercises"),
    json_output: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON object and nothing else.")
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(help="Language of the table: en or pt (default: $ATTN_GRADE_LANG, $LANG)."),
    ] = None,
) -> None:
    """How far you are in each lab: last score, deliverables, checklist and readings ticked.

    Reads the report each `attn-grade check` saved; it re-runs nothing.
    """
    from attn_grade.language import checked_language

    lang = checked_language(lang)
    if not path.is_dir():
        raise UsageError(Sentence(
            N_("No folder {path} here. Run this from the kit's folder, or pass --path to "
               "your work folder (the one holding lab01, lab02, ...)."),
            {"path": str(path)},
        ))
    from attn_grade.progress import gather_progress

    result = gather_progress(path, lang)
    if json_output:
        sys.stdout.write(json.dumps(result.to_dict(), indent=1) + "\n")
        return
    from rich.console import Console

    from attn_grade.report.progress_table import print_progress

    print_progress(result, Console(), lang)
