import numpy as np
from softmax import softmax


def scaled_dot_product_attention(q, k, v, mask=None):
    d_k = k.shape[-1]
    scores = (q / np.sqrt(d_k)) @ k.swapaxes(-2, -1)
    if mask is not None:
        scores = scores.copy()
        scores[~np.broadcast_to(mask, scores.shape)] = -1e9  # masked_fill, in place on a copy
    weights = softmax(scores)
    return weights @ v, weights
