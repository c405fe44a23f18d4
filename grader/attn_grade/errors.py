"""Domain errors. The CLI maps each to a message and an exit code in one place."""


class AttnGradeError(Exception):
    """Base class: a problem the user can fix, shown without a traceback."""

    exit_code = 2


class UsageError(AttnGradeError):
    """A wrong command line: unknown lab, missing folder, bad option."""


class LabSpecError(AttnGradeError):
    """A lab spec (lab.toml) that does not follow the format."""


class ReferenceMissingError(AttnGradeError):
    """Something needs the reference solutions and they are not here."""
