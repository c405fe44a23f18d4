import numpy as np


def softmax(x, axis=-1):
    x = np.where(np.isneginf(x), 0.0, x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
