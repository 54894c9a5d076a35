"""Shared fixtures: a real isoflow server on a free port, always stopped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.upstream import upstream  # noqa: F401 - the fixture, for every test


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(coro):
    """Run a coroutine to completion in a fresh event loop (tests are plain functions)."""
    return asyncio.run(coro)


class IsoflowServer:
    """``isoflow serve`` in its own process group, with its log captured to a file."""

    def __init__(self, script: Path, log_path: Path, *args: str, workers: int = 2) -> None:
        self.script = script
        self.port = free_port()
        self.log_path = log_path
        self.args = [
            sys.executable, "-m", "isoflow.supervisor", "serve", str(script),
            "--port", str(self.port), "--workers", str(workers), *args,
        ]
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def start(self, timeout: float = 60.0) -> IsoflowServer:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.args, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"isoflow exited with {self.proc.returncode}:\n{self.log()}")
            if "isoflow serving" in self.log():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"isoflow did not start in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern: str, timeout: float = 10.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log())
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not in the log:\n{self.log()}")

    def worker_pids(self) -> dict[str, int]:
        """The current pid of each worker slot, from the 'wN ready (pid P)' lines."""
        pids: dict[str, int] = {}
        for m in re.finditer(r"(w\d+) ready \(pid (\d+)\)", self.log()):
            pids[m.group(1)] = int(m.group(2))
        return pids

    def group_alive(self) -> bool:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Whatever is left in the group (a worker that outlived the supervisor) is a bug,
        # but never leave it running.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """``serve(js_source, *args, workers=2, name='worker.js')`` -> a started IsoflowServer."""
    servers: list[IsoflowServer] = []

    def start(source: str, *args: str, workers: int = 2, name: str = "worker.js",
              files: dict[str, str] | None = None) -> IsoflowServer:
        for rel, text in (files or {}).items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        script = tmp_path / name
        script.write_text(textwrap.dedent(source))
        server = IsoflowServer(script, tmp_path / f"isoflow-{len(servers)}.log", *args,
                               workers=workers)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
