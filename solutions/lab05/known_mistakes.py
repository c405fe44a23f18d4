"""Known wrong variants of the lab05 reference, for diagnosis.

Each function here is the reference with one classic bug. When a student's
result matches one of them (and not the reference), the report names the
mistake. The lab spec (lab.toml, [[mistakes]]) maps mistake ids to these
names. Hidden from students: it holds the reference, bug for bug.
"""

import numpy as np
from backward import layer_norm_backward, linear_backward
from forward import head_mask, linear, merge_heads, softmax, split_heads
from loss import cross_entropy
from numerical import KNOWN_FUNCTIONS


# ------------------------------------------------------------ softmax backward
def _softmax_backward(dout, probs, axis=-1, bug=None):
    if bug == "no-sum-term":
        return dout * probs
    if bug == "diagonal":
        return dout * probs * (1 - probs)
    return probs * (dout - np.sum(dout * probs, axis=axis, keepdims=True))


def softmax_backward_no_sum_term(dout, probs, axis=-1):
    """dx = dout * y: the off-diagonal part of the Jacobian (- y_i y_j) is missing."""
    return _softmax_backward(dout, probs, axis, "no-sum-term")


def softmax_backward_diagonal(dout, probs, axis=-1):
    """dx = dout * y * (1 - y): only the Jacobian's diagonal."""
    return _softmax_backward(dout, probs, axis, "diagonal")


# ------------------------------------------------------------ attention backward
def _attention_backward(dout, q, k, v, mask=None, bug=None):
    scale = 1.0 if bug == "no-scale" else 1.0 / np.sqrt(q.shape[-1])
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # (..., L, S)
    if mask is not None and bug != "into-masked":
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)  # (..., L, S)
    dv = np.swapaxes(weights, -1, -2) @ dout
    dweights = dout @ np.swapaxes(v, -1, -2)
    softmax_bug = bug if bug in ("no-sum-term", "diagonal") else None
    dscores = _softmax_backward(dweights, weights, -1, softmax_bug) * scale
    dq = dscores @ k
    if bug == "dk-not-transposed":
        dk = dscores @ q  # only runs when L == S
    else:
        dk = np.swapaxes(dscores, -1, -2) @ q
    if bug == "swapped":
        return dk, dq, dv
    return dq, dk, dv


def attention_backward_no_sum_term(dout, q, k, v, mask=None):
    return _attention_backward(dout, q, k, v, mask, "no-sum-term")


def attention_backward_diagonal(dout, q, k, v, mask=None):
    return _attention_backward(dout, q, k, v, mask, "diagonal")


def attention_backward_swapped(dout, q, k, v, mask=None):
    """Returns (dk, dq, dv)."""
    return _attention_backward(dout, q, k, v, mask, "swapped")


def attention_backward_dk_not_transposed(dout, q, k, v, mask=None):
    """dk = dscores @ q instead of dscores^T @ q."""
    return _attention_backward(dout, q, k, v, mask, "dk-not-transposed")


def attention_backward_no_scale(dout, q, k, v, mask=None):
    """The 1/sqrt(d_k) of the scores is left out of dq and dk."""
    return _attention_backward(dout, q, k, v, mask, "no-scale")


def attention_backward_into_masked(dout, q, k, v, mask=None):
    """The backward recomputes the weights without the mask: masked keys get gradient."""
    return _attention_backward(dout, q, k, v, mask, "into-masked")


# ------------------------------------------------------------ linear backward
def _linear_backward(dout, x, w, bug=None):
    dx, dw, db = linear_backward(dout, x, w)
    if bug == "dw-transposed":
        return dx, dw.T, db
    if bug == "db-first-axis":
        return dx, dw, dout.sum(axis=0)
    return dx, dw, db


def linear_backward_dw_transposed(dout, x, w):
    """dw = dout^T x, shape (D_out, D_in)."""
    return _linear_backward(dout, x, w, "dw-transposed")


def linear_backward_db_first_axis(dout, x, w):
    """db = dout.sum(axis=0): right for x (N, D_in) only."""
    return _linear_backward(dout, x, w, "db-first-axis")


