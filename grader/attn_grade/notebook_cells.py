"""What a lab notebook's test cells call: the grading engine, from inside Jupyter.

    from attn_grade.notebook_cells import check_test
    check_test("lab01", "softmax_rows")

The student's functions are collected from the kernel's cell history (the same
assembly as `attn-grade check --path notebook.ipynb`), written as the lab's
modules in a temporary folder and graded by the engine: the student's code runs
in a separate child process, and no expected value ever exists in the kernel.
A cell that fails raises AssertionError, so nbgrader gives it 0 points.

Hidden tests need the reference solutions where the notebook is autograded: the
instructor's kit installed editable (`pip install -e .`), or $ATTN_GRADE_SOLUTIONS.
"""

from __future__ import annotations

import ast
from pathlib import Path

from attn_grade.labspec import LabSpec, load_lab
from attn_grade.notebook import CodeCell, Extracted, assemble
from attn_grade.result import PASSED, LabResult
from attn_grade.submission import write_notebook
from attn_grade.tempdirs import private_tempdir
from attn_grade.translation import N_, gettext_for

THIS_NOTEBOOK = N_("this notebook")  # the submission's name in a cell's report


def check_test(lab_id: str, test: str, lang: str | None = None) -> None:
    """Grade one test of `lab_id` on the functions defined above; fail the cell if it fails."""
    from attn_grade.grading import grade
    from attn_grade.report.terminal import STATUS_LABEL

    lang = _lang(lang)
    _ = gettext_for(lang)
    lab = load_lab(lab_id)
    spec = next((t for t in lab.tests if t.name == test), None)
    extracted = _student_code(lab)
    if spec is not None and spec.function not in extracted.found:
        raise AssertionError(_not_defined(lab, spec.function, extracted, lang))
    with private_tempdir("cell") as tmp:
        write_notebook(extracted, lab, Path(tmp))  # an error names its cell: "In [3], line 2"
        result = grade(lab_id, Path(tmp), only=[test], deliverables=False, lang=lang)
    result.submission = _(THIS_NOTEBOOK)
    _print(result)
    outcome = result.tests[0]
    if outcome.status != PASSED:
        status = outcome.status.upper()  # in English the status id, as nbgrader always showed
        if lang != "en":
            status = _(STATUS_LABEL.get(outcome.status, outcome.status))
        raise AssertionError(f"{test}: {status}: {outcome.message}")


def check_implemented(lab_id: str, function: str, lang: str | None = None) -> None:
    """The visible part of a hidden test's cell: fail if `function` is missing or still a stub.

    A function whose body still raises NotImplementedError fails every test, so
    this never fails a cell that the hidden test would pass.
    """
    lang = _lang(lang)
    _ = gettext_for(lang)
    lab = load_lab(lab_id)
    extracted = _student_code(lab)
    if function not in extracted.found:
        raise AssertionError(_not_defined(lab, function, extracted, lang))
    if _is_stub(extracted.code, function):
        raise AssertionError(
            _("{function} is not implemented yet (it raises NotImplementedError)").format(
                function=function
            )
        )
    print(
        _("{function} is defined. Its hidden tests run when your work is graded, on fresh "
          "inputs.").format(function=function)
    )


def show_report(lab_id: str, lang: str | None = None) -> None:
    """The public tests' report and the heatmap of your weights on the example sentence, inline."""
    from attn_grade.grading import grade

    lab = load_lab(lab_id)
    extracted = _student_code(lab)
    with private_tempdir("cell") as tmp:
        write_notebook(extracted, lab, Path(tmp))
        result = grade(lab_id, Path(tmp), hidden=False, deliverables=False, lang=_lang(lang))
        result.submission = gettext_for(result.lang)(THIS_NOTEBOOK)
        _print(result)
        if result.example is not None:
            _show_heatmap(result, Path(tmp) / "heatmap.png")


def _student_code(lab: LabSpec) -> Extracted:
    """The lab's functions from the cells run so far in this kernel (none is run again)."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython else None
    if shell is None:
        raise RuntimeError(
            "check_test runs inside a Jupyter notebook; in a terminal, run "
            f"`attn-grade check {lab.id} --path your_notebook.ipynb`."
        )
    history = shell.history_manager.input_hist_parsed
    cells = [CodeCell(source, f"In [{n}]") for n, source in enumerate(history) if source]
    return assemble(cells, lab, "this notebook")


def _not_defined(lab: LabSpec, function: str, extracted: Extracted, lang: str = "en") -> str:
    _ = gettext_for(lang)
    message = _("Define {signature} in a code cell above, and run that cell.").format(
        signature=lab.functions[function].signature_in(lang)
    )
    for skipped in extracted.skipped:
        message += "\n" + _("Skipped {cell}.").format(cell=skipped.translated(lang))
    return message


def _is_stub(code: str, function: str) -> bool:
    """Does `function` raise NotImplementedError at the top level of its body?"""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # the tests report what is wrong with it
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return any(_raises_not_implemented(statement) for statement in node.body)
    return False


def _raises_not_implemented(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.Raise) or statement.exc is None:
        return False
    raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def _lang(lang: str | None) -> str:
    from attn_grade.language import checked_language

    return checked_language(lang)


def _print(result: LabResult) -> None:
    from rich.console import Console

    from attn_grade.report.terminal import print_report

    print_report(result, Console())


def _show_heatmap(result: LabResult, path: Path) -> None:
    from IPython.display import Image, display

    from attn_grade.report.heatmap_png import draw_heatmaps

    assert result.example is not None
    _ = gettext_for(result.lang)
    title = _("{lab}: attention weights").format(lab=result.lab)
    draw_heatmaps(result.example, path, title, result.lang)
    display(Image(data=path.read_bytes(), format="png"))
