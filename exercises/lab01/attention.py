"""Lab 01, part 2: scaled dot-product attention, Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V.

Run me as a script to try your function: ``python attention.py``.
"""

import numpy as np
from softmax import softmax


def scaled_dot_product_attention(q, k, v, mask=None):
    """Attend from every query to every key and mix the values.

    1) scores: compare each query with each key, scaled by 1/sqrt(d_k)
    2) mask: where mask is False, the query may not look at that key
    3) weights: softmax over the keys
    4) output: the weighted sum of the values

    Shapes:
        q: (..., L, d_k)   L queries
        k: (..., S, d_k)   S keys
        v: (..., S, d_v)   one value per key
        mask: bool, broadcastable to (..., L, S); True = may attend
        returns: output (..., L, d_v), weights (..., L, S)
    """
    raise NotImplementedError("scaled_dot_product_attention: your code here")


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 5))
    output, weights = scaled_dot_product_attention(q, k, v)
    print("weights (L, S):", weights.shape, "\n", weights.round(3))
    print("output (L, d_v):", output.shape)
