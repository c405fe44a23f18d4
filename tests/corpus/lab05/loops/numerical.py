"""lab05 corpus: numerical_gradient with a flat loop and a fourth-order centred stencil
(error O(eps^4); correct: full marks, within the tolerance of the centred reference)."""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing to flat moves x
    grad = np.zeros(flat.shape)
    for i in range(flat.size):
        old = flat[i]
        values = []
        for step in (2, 1, -1, -2):
            flat[i] = old + step * eps
            values.append(float(f(x)))
        flat[i] = old
        grad[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * eps)
    return grad.reshape(x.shape)


def _cubic(x):
    return np.sum(x**3)


def _log_sum_exp(x):
    top = np.max(x)
    return top + np.log(np.sum(np.exp(x - top)))


def _sine_mix(x):
    return np.sum(np.sin(x) * np.arange(1, x.size + 1).reshape(x.shape))


KNOWN_FUNCTIONS = {"cubic": _cubic, "log_sum_exp": _log_sum_exp, "sine_mix": _sine_mix}


def numerical_gradient_of(name, x, eps=1e-6):
    return numerical_gradient(KNOWN_FUNCTIONS[name], x, eps)
