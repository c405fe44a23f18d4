"""The language of the hints: English or Portuguese (many of the kit's students speak it)."""

from __future__ import annotations

import os

from attn_grade.errors import UsageError
from attn_grade.translation import N_, Sentence

LANGUAGES = ("en", "pt")


def default_language() -> str:
    """pt when $ATTN_GRADE_LANG, or else the locale ($LC_ALL, $LC_MESSAGES, $LANG: the
    first one set, as gettext reads them), starts with pt (pt, pt_BR.UTF-8), else en."""
    for variable in ("ATTN_GRADE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "pt" if value.lower().startswith("pt") else "en"
    return "en"


def checked_language(lang: str | None) -> str:
    """`lang` (en, pt; pt_BR and pt-BR mean pt), or the default when None; a UsageError
    for anything else."""
    lang = lang or default_language()
    if lang.replace("-", "_").lower() in ("pt_br", "pt_br.utf-8"):
        lang = "pt"
    if lang not in LANGUAGES:
        raise UsageError(Sentence(N_("--lang must be en or pt, not {lang}"), {"lang": repr(lang)}))
    return lang
