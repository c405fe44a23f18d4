"""Correct, with einsum over a head axis; the wrapper loops over the heads."""

import numpy as np
from attention_loops import softmax
from attention_matrix import causal_mask


def attention_head(x, w_q, w_k, w_v, causal=True):
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    scores = np.einsum("bik,bjk->bij", q, k) / np.sqrt(q.shape[-1])
    if causal:
        scores = np.where(causal_mask(x.shape[1]), scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def multi_head_wrapper(x, heads, w_o, causal=True):
    results = [attention_head(x, *triple, causal) for triple in heads]
    concat = np.concatenate([r[0] for r in results], axis=-1)
    return concat @ w_o, np.stack([r[1] for r in results], axis=1)


def multi_head_attention(x, heads, w_o, causal=True):
    heads = np.asarray(heads)  # (H, 3, D, d_k)
    q = np.einsum("btd,hdk->bhtk", x, heads[:, 0])
    k = np.einsum("btd,hdk->bhtk", x, heads[:, 1])
    v = np.einsum("btd,hdk->bhtk", x, heads[:, 2])
    scores = np.einsum("bhik,bhjk->bhij", q, k) / np.sqrt(q.shape[-1])
    if causal:
        scores = np.where(causal_mask(x.shape[1]), scores, -np.inf)
    weights = softmax(scores, axis=-1)
    H, d_k = heads.shape[0], heads.shape[-1]
    out = np.einsum("bhij,bhjk,hkd->bid", weights, v, w_o.reshape(H, d_k, -1))
    return out, weights
