import numpy as np
from softmax import softmax


def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=np.float32) for a in (q, k, v))
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) / np.float32(np.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores + np.where(mask, np.float32(0), np.float32(-1e9))
    weights = softmax(scores)
    return np.matmul(weights, v), weights
