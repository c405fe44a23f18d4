"""Extract a lab's exercise functions from a student's notebook (implemented in issue 4)."""

from __future__ import annotations

from pathlib import Path

from attn_grade.labspec import LabSpec


def extract_code(notebook: Path, lab: LabSpec) -> str:
    """The source code of the lab's functions found in `notebook`, ready to import."""
    from attn_grade.submission import SubmissionError

    raise SubmissionError(f"{notebook.name}: notebook submissions are not supported yet")
