"""Turn what a student hands in into a folder of lab modules the runner can import.

Accepted: a lab folder; a .zip of one; one .py file holding the lab's functions; an
.ipynb notebook (the exercise functions are extracted by attn_grade.notebook, never
executed here). In a folder or a zip, the lab folder is the one holding the lab's
modules, found up to a few levels down (outer/lab01/softmax.py). A single .py file
keeps its own name, and each lab module becomes a small alias that loads it, so
`from softmax import softmax` works and an error names the student's file and line;
a notebook's functions are written cell by cell, so an error names the cell and line.

Whatever the submission holds, however malformed, is the student's: it raises
SubmissionError (an `invalid` verdict, exit code 1 for `check`), or
NotASubmissionError when there is nothing to grade (exit code 2), never anything else.
"""

from __future__ import annotations

import errno
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from attn_grade.errors import AttnGradeError, UsageError
from attn_grade.labspec import LabSpec
from attn_grade.report.plain import one_line
from attn_grade.tempdirs import private_tempdir
from attn_grade.translation import N_, Sentence

if TYPE_CHECKING:
    from attn_grade.notebook import Extracted

MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_ZIP_FILES = 2000
MAX_SOURCE_BYTES = 2 * 1024 * 1024  # a single .py file
SEARCH_DEPTH = 3  # how far below a folder or zip the lab folder may be
SEARCH_FOLDERS = 500
SKIPPED_FOLDERS = {"__MACOSX", "__pycache__", ".ipynb_checkpoints"}
SINGLE_FILE_MODULE = "attn_grade_submission"  # the name a single .py file is imported as
GRADER_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.ENOMEM, errno.EMFILE, errno.ENFILE}


class SubmissionError(AttnGradeError):
    """A submission that cannot be read: a bad zip, a notebook without the functions..."""

    exit_code = 1


class NotASubmissionError(SubmissionError):
    """Nothing to grade: an empty folder, or none of the lab's files in it."""

    exit_code = 2


@contextmanager
def open_submission(path: Path, lab: LabSpec) -> Iterator[Path]:
    """Yield a folder holding the submission's lab modules (temporary unless `path` is one)."""
    path = Path(path)
    if path.is_dir():
        yield lab_folder(path.resolve(), lab, one_line(path))
        return
    if not path.is_file():
        raise UsageError(Sentence(
            N_("No folder or file {path}: point --path at your lab folder "
               "(from inside it: --path .)."),
            {"path": one_line(path)},
        ))
    suffix = path.suffix.lower()
    if suffix not in (".zip", ".py", ".ipynb"):
        raise UsageError(Sentence(
            N_("{name}: expected a folder, a .zip, a .py or an .ipynb file"),
            {"name": one_line(path.name)},
        ))
    with private_tempdir("submission") as tmp:
        folder = Path(tmp)
        if suffix == ".zip":
            folder = lab_folder(_unzip(path, folder), lab, one_line(path.name))
        elif suffix == ".py":
            write_single_file(_read_source(path), path.name, lab, folder)
        else:
            from attn_grade.notebook import extract

            write_notebook(extract(path, lab), lab, folder)
        yield folder.resolve()


