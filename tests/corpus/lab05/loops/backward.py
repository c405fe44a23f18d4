"""lab05 corpus: the backward passes with Python loops over every index (correct: full marks)."""

import numpy as np
from forward import head_mask, linear, merge_heads, scaled_dot_product_attention, split_heads


def softmax_backward(dout, probs, axis=-1):
    d = np.moveaxis(dout, axis, -1)
    y = np.moveaxis(probs, axis, -1)
    dx = np.zeros(d.shape)
    for index in np.ndindex(d.shape[:-1]):
        n = d.shape[-1]
        for i in range(n):
            total = 0.0
            for j in range(n):  # the Jacobian entry by entry: dy_j/dx_i = y_j (delta_ij - y_i)
                total += d[index][j] * y[index][j] * ((1.0 if i == j else 0.0) - y[index][i])
            dx[index + (i,)] = total
    return np.moveaxis(dx, -1, axis)


def attention_backward(dout, q, k, v, mask=None):
    _, w = scaled_dot_product_attention(q, k, v, mask)
    w = np.broadcast_to(w, q.shape[:-2] + w.shape[-2:])
    scale = 1.0 / np.sqrt(q.shape[-1])
    dq, dk, dv = np.zeros(q.shape), np.zeros(k.shape), np.zeros(v.shape)
    for b in np.ndindex(q.shape[:-2]):
        L, S = w[b].shape
        dweights = np.zeros((L, S))
        for i in range(L):
            for j in range(S):
                dv[b][j] += w[b][i, j] * dout[b][i]
                dweights[i, j] = np.dot(dout[b][i], v[b][j])
        ds = softmax_backward(dweights, w[b]) * scale
        for i in range(L):
            for j in range(S):
                dq[b][i] += ds[i, j] * k[b][j]
                dk[b][j] += ds[i, j] * q[b][i]
    return dq, dk, dv


def linear_backward(dout, x, w):
    d_in, d_out = w.shape
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(d_out)
    for index in np.ndindex(x.shape[:-1]):
        for i in range(d_in):
            for o in range(d_out):
                dx[index + (i,)] += dout[index + (o,)] * w[i, o]
                dw[i, o] += x[index + (i,)] * dout[index + (o,)]
        for o in range(d_out):
            db[o] += dout[index + (o,)]
    return dx, dw, db


def layer_norm_backward(dout, x, gamma, eps=1e-5):
    n = x.shape[-1]
    dx = np.zeros(x.shape)
    dgamma, dbeta = np.zeros(n), np.zeros(n)
    for index in np.ndindex(x.shape[:-1]):
        row = x[index]
        mean = sum(row) / n
        var = sum((r - mean) ** 2 for r in row) / n
        inv = 1.0 / np.sqrt(var + eps)
        xhat = [(r - mean) * inv for r in row]
        g = [dout[index][i] * gamma[i] for i in range(n)]
        g_mean = sum(g) / n
        gx_mean = sum(g[i] * xhat[i] for i in range(n)) / n
        for i in range(n):
            dx[index + (i,)] = inv * (g[i] - g_mean - xhat[i] * gx_mean)
            dgamma[i] += dout[index][i] * xhat[i]
            dbeta[i] += dout[index][i]
    return dx, dgamma, dbeta


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
