"""`attn_grade.check("lab01")`: check the lab in the running notebook, with an HTML report.

    import attn_grade
    attn_grade.check("lab01")                  # every test; the report shows inline
    result = attn_grade.check("lab01", "softmax_rows")   # one test

The student's functions are collected from the kernel's cell history (as the
notebook's test cells do, attn_grade.notebook_cells) and graded by the same engine
as `attn-grade check`: the student's code runs in a separate child process. The
report is shown through IPython's rich display (`_repr_html_`, no JavaScript), so it
works in classic Jupyter, JupyterLab, VS Code and Colab. Hidden tests run only where
the reference solutions are present (an instructor's kit), never in a student's Colab.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from attn_grade.errors import UsageError
from attn_grade.result import LabResult


class CheckResult(LabResult):
    """The LabResult of a check in a notebook: the same data, with a one-line repr
    (the report itself is displayed above it, not repeated as the cell's output)."""

    def __repr__(self) -> str:
        return f"<attn-grade {self.lab}: {self.score:g} / {self.max_score:g}>"


def check(lab_id: str, test: str | None = None, *, lang: str | None = None) -> CheckResult:
    """Grade `lab_id` (or only its test `test`) on the functions defined in this notebook,
    show the HTML report inline and return the result."""
    from attn_grade.grading import grade
    from attn_grade.labspec import load_lab
    from attn_grade.notebook_cells import _lang, _not_defined, _student_code
    from attn_grade.report.html import HtmlReport, heatmap_png
    from attn_grade.submission import write_notebook
    from attn_grade.tempdirs import private_tempdir

    shell = _shell()
    if shell is None:
        raise UsageError(
            "attn_grade.check runs inside a Jupyter or Colab notebook; in a terminal, run "
            f"`attn-grade check {lab_id}` (add --path your_notebook.ipynb for a notebook file)."
        )
    from attn_grade.notebook_cells import THIS_NOTEBOOK
    from attn_grade.translation import gettext_for

    lang = _lang(lang)
    _ = gettext_for(lang)
    lab = load_lab(lab_id)
    extracted = _student_code(lab)
    with private_tempdir("cell") as tmp:
        write_notebook(extracted, lab, Path(tmp))  # an error names its cell: "In [3], line 2"
        graded = grade(
            lab_id,
            Path(tmp),
            only=None if test is None else [test],
            deliverables=False,
            lang=lang,
        )
    graded.submission = _(THIS_NOTEBOOK)
    result = CheckResult(**{f.name: getattr(graded, f.name) for f in fields(LabResult)})
    checked = {t.function for t in result.tests}
    notes = [_not_defined(lab, f, extracted, lang).split("\n")[0] for f in extracted.missing
             if f in checked]
    notes += [_("Skipped {cell}.").format(cell=s.translated(lang)) for s in extracted.skipped]
    _display(HtmlReport(result, heatmap_png(result), notes))
    return result


def _shell():
    """The running IPython shell, or None (no IPython installed, or not inside one)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _display(report: object) -> None:
    from IPython.display import display

    display(report)
