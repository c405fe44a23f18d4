"""Hostile: the one-line attack that fools nbgrader, otter and Gradescope."""

import numpy as np, numpy.testing
numpy.testing.assert_allclose = lambda *a, **k: None
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.True_
np.array_equal = lambda *a, **k: True
def softmax(x, axis=-1):
    return np.zeros_like(x)
