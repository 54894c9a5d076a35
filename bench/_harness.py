"""Helpers shared by the benchmarks: run isoflow in the background, sample memory."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # benches reuse tests/upstream.py


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def isoflow(source: str, *args: str, workers: int = 2, name: str = "bench.mjs") -> Iterator[dict]:
    """Serve ``source`` on a free port; yields {'url', 'pid', 'log'} and stops it after."""
    tmp = Path(tempfile.mkdtemp(prefix="isoflow-bench-"))
    script = tmp / name
    script.write_text(source)
    port = free_port()
    log = tmp / "log.txt"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "isoflow.supervisor", "serve", str(script), "--port", str(port),
             "--workers", str(workers), "--log-level", "WARNING", *args],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", port), 0.2
                ):
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"isoflow did not start:\n{log.read_text()}")
                time.sleep(0.05)
            time.sleep(0.3)
            yield {"url": f"http://127.0.0.1:{port}", "pid": proc.pid, "log": log}
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def rss(pid: int) -> int:
    """Resident set size in bytes (0 if the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(r"VmRSS:\s+(\d+) kB", text)
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

    def report(self) -> str:
        parts = []
        for i, p in enumerate(self.pids):
            name = "supervisor" if i == 0 else f"worker{i}"
            parts.append(f"{name} {self.peak[p] / 2**20:.0f} MB "
                         f"(+{(self.peak[p] - self.baseline[p]) / 2**20:.1f})")
        return ", ".join(parts)
