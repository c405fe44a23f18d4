"""Corpus case pe_sin_cos_swapped: cos on even columns, sin on odd"""

import numpy as np


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    angles = np.arange(seq_len)[:, None] / base ** (2 * (np.arange(d_model) // 2) / d_model)
    return np.where(np.arange(d_model) % 2 == 0, np.cos(angles), np.sin(angles))
