"""Corpus case mha_unbatched: written for x of shape (L, D), one sequence."""

import numpy as np


def split_heads(x, num_heads):
    B, T, D = x.shape
    if D % num_heads:
        raise ValueError("D must be divisible by num_heads")
    return x.reshape(B, T, num_heads, D // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    B, H, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * d)


def multi_head_attention(x_q, x_kv, params, num_heads, mask=None):
    L, D = x_q.shape[0], x_q.shape[1]
    S = x_kv.shape[0]
    d_k = D // num_heads
    q = (x_q @ params["W_q"] + params.get("b_q", 0)).reshape(L, num_heads, d_k).transpose(1, 0, 2)
    k = (x_kv @ params["W_k"] + params.get("b_k", 0)).reshape(S, num_heads, d_k).transpose(1, 0, 2)
    v = (x_kv @ params["W_v"] + params.get("b_v", 0)).reshape(S, num_heads, d_k).transpose(1, 0, 2)
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(d_k)  # (H, L, S)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    heads = weights @ v  # (H, L, d_k)
    merged = heads.transpose(1, 0, 2).reshape(L, D)
    return merged @ params["W_o"] + params.get("b_o", 0), weights
