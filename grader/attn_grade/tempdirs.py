"""Temporary folders that hold student code, and the sweep of those a killed grader left.

A grader killed mid-run (SIGKILL, a replaced batch worker) never runs its cleanup, and
its folders keep copies of student code. Every folder is named after the process that
made it, `attn-grade-<kind>-<pid>-…`; sweep_orphans() removes those whose process is gone.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from attn_grade.safe_files import remove_tree

_NAME = re.compile(r"^attn-grade-[a-z]+-(?P<pid>\d+)-")


@contextmanager
def private_tempdir(kind: str) -> Iterator[str]:
    """A temporary folder named after `kind` and this process (mode 0700, made with
    mkdtemp: a new name no one else could have planted), removed on exit with
    safe_files.remove_tree (a student's tree may be deeper than shutil.rmtree can go)."""
    folder = tempfile.mkdtemp(prefix=f"attn-grade-{kind}-{os.getpid()}-")
    try:
        yield folder
    finally:
        remove_tree(folder)


def sweep_orphans(root: Path | None = None) -> list[Path]:
    """Remove the attn-grade folders in `root` (the temp folder) whose process is dead."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        found = _NAME.match(entry.name)
        if not found or not entry.is_dir(follow_symlinks=False) or _alive(int(found["pid"])):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue  # not made by a grader of this uid (a student's decoy, say)
        except OSError:
            continue
        remove_tree(entry.path)  # follows no link
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, and not ours to judge
    return True
