"""attn-grade: an exercise kit and autograder for transformer attention in NumPy."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attn_grade.notebook_check import CheckResult

__version__ = "0.1.0"


def check(lab: str, test: str | None = None, *, lang: str | None = None) -> CheckResult:
    """In a notebook: grade `lab` (or only its test `test`) on the functions defined in
    this notebook, show the report inline and return the result.

        import attn_grade
        attn_grade.check("lab01")
        attn_grade.check("lab01", "softmax_rows")
    """
    from attn_grade.notebook_check import check as check_notebook  # imported when called

    return check_notebook(lab, test, lang=lang)
