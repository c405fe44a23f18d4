"""Hostile: sys.exit(0) inside the function."""

import sys
def softmax(x, axis=-1):
    sys.exit(0)
