"""Lab 05, part 4: check every backward function against your numerical_gradient.

``python gradcheck.py`` prints a table of relative errors, one row per gradient;
``python gradcheck.py TABLE`` also writes the table to the file TABLE. The grader runs it
that way, and compares every row with its own measurement of your backward functions
against your forward functions (on its own inputs, like these, with a mask): a row must
tell the same story (both below 1e-5: the gradient is right; both above: it is wrong, by
about as much). A missing row, or a number the measurement contradicts, earns nothing.

The relative error of a gradient (given):
    max |analytic - numerical| / max(1, max(|analytic| + |numerical|))
(absolute near 0: db_k is exactly 0, and rounding noise of 1e-10 is not an error of 1).
"""

import sys

import numpy as np
from backward import (
    attention_backward,
    layer_norm_backward,
    linear_backward,
    mha_backward,
    softmax_backward,
)
from forward import layer_norm, linear, mha_forward, scaled_dot_product_attention, softmax
from loss import cross_entropy
from numerical import numerical_gradient

# the table's rows (given): (function, gradient), in this order
ROWS = (
    ("softmax_backward", "dx"),
    ("attention_backward", "dq"), ("attention_backward", "dk"), ("attention_backward", "dv"),
    ("linear_backward", "dx"), ("linear_backward", "dw"), ("linear_backward", "db"),
    ("layer_norm_backward", "dx"), ("layer_norm_backward", "dgamma"),
    ("layer_norm_backward", "dbeta"),
    ("cross_entropy", "dlogits"),
    ("mha_backward", "dx_q"), ("mha_backward", "dx_kv"),
    ("mha_backward", "dw_q"), ("mha_backward", "db_q"), ("mha_backward", "dw_k"),
    ("mha_backward", "db_k"), ("mha_backward", "dw_v"), ("mha_backward", "db_v"),
    ("mha_backward", "dw_o"), ("mha_backward", "db_o"),
)
PARAMS = ("w_q", "b_q", "w_k", "b_k", "w_v", "b_v", "w_o", "b_o")


def relative_error(analytic, numerical):
    """The relative error of one gradient (given), as in the module docstring."""
    analytic, numerical = np.asarray(analytic, dtype=np.float64), np.asarray(numerical)
    if analytic.shape != numerical.shape:
        return np.inf  # a gradient of the wrong shape is as wrong as can be
    scale = max(1.0, float(np.max(np.abs(analytic) + np.abs(numerical))))
    return float(np.max(np.abs(analytic - numerical)) / scale)


def small_inputs(seed=0):
    """Small float64 inputs for every check (given): a few dozen entries each.

    Shapes:
        scores (3, 5); q (2, 3, 4), k and v (2, 5, 4), mask (3, 5) with a True and a
        False in every row; x (2, 3, 4); logits (2, 3, 5), targets (2, 3); x_q (2, 3, 4),
        x_kv (2, 5, 4), params of width 4 for 2 heads; each dout the shape of its output
    """
    r = np.random.default_rng(seed)
    mask = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1], [1, 1, 0, 1, 1]], dtype=bool)
    params = {n: r.normal(size=(4, 4)) / 2 if n[0] == "w" else r.normal(size=4) * 0.3
              for n in PARAMS}
    return {
        "scores": r.normal(size=(3, 5)), "dscores": r.normal(size=(3, 5)),
        "q": r.normal(size=(2, 3, 4)), "k": r.normal(size=(2, 5, 4)),
        "v": r.normal(size=(2, 5, 4)), "mask": mask, "dout": r.normal(size=(2, 3, 4)),
        "x": r.normal(size=(2, 3, 4)) * 2 + 1, "w": r.normal(size=(4, 3)) / 2,
        "b": r.normal(size=3), "dy": r.normal(size=(2, 3, 3)),
        "gamma": r.uniform(0.5, 1.5, 4), "beta": r.normal(size=4),
        "logits": r.normal(size=(2, 3, 5)) * 2, "targets": r.integers(0, 5, (2, 3)),
        "x_q": r.normal(size=(2, 3, 4)), "x_kv": r.normal(size=(2, 5, 4)), "params": params,
    }


def rows_of(function, gradients, loss, inputs):
    """One row per input (given): (function, "d" + name, relative error) of the analytic
    gradient of loss at `inputs` (a dict name -> array, in the order of `gradients`)
    against your numerical_gradient of loss, one input moved at a time."""
    rows = []
    for (name, x), analytic in zip(inputs.items(), gradients):
        def f(t, name=name):
            return loss({**inputs, name: t})

        rows.append((function, "d" + name, relative_error(analytic, numerical_gradient(f, x))))
    return rows


def gradient_rows(p):
    """Every row of ROWS, measured on the inputs `p` (small_inputs()).

    For each backward function: its gradients at p, and the scalar loss whose gradients
    they are, L = sum(forward(...) * dout) (cross_entropy's loss is already a scalar);
    rows_of does the rest. MHA's parameters go in as inputs of their own (w_q, b_q, ...).
    """
    # the first block (given): softmax_backward's gradient of L = sum(softmax(x) * dscores)
    rows = rows_of("softmax_backward", [softmax_backward(p["dscores"], softmax(p["scores"]))],
                   lambda a: np.sum(softmax(a["x"]) * p["dscores"]), {"x": p["scores"]})
    # TODO: five more blocks like it, in the order of ROWS: attention, linear, LayerNorm,
    # cross-entropy, MHA (about 25 lines)
    ### BEGIN SOLUTION
    def attention_loss(a):
        return np.sum(scaled_dot_product_attention(a["q"], a["k"], a["v"], p["mask"])[0] * p["dout"])

    qkv = {n: p[n] for n in ("q", "k", "v")}
    rows += rows_of("attention_backward",
                    attention_backward(p["dout"], p["q"], p["k"], p["v"], p["mask"]),
                    attention_loss, qkv)

    rows += rows_of("linear_backward", linear_backward(p["dy"], p["x"], p["w"]),
                    lambda a: np.sum(linear(a["x"], a["w"], a["b"]) * p["dy"]),
                    {n: p[n] for n in ("x", "w", "b")})

    rows += rows_of("layer_norm_backward", layer_norm_backward(p["dout"], p["x"], p["gamma"]),
                    lambda a: np.sum(layer_norm(a["x"], a["gamma"], a["beta"]) * p["dout"]),
                    {n: p[n] for n in ("x", "gamma", "beta")})

    _, dlogits = cross_entropy(p["logits"], p["targets"])
    rows += rows_of("cross_entropy", [dlogits],
                    lambda a: cross_entropy(a["logits"], p["targets"])[0], {"logits": p["logits"]})

    def mha_loss(a):
        params = {n: a[n] for n in PARAMS}
        return np.sum(mha_forward(a["x_q"], a["x_kv"], params, 2, p["mask"])[0] * p["dout"])

    inputs = {"x_q": p["x_q"], "x_kv": p["x_kv"], **p["params"]}
    rows += rows_of("mha_backward",
                    mha_backward(p["dout"], p["x_q"], p["x_kv"], p["params"], 2, p["mask"]),
                    mha_loss, inputs)
    return rows
    ### END SOLUTION


def table(rows):
    """The rows as text (given): a header, then one row per line."""
    lines = [f"{'function':22} {'gradient':10} relative error"]
    lines += [f"{function:22} {gradient:10} {error:.1e}" for function, gradient, error in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    text = table(gradient_rows(small_inputs()))
    print(text, end="")
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as out:
            out.write(text)
