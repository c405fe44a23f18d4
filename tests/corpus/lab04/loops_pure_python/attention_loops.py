"""Correct: the loops version with the dot product itself as a Python loop (no np.dot per score)."""

import math

import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def self_attention_loops(x, w_q, w_k, w_v, w_o, causal=True):
    q, k, v = (x @ w_q).tolist(), (x @ w_k).tolist(), (x @ w_v).tolist()
    T, d_k, d_v = len(q), len(q[0]), len(v[0])
    weights = [[0.0] * T for _ in range(T)]
    for i in range(T):
        keys = range(i + 1) if causal else range(T)
        scores = []
        for j in keys:
            total = 0.0
            for c in range(d_k):
                total += q[i][c] * k[j][c]
            scores.append(total / math.sqrt(d_k))
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        norm = sum(exps)
        for j, e in zip(keys, exps):
            weights[i][j] = e / norm
    head = [[sum(weights[i][j] * v[j][c] for j in range(T)) for c in range(d_v)] for i in range(T)]
    return np.array(head) @ w_o, np.array(weights)
