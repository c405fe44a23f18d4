"""Lab 06, part 1: the Adam optimizer (Kingma & Ba, 2015).

For each parameter p with gradient g, at step t = 1, 2, ...:

    m = beta1 m + (1 - beta1) g            a running mean of the gradient
    v = beta2 v + (1 - beta2) g**2         a running mean of its square
    m_hat = m / (1 - beta1**t)             bias correction: m and v start at 0,
    v_hat = v / (1 - beta2**t)             so early on they are too small
    p = p - lr m_hat / (sqrt(v_hat) + eps)

The state (t, and m and v for every parameter) is carried from one step to the next.

Run me as a script to watch Adam minimise a quadratic: ``python adam.py``.
"""

import numpy as np


def adam_init(params):
    """A fresh state for `params` (given): t = 0, m and v zero for every parameter.

    Shapes:
        params: dict name -> array; returns: {"t": 0, "m": {name: zeros}, "v": {name: zeros}}
    """
    return {
        "t": 0,
        "m": {name: np.zeros_like(p, dtype=np.float64) for name, p in params.items()},
        "v": {name: np.zeros_like(p, dtype=np.float64) for name, p in params.items()},
    }


def adam_step(params, grads, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update of every parameter, with bias correction.

    Returns new dicts (params, state); leave the ones you were given unchanged, or
    update them in place and return them: both work with train.py.

    Shapes:
        params, grads: dicts name -> array, grads[name] of params[name]'s shape
        state: {"t": int, "m": dict, "v": dict} as adam_init makes it
        returns: (params, state), the same names and shapes, state["t"] one more
    """
    # TODO: t + 1, then m, v, the corrected m_hat, v_hat and the update per name (about 10 lines)
    raise NotImplementedError("adam_step: your code here")


def adam_steps(w, b, grads_w, grads_b, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """What the grader calls: K steps of your adam_step on params {"w": w, "b": b} from a
    fresh adam_init, step k with gradients {"w": grads_w[k], "b": grads_b[k]}, and copies
    of the parameters after each step. Leave w and b as they were.

    Shapes:
        w: (N, M); b: (M,); grads_w: (K, N, M); grads_b: (K, M)
        returns: w after each step (K, N, M), b after each step (K, M)
    """
    # TODO: adam_init, then K adam_steps, keeping a copy of w and b after each (about 8 lines)
    raise NotImplementedError("adam_steps: your code here")


if __name__ == "__main__":
    target = np.array([3.0, -2.0])
    params = {"x": np.zeros(2)}
    state = adam_init(params)
    for step in range(1, 201):
        grads = {"x": 2 * (params["x"] - target)}  # the gradient of |x - target|^2
        params, state = adam_step(params, grads, state, lr=0.1)
        if step in (1, 10, 50, 200):
            print(f"step {step:3}: x = {params['x'].round(4)}")
