"""Corpus case split_and_merge_without_transpose: reshape both ways, no transpose at all"""

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
    return x.reshape(B, num_heads, T, D // num_heads)


def merge_heads(x):
    B, H, T, d = x.shape
    return x.reshape(B, T, H * d)


def multi_head_attention(x_q, x_kv, params, num_heads, mask=None):
    q = split_heads(x_q @ params["W_q"] + params.get("b_q", 0.0), num_heads)
    k = split_heads(x_kv @ params["W_k"] + params.get("b_k", 0.0), num_heads)
    v = split_heads(x_kv @ params["W_v"] + params.get("b_v", 0.0), num_heads)
    heads, weights = scaled_dot_product_attention(q, k, v, mask)
    return merge_heads(heads) @ params["W_o"] + params.get("b_o", 0.0), weights
