import math

import numpy as np
from softmax import softmax


def scaled_dot_product_attention(q, k, v, mask=None):
    shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    q = np.broadcast_to(q, shape + q.shape[-2:])
    k = np.broadcast_to(k, shape + k.shape[-2:])
    v = np.broadcast_to(v, shape + v.shape[-2:])
    L, S, d_k = q.shape[-2], k.shape[-2], q.shape[-1]
    allowed = np.ones(shape + (L, S), bool) if mask is None else np.broadcast_to(mask, shape + (L, S))
    scores = np.empty(shape + (L, S))
    for b in np.ndindex(shape):
        for i in range(L):
            for j in range(S):
                s = sum(q[b][i, n] * k[b][j, n] for n in range(d_k)) / math.sqrt(d_k)
                scores[b][i, j] = s if allowed[b][i, j] else -math.inf
    weights = softmax(scores)
    output = np.zeros(shape + (L, v.shape[-1]))
    for b in np.ndindex(shape):
        for i in range(L):
            for j in range(S):
                output[b][i] += weights[b][i, j] * v[b][j]
    return output, weights
