"""Hostile: reads the grader's memory and environment through /proc."""

import os
def softmax(x, axis=-1):
    with open(f'/proc/{os.getppid()}/stat') as f:
        grader = int(f.read().rsplit(')', 1)[1].split()[1])
    with open(f'/proc/{grader}/environ', 'rb') as f:
        f.read()
