"""The language of the hints: English or Portuguese (many of the kit's students speak it)."""

from __future__ import annotations

import os
import re

from attn_grade.errors import UsageError
from attn_grade.translation import N_, Sentence

LANGUAGES = ("en", "pt")


def default_language() -> str:
    """pt when $ATTN_GRADE_LANG, or else the locale ($LC_ALL, $LC_MESSAGES, $LANG: the
    first one set, as gettext reads them), starts with pt (pt, pt_BR.UTF-8), else en.
    Lenient: a wrong $ATTN_GRADE_LANG is refused by checked_language, not here."""
    for variable in ("ATTN_GRADE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "pt" if value.lower().startswith("pt") else "en"
    return "en"


def checked_language(lang: str | None) -> str:
    """`lang` (en, pt; pt_BR and pt-BR mean pt), or the default when None; a UsageError
    for anything else, and for a $ATTN_GRADE_LANG other than en or pt (pt_BR, en_US.UTF-8
    and the like too) even when `lang` is given: a wrong ATTN_GRADE_* variable is a
    usage error."""
    check_environment()
    lang = lang or default_language()
    if lang.replace("-", "_").lower() in ("pt_br", "pt_br.utf-8"):
        lang = "pt"
    if lang not in LANGUAGES:
        raise UsageError(Sentence(N_("--lang must be en or pt, not {lang}"), {"lang": repr(lang)}))
    return lang


def output_language(lang: str | None) -> str:
    """The language of what an instructor's command writes (feedback, a bundle, a notebook):
    `lang`, else English, whatever the locale; $ATTN_GRADE_LANG checked all the same."""
    return checked_language(lang or "en")


def check_environment() -> None:
    """A UsageError when $ATTN_GRADE_LANG is set to anything but en or pt (its region and
    encoding allowed: pt_BR.UTF-8, en-US)."""
    value = os.environ.get("ATTN_GRADE_LANG", "")
    if value and re.split(r"[_.@-]", value.lower())[0] not in LANGUAGES:
        raise UsageError(Sentence(N_("ATTN_GRADE_LANG must be en or pt, not {value}"),
                                  {"value": repr(value)}))
