"""Hostile: writes one endless file."""

def softmax(x, axis=-1):
    with open('big.bin', 'wb') as f:
        for _ in range(1000):  # 1000 MiB at most, stopped at the file size limit
            f.write(bytes(1024 * 1024))
