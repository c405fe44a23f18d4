"""Hostile: patches pytest and drops a conftest.py that turns failures into passes."""

import numpy as np
try:
    import pytest
    pytest.approx = lambda *a, **k: a[0]
except ImportError:
    pass
def softmax(x, axis=-1):
    return np.zeros_like(x)
