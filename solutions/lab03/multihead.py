"""Lab 03: multi-head attention, MultiHead(Q, K, V) = Concat(head_1, ..., head_H) W_O.

Each head attends in its own d_k = D/H dimensional slice of the model width:
    head_h = Attention(x_q W_Q[:, h], x_kv W_K[:, h], x_kv W_V[:, h])
Projecting once with the full (D, D) matrices and then splitting the result
into H slices is the same computation, and it is the usual way to write it.

Run me as a script to try your functions: ``python multihead.py``.
"""

import numpy as np


def scaled_dot_product_attention(q, k, v, mask=None):
    """Your attention from lab01: softmax(Q K^T / sqrt(d_k)) V, mask True = may attend.

    Bring your own: paste your lab01 function here (and the softmax it uses),
    or write it again. Labs do not import each other.

    Shapes:
        q: (..., L, d_k); k: (..., S, d_k); v: (..., S, d_v)
        mask: bool, broadcastable to (..., L, S); True = may attend
        returns: output (..., L, d_v), weights (..., L, S)
    """
    # TODO: paste your lab01 attention here, or write it again (about 9 lines)
    ### BEGIN SOLUTION
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)  # (..., L, S)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # (..., L, S)
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    exps = np.exp(scores)
    weights = exps / np.sum(exps, axis=-1, keepdims=True)  # (..., L, S)
    return weights @ v, weights  # (..., L, d_v), (..., L, S)
    ### END SOLUTION


def split_heads(x, num_heads):
    """Cut the model width into H heads of d_k = D/H, and move heads before time.

    Raises ValueError when D is not divisible by H.

    Shapes:
        x: (B, T, D)
        returns: (B, H, T, D/H); head h holds columns h*D/H .. (h+1)*D/H - 1
    """
    # TODO: check D % H, unroll the last axis, then transpose (about 5 lines)
    ### BEGIN SOLUTION
    B, T, D = x.shape
    if D % num_heads != 0:
        raise ValueError(f"model width D={D} is not divisible by num_heads={num_heads}")
    x = x.reshape(B, T, num_heads, D // num_heads)  # (B, T, D) -> (B, T, H, d_k)
    return x.transpose(0, 2, 1, 3)  # (B, H, T, d_k)
    ### END SOLUTION


def merge_heads(x):
    """The inverse of split_heads: put the heads side by side again.

    Shapes:
        x: (B, H, T, d_k)
        returns: (B, T, H*d_k); head h fills columns h*d_k .. (h+1)*d_k - 1
    """
    # TODO: transpose back, then reshape (about 3 lines)
    ### BEGIN SOLUTION
    B, H, T, d_k = x.shape
    x = x.transpose(0, 2, 1, 3)  # (B, H, T, d_k) -> (B, T, H, d_k)
    return x.reshape(B, T, H * d_k)  # (B, T, D)
    ### END SOLUTION


def multi_head_attention(x_q, x_kv, params, num_heads, mask=None):
    """Multi-head attention from queries x_q to keys and values x_kv.

    1) project: Q = x_q W_q + b_q, K = x_kv W_k + b_k, V = x_kv W_v + b_v
    2) split each into H heads
    3) attend in every head, scale 1/sqrt(D/H)
    4) merge the heads, 5) project: output = merged W_o + b_o
    Self-attention is x_kv = x_q; cross-attention has S != L.

    Shapes:
        x_q: (B, L, D); x_kv: (B, S, D)
        params: W_q, W_k, W_v, W_o (D, D); optional biases b_q, b_k, b_v, b_o (D,)
        mask: bool, broadcastable to (B, H, L, S); True = may attend
        returns: output (B, L, D), weights (B, H, L, S)
    """
    # TODO: follow steps 1-5 with your functions above (about 8 lines)
    ### BEGIN SOLUTION
    def project(x, name):
        return x @ params[f"W_{name}"] + params.get(f"b_{name}", 0.0)  # (B, T, D)

    q = split_heads(project(x_q, "q"), num_heads)  # (B, H, L, d_k)
    k = split_heads(project(x_kv, "k"), num_heads)  # (B, H, S, d_k)
    v = split_heads(project(x_kv, "v"), num_heads)  # (B, H, S, d_k)
    heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, H, L, d_k), (B, H, L, S)
    output = project(merge_heads(heads), "o")  # (B, L, D)
    return output, weights
    ### END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    D, H = 8, 2
    params = {f"W_{n}": rng.normal(size=(D, D)) / np.sqrt(D) for n in "qkvo"}
    x = rng.normal(size=(1, 5, D))  # (B, T, D)
    output, weights = multi_head_attention(x, x, params, H)
    print("output (B, L, D):", output.shape, " weights (B, H, L, S):", weights.shape)
    print(weights[0, 0].round(3))
