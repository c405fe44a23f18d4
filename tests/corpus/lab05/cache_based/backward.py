"""lab05 corpus: a cache-based design (correct: full marks). Each *_forward returns its
output and a cache; each backward reads only the cache. The graded signatures wrap them."""

import numpy as np
from forward import head_mask, merge_heads, softmax, split_heads


def softmax_backward(dout, probs, axis=-1):
    return probs * (dout - np.sum(dout * probs, axis=axis, keepdims=True))


def attention_forward(q, k, v, mask=None):
    scale = 1.0 / np.sqrt(q.shape[-1])
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    if mask is not None:
        scores = np.where(mask, scores, -1e9)  # a large negative fill, not -inf
    w = softmax(scores, axis=-1)
    return np.matmul(w, v), (q, k, v, w, scale)


def attention_backward_cached(dout, cache):
    q, k, v, w, scale = cache
    dv = np.matmul(np.swapaxes(w, -1, -2), dout)
    ds = softmax_backward(np.matmul(dout, np.swapaxes(v, -1, -2)), w) * scale
    return np.matmul(ds, k), np.matmul(np.swapaxes(ds, -1, -2), q), dv


def attention_backward(dout, q, k, v, mask=None):
    _, cache = attention_forward(q, k, v, mask)
    return attention_backward_cached(dout, cache)


def linear_forward(x, w, b):
    return np.tensordot(x, w, axes=1) + b, (x, w)


def linear_backward_cached(dout, cache):
    x, w = cache
    lead = tuple(range(x.ndim - 1))
    return np.tensordot(dout, w.T, axes=1), np.tensordot(x, dout, axes=(lead, lead)), dout.sum(lead)


def linear_backward(dout, x, w):
    return linear_backward_cached(dout, (x, w))


def layer_norm_forward(x, gamma, beta, eps=1e-5):
    xc = x - x.mean(-1, keepdims=True)
    std = np.sqrt((xc**2).mean(-1, keepdims=True) + eps)
    xhat = xc / std
    return xhat * gamma + beta, (xhat, std, gamma)


def layer_norm_backward(dout, x, gamma, eps=1e-5):
    _, (xhat, std, gamma) = layer_norm_forward(x, gamma, np.zeros_like(gamma), eps)
    lead = tuple(range(x.ndim - 1))
    dxhat = dout * gamma
    # through xhat = xc / std: the mean and the std both depend on x
    dx = (dxhat - dxhat.mean(-1, keepdims=True)
          - xhat * (dxhat * xhat).mean(-1, keepdims=True)) / std
    return dx, (dout * xhat).sum(lead), dout.sum(lead)


def mha_backward(dout, x_q, x_kv, params, num_heads, mask=None):
    p = params
    q, cache_q = linear_forward(x_q, p["w_q"], p["b_q"])
    k, cache_k = linear_forward(x_kv, p["w_k"], p["b_k"])
    v, cache_v = linear_forward(x_kv, p["w_v"], p["b_v"])
    heads, cache_a = attention_forward(
        split_heads(q, num_heads), split_heads(k, num_heads), split_heads(v, num_heads),
        head_mask(mask))
    _, cache_o = linear_forward(merge_heads(heads), p["w_o"], p["b_o"])
    dmerged, dw_o, db_o = linear_backward_cached(dout, cache_o)
    dq, dk, dv = attention_backward_cached(split_heads(dmerged, num_heads), cache_a)
    dx_q, dw_q, db_q = linear_backward_cached(merge_heads(dq), cache_q)
    dx_k, dw_k, db_k = linear_backward_cached(merge_heads(dk), cache_k)
    dx_v, dw_v, db_v = linear_backward_cached(merge_heads(dv), cache_v)
    return dx_q, dx_k + dx_v, dw_q, db_q, dw_k, db_k, dw_v, db_v, dw_o, db_o
