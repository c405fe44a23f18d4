"""Lab 04 deliverable: the causal attention weights of lm_forward on the example sentence.

The model is untrained (seeded random parameters, D = 16, one head), so the
pattern says nothing about language yet: what you should see is the causal
structure (nothing above the diagonal) and the effect of position embeddings
(the two "the" attend differently). One heatmap per head: this block has one.

    python visualize.py               writes lm_attention.png
    python visualize.py OUT.png       writes it where you say (the grader does this)
"""

import sys

import numpy as np
from example_sentence import TOKEN_IDS, TOKENS
from model import lm_forward, random_lm_params

SEED = 0


def example_weights():
    """The block's causal weights on the sentence, one (T, T) matrix per head: (H, T, T)."""
    token_ids = TOKEN_IDS.astype(np.int64)  # (1, T)
    params = random_lm_params(vocab=int(token_ids.max()) + 1, max_len=16, d_model=16,
                              d_head=8, d_ff=32, seed=SEED)
    probs, weights = lm_forward(token_ids, params)  # (1, T, V), (1, T, T) or (1, H, T, T)
    return weights[0].reshape(-1, *weights.shape[-2:])  # (H, T, T)


def main(path="lm_attention.png"):
    from matplotlib.figure import Figure  # no pyplot: no global state, no window

    weights = example_weights()
    fig = Figure(figsize=(5 * len(weights), 5), layout="constrained")
    axes = fig.subplots(1, len(weights), squeeze=False)[0]
    # TODO: one heatmap per head (imshow of weights[h], vmin 0, vmax 1), tokens as tick
    # labels on both axes, a title per head, a colorbar (about 8 lines)
    raise NotImplementedError("main: your code here")
    fig.savefig(path, dpi=80)


if __name__ == "__main__":
    main(*sys.argv[1:2])
