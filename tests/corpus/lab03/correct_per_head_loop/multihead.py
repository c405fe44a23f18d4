"""Corpus case correct_per_head_loop: one single-head attention per head with column slices of W, then concat"""

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
    B, L, D = x_q.shape
    S = x_kv.shape[1]
    d = D // num_heads
    zero = np.zeros(D)
    outs, weights = [], []
    for h in range(num_heads):
        cols = slice(h * d, (h + 1) * d)
        q = x_q @ params["W_q"][:, cols] + params.get("b_q", zero)[cols]
        k = x_kv @ params["W_k"][:, cols] + params.get("b_k", zero)[cols]
        v = x_kv @ params["W_v"][:, cols] + params.get("b_v", zero)[cols]
        m = None
        if mask is not None:
            m = np.broadcast_to(mask, (B, num_heads, L, S))[:, h]
        o, w = scaled_dot_product_attention(q, k, v, m)
        outs.append(o)
        weights.append(w)
    merged = np.concatenate(outs, axis=-1)
    return merged @ params["W_o"] + params.get("b_o", zero), np.stack(weights, axis=1)
