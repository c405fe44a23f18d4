"""Hostile: reads the reference solution at the grader's own path and calls it."""

from pathlib import Path

import numpy as np

KIT_ROOT = Path("@KIT_ROOT@")  # where the grader lives (the test writes it in)


def softmax(x, axis=-1):
    source = (KIT_ROOT / 'solutions' / 'lab01' / 'softmax.py').read_text()
    scope = {}
    exec(source, scope)
    return scope['softmax'](x, axis)
