"""The machine-readable report: exactly one JSON object."""

from __future__ import annotations

import json

from attn_grade.result import LabResult


def render_json(result: LabResult) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False, default=str)
