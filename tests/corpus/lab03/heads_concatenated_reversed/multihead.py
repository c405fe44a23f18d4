"""Corpus case heads_concatenated_reversed: a per-head loop that concatenates the heads last to first"""

import numpy as np


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights


def split_heads(x, num_heads):
    B, T, D = x.shape
    if D % num_heads:
        raise ValueError("D must be divisible by num_heads")
    return x.reshape(B, T, num_heads, D // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    B, H, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * d)


def multi_head_attention(x_q, x_kv, params, num_heads, mask=None):
    D = x_q.shape[-1]
    d = D // num_heads
    q = x_q @ params["W_q"] + params.get("b_q", 0.0)
    k = x_kv @ params["W_k"] + params.get("b_k", 0.0)
    v = x_kv @ params["W_v"] + params.get("b_v", 0.0)
    outs, weights = [], []
    for h in reversed(range(num_heads)):
        cols = slice(h * d, (h + 1) * d)
        m = None if mask is None else np.broadcast_to(mask, (x_q.shape[0], num_heads) + mask.shape[-2:])[:, h]
        o, w = scaled_dot_product_attention(q[..., cols], k[..., cols], v[..., cols], m)
        outs.append(o)
        weights.insert(0, w)
    return np.concatenate(outs, axis=-1) @ params["W_o"] + params.get("b_o", 0.0), np.stack(weights, 1)