# ------------------------------------------------------------ multi-head attention
def _mha_backward(dout, x_q, x_kv, params, num_heads, mask=None, attention_bug=None,
                  linear_bug=None):
    p = params
    q = split_heads(linear(x_q, p["w_q"], p["b_q"]), num_heads)
    k = split_heads(linear(x_kv, p["w_k"], p["b_k"]), num_heads)
    v = split_heads(linear(x_kv, p["w_v"], p["b_v"]), num_heads)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(head_mask(mask), scores, -np.inf)
    merged = merge_heads(softmax(scores, axis=-1) @ v)
    dmerged, dw_o, db_o = _linear_backward(dout, merged, p["w_o"], linear_bug)
    dq, dk, dv = _attention_backward(
        split_heads(dmerged, num_heads), q, k, v, head_mask(mask), attention_bug
    )
    dx_q, dw_q, db_q = _linear_backward(merge_heads(dq), x_q, p["w_q"], linear_bug)
    dx_k, dw_k, db_k = _linear_backward(merge_heads(dk), x_kv, p["w_k"], linear_bug)
    dx_v, dw_v, db_v = _linear_backward(merge_heads(dv), x_kv, p["w_v"], linear_bug)
    return dx_q, dx_k + dx_v, dw_q, db_q, dw_k, db_k, dw_v, db_v, dw_o, db_o


def mha_backward_no_sum_term(dout, x_q, x_kv, params, num_heads, mask=None):
    return _mha_backward(dout, x_q, x_kv, params, num_heads, mask, "no-sum-term")


def mha_backward_diagonal(dout, x_q, x_kv, params, num_heads, mask=None):
    return _mha_backward(dout, x_q, x_kv, params, num_heads, mask, "diagonal")


def mha_backward_swapped(dout, x_q, x_kv, params, num_heads, mask=None):
    return _mha_backward(dout, x_q, x_kv, params, num_heads, mask, "swapped")


def mha_backward_dk_not_transposed(dout, x_q, x_kv, params, num_heads, mask=None):
    return _mha_backward(dout, x_q, x_kv, params, num_heads, mask, "dk-not-transposed")


def mha_backward_no_scale(dout, x_q, x_kv, params, num_heads, mask=None):
    return _mha_backward(dout, x_q, x_kv, params, num_heads, mask, "no-scale")


def mha_backward_into_masked(dout, x_q, x_kv, params, num_heads, mask=None):
    return _mha_backward(dout, x_q, x_kv, params, num_heads, mask, "into-masked")


def mha_backward_dw_transposed(dout, x_q, x_kv, params, num_heads, mask=None):
    return _mha_backward(dout, x_q, x_kv, params, num_heads, mask, linear_bug="dw-transposed")


def mha_backward_db_first_axis(dout, x_q, x_kv, params, num_heads, mask=None):
    return _mha_backward(dout, x_q, x_kv, params, num_heads, mask, linear_bug="db-first-axis")


# ------------------------------------------------------------ LayerNorm backward
def layer_norm_backward_no_statistics(dout, x, gamma, eps=1e-5):
    """dx = dout * gamma / sqrt(var + eps): mean and variance treated as constants."""
    _, dgamma, dbeta = layer_norm_backward(dout, x, gamma, eps)
    inv_std = 1.0 / np.sqrt(np.var(x, axis=-1, keepdims=True) + eps)
    return dout * gamma * inv_std, dgamma, dbeta


def layer_norm_backward_no_variance(dout, x, gamma, eps=1e-5):
    """The mean's dependence on x kept, the variance's dropped."""
    _, dgamma, dbeta = layer_norm_backward(dout, x, gamma, eps)
    inv_std = 1.0 / np.sqrt(np.var(x, axis=-1, keepdims=True) + eps)
    g = dout * gamma
    return inv_std * (g - g.mean(-1, keepdims=True)), dgamma, dbeta


# ------------------------------------------------------------ cross-entropy
def cross_entropy_summed(logits, targets):
    """The sum over tokens, not the mean: loss and dlogits N times too large."""
    loss, dlogits = cross_entropy(logits, targets)
    return loss * targets.size, dlogits * targets.size


# ------------------------------------------------------------ numerical gradient
def _one_sided(f, x, eps, step):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    centre = float(f(x))
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + step * eps
        grad[index] = step * (float(f(x)) - centre) / eps
        x[index] = old
    return grad


def numerical_gradient_of_forward_difference(name, x, eps=1e-6):
    """(f(x + eps) - f(x)) / eps: error O(eps)."""
    return _one_sided(KNOWN_FUNCTIONS[name], x, eps, 1)


def numerical_gradient_of_backward_difference(name, x, eps=1e-6):
    """(f(x) - f(x - eps)) / eps: error O(eps)."""
    return _one_sided(KNOWN_FUNCTIONS[name], x, eps, -1)
