"""The language of the hints: English or Portuguese (many of the kit's students speak it)."""

from __future__ import annotations

import os

from attn_grade.errors import UsageError

LANGUAGES = ("en", "pt")


def default_language() -> str:
    """pt when $ATTN_GRADE_LANG, $LC_ALL or $LANG (the first one set) starts with pt, else en."""
    for variable in ("ATTN_GRADE_LANG", "LC_ALL", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "pt" if value.lower().startswith("pt") else "en"
    return "en"


def checked_language(lang: str | None) -> str:
    """`lang`, or the default when None; a UsageError for anything but en or pt."""
    lang = lang or default_language()
    if lang not in LANGUAGES:
        raise UsageError(f"--lang must be en or pt, not {lang!r}")
    return lang
