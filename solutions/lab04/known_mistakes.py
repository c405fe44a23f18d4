"""Known wrong variants of the lab04 reference, for diagnosis.

Each function here is the reference with one classic bug. When a student's
result matches one of them (and not the reference), the report names the
mistake. The lab spec (lab.toml, [[mistakes]]) maps mistake ids to these
names. Hidden from students: it holds the reference, bug for bug.
"""

import numpy as np
from attention_loops import softmax
from block import feed_forward, layer_norm
from model import embed

# causal mask offsets: np.tril(..., k); None = no mask at all
RIGHT, SEES_NEXT, EXCLUDES_SELF, NO_MASK = 0, 1, -1, None


def _attend(q, k, v, causal, offset=RIGHT):
    """softmax(Q K^T / sqrt(d_k), masked) V with the causal mask shifted by `offset`."""
    T = q.shape[-2]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])  # (..., T, T)
    if causal and offset is not None:
        scores = np.where(np.tril(np.ones((T, T), dtype=bool), offset), scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


def _self_attention(x, w_q, w_k, w_v, w_o, causal=True, offset=RIGHT):
    head, weights = _attend(x @ w_q, x @ w_k, x @ w_v, causal, offset)
    return head @ w_o, weights


# ------------------------------------------------------------ attention
def attention_mask_sees_next(x, w_q, w_k, w_v, w_o, causal=True):
    """np.tril(..., k=1): each query also sees the next token."""
    return _self_attention(x, w_q, w_k, w_v, w_o, causal, SEES_NEXT)


def attention_mask_excludes_self(x, w_q, w_k, w_v, w_o, causal=True):
    """np.tril(..., k=-1): a query does not see its own token (the first sees nothing)."""
    return _self_attention(x, w_q, w_k, w_v, w_o, causal, EXCLUDES_SELF)


def attention_no_mask(x, w_q, w_k, w_v, w_o, causal=True):
    """The causal flag is ignored: every query sees the future."""
    return _self_attention(x, w_q, w_k, w_v, w_o, causal, NO_MASK)


# the loops version computes the same numbers on one sequence (T, D)
loops_mask_sees_next = attention_mask_sees_next
loops_mask_excludes_self = attention_mask_excludes_self
loops_no_mask = attention_no_mask


# ------------------------------------------------------------ LayerNorm and FFN
def _layer_norm(x, gamma, beta, eps=1e-5, axis=-1, ddof=0):
    mean = np.mean(x, axis=axis, keepdims=True)
    var = np.var(x, axis=axis, keepdims=True, ddof=ddof)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def layer_norm_wrong_axis(x, gamma, beta, eps=1e-5):
    """Mean and variance over axis 0 (the batch or the rows) instead of the features."""
    return _layer_norm(x, gamma, beta, eps, axis=0)


def layer_norm_unbiased(x, gamma, beta, eps=1e-5):
    """The unbiased variance (ddof=1, torch.var's default) instead of the biased one."""
    return _layer_norm(x, gamma, beta, eps, ddof=1)


def feed_forward_relu_after_output(x, w1, b1, w2, b2):
    """A ReLU on the output too: the block's update can never be negative."""
    return np.maximum(0.0, feed_forward(x, w1, b1, w2, b2))


def feed_forward_relu_before_bias(x, w1, b1, w2, b2):
    """ReLU(x W1) + b1: the bias added after the non-linearity."""
    return (np.maximum(0.0, x @ w1) + b1) @ w2 + b2


# ------------------------------------------------------------ the block
def _block(x, p, causal=True, *, offset=RIGHT, ln=layer_norm, ff=feed_forward, post_ln=False):
    def ffn(z):
        return ff(z, p["w1"], p["b1"], p["w2"], p["b2"])

    def attn(z):
        return _self_attention(z, p["w_q"], p["w_k"], p["w_v"], p["w_o"], causal, offset)

    if post_ln:  # the 2017 order: add, then normalise
        attended, weights = attn(x)
        h = ln(x + attended, p["ln1_gamma"], p["ln1_beta"])
        return ln(h + ffn(h), p["ln2_gamma"], p["ln2_beta"]), weights
    attended, weights = attn(ln(x, p["ln1_gamma"], p["ln1_beta"]))
    h = x + attended
    return h + ffn(ln(h, p["ln2_gamma"], p["ln2_beta"])), weights


def block_mask_sees_next(x, params, causal=True):
    return _block(x, params, causal, offset=SEES_NEXT)


def block_mask_excludes_self(x, params, causal=True):
    return _block(x, params, causal, offset=EXCLUDES_SELF)


def block_no_mask(x, params, causal=True):
    return _block(x, params, causal, offset=NO_MASK)


def block_ln_wrong_axis(x, params, causal=True):
    return _block(x, params, causal, ln=layer_norm_wrong_axis)


def block_ln_unbiased(x, params, causal=True):
    return _block(x, params, causal, ln=layer_norm_unbiased)


def block_post_ln(x, params, causal=True):
    return _block(x, params, causal, post_ln=True)


def block_relu_after_output(x, params, causal=True):
    return _block(x, params, causal, ff=feed_forward_relu_after_output)


def block_relu_before_bias(x, params, causal=True):
    return _block(x, params, causal, ff=feed_forward_relu_before_bias)


# ------------------------------------------------------------ heads
def _merge_reversed(outputs):
    return np.concatenate(outputs[::-1], axis=-1)


def _merge_interleaved(outputs):
    stacked = np.stack(outputs, axis=-1)  # (B, T, d_k, H): heads woven column by column
    return stacked.reshape(*stacked.shape[:-2], -1)


def _heads(x, heads, w_o, causal, merge=None, offset=RIGHT):
    outputs, weights = [], []
    for w_q, w_k, w_v in heads:
        head, w = _attend(x @ w_q, x @ w_k, x @ w_v, causal, offset)
        outputs.append(head)
        weights.append(w)
    concat = (merge or (lambda o: np.concatenate(o, axis=-1)))(outputs)
    return concat @ w_o, np.stack(weights, axis=1)


def wrapper_heads_reversed(x, heads, w_o, causal=True):
    """Heads concatenated last to first."""
    return _heads(x, heads, w_o, causal, merge=_merge_reversed)


def wrapper_no_mask(x, heads, w_o, causal=True):
    return _heads(x, heads, w_o, causal, offset=NO_MASK)


def mha_heads_reversed(x, heads, w_o, causal=True):
    return _heads(x, heads, w_o, causal, merge=_merge_reversed)


def mha_heads_interleaved(x, heads, w_o, causal=True):
    """Merged as (B, T, d_k, H) -> (B, T, H*d_k): heads woven column by column."""
    return _heads(x, heads, w_o, causal, merge=_merge_interleaved)


def mha_no_mask(x, heads, w_o, causal=True):
    return _heads(x, heads, w_o, causal, offset=NO_MASK)




# ------------------------------------------------------------ embeddings and the model
def embed_no_positions(token_ids, token_table, position_table):
    """Only the token embedding: the model cannot tell positions apart."""
    return token_table[token_ids]


def embed_positions_by_token(token_ids, token_table, position_table):
    """position_table[token_ids]: the position table indexed by token id, not by position."""
    return token_table[token_ids] + position_table[token_ids]


def _lm(token_ids, p, *, embed_fn=embed, final_softmax=True, ln=layer_norm, **block):
    x = embed_fn(token_ids, p["token_table"], p["position_table"])
    x, weights = _block(x, p, True, ln=ln, **block)
    logits = ln(x, p["lnf_gamma"], p["lnf_beta"]) @ p["w_out"] + p["b_out"]
    return (softmax(logits, axis=-1) if final_softmax else logits), weights


def lm_mask_sees_next(token_ids, params):
    return _lm(token_ids, params, offset=SEES_NEXT)


def lm_mask_excludes_self(token_ids, params):
    return _lm(token_ids, params, offset=EXCLUDES_SELF)


def lm_no_mask(token_ids, params):
    return _lm(token_ids, params, offset=NO_MASK)


def lm_ln_wrong_axis(token_ids, params):
    return _lm(token_ids, params, ln=layer_norm_wrong_axis)


def lm_ln_unbiased(token_ids, params):
    return _lm(token_ids, params, ln=layer_norm_unbiased)


def lm_post_ln(token_ids, params):
    return _lm(token_ids, params, post_ln=True)


def lm_relu_after_output(token_ids, params):
    return _lm(token_ids, params, ff=feed_forward_relu_after_output)


def lm_relu_before_bias(token_ids, params):
    return _lm(token_ids, params, ff=feed_forward_relu_before_bias)


def lm_no_positions(token_ids, params):
    return _lm(token_ids, params, embed_fn=embed_no_positions)


def lm_positions_by_token(token_ids, params):
    return _lm(token_ids, params, embed_fn=embed_positions_by_token)


def lm_no_softmax(token_ids, params):
    """The logits returned as they are: no softmax over the vocabulary."""
    return _lm(token_ids, params, final_softmax=False)