def _read_source(path: Path) -> bytes:
    """A single .py file's bytes, as they are: Python reads its encoding (PEP 263)."""
    with path.open("rb") as f:
        source = f.read(MAX_SOURCE_BYTES + 1)
    if len(source) > MAX_SOURCE_BYTES:
        raise SubmissionError(Sentence(
            N_("{name} is larger than {mib} MiB: that is not the source of a lab"),
            {"name": one_line(path.name), "mib": MAX_SOURCE_BYTES // 2**20},
        ))
    return source


def write_single_file(source: bytes, name: str, lab: LabSpec, folder: Path) -> None:
    """The student's file under its own name, and each lab module as an alias of it.

    One module object serves every lab module, as if they were one file; a traceback
    or a SyntaxError names `name` and its own line numbers.
    """
    stem = Path(name).stem
    scripts = {str(d.options.get("script", "")) for d in lab.deliverables}
    if stem not in lab.modules and (name in scripts or name.startswith(".")):
        name = f"submitted_{name.lstrip('.')}"  # not a deliverable script the grader would run
    (folder / name).write_bytes(source)
    _write_aliases(name, lab, folder)


def write_notebook(extracted: Extracted, lab: LabSpec, folder: Path) -> None:
    """A notebook's extracted functions as the lab's modules, cell by cell (an error
    names the cell and its line)."""
    from attn_grade.notebook import write_cells

    _write_aliases(write_cells(extracted, folder), lab, folder)


def _write_aliases(name: str, lab: LabSpec, folder: Path) -> None:
    """Each lab module (but `name` itself) as an alias of the module in file `name`."""
    for module in lab.modules:
        if module != Path(name).stem:
            (folder / f"{module}.py").write_text(_alias(name), encoding="utf-8")


def _alias(name: str) -> str:
    return f"""# Written by attn-grade: the lab's functions are in {name!r}, loaded once.
import importlib.util as _util
import os as _os
import sys as _sys

_module = _sys.modules.get({SINGLE_FILE_MODULE!r})
if _module is None:
    _spec = _util.spec_from_file_location(
        {SINGLE_FILE_MODULE!r}, _os.path.join(_os.path.dirname(__file__), {name!r})
    )
    _module = _util.module_from_spec(_spec)
    _sys.modules[{SINGLE_FILE_MODULE!r}] = _module
    try:
        _spec.loader.exec_module(_module)
    except BaseException:
        del _sys.modules[{SINGLE_FILE_MODULE!r}]
        raise
_sys.modules[__name__] = _module
"""


def lab_folder(root: Path, lab: LabSpec, shown: str) -> Path:
    """The folder under `root` (itself, or up to SEARCH_DEPTH levels down) holding the lab's
    modules. NotASubmissionError if there is none, SubmissionError if there are several."""
    wanted = {f"{m}.py" for m in lab.modules}
    found, visited = [], 0
    for folder, subfolders, files in os.walk(root):  # symlinks are not followed
        depth = len(Path(folder).relative_to(root).parts)
        visited += 1
        if wanted & set(files):
            found.append(Path(folder))
            subfolders.clear()  # a lab folder's own subfolders are its business
            continue
        subfolders[:] = sorted(
            d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith(".")
        )
        if depth >= SEARCH_DEPTH or visited > SEARCH_FOLDERS:
            subfolders.clear()
    if len(found) == 1:
        return found[0]
    names = ", ".join(sorted(wanted))
    if found:
        where = ", ".join(one_line(p.relative_to(root)) for p in found[:5])
        raise SubmissionError(Sentence(
            N_("{shown} holds {n} folders with the lab's files ({where}): hand in one lab folder"),
            {"shown": shown, "n": len(found), "where": where},
        ))
    raise NotASubmissionError(Sentence(
        N_("{shown}: nothing to grade, {contents}. {lab} needs {names}."),
        {"shown": shown, "contents": _contents(root), "lab": lab.id, "names": names},
    ))


def _contents(root: Path) -> Sentence:
    try:
        entries = sorted(p.name for p in root.iterdir() if p.name not in SKIPPED_FOLDERS)
    except OSError:
        entries = []
    if not entries:
        return Sentence(N_("it is empty"))
    shown = ", ".join(one_line(e) for e in entries[:8]) + (", ..." if len(entries) > 8 else "")
    return Sentence(N_("none of the lab's files in it (found: {found})"), {"found": shown})


def _unzip(path: Path, into: Path) -> Path:
    """Extract `path` into `into`; a damaged, hostile or huge zip is the student's error."""
    name = one_line(path.name)
    try:
        with zipfile.ZipFile(path) as archive:
            _extract(archive, into, name)
    except SubmissionError:
        raise
    except OSError as exc:
        if exc.errno in GRADER_FAILURES:
            raise  # the grader's disk or memory, not the student's zip
        raise SubmissionError(_unreadable_zip(name, exc)) from exc
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        lzma.LZMAError,
        EOFError,
        RuntimeError,  # an encrypted member
        NotImplementedError,  # a compression method zipfile does not know
        ValueError,
        UnicodeError,
    ) as exc:
        raise SubmissionError(_unreadable_zip(name, exc)) from exc
    entries = [p for p in into.iterdir() if p.name not in SKIPPED_FOLDERS]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into


def _extract(archive: zipfile.ZipFile, into: Path, name: str) -> None:
    members = archive.infolist()
    if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        raise SubmissionError(_too_large(name))
    root, written = into.resolve(), 0
    for member in members:
        target = (into / member.filename).resolve()
        if not target.is_relative_to(root) or stat.S_ISLNK(member.external_attr >> 16):
            raise SubmissionError(Sentence(N_("{name}: unsafe path {path} in the zip"),
                                           {"name": name, "path": repr(one_line(member.filename))}))
        if member.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, target.open("wb") as out:
            while chunk := source.read(1024 * 1024):  # the sizes in a zip may lie
                written += len(chunk)
                if written > MAX_ZIP_BYTES:
                    raise SubmissionError(_too_large(name))
                out.write(chunk)


def _too_large(name: str) -> Sentence:
    return Sentence(N_("{name} is too large to be a lab submission"), {"name": name})


def _unreadable_zip(name: str, exc: BaseException) -> Sentence:
    return Sentence(N_("{name} is not a readable zip file: {reason}"),
                    {"name": name, "reason": _reason(exc)})


def _reason(exc: BaseException) -> str:
    return one_line(str(exc) or type(exc).__name__)[:200]
