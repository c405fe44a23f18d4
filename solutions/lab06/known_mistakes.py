"""Known wrong variants of the lab06 reference, for diagnosis.

Each function here is the reference with one classic bug. When a student's result
matches one of them (and not the reference), the report names the mistake. The lab
spec (lab.toml, [[mistakes]]) maps mistake ids to these names. Hidden from students:
it holds the reference, bug for bug.
"""

import numpy as np
from attention_lm import LM_PARAM_NAMES, NUM_HEADS, causal_mask
from bengio import MLP_PARAM_NAMES
from from_lab05 import cross_entropy, linear, linear_backward, mha_backward, mha_forward


# ------------------------------------------------------------ Adam
def _adam_steps(w, b, grads_w, grads_b, lr, beta1, beta2, eps, bug):
    params = {"w": np.array(w, dtype=np.float64), "b": np.array(b, dtype=np.float64)}
    m = {k: np.zeros_like(p) for k, p in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    ws, bs = [], []
    for t, (g_w, g_b) in enumerate(zip(grads_w, grads_b), start=1):
        if bug == "state-not-carried":
            t, m, v = 1, {k: np.zeros_like(p) for k, p in m.items()}, {k: np.zeros_like(p) for k, p in v.items()}
        for name, g in (("w", g_w), ("b", g_b)):
            m[name] = beta1 * m[name] + (1 - beta1) * g
            v[name] = beta2 * v[name] + (1 - beta2) * (g if bug == "not-squared" else g**2)
            m_hat, v_hat = m[name], v[name]
            if bug != "no-bias-correction":
                m_hat, v_hat = m_hat / (1 - beta1**t), v_hat / (1 - beta2**t)
            params[name] = params[name] - lr * m_hat / (np.sqrt(v_hat) + eps)
        ws.append(params["w"].copy())
        bs.append(params["b"].copy())
    return np.stack(ws), np.stack(bs)


def adam_steps_no_bias_correction(w, b, grads_w, grads_b, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """m and v used as they are, not divided by 1 - beta**t."""
    return _adam_steps(w, b, grads_w, grads_b, lr, beta1, beta2, eps, "no-bias-correction")


def adam_steps_not_squared(w, b, grads_w, grads_b, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """v averages g, not g**2 (its square root is NaN where v < 0)."""
    with np.errstate(invalid="ignore"):
        return _adam_steps(w, b, grads_w, grads_b, lr, beta1, beta2, eps, "not-squared")


def adam_steps_state_not_carried(w, b, grads_w, grads_b, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Every step starts from t = 0 and zero moments: the state given back is never kept."""
    return _adam_steps(w, b, grads_w, grads_b, lr, beta1, beta2, eps, "state-not-carried")


# ------------------------------------------------------------ the MLP
def contexts_sees_future(token_ids, n=3):
    """The window of position t is t - n + 2 .. t + 1: it holds the token t predicts."""
    B, T = token_ids.shape
    padded = np.concatenate([np.zeros((B, n - 2), dtype=token_ids.dtype), token_ids,
                             np.zeros((B, 1), dtype=token_ids.dtype)], axis=1)
    return np.stack([padded[:, i : i + T] for i in range(n)], axis=-1)


def _mlp(token_ids, params, windows_of):
    C = params["C"]
    n = params["W1"].shape[0] // C.shape[1]
    windows = windows_of(token_ids, n)  # (B, T, n)
    emb = C[windows]  # (B, T, n, E)
    flat = emb.reshape(*emb.shape[:2], -1)  # (B, T, n*E)
    hidden = np.tanh(linear(flat, params["W1"], params["b1"]))  # (B, T, Hd)
    return windows, emb, flat, hidden, linear(hidden, params["W2"], params["b2"])


def _right_contexts(token_ids, n):
    B, T = token_ids.shape
    padded = np.concatenate([np.zeros((B, n - 1), dtype=token_ids.dtype), token_ids], axis=1)
    return np.stack([padded[:, i : i + T] for i in range(n)], axis=-1)


def mlp_forward_sees_future(token_ids, params):
    return _mlp(token_ids, params, contexts_sees_future)[-1]


def _mlp_gradients(token_ids, targets, params, windows_of=_right_contexts, overwrite=False):
    windows, emb, flat, hidden, logits = _mlp(token_ids, params, windows_of)
    loss, dlogits = cross_entropy(logits, targets)
    dhidden, dW2, db2 = linear_backward(dlogits, hidden, params["W2"])
    dflat, dW1, db1 = linear_backward(dhidden * (1 - hidden**2), flat, params["W1"])
    dC = np.zeros_like(params["C"])
    if overwrite:
        dC[windows] += dflat.reshape(emb.shape)  # a repeated token keeps one appearance
    else:
        np.add.at(dC, windows, dflat.reshape(emb.shape))
    grads = {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    return (loss, *(grads[name] for name in MLP_PARAM_NAMES))


def mlp_gradients_sees_future(token_ids, targets, params):
    return _mlp_gradients(token_ids, targets, params, contexts_sees_future)


def mlp_gradients_embedding_overwritten(token_ids, targets, params):
    """dC[ids] += d: fancy-indexed += keeps only one of a repeated token's gradients."""
    return _mlp_gradients(token_ids, targets, params, overwrite=True)


# ------------------------------------------------------------ the attention LM
def _lm(token_ids, params, mask_of=causal_mask, residual=True):
    T = token_ids.shape[-1]
    x = params["token_table"][token_ids] + params["position_table"][:T]  # (B, T, D)
    mask = mask_of(T)
    attended, weights = mha_forward(x, x, params, NUM_HEADS, mask)
    h = x + attended if residual else attended
    return x, mask, h, linear(h, params["w_out"], params["b_out"]), weights


def _no_mask(T):
    return np.ones((T, T), dtype=bool)


def lm_forward_sees_future(token_ids, params):
    """No causal mask: every position attends to the tokens after it too."""
    return _lm(token_ids, params, _no_mask)[3:]


def lm_forward_no_residual(token_ids, params):
    """h = attention(x): the residual x + ... is missing."""
    return _lm(token_ids, params, residual=False)[3:]


def _lm_gradients(token_ids, targets, params, mask_of=causal_mask, overwrite=False,
                  residual_gradient=True):
    x, mask, h, logits, _ = _lm(token_ids, params, mask_of)
    loss, dlogits = cross_entropy(logits, targets)
    dh, dw_out, db_out = linear_backward(dlogits, h, params["w_out"])
    dx_q, dx_kv, *dattention = mha_backward(dh, x, x, params, NUM_HEADS, mask)
    dx = dx_q + dx_kv + (dh if residual_gradient else 0)
    dtokens = np.zeros_like(params["token_table"])
    if overwrite:
        dtokens[token_ids] += dx
    else:
        np.add.at(dtokens, token_ids, dx)
    dpositions = np.zeros_like(params["position_table"])
    dpositions[: token_ids.shape[-1]] = dx.sum(axis=0)
    grads = dict(zip(("w_q", "b_q", "w_k", "b_k", "w_v", "b_v", "w_o", "b_o"), dattention))
    grads.update(token_table=dtokens, position_table=dpositions, w_out=dw_out, b_out=db_out)
    return (loss, *(grads[name] for name in LM_PARAM_NAMES))


def lm_gradients_sees_future(token_ids, targets, params):
    return _lm_gradients(token_ids, targets, params, _no_mask)


def lm_gradients_embedding_overwritten(token_ids, targets, params):
    """token_table's gradient by dtable[ids] += dx: a repeated token keeps one appearance."""
    return _lm_gradients(token_ids, targets, params, overwrite=True)


def lm_gradients_residual_dropped(token_ids, targets, params):
    """dx = dx_q + dx_kv: the gradient that reached x through the residual is left out."""
    return _lm_gradients(token_ids, targets, params, residual_gradient=False)
