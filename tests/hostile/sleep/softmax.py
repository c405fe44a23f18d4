"""Hostile: time.sleep(3600): RLIMIT_CPU does not stop it, the wall clock does."""

import time
def softmax(x, axis=-1):
    time.sleep(3600)
