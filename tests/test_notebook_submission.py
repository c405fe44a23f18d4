"""`attn-grade check LAB --path submission.ipynb`: the functions are extracted, never run here."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from attn_grade.cli import app
from attn_grade.labspec import load_lab
from attn_grade.notebook import CodeCell, assemble
from attn_grade.notebook_cells import _is_stub
from attn_grade.reference import KIT_ROOT
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from typer.testing import CliRunner

SOLUTIONS = KIT_ROOT / "solutions" / "lab01"
SOFTMAX = (SOLUTIONS / "softmax.py").read_text(encoding="utf-8")
ATTENTION = (SOLUTIONS / "attention.py").read_text(encoding="utf-8")
WRONG_SOFTMAX = (
    "import numpy as np\n\ndef softmax(x, axis=-1):\n    return np.exp(x) / np.exp(x).sum()\n"
)


def _notebook(path: Path, *cells) -> Path:
    nbformat.write(new_notebook(cells=list(cells)), str(path))
    return path


def _tagged(source: str, grade_id: str):
    return new_code_cell(source, metadata={"nbgrader": {"grade_id": grade_id, "solution": True}})


def _check(path: Path) -> tuple[int, dict | None, str]:
    result = CliRunner().invoke(
        app, ["check", "lab01", "--path", str(path), "--json", "--no-png", "--no-hidden"]
    )
    try:
        return result.exit_code, json.loads(result.stdout), result.output
    except json.JSONDecodeError:
        return result.exit_code, None, result.output


def _public_points(report: dict) -> dict[str, float]:
    return {t["name"]: t["points"] for t in report["tests"] if t["visibility"] == "public"}


def test_a_notebook_with_stray_cells_gets_full_public_marks(tmp_path):
    marker = tmp_path / "ran.txt"
    path = _notebook(
        tmp_path / "lab01.ipynb",
        new_markdown_cell("# My lab 01"),
        new_code_cell("!pip install numpy\n%matplotlib inline\nfrom google.colab import drive"),
        new_code_cell(SOFTMAX),
        new_code_cell("print(softmax([1.0, 2.0]))"),
        new_code_cell(ATTENTION),
        new_code_cell("def half_written(:\n    pass"),
        new_code_cell(f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit(3)"),
    )
    code, report, output = _check(path)
    assert code == 0, output
    assert report["public_passed"] == report["public_total"] > 0
    assert not marker.exists()  # no cell of the notebook ran


def test_a_stray_cell_assigning_a_parameter_name_is_left_out(tmp_path):
    """`x = load_data()` in a demo cell binds `x`, which is only softmax's parameter:
    it must not be pulled in (it once zeroed a correct notebook with a NameError)."""
    path = _notebook(
        tmp_path / "lab01.ipynb",
        new_code_cell("import numpy as np\nSCALE = 1.0"),
        new_code_cell(SOFTMAX),
        new_code_cell(ATTENTION),
        new_code_cell("x = load_data()\nq = np.load('my_scores.npy')\nscores = weights = 1 / 0"),
    )
    code, report, output = _check(path)
    assert code == 0, output
    assert report["public_passed"] == report["public_total"] > 0


def test_a_global_a_function_reads_is_kept():
    cells = [
        CodeCell("import numpy as np\nSHIFT = 0.0\nunused = 1 / 0", "cell 1"),
        CodeCell(SOFTMAX.replace("x - np.max(", "x - SHIFT - np.max("), "cell 2"),
    ]
    code = assemble(cells, load_lab("lab01"), "test.ipynb").code
    assert "SHIFT = 0.0" in code and "unused" not in code


def test_the_cell_with_the_function_grade_id_wins_over_a_later_definition(tmp_path):
    cells = [_tagged(SOFTMAX, "softmax"), new_code_cell(ATTENTION), new_code_cell(WRONG_SOFTMAX)]
    code, report, _ = _check(_notebook(tmp_path / "tagged.ipynb", *cells))
    assert code == 0 and report["public_passed"] == report["public_total"]

    untagged = [new_code_cell(SOFTMAX), new_code_cell(ATTENTION), new_code_cell(WRONG_SOFTMAX)]
    _, report, _ = _check(_notebook(tmp_path / "untagged.ipynb", *untagged))
    assert report["public_passed"] < report["public_total"]  # the last definition counts


def test_a_notebook_grades_like_the_same_code_in_a_folder(tmp_path):
    unscaled = ATTENTION.replace(" / np.sqrt(d_k)", "")
    assert unscaled != ATTENTION
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "softmax.py").write_text(SOFTMAX, encoding="utf-8")
    (folder / "attention.py").write_text(unscaled, encoding="utf-8")
    path = _notebook(tmp_path / "wrong.ipynb", new_code_cell(SOFTMAX), new_code_cell(unscaled))
    _, from_notebook, _ = _check(path)
    _, from_folder, _ = _check(folder)
    assert _public_points(from_notebook) == _public_points(from_folder)
    assert 0 < from_notebook["score"] < sum(t["max_points"] for t in from_notebook["tests"])
    diagnoses = {t["diagnosis"] for t in from_notebook["tests"]}
    assert "missing-scale" in diagnoses


def test_a_missing_function_is_named_with_its_signature(tmp_path):
    path = _notebook(
        tmp_path / "half.ipynb",
        new_code_cell(SOFTMAX),
        new_code_cell("def scaled_dot_product_attention(q, k, v, mask=None:\n    pass"),
    )
    code, report, output = _check(path)
    assert code == 1 and report == {"error": report["error"], "exit_code": 1}  # --json error
    assert "scaled_dot_product_attention(q, k, v, mask=None)" in output
    assert "Found: softmax" in output
    assert "cell 2" in output  # the cell that did not parse


def test_a_file_that_is_not_a_notebook_gets_a_clear_error(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json", encoding="utf-8")
    code, _, output = _check(path)
    assert code == 1
    assert "broken.ipynb is not a readable notebook" in output


def test_only_what_the_functions_use_is_kept():
    cells = [
        CodeCell("from google.colab import drive\nimport numpy as np, softmax", "cell 1"),
        CodeCell("from softmax import softmax\nSCALE = 2.0\nUNUSED = load()", "cell 2"),
        CodeCell(SOFTMAX.replace("x = np.asarray", "x = SCALE / SCALE * np.asarray"), "cell 3"),
        CodeCell(
            "def scaled_dot_product_attention(q, k, v, mask=None):\n    return q, k", "cell 4"
        ),
    ]
    extracted = assemble(cells, load_lab("lab01"), "test")
    assert extracted.missing == []
    assert "import numpy as np\n" in extracted.code
    assert "SCALE = 2.0" in extracted.code
    for dropped in ("google", "import softmax", "from softmax", "UNUSED", "__main__"):
        assert dropped not in extracted.code
    compile(extracted.code, "extracted", "exec")


@pytest.mark.parametrize(
    ("body", "stub"),
    [
        ('raise NotImplementedError("softmax: your code here")', True),
        ("# YOUR CODE HERE\n    raise NotImplementedError()", True),
        ("raise NotImplementedError", True),
        ("if axis is None:\n        raise NotImplementedError\n    return x", False),
        ("return x", False),
    ],
)
def test_a_stub_is_a_body_that_raises_not_implemented(body, stub):
    assert _is_stub(f"def softmax(x, axis=-1):\n    {body}\n", "softmax") is stub
