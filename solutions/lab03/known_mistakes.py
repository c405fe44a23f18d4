"""Known wrong variants of the lab03 reference, for diagnosis.

Each function here is the reference with one classic bug. When a student's
result matches one of them (and not the reference), the report names the
mistake. The lab spec (lab.toml, [[mistakes]]) maps mistake ids to these
names. Hidden from students: it holds the reference, bug for bug.
"""

import numpy as np
from multihead import merge_heads, split_heads


# ------------------------------------------------------ split and merge
def split_heads_no_transpose(x, num_heads):
    """(B, T, D) reshaped straight to (B, H, T, d_k): heads cut across time steps."""
    B, T, D = x.shape
    return x.reshape(B, num_heads, T, D // num_heads)


def split_heads_interleaved(x, num_heads):
    """Head h gets columns h, h+H, h+2H, ... instead of one contiguous slice."""
    B, T, D = x.shape
    return x.reshape(B, T, D // num_heads, num_heads).transpose(0, 3, 1, 2)  # (B, H, T, d_k)


def merge_heads_no_transpose(x):
    """(B, H, T, d_k) reshaped straight to (B, T, D): rows of different time steps mixed."""
    B, H, T, d_k = x.shape
    return x.reshape(B, T, H * d_k)


def merge_heads_interleaved(x):
    """Heads woven together column by column instead of side by side."""
    B, H, T, d_k = x.shape
    return x.transpose(0, 2, 3, 1).reshape(B, T, H * d_k)  # (B, T, d_k, H) -> (B, T, D)


def merge_heads_reversed(x):
    """Heads concatenated last to first."""
    return merge_heads(x[:, ::-1])


# ------------------------------------------------------ multi-head attention
def _mha(x_q, x_kv, params, num_heads, mask=None, *, split=split_heads, merge=merge_heads,
         scale=None, weight=lambda W: W, biases=("q", "k", "v", "o"), out_proj=True,
         kv_source=None, value_weight="v", axis=-1, fill="keep"):
    def project(x, name, w=None):
        w = w or name
        bias = params.get(f"b_{w}", 0.0) if name in biases else 0.0
        return x @ weight(params[f"W_{w}"]) + bias  # (B, T, D)

    x_kv = x_q if kv_source == "queries" else x_kv
    q = split(project(x_q, "q"), num_heads)  # (B, H, L, d_k)
    k = split(project(x_kv, "k"), num_heads)  # (B, H, S, d_k)
    v = split(project(x_kv, "v", value_weight), num_heads)  # (B, H, S, d_k)
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) * (1 / np.sqrt(d_k) if scale is None else scale)
    if mask is not None and fill == "keep":
        scores = np.where(mask, scores, -np.inf)  # (B, H, L, S)
    if mask is not None and fill == "inverted":
        scores = np.where(mask, -np.inf, scores)
    with np.errstate(invalid="ignore"):
        scores = scores - np.max(scores, axis=axis, keepdims=True)
        exps = np.exp(scores)
        weights = exps / np.sum(exps, axis=axis, keepdims=True)  # (B, H, L, S)
    merged = merge(weights @ v)  # (B, L, D)
    return (project(merged, "o") if out_proj else merged), weights


def mha_split_no_transpose(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, split=split_heads_no_transpose)


def mha_split_and_merge_no_transpose(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, split=split_heads_no_transpose,
                merge=merge_heads_no_transpose)


def mha_merge_no_transpose(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, merge=merge_heads_no_transpose)


def mha_merge_interleaved(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, merge=merge_heads_interleaved)


def mha_merge_reversed(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, merge=merge_heads_reversed)


def mha_scale_by_d_model(x_q, x_kv, params, num_heads, mask=None):
    """1/sqrt(D) instead of 1/sqrt(D/H)."""
    return _mha(x_q, x_kv, params, num_heads, mask, scale=1 / np.sqrt(x_q.shape[-1]))


def mha_missing_scale(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, scale=1.0)


def mha_transposed_weights(x_q, x_kv, params, num_heads, mask=None):
    """x @ W.T, the nn.Linear convention, instead of x @ W."""
    return _mha(x_q, x_kv, params, num_heads, mask, weight=lambda W: W.T)


def mha_softmax_over_queries(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, axis=-2)


def mha_missing_output_projection(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, out_proj=False)


def mha_ignores_biases(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, biases=())


def mha_ignores_query_bias(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, biases=("k", "v", "o"))


def mha_ignores_value_bias(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, biases=("q", "k", "o"))


def mha_ignores_output_bias(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, mask, biases=("q", "k", "v"))


def mha_ignores_mask(x_q, x_kv, params, num_heads, mask=None):
    return _mha(x_q, x_kv, params, num_heads, None)


def mha_mask_inverted(x_q, x_kv, params, num_heads, mask=None):
    """True taken as 'blocked', the nn.MultiheadAttention convention."""
    return _mha(x_q, x_kv, params, num_heads, mask, fill="inverted")


def mha_kv_from_queries(x_q, x_kv, params, num_heads, mask=None):
    """Keys and values projected from x_q: self-attention even when x_kv is given."""
    return _mha(x_q, x_kv, params, num_heads, mask, kv_source="queries")


def mha_values_use_w_k(x_q, x_kv, params, num_heads, mask=None):
    """V = x_kv W_k + b_k: the key projection reused for the values."""
    return _mha(x_q, x_kv, params, num_heads, mask, value_weight="k")

