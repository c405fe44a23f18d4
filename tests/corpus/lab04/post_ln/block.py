"""Lab 04, part 3: a pre-LayerNorm transformer block.

    h   = x + attention(LN1(x))        attention: your self_attention, causal
    out = h + FFN(LN2(h))              FFN(z) = ReLU(z W1 + b1) W2 + b2

Pre-LN, as in GPT-2 and most models since: each sub-layer reads a normalised
copy of the residual stream, and its result is added back to the stream
unnormalised. (Post-LN, the 2017 paper's order, normalises after the addition.)

Run me as a script to try your functions: ``python block.py``.
"""

import numpy as np
from attention_matrix import self_attention


def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalise each vector over its last axis, then scale and shift.

    (x - mean) / sqrt(var + eps) * gamma + beta, mean and var over the last axis,
    var the biased variance (divide by D, not D - 1), as torch.nn.LayerNorm does.

    Shapes:
        x: (..., D); gamma, beta: (D,); returns: (..., D)
    """
    mean = np.mean(x, axis=-1, keepdims=True)  # (..., 1)
    var = np.var(x, axis=-1, keepdims=True)  # (..., 1), ddof=0
    return (x - mean) / np.sqrt(var + eps) * gamma + beta  # (..., D)


def feed_forward(x, w1, b1, w2, b2):
    """Two layers with a ReLU between them: ReLU(x W1 + b1) W2 + b2.

    Shapes:
        x: (..., D); w1: (D, F); b1: (F,); w2: (F, D); b2: (D,); returns: (..., D)
    """
    hidden = np.maximum(0.0, x @ w1 + b1)  # (..., F)
    return hidden @ w2 + b2  # (..., D)


def transformer_block(x, params, causal=True):
    """One pre-LN block: h = x + attn(LN1(x)), out = h + FFN(LN2(h)).

    params holds: ln1_gamma, ln1_beta, ln2_gamma, ln2_beta (D,);
    w_q, w_k (D, d_k); w_v (D, d_v); w_o (d_v, D); w1 (D, F), b1 (F,), w2 (F, D), b2 (D,).
    Other keys are ignored (lm_forward passes all of its parameters).

    Shapes:
        x: (B, T, D); returns: out (B, T, D), the attention weights (B, T, T)
    """
    p = params
    attended, weights = self_attention(x, p["w_q"], p["w_k"], p["w_v"], p["w_o"], causal)
    h = layer_norm(x + attended, p["ln1_gamma"], p["ln1_beta"])
    out = layer_norm(h + feed_forward(h, p["w1"], p["b1"], p["w2"], p["b2"]), p["ln2_gamma"], p["ln2_beta"])
    return out, weights  # (B, T, D), (B, T, T)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 8))  # (B, T, D)
    params = {name: rng.normal(size=shape) / np.sqrt(shape[0]) for name, shape in [
        ("w_q", (8, 4)), ("w_k", (8, 4)), ("w_v", (8, 4)), ("w_o", (4, 8)),
        ("w1", (8, 16)), ("b1", (16,)), ("w2", (16, 8)), ("b2", (8,))]}
    params.update(ln1_gamma=np.ones(8), ln1_beta=np.zeros(8), ln2_gamma=np.ones(8), ln2_beta=np.zeros(8))
    out, weights = transformer_block(x, params)
    print("out (B, T, D):", out.shape, " weights (B, T, T):", weights.shape)
    print("LayerNorm: mean", layer_norm(x, np.ones(8), np.zeros(8)).mean(-1).round(6)[0])
