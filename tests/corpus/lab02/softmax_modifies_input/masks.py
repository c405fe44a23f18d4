"""Corpus case softmax_modifies_input: right weights, but the scores are overwritten in place"""

import numpy as np


def causal_mask(seq_len):
    positions = np.arange(seq_len)
    return positions[None, :] <= positions[:, None]


def padding_mask(lengths, max_len):
    return np.arange(max_len)[None, :] < np.asarray(lengths)[:, None]


def masked_softmax(scores, mask):
    mask = np.broadcast_to(mask, scores.shape)
    scores[~mask] = -np.inf
    top = scores.max(axis=-1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    exps = np.exp(scores - top)
    total = exps.sum(axis=-1, keepdims=True)
    total[total == 0] = 1.0
    return exps / total
