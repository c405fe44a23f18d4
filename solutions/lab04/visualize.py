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
    ### BEGIN SOLUTION
    for head, ax in enumerate(axes):
        image = ax.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set_title(f"lm_forward, causal weights, head {head}")
        ax.set_xticks(range(len(TOKENS)), TOKENS, rotation=90)
        ax.set_yticks(range(len(TOKENS)), TOKENS)
        ax.set_xlabel("key")
        ax.set_ylabel("query")
    fig.colorbar(image, ax=list(axes), shrink=0.8)
    above = np.triu(weights, k=1).sum()
    print(f"weight above the diagonal (must be 0): {above:.3g}")
    ### END SOLUTION
    fig.savefig(path, dpi=80)


if __name__ == "__main__":
    main(*sys.argv[1:2])
