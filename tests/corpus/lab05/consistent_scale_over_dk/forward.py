"""Lab 05, part 0: the forward passes whose gradients this lab computes.

Everything here is given except scaled_dot_product_attention: bring yours from
lab01 (it is graded again, and the example heatmap shows its weights). The
backward functions in backward.py call these to recompute what they need.

Everything is float64: gradients are checked far more tightly than forward passes.

Run me as a script to try your function: ``python forward.py``.
"""

import numpy as np


def softmax(x, axis=-1):
    """A numerically stable softmax (given). Entries equal to -inf get probability 0.

    Shapes:
        x: any shape (..., N); returns: the same shape, every slice along `axis` sums to 1
    """
    x = np.asarray(x, dtype=np.float64)
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(Q K^T / sqrt(d_k), masked) V, as in lab01.

    Shapes:
        q: (..., L, d_k); k: (..., S, d_k); v: (..., S, d_v)
        mask: bool, broadcastable to (..., L, S); True = may attend
        returns: output (..., L, d_v), weights (..., L, S)
    """
    # TODO: bring your lab01 function (about 6 lines)
    ### BEGIN SOLUTION
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / d_k  # (..., L, S): d_k, not sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # (..., L, S)
    weights = softmax(scores, axis=-1)  # (..., L, S)
    return weights @ v, weights  # (..., L, d_v), (..., L, S)
    ### END SOLUTION


def linear(x, w, b):
    """y = x @ w + b (given).

    Shapes:
        x: (..., D_in); w: (D_in, D_out); b: (D_out,); returns: (..., D_out)
    """
    return x @ w + b


def layer_norm(x, gamma, beta, eps=1e-5):
    """LayerNorm over the last axis with the biased variance, as in lab04 (given).

    Shapes:
        x: (..., D); gamma, beta: (D,); returns: (..., D)
    """
    mean = np.mean(x, axis=-1, keepdims=True)  # (..., 1)
    var = np.var(x, axis=-1, keepdims=True)  # (..., 1)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def split_heads(x, num_heads):
    """(B, L, H*d) -> (B, H, L, d) (given)."""
    *lead, length, width = x.shape
    x = x.reshape(*lead, length, num_heads, width // num_heads)  # (B, L, H, d)
    return np.swapaxes(x, -2, -3)  # (B, H, L, d)


def merge_heads(x):
    """(B, H, L, d) -> (B, L, H*d) (given): head 0's columns first."""
    x = np.swapaxes(x, -2, -3)  # (B, L, H, d)
    return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])


def head_mask(mask):
    """A mask for (B, L, S) or (L, S) as one for (B, H, L, S): a new head axis (given)."""
    return None if mask is None else np.asarray(mask)[..., None, :, :]


def mha_forward(x_q, x_kv, params, num_heads, mask=None):
    """Multi-head attention with biases (given), queries from x_q, keys and values from x_kv.

    params: w_q, w_k, w_v, w_o (D, D) and b_q, b_k, b_v, b_o (D,); D = num_heads * d_k.

    Shapes:
        x_q: (B, L, D); x_kv: (B, S, D); mask: bool (L, S) or (B, L, S), True = may attend
        returns: output (B, L, D), weights (B, H, L, S)
    """
    p = params
    q = split_heads(linear(x_q, p["w_q"], p["b_q"]), num_heads)  # (B, H, L, d_k)
    k = split_heads(linear(x_kv, p["w_k"], p["b_k"]), num_heads)  # (B, H, S, d_k)
    v = split_heads(linear(x_kv, p["w_v"], p["b_v"]), num_heads)  # (B, H, S, d_k)
    heads, weights = scaled_dot_product_attention(q, k, v, head_mask(mask))
    return linear(merge_heads(heads), p["w_o"], p["b_o"]), weights


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 2))
    out, weights = scaled_dot_product_attention(q, k, v)
    print("out:", out.shape, " weights:", weights.shape, " rows sum to", weights.sum(-1).round(6)[0])
