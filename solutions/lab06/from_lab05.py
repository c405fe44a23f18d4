"""Lab 06, part 0: your lab05 pieces, brought into this folder.

Labs do not import each other: paste your own lab05 functions where a TODO says so
(your scaled_dot_product_attention of lab01, and your softmax_backward,
attention_backward, linear_backward, mha_backward and cross_entropy of lab05).
Everything else here is given, as in lab05's forward.py. The attention language model
(attention_lm.py) and the Bengio MLP (bengio.py) are built on these.

Run me as a script to check every piece you pasted against numerical gradients (the
attention forward against the plain formula): ``python from_lab05.py``.
"""

import numpy as np


def softmax(x, axis=-1):
    """A numerically stable softmax (given). Entries equal to -inf get probability 0.

    Shapes:
        x: any shape (..., N); returns: the same shape, every slice along `axis` sums to 1
    """
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(Q K^T / sqrt(d_k), masked) V, as in lab01.

    Shapes:
        q: (..., L, d_k); k: (..., S, d_k); v: (..., S, d_v)
        mask: bool, broadcastable to (..., L, S); True = may attend
        returns: output (..., L, d_v), weights (..., L, S)
    """
    # TODO: bring your lab01 function (about 6 lines)
    ### BEGIN SOLUTION
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # (..., L, S)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # (..., L, S)
    weights = softmax(scores, axis=-1)  # (..., L, S)
    return weights @ v, weights  # (..., L, d_v), (..., L, S)
    ### END SOLUTION


def linear(x, w, b):
    """y = x @ w + b (given).

    Shapes:
        x: (..., D_in); w: (D_in, D_out); b: (D_out,); returns: (..., D_out)
    """
    return x @ w + b


def split_heads(x, num_heads):
    """(B, L, H*d) -> (B, H, L, d) (given)."""
    *lead, length, width = x.shape
    x = x.reshape(*lead, length, num_heads, width // num_heads)  # (B, L, H, d)
    return np.swapaxes(x, -2, -3)  # (B, H, L, d)


def merge_heads(x):
    """(B, H, L, d) -> (B, L, H*d) (given): head 0's columns first."""
    x = np.swapaxes(x, -2, -3)  # (B, L, H, d)
    return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])  # (B, L, H*d)


def head_mask(mask):
    """A mask for (B, L, S) or (L, S) as one for (B, H, L, S): a new head axis (given)."""
    return None if mask is None else np.asarray(mask)[..., None, :, :]


def mha_forward(x_q, x_kv, params, num_heads, mask=None):
    """Multi-head attention with biases (given, as in lab05).

    params: w_q, w_k, w_v, w_o (D, D) and b_q, b_k, b_v, b_o (D,); D = num_heads * d_k.

    Shapes:
        x_q: (B, L, D); x_kv: (B, S, D); mask: bool (L, S) or (B, L, S), True = may attend
        returns: output (B, L, D), weights (B, H, L, S)
    """
    p = params
    q = split_heads(linear(x_q, p["w_q"], p["b_q"]), num_heads)  # (B, H, L, d_k)
    k = split_heads(linear(x_kv, p["w_k"], p["b_k"]), num_heads)  # (B, H, S, d_k)
    v = split_heads(linear(x_kv, p["w_v"], p["b_v"]), num_heads)  # (B, H, S, d_k)
    heads, weights = scaled_dot_product_attention(q, k, v, head_mask(mask))
    return linear(merge_heads(heads), p["w_o"], p["b_o"]), weights


def softmax_backward(dout, probs, axis=-1):
    """Gradient through y = softmax(x): dx = y * (dout - sum(dout * y)), as in lab05.

    Shapes:
        dout, probs: the same shape (..., N); returns: dx, that shape
    """
    # TODO: bring your lab05 function (about 1 line)
    ### BEGIN SOLUTION
    return probs * (dout - np.sum(dout * probs, axis=axis, keepdims=True))  # (..., N)
    ### END SOLUTION


