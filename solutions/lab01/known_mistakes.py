"""Known wrong variants of the lab01 reference, for diagnosis.

Each function here is the reference with one classic bug. When a student's
result matches one of them (and not the reference), the report names the
mistake. The lab spec (lab.toml, [[mistakes]]) maps mistake ids to these
names. Hidden from students: it holds the reference, bug for bug.
"""

import numpy as np
from attention import scaled_dot_product_attention as reference_attention
from softmax import softmax


def softmax_unstable(x, axis=-1):
    """exp(x) / sum(exp(x)) without subtracting the max: overflows to inf/inf = NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        exps = np.exp(np.asarray(x, dtype=np.float64))
        return exps / np.sum(exps, axis=axis, keepdims=True)


def softmax_last_axis(x, axis=-1):
    """Ignores `axis` and always normalises the last axis."""
    return softmax(x, axis=-1)


def softmax_axis_zero(x, axis=-1):
    """Normalises axis 0 whatever `axis` says."""
    return softmax(x, axis=0)


def softmax_global(x, axis=-1):
    """Normalises over the whole array instead of one axis."""
    x = np.asarray(x, dtype=np.float64)
    exps = np.exp(x - np.max(x))
    return exps / np.sum(exps)


def _attention(q, k, v, mask=None, scale=None, normalise=softmax, fill="inside", axis=-1):
    d_k = q.shape[-1]
    scale = 1.0 / np.sqrt(d_k) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale  # (..., L, S)
    if mask is not None and fill == "inside":
        scores = np.where(mask, scores, -np.inf)
    if mask is not None and fill == "inverted":
        scores = np.where(mask, -np.inf, scores)
    with np.errstate(over="ignore", invalid="ignore"):
        weights = normalise(scores, axis=axis)  # (..., L, S)
    if mask is not None and fill == "after":
        weights = weights * mask
    return weights @ v, weights


def attention_unstable_softmax(q, k, v, mask=None):
    return _attention(q, k, v, mask, normalise=softmax_unstable)


def attention_missing_scale(q, k, v, mask=None):
    return _attention(q, k, v, mask, scale=1.0)


def attention_scale_by_d_k(q, k, v, mask=None):
    return _attention(q, k, v, mask, scale=1.0 / q.shape[-1])


def attention_scale_by_sqrt_d_v(q, k, v, mask=None):
    return _attention(q, k, v, mask, scale=1.0 / np.sqrt(v.shape[-1]))


def attention_multiply_by_sqrt_d_k(q, k, v, mask=None):
    return _attention(q, k, v, mask, scale=np.sqrt(q.shape[-1]))


def attention_softmax_over_queries(q, k, v, mask=None):
    return _attention(q, k, v, mask, axis=-2)


def attention_mask_after_softmax(q, k, v, mask=None):
    return _attention(q, k, v, mask, fill="after")


def attention_mask_inverted(q, k, v, mask=None):
    return _attention(q, k, v, mask, fill="inverted")


def attention_return_order(q, k, v, mask=None):
    output, weights = reference_attention(q, k, v, mask)
    return weights, output


def attention_ignores_mask(q, k, v, mask=None):
    return _attention(q, k, v, None)
