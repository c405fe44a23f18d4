"""Hostile: a .npy header with a dtype string numpy raises TypeError on (was a grader error)."""

import os
import struct
import time


def softmax(x, axis=-1):
    header = b"{'descr': '<i99999999999999999999999', 'fortran_order': False, 'shape': (1,), }"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b'\0' * 8
    ev = b'{"event": "result", "call": 0, "status": "ok", "n_arrays": 1}'
    os.write(3, b"J" + struct.pack(">I", len(ev)) + ev + b"A" + struct.pack(">I", len(npy)) + npy)
    time.sleep(5)
