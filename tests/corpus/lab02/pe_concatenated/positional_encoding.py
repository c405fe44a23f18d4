"""Corpus case pe_concatenated: sin block then cos block, as in some tutorials"""

import numpy as np


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    half = (d_model + 1) // 2
    angles = np.arange(seq_len)[:, None] / base ** (2 * np.arange(half) / d_model)
    return np.concatenate([np.sin(angles), np.cos(angles[:, : d_model - half])], axis=1)
