"""Helpers shared by the benchmarks: run isoflow in the background, sample memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # benches reuse tests/upstream.py and tests/procstats.py

from tests.procstats import RssSampler, children, rss  # noqa: E402

__all__ = ["REPO", "RssSampler", "children", "download", "free_port", "isoflow", "rss",
           "wait_port"]


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


def wait_port(port: int, timeout: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def download(url: str) -> tuple[int, float]:
    """GET ``url`` and read the body as it comes (undecoded); (bytes, seconds)."""
    import aiohttp

    async with aiohttp.ClientSession(auto_decompress=False) as s:
        start = time.perf_counter()
        total = 0
        async with s.get(url) as r:
            async for data in r.content.iter_any():
                total += len(data)
        return total, time.perf_counter() - start
