"""Correct, computing in float32 throughout (and a -1e9 fill in attention_matrix.py)."""

import numpy as np
from attention_matrix import self_attention


def layer_norm(x, gamma, beta, eps=1e-5):
    x = x.astype(np.float32)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + np.float32(eps)) * gamma.astype(np.float32)
            + beta.astype(np.float32))


def feed_forward(x, w1, b1, w2, b2):
    f32 = [a.astype(np.float32) for a in (x, w1, b1, w2, b2)]
    x, w1, b1, w2, b2 = f32
    return np.maximum(x @ w1 + b1, 0) @ w2 + b2


def transformer_block(x, params, causal=True):
    p = {k: v.astype(np.float32) for k, v in params.items()}
    x = x.astype(np.float32)
    a, weights = self_attention(layer_norm(x, p["ln1_gamma"], p["ln1_beta"]),
                                p["w_q"], p["w_k"], p["w_v"], p["w_o"], causal)
    h = x + a
    return h + feed_forward(layer_norm(h, p["ln2_gamma"], p["ln2_beta"]),
                            p["w1"], p["b1"], p["w2"], p["b2"]), weights
