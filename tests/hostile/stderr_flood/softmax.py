"""Hostile: writes 64 MiB to stderr, then answers right."""

import os, numpy as np

def _good(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
def softmax(x, axis=-1):
    block = b'e' * 65536
    for _ in range(1024):
        os.write(2, block)
    return _good(x, axis)
