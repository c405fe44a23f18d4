"""Turn what a student hands in into a folder of lab modules the runner can import.

Accepted: a lab folder; a .zip of one (its single top folder is entered); one .py
file holding the lab's functions; an .ipynb notebook (the exercise functions are
extracted by attn_grade.notebook, never executed here). A single file is written
under every module name of the lab, so `from softmax import softmax` still works.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from attn_grade.errors import AttnGradeError, UsageError
from attn_grade.labspec import LabSpec
from attn_grade.tempdirs import private_tempdir

MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_ZIP_FILES = 2000


class SubmissionError(AttnGradeError):
    """A submission that cannot be read: a bad zip, a notebook without the functions..."""

    exit_code = 1


@contextmanager
def open_submission(path: Path, lab: LabSpec) -> Iterator[Path]:
    """Yield a folder holding the submission's lab modules (temporary unless `path` is one)."""
    path = Path(path)
    if path.is_dir():
        yield path.resolve()
        return
    if not path.is_file():
        raise UsageError(
            f"No folder or file {path}: point --path at your lab folder (from inside it: --path .)."
        )
    suffix = path.suffix.lower()
    if suffix not in (".zip", ".py", ".ipynb"):
        raise UsageError(f"{path.name}: expected a folder, a .zip, a .py or an .ipynb file")
    with private_tempdir("submission") as tmp:
        folder = Path(tmp)
        if suffix == ".zip":
            folder = _unzip(path, folder)
        elif suffix == ".py":
            _write_everywhere(path.read_text(encoding="utf-8", errors="replace"), lab, folder)
        else:
            from attn_grade.notebook import extract_code

            _write_everywhere(extract_code(path, lab), lab, folder)
        yield folder.resolve()


def _write_everywhere(code: str, lab: LabSpec, folder: Path) -> None:
    for module in lab.modules:
        (folder / f"{module}.py").write_text(code, encoding="utf-8")


def _unzip(path: Path, into: Path) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path.name} is not a readable zip file: {exc}") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise SubmissionError(f"{path.name} is too large to be a lab submission")
        for member in members:
            target = (into / member.filename).resolve()
            if not target.is_relative_to(into.resolve()) or stat.S_ISLNK(
                member.external_attr >> 16
            ):
                raise SubmissionError(f"{path.name}: unsafe path {member.filename!r} in the zip")
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
    entries = [p for p in into.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into
