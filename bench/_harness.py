"""Helpers shared by the benchmarks: run isoflow and the upstream in the background, sample
memory."""

from __future__ import annotations

import contextlib
import os
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
def isoflow(source: str, *args: str, workers: int = 2, name: str = "bench.mjs",
            env: dict[str, str] | None = None) -> Iterator[dict]:
    """Serve ``source`` on a free port (``env``: extra environment); yields {'url', 'pid',
    'log'} and stops it after."""
    with tempfile.TemporaryDirectory(prefix="isoflow-bench-") as directory:
        tmp = Path(directory)
        script = tmp / name
        script.write_text(source)
        port = free_port()
        with serving([*ISOFLOW, "serve", str(script), "--port", str(port), "--workers",
                      str(workers), "--log-level", "WARNING", *args], port, tmp / "log.txt",
                     env={**os.environ, **(env or {})}) as server:
            time.sleep(0.3)
            yield {"url": f"http://127.0.0.1:{port}", "pid": server.pid,
                   "log": server.log_path}


@contextlib.contextmanager
def upstream(tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """bench/compare/upstream.py (``GET /bytes?n=N``) in a process of its own, over HTTPS
    with ``tls`` (certificate, key); yields its URL."""
    port = free_port()
    extra = ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])] if tls else []
    with tempfile.TemporaryDirectory(prefix="isoflow-bench-") as directory, \
            serving([sys.executable, str(REPO / "bench" / "compare" / "upstream.py"),
                     "--port", str(port), *extra], port, Path(directory) / "upstream.log"):
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"


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
