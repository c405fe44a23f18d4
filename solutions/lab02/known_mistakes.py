"""Known wrong variants of the lab02 reference, for diagnosis.

Each function here is the reference with one classic bug. When a student's
result matches one of them (and not the reference), the report names the
mistake. The lab spec (lab.toml, [[mistakes]]) maps mistake ids to these
names. Hidden from students: it holds the reference, bug for bug.
"""

import numpy as np
from masks import causal_mask, masked_softmax, padding_mask


# ------------------------------------------------------------------ masks
def causal_mask_strict(seq_len):
    """key < query: a token may not see itself."""
    return np.tril(np.ones((seq_len, seq_len), dtype=bool), k=-1)


def causal_mask_inverted(seq_len):
    """True on the future instead of the past."""
    return ~causal_mask(seq_len)


def causal_mask_transposed(seq_len):
    """key >= query: the rows and columns are swapped (each token sees the future)."""
    return causal_mask(seq_len).T


def padding_mask_inverted(lengths, max_len):
    return ~padding_mask(lengths, max_len)


def padding_mask_inclusive(lengths, max_len):
    """position <= length: one padding token too many."""
    return np.arange(max_len)[None, :] <= np.asarray(lengths)[:, None]


def padding_mask_short(lengths, max_len):
    """position < length - 1: the last real token is dropped."""
    return np.arange(max_len)[None, :] < np.asarray(lengths)[:, None] - 1


# --------------------------------------------------------- masked softmax
def _softmax(x):
    with np.errstate(invalid="ignore"):
        shifted = x - np.max(x, axis=-1, keepdims=True)
        exps = np.exp(shifted)
        return exps / np.sum(exps, axis=-1, keepdims=True)


def masked_softmax_nan(scores, mask):
    """-inf fill and a plain softmax: a fully masked row is -inf - (-inf) = NaN."""
    return _softmax(np.where(mask, np.asarray(scores, dtype=np.float64), -np.inf))


def masked_softmax_uniform(scores, mask):
    """-1e9 fill: a fully masked row becomes uniform over keys it may not see."""
    return _softmax(np.where(mask, np.asarray(scores, dtype=np.float64), -1e9))


def masked_softmax_after(scores, mask):
    """Softmax first, mask afterwards: the rows no longer sum to 1."""
    return _softmax(np.asarray(scores, dtype=np.float64)) * mask


def masked_softmax_inverted(scores, mask):
    return masked_softmax(scores, ~np.asarray(mask))


def masked_softmax_additive(scores, mask):
    """The boolean mask added to the scores as if it were an additive 0/-inf mask."""
    return _softmax(np.asarray(scores, dtype=np.float64) + mask)


def masked_softmax_zero_fill(scores, mask):
    """Masked scores set to 0 (scores * mask): exp(0) = 1 still gives them weight."""
    return _softmax(np.asarray(scores, dtype=np.float64) * mask)


# ----------------------------------------------------- positional encoding
def _pe(seq_len, d_model, base=10000.0, *, exponent=None, first_position=0, layout="interleaved",
        swap=False, divide=True):
    positions = np.arange(first_position, first_position + seq_len)[:, None]  # (T, 1)
    column = np.arange(d_model)
    exponent = 2 * (column // 2) / d_model if exponent is None else exponent(column, d_model)
    frequencies = float(base) ** exponent  # (D,)
    angles = positions / frequencies if divide else positions * frequencies  # (T, D)
    sin, cos = (np.cos, np.sin) if swap else (np.sin, np.cos)
    if layout == "concatenated":
        half = (d_model + 1) // 2
        pair = 2 * np.arange(half) / d_model  # (half,)
        angles = positions / float(base) ** pair  # (T, half)
        return np.concatenate([sin(angles), cos(angles[:, : d_model - half])], axis=1)
    return np.where(column % 2 == 0, sin(angles), cos(angles))


def pe_swapped(seq_len, d_model, base=10000.0):
    """cos on the even columns, sin on the odd ones."""
    return _pe(seq_len, d_model, base, swap=True)


def pe_concatenated(seq_len, d_model, base=10000.0):
    """All sines first, then all cosines (some tutorials' layout, not the paper's)."""
    return _pe(seq_len, d_model, base, layout="concatenated")


def pe_exponent_column(seq_len, d_model, base=10000.0):
    """base^(j / d_model) with j the column: each column its own frequency."""
    return _pe(seq_len, d_model, base, exponent=lambda j, d: j / d)


def pe_exponent_twice_column(seq_len, d_model, base=10000.0):
    """base^(2j / d_model) with j the column instead of the pair index i = j // 2."""
    return _pe(seq_len, d_model, base, exponent=lambda j, d: 2 * j / d)


def pe_exponent_multiplied(seq_len, d_model, base=10000.0):
    """pos * base^(2i/d) instead of pos / base^(2i/d)."""
    return _pe(seq_len, d_model, base, divide=False)


def pe_positions_from_one(seq_len, d_model, base=10000.0):
    """Positions 1..T instead of 0..T-1."""
    return _pe(seq_len, d_model, base, first_position=1)


def pe_pairs_from_one(seq_len, d_model, base=10000.0):
    """Pair index i counted from 1: base^(2(i+1)/d)."""
    return _pe(seq_len, d_model, base, exponent=lambda j, d: 2 * (j // 2 + 1) / d)


def pe_ignores_base(seq_len, d_model, base=10000.0):
    """Always 10000, whatever `base` says."""
    return _pe(seq_len, d_model, 10000.0)
