"""Process trees and their memory, from /proc: for the tests and the benches."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path


def children(pid: int) -> list[int]:
    """The direct children of ``pid``, from /proc/PID/task/*/children."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError, ValueError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children(p)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def rss(pid: int) -> int:
    """Resident set size in bytes (0 if the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(m.group(1)) * 1024 if m else 0


def pss(pid: int) -> int:
    """Proportional set size in bytes: pages shared with N processes count 1/N (0 if the
    process is gone). Summed over processes it is their real footprint, as RSS is not."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    m = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) * 1024 if m else 0


class RssSampler:
    """Samples the RSS of a process and its children every few ms; keeps baseline and peak."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.pids = [pid, *children(pid)]
        self.baseline = {p: rss(p) for p in self.pids}
        self.peak = dict(self.baseline)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for p in self.pids:
                self.peak[p] = max(self.peak[p], rss(p))
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def growth_mb(self) -> dict[str, float]:
        """Each process's peak over its baseline in MiB, by name: supervisor, worker1, ..."""
        names = ["supervisor", *(f"worker{i}" for i in range(1, len(self.pids)))]
        return {name: (self.peak[p] - self.baseline[p]) / 2**20
                for name, p in zip(names, self.pids, strict=True)}

    def report(self) -> str:
        growth = self.growth_mb()
        return ", ".join(f"{name} {self.peak[p] / 2**20:.0f} MB (+{growth[name]:.1f})"
                         for name, p in zip(growth, self.pids, strict=True))
