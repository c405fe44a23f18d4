"""Lab 04, part 5: a whole (tiny) attention language model.

    token ids (B, T) -> embed -> one transformer block -> final LayerNorm
                     -> output layer -> softmax over the vocabulary (B, T, V)

Position t of the output is a distribution over the next token, computed from
tokens 0..t only (the block's attention is causal).

Run me as a script to try it: ``python model.py``.
"""

import numpy as np
from attention_loops import softmax
from block import layer_norm, transformer_block


def embed(token_ids, token_table, position_table):
    """Token embedding plus position embedding.

    x[b, t] = token_table[token_ids[b, t]] + position_table[t]

    Shapes:
        token_ids: (B, T) integers in [0, V); token_table: (V, D); position_table: (T_max, D), T <= T_max
        returns: (B, T, D)
    """
    T = token_ids.shape[-1]
    return token_table[token_ids] + position_table[token_ids]


def lm_forward(token_ids, params):
    """Next-token probabilities of a one-block language model.

    1) x = embed(token_ids, params["token_table"], params["position_table"])
    2) x, weights = transformer_block(x, params)   (causal)
    3) x = layer_norm(x, params["lnf_gamma"], params["lnf_beta"])
    4) logits = x params["w_out"] + params["b_out"]; 5) probs = softmax over the vocabulary

    Shapes:
        token_ids: (B, T); params: the block's keys (see transformer_block) and
        token_table (V, D), position_table (T_max, D), lnf_gamma, lnf_beta (D,),
        w_out (D, V), b_out (V,)
        returns: probs (B, T, V), each row summing to 1; weights (B, T, T) of the block
    """
    x = embed(token_ids, params["token_table"], params["position_table"])  # (B, T, D)
    x, weights = transformer_block(x, params, causal=True)  # (B, T, D), (B, T, T)
    x = layer_norm(x, params["lnf_gamma"], params["lnf_beta"])  # (B, T, D)
    logits = x @ params["w_out"] + params["b_out"]  # (B, T, V)
    return softmax(logits, axis=-1), weights  # (B, T, V), (B, T, T)


def random_block_params(d_model, d_head, d_ff, rng):
    """Seeded parameters of a block (for random_lm_params)."""
    def normal(*shape):
        return rng.normal(size=shape) / np.sqrt(shape[0])

    return {
        "ln1_gamma": np.ones(d_model), "ln1_beta": np.zeros(d_model),
        "ln2_gamma": np.ones(d_model), "ln2_beta": np.zeros(d_model),
        "w_q": normal(d_model, d_head), "w_k": normal(d_model, d_head),
        "w_v": normal(d_model, d_head), "w_o": normal(d_head, d_model),
        "w1": normal(d_model, d_ff), "b1": np.zeros(d_ff),
        "w2": normal(d_ff, d_model), "b2": np.zeros(d_model),
    }


def random_lm_params(vocab, max_len, d_model, d_head, d_ff, seed=0):
    """Seeded parameters of the whole model (untrained: your own experiments)."""
    rng = np.random.default_rng(seed)
    params = random_block_params(d_model, d_head, d_ff, rng)
    params.update(
        token_table=rng.normal(size=(vocab, d_model)),
        position_table=rng.normal(size=(max_len, d_model)) * 0.5,
        lnf_gamma=np.ones(d_model), lnf_beta=np.zeros(d_model),
        w_out=rng.normal(size=(d_model, vocab)) / np.sqrt(d_model), b_out=np.zeros(vocab),
    )
    return params


if __name__ == "__main__":
    ids = np.array([[0, 1, 2, 3, 0, 4]])  # (B, T)
    probs, weights = lm_forward(ids, random_lm_params(vocab=5, max_len=8, d_model=8, d_head=4, d_ff=16))
    print("probs (B, T, V):", probs.shape, " rows sum to", probs.sum(-1).round(6))
