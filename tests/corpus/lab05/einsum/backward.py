"""lab05 corpus: every backward with np.einsum (correct: full marks)."""

import numpy as np
from forward import head_mask, linear, merge_heads, scaled_dot_product_attention, split_heads


def softmax_backward(dout, probs, axis=-1):
    dot = np.einsum("...i,...i->...", np.moveaxis(dout, axis, -1), np.moveaxis(probs, axis, -1))
    return probs * (dout - np.expand_dims(dot, axis))


def attention_backward(dout, q, k, v, mask=None):
    _, w = scaled_dot_product_attention(q, k, v, mask)
    dv = np.einsum("...ls,...ld->...sd", w, dout)
    dw = np.einsum("...ld,...sd->...ls", dout, v)
    ds = w * (dw - np.einsum("...ls,...ls->...l", dw, w)[..., None]) / np.sqrt(q.shape[-1])
    return np.einsum("...ls,...sd->...ld", ds, k), np.einsum("...ls,...ld->...sd", ds, q), dv


def linear_backward(dout, x, w):
    x2, d2 = x.reshape(-1, x.shape[-1]), dout.reshape(-1, dout.shape[-1])
    return np.einsum("...o,io->...i", dout, w), np.einsum("ni,no->io", x2, d2), np.einsum("no->o", d2)


def layer_norm_backward(dout, x, gamma, eps=1e-5):
    n = x.shape[-1]
    mu = np.einsum("...i->...", x)[..., None] / n
    xc = x - mu
    var = np.einsum("...i,...i->...", xc, xc)[..., None] / n
    inv = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv
    g = dout * gamma
    dx = inv / n * (n * g - np.einsum("...i->...", g)[..., None]
                    - xhat * np.einsum("...i,...i->...", g, xhat)[..., None])
    d2, xhat2 = dout.reshape(-1, n), xhat.reshape(-1, n)
    return dx, np.einsum("ri,ri->i", d2, xhat2), np.einsum("ri->i", d2)


def mha_backward(dout, x_q, x_kv, params, num_heads, mask=None):
    p = params
    q = split_heads(linear(x_q, p["w_q"], p["b_q"]), num_heads)
    k = split_heads(linear(x_kv, p["w_k"], p["b_k"]), num_heads)
    v = split_heads(linear(x_kv, p["w_v"], p["b_v"]), num_heads)
    heads, _ = scaled_dot_product_attention(q, k, v, head_mask(mask))
    merged = merge_heads(heads)
    dmerged, dw_o, db_o = linear_backward(dout, merged, p["w_o"])
    dq, dk, dv = attention_backward(split_heads(dmerged, num_heads), q, k, v, head_mask(mask))
    dx_q, dw_q, db_q = linear_backward(merge_heads(dq), x_q, p["w_q"])
    dx_k, dw_k, db_k = linear_backward(merge_heads(dk), x_kv, p["w_k"])
    dx_v, dw_v, db_v = linear_backward(merge_heads(dv), x_kv, p["w_v"])
    return dx_q, dx_k + dx_v, dw_q, db_q, dw_k, db_k, dw_v, db_v, dw_o, db_o
