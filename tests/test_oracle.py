"""The reference solutions against PyTorch, the implementation nobody here wrote.

lab01: torch.nn.functional.scaled_dot_product_attention (boolean mask, True = attend).
lab02: masked_softmax against torch's softmax with fully masked rows set to zero, and
       the positional encoding against the paper's formula written out entry by entry.
lab03: torch.nn.MultiheadAttention with our weights copied in. nn.Linear stores W
       transposed (y = x W^T + b), and its boolean masks mean True = blocked.
Everything in float64, atol 1e-10.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from attn_grade.labspec import load_lab
from attn_grade.reference import find_solutions, load_reference

ATOL = 1e-10


def reference(lab_id: str, name: str):
    lab = load_lab(lab_id)
    return load_reference(lab, find_solutions(lab)).function(name)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip(
        "torch", reason="the PyTorch oracle needs torch (CI installs torch==2.13.0, CPU build)"
    )


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ lab01
@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize("shape", [(5, 7, 4, 3), (2, 3, 5, 7, 8, 6)])
def test_lab01_attention_matches_torch_sdpa(torch, shape, with_mask):
    *batch, L, S, d_k, d_v = shape
    r = rng(len(shape) + with_mask)
    q, k, v = (r.normal(size=(*batch, n, d)) for n, d in ((L, d_k), (S, d_k), (S, d_v)))
    mask = r.random((*batch, L, S)) < 0.6 if with_mask else None
    if mask is not None:
        mask[..., 0] = True  # no fully masked row: torch and lab01 may differ there
    output, weights = reference("lab01", "scaled_dot_product_attention")(q, k, v, mask)
    t = [torch.from_numpy(a) for a in (q, k, v)]
    expected = torch.nn.functional.scaled_dot_product_attention(
        *t, attn_mask=None if mask is None else torch.from_numpy(mask))
    np.testing.assert_allclose(output, expected.numpy(), rtol=0, atol=ATOL)
    scores = t[0] @ t[1].transpose(-1, -2) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(mask), float("-inf"))
    np.testing.assert_allclose(weights, torch.softmax(scores, -1).numpy(), rtol=0, atol=ATOL)


# ------------------------------------------------------------------ lab02
def test_lab02_masked_softmax_matches_torch(torch):
    r = rng(2)
    scores = r.normal(size=(2, 3, 5, 6)) * 3
    mask = r.random((2, 1, 5, 6)) < 0.5
    mask[0, 0, 1] = False  # a fully masked row
    mask[1, 0, 4] = False
    got = reference("lab02", "masked_softmax")(scores, mask)
    t_mask = torch.from_numpy(np.broadcast_to(mask, scores.shape).copy())
    filled = torch.from_numpy(scores).masked_fill(~t_mask, float("-inf"))
    expected = torch.nan_to_num(torch.softmax(filled, -1), nan=0.0)  # fully masked -> zeros
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got[0, :, 1], 0.0)
    np.testing.assert_allclose(got, expected.numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize(("seq_len", "d_model", "base"), [(12, 8, 10000.0), (9, 7, 50.0), (3, 1, 10.0)])
def test_lab02_positional_encoding_matches_the_formula(seq_len, d_model, base):
    got = reference("lab02", "sinusoidal_positional_encoding")(seq_len, d_model, base)
    expected = np.empty((seq_len, d_model))
    for pos in range(seq_len):
        for col in range(d_model):
            i = col // 2
            angle = pos / base ** (2 * i / d_model)
            expected[pos, col] = math.sin(angle) if col % 2 == 0 else math.cos(angle)
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


def test_lab02_causal_mask_matches_torch_tril(torch):
    got = reference("lab02", "causal_mask")(7)
    np.testing.assert_array_equal(got, torch.ones(7, 7, dtype=torch.bool).tril().numpy())


# ------------------------------------------------------------------ lab03
def torch_mha(torch, params: dict, num_heads: int, bias: bool):
    D = params["W_q"].shape[0]
    mha = torch.nn.MultiheadAttention(D, num_heads, bias=bias, batch_first=True,
                                      dtype=torch.float64)
    with torch.no_grad():
        # nn.Linear computes x W^T + b: hand it our W transposed.
        mha.in_proj_weight.copy_(torch.from_numpy(
            np.concatenate([params["W_q"].T, params["W_k"].T, params["W_v"].T])))
        mha.out_proj.weight.copy_(torch.from_numpy(params["W_o"].T))
        if bias:
            mha.in_proj_bias.copy_(torch.from_numpy(
                np.concatenate([params["b_q"], params["b_k"], params["b_v"]])))
            mha.out_proj.bias.copy_(torch.from_numpy(params["b_o"]))
    return mha.eval()


def make_params(r: np.random.Generator, D: int, bias: bool) -> dict:
    params = {f"W_{n}": r.normal(size=(D, D)) / math.sqrt(D) for n in "qkvo"}
    if bias:
        params.update({f"b_{n}": r.normal(size=D) * 0.5 for n in "qkvo"})
    return params


CASES = {
    # name: (B, L, S, D, H, mask kind, bias)
    "self": (2, 5, 5, 12, 3, None, True),
    "cross": (2, 4, 6, 12, 4, None, True),
    "cross-no-bias": (3, 4, 7, 8, 2, None, False),
    "causal": (2, 6, 6, 12, 3, "causal", True),
    "padding": (2, 5, 6, 12, 3, "padding", True),
    "per-head": (2, 4, 6, 12, 3, "per-head", True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_lab03_multi_head_attention_matches_torch(torch, case):
    B, L, S, D, H, mask_kind, bias = CASES[case]
    r = rng(sorted(CASES).index(case))
    x_q = r.normal(size=(B, L, D))
    x_kv = x_q if L == S else r.normal(size=(B, S, D))
    params = make_params(r, D, bias)
    ours_mask, torch_kwargs = None, {}
    if mask_kind == "causal":
        ours_mask = np.tril(np.ones((L, S), dtype=bool))  # (L, S), True = attend
        torch_kwargs["attn_mask"] = torch.from_numpy(~ours_mask)  # True = blocked
    elif mask_kind == "padding":
        lengths = np.array([S, S - 2])
        keep = np.arange(S)[None, :] < lengths[:, None]  # (B, S)
        ours_mask = keep[:, None, None, :]  # (B, 1, 1, S)
        torch_kwargs["key_padding_mask"] = torch.from_numpy(~keep)
    elif mask_kind == "per-head":
        ours_mask = r.random((B, H, L, S)) < 0.6
        ours_mask[..., 0] = True  # every query keeps one key
        # torch wants (B*H, L, S), batch-major: index b*H + h
        torch_kwargs["attn_mask"] = torch.from_numpy(~ours_mask.reshape(B * H, L, S))
    output, weights = reference("lab03", "multi_head_attention")(x_q, x_kv, params, H, ours_mask)
    mha = torch_mha(torch, params, H, bias)
    t_q, t_kv = torch.from_numpy(x_q), torch.from_numpy(x_kv)
    with torch.no_grad():
        expected, expected_weights = mha(t_q, t_kv, t_kv, need_weights=True,
                                         average_attn_weights=False, **torch_kwargs)
    assert output.shape == (B, L, D) and weights.shape == (B, H, L, S)
    np.testing.assert_allclose(output, expected.numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(weights, expected_weights.numpy(), rtol=0, atol=ATOL)


def test_lab03_split_and_merge_match_torch_views(torch):
    x = rng(3).normal(size=(2, 5, 12))
    heads = reference("lab03", "split_heads")(x, 3)
    expected = torch.from_numpy(x).view(2, 5, 3, 4).transpose(1, 2)  # (B, H, T, d_k)
    np.testing.assert_array_equal(heads, expected.numpy())
    np.testing.assert_array_equal(reference("lab03", "merge_heads")(heads), x)
