"""Checks of command-line values shared by the commands, and the one way an error is shown.

Wrong values are refused at the option (typer's min=, exists= and the callbacks here)
before any work starts; `show_error` prints every error the same way: one line on
stderr, and with --json also one JSON object {"error", "exit_code"} on stdout.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import typer

from attn_grade.errors import UsageError
from attn_grade.translation import N_, Sentence, gettext_for

USAGE = 2  # exit code of a usage error
GRADER_FAILED = 3  # exit code of a failure of the grader itself


def show_error(message: str, exit_code: int, as_json: bool) -> None:
    """Print `message` as one line on stderr (and the JSON error object with --json)."""
    # one line of plain text, whatever the message held (it may quote a submission's name)
    line = "".join(c if c.isprintable() else "?" for c in " ".join(str(message).split()))
    if as_json:
        sys.stdout.write(json.dumps({"error": line, "exit_code": exit_code}) + "\n")
        sys.stdout.flush()
    sys.stderr.write(f"attn-grade: {line}\n")
    sys.stderr.flush()


def solutions_option(help: str = "Folder of the reference solutions.") -> typer.models.OptionInfo:  # noqa: A002
    """The --solutions option of every command: an existing folder, checked before any work.
    Whether it holds the lab's reference is checked by reference.find_solutions."""
    return typer.Option(exists=True, file_okay=False, help=help)


def positive_seconds(value: float | None) -> float | None:
    """Callback of a seconds option: a positive, finite number (NaN and inf are refused)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value} is not a positive number of seconds")
    return value


def budget_seconds(value: float | None) -> float | None:
    """Callback of a time budget option: 0 (no budget) or a positive, finite number."""
    if value is not None and value != 0:
        positive_seconds(value)
    return value


def given_path(path: Path) -> Path:
    """An absolute `path` as the user means it: missing/../x is x, even when missing/ does
    not exist (the kernel would refuse it, and mkdir -p would create missing/); a link's
    .. is the folder the link is in, as the kernel reads it."""
    return path.expanduser().resolve()


def new_file_target(path: Path, what: str, example: str) -> Path:
    """A file about to be written at `path` (returned absolute): not a folder, in a folder
    that exists."""
    path = given_path(path)
    if path.is_dir():
        raise UsageError(Sentence(
            N_("{option} {path} is a folder: give the file to write, e.g. {example}"),
            {"option": what, "path": str(path), "example": str(path / example)}))
    if not path.parent.is_dir():
        raise UsageError(Sentence(N_("{option} {path}: the folder {folder} does not exist"),
                                  {"option": what, "path": str(path), "folder": str(path.parent)}))
    return path


def folder_target(path: Path, what: str) -> Path:
    """A folder about to be written in (returned absolute): created if absent; a UsageError
    naming the path if it is a file or cannot be created."""
    path = given_path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(Sentence(N_("{option} {path} is a file, not a folder"),
                                  {"option": what, "path": str(path)}))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(Sentence(N_("{option} {path}: cannot create it ({error})"),
                                  {"option": what, "path": str(path),
                                   "error": exc.strerror or str(exc)})) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(Sentence(N_("{option} {path}: cannot write in it"),
                                  {"option": what, "path": str(path)}))
    return path


def os_error_message(exc: OSError, user_paths: list[Path], lang: str = "en") -> tuple[str, int]:
    """The message and exit code of an OSError that reached a command: a usage error when it
    names a path the user gave (or one inside it), else a failure of the grader."""
    _ = gettext_for(lang)
    for name in (exc.filename, exc.filename2):
        if name is None:
            continue
        failed = Path(os.path.abspath(os.fsdecode(name)))
        for given in user_paths:
            given = Path(os.path.abspath(given))
            if failed.is_relative_to(given) or given.is_relative_to(failed):
                return f"{failed}: {exc.strerror or exc}", USAGE
    return _("the grader failed ({error}); this is not a verdict on your code").format(
        error=exc
    ), GRADER_FAILED
