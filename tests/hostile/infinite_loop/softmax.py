"""Hostile: while True: pass (the per-test limit, then a fresh child)."""

def softmax(x, axis=-1):
    while True:
        pass
