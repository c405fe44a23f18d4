import numpy as np
from softmax import softmax


def scaled_dot_product_attention(q, k, v, mask=None):
    return None
