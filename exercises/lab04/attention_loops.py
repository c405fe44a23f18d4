"""Lab 04, part 1: self-attention with Python loops, the teaching version.

One sequence, one head, with its four projections:
    Q = x W_q, K = x W_k, V = x W_v
    weights[i, j] = softmax_j(Q[i] . K[j] / sqrt(d_k))   (j <= i when causal)
    out = (weights V) W_o
Every score is one dot product and every output row one weighted sum, written
as loops over queries and keys: slow, but each line is one step of the formula.
attention_matrix.py computes the same thing with matrices.

Run me as a script to try your functions: ``python attention_loops.py``.
"""

import numpy as np


def softmax(x, axis=-1):
    """Your softmax from lab01 (bring your own: labs do not import each other).

    Shapes:
        x: any shape; returns: the same shape, summing to 1 along `axis`
    """
    # TODO: paste your lab01 softmax here, or write it again (about 3 lines)
    raise NotImplementedError("softmax: your code here")


def self_attention_loops(x, w_q, w_k, w_v, w_o, causal=True):
    """Single-head self-attention of one sequence, with loops over queries and keys.

    1) project: Q = x W_q, K = x W_k, V = x W_v (matrix products are fine here)
    2) for each query i and each key j (j <= i when causal): score = Q[i] . K[j] / sqrt(d_k)
    3) softmax over the keys of row i (your softmax, on one row)
    4) for each query i: head[i] = sum_j weights[i, j] V[j]
    5) out = head W_o

    Shapes:
        x: (T, D); w_q, w_k: (D, d_k); w_v: (D, d_v); w_o: (d_v, D)
        returns: out (T, D), weights (T, T); with causal=True, weights[i, j] = 0 for j > i
    """
    # TODO: steps 1-5 with two nested loops for the scores and one for the sums (about 14 lines)
    raise NotImplementedError("self_attention_loops: your code here")


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    T, D, d_k = 5, 8, 4
    x = rng.normal(size=(T, D))
    w_q, w_k, w_v = (rng.normal(size=(D, d_k)) / np.sqrt(D) for _ in range(3))
    w_o = rng.normal(size=(d_k, D)) / np.sqrt(d_k)
    out, weights = self_attention_loops(x, w_q, w_k, w_v, w_o)
    print("out (T, D):", out.shape, " weights (T, T):", weights.shape)
    print(weights.round(3))
