"""Corpus case softmax_mask_after: softmax first, then weights * mask"""

import numpy as np


def causal_mask(seq_len):
    positions = np.arange(seq_len)
    return positions[None, :] <= positions[:, None]


def padding_mask(lengths, max_len):
    return np.arange(max_len)[None, :] < np.asarray(lengths)[:, None]


def masked_softmax(scores, mask):
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True) * mask
