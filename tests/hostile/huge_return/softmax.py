"""Hostile: returns a 72 MB array (more than any lab output may be)."""

import numpy as np
def softmax(x, axis=-1):
    return np.zeros((3000, 3000))
