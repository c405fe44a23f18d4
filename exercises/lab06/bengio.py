"""Lab 06, part 2: Bengio et al.'s neural language model (2003), an MLP with a fixed window.

    e = C[token ids of the window]                 each of the last n tokens, embedded
    h = tanh(concat(e) W1 + b1)                    one hidden layer
    logits = h W2 + b2                             a score per word of the vocabulary

The window of position t holds tokens t - n + 1, ..., t: the token at t and the n - 1
before it, and its logits predict token t + 1, exactly as the attention model's
position t does. Positions before the start are token 0 (the start-of-line token).
(The paper also has direct connections from e to the logits; this lab leaves them out,
as Karpathy's makemore does.)

Run me as a script to check your backward with numerical gradients: ``python bengio.py``.
"""

from types import SimpleNamespace

import numpy as np
from from_lab05 import cross_entropy, linear, linear_backward

CONTEXT = 3  # n, the window: tokens t - 2, t - 1, t predict token t + 1
MLP_PARAM_NAMES = ("C", "W1", "b1", "W2", "b2")


def mlp_init_params(vocab_size, seed, context=CONTEXT, d_embed=8, d_hidden=64):
    """Seeded initial parameters (given).

    Shapes:
        returns: C (V, E), W1 (n * E, Hd), b1 (Hd,), W2 (Hd, V), b2 (V,)
    """
    rng = np.random.default_rng(seed)
    return {
        "C": rng.normal(size=(vocab_size, d_embed)),
        "W1": rng.normal(size=(context * d_embed, d_hidden)) / np.sqrt(context * d_embed),
        "b1": np.zeros(d_hidden),
        "W2": rng.normal(size=(d_hidden, vocab_size)) * 0.1 / np.sqrt(d_hidden),
        "b2": np.zeros(vocab_size),
    }


def contexts(token_ids, n=CONTEXT):
    """The window of every position: windows[b, t] = token_ids[b, t - n + 1 : t + 1],
    with token 0 in place of positions before the start.

    Never the token at t + 1: that is the one position t predicts.

    Shapes:
        token_ids: (B, T) int; returns: int (B, T, n), windows[b, t, n - 1] = token_ids[b, t]
    """
    # TODO: pad n - 1 zeros on the left, then n shifted slices side by side (about 3 lines)
    raise NotImplementedError("contexts: your code here")


def mlp_forward(token_ids, params):
    """The logits of every position.

    n is W1.shape[0] // C.shape[1] (the window the parameters were made for).

    Shapes:
        token_ids: (B, T) int; params: see mlp_init_params
        returns: logits (B, T, V)
    """
    # TODO: windows, embed, flatten the window, tanh layer, output layer (about 5 lines)
    raise NotImplementedError("mlp_forward: your code here")


def mlp_backward(dlogits, token_ids, params):
    """The gradients of every parameter, given dL/dlogits.

    Recompute the forward's intermediates, then go back with linear_backward (lab05);
    tanh's derivative is 1 - tanh**2. A token that appears several times in the
    windows collects the gradient of every appearance: np.add.at, not C[ids] += ...

    Shapes:
        dlogits: (B, T, V); token_ids: (B, T)
        returns: a dict with the names of MLP_PARAM_NAMES, each gradient of its parameter's shape
    """
    # TODO: forward again, then back through W2, tanh, W1 and the embedding (about 12 lines)
    raise NotImplementedError("mlp_backward: your code here")


def mlp_loss_and_grads(params, inputs, targets):
    """The mean cross-entropy of the next tokens and its gradients (given): what train()
    calls on every model.

    Shapes:
        inputs, targets: (B, T) int; returns: (loss, dict of gradients)
    """
    loss, dlogits = cross_entropy(mlp_forward(inputs, params), targets)
    return loss, mlp_backward(dlogits, inputs, params)


# the model as train() sees it (given)
MLP = SimpleNamespace(init_params=mlp_init_params, loss_and_grads=mlp_loss_and_grads)


def mlp_gradients(token_ids, targets, params):
    """What the grader calls: mlp_loss_and_grads as a tuple, the loss first, then the
    gradients in MLP_PARAM_NAMES order.

    Shapes:
        returns: (loss, dC, dW1, db1, dW2, db2)
    """
    # TODO: call mlp_loss_and_grads, return its loss and gradients in order (about 2 lines)
    raise NotImplementedError("mlp_gradients: your code here")


if __name__ == "__main__":
    from from_lab05 import numerical_gradient

    rng = np.random.default_rng(0)
    params = mlp_init_params(vocab_size=6, seed=0, d_embed=3, d_hidden=5)
    ids, targets = rng.integers(0, 6, (2, 4)), rng.integers(0, 6, (2, 4))
    _, grads = mlp_loss_and_grads(params, ids, targets)
    for name in MLP_PARAM_NAMES:
        def loss_of(value, name=name):
            return mlp_loss_and_grads({**params, name: value}, ids, targets)[0]
        error = np.abs(numerical_gradient(loss_of, params[name]) - grads[name]).max()
        print(f"d{name}: max |numerical - yours| = {error:.1e}")
