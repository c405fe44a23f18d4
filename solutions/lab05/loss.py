"""Lab 05, part 2: the cross-entropy loss of a language model, and its gradient.

Run me as a script to try your function: ``python loss.py``.
"""

import numpy as np


def cross_entropy(logits, targets):
    """The mean over every token of -log softmax(logits)[target], and its gradient.

    Stable for large logits: work with log-probabilities, logits - max - log(sum(exp(logits - max))),
    never with log(softmax(...)) of probabilities that may underflow to 0.

    Shapes:
        logits: (..., V) float; targets: (...) int, values in [0, V)
        returns: loss (a 0-d array or float), dlogits (..., V) = (softmax - one_hot) / N,
        N = the number of tokens (targets.size)
    """
    # TODO: log-softmax, pick the targets' entries, mean; then the gradient (about 8 lines)
    ### BEGIN SOLUTION
    shifted = logits - np.max(logits, axis=-1, keepdims=True)  # (..., V)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))  # (..., V)
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)  # (..., 1)
    count = targets.size
    loss = -np.sum(picked) / count
    one_hot = np.arange(logits.shape[-1]) == targets[..., None]  # (..., V)
    return loss, (np.exp(log_probs) - one_hot) / count
    ### END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    loss, dlogits = cross_entropy(rng.normal(size=(2, 3, 5)) * 1000, rng.integers(0, 5, (2, 3)))
    print("loss:", loss, " dlogits:", dlogits.shape)
