"""Lab 05, part 1: the backward pass of attention, one piece at a time.

Each function takes dout, the gradient of a scalar loss with respect to the
forward function's output, and returns the gradients with respect to the
forward function's inputs, each with the shape of its input.

Design: the backward functions recompute the forward pass from their inputs
(no cache); that costs one more forward and keeps every signature plain arrays.

Check every function with numerical_gradient (numerical.py) before you submit:
``python gradcheck.py`` does it for you.
"""

import numpy as np
from forward import head_mask, linear, merge_heads, scaled_dot_product_attention, split_heads


def softmax_backward(dout, probs, axis=-1):
    """Gradient through y = softmax(x) along `axis`, given y (probs) and dL/dy (dout).

    The Jacobian is dy_i/dx_j = y_i (delta_ij - y_j); multiplied by dout it gives
    dx = y * (dout - sum(dout * y)), the sum along `axis`. Never build the Jacobian.

    Shapes:
        dout, probs: the same shape (..., N); returns: dx, that shape
    """
    # TODO: one line, no Jacobian matrix (about 1 line)
    ### BEGIN SOLUTION
    return probs * (dout - np.sum(dout * probs, axis=axis, keepdims=True))  # (..., N)
    ### END SOLUTION


def attention_backward(dout, q, k, v, mask=None):
    """Gradients of out, _ = scaled_dot_product_attention(q, k, v, mask).

    Recompute the weights with your forward, then go back through
    out = weights @ v, weights = softmax(scores), scores = q k^T / sqrt(d_k).
    A masked key (mask False) had weight 0: it gets no gradient from that query.

    Shapes:
        dout: (..., L, d_v); q: (..., L, d_k); k: (..., S, d_k); v: (..., S, d_v)
        mask: bool, broadcastable to (..., L, S); True = may attend
        returns: dq (..., L, d_k), dk (..., S, d_k), dv (..., S, d_v)
    """
    # TODO: recompute the weights, then dv, dweights, dscores, dq, dk (about 7 lines)
    ### BEGIN SOLUTION
    scale = 1.0 / q.shape[-1]  # the same d_k as this forward
    _, weights = scaled_dot_product_attention(q, k, v, mask)  # (..., L, S)
    dv = np.swapaxes(weights, -1, -2) @ dout  # (..., S, d_v)
    dweights = dout @ np.swapaxes(v, -1, -2)  # (..., L, S)
    dscores = softmax_backward(dweights, weights) * scale  # (..., L, S), 0 where masked
    dq = dscores @ k  # (..., L, d_k)
    dk = np.swapaxes(dscores, -1, -2) @ q  # (..., S, d_k)
    return dq, dk, dv
    ### END SOLUTION


def linear_backward(dout, x, w):
    """Gradients of y = x @ w + b; x may have any number of leading axes.

    Shapes:
        dout: (..., D_out); x: (..., D_in); w: (D_in, D_out)
        returns: dx (..., D_in), dw (D_in, D_out), db (D_out,)
    """
    # TODO: dw and db sum over every leading axis: flatten them first (about 4 lines)
    ### BEGIN SOLUTION
    dx = dout @ w.T  # (..., D_in)
    flat_x = x.reshape(-1, x.shape[-1])  # (N, D_in)
    flat_dout = dout.reshape(-1, dout.shape[-1])  # (N, D_out)
    return dx, flat_x.T @ flat_dout, flat_dout.sum(axis=0)
    ### END SOLUTION


def layer_norm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of layer_norm(x, gamma, beta, eps) (forward.py); beta is not needed.

    The mean and the variance depend on x: dx is not just dout * gamma / sqrt(var + eps).
    With xhat = (x - mean) / sqrt(var + eps) and g = dout * gamma:
        dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps), means over the last axis.

    Shapes:
        dout, x: (..., D); gamma: (D,)
        returns: dx (..., D), dgamma (D,), dbeta (D,)
    """
    # TODO: xhat, then the three gradients (about 7 lines)
    ### BEGIN SOLUTION
    mean = np.mean(x, axis=-1, keepdims=True)  # (..., 1)
    inv_std = 1.0 / np.sqrt(np.var(x, axis=-1, keepdims=True) + eps)  # (..., 1)
    xhat = (x - mean) * inv_std  # (..., D)
    g = dout * gamma  # (..., D)
    dx = inv_std * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
    width = x.shape[-1]
    dgamma = (dout * xhat).reshape(-1, width).sum(axis=0)  # (D,)
    return dx, dgamma, dout.reshape(-1, width).sum(axis=0)
    ### END SOLUTION


MHA_GRADIENTS = ("dx_q", "dx_kv", "dw_q", "db_q", "dw_k", "db_k", "dw_v", "db_v", "dw_o", "db_o")


def mha_backward(dout, x_q, x_kv, params, num_heads, mask=None):
    """Gradients of out, _ = mha_forward(x_q, x_kv, params, num_heads, mask) (forward.py).

    Build it from linear_backward and attention_backward: recompute the forward's
    intermediates (q, k, v split into heads, the merged heads), then go back.
    x_kv feeds both k and v: its gradient is the sum of the two paths. (For
    self-attention, x_q is x_kv, and the gradient of x is dx_q + dx_kv.)

    Shapes:
        dout: (B, L, D); x_q: (B, L, D); x_kv: (B, S, D); mask (L, S) or (B, L, S)
        returns a tuple in the order of MHA_GRADIENTS: dx_q (B, L, D), dx_kv (B, S, D),
        then dw_q (D, D), db_q (D,), dw_k, db_k, dw_v, db_v, dw_o, db_o
    """
    # TODO: forward again, then backward through w_o, the heads, and the three projections
    # (about 12 lines)
    ### BEGIN SOLUTION
    p = params
    q = split_heads(linear(x_q, p["w_q"], p["b_q"]), num_heads)  # (B, H, L, d_k)
    k = split_heads(linear(x_kv, p["w_k"], p["b_k"]), num_heads)  # (B, H, S, d_k)
    v = split_heads(linear(x_kv, p["w_v"], p["b_v"]), num_heads)  # (B, H, S, d_k)
    heads, _ = scaled_dot_product_attention(q, k, v, head_mask(mask))  # (B, H, L, d_k)
    merged = merge_heads(heads)  # (B, L, D)
    dmerged, dw_o, db_o = linear_backward(dout, merged, p["w_o"])
    dq, dk, dv = attention_backward(split_heads(dmerged, num_heads), q, k, v, head_mask(mask))
    dx_q, dw_q, db_q = linear_backward(merge_heads(dq), x_q, p["w_q"])
    dx_k, dw_k, db_k = linear_backward(merge_heads(dk), x_kv, p["w_k"])
    dx_v, dw_v, db_v = linear_backward(merge_heads(dv), x_kv, p["w_v"])
    return dx_q, dx_k + dx_v, dw_q, db_q, dw_k, db_k, dw_v, db_v, dw_o, db_o
    ### END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 2))
    dq, dk, dv = attention_backward(rng.normal(size=(2, 4, 2)), q, k, v)
    print("dq:", dq.shape, " dk:", dk.shape, " dv:", dv.shape)
