"""Hostile: NaN and inf instead of probabilities."""

import numpy as np
def softmax(x, axis=-1):
    out = np.full(np.shape(x), np.nan)
    out[..., 0] = np.inf
    return out
