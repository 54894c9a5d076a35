"""Run the whole service: check the script, start the pool, serve HTTP, stop cleanly.

``Ctrl-C`` or SIGTERM stops accepting connections, lets in-flight requests finish for
``shutdown_grace`` seconds, stops the workers and removes the private runtime directory,
leaving no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from aiohttp import web

from .front import Front
from .pool import StartupError, WorkerPool
from .settings import Settings
from .streams import StreamTable

log = logging.getLogger("isoflow.supervisor")


async def check_script(settings: Settings) -> str | None:
    """Load the script once in a throwaway worker; the error line, or None."""
    args = [sys.executable, "-m", "isoflow.isolate_worker", "--check", str(settings.script)]
    if settings.cache_dir is not None:
        args += ["--cache-dir", str(settings.cache_dir)]
    proc = await asyncio.create_subprocess_exec(*args, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        text = err.decode("utf-8", "replace").strip()
        return text.splitlines()[-1] if text else f"the script check failed ({proc.returncode})"
    return None


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.table = StreamTable()
        self._own_runtime_dir = settings.runtime_dir is None
        self.runtime_dir = settings.runtime_dir or Path(tempfile.mkdtemp(prefix="isoflow-"))
        self.runtime_dir.chmod(0o700)
        if settings.cache_dir is None:
            settings.cache_dir = self.runtime_dir / "cache"
        self.pool = WorkerPool(settings, f"ipc://{self.runtime_dir}/workers.sock", self.table)
        self.front = Front(settings, self.pool, self.table)
        self.runner: web.ServerRunner | None = None
        self.site: web.TCPSite | None = None

    async def start(self) -> None:
        await self.pool.start()
        server = web.Server(self.front.handle, handler_cancellation=True, access_log=None)
        self.runner = web.ServerRunner(server, handle_signals=False)
        await self.runner.setup()
        self.site = web.TCPSite(self.runner, self.settings.host, self.settings.port,
                                reuse_address=True, backlog=1024)
        await self.site.start()

    @property
    def port(self) -> int:
        assert self.runner is not None
        for addr in self.runner.addresses:
            return addr[1]
        return self.settings.port

    async def stop(self) -> None:
        grace = self.settings.shutdown_grace
        if self.runner is not None:
            # Stop accepting; give in-flight requests the grace period to finish.
            await self.runner.shutdown()
            server = self.runner.server
            if server is not None:
                with contextlib.suppress(Exception):
                    await server.shutdown(grace)
        await self.pool.stop(grace)
        if self.runner is not None:
            await self.runner.cleanup()
        self.cleanup()

    def cleanup(self) -> None:
        self.pool.kill_all()
        if self._own_runtime_dir:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)


async def serve(settings: Settings) -> int:
    error = await check_script(settings)
    if error is not None:
        print(f"isoflow: {error}", file=sys.stderr)
        return 2
    service = Service(settings)
    try:
        await service.start()
    except StartupError as e:
        print(f"isoflow: {e}", file=sys.stderr)
        await service.pool.stop(0)
        service.cleanup()
        return 2
    except OSError as e:
        print(f"isoflow: cannot listen on {settings.host}:{settings.port}: {e.strerror}",
              file=sys.stderr)
        await service.pool.stop(0)
        service.cleanup()
        return 2
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("isoflow serving %s on http://%s:%d with %d workers", settings.script,
             settings.host, service.port, settings.workers)
    try:
        await stop.wait()
        log.info("shutting down")
    finally:
        await service.stop()
    return 0
