"""Lab 06 deliverable: both models' loss curves, and what the trained attention looks at.

Trains both models with your train() (the grader's budget: 300 steps, lr 0.005,
seed 1), then draws one figure of three panels:
  1) the loss of each step, attention and MLP, with the best possible loss (0.945);
  2) and 3) the trained attention model's weights on a new echo line, one panel per
     head: from the bar on, each query should look 5 tokens back, at the letter that
     the next token copies (6 tokens back from that token).

    python visualize.py               writes training.png
    python visualize.py OUT.png       writes it where you say (the grader does this)
"""

import sys

import numpy as np
from attention_lm import ATTENTION_LM, lm_forward
from bengio import MLP
from corpus import VOCAB, WORD, echo_lines, encode_lines, read_corpus
from train import train

STEPS, LR, SEED = 300, 0.005, 1
BEST = WORD * np.log(8) / (2 * WORD + 1)  # the random letters cost log 8 each


def trained():
    """Both models trained on corpus.txt, and the attention weights on a new line."""
    data = read_corpus()
    lm, lm_history = train(ATTENTION_LM, data, STEPS, LR, SEED, len(VOCAB))
    _, mlp_history = train(MLP, data, STEPS, LR, SEED, len(VOCAB))
    line = encode_lines(echo_lines(1, seed=7))  # (1, LINE)
    _, weights = lm_forward(line[:, :-1], lm)  # (1, H, T, T)
    return lm_history, mlp_history, line[0, :-1], weights[0]


def main(path="training.png"):
    from matplotlib.figure import Figure  # no pyplot: no global state, no window

    lm_history, mlp_history, tokens, weights = trained()
    labels = [VOCAB[i] for i in tokens]
    fig = Figure(figsize=(15, 4.5), layout="constrained")
    curves, *heads = fig.subplots(1, 1 + len(weights))
    # TODO: the two histories and a line at BEST on `curves`; one heatmap per head, with
    # the tokens on both axes and a colorbar (about 14 lines)
    ### BEGIN SOLUTION
    curves.plot(lm_history, label="attention")
    curves.plot(mlp_history, label="MLP (window 3)")
    curves.axhline(BEST, color="gray", linestyle="--", label=f"best possible {BEST:.3f}")
    curves.set_xlabel("step")
    curves.set_ylabel("loss (nats a token)")
    curves.set_title("training loss, same budget")
    curves.legend()
    for head, ax in enumerate(heads):
        image = ax.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("key")
        ax.set_ylabel("query")
        ax.set_title(f"trained attention, head {head}")
    fig.colorbar(image, ax=heads, shrink=0.8)
    ### END SOLUTION
    fig.savefig(path, dpi=80)
    print(f"final losses: attention {lm_history[-10:].mean():.3f}, MLP {mlp_history[-10:].mean():.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
