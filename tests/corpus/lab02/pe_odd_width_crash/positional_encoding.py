"""Corpus case pe_odd_width_crash: the common div_term recipe: crashes when d_model is odd"""

import numpy as np


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    position = np.arange(seq_len)[:, None]
    div_term = np.exp(np.arange(0, d_model, 2) * (-np.log(base) / d_model))
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(position * div_term)
    pe[:, 1::2] = np.cos(position * div_term)
    return pe
