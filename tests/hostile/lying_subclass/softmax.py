"""Hostile: an ndarray subclass whose comparisons and repr claim success."""

import numpy as np
class Liar(np.ndarray):
    def __eq__(self, other):
        return True
    def __array_ufunc__(self, *a, **k):
        return True
    def __repr__(self):
        return 'the right answer'
def softmax(x, axis=-1):
    return np.zeros(np.shape(x)).view(Liar)
