"""Hostile: an object array (it could only cross the boundary as a pickle)."""

import numpy as np

def _good(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
def softmax(x, axis=-1):
    return np.array(_good(x, axis), dtype=object)
