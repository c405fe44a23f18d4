"""Grade a class: one entry of a submissions folder per student, in parallel, resumable.

Each entry (a folder, .zip, .py or .ipynb; the student id is its name without the
suffix) is graded by `grading.grade()` in one of `jobs` worker processes. A worker
is trusted grader code: it grades, writes the student's feedback files and report,
and sends that report (a plain dict) back. Student code still runs only in the
children that grade() starts. A worker that dies or overruns its budget is killed
and replaced; its student gets a "grader-error" row, and the batch goes on.

Nothing here prints: progress goes through a callback (cli_batch.py renders it).
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import secrets
import signal
import stat
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from attn_grade import gradebook as gb
from attn_grade.errors import AttnGradeError, UsageError
from attn_grade.labspec import LabSpec, load_lab
from attn_grade.report.plain import one_line
from attn_grade.safe_files import tree_files
from attn_grade.tempdirs import private_tempdir
from attn_grade.translation import N_, Sentence

SUBMISSION_SUFFIXES = (".zip", ".py", ".ipynb")
MAX_ID_BYTES = 120  # the results folder students/<id> must fit a file name (255 bytes)
SKIPPED_NAMES = {"__MACOSX", "__pycache__", ".ipynb_checkpoints"}
# Imported once by the forkserver that forks the workers (sandbox uids are reserved
# machine-wide with lock files, so workers may share the runner's module state).
WORKER_PRELOAD = [
    "attn_grade.batch",
    "attn_grade.grading",
    "attn_grade.report.terminal",
    "attn_grade.report.heatmap_png",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
]


@dataclass(frozen=True)
class Entry:
    student: str
    path: Path
    note: str = ""  # why the id is not the entry's name, if it is not


@dataclass(frozen=True)
class BatchConfig:
    lab: str
    solutions: Path
    out: Path
    lang: str = "en"
    time_limit: float | None = None  # seconds per test; None: the lab's
    png: bool = True  # draw each student's heatmap PNG (the largest cost after grading)


@dataclass(frozen=True)
class Task:
    entry: Entry
    seed: int
    fingerprint: str


@dataclass
class Plan:
    tasks: list[Task]
    kept: list[dict[str, Any]]  # reports of students a --resume does not regrade
    previous: dict[str, float | None] = field(default_factory=dict)  # scores before a regrade


def discover(folder: Path) -> list[Entry]:
    """One entry per student: every visible item of `folder`, sorted by entry name.

    Files of other kinds are entries too: they get an "invalid" row, not silence (and
    are left out of the class statistics). The student id is the entry's name without
    its suffix, shown as plain text (a control character becomes an escape such as
    `\x0a`). Ids are unique: when two entries would share one (alice.py and alice.zip;
    x.zip and x.zip.py), each keeps its whole name, and a clash left after that gets a
    number; such an entry's `note` says so. A UsageError if there is no entry at all.
    """
    if not folder.is_dir():
        raise UsageError(Sentence(N_("{path} is not a folder of submissions"),
                                  {"path": one_line(folder)}))
    items = sorted(
        p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in SKIPPED_NAMES
    )
    if not items:
        raise UsageError(Sentence(N_(
            "{path} holds no submissions: expected one folder, .zip, .py or .ipynb per "
            "student"), {"path": one_line(folder)}))
    names = [one_line(p.name) for p in items]
    stems = [one_line(p.stem) if p.is_file() else name for p, name in zip(items, names)]
    entries, taken = [], set()
    for n, (item, name, stem) in enumerate(zip(items, names, stems)):
        notes = [] if name == item.name else ["its name holds control characters"]
        clash = [names[m] for m in range(len(items)) if m != n and stem in (stems[m], names[m])]
        student = name if clash else stem  # alice.py and alice.zip; x.zip and x.zip.py
        if clash:
            notes.append(f"{', '.join(clash)} would have the same id '{stem}'")
        if len(student.encode("utf-8", "surrogateescape")) > MAX_ID_BYTES:  # a folder name
            digest = hashlib.sha256(os.fsencode(item.name)).hexdigest()[:10]
            student = student[: MAX_ID_BYTES // 4] + "~" + digest
            notes.append("its name is too long for a results folder")
        unique, number = student, 1
        while unique in taken:  # names that differ only in their control characters
            number += 1
            unique = f"{student}~{number}"
        taken.add(unique)
        note = f"entry {name}: {'; '.join(notes)}: graded as '{unique}'" if notes else ""
        entries.append(Entry(unique, item, note))
    return entries


def fingerprint(path: Path) -> str:
    """sha256 of a submission's content (names and bytes), to notice a resubmission.

    Only regular files are read (a FIFO would block, a device never ends), in chunks,
    without following links; anything else counts by its kind."""
    digest = hashlib.sha256()
    files = [path] if not path.is_dir() else tree_files(path)  # no recursion limit
    for file in files:
        name = str(file.relative_to(path) if file != path else file.name)
        digest.update(name.encode("utf-8", "surrogateescape"))
        try:
            digest.update(_content_digest(file))
        except OSError as exc:
            digest.update(f"unreadable:{exc.errno}".encode())
    return digest.hexdigest()


def _content_digest(file: Path) -> bytes:
    info = file.lstat()
    if stat.S_ISLNK(info.st_mode):
        return b"link:" + os.fsencode(os.readlink(file))
    if not stat.S_ISREG(info.st_mode):
        return f"kind:{stat.S_IFMT(info.st_mode)}".encode()
    content = hashlib.sha256()
    fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(1024 * 1024):
            content.update(chunk)
    return content.digest()


def plan(
    config: BatchConfig,
    entries: list[Entry],
    *,
    resume: bool,
    seed: int | None = None,
    new_seeds: bool = False,
) -> Plan:
    """Which students to grade, with which seed.

    --resume keeps a finished report whose submission is unchanged (grader errors are
    retried). A regrade reuses each student's recorded seed unless `seed` or `new_seeds`.
    """
    result = Plan([], [])
    for entry in entries:
        fp = fingerprint(entry.path)
        old = gb.read_report(config.out, entry.student)
        if (
            resume
            and old is not None
            and old.get("fingerprint") == fp
            and old.get("lab") == config.lab
            and old.get("status") != gb.GRADER_ERROR
        ):
            result.kept.append(old)
            continue
        if old is not None:
            result.previous[entry.student] = old.get("score")
        chosen = seed
        if chosen is None and old is not None and not new_seeds:
            chosen = old.get("seed") if isinstance(old.get("seed"), int) else None
        if chosen is None:
            chosen = secrets.randbelow(2**31)
        result.tasks.append(Task(entry, chosen, fp))
    return result


def submission_budget(lab: LabSpec, config: BatchConfig) -> float:
    """Seconds a worker may spend on one submission before it is presumed stuck.

    A safety net for grader bugs only: the runner already limits every student call.
    """
    from attn_grade.runner import Limits

    per_call = Limits().startup_limit + (config.time_limit or lab.time_limit)
    return per_call * (len(lab.tests) + 2 + len(lab.deliverables)) + 60.0


# -- grading one entry (inside a worker) -----------------------------------------------


def grade_entry(config: BatchConfig, task: Task) -> dict[str, Any]:
    """Grade one student, write their feedback and report; return the report."""
    from attn_grade.grading import grade
    from attn_grade.runner import Limits
    from attn_grade.sandbox.launch import keep_private
    from attn_grade.submission import SubmissionError

    lab = load_lab(config.lab)
    entry = task.entry
    started = time.monotonic()
    limits = Limits(time_limit=config.time_limit) if config.time_limit else None
    # as root: no student process may read the other submissions, the results or the reference
    keep_private(entry.path.parent, config.out, config.solutions)
    copied: Path | None = None
    try:
        with _working_copy(entry.path) as path:
            copied = path
            result = grade(
                config.lab,
                path,
                solutions=config.solutions,
                seed=task.seed,
                lang=config.lang,
                limits=limits,
                shown=str(entry.path),  # messages name the entry, never the private copy
            )
        result.submission = str(entry.path)
        report = _write_feedback(config.out, entry.student, result, config.png)
    except (SubmissionError, UsageError) as exc:
        text = exc.translated(config.lang)
        if copied is not None:  # "<tmp>/attn-grade-batch-.../alice: nothing to grade"
            for name in {str(copied.resolve()), str(copied)}:
                text = text.replace(name, str(entry.path))
        report = gb.error_report(
            lab, entry.student, str(entry.path), gb.INVALID, text, task.seed
        )
    except Exception as exc:  # noqa: BLE001 - the grader's own failure, never the student's
        report = _grader_error(config, lab, task, exc)
    report.update(fingerprint=task.fingerprint, seconds=round(time.monotonic() - started, 3))
    gb.write_report(config.out, report)
    return report


def _grader_error(
    config: BatchConfig, lab: LabSpec, task: Task, exc: BaseException
) -> dict[str, Any]:
    name = task.entry.student
    if isinstance(exc, AttnGradeError):  # e.g. runner.GraderError: the sandbox failed
        message = str(exc) if str(exc).startswith("grader error") else f"grader error: {exc}"
    else:
        message = f"grader error: {type(exc).__name__}: {exc}"
        trace = "".join(traceback.format_exception(exc))
        gb.write_atomic(gb.student_dir(config.out, name) / "grader-error.txt", trace)
    return gb.error_report(lab, name, str(task.entry.path), gb.GRADER_ERROR, message, task.seed)


@contextmanager
def _working_copy(path: Path) -> Iterator[Path]:
    """Every entry is graded from a private copy (0700, the grader's): the scripts a lab
    runs write files next to the code, and the grader never writes into a submission.
    Plain folders and single-link regular files only: symbolic links, hard links and
    special files stay behind, and the copy never follows a link. An entry that is
    itself a link (to another student's file, say) is invalid."""
    from attn_grade.runner import SUBMISSION_COPY_LIMIT
    from attn_grade.safe_files import copy_tree, open_folder, read_regular, write_file
    from attn_grade.submission import SubmissionError

    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise SubmissionError(Sentence(N_("{name} is a symbolic link, not a submission"),
                                       {"name": path.name}))
    with private_tempdir("batch") as tmp:
        copy = Path(tmp) / path.name
        if stat.S_ISDIR(st.st_mode):
            copy_tree(path, copy, SUBMISSION_COPY_LIMIT, skip_hidden_folders=False)
            yield copy
            return
        folder = open_folder(path.parent)
        try:
            data = read_regular(folder, path.name, SUBMISSION_COPY_LIMIT)
        finally:
            os.close(folder)
        if data is None:
            raise SubmissionError(Sentence(N_("{name} is not a plain file of at most 50 MiB"),
                                           {"name": path.name}))
        write_file(Path(tmp), path.name, data)
        yield copy


FEEDBACK_HTML = "feedback.html"  # beside feedback.txt (gb.FEEDBACK_NAME)


def _write_feedback(out: Path, student: str, result: Any, png: bool = True) -> dict[str, Any]:
    """The heatmap PNG and the text and HTML reports a student can read; returns the
    report dict. Written like every result (gradebook.write_atomic): 0600, never through
    a link."""
    from rich.console import Console

    from attn_grade.report.heatmap_png import PNG_NAME
    from attn_grade.report.html import render_html
    from attn_grade.report.terminal import print_report
    from attn_grade.safe_files import remove_file

    folder = gb.make_student_dir(out, student)
    image = io.BytesIO()
    if png and result.example is not None:
        from attn_grade.report.heatmap_png import draw_heatmaps
        from attn_grade.translation import gettext_for

        _ = gettext_for(result.lang)
        title = _("{lab}: attention weights of {student}").format(lab=result.lab, student=student)
        draw_heatmaps(result.example, image, title, result.lang)
        gb.write_atomic(folder / PNG_NAME, image.getvalue())
        result.heatmap_png = PNG_NAME
    else:
        remove_file(folder, PNG_NAME)  # an earlier grading's heatmap is stale
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=100, color_system=None, force_terminal=False, highlight=False
    )
    print_report(result, console)
    gb.write_atomic(folder / gb.FEEDBACK_NAME, buffer.getvalue())
    gb.write_atomic(folder / FEEDBACK_HTML, render_html(result, image.getvalue() or None))
    report = result.to_dict()
    report.update(student=student, status=gb.GRADED, error=None)
    return report


# -- the pool of workers -----------------------------------------------------------------


def _serve(connection: Any, config: BatchConfig) -> None:
    """A worker's loop: grade each task it is sent until told to stop (None) or orphaned."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        connection.send(grade_entry(config, task))


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


class _Worker:
    def __init__(self, context: Any, config: BatchConfig):
        self.connection, theirs = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(theirs, config), daemon=True, name="attn-grade-worker"
        )
        self.process.start()
        theirs.close()
        self.task: Task | None = None
        self.deadline = 0.0

    def assign(self, task: Task, budget: float) -> None:
        self.task, self.deadline = task, time.monotonic() + budget
        self.connection.send(task)

    def stop(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.connection.send(None)
            except OSError:
                kill = True
        self.process.join(timeout=0 if kill else 10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


def _context() -> Any:
    """Workers come from a forkserver that has imported the grader, numpy and matplotlib:
    starting one costs a fork, and no worker inherits the batch's threads (the progress bar)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    return context


def run_batch(
    config: BatchConfig,
    tasks: list[Task],
    jobs: int,
    on_report: Callable[[dict[str, Any]], None] = lambda report: None,
    budget: float | None = None,
) -> list[dict[str, Any]]:
    """Grade `tasks` with `jobs` workers; call `on_report` as each student finishes."""
    lab = load_lab(config.lab)
    budget = budget if budget is not None else submission_budget(lab, config)
    if not tasks:
        return []
    context = _context()
    pending = deque(tasks)
    workers = [_Worker(context, config) for _ in range(max(1, min(jobs, len(tasks))))]
    reports: list[dict[str, Any]] = []
    try:
        while pending or any(w.task for w in workers):
            for worker in workers:
                if worker.task is None and pending:
                    worker.assign(pending.popleft(), budget)
            busy = [w for w in workers if w.task is not None]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.connection for w in busy], timeout)
            for index, worker in enumerate(workers):
                report = _collect(config, lab, worker, ready, budget)
                if report is None:
                    continue
                if worker.task is not None:  # it died or overran: start a fresh one
                    workers[index] = _Worker(context, config)
                reports.append(report)
                on_report(report)
    finally:
        for worker in workers:
            worker.stop(kill=bool(pending) or worker.task is not None)
    return reports


def _collect(
    config: BatchConfig, lab: LabSpec, worker: _Worker, ready: list[Any], budget: float
) -> dict[str, Any] | None:
    """The finished report of a busy worker, or a grader-error report if it died or overran.
    In the second case the worker is killed, and its `task` stays set to tell the caller
    to replace it."""
    task = worker.task
    if task is None:
        return None
    if worker.connection in ready:
        try:
            report = worker.connection.recv()
            worker.task = None
            return report
        except (EOFError, OSError):
            worker.process.join(timeout=1)
            message = (
                f"grader error: the grading process died (exit code {worker.process.exitcode})"
            )
    elif time.monotonic() >= worker.deadline:
        message = f"grader error: grading took longer than {budget:g} s and was stopped"
    else:
        return None
    worker.stop(kill=True)  # before writing: a late report of its own must not overwrite this
    report = gb.error_report(
        lab, task.entry.student, str(task.entry.path), gb.GRADER_ERROR, message, task.seed
    )
    report.update(fingerprint=task.fingerprint, seconds=None)
    gb.write_report(config.out, report)
    return report
