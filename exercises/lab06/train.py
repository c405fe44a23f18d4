"""Lab 06, part 4: one training loop for both models, and the comparison.

    python train.py                     the grader's run: your train_both on corpus.txt,
                                        seed 1, 300 steps, lr 0.005; prints the held-out
                                        losses to copy into REPORT.md (a)
    python train.py --text FILE         both models on your own text (read as characters)
    python train.py --steps 600         a longer run (not the grader's: not for REPORT.md)

A model is anything with init_params(vocab_size, seed) and
loss_and_grads(params, inputs, targets): ATTENTION_LM (attention_lm.py) and MLP
(bengio.py) both are, so train(ATTENTION_LM, ...) and train(MLP, ...) run the same loop.
"""

import argparse

import numpy as np
from adam import adam_init, adam_step
from attention_lm import ATTENTION_LM, LM_PARAM_NAMES, lm_forward
from bengio import MLP, MLP_PARAM_NAMES, mlp_forward

BATCH_SIZE = 32


def train(model, data, steps, lr, seed, vocab_size=None, batch_size=BATCH_SIZE):
    """Train `model` with Adam for `steps` steps on random batches of rows of `data`.

    Deterministic given `seed`: the parameters come from model.init_params(vocab_size,
    seed), the batches from np.random.default_rng(seed), never from the global random
    state or the clock. Each step: draw batch_size rows, predict every token of a row
    from the ones before it (inputs row[:-1], targets row[1:]), take one adam_step.

    Shapes:
        data: int (N, L), one sequence per row; vocab_size: default data.max() + 1
        returns: (params, history), history float (steps,): the loss of each step's batch
    """
    vocab_size = int(data.max()) + 1 if vocab_size is None else vocab_size
    # TODO: init params and Adam's state, then the loop (about 10 lines)
    raise NotImplementedError("train: your code here")


def train_both(data, steps, lr, seed, vocab_size):
    """What the grader calls: both models trained by your train() with the same budget
    (the same data, steps, lr and seed), their histories and parameters as plain arrays.

    Shapes:
        returns: one flat tuple: the attention model's history (steps,), its parameters in
        LM_PARAM_NAMES order, then the MLP's history (steps,), its parameters in
        MLP_PARAM_NAMES order
    """
    # TODO: train(ATTENTION_LM, ...), train(MLP, ...), then one tuple (about 4 lines)
    raise NotImplementedError("train_both: your code here")


def mean_loss(forward, params, data, batch_size=256):
    """The mean next-token cross-entropy of `data` under a model's forward (given).

    Shapes:
        data: int (N, L); forward(data[:, :-1], params): logits (N, L - 1, V), or a tuple
        whose first item they are (lm_forward); returns: a float
    """
    total = 0.0
    for start in range(0, len(data), batch_size):  # in batches: a long text fits in memory
        rows = data[start:start + batch_size]  # (b, L)
        logits = forward(rows[:, :-1], params)
        logits = logits[0] if isinstance(logits, tuple) else logits  # (b, L - 1, V)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (b, L - 1, V)
        total += -np.take_along_axis(log_probs, rows[:, 1:, None], axis=-1).sum()
    return float(total / (len(data) * (data.shape[1] - 1)))


def main():
    from corpus import VOCAB, fresh_rows, read_corpus, split, text_pieces  # here: not in a notebook

    parser = argparse.ArgumentParser(description="train the attention LM and Bengio's MLP")
    parser.add_argument("--text", metavar="FILE", help="your own text instead of corpus.txt")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if not args.lr > 0:
        parser.error(f"--lr must be positive, got {args.lr}")
    if args.text:
        try:
            with open(args.text, encoding="utf-8") as f:
                data, vocab = text_pieces(f.read())
        except (OSError, UnicodeDecodeError) as exc:
            parser.error(f"cannot read {args.text}: {exc}")
        if len(data) < 20:
            parser.error(f"{args.text} is too short: give it a few hundred characters at least")
        train_rows, held_out = split(data)
    else:  # the grader's run: all of corpus.txt; held-out lines drawn like its own
        train_rows, held_out, vocab = read_corpus(), fresh_rows(), VOCAB
    out = train_both(train_rows, args.steps, args.lr, args.seed, len(vocab))
    n = len(LM_PARAM_NAMES)
    models = (("Attention", lm_forward, out[0], dict(zip(LM_PARAM_NAMES, out[1:n + 1]))),
              ("MLP", mlp_forward, out[n + 1], dict(zip(MLP_PARAM_NAMES, out[n + 2:]))))
    for name, forward, history, params in models:
        print(f"{name} training loss: {history[:10].mean():.3f} -> {history[-10:].mean():.3f}")
        print(f"{name} held-out loss: {mean_loss(forward, params, held_out):.3f}")


if __name__ == "__main__":
    main()
