"""Hostile: a numpy.py in the submission folder whose allclose always agrees."""

import numpy as np
def softmax(x, axis=-1):
    return np.zeros_like(np.asarray(x))
