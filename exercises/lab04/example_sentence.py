"""The example sentence of lab04. Generated from the lab spec: do not edit."""

import numpy as np

TOKENS = ["The", "animal", "didn't", "cross", "the", "street", "because", "it", "was", "too", "tired"]
TOKEN_IDS = np.array([[0, 1, 2, 3, 0, 4, 5, 6, 7, 8, 9]], dtype="int64")
