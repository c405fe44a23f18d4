"""Lab 04, part 2: self-attention with matrices, the efficient version.

The same computation as attention_loops.py, for a whole batch at once and with
no Python loop over tokens: all scores are one matrix product Q K^T, the causal
mask is one boolean matrix, all weighted sums one product weights V. The grader
times it against your loops version on the same inputs (see README.md).

Run me as a script to compare the two: ``python attention_matrix.py``.
"""

import time

import numpy as np
from attention_loops import softmax


def causal_mask(T):
    """The (T, T) boolean mask, True = may attend: query i sees keys 0..i."""
    return np.tril(np.ones((T, T), dtype=bool))


def self_attention(x, w_q, w_k, w_v, w_o, causal=True):
    """Single-head self-attention of a batch, with matrices only.

    out = softmax(Q K^T / sqrt(d_k), masked) V W_o, with Q = x W_q, K = x W_k, V = x W_v.

    Shapes:
        x: (B, T, D); w_q, w_k: (D, d_k); w_v: (D, d_v); w_o: (d_v, D)
        returns: out (B, T, D), weights (B, T, T); with causal=True, weights[b, i, j] = 0 for j > i
    """
    # TODO: project, score, mask with causal_mask, softmax, weight, project (about 8 lines)
    raise NotImplementedError("self_attention: your code here")


if __name__ == "__main__":
    from attention_loops import self_attention_loops

    rng = np.random.default_rng(0)
    B, T, D = 2, 64, 32  # the sizes of the grader's speed test
    x = rng.normal(size=(B, T, D))
    w_q, w_k, w_v, w_o = (rng.normal(size=(D, D)) / np.sqrt(D) for _ in range(4))

    def median_ms(run, repeats=5):
        run()  # warm-up: the first call pays for imports and caches
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return sorted(times)[repeats // 2] * 1e3

    looped = [self_attention_loops(x[b], w_q, w_k, w_v, w_o) for b in range(B)]
    out, weights = self_attention(x, w_q, w_k, w_v, w_o)
    assert np.allclose(out, np.stack([o for o, _ in looped])), "the two versions disagree"
    loops_ms = median_ms(lambda: [self_attention_loops(x[b], w_q, w_k, w_v, w_o) for b in range(B)])
    matrix_ms = median_ms(lambda: self_attention(x, w_q, w_k, w_v, w_o))
    print(f"loops {loops_ms:.2f} ms, matrix {matrix_ms:.3f} ms a batch of {B}: "
          f"{loops_ms / matrix_ms:.0f}x faster (median of 5; the grader's test takes 7)")
