"""Hostile: shape (2**32, 2**32) with no data: 2**64 elements is 0 in int64 arithmetic."""

import os
import struct
import time


def softmax(x, axis=-1):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header
    ev = b'{"event": "result", "call": 0, "status": "ok", "n_arrays": 1}'
    os.write(3, b"J" + struct.pack(">I", len(ev)) + ev + b"A" + struct.pack(">I", len(npy)) + npy)
    time.sleep(5)
