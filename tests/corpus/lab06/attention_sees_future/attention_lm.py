"""Lab 06, part 3: a tiny attention language model, trained with your lab05 gradients.

    x = token_table[token ids] + position_table[:T]     (lab04's embed)
    a, weights = mha_forward(x, x, params, NUM_HEADS, causal mask)
    h = x + a                                           a residual connection
    logits = h w_out + b_out

One attention layer and nothing else (no LayerNorm, no feed-forward): the smallest
model in which position t can look at any earlier token. Position t predicts token
t + 1 from tokens 0..t, like the MLP, which sees only t - 2..t.

Run me as a script to check your backward with numerical gradients: ``python attention_lm.py``.
"""

from types import SimpleNamespace

import numpy as np
from from_lab05 import cross_entropy, linear, linear_backward, mha_backward, mha_forward

NUM_HEADS = 2
LM_PARAM_NAMES = ("token_table", "position_table", "w_q", "b_q", "w_k", "b_k", "w_v", "b_v",
                  "w_o", "b_o", "w_out", "b_out")


def lm_init_params(vocab_size, seed, d_model=16, max_len=16):
    """Seeded initial parameters (given).

    Shapes:
        returns: token_table (V, D), position_table (max_len, D), w_q, w_k, w_v, w_o (D, D),
        b_q, b_k, b_v, b_o (D,), w_out (D, V), b_out (V,)
    """
    rng = np.random.default_rng(seed)
    params = {"token_table": rng.normal(size=(vocab_size, d_model)),
              "position_table": rng.normal(size=(max_len, d_model))}
    for name in ("q", "k", "v", "o"):
        params[f"w_{name}"] = rng.normal(size=(d_model, d_model)) / np.sqrt(d_model)
        params[f"b_{name}"] = np.zeros(d_model)
    params["w_out"] = rng.normal(size=(d_model, vocab_size)) * 0.1 / np.sqrt(d_model)
    params["b_out"] = np.zeros(vocab_size)
    return params


def causal_mask(T):
    """The (T, T) boolean mask, True = may attend: query i sees keys 0..i (given)."""
    return np.ones((T, T), dtype=bool)  # no mask


def lm_forward(token_ids, params):
    """The logits of every position, and the attention weights.

    Shapes:
        token_ids: (B, T) int, T <= max_len; params: see lm_init_params
        returns: logits (B, T, V), weights (B, H, T, T)
    """
    # TODO: embed, causal multi-head attention, residual, output layer (about 5 lines)
    ### BEGIN SOLUTION
    T = token_ids.shape[-1]
    x = params["token_table"][token_ids] + params["position_table"][:T]  # (B, T, D)
    attended, weights = mha_forward(x, x, params, NUM_HEADS, causal_mask(T))  # (B, T, D)
    h = x + attended  # (B, T, D)
    return linear(h, params["w_out"], params["b_out"]), weights  # (B, T, V), (B, H, T, T)
    ### END SOLUTION


def lm_backward(dlogits, token_ids, params):
    """The gradients of every parameter, given dL/dlogits.

    Recompute x and h, then go back with your lab05 functions. x reaches the loss
    three ways: through the residual, as the queries and as the keys and values
    (mha_backward's dx_q and dx_kv): its gradient is the sum of all three. A token
    that appears several times collects every appearance's gradient (np.add.at), and
    position t's row of position_table collects it over the batch.

    Shapes:
        dlogits: (B, T, V); token_ids: (B, T)
        returns: a dict with the names of LM_PARAM_NAMES, each gradient of its parameter's shape
    """
    # TODO: forward again, back through the output layer, the attention and the embedding
    # (about 12 lines)
    ### BEGIN SOLUTION
    T = token_ids.shape[-1]
    x = params["token_table"][token_ids] + params["position_table"][:T]  # (B, T, D)
    mask = causal_mask(T)
    attended, _ = mha_forward(x, x, params, NUM_HEADS, mask)
    dh, dw_out, db_out = linear_backward(dlogits, x + attended, params["w_out"])
    dx_q, dx_kv, *dattention = mha_backward(dh, x, x, params, NUM_HEADS, mask)
    dx = dh + dx_q + dx_kv  # (B, T, D): residual, queries, keys and values
    dtokens = np.zeros_like(params["token_table"])
    np.add.at(dtokens, token_ids, dx)
    dpositions = np.zeros_like(params["position_table"])
    dpositions[:T] = dx.sum(axis=0)  # (T, D)
    grads = dict(zip(("w_q", "b_q", "w_k", "b_k", "w_v", "b_v", "w_o", "b_o"), dattention))
    grads.update(token_table=dtokens, position_table=dpositions, w_out=dw_out, b_out=db_out)
    return grads
    ### END SOLUTION


def lm_loss_and_grads(params, inputs, targets):
    """The mean cross-entropy of the next tokens and its gradients (given): what train()
    calls on every model.

    Shapes:
        inputs, targets: (B, T) int; returns: (loss, dict of gradients)
    """
    logits, _ = lm_forward(inputs, params)
    loss, dlogits = cross_entropy(logits, targets)
    return loss, lm_backward(dlogits, inputs, params)


# the model as train() sees it (given)
ATTENTION_LM = SimpleNamespace(init_params=lm_init_params, loss_and_grads=lm_loss_and_grads)


def lm_gradients(token_ids, targets, params):
    """What the grader calls: lm_loss_and_grads as a tuple, the loss first, then the
    gradients in LM_PARAM_NAMES order.

    Shapes:
        returns: (loss, dtoken_table, dposition_table, dw_q, db_q, ..., dw_out, db_out)
    """
    # TODO: call lm_loss_and_grads, return its loss and gradients in order (about 2 lines)
    ### BEGIN SOLUTION
    loss, grads = lm_loss_and_grads(params, token_ids, targets)
    return (loss, *(grads[name] for name in LM_PARAM_NAMES))
    ### END SOLUTION


if __name__ == "__main__":
    from from_lab05 import numerical_gradient

    rng = np.random.default_rng(0)
    params = lm_init_params(vocab_size=6, seed=0, d_model=4, max_len=5)
    ids, targets = rng.integers(0, 6, (2, 4)), rng.integers(0, 6, (2, 4))
    _, grads = lm_loss_and_grads(params, ids, targets)
    for name in LM_PARAM_NAMES:
        def loss_of(value, name=name):
            return lm_loss_and_grads({**params, name: value}, ids, targets)[0]
        error = np.abs(numerical_gradient(loss_of, params[name]) - grads[name]).max()
        print(f"d{name}: max |numerical - yours| = {error:.1e}")
