"""Correct but not batched: one matrix attention per sequence, a Python loop over B."""

import numpy as np
from attention_loops import softmax


def causal_mask(T):
    return np.tril(np.ones((T, T), dtype=bool))


def one_sequence(x, w_q, w_k, w_v, w_o, causal):
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # (T, d_k), (T, d_k), (T, d_v)
    scores = q @ k.T / np.sqrt(q.shape[-1])
    if causal:
        scores = np.where(causal_mask(len(x)), scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ v @ w_o, weights


def self_attention(x, w_q, w_k, w_v, w_o, causal=True):
    results = [one_sequence(seq, w_q, w_k, w_v, w_o, causal) for seq in x]
    return np.stack([r[0] for r in results]), np.stack([r[1] for r in results])
