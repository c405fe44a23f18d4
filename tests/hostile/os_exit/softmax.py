"""Hostile: os._exit(0) inside the function: the process ends, a fresh one grades the rest."""

import os
def softmax(x, axis=-1):
    os._exit(0)
