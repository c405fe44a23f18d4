"""Corpus case pe_ignores_base: 10000 hard-coded"""

import numpy as np


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    angles = np.arange(seq_len)[:, None] / 10000.0 ** (2 * (np.arange(d_model) // 2) / d_model)
    return np.where(np.arange(d_model) % 2 == 0, np.sin(angles), np.cos(angles))
