"""The last report of each check, saved in the student's folder for `attn-grade progress`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from attn_grade.result import LabResult
from attn_grade.safe_files import make_folders, write_file

STATE_DIR = ".attn-grade"
LAST_REPORT = "last-report.json"


def save_report(result: LabResult, folder: Path) -> Path | None:
    """Write the JSON report to <folder>/.attn-grade/last-report.json, atomically, through
    folder descriptors: a link planted at .attn-grade or at the file is never followed.
    Returns None when the folder is not writable (a read-only submission)."""
    data = result.to_dict() | {"saved_at": time.time()}
    text = json.dumps(data, indent=1).encode("utf-8")
    try:
        state = make_folders(Path(folder).resolve(), STATE_DIR)  # the user's path: trusted
        try:
            write_file(state, LAST_REPORT, text, mode=0o644)
        finally:
            os.close(state)
    except OSError:
        return None
    return Path(folder) / STATE_DIR / LAST_REPORT


def load_report(folder: Path) -> dict[str, Any] | None:
    """The last saved report of the lab folder, or None."""
    path = Path(folder) / STATE_DIR / LAST_REPORT
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
