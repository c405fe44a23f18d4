"""Hostile: fills the disk with many files, each under the file size limit."""

import time
def softmax(x, axis=-1):
    for n in range(200):  # 200 x 4 MiB at most, stopped by the disk quota
        with open(f'part{n}.bin', 'wb') as f:
            f.write(bytes(4 * 1024 * 1024))
        time.sleep(0.02)
