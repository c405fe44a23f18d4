"""Corpus case correct_einsum_float32: einsum everywhere, computed in float32"""

import numpy as np


def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=np.float32) for a in (q, k, v))
    scores = np.einsum("...ld,...sd->...ls", q, k) / np.float32(np.sqrt(q.shape[-1]))
    if mask is not None:
        scores = np.where(mask, scores, np.float32(-np.inf))
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return np.einsum("...ls,...sd->...ld", weights, v), weights


def split_heads(x, num_heads):
    B, T, D = x.shape
    if D % num_heads:
        raise ValueError(f"D={D} is not divisible by H={num_heads}")
    return np.einsum("bthd->bhtd", x.reshape(B, T, num_heads, D // num_heads))


def merge_heads(x):
    B, H, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * d)


def multi_head_attention(x_q, x_kv, params, num_heads, mask=None):
    p = {name: np.asarray(value, dtype=np.float32) for name, value in params.items()}
    zero = np.float32(0)
    q = split_heads(np.einsum("bld,de->ble", x_q, p["W_q"]) + p.get("b_q", zero), num_heads)
    k = split_heads(np.einsum("bsd,de->bse", x_kv, p["W_k"]) + p.get("b_k", zero), num_heads)
    v = split_heads(np.einsum("bsd,de->bse", x_kv, p["W_v"]) + p.get("b_v", zero), num_heads)
    heads, weights = scaled_dot_product_attention(q, k, v, mask)
    out = np.einsum("bld,de->ble", merge_heads(heads), p["W_o"]) + p.get("b_o", zero)
    return out.astype(np.float32), weights.astype(np.float32)
