"""Lab 02, part 1: masks (which keys a query may look at) and a softmax that obeys them.

Every mask in this kit is boolean and means "may attend": True = keep, False = block.
Run me as a script to try your functions: ``python masks.py``.
"""

import numpy as np


def causal_mask(seq_len):
    """True where the key position <= the query position: a token sees itself and the past.

    Shapes:
        seq_len: int T
        returns: bool (T, T); row = query position, column = key position
    """
    # TODO: compare every key position with every query position (about 2 lines)
    raise NotImplementedError("causal_mask: your code here")


def padding_mask(lengths, max_len):
    """True for real tokens (position < length), False for padding.

    Shapes:
        lengths: ints (B,), the true length of each sequence in the batch
        max_len: int, the padded length
        returns: bool (B, max_len)
    """
    # TODO: compare positions 0..max_len-1 with each length (about 2 lines)
    raise NotImplementedError("padding_mask: your code here")


def masked_softmax(scores, mask):
    """Softmax over the last axis that gives exactly 0 to every masked entry.

    A row with nothing to attend to (all False) gets all zeros: never NaN,
    never a uniform row. Do not modify `scores`.

    Shapes:
        scores: (..., L, S)
        mask: bool, broadcastable to (..., L, S); True = keep
        returns: weights (..., L, S); each row sums to 1, or to 0 if fully masked
    """
    # TODO: fill with -inf, a stable softmax, then handle fully masked rows (about 7 lines)
    raise NotImplementedError("masked_softmax: your code here")


if __name__ == "__main__":
    print(causal_mask(4).astype(int))
    print(padding_mask(np.array([3, 1]), 4).astype(int))
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    print(masked_softmax(scores, np.array([[True, True, False], [False, False, False]])))
