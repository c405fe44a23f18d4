"""Corpus case pe_wrong_exponent: base^(j/d) with j the column"""

import numpy as np


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    angles = np.arange(seq_len)[:, None] / base ** (np.arange(d_model) / d_model)
    return np.where(np.arange(d_model) % 2 == 0, np.sin(angles), np.cos(angles))
