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


def role(pid: int) -> str:
    """What an isoflow process is, from its command line: "zygote", "worker", "prebuild" or
    "supervisor" (a front, or anything else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "gone"
    if b"isolate_worker.zygote" in cmdline:
        return "zygote"
    if b"isolate_worker.prebuild" in cmdline:
        return "prebuild"
    if b"isolate_worker" in cmdline:
        return "worker"
    return "supervisor"


class RssSampler:
    """Samples the RSS of a process and every process below it (its zygote and workers: a
    worker is the zygote's child) every few ms; keeps baseline and peak."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.pids = [pid, *sorted(descendants(pid)[1:])]
        self.names = self._name(self.pids)
        self.baseline = {p: rss(p) for p in self.pids}
        self.peak = dict(self.baseline)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _name(pids: list[int]) -> dict[int, str]:
        """supervisor, zygote, worker1, worker2, ... (``pids``: the sampled one first, then
        in pid order)."""
        names: dict[int, str] = {}
        counts: dict[str, int] = {}
        for p in pids:
            kind = "supervisor" if p == pids[0] else role(p)
            counts[kind] = counts.get(kind, 0) + 1
            numbered = kind in ("worker", "supervisor") and p != pids[0]
            names[p] = f"{kind}{counts[kind]}" if numbered or kind == "worker" else kind
        return names

    @property
    def workers(self) -> list[int]:
        """The isolate workers sampled."""
        return [p for p in self.pids if self.names[p].startswith("worker")]

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
        """Each process's peak over its baseline in MiB, by name: supervisor, zygote,
        worker1, ..."""
        return {self.names[p]: (self.peak[p] - self.baseline[p]) / 2**20 for p in self.pids}

    def report(self) -> str:
        growth = self.growth_mb()
        return ", ".join(f"{self.names[p]} {self.peak[p] / 2**20:.0f} MB "
                         f"(+{growth[self.names[p]]:.1f})" for p in self.pids)
