"""Corpus case pe_positions_from_one: positions 1..T"""

import numpy as np


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    angles = np.arange(1, seq_len + 1)[:, None] / base ** (2 * (np.arange(d_model) // 2) / d_model)
    return np.where(np.arange(d_model) % 2 == 0, np.sin(angles), np.cos(angles))
