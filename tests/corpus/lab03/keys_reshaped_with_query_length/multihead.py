"""Corpus case keys_reshaped_with_query_length: B, L taken from x_q for K and V too."""

import numpy as np


def multi_head_attention(x_q, x_kv, params, num_heads, mask=None):
    B, L, D = x_q.shape
    d_k = D // num_heads
    q = x_q @ params["W_q"] + params.get("b_q", 0)
    k = x_kv @ params["W_k"] + params.get("b_k", 0)
    v = x_kv @ params["W_v"] + params.get("b_v", 0)
    q = q.reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    k = k.reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    v = v.reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    out = (weights @ v).transpose(0, 2, 1, 3).reshape(B, L, D)
    return out @ params["W_o"] + params.get("b_o", 0), weights


def split_heads(x, num_heads):
    B, T, D = x.shape
    if D % num_heads:
        raise ValueError("D must be divisible by num_heads")
    return x.reshape(B, T, num_heads, D // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    B, H, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * d)
