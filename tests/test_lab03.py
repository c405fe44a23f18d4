"""Lab 03 (multi-head attention): properties of its own (shared checks: test_labs.py)."""

from __future__ import annotations

import numpy as np
import pytest
from attn_grade.labspec import load_lab
from attn_grade.reference import find_solutions, load_reference
from attn_grade.stubs import solution_bodies
from conftest import SOLUTIONS, write_stubs

LAB = "lab03"


def reference(name: str):
    lab = load_lab(LAB)
    return load_reference(lab, find_solutions(lab)).function(name)


def test_issue_diagnosis_ids_exist():
    ids = {m.id for m in load_lab(LAB).mistakes}
    assert {"heads-split-without-transpose", "heads-merged-without-transpose", "scale-by-d-model",
            "transposed-weights", "softmax-wrong-axis"} <= ids


def test_labs_stay_self_contained(tmp_path):
    """No lab imports another lab's modules, and no stub ships a solution."""
    own = {lab: {p.stem for p in (SOLUTIONS / lab).glob("*.py")} for lab in ("lab01", "lab02", "lab03")}
    for lab in ("lab02", "lab03"):
        stubs = write_stubs(lab, tmp_path / lab)
        others = set().union(*(names for other, names in own.items() if other != lab)) - own[lab]
        for path in stubs.glob("*.py"):
            text = path.read_text(encoding="utf-8")
            for name in others:
                assert f"import {name}" not in text and f"from {name} " not in text, (path, name)
        for path in (SOLUTIONS / lab).glob("*.py"):
            stub = stubs / path.name
            if stub.is_file():
                for body in solution_bodies(path.read_text(encoding="utf-8")):
                    assert body not in stub.read_text(encoding="utf-8")


@pytest.mark.parametrize(("B", "T", "D", "H"), [(2, 5, 12, 3), (1, 1, 4, 4), (3, 7, 8, 1)])
def test_merge_inverts_split(B, T, D, H):
    x = np.random.default_rng(D).normal(size=(B, T, D))
    heads = reference("split_heads")(x, H)
    assert heads.shape == (B, H, T, D // H)
    np.testing.assert_array_equal(heads[:, 1 % H], x[..., (1 % H) * (D // H):(1 % H + 1) * (D // H)])
    np.testing.assert_array_equal(reference("merge_heads")(heads), x)


def test_causal_multi_head_attention_ignores_the_future():
    """Perturb the tokens after position t: outputs and weights up to t do not move."""
    rng = np.random.default_rng(0)
    B, T, D, H, t = 2, 6, 12, 3, 3
    params = {f"W_{n}": rng.normal(size=(D, D)) / np.sqrt(D) for n in "qkvo"}
    params |= {f"b_{n}": rng.normal(size=D) for n in "qkvo"}
    x = rng.normal(size=(B, T, D))
    changed = x.copy()
    changed[:, t + 1:] += rng.normal(size=(B, T - t - 1, D)) * 10
    mask = np.tril(np.ones((T, T), dtype=bool))
    mha = reference("multi_head_attention")
    out, weights = mha(x, x, params, H, mask)
    out2, weights2 = mha(changed, changed, params, H, mask)
    np.testing.assert_allclose(out[:, : t + 1], out2[:, : t + 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights[..., : t + 1, :], weights2[..., : t + 1, :], rtol=0, atol=1e-12)
    assert not np.allclose(out[:, t + 1:], out2[:, t + 1:])


def test_key_bias_cancels_in_the_softmax():
    """The fact REPORT.md (b) builds on: b_k never changes the weights."""
    rng = np.random.default_rng(1)
    D = 8
    params = {f"W_{n}": rng.normal(size=(D, D)) for n in "qkvo"}
    x_q, x_kv = rng.normal(size=(2, 3, D)), rng.normal(size=(2, 5, D))
    mha = reference("multi_head_attention")
    plain = mha(x_q, x_kv, params, 2)
    with_bias = mha(x_q, x_kv, params | {"b_k": rng.normal(size=D) * 5}, 2)
    for a, b in zip(plain, with_bias):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
