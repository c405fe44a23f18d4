"""Corpus case softmax_2d_only: masked_softmax written for one (L, S) matrix: axis=1."""

import numpy as np


def causal_mask(seq_len):
    return np.tril(np.ones((seq_len, seq_len), dtype=bool))


def padding_mask(lengths, max_len):
    return np.arange(max_len)[None, :] < np.asarray(lengths)[:, None]


def masked_softmax(scores, mask):
    filled = np.where(mask, scores, -np.inf)
    row_max = np.max(filled, axis=1, keepdims=True)
    row_max[~np.isfinite(row_max)] = 0.0
    e = np.where(mask, np.exp(filled - row_max), 0.0)
    total = e.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return e / total
