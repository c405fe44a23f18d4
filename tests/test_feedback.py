"""Feedback that teaches: hangs and the time budget, shape errors, probes, the 80-column report.

Each test runs the real thing (the sandbox, the engine, the CLI, Rich); none is timed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from attn_grade import grading
from attn_grade.compare import compare
from attn_grade.grading import grade
from attn_grade.labspec import load_lab
from attn_grade.report.terminal import FEEDBACK_INDENT, print_report, report_width
from attn_grade.result import LabResult
from attn_grade.result import TestResult as Result
from attn_grade.runner import Call, Limits, run_calls
from attn_grade.shape_errors import explain
from conftest import KIT_ROOT, copy_reference
from rich.console import Console

HANGING_SOFTMAX = '''import numpy as np
print("softmax.py was imported")


def softmax(x, axis=-1):
    while True:
        pass
'''

OWN_SOFTMAX_ATTENTION = '''import numpy as np


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ v, weights
'''


# -- hangs --------------------------------------------------------------------------
def test_a_timeout_says_where_the_code_was(tmp_path):
    (tmp_path / "softmax.py").write_text(HANGING_SOFTMAX)
    x = np.ones((2, 3))
    record = run_calls(
        tmp_path, [Call("a", "softmax", "softmax", [x], {}, 1)], Limits(time_limit=1.0)
    )
    outcome = record.outcomes["a"]
    assert outcome.status == "timeout"
    assert outcome.where in ("softmax.py, line 6, in softmax", "softmax.py, line 7, in softmax")
    assert f"it was at {outcome.where}" in outcome.message
    assert str(tmp_path) not in outcome.message


def test_the_time_budget_stops_a_hanging_submission_and_keeps_other_points(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "softmax.py").write_text(HANGING_SOFTMAX)
    (folder / "attention.py").write_text(OWN_SOFTMAX_ATTENTION)  # never reaches the hang
    limits = Limits(time_limit=1.0, time_budget=2.5)
    result = grade("lab01", folder, seed=3, limits=limits, deliverables=False)
    by_status: dict[str, list[Result]] = {}
    for t in result.tests:
        by_status.setdefault(t.status, []).append(t)
    # after the first hang, the functions that did not hang ran first: attention keeps its points
    attention = [t for t in result.tests if t.function == "scaled_dot_product_attention"]
    assert attention and all(t.status == "passed" for t in attention)
    softmax = [t for t in result.tests if t.function == "softmax"]
    assert 1 <= len(by_status["timeout"]) <= 3, [t.name for t in by_status["timeout"]]
    assert by_status["not-run"], "the budget should have stopped the rest"
    assert {t.status for t in softmax} == {"timeout", "not-run"}
    where = by_status["timeout"][0].where
    assert where.startswith("softmax.py, line ") and where.endswith("in softmax")
    for t in by_status["not-run"]:
        assert t.points == 0
        assert t.message == (
            f"not run: the time budget (2.5 s) was spent after softmax hung at {where}"
        )
    # a module-level print is shown once, although each hang started a fresh process
    assert result.student_output.count("softmax.py was imported") == 1


def test_time_budget_comes_from_the_lab_and_the_environment(monkeypatch):
    assert load_lab("lab01").time_budget == 30.0
    monkeypatch.setenv("ATTN_GRADE_TIME_BUDGET", "12")
    assert Limits(time_budget=30.0).time_budget == 12.0
    monkeypatch.setenv("ATTN_GRADE_TIME_BUDGET", "0")
    assert Limits(time_budget=30.0).time_budget == 0  # 0 turns the budget off
    monkeypatch.delenv("ATTN_GRADE_TIME_BUDGET")
    assert Limits(time_limit=10.0, time_budget=4.0).time_budget == 10.0  # never below one limit


# -- errors that teach --------------------------------------------------------------
def _numpy_error(operation) -> str:
    with pytest.raises(ValueError) as caught:
        operation()
    return str(caught.value)


@pytest.mark.parametrize(
    ("operation", "says"),
    [
        (lambda: np.ones((2, 5, 6)) @ np.ones((2, 7, 6)).T, "np.swapaxes(k, -1, -2)"),
        (lambda: np.ones((4, 6)) + np.ones((2, 3, 4, 4)), "do not broadcast"),
        (lambda: np.ones((2, 6, 12)).reshape(2, 4, 3, 4), "Take each size from the array"),
        (lambda: np.ones((5, 4)).transpose(0, 2, 1), "transpose(0, 2, 1)"),
        (lambda: np.einsum("lk,sk->ls", np.ones((5, 4)), np.ones((7, 3))), "einsum"),
    ],
)
def test_numpy_shape_errors_become_a_sentence_about_shapes(operation, says):
    sentence = explain(_numpy_error(operation))
    assert sentence is not None and sentence.startswith("In shapes:") and says in sentence


def test_other_errors_get_no_shape_sentence():
    assert explain("ZeroDivisionError: division by zero") is None


def test_a_raising_call_shows_its_inputs_the_original_error_and_the_sentence(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "attention.py").write_text(
        OWN_SOFTMAX_ATTENTION.replace("np.swapaxes(k, -1, -2)", "k.T")
    )
    result = grade("lab01", folder, seed=1, deliverables=False)
    batched = next(t for t in result.tests if t.name == "attention_batched")
    assert batched.status == "error"
    assert batched.inputs == "q (2, 5, 6), k (2, 7, 6), v (2, 7, 3)"
    assert batched.description  # kept beside the error, not replaced by it
    assert "matmul: Input operand 1 has a mismatch in its core dimension" in batched.message
    assert "In shapes: a matrix product" in batched.message
    assert batched.diagnosis == "not-batched" and batched.diagnosed_by == "probe"


def test_a_wrong_zero_is_reported_as_expected_zero_not_as_a_huge_relative_error():
    expected = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    got = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5]])
    comparison = compare("weights", got, expected, "float", 1e-3, 1e-4)
    assert not comparison.ok
    assert "e+12" not in comparison.message and "1e+12" not in comparison.message
    assert "1 of the wrong values should be 0 (e.g. at [1, 2], got 0.5" in comparison.message
    assert "max rel error 0.5" in comparison.message  # where 1 was expected, a real ratio


def test_only_zeros_wrong_gives_no_relative_error():
    comparison = compare("w", np.array([0.0, 0.3]), np.array([0.0, 0.0]), "float", 1e-3, 1e-4)
    assert "rel error" not in comparison.message
    assert "should be 0 (e.g. at [1], got 0.3" in comparison.message


# -- probes -------------------------------------------------------------------------
def test_probes_name_a_mistake_but_never_change_points(tmp_path, monkeypatch):
    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "softmax.py").write_text(
        "import numpy as np\n\n\ndef softmax(x, axis=-1):\n"
        "    e = np.exp(x - x.max(axis=1, keepdims=True))\n"
        "    return e / e.sum(axis=1, keepdims=True)\n"
    )
    probed = grade("lab01", folder, seed=5, deliverables=False)
    monkeypatch.setattr(grading, "probe_calls", lambda lab, case: [])
    matched_only = grade("lab01", folder, seed=5, deliverables=False)
    assert [(t.name, t.points, t.status) for t in probed.tests] == [
        (t.name, t.points, t.status) for t in matched_only.tests
    ]
    named = {t.name: t.diagnosis for t in probed.tests}
    assert named["softmax_large_logits_hidden"] == "softmax-fixed-axis"
    assert {t.name: t.diagnosis for t in matched_only.tests}["softmax_large_logits_hidden"] is None


def test_probes_are_lab_data():
    lab03 = load_lab("lab03")
    assert {(p.id, p.function) for p in lab03.probes} >= {
        ("not-batched", "multi_head_attention"),
        ("assumes-same-length", "multi_head_attention"),
    }
    assert {p.id for p in load_lab("lab01").probes} == {
        "not-batched", "fixed-rank", "softmax-fixed-axis", "softmax-no-keepdims"
    }


# -- the terminal report ------------------------------------------------------------
LONG_ERROR = (
    "ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
    "signature (n?,k),(k,m?)->(n?,m?) (size 7 is different from 6) (attention.py, line 6, in "
    "scaled_dot_product_attention)\nIn shapes: a matrix product A @ B needs A.shape[-1] == "
    "B.shape[-2]."
)
HINT = "Your attention is right on each 2-D slice of the batch, but not on the batch."


def _result(tests: list[Result]) -> LabResult:
    return LabResult("lab01", "Softmax and attention", "exercises/lab01", tests, [])


def _failing(name: str, **fields) -> Result:
    values = dict(
        name=name, function="scaled_dot_product_attention", visibility="public",
        status="error", points=0.0, max_points=2.0, message=LONG_ERROR,
        description="batch of 2", inputs="q (2, 5, 6), k (2, 7, 6), v (2, 7, 3)",
        diagnosis="not-batched", hint=HINT,
    )
    values.update(fields)
    return Result(**values)


def _render(result: LabResult, width: int = 80) -> str:
    out = io.StringIO()
    print_report(result, Console(file=out, width=width, force_terminal=False, color_system=None))
    return out.getvalue()


def test_at_80_columns_feedback_goes_under_the_row_not_in_a_narrow_column():
    text = _render(_result([_failing("attention_batched")]))
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    row = next(n for n, line in enumerate(lines) if "attention_batched" in line)
    end = next(n for n, line in enumerate(lines) if line.startswith("Score:"))
    feedback = [line for line in lines[row + 1:end] if line.strip()]
    indent = " " * FEEDBACK_INDENT
    # every feedback line starts at the indent and uses the width: no 20-character column
    assert feedback and all(line.startswith(indent) for line in feedback)
    assert max(len(line.rstrip()) for line in feedback) > 70
    assert "ValueError: matmul: Input operand 1 has a mismatch in its core" in text
    assert "inputs: q (2, 5, 6), k (2, 7, 6), v (2, 7, 3)" in text
    assert len(feedback) <= 12  # was 22 lines for one failure in a 20-character column


def test_a_hint_shared_by_several_tests_is_shown_once_with_the_tests():
    tests = [_failing("attention_batched"), _failing("attention_heads_4d"),
             _failing("attention_float32", visibility="hidden")]
    text = " ".join(_render(_result(tests), width=200).split())
    assert text.count(HINT) == 1
    assert "(also in attention_heads_4d, attention_float32)" in text
    assert text.count("(the hint is under attention_batched)") == 2
    assert text.count("In shapes: a matrix product") == 1  # explanations too


def test_report_width_follows_the_environment():
    assert report_width({}, is_terminal=False) is None  # Rich's own default (80 when piped)
    assert report_width({"COLUMNS": "132"}) is None  # Rich reads COLUMNS itself
    assert report_width({"JPY_PARENT_PID": "1"}) == 120
    assert report_width({"COLAB_RELEASE_TAG": "x"}) == 120
    assert report_width({"JPY_PARENT_PID": "1"}, is_terminal=True) is None


# -- paths, printing and the lab folder ----------------------------------------------
def test_sandbox_paths_are_shown_as_the_students_own(tmp_path):
    folder = copy_reference("lab02", tmp_path / "lab02")
    masks = folder / "masks.py"
    masks.write_text(masks.read_text().replace(
        "def padding_mask(lengths, max_len):",
        "def padding_mask(lengths, max_len):\n    print('running', __file__)\n"
        "    open(__file__ + '.missing')",
    ))
    result = grade("lab02", folder, seed=1, deliverables=False)
    padding = next(t for t in result.tests if t.function == "padding_mask")
    assert "attn-grade-run-" not in padding.message + result.student_output
    assert f"{folder}/masks.py.missing" in padding.message
    assert f"running {folder}/masks.py" in result.student_output


def test_check_inside_the_lab_folder_grades_that_folder(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    env = {**os.environ, "PYTHONPATH": str(KIT_ROOT / "grader")}
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "check", "lab01", "--json", "--no-png",
         "--no-hidden"],
        cwd=folder, capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["submission"] == "."
    assert report["public_passed"] == report["public_total"] > 0


def test_the_heatmap_names_the_failing_tests_it_does_not_show(tmp_path):
    folder = copy_reference("lab02", tmp_path / "lab02")
    pe = folder / "positional_encoding.py"
    pe.write_text(pe.read_text().replace("np.sin(", "np.cos(", 1))
    result = grade("lab02", folder, seed=1, deliverables=False)
    assert result.example is not None and result.example.student is not None
    assert result.example.not_shown.startswith("Failing tests this picture does not show:")
    assert "sinusoidal_positional_encoding: pe_even" in result.example.not_shown
    assert "Failing tests this picture does not show" in _render(result, width=100)


def test_the_heatmap_never_names_the_failing_tests_of_the_function_it_shows_wrong(tmp_path):
    """A missing 1/sqrt(d_k): every scaled_dot_product_attention test fails, and the picture,
    drawn from that function, shows weights unlike the reference's. Its note names the
    failing tests it cannot show (other functions'), never the ones the picture shows."""
    import shutil

    from conftest import CORPUS

    folder = copy_reference("lab01", tmp_path / "lab01")
    for path in (CORPUS / "lab01" / "attention_missing_scale").glob("*.py"):
        shutil.copy(path, folder / path.name)
    result = grade("lab01", folder, seed=1, deliverables=False)
    failing = {t.function for t in result.tests if t.status != "passed"}
    assert failing == {"scaled_dot_product_attention"}, failing
    assert result.example is not None and result.example.student is not None
    assert result.example.not_shown == ""
    # a picture equal to the reference's shows nothing wrong: its function's failures are named
    tests = [Result(name="all_masked", function="scaled_dot_product_attention",
                    visibility="public", status="failed", points=0, max_points=1)]
    assert grading.not_in_picture(tests, "en", "scaled_dot_product_attention", False) == (
        "Failing tests this picture does not show: scaled_dot_product_attention: all_masked")
    assert grading.not_in_picture(tests, "en", "scaled_dot_product_attention", True) == ""
