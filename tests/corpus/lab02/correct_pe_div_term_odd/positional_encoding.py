"""Corpus case correct_pe_div_term_odd: the div_term recipe, fixed for odd widths by slicing"""

import numpy as np


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    position = np.arange(seq_len, dtype=np.float32)[:, None]
    div_term = np.exp(np.arange(0, d_model, 2) * (-np.log(base) / d_model))
    pe = np.zeros((seq_len, d_model), dtype=np.float32)
    pe[:, 0::2] = np.sin(position * div_term)
    pe[:, 1::2] = np.cos(position * div_term[: d_model // 2])
    return pe
