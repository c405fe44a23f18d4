"""Hostile: reads the reference solution through the grader's package and calls it."""

import numpy as np
from attn_grade.reference import KIT_ROOT
def softmax(x, axis=-1):
    source = (KIT_ROOT / 'solutions' / 'lab01' / 'softmax.py').read_text()
    scope = {}
    exec(source, scope)
    return scope['softmax'](x, axis)
