"""The entropy pool behind ``crypto.getRandomValues`` (the protocol is in js/35_crypto.js).

Kept apart from :mod:`.crypto_ops` so that a worker does not import the ``cryptography``
package until a script first uses ``crypto.subtle``.
"""

from __future__ import annotations

import os

POOL_HEADER = 64  # bytes before the two halves: Int32 flags, one per half
POOL_EMPTY, POOL_FULL = 0, 1


class EntropyPool:
    """Python's side of the isolate's entropy pool (protocol: js/35_crypto.js).

    The pool is a SharedArrayBuffer: a header of Int32 flags, then two halves of random
    bytes. JS reads only halves flagged full and flags each empty once it has used it up;
    Python (here, before every pump) writes only halves flagged empty: first the bytes,
    then the flag. So no byte is ever touched by both sides at once. (Python has no atomic
    stores: the bytes and the flag are two plain stores, which x86-64's total store order
    keeps in order as V8's thread sees them; JS reads the flag with Atomics.load.)
    """

    def __init__(self, buffer: memoryview) -> None:
        self.buf = buffer.cast("B") if buffer.format != "B" else buffer
        self.flags = self.buf[:8].cast("i")
        self.half = (len(self.buf) - POOL_HEADER) // 2
        self.refills = 0
        self.refill()

    def refill(self) -> None:
        for h in (0, 1):
            if self.flags[h] == POOL_EMPTY:
                start = POOL_HEADER + h * self.half
                self.buf[start : start + self.half] = os.urandom(self.half)
                self.flags[h] = POOL_FULL  # after the bytes: JS may read them from now on
                self.refills += 1
