"""The measures of bench/compare: wrk for hello-world, curl for bulk bodies, a raw socket for
time to first byte, and /proc sampling for the memory and CPU of a process tree."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # bench/compare reuses tests/procstats.py and processes.py

from tests.procstats import descendants, pss, rss  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- processes (their trees and RSS: tests/procstats.py) --------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, in seconds (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_label(pid: int) -> str:
    """A short name for a process: its command name plus the isoflow role if it has one."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    args = [a.decode(errors="replace") for a in argv if a]
    if any("isolate_worker" in a or a.endswith("supervisor.launch") for a in args):
        return "isoflow worker"
    if any("supervisor" in a or a.endswith("/isoflow") for a in args):
        return "isoflow supervisor"
    return comm


def tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in descendants(pid))


@dataclass
class TreeMemory:
    """Idle and peak RSS of every process of one runtime (the tree below its root pid)."""

    idle: dict[int, int] = field(default_factory=dict)
    idle_pss: dict[int, int] = field(default_factory=dict)
    peak: dict[int, int] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)

    @property
    def idle_total(self) -> int:
        return sum(self.idle.values())

    @property
    def idle_pss_total(self) -> int:
        return sum(self.idle_pss.values())

    @property
    def peak_total(self) -> int:
        """The peak of the sum, approximated by the sum of each process's peak."""
        return sum(self.peak.values())

    def breakdown(self) -> str:
        return ", ".join(
            f"{self.labels.get(p, p)} {self.idle.get(p, 0) / 2**20:.0f}→{peak / 2**20:.0f} MiB"
            for p, peak in self.peak.items()
        )


class TreeSampler:
    """Samples the RSS of a process tree every ``interval`` s until stopped; new processes
    (a respawned worker) are picked up every ``rescan`` s."""

    def __init__(self, pid: int, interval: float = 0.01, rescan: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.rescan = rescan
        self.memory = TreeMemory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def snapshot_idle(self) -> None:
        for p in descendants(self.pid):
            self.memory.labels[p] = process_label(p)
            self.memory.idle[p] = self.memory.peak[p] = rss(p)
            self.memory.idle_pss[p] = pss(p)

    def _run(self) -> None:
        pids: list[int] = []
        next_scan = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_scan:
                pids = descendants(self.pid)
                for p in pids:
                    self.memory.labels.setdefault(p, process_label(p))
                next_scan = now + self.rescan
            for p in pids:
                value = rss(p)
                if value > self.memory.peak.get(p, 0):
                    self.memory.peak[p] = value
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- hello-world with wrk ---------------------------------------------------------------

@dataclass
class WrkResult:
    requests_per_s: float
    p99_ms: float
    requests: int
    errors: int


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk(url: str, duration: float, threads: int = 2, connections: int = 50) -> WrkResult:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency", url],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    if not (rate and p99 and total):
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return WrkResult(float(rate.group(1)), _ms(*p99.groups()), int(total.group(1)), errors)


# --- bulk bodies with curl --------------------------------------------------------------

def download_rate(url: str, expected: int, timeout: float = 120) -> float:
    """Reads the body of ``url`` with curl into /dev/null; returns MB/s (10^6 bytes)."""
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "--max-time", f"{timeout:g}",
         "--speed-limit", "1024", "--speed-time", "10",
         "-w", "%{http_code} %{size_download} %{time_total}", url],
        capture_output=True, text=True, timeout=timeout + 10,
    )
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 3 or parts[0] != "200" or int(parts[1]) != expected:
        raise RuntimeError(f"download of {url} failed: {out.stdout!r} {out.stderr.strip()!r} "
                           f"(expected 200 and {expected} bytes)")
    return int(parts[1]) / float(parts[2]) / 1e6


# --- time to first byte with a raw socket -----------------------------------------------

@dataclass
class FirstByte:
    ttfb_ms: float  # request sent -> first byte of the body
    total_ms: float  # request sent -> end of the body


def first_byte(url: str, timeout: float = 15) -> FirstByte:
    """GETs ``url`` over a fresh connection and times the first *body* byte (not the head):
    a runtime that sends its head early but holds the first chunk back is caught."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.perf_counter()
        sock.sendall(request)
        data = b""
        first = None
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if first is None and _has_body_byte(data):
                first = time.perf_counter()
        end = time.perf_counter()
    head = data.split(b"\r\n", 1)[0]
    if first is None or b" 200 " not in head + b" ":
        raise RuntimeError(f"no body from {url}: {data[:200]!r}")
    return FirstByte((first - start) * 1e3, (end - start) * 1e3)


def _has_body_byte(data: bytes) -> bool:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head, body = data[:end].lower(), data[end + 4:]
    if b"transfer-encoding: chunked" not in head:
        return len(body) > 0
    line_end = body.find(b"\r\n")  # "<size>\r\n<data>": a byte past the size line
    return line_end >= 0 and len(body) > line_end + 2


def median(values: list[float]) -> float:
    return statistics.median(values)
