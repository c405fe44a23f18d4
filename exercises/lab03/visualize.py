"""Lab 03 deliverable: per-head heatmaps of causal multi-head attention on the example sentence.

The seed experiment: the same random projections (seed 0, model width D = 8),
split into H = 2 heads (d_k = 4) and into H = 4 heads (d_k = 2). One row of
heatmaps per setting, one heatmap per head.

    python visualize.py               writes head_heatmaps.png
    python visualize.py OUT.png       writes it where you say (the grader does this)
"""

import sys

import numpy as np
from example_sentence import TOKENS, X_Q
from multihead import multi_head_attention

SEED = 0
HEADS = (2, 4)


def random_params(d_model, seed=SEED, bias=False):
    """W_q, W_k, W_v, W_o (D, D) with entries ~ N(0, 1/D); biases (D,) ~ N(0, 1) if asked."""
    rng = np.random.default_rng(seed)
    params = {f"W_{n}": rng.normal(size=(d_model, d_model)) / np.sqrt(d_model) for n in "qkvo"}
    if bias:
        params.update({f"b_{n}": rng.normal(size=d_model) for n in "qkvo"})
    return params


def causal_weights(num_heads, bias=False):
    """The (H, L, S) causal attention weights of the example sentence."""
    T, D = X_Q.shape[-2:]
    mask = np.tril(np.ones((T, T), dtype=bool))  # (L, S), True = may attend
    _, weights = multi_head_attention(X_Q, X_Q, random_params(D, bias=bias), num_heads, mask)
    return weights[0]  # (B, H, L, S) -> (H, L, S)


def entropy(weights):
    """Mean entropy of the rows, in nats: low = focused heads, high = spread-out heads."""
    return float(-(weights * np.log(np.where(weights > 0, weights, 1.0))).sum(-1).mean())


def main(path="head_heatmaps.png"):
    from matplotlib.figure import Figure  # no pyplot: no global state, no window

    fig = Figure(figsize=(4 * max(HEADS), 4 * len(HEADS)), layout="constrained")
    grid = fig.subplots(len(HEADS), max(HEADS), squeeze=False)
    # TODO: for each H in HEADS, draw one heatmap per head in row HEADS.index(H)
    # (imshow, title "H=.. head ..", tokens as tick labels); hide unused axes (about 12 lines)
    raise NotImplementedError("main: your code here")
    fig.savefig(path, dpi=80)


if __name__ == "__main__":
    main(*sys.argv[1:2])