def attention_backward(dout, q, k, v, mask=None):
    """Gradients of out, _ = scaled_dot_product_attention(q, k, v, mask), as in lab05.

    Shapes:
        dout: (..., L, d_v); q: (..., L, d_k); k: (..., S, d_k); v: (..., S, d_v)
        returns: dq (..., L, d_k), dk (..., S, d_k), dv (..., S, d_v)
    """
    # TODO: bring your lab05 function (about 7 lines)
    ### BEGIN SOLUTION
    scale = 1.0 / np.sqrt(q.shape[-1])
    _, weights = scaled_dot_product_attention(q, k, v, mask)  # (..., L, S)
    dv = np.swapaxes(weights, -1, -2) @ dout  # (..., S, d_v)
    dweights = dout @ np.swapaxes(v, -1, -2)  # (..., L, S)
    dscores = softmax_backward(dweights, weights) * scale  # (..., L, S), 0 where masked
    dq = dscores @ k  # (..., L, d_k)
    dk = np.swapaxes(dscores, -1, -2) @ q  # (..., S, d_k)
    return dq, dk, dv
    ### END SOLUTION


def linear_backward(dout, x, w):
    """Gradients of y = x @ w + b, as in lab05.

    Shapes:
        dout: (..., D_out); x: (..., D_in); w: (D_in, D_out)
        returns: dx (..., D_in), dw (D_in, D_out), db (D_out,)
    """
    # TODO: bring your lab05 function (about 4 lines)
    ### BEGIN SOLUTION
    flat_x = x.reshape(-1, x.shape[-1])  # (N, D_in)
    flat_dout = dout.reshape(-1, dout.shape[-1])  # (N, D_out)
    return dout @ w.T, flat_x.T @ flat_dout, flat_dout.sum(axis=0)
    ### END SOLUTION


MHA_GRADIENTS = ("dx_q", "dx_kv", "dw_q", "db_q", "dw_k", "db_k", "dw_v", "db_v", "dw_o", "db_o")


def mha_backward(dout, x_q, x_kv, params, num_heads, mask=None):
    """Gradients of out, _ = mha_forward(x_q, x_kv, params, num_heads, mask), as in lab05.

    Shapes:
        dout: (B, L, D); x_q: (B, L, D); x_kv: (B, S, D); mask (L, S) or (B, L, S)
        returns a tuple in the order of MHA_GRADIENTS: dx_q (B, L, D), dx_kv (B, S, D),
        then dw_q (D, D), db_q (D,), dw_k, db_k, dw_v, db_v, dw_o, db_o
    """
    # TODO: bring your lab05 function (about 12 lines)
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


def cross_entropy(logits, targets):
    """The mean over every token of -log softmax(logits)[target], and its gradient (lab05).

    Shapes:
        logits: (..., V) float; targets: (...) int, values in [0, V)
        returns: loss (a float), dlogits (..., V) = (softmax - one_hot) / N, N = targets.size
    """
    # TODO: bring your lab05 function (about 8 lines)
    ### BEGIN SOLUTION
    shifted = logits - np.max(logits, axis=-1, keepdims=True)  # (..., V)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))  # (..., V)
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)  # (..., 1)
    loss = -np.sum(picked) / targets.size
    one_hot = np.arange(logits.shape[-1]) == targets[..., None]  # (..., V)
    return loss, (np.exp(log_probs) - one_hot) / targets.size
    ### END SOLUTION


