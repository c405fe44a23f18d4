"""Lab 02 deliverable: two heatmaps, the positional encoding and causally masked attention.

    python visualize.py                      writes positional_encoding.png, causal_attention.png
    python visualize.py PE.png ATTN.png      writes them where you say (the grader does this)
"""

import sys

from example_sentence import SCORES, TOKENS
from masks import causal_mask, masked_softmax
from positional_encoding import sinusoidal_positional_encoding


def draw(matrix, path, title, xlabel, ylabel, xticks=None, yticks=None):
    """Save one heatmap of `matrix` (rows down, columns across) as a PNG."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no window

    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if xticks is not None:
        ax.set_xticks(range(len(xticks)), xticks, rotation=60)
    if yticks is not None:
        ax.set_yticks(range(len(yticks)), yticks)
    fig.savefig(path, dpi=100)


def main(pe_path="positional_encoding.png", attention_path="causal_attention.png"):
    # TODO: 1) the (50, 64) positional encoding; 2) causally masked weights on the
    # example sentence, from SCORES and your causal_mask; draw both (about 6 lines)
    ### BEGIN SOLUTION
    T = len(TOKENS)
    pe = sinusoidal_positional_encoding(50, 64)  # (T, D)
    draw(pe, pe_path, "Sinusoidal positional encoding", "column (2i: sin, 2i+1: cos)", "position")
    weights = masked_softmax(SCORES, causal_mask(T))  # (L, S), upper triangle = 0
    draw(weights, attention_path, "Causally masked attention weights", "key", "query",
         TOKENS, TOKENS)
    print("row sums:", weights.sum(axis=-1).round(3))
    ### END SOLUTION


if __name__ == "__main__":
    main(*sys.argv[1:3])
