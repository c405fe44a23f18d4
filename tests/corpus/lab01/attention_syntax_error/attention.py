import numpy as np


def scaled_dot_product_attention(q, k, v, mask=None)
    return q
