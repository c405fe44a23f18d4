"""Translated messages: gettext catalogs, one per language, compiled into the package.

Every sentence a user reads is written in English in the code, wrapped as
``_("... {name} ...").format(name=...)`` with ``_ = translator(lang).gettext``; the
Portuguese lives in ``locale/pt_BR/LC_MESSAGES/attn_grade.po``, compiled to the ``.mo``
beside it. Both are committed: the runtime needs only Python's gettext and the ``.mo``
(no Babel, no build step), and tests/test_translation.py fails when the ``.mo`` is stale,
when a message of the code is missing from the catalog, lacks a translation, or when a
translation's placeholders differ from the English ones.

Updating the catalog (Babel, in the [dev] extra)::

    pybabel extract -k _ -k N_ --no-location --sort-output -o /tmp/attn_grade.pot grader/attn_grade
    pybabel update -i /tmp/attn_grade.pot -d grader/attn_grade/locale -D attn_grade -l pt_BR \
        --no-fuzzy-matching --ignore-obsolete
    # translate the new entries, then
    pybabel compile -d grader/attn_grade/locale -D attn_grade

(Without the ``pybabel`` script, ``python -m babel.messages.frontend`` takes the same
arguments.) Babel does not look inside f-strings: mark a message outside one (a test
fails otherwise).

A message made where the language is not known yet (the runner's, an error raised deep
in the engine) is a ``Sentence``: its template marked with N_ and its values; it is
translated where it is shown. ``AttnGradeError(Sentence(...))`` is such an error: the
CLI shows it in --lang's language.

Text from lab specs (test descriptions, hints, deliverable titles) is data of the lab,
not of the code: it is translated in lab.toml itself (``description_pt``, ``hint_pt``,
``title_pt``), so that a new lab adds files and never edits the engine's catalog. So are
its handouts: README.pt-BR.md, CHECKLIST.pt-BR.md and REPORT.pt-BR.md beside the English
ones (tests/test_translation.py keeps the two in step).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DOMAIN = "attn_grade"
LOCALE_DIR = Path(__file__).parent / "locale"
# the kit's language codes -> gettext's locale names
GETTEXT_LOCALES = {"pt": "pt_BR"}


@cache
def translator(lang: str) -> gettext.NullTranslations:
    """The translations for `lang` ("en" or "pt"): English is the code's own text."""
    if lang not in GETTEXT_LOCALES:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[GETTEXT_LOCALES[lang]])


def gettext_for(lang: str) -> Callable[[str], str]:
    """The `_` function for `lang`."""
    return translator(lang).gettext


def N_(message: str) -> str:  # noqa: N802 (gettext's name for a message marked, not translated)
    """Mark `message` for extraction; it is translated later, where the language is known."""
    return message


@dataclass(frozen=True)
class Sentence:
    """A message as data: an English template marked with N_ and the values of its
    placeholders (text, numbers, or other Sentences). The engine keeps it beside the
    English text it shows by default; a reader in another language translates it."""

    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        return self.translated("en")

    def translated(self, lang: str) -> str:
        """The sentence in `lang`, nested Sentences included."""
        return self.translated_with(gettext_for(lang))

    def translated_with(self, _: Callable[[str], str]) -> str:
        """The sentence translated with `_` (a gettext function), nested Sentences included."""
        values = {
            k: v.translated_with(_) if isinstance(v, Sentence) else v for k, v in self.params.items()
        }
        return _(self.template).format(**values)

    def with_text(self, change: Callable[[str], str]) -> Sentence:
        """The same sentence with `change` applied to every text value (e.g. a path)."""
        params = {
            k: v.with_text(change) if isinstance(v, Sentence) else change(v) if isinstance(v, str) else v
            for k, v in self.params.items()
        }
        return Sentence(self.template, params)


_WHERE = re.compile(r"(?P<file>.+?), line (?P<line>\d+)(?:, in (?P<function>.+))?")


def where_sentence(where: str) -> Sentence | str:
    """A place in the student's code as a Sentence (translated where shown, like
    where_text); anything else as it is."""
    found = _WHERE.fullmatch(where)
    if found is None:
        return where
    if found["function"] is None:
        return Sentence(N_("{file}, line {line}"), {"file": found["file"], "line": found["line"]})
    return Sentence(N_("{file}, line {line}, in {function}"), found.groupdict())


def where_text(where: str, _: Callable[[str], str]) -> str:
    """A place in the student's code, 'attention.py, line 27, in f' (the sandbox writes it
    like a Python traceback), translated with `_`; anything else as it is."""
    place = where_sentence(where)
    return place.translated_with(_) if isinstance(place, Sentence) else place
