"""Domain errors. The CLI maps each to a message and an exit code in one place."""

from __future__ import annotations

from attn_grade.translation import Sentence


class AttnGradeError(Exception):
    """Base class: a problem the user can fix, shown without a traceback.

    The message is text, or a Sentence (translation.py): str(error) is then its English,
    and `translated(lang)` the same message in the user's language."""

    exit_code = 2

    def __init__(self, message: object = "", *args: object) -> None:
        self.sentence = message if isinstance(message, Sentence) else None
        super().__init__(message.english() if isinstance(message, Sentence) else message, *args)

    def translated(self, lang: str) -> str:
        """The message in `lang` (as it is when it was not written as a Sentence)."""
        return self.sentence.translated(lang) if self.sentence is not None else str(self)


class UsageError(AttnGradeError):
    """A wrong command line: unknown lab, missing folder, bad option."""


class LabSpecError(AttnGradeError):
    """A lab spec (lab.toml) that does not follow the format."""


class ReferenceMissingError(AttnGradeError):
    """Something needs the reference solutions and they are not here."""
