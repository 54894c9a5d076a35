"""Helpers shared by the benchmarks: run isoflow and the upstream in the background, sample
memory."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # benches reuse tests/upstream.py, procstats.py, processes.py

from tests.processes import ISOFLOW, free_port, serving, stop_servers_on_sigterm  # noqa: E402
from tests.procstats import RssSampler  # noqa: E402

stop_servers_on_sigterm()  # every bench imports this module, and must not leave servers behind

__all__ = ["ISOFLOW", "REPO", "RssSampler", "download", "free_port", "isoflow", "serving",
           "upstream"]


@contextlib.contextmanager
def isoflow(source: str, *args: str, workers: int = 2, name: str = "bench.mjs") -> Iterator[dict]:
    """Serve ``source`` on a free port; yields {'url', 'pid', 'log'} and stops it after."""
    tmp = Path(tempfile.mkdtemp(prefix="isoflow-bench-"))
    script = tmp / name
    script.write_text(source)
    port = free_port()
    with serving([*ISOFLOW, "serve", str(script), "--port", str(port), "--workers", str(workers),
                  "--log-level", "WARNING", *args], port, tmp / "log.txt") as server:
        time.sleep(0.3)
        yield {"url": f"http://127.0.0.1:{port}", "pid": server.pid, "log": server.log_path}


@contextlib.contextmanager
def upstream() -> Iterator[str]:
    """bench/compare/upstream.py (``GET /bytes?n=N``) in a process of its own; yields its URL."""
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="isoflow-bench-")) / "upstream.log"
    with serving([sys.executable, str(REPO / "bench" / "compare" / "upstream.py"),
                  "--port", str(port)], port, log):
        yield f"http://127.0.0.1:{port}"


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
