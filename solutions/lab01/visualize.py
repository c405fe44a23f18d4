"""Lab 01 deliverable: draw your attention weights on the example sentence.

Run: ``python visualize.py`` (writes attention_heatmap.png next to this file),
or ``python visualize.py OUT.png``. `attn-grade check lab01` runs it too.
"""

import sys
from pathlib import Path

import numpy as np
from attention import scaled_dot_product_attention
from example_sentence import TOKENS, K, Q, V


def attention_heatmap(weights, tokens, path):
    """Save a heatmap of `weights` with the tokens on both axes.

    Shapes:
        weights: (L, S), here L = S = len(tokens); row i is where token i looks
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # TODO: one Figure and its Agg canvas, imshow the weights, put the tokens on
    # both axes (x: keys, y: queries), add a colorbar, and save to `path` (about 10 lines).
    ### BEGIN SOLUTION
    figure = Figure(figsize=(7, 6))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(bottom=0.2, left=0.18)
    ax = figure.add_subplot()
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(tokens)), tokens, rotation=60, ha="right")
    ax.set_yticks(range(len(tokens)), tokens)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    ax.set_title("Scaled dot-product attention weights")
    figure.colorbar(image, ax=ax)
    figure.savefig(path, dpi=90)
    ### END SOLUTION


def main():
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).with_name("attention_heatmap.png")
    )
    _, weights = scaled_dot_product_attention(Q, K, V)  # weights: (L, S) = (11, 11)
    attention_heatmap(np.asarray(weights), TOKENS, target)
    top = np.argmax(weights, axis=-1)
    for i, token in enumerate(TOKENS):
        print(f"{token:>8} attends most to {TOKENS[top[i]]!r} ({weights[i, top[i]]:.2f})")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
