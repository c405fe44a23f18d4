"""Hostile: an empty (0, N) array, which np.allclose would broadcast."""

import numpy as np
def softmax(x, axis=-1):
    return np.empty((0, np.shape(x)[-1]))
