"""Lab 05, part 3: numerical gradients, to check every backward pass you write.

numerical_gradient is graded through numerical_gradient_of on the known
functions below, whose exact gradients are given (KNOWN_GRADIENTS).

Run me as a script to try your function: ``python numerical.py``.
"""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """The gradient of a scalar function f at x by centred differences.

    grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one entry at a time.
    The error is O(eps^2), where a one-sided difference (f(x + eps e_i) - f(x)) / eps
    has O(eps). Leave x as it was (work on a float64 copy).

    Shapes:
        x: any shape; f(x): a scalar; returns: grad, the shape of x, float64
    """
    # TODO: a loop over np.ndindex(x.shape), two calls of f per entry (about 9 lines)
    raise NotImplementedError("numerical_gradient: your code here")


# Functions with known gradients (given): KNOWN_FUNCTIONS[name] is f, KNOWN_GRADIENTS[name] its gradient
def _cubic(x):
    return np.sum(x**3)


def _log_sum_exp(x):
    top = np.max(x)
    return top + np.log(np.sum(np.exp(x - top)))


def _sine_mix(x):
    return np.sum(np.sin(x) * np.arange(1, x.size + 1).reshape(x.shape))


KNOWN_FUNCTIONS = {"cubic": _cubic, "log_sum_exp": _log_sum_exp, "sine_mix": _sine_mix}
KNOWN_GRADIENTS = {
    "cubic": lambda x: 3 * x**2,
    "log_sum_exp": lambda x: np.exp(x - _log_sum_exp(x)),
    "sine_mix": lambda x: np.cos(x) * np.arange(1, x.size + 1).reshape(x.shape),
}


def numerical_gradient_of(name, x, eps=1e-6):
    """numerical_gradient of the known function KNOWN_FUNCTIONS[name] at x: what the
    grader calls (it cannot send you a function, only its name).

    Shapes:
        x: any shape; returns: the shape of x
    """
    # TODO: call your numerical_gradient (1 line)
    raise NotImplementedError("numerical_gradient_of: your code here")


if __name__ == "__main__":
    x = np.random.default_rng(0).normal(size=(3, 4))
    for name, exact in KNOWN_GRADIENTS.items():
        for eps in (1e-2, 1e-4, 1e-6):
            error = np.max(np.abs(numerical_gradient_of(name, x, eps) - exact(x)))
            print(f"{name:12} eps={eps:.0e}  max |numerical - exact| = {error:.1e}")
