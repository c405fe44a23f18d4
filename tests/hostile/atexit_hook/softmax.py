"""Hostile: a wrong answer plus an atexit hook that tries to rewrite results (never runs)."""

import atexit, numpy as np
atexit.register(lambda: open('/tmp/attn-grade-hostile-atexit', 'w').write('score 999'))
def softmax(x, axis=-1):
    return np.zeros_like(x)
