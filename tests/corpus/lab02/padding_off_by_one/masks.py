"""Corpus case padding_off_by_one: position <= length"""

import numpy as np


def causal_mask(seq_len):
    positions = np.arange(seq_len)
    return positions[None, :] <= positions[:, None]


def padding_mask(lengths, max_len):
    return np.arange(max_len)[None, :] <= np.asarray(lengths)[:, None]


def masked_softmax(scores, mask):
    scores = np.asarray(scores, dtype=np.float64)
    mask = np.broadcast_to(mask, scores.shape)
    filled = np.where(mask, scores, -np.inf)
    row_max = np.max(filled, axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    exps = np.where(mask, np.exp(filled - row_max), 0.0)
    total = np.sum(exps, axis=-1, keepdims=True)
    return exps / np.where(total > 0, total, 1.0)
