"""Hostile: a hand-made .npy header claiming a (10**12, 10**12) array."""

import os, struct
def softmax(x, axis=-1):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }"
    npy = b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header
    ev = b'{"event": "result", "call": 0, "status": "ok", "n_arrays": 1}'
    os.write(3, b'J' + struct.pack('>I', len(ev)) + ev + b'A' + struct.pack('>I', len(npy)) + npy)
    import time; time.sleep(5)
