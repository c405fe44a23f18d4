"""An nbgrader course generated from a lab: solutions/<lab> is still the single source.

    COURSE_DIR/nbgrader_config.py         course id and a per-cell timeout
    COURSE_DIR/source/<lab>/<lab>.ipynb   the handout, one solution cell per exercise
                                          function, one test cell per test of the spec

The notebook, in order: the handout (README.md, or README.pt-BR.md for a course in
Portuguese: `attn-grade nbgrader --lang pt`) as markdown; a locked setup
cell; for each module, its docstring, its given code (locked) and its functions
as solution cells (grade_id = function name; nbgrader's own
`### BEGIN SOLUTION` markers are already in the reference), then one grade cell
per test of those functions, worth the test's points in the lab spec. A test
cell calls the engine by test name (notebook_cells.check_test); a hidden test's
call sits in `### BEGIN HIDDEN TESTS`, so its source reveals only the test name.
Last comes an ungraded cell with the public report and the heatmap. In a Portuguese
course the grader's markdown and comments are Portuguese, the modules' (English)
docstrings are left out, and the cells call the engine with lang="pt", so the feedback
nbgrader shows is Portuguese too.

Deliverables (visualize.py, REPORT.md) are not in the notebook: its points are
the tests' points only.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from attn_grade.errors import UsageError
from attn_grade.labspec import LabSpec, TestSpec
from attn_grade.notebook import statement_text
from attn_grade.stubs import BEGIN
from attn_grade.translation import N_, Sentence, gettext_for

CONFIG_NAME = "nbgrader_config.py"
DEFAULT_TIMEOUT = 120  # seconds per cell; a test cell grades one test in a child process
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
SETUP_ID = "setup"
REPORT_ID = "report"
LANGUAGE_NAMES = {"en": N_("English"), "pt": N_("Portuguese")}


def write_course(
    lab: LabSpec, solutions: Path, course_dir: Path, course_id: str, timeout: int,
    lang: str = "en", force: bool = False,
) -> list[Path]:
    """Write the course config (unless one exists) and the lab's source notebook. A source
    notebook already there with other content (edited, or in the other language) is kept,
    and nothing is written, unless `force`."""
    import nbformat

    notebook = source_notebook(course_dir, lab)
    text = nbformat.writes(build_notebook(lab, solutions, lang)).rstrip("\n") + "\n"
    same = notebook.exists() and _content(_read_text(notebook)) == _content(text)
    if not force and notebook.exists() and not same:
        raise UsageError(Sentence(N_(
            "{path} already exists and differs from the notebook of {lab} in {language}: "
            "run again with --force to overwrite it"),
            {"path": str(notebook), "lab": lab.id, "language": Sentence(LANGUAGE_NAMES[lang])}))
    written = []
    config = course_dir / CONFIG_NAME
    if not config.exists():
        course_dir.mkdir(parents=True, exist_ok=True)
        config.write_text(course_config(course_id, timeout), encoding="utf-8")
        written.append(config)
    if not same:  # the same notebook is left as it is (its cells' ids too)
        notebook.parent.mkdir(parents=True, exist_ok=True)
        notebook.write_text(text, encoding="utf-8")
        written.append(notebook)
    return written


def source_notebook(course_dir: Path, lab: LabSpec) -> Path:
    return course_dir / "source" / lab.id / f"{lab.id}.ipynb"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _content(text: str) -> object:
    """A notebook's JSON without its cells' ids (random in each new notebook)."""
    try:
        notebook = json.loads(text)
        for cell in notebook.get("cells", []):
            cell.pop("id", None)
    except (ValueError, AttributeError, TypeError):
        return text
    return notebook


def course_config(course_id: str, timeout: int) -> str:
    return (
        "# nbgrader course written by `attn-grade nbgrader`. Test cells call attn-grade,\n"
        "# which grades each test in a separate process; hidden tests need the reference\n"
        "# solutions (the kit installed editable, or $ATTN_GRADE_SOLUTIONS).\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {course_id!r}\n"
        f"c.Execute.timeout = {int(timeout)}  # seconds per cell\n"
    )


def build_notebook(lab: LabSpec, solutions: Path, lang: str = "en") -> Any:
    """The nbgrader source notebook of `lab` (nbformat v4), from its reference; its
    markdown and its feedback in `lang`."""
    import nbformat
    from nbformat.v4 import new_notebook

    _ = gettext_for(lang)
    cells = [_markdown(text) for text in handout_sections(lab, solutions, lang)]
    cells.append(_markdown(_how_graded(lab, lang)))
    cells.append(
        _code(
            "from attn_grade.notebook_cells import check_implemented, check_test, show_report",
            grade_id=SETUP_ID,
            locked=True,
        )
    )
    for module in lab.modules:
        source = (solutions / f"{module}.py").read_text("utf-8")
        cells += _module_cells(lab, module, source, lang)
    cells.append(
        _markdown(
            "## " + _("Your report and heatmap") + "\n"
            + _("The public tests and your attention weights.")
        )
    )
    cells.append(_code(f"show_report({_arguments(lab.id, lang)})", grade_id=REPORT_ID, locked=True))
    notebook = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.validate(notebook)
    return notebook


def handout_sections(lab: LabSpec, solutions: Path, lang: str = "en") -> list[str]:
    """README.md of the lab (README.pt-BR.md in Portuguese) split at its `## ` headings
    (the exercises' copy first; the English one when the lab has no translation)."""
    from attn_grade.stubs import exercises_dir

    names = ["README.pt-BR.md", "README.md"] if lang == "pt" else ["README.md"]
    for readme in [folder / name for name in names for folder in (exercises_dir(lab), solutions)]:
        if readme.is_file():
            text = readme.read_text(encoding="utf-8")
            return [s.strip() for s in re.split(r"\n(?=## )", text) if s.strip()]
    return [f"# {lab.id}: {lab.titled(lang)}"]


def test_cell_source(lab: LabSpec, test: TestSpec, lang: str = "en") -> str:
    _ = gettext_for(lang)
    template = _("{points:g} point") if test.points == 1 else _("{points:g} points")
    points = template.format(points=test.points)
    call = f"check_test({_arguments(lab.id, lang, test.name)})"
    if test.visibility == "public":
        return f"# {test.name}: {test.described(lang)} ({points})\n{call}"
    hidden = _("A hidden test ({points}): it runs when your work is graded, on fresh inputs.")
    return (
        f"# {hidden.format(points=points)}\n"
        f"check_implemented({_arguments(lab.id, lang, test.function)})\n"
        f"### BEGIN HIDDEN TESTS\n{call}\n### END HIDDEN TESTS"
    )


def _arguments(lab_id: str, lang: str, *names: str) -> str:
    """The arguments of a cell's call: the lab, `names`, and lang="pt" unless English."""
    arguments = [f'"{lab_id}"', *(f'"{name}"' for name in names)]
    return ", ".join(arguments + ([f'lang="{lang}"'] if lang != "en" else []))


def _how_graded(lab: LabSpec, lang: str = "en") -> str:
    _ = gettext_for(lang)
    return "## " + _("How this notebook is graded") + "\n" + _(
        "Write each function in its cell, run it, then run the test cells below it. "
        "A test cell grades one test with attn-grade: your code runs in a separate "
        "process, and the cell prints what went wrong and the likely mistake. "
        "Hidden tests run when your work is graded, on fresh random inputs. "
        "You can also check this notebook in a terminal: `{command}`. Files the handout "
        "asks for besides the functions (such as visualize.py or REPORT.md) are not "
        "graded in this notebook."
    ).format(
        command=f"attn-grade check {lab.id} --path this_notebook.ipynb"
        + (f" --lang {lang}" if lang != "en" else "")
    )


def _module_cells(lab: LabSpec, module: str, source: str, lang: str = "en") -> list[Any]:
    tree = ast.parse(source)
    lines = source.splitlines()
    cells, given, solutions = [], [], []
    docstring = ast.get_docstring(tree)
    for node in tree.body:
        if _is_docstring(node, tree) or _is_main_block(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)) and _imports_lab_module(node, lab):
            continue  # the notebook defines the lab's functions in earlier cells
        text = statement_text(node, lines)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and BEGIN in text:
            grade_id = node.name if node.name in lab.functions else f"solution_{node.name}"
            solutions.append(_code(text, grade_id=grade_id, solution=True))
        else:
            given.append(text)
    # the module's docstring is English prose: a Portuguese notebook has the handout's instead
    shown = docstring if docstring and lang == "en" else ""
    cells.append(_markdown(f"## `{module}.py`" + (f"\n{shown}" if shown else "")))
    if given:
        cells.append(_code("\n\n".join(given), grade_id=f"given_{module}", locked=True))
    cells += solutions
    for test in lab.tests:
        if lab.functions[test.function].module == module:
            cells.append(
                _code(
                    test_cell_source(lab, test, lang),
                    grade_id=f"test_{test.name}",
                    grade=True,
                    points=test.points,
                    locked=True,
                )
            )
    return cells


def _is_docstring(node: ast.stmt, tree: ast.Module) -> bool:
    return (
        node is tree.body[0] and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    )


def _is_main_block(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)


def _imports_lab_module(node: ast.Import | ast.ImportFrom, lab: LabSpec) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] in lab.modules
    return any(a.name.split(".")[0] in lab.modules for a in node.names)


def _markdown(text: str) -> Any:
    from nbformat.v4 import new_markdown_cell

    return new_markdown_cell(text)


def _code(
    source: str,
    *,
    grade_id: str,
    solution: bool = False,
    grade: bool = False,
    locked: bool = False,
    points: float | None = None,
) -> Any:
    from nbformat.v4 import new_code_cell

    nbgrader = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        nbgrader["points"] = points
    return new_code_cell(source, metadata={"nbgrader": nbgrader})
