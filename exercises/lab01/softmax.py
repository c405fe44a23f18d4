"""Lab 01, part 1: a numerically stable softmax.

Run me as a script to try your function: ``python softmax.py``.
"""

import numpy as np


def softmax(x, axis=-1):
    """Turn scores into probabilities along one axis.

    Subtract the maximum of each slice before exponentiating: exp(x - max)
    never overflows, and the result is the same because the shift cancels
    in the ratio. Entries equal to -inf get probability 0. Do not modify x.

    Shapes:
        x: any shape (..., N)
        returns: the same shape as x; every slice along `axis` sums to 1
    """
    raise NotImplementedError("softmax: your code here")


if __name__ == "__main__":
    scores = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -np.inf]])
    print(softmax(scores))
