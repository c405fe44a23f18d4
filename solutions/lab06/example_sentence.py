"""The example sentence of lab06. Generated from the lab spec: do not edit."""

import numpy as np

TOKENS = [".", "c", "b", "h", "a", "d", "|", "c", "b", "h", "a"]
TOKEN_IDS = np.array([[0, 4, 3, 9, 2, 5, 1, 4, 3, 9, 2]], dtype="int64")
