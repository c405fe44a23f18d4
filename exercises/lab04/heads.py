"""Lab 04, part 4: multi-head attention twice, as a wrapper and as one efficient module.

The wrapper runs H single-head attentions, each with its own (w_q, w_k, w_v),
and concatenates their outputs before one output projection W_o. The efficient
module stacks the heads' weights side by side into (D, H*d_k) matrices,
projects once, splits the result into heads, attends in all heads at once and
merges them. Same weights, same numbers: the grader gives both functions the
same inputs and expects the same outputs.

Run me as a script to check the two agree: ``python heads.py``.
"""

import numpy as np
from attention_loops import softmax
from attention_matrix import causal_mask


def attention_head(x, w_q, w_k, w_v, causal=True):
    """One head without output projection: softmax(Q K^T / sqrt(d_k), masked) V.

    Shapes:
        x: (B, T, D); w_q, w_k: (D, d_k); w_v: (D, d_k)
        returns: head (B, T, d_k), weights (B, T, T)
    """
    # TODO: your self_attention without W_o (about 6 lines)
    raise NotImplementedError("attention_head: your code here")


def multi_head_wrapper(x, heads, w_o, causal=True):
    """Multi-head attention as a wrapper over a list of single heads.

    heads[h] = (w_q, w_k, w_v) of head h: an array (H, 3, D, d_k), or a list of H
    triples (`for w_q, w_k, w_v in heads` works for both). Head outputs are
    concatenated in order 0..H-1, then projected: concat(head_0, ..., head_{H-1}) W_o.

    Shapes:
        x: (B, T, D); heads: (H, 3, D, d_k); w_o: (H*d_k, D)
        returns: out (B, T, D), weights (B, H, T, T)
    """
    # TODO: one attention_head per triple, concatenate on the last axis, project (about 6 lines)
    raise NotImplementedError("multi_head_wrapper: your code here")


def multi_head_attention(x, heads, w_o, causal=True):
    """The same multi-head attention, efficiently: stack the heads, project once.

    1) stack: W_q = [w_q of head 0 | head 1 | ...], shape (D, H*d_k) (same for W_k, W_v)
    2) project once: Q = x W_q, (B, T, H*d_k); split into (B, H, T, d_k)
    3) attend in every head at once; 4) merge to (B, T, H*d_k); 5) project with W_o
    No Python loop over heads.

    Shapes:
        x: (B, T, D); heads: (H, 3, D, d_k); w_o: (H*d_k, D)
        returns: out (B, T, D), weights (B, H, T, T)
    """
    # TODO: steps 1-5 with reshape and transpose (about 10 lines)
    raise NotImplementedError("multi_head_attention: your code here")


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    B, T, D, H, d_k = 2, 5, 8, 2, 4
    x = rng.normal(size=(B, T, D))
    heads = rng.normal(size=(H, 3, D, d_k)) / np.sqrt(D)
    w_o = rng.normal(size=(H * d_k, D)) / np.sqrt(H * d_k)
    wrapped, _ = multi_head_wrapper(x, heads, w_o)
    efficient, _ = multi_head_attention(x, heads, w_o)
    print("wrapper == efficient:", np.allclose(wrapped, efficient))