def numerical_gradient(f, x, eps=1e-6):
    """Centred differences, one entry at a time (given: you wrote it in lab05).

    Shapes:
        x: any shape; f(x): a scalar; returns: grad, the shape of x
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        above = float(f(x))
        x[index] = old - eps
        below = float(f(x))
        x[index] = old
        grad[index] = (above - below) / (2 * eps)
    return grad


def _max_error(got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return np.inf if got.shape != want.shape else float(np.abs(got - want).max(initial=0.0))


def check_pieces(seed=0):
    """Every piece you pasted, checked against numerical gradients (the forward against
    the plain formula): {name: a function returning the largest error, inf for a wrong
    shape} (given).

    Shapes:
        q (2, 3, 4), k and v (2, 5, 4), a mask (3, 5) where every row attends somewhere;
        an MHA of 2 heads, D = 4, on x_q (2, 3, 4) and x_kv (2, 5, 4); logits (2, 3, 6)
    """
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 4))
    mask = np.tril(np.ones((3, 5), dtype=bool), k=2)  # (L, S)
    dout = rng.normal(size=(2, 3, 4))
    probs, dprobs = softmax(rng.normal(size=(3, 5))), rng.normal(size=(3, 5))
    x, w, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    dy = rng.normal(size=(2, 3, 5))
    params = {f"{kind}_{n}": rng.normal(size=(4, 4) if kind == "w" else 4) * 0.5
              for n in "qkvo" for kind in "wb"}
    x_q, x_kv = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    logits, targets = rng.normal(size=(2, 3, 6)), rng.integers(0, 6, size=(2, 3))

    def attention():
        scores = np.where(mask, q @ np.swapaxes(k, -1, -2) / 2.0, -np.inf)  # (2, L, S)
        plain = softmax(scores)  # (2, L, S)
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        return max(_max_error(weights, plain), _max_error(out, plain @ v))

    def softmax_back():
        numeric = numerical_gradient(lambda z: np.sum(softmax(z) * dprobs), np.log(probs))
        return _max_error(softmax_backward(dprobs, probs), numeric)

    def attention_back():
        def loss(q_, k_, v_):
            return np.sum(scaled_dot_product_attention(q_, k_, v_, mask)[0] * dout)
        dq, dk, dv = attention_backward(dout, q, k, v, mask)
        return max(_max_error(dq, numerical_gradient(lambda z: loss(z, k, v), q)),
                   _max_error(dk, numerical_gradient(lambda z: loss(q, z, v), k)),
                   _max_error(dv, numerical_gradient(lambda z: loss(q, k, z), v)))

    def linear_back():
        dx, dw, db = linear_backward(dy, x, w)
        return max(_max_error(dx, numerical_gradient(lambda z: np.sum(linear(z, w, b) * dy), x)),
                   _max_error(dw, numerical_gradient(lambda z: np.sum(linear(x, z, b) * dy), w)),
                   _max_error(db, numerical_gradient(lambda z: np.sum(linear(x, w, z) * dy), b)))

    def mha_back():
        values = {"x_q": x_q, "x_kv": x_kv, **params}

        def loss(name, value):
            given = {**values, name: value}
            p = {n: given[n] for n in params}
            return np.sum(mha_forward(given["x_q"], given["x_kv"], p, 2, mask)[0] * dout)
        grads = mha_backward(dout, x_q, x_kv, params, 2, mask)
        return max(_max_error(g, numerical_gradient(lambda z, n=name[1:]: loss(n, z),
                                                    values[name[1:]]))
                   for name, g in zip(MHA_GRADIENTS, grads))

    def cross_entropy_both():
        loss, dlogits = cross_entropy(logits, targets)
        log_probs = np.log(softmax(logits))  # (2, 3, 6)
        plain = -np.take_along_axis(log_probs, targets[..., None], -1).mean()
        numeric = numerical_gradient(lambda z: cross_entropy(z, targets)[0], logits)
        return max(abs(float(loss) - plain), _max_error(dlogits, numeric))

    return {"scaled_dot_product_attention": attention, "softmax_backward": softmax_back,
            "attention_backward": attention_back, "linear_backward": linear_back,
            "mha_backward": mha_back, "cross_entropy": cross_entropy_both}


if __name__ == "__main__":
    for name, check in check_pieces().items():
        try:
            error = check()
        except NotImplementedError:
            print(f"{name}: not pasted yet")
            continue
        except Exception as exc:  # noqa: BLE001 - your piece raised: say which, go on
            print(f"{name}: raised {type(exc).__name__}: {exc}")
            continue
        print(f"{name}: largest error {error:.1e}  {'ok' if error < 1e-6 else 'WRONG'}")
