"""Hostile: imports torch (NumPy only), guarded so it runs without torch."""

import numpy as np
try:
    import torch
except ImportError:
    torch = None

def _good(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
def softmax(x, axis=-1):
    return _good(x, axis)
