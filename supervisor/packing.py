"""Packing: how many of a pool's local workers take new requests.

Spreading short requests over every worker costs a quarter more CPU per request than giving
them to as few workers as keep up (docs/performance.md): each worker wakes, pumps its isolate
and sends for fewer requests at a time. So the pool gives new requests to its first
``in_use`` slots only (the one with the fewest streams, as before), and :class:`Packer` sets
``in_use`` from how busy those workers are. A worker's *busy share* is the share of a core its
busiest thread used since the last sample (read from the kernel every ``INTERVAL`` s): the
event loop's thread for short requests, V8's for heavy handlers; a whole process's CPU would
not tell a worker carrying many short requests with room to spare from one stuck in a loop.

* When every worker in use is busier than ``HOT``, the next slot comes in at once (so a
  worker stuck in a handler that loops gets a neighbour within ``INTERVAL``).
* When the ones in use would fit in one fewer at ``COOL`` each, ``SHRINK_AFTER`` samples in a
  row, the last one takes no new requests (it finishes the ones it has).

Slots out of use stay ready: a request takes one when the slots in use are all full
(``max_concurrent``) or not ready. Where the kernel does not give per-thread CPU time
(``/proc/PID/task/TID/schedstat``: Linux), or with ``pack = false``, the pool spreads over
every worker.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

INTERVAL = 0.1  # seconds between samples
HOT = 0.5  # a worker whose busiest thread runs this share of a core wants a neighbour
COOL = 0.35  # the ones in use fit in one fewer at this share each: one fewer is a candidate
SHRINK_AFTER = 10  # ... for this many samples in a row

Threads = dict[str, int]  # thread id -> CPU ns


def thread_cpu(pid: int) -> Threads | None:
    """The CPU time of each thread of ``pid`` in ns (schedstat's first field); None if the
    process is gone or the kernel does not say."""
    tasks = f"/proc/{pid}/task"
    out: Threads = {}
    try:
        tids = os.listdir(tasks)
    except OSError:
        return None
    for tid in tids:
        try:
            fd = os.open(f"{tasks}/{tid}/schedstat", os.O_RDONLY)
        except OSError:
            continue  # the thread ended meanwhile
        try:
            out[tid] = int(os.read(fd, 64).split(None, 1)[0])
        except (OSError, ValueError, IndexError):
            pass
        finally:
            os.close(fd)
    return out or None


def supported() -> bool:
    """Does this kernel give per-thread CPU time?"""
    return thread_cpu(os.getpid()) is not None


class Packer:
    """How many slots take new requests, from how busy the ones in use are."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.in_use = 1
        self._cool = 0  # samples in a row that would fit in one fewer
        self._seen: dict[int, tuple[Threads, float]] = {}  # pid -> its last reading, when

    def sample(self, pids: Sequence[int | None], now: float) -> None:
        """Read the workers in use (``pids``, None for an empty slot) and update."""
        busy: list[float | None] = []
        seen: dict[int, tuple[Threads, float]] = {}
        for pid in pids:
            threads = thread_cpu(pid) if pid is not None else None
            last = self._seen.get(pid) if pid is not None else None
            if pid is not None and threads is not None:
                seen[pid] = (threads, now)
            if threads is None or last is None or now <= last[1]:
                busy.append(None)
                continue
            before, then = last
            busiest = max(used - before.get(tid, used) for tid, used in threads.items())
            busy.append(busiest / 1e9 / (now - then))
        self._seen = seen
        self.update(busy)

    def rest(self) -> None:
        """A sample while the workers in use have nothing in flight: no reading (the /proc
        reads are the sample's cost, and an idle pool has nothing to decide but shrinking)."""
        self._seen = {}
        self.update([0.0] * self.in_use)

    def update(self, busy: Sequence[float | None]) -> None:
        """One sample: each worker in use's busy share since the last (None: not known yet,
        or no worker in the slot)."""
        known = [b for b in busy if b is not None]
        if len(known) == len(busy) and all(b >= HOT for b in known):
            self.in_use = min(self.slots, self.in_use + 1)
            self._cool = 0
        elif self.in_use > 1 and sum(known) <= COOL * (self.in_use - 1):
            self._cool += 1
            if self._cool >= SHRINK_AFTER:
                self.in_use -= 1
                self._cool = 0
        else:
            self._cool = 0
