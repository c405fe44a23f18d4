"""Corpus case correct_tri_float32: np.tri masks, float32 softmax, -1e9 fill then zeroed empty rows"""

import numpy as np


def causal_mask(seq_len):
    return np.tri(seq_len, dtype=bool)


def padding_mask(lengths, max_len):
    return np.stack([np.arange(max_len) < n for n in lengths])


def masked_softmax(scores, mask):
    s = np.where(mask, np.asarray(scores, dtype=np.float32), np.float32(-1e9))
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    w = e / e.sum(axis=-1, keepdims=True)
    return w * mask.any(axis=-1, keepdims=True) * mask
