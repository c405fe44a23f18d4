"""The reference solutions against PyTorch, the implementation nobody here wrote.

lab01: torch.nn.functional.scaled_dot_product_attention (boolean mask, True = attend).
lab02: masked_softmax against torch's softmax with fully masked rows set to zero, and
       the positional encoding against the paper's formula written out entry by entry.
lab03: torch.nn.MultiheadAttention with our weights copied in. nn.Linear stores W
       transposed (y = x W^T + b), and its boolean masks mean True = blocked.
lab05: every reference gradient against torch.autograd on fresh inputs (the forward
       written with torch's own softmax, layer_norm, MultiheadAttention, cross_entropy).
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


# ------------------------------------------------------------------ lab05
def _grads(torch, loss, *tensors):
    loss.backward()
    return [t.grad.numpy() for t in tensors]


def _leaf(torch, array):
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize(("shape", "axis"), [((3, 4, 6), -1), ((5, 3), 0), ((2, 3, 4, 5), 1)])
def test_lab05_softmax_backward_matches_autograd(torch, shape, axis):
    r = rng(len(shape) + axis)
    x, dout = r.normal(size=shape) * 2, r.normal(size=shape)
    t = _leaf(torch, x)
    probs = torch.softmax(t, dim=axis)
    (dx,) = _grads(torch, (probs * torch.from_numpy(dout)).sum(), t)
    got = reference("lab05", "softmax_backward")(dout, probs.detach().numpy(), axis)
    np.testing.assert_allclose(got, dx, rtol=0, atol=ATOL)


@pytest.mark.parametrize(("lead", "L", "S", "d_k", "d_v", "mask"), [
    ((2,), 5, 5, 4, 3, "causal"), ((2,), 4, 7, 6, 5, "random"), ((2, 3), 6, 6, 4, 4, None),
    ((3, 2), 4, 9, 5, 7, "random"),
])
def test_lab05_attention_backward_matches_autograd(torch, lead, L, S, d_k, d_v, mask):
    r = rng(L * S + d_k)
    q, k, v = r.normal(size=(*lead, L, d_k)), r.normal(size=(*lead, S, d_k)), r.normal(size=(*lead, S, d_v))
    dout = r.normal(size=(*lead, L, d_v))
    m = None
    if mask == "causal":
        m = np.tril(np.ones((L, S), dtype=bool))
    elif mask == "random":
        m = r.random((*lead, L, S)) < 0.5
        m[..., 0] = True
    tq, tk, tv = (_leaf(torch, a) for a in (q, k, v))
    out = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=None if m is None else torch.from_numpy(m))
    expected = _grads(torch, (out * torch.from_numpy(dout)).sum(), tq, tk, tv)
    got = reference("lab05", "attention_backward")(dout, q, k, v, m)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=0, atol=ATOL)
    if m is not None:  # a key masked for every query gets exactly nothing
        blocked = ~np.broadcast_to(m, (*lead, L, S)).any(axis=-2)
        assert np.all(got[1][blocked] == 0) and np.all(got[2][blocked] == 0)


@pytest.mark.parametrize("x_shape", [(7, 6), (2, 5, 6), (2, 3, 4, 6)])
def test_lab05_linear_backward_matches_autograd(torch, x_shape):
    r = rng(len(x_shape))
    x, w, b = r.normal(size=x_shape), r.normal(size=(6, 4)), r.normal(size=4)
    dout = r.normal(size=(*x_shape[:-1], 4))
    tx, tw, tb = (_leaf(torch, a) for a in (x, w, b))
    expected = _grads(torch, ((tx @ tw + tb) * torch.from_numpy(dout)).sum(), tx, tw, tb)
    for g, e in zip(reference("lab05", "linear_backward")(dout, x, w), expected):
        np.testing.assert_allclose(g, e, rtol=0, atol=ATOL)


@pytest.mark.parametrize(("shape", "eps"), [((3, 4, 8), 1e-5), ((6, 10), 1e-3)])
def test_lab05_layer_norm_backward_matches_autograd(torch, shape, eps):
    r = rng(shape[-1])
    x = r.normal(size=shape) * 2 + r.normal(size=(*shape[:-1], 1))
    gamma, beta, dout = r.uniform(0.5, 1.5, shape[-1]), r.normal(size=shape[-1]), r.normal(size=shape)
    tx, tg, tb = (_leaf(torch, a) for a in (x, gamma, beta))
    out = torch.nn.functional.layer_norm(tx, (shape[-1],), tg, tb, eps)
    expected = _grads(torch, (out * torch.from_numpy(dout)).sum(), tx, tg, tb)
    for g, e in zip(reference("lab05", "layer_norm_backward")(dout, x, gamma, eps), expected):
        np.testing.assert_allclose(g, e, rtol=0, atol=ATOL)


@pytest.mark.parametrize(("B", "L", "S", "D", "H", "mask"), [
    (2, 5, 5, 8, 2, "causal"), (2, 4, 6, 8, 2, "random"), (3, 6, 6, 12, 4, None),
])
def test_lab05_mha_backward_matches_autograd(torch, B, L, S, D, H, mask):
    r = rng(B * L * S + H)
    params = {f"w_{n}": r.normal(size=(D, D)) / math.sqrt(D) for n in "qkvo"}
    params.update({f"b_{n}": r.normal(size=D) * 0.3 for n in "qkvo"})
    x_q, dout = r.normal(size=(B, L, D)), r.normal(size=(B, L, D))
    x_kv = x_q if L == S and mask != "random" else r.normal(size=(B, S, D))
    m = None
    if mask == "causal":
        m = np.tril(np.ones((L, S), dtype=bool))
    elif mask == "random":
        m = r.random((B, L, S)) < 0.5
        m[..., 0] = True
    mha = torch.nn.MultiheadAttention(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # nn.Linear computes x W^T + b: hand it our W transposed
        mha.in_proj_weight.copy_(torch.from_numpy(
            np.concatenate([params["w_q"].T, params["w_k"].T, params["w_v"].T])))
        mha.in_proj_bias.copy_(torch.from_numpy(
            np.concatenate([params["b_q"], params["b_k"], params["b_v"]])))
        mha.out_proj.weight.copy_(torch.from_numpy(params["w_o"].T))
        mha.out_proj.bias.copy_(torch.from_numpy(params["b_o"]))
    tq, tkv = _leaf(torch, x_q), _leaf(torch, x_kv)  # two leaves even when x_kv is x_q
    blocked = None
    if m is not None:  # torch: True = blocked, a 3-D mask per (batch * head)
        blocked = torch.from_numpy(~np.broadcast_to(m, (B, L, S))).repeat_interleave(H, dim=0)
    out, _ = mha(tq, tkv, tkv, attn_mask=blocked, need_weights=False)
    (out * torch.from_numpy(dout)).sum().backward()
    w_in, b_in = mha.in_proj_weight.grad.numpy(), mha.in_proj_bias.grad.numpy()
    expected = {
        "dx_q": tq.grad.numpy(), "dx_kv": tkv.grad.numpy(),
        "dw_q": w_in[:D].T, "dw_k": w_in[D:2 * D].T, "dw_v": w_in[2 * D:].T,
        "db_q": b_in[:D], "db_k": b_in[D:2 * D], "db_v": b_in[2 * D:],
        "dw_o": mha.out_proj.weight.grad.numpy().T, "db_o": mha.out_proj.bias.grad.numpy(),
    }
    got = reference("lab05", "mha_backward")(dout, x_q, x_kv, params, H, m)
    names = ("dx_q", "dx_kv", "dw_q", "db_q", "dw_k", "db_k", "dw_v", "db_v", "dw_o", "db_o")
    for name, g in zip(names, got):
        np.testing.assert_allclose(g, expected[name], rtol=0, atol=ATOL, err_msg=name)


@pytest.mark.parametrize(("shape", "scale"), [((2, 5, 7), 2.0), ((4, 6), 1000.0), ((3, 4, 9), 3.0)])
def test_lab05_cross_entropy_matches_torch(torch, shape, scale):
    r = rng(int(scale))
    logits, targets = r.normal(size=shape) * scale, r.integers(0, shape[-1], shape[:-1])
    t = _leaf(torch, logits)
    loss = torch.nn.functional.cross_entropy(
        t.reshape(-1, shape[-1]), torch.from_numpy(targets.reshape(-1)))
    (expected,) = _grads(torch, loss, t)
    got_loss, got_grad = reference("lab05", "cross_entropy")(logits, targets)
    np.testing.assert_allclose(got_loss, loss.item(), rtol=1e-12, atol=ATOL)
    np.testing.assert_allclose(got_grad, expected, rtol=0, atol=ATOL)
