"""Lab 02 (masks, positional encoding): properties of its own (shared checks: test_labs.py)."""

from __future__ import annotations

import numpy as np
import pytest
from attn_grade.grading import grade
from attn_grade.labspec import load_lab
from attn_grade.reference import find_solutions, load_reference
from conftest import copy_reference

LAB = "lab02"


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
