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


# ------------------------------------------------------------------ lab04
def torch_pre_ln_block(torch, p: dict, D: int, F: int):
    """A pre-LN block from torch.nn parts, with the reference's weights copied in."""
    nn = torch.nn
    ln1, ln2 = nn.LayerNorm(D, eps=1e-5).double(), nn.LayerNorm(D, eps=1e-5).double()
    ff = nn.Sequential(nn.Linear(D, F), nn.ReLU(), nn.Linear(F, D)).double()
    with torch.no_grad():
        for ln, name in ((ln1, "ln1"), (ln2, "ln2")):
            ln.weight.copy_(torch.from_numpy(p[f"{name}_gamma"]))
            ln.bias.copy_(torch.from_numpy(p[f"{name}_beta"]))
        ff[0].weight.copy_(torch.from_numpy(p["w1"].T))  # nn.Linear stores W transposed
        ff[0].bias.copy_(torch.from_numpy(p["b1"]))
        ff[2].weight.copy_(torch.from_numpy(p["w2"].T))
        ff[2].bias.copy_(torch.from_numpy(p["b2"]))

    def attention(x):
        q, k, v = (x @ torch.from_numpy(p[n]) for n in ("w_q", "w_k", "w_v"))
        T = x.shape[-2]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        head = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=causal)
        return head @ torch.from_numpy(p["w_o"])

    def block(x):
        h = x + attention(ln1(x))
        return h + ff(ln2(h))

    return block


def lab04_block_params(r: np.random.Generator, D: int, d_k: int, d_v: int, F: int) -> dict:
    return {
        "ln1_gamma": r.uniform(0.5, 1.5, D), "ln1_beta": r.normal(size=D),
        "ln2_gamma": r.uniform(0.5, 1.5, D), "ln2_beta": r.normal(size=D),
        "w_q": r.normal(size=(D, d_k)), "w_k": r.normal(size=(D, d_k)),
        "w_v": r.normal(size=(D, d_v)), "w_o": r.normal(size=(d_v, D)),
        "w1": r.normal(size=(D, F)), "b1": r.normal(size=F),
        "w2": r.normal(size=(F, D)), "b2": r.normal(size=D),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lab04_block_matches_torch_nn(torch, seed):
    r = rng(100 + seed)
    B, T, D, d_k, d_v, F = 3, 9, 12, 8, 6, 20
    p = {k: v * 0.4 if k.startswith("w") else v for k, v in lab04_block_params(r, D, d_k, d_v, F).items()}
    x = r.normal(size=(B, T, D))
    out, weights = reference("lab04", "transformer_block")(x, p)
    with torch.no_grad():
        expected = torch_pre_ln_block(torch, p, D, F)(torch.from_numpy(x))
    np.testing.assert_allclose(out, expected.numpy(), rtol=0, atol=ATOL)
    assert np.all(np.triu(weights, k=1) == 0)
    normed = reference("lab04", "layer_norm")(x, p["ln1_gamma"], p["ln1_beta"])
    torch_normed = torch.nn.functional.layer_norm(
        torch.from_numpy(x), (D,), torch.from_numpy(p["ln1_gamma"]), torch.from_numpy(p["ln1_beta"]))
    np.testing.assert_allclose(normed, torch_normed.numpy(), rtol=0, atol=ATOL)


@pytest.mark.parametrize(("H", "d_k", "causal"), [(3, 4, True), (4, 3, False), (1, 6, True)])
def test_lab04_wrapper_and_efficient_heads_match_torch_mha(torch, H, d_k, causal):
    """With H*d_k = D, both lab04 forms are nn.MultiheadAttention (no biases) whose
    in_proj rows are the heads' weights stacked: head h owns rows h*d_k .. (h+1)*d_k - 1."""
    r = rng(200 + H)
    B, T, D = 2, 7, H * d_k
    x = r.normal(size=(B, T, D))
    heads = r.normal(size=(H, 3, D, d_k)) * 0.4  # (H, 3, D, d_k)
    w_o = r.normal(size=(D, D)) * 0.4
    stacked = heads.transpose(1, 2, 0, 3).reshape(3, D, D)  # (3, D, H*d_k)
    mha = torch.nn.MultiheadAttention(D, H, bias=False, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([w.T for w in stacked])))
        mha.out_proj.weight.copy_(torch.from_numpy(w_o.T))
    blocked = None if not causal else ~torch.ones(T, T, dtype=torch.bool).tril()  # True = blocked
    t = torch.from_numpy(x)
    with torch.no_grad():
        expected, expected_weights = mha(t, t, t, attn_mask=blocked, average_attn_weights=False)
    for name in ("multi_head_wrapper", "multi_head_attention"):
        out, weights = reference("lab04", name)(x, heads, w_o, causal)
        np.testing.assert_allclose(out, expected.numpy(), rtol=0, atol=ATOL, err_msg=name)
        np.testing.assert_allclose(weights, expected_weights.numpy(), rtol=0, atol=ATOL, err_msg=name)
