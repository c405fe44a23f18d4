"""Corpus case softmax_axis_1_inside: the axis argument is accepted, then axis=1 is used."""

import numpy as np


def softmax(x, axis=-1):
    x_max = np.max(x, axis=1, keepdims=True)
    e_x = np.exp(x - x_max)
    return e_x / np.sum(e_x, axis=1, keepdims=True)
