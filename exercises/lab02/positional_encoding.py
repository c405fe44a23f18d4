"""Lab 02, part 2: sinusoidal positional encoding ("Attention Is All You Need", section 3.5).

Run me as a script to try your function: ``python positional_encoding.py``.
"""

import numpy as np


def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    """One d_model-wide vector per position, in the paper's interleaved layout.

        PE[pos, 2i]     = sin(pos / base^(2i / d_model))
        PE[pos, 2i + 1] = cos(pos / base^(2i / d_model))

    Column pairs (2i, 2i+1) share one frequency. An odd d_model works: the
    last column is a sine. Positions count from 0.

    Shapes:
        seq_len: int T; d_model: int D; base: float
        returns: (T, D)
    """
    # TODO: one angle per (position, column pair), then sin on even and cos on odd columns
    # (about 5 lines)
    raise NotImplementedError("sinusoidal_positional_encoding: your code here")


if __name__ == "__main__":
    print(sinusoidal_positional_encoding(4, 6).round(3))
