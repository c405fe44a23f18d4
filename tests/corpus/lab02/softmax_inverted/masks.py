"""Corpus case softmax_inverted: blocks where the mask is True"""

import numpy as np


def causal_mask(seq_len):
    positions = np.arange(seq_len)
    return positions[None, :] <= positions[:, None]


def padding_mask(lengths, max_len):
    return np.arange(max_len)[None, :] < np.asarray(lengths)[:, None]


def masked_softmax(scores, mask):
    keep = ~np.broadcast_to(mask, np.shape(scores))
    filled = np.where(keep, scores, -np.inf)
    top = np.max(filled, axis=-1, keepdims=True)
    exps = np.where(keep, np.exp(filled - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = exps.sum(axis=-1, keepdims=True)
    return exps / np.where(total > 0, total, 1.0)
