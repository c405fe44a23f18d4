"""Hostile: prints 64 MiB, then answers right: the output is truncated, never kept whole."""

import sys, numpy as np

def _good(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
def softmax(x, axis=-1):
    line = 'x' * 1023 + '\n'
    for _ in range(64 * 1024):
        sys.stdout.write(line)
    return _good(x, axis)
