"""Lab 02 (masks, positional encoding): stubs, reference, spec and handouts hold together.

The helpers at the top are shared with test_lab03.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from attn_grade import cases
from attn_grade.compare import matches
from attn_grade.deliverables import CHECK_TAG
from attn_grade.diagnose import diagnose
from attn_grade.expected import expect
from attn_grade.frozen import freeze_arrays
from attn_grade.grading import grade
from attn_grade.labspec import load_lab
from attn_grade.reference import find_solutions, load_reference
from attn_grade.stubs import stale_files
from conftest import EXERCISES, SOLUTIONS, copy_reference

LAB = "lab02"
SEEDS = (2017, 1, 2)


# ------------------------------------------------------------ shared checks
def check_stubs_score_zero(lab_id: str) -> None:
    result = grade(lab_id, EXERCISES / lab_id, seed=1)
    assert result.hidden_tests_ran
    assert result.score == 0
    for t in result.tests:
        assert "not implemented yet" in t.message, (t.name, t.message)
    assert all(d.status != "done" for d in result.deliverables)


def check_reference_full_marks(lab_id: str, tmp_path) -> None:
    submission = copy_reference(lab_id, tmp_path / lab_id)
    result = grade(lab_id, submission, seed=3)
    failed = [(t.name, t.message) for t in result.tests if t.status != "passed"]
    assert not failed
    assert [d.id for d in result.deliverables if d.status != "done"] == []
    assert result.score == result.max_score
    assert result.example is not None and result.example.student is not None
    assert all(c.status in ("verified", "open") for c in result.checklist)


def check_generated_files_current(lab_id: str) -> None:
    lab = load_lab(lab_id)
    assert stale_files(lab, SOLUTIONS / lab_id, EXERCISES / lab_id) == [], "run attn-grade sync"
    frozen = freeze_arrays(lab, load_reference(lab, find_solutions(lab)))
    with np.load(lab.public_data_path) as stored:
        assert sorted(stored.files) == sorted(frozen), "run attn-grade freeze"
        for key, value in frozen.items():
            np.testing.assert_array_equal(stored[key], value, err_msg=key)


def variant_diagnoses(lab_id: str) -> tuple[dict[str, set[str]], list[str]]:
    """Which tests observe each mistake, and every case where a variant's own output
    would be diagnosed as another mistake (an ambiguous spec)."""
    lab = load_lab(lab_id)
    reference = load_reference(lab, find_solutions(lab))
    observed: dict[str, set[str]] = {m.id: set() for m in lab.mistakes}
    ambiguous = []
    for seed in SEEDS:
        for test in lab.tests:
            if test.raises:
                continue
            case = cases.test_case(lab, test, seed)
            expectation = expect(lab, reference, case)
            kinds = case.function.output_kinds
            for variant in expectation.variants:
                pairs = zip(variant.outputs, expectation.outputs, kinds)
                if all(matches(v, r, k, test.rtol, test.atol) for v, r, k in pairs):
                    continue  # not observable on this test
                observed[variant.mistake.id].add(test.name)
                named = diagnose(variant.outputs, expectation.variants, kinds, test.rtol, test.atol)
                if named is None or named.id != variant.mistake.id:
                    ambiguous.append(f"{test.name} (seed {seed}): {variant.mistake.id} -> {named}")
    return observed, ambiguous


def check_diagnoses_unambiguous(lab_id: str) -> None:
    observed, ambiguous = variant_diagnoses(lab_id)
    assert ambiguous == []
    assert [m for m, tests in observed.items() if not tests] == [], "a mistake no test can see"


def check_handouts(lab_id: str) -> None:
    lab = load_lab(lab_id)
    for folder in (EXERCISES / lab_id, SOLUTIONS / lab_id):
        readme = (folder / "README.md").read_text(encoding="utf-8")
        for function in lab.functions:
            assert f"{function}(" in readme, f"{folder}/README.md does not state {function}"
        checklist = (folder / "CHECKLIST.md").read_text(encoding="utf-8")
        tags = {m["id"] for m in CHECK_TAG.finditer(checklist)}
        expected = {d.id for d in lab.deliverables} | {f"tests:{f}" for f in lab.functions}
        assert tags == expected
    for mistake in lab.mistakes:
        assert mistake.hint_pt != mistake.hint, f"{mistake.id} has no Portuguese hint"


def check_report_template_earns_nothing(lab_id: str, tmp_path) -> None:
    """The template's instructions (> lines) do not count as answers."""
    submission = copy_reference(lab_id, tmp_path / lab_id)
    (submission / "REPORT.md").write_text(
        (EXERCISES / lab_id / "REPORT.md").read_text(encoding="utf-8"), encoding="utf-8")
    result = grade(lab_id, submission, seed=1)
    reports = [d for d in result.deliverables if d.id != "visualize"]
    assert reports and all(d.status == "incomplete" for d in reports)


# ------------------------------------------------------------------- lab02
def test_stubs_score_zero_with_clear_messages():
    check_stubs_score_zero(LAB)


def test_reference_gets_full_marks_with_deliverables(tmp_path):
    check_reference_full_marks(LAB, tmp_path)


def test_stubs_and_public_tests_are_current():
    check_generated_files_current(LAB)


def test_each_mistake_is_seen_and_named_unambiguously():
    check_diagnoses_unambiguous(LAB)


def test_handouts_state_the_contract_and_tie_the_checklist():
    check_handouts(LAB)


def test_report_template_earns_nothing(tmp_path):
    check_report_template_earns_nothing(LAB, tmp_path)


def test_issue_diagnosis_ids_exist():
    ids = {m.id for m in load_lab(LAB).mistakes}
    assert {"causal-excludes-diagonal", "mask-inverted", "nan-fully-masked", "mask-after-softmax",
            "pe-sin-cos-swapped", "pe-concatenated", "pe-wrong-exponent", "pe-off-by-one"} <= ids


def test_additive_mask_gets_a_message_about_booleans(tmp_path):
    submission = copy_reference(LAB, tmp_path / LAB)
    source = (submission / "masks.py").read_text(encoding="utf-8")
    source += (
        "\n\ndef causal_mask(seq_len):\n"
        "    return np.triu(np.full((seq_len, seq_len), -np.inf), k=1)\n"
    )
    (submission / "masks.py").write_text(source, encoding="utf-8")
    result = grade(LAB, submission, seed=1, deliverables=False)
    causal = [t for t in result.tests if t.function == "causal_mask"]
    assert causal and all(t.status == "failed" for t in causal)
    assert all("boolean" in t.message and "additive" in t.message for t in causal)


@pytest.mark.parametrize("seq_len", [1, 2, 7])
def test_reference_masked_softmax_is_causal(seq_len):
    """Perturbing future scores never changes the causally masked weights of the past."""
    lab = load_lab(LAB)
    ref = load_reference(lab, find_solutions(lab))
    causal, masked_softmax = ref.function("causal_mask"), ref.function("masked_softmax")
    rng = np.random.default_rng(seq_len)
    scores = rng.normal(size=(2, seq_len, seq_len))
    future = ~causal(seq_len)
    changed = np.where(future, scores + rng.normal(size=scores.shape) * 100, scores)
    before = masked_softmax(scores, causal(seq_len))
    np.testing.assert_array_equal(before, masked_softmax(changed, causal(seq_len)))
    np.testing.assert_array_equal(before[:, future], 0.0)
