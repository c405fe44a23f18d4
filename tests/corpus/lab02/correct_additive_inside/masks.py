"""Corpus case correct_additive_inside: converts the boolean mask to 0/-inf and adds it; NaN rows -> 0"""

import numpy as np


def causal_mask(seq_len):
    positions = np.arange(seq_len)
    return positions[None, :] <= positions[:, None]


def padding_mask(lengths, max_len):
    return np.arange(max_len)[None, :] < np.asarray(lengths)[:, None]


def masked_softmax(scores, mask):
    additive = np.where(mask, 0.0, -np.inf)
    s = scores + additive
    with np.errstate(invalid="ignore"):
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        w = e / e.sum(axis=-1, keepdims=True)
    return np.nan_to_num(w, nan=0.0)
