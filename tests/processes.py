"""Processes the tests and the benches start: an isoflow command run to completion, a free port,
and a command in a session of its own with its output in a log file, stopped with whatever it
left in its process group (a worker that outlived its supervisor is a bug, but is never left
running)."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

ISOFLOW = [sys.executable, "-m", "isoflow.supervisor"]


def isoflow(*args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    """Run an ``isoflow`` subcommand to completion."""
    return subprocess.run([*ISOFLOW, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def stop_servers_on_sigterm() -> None:
    """For scripts (the benches): make SIGTERM (``timeout``, a CI runner) end the script with
    SystemExit, so that every ``serving`` block stops what it started. Python's default
    SIGTERM ends at once, leaving the servers, each in a session of its own, running."""
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


def _ephemeral_low() -> int:
    """The first port of the kernel's range for outgoing connections' local ports."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _port_range() -> range:
    """This process's share of the ports below the ephemeral range: test processes run in
    parallel (pytest-xdist's workers), and each has its own slice, so that none picks a port
    another has just checked free and is about to bind."""
    ports = range(20000, max(_ephemeral_low(), 21000))
    worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker is None or count <= 1:
        return ports
    return ports[int(worker.group(1)) % count::count]


_PORTS = _port_range()
_given: set[int] = set()  # handed out by this process; not handed out again soon


def free_port() -> int:
    """A port nothing is bound to, for a server started next. Chosen below the kernel's
    ephemeral range: a port from ``bind(0)`` is in it, and any outgoing connection (a test's
    client, a worker's fetch) may take it as its own local port before the server binds it
    (EADDRINUSE, seen about once in ten suite runs). Random within this process's share (see
    :func:`_port_range`), never one it gave out recently (two ports asked for one server
    must differ though neither is bound yet), and checked by binding it."""
    rng = random.SystemRandom()
    if len(_given) > len(_PORTS) // 2:
        _given.clear()
    for _ in range(200):
        port = rng.choice(_PORTS)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    with socket.socket() as s:  # the range is full: any free port
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoggedProcess:
    """A command in a session of its own, stdout and stderr in ``log_path``. The isoflow
    supervisors among them also have ``wait_serving`` and ``worker_pids``."""

    wait_timeout = 15.0  # wait_log's default
    stop_timeout = 20.0  # stop's default

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def spawn(self, args: list[str], **popen) -> Self:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, **popen)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float | None = None,
                 count: int = 1) -> list[re.Match]:
        """Wait until ``pattern`` is in the log ``count`` times; its matches."""
        assert self.proc is not None
        deadline = time.monotonic() + (self.wait_timeout if timeout is None else timeout)
        while True:
            code = self.proc.poll()  # before reading: an exited process's log is complete
            found = list(re.finditer(pattern, self.log()))
            if len(found) >= count:
                return found
            if code is not None or time.monotonic() > deadline:
                exited = "" if code is None else f" (it exited with {code})"
                raise AssertionError(f"{pattern!r} not {count} times in {self.log_path.name}"
                                     f"{exited}:\n{self.log()}")
            time.sleep(0.05)

    def wait_port(self, port: int, timeout: float = 60.0) -> Self:
        """Wait until something accepts connections on 127.0.0.1:``port``; give up at once if
        the process exits first, saying why with the end of its log."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                return self
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.proc.args[0]} did not start listening on {port}:\n"
                                   f"{self.log()[-3000:]}")
            time.sleep(0.05)

    def wait_serving(self, timeout: float = 60.0) -> Self:
        """Wait for the supervisor's "isoflow serving" line; stopped if it does not come."""
        try:
            self.wait_log("isoflow serving", timeout)
        except AssertionError:
            self.stop()
            raise
        return self

    def worker_pids(self) -> dict[str, int]:
        """The latest pid of each worker name ('w0', 'api/w1'), from the 'ready' lines."""
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"([\w/-]*w\d+) ready \(pid (\d+)\)", self.log())}

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float | None = None) -> int | None:
        """Send ``sig`` and wait (SIGKILL after ``timeout`` s), then SIGKILL whatever is left
        in the process group."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
            try:
                self.proc.wait(self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        return self.proc.returncode


@contextlib.contextmanager
def serving(args: list[str], port: int, log_path: Path, timeout: float = 60.0,
            **popen) -> Iterator[LoggedProcess]:
    """Runs ``args`` until the block ends (then stops it); yields once it listens on
    127.0.0.1:``port``."""
    server = LoggedProcess(log_path).spawn(args, **popen)
    try:
        yield server.wait_port(port, timeout)
    finally:
        server.stop()


def wait_until(predicate, timeout: float = 15.0) -> None:
    """Poll ``predicate`` every 0.05 s until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
