"""Hostile: KeyboardInterrupt raised in the function."""

def softmax(x, axis=-1):
    raise KeyboardInterrupt
