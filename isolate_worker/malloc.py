"""glibc's malloc, tuned for a process that streams: freed body buffers are kept for reuse.
Workers apply it at start, and so do the fronts (big bodies and WebSocket messages pass
through them as Python bytes: 1 MiB messages faulted their pages in anew each time).

Every body chunk a worker sends is copied into a ZeroMQ message (malloc'd up to 1 MiB,
freed by ZeroMQ's I/O thread once sent). glibc's defaults map such a block on its own and
trim the heap whenever 2 MiB at its top are free, so each message's pages were faulted in
anew: 273 page faults per MB of a generated body (bench/compare's ``/generate``), about
half of all the worker's faults. Serving blocks below ``MMAP_THRESHOLD`` from the heap and
trimming it only past ``TRIM_THRESHOLD`` keeps those pages mapped; a worker keeps at most
that much freed memory resident.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("isoflow.worker")

MMAP_THRESHOLD = 4 << 20
TRIM_THRESHOLD = 16 << 20
_M_TRIM_THRESHOLD = -1  # malloc.h
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Apply the thresholds; False where the C library has no ``mallopt`` (not glibc)."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
    if not done:
        log.debug("mallopt refused the thresholds")
    return done
