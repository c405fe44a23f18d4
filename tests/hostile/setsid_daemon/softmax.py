"""Hostile: a double-fork setsid daemon and a start_new_session subprocess, then a right answer."""

import os, subprocess, sys, time, numpy as np

def _good(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
def softmax(x, axis=-1):
    p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)
    print('DAEMON', p.pid, flush=True)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            print('DAEMON', os.getpid(), flush=True)
            time.sleep(600)
        os._exit(0)
    time.sleep(0.2)
    return _good(x, axis)
