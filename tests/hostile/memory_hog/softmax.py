"""Hostile: allocates and touches memory until the address-space limit."""

import numpy as np
def softmax(x, axis=-1):
    hog = []
    for _ in range(100):  # at most 100 x 64 MiB, stopped at the limit
        hog.append(np.ones(8 * 1024 * 1024))
