"""Corpus case correct_row_loop: a Python loop over rows, and an explicit causal double loop"""

import numpy as np


def causal_mask(seq_len):
    m = np.zeros((seq_len, seq_len), dtype=bool)
    for i in range(seq_len):
        for j in range(i + 1):
            m[i, j] = True
    return m


def padding_mask(lengths, max_len):
    return np.arange(max_len)[None, :] < np.asarray(lengths)[:, None]


def masked_softmax(scores, mask):
    scores = np.asarray(scores, dtype=float)
    mask = np.broadcast_to(mask, scores.shape)
    out = np.zeros_like(scores)
    for index in np.ndindex(scores.shape[:-1]):
        keep = mask[index]
        if keep.any():
            kept = scores[index][keep]
            e = np.exp(kept - kept.max())
            out[index][keep] = e / e.sum()
    return out
