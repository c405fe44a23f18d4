"""The last report of each check, saved in the student's folder for `attn-grade progress`."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from attn_grade.result import LabResult

STATE_DIR = ".attn-grade"
LAST_REPORT = "last-report.json"


def save_report(result: LabResult, folder: Path) -> Path | None:
    """Write the JSON report to <folder>/.attn-grade/last-report.json, atomically.
    Returns None when the folder is not writable (a read-only submission)."""
    target = Path(folder) / STATE_DIR / LAST_REPORT
    data = result.to_dict() | {"saved_at": time.time()}
    try:
        target.parent.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=target.parent, delete=False, suffix=".tmp", encoding="utf-8"
        ) as f:
            json.dump(data, f, indent=1)
        os.replace(f.name, target)
    except OSError:
        return None
    return target


def load_report(folder: Path) -> dict[str, Any] | None:
    """The last saved report of the lab folder, or None."""
    path = Path(folder) / STATE_DIR / LAST_REPORT
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
