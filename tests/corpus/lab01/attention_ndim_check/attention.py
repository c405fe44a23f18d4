"""Corpus case attention_ndim_check: refuses anything but 2-D inputs."""

import numpy as np
from softmax import softmax


def scaled_dot_product_attention(q, k, v, mask=None):
    if q.ndim != 2 or k.ndim != 2 or v.ndim != 2:
        raise ValueError("q, k and v must be 2-D matrices")
    L, d_k = q.shape
    S = k.shape[0]
    scores = np.zeros((L, S))
    for i in range(L):
        for j in range(S):
            scores[i, j] = np.dot(q[i], k[j]) / np.sqrt(d_k)
    if mask is not None:
        scores[~mask] = -np.inf
    weights = softmax(scores, axis=1)
    return weights @ v, weights
