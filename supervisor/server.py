"""Run the whole service: check the scripts, start the pools, serve HTTP, reload, stop cleanly.

Signals:

* SIGTERM / SIGINT: stop. Listening sockets close at once, idle connections are closed,
  requests and streams in flight get ``shutdown_grace`` seconds to finish (then they are
  cancelled), the workers are stopped and the private runtime directory removed, leaving
  no process behind. systemd hears ``STOPPING=1``.
* SIGHUP (``isoflow reload``, ``systemctl reload``): re-read the config file and the
  scripts. A config or script that does not load is refused with the reasons in the log
  and the running one keeps serving. Otherwise a new pool per script is started; once all
  are ready they take every new request, and the old workers get SHUTDOWN, finish their
  streams and exit. systemd hears ``RELOADING=1`` and then ``READY=1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from isoflow import protocol as p
from isoflow.isolate_worker import heap

from . import early, logsetup, pidfile
from .admin import Admin
from .channel import Channel
from .config import ConfigError, load, make_ssl_context, script_errors
from .front import Front, FrontServer
from .fronts import ADMIN_SOCKET, FrontRole
from .handover import Handovers
from .keyfile import KeyFileError
from .metrics import Metrics, PoolSample, Snapshot, WorkerSample
from .notify import Notifier
from .pool import Registry, StartupError, WorkerPool
from .remote import RemoteLink
from .routing import Router
from .runtimedir import RuntimeDir, RuntimeDirInUse
from .scheduler import Scheduler
from .settings import DEFAULT_SCRIPT, Listener, Settings
from .streams import StreamTable, WorkerGone
from .zygote import Zygote

log = logging.getLogger("isoflow.supervisor")
http_log = logging.getLogger("isoflow.http")  # aiohttp's own messages about connections


class _BadRequestLine(logging.Filter):
    """aiohttp logs every malformed request (a 400 from its parser) with a traceback at
    ERROR. On the internet that is routine noise, so it becomes one INFO line: the client
    and the parser's reason (``bad request from 10.0.0.7: 400, Duplicate Content-Length``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            reason = (exc.message or type(exc).__name__).strip().splitlines()[0].rstrip(":")
            client = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = "bad request from %s: %d, %s", (client, exc.code, reason)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None
        return True


http_log.addFilter(_BadRequestLine())


@dataclass(frozen=True)
class Active:
    """What serves requests right now; replaced as a whole by a reload."""

    settings: Settings
    router: Router
    pools: dict[str, WorkerPool]


class _Site(web.TCPSite):
    """aiohttp's TCP site, whose TLS handshakes must end within ``handshake_timeout`` (the
    head's own timeout): asyncio's default of 60 s let a client that never finishes one hold
    its connection twelve times as long as a slow plain-HTTP head may."""

    def __init__(self, *args: Any, handshake_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handshake_timeout = handshake_timeout

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            server, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
            ssl_handshake_timeout=self._handshake_timeout if self._ssl_context else None)
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


class Service:
    def __init__(self, settings: Settings, notifier: Notifier | None = None,
                 front: FrontRole | None = None) -> None:
        self.role = front  # one front of many (fronts.py), or None: the whole service
        self.notifier = notifier or Notifier()
        self.metrics = Metrics()
        self.table = StreamTable(on_stall=self.metrics.stall)
        # Private, locked while we live; stale ones of killed supervisors are cleaned here.
        self._runtime = RuntimeDir(settings.runtime_dir)
        self.runtime_dir = self._runtime.path
        if settings.cache_dir is None:
            settings.cache_dir = self.runtime_dir / "cache"
        self.zygote = Zygote()  # forks the workers, which share its imported pages
        self.registry: Registry = {}  # the local workers, by routing id
        self.remote: RemoteLink | None = None  # the TCP link remote workers connect to
        self._serials = itertools.count(1)
        self._pool_serials = itertools.count(1)  # names each pool's pinned script
        self._may_log = logsetup.LogLimiter()
        self.channel: Channel | None = None
        self.handovers = Handovers(self.runtime_dir / "handover.sock",  # the splice relay's
                                   self._is_local_worker)
        self.active = Active(settings, Router(settings.routes), {})
        self.front = Front(lambda: self.active, self.table, self.metrics, self.handovers)
        self.scheduler = Scheduler(self.table, lambda: (self.active.settings, self.active.pools))
        self.metrics.watch(self._snapshot)
        self.runner: web.ServerRunner | None = None
        self.admin_runner: web.ServerRunner | None = None
        self._tls: dict[tuple[str, int], ssl.SSLContext] = {}  # by listener, for reloads
        self._retiring: set[asyncio.Task] = set()
        self._reloads: set[asyncio.Task] = set()
        self._reload_lock = asyncio.Lock()
        self.stopping = False
        self.pid_path: Path | None = None
        self.reload_count = 0

    @property
    def settings(self) -> Settings:
        return self.active.settings

    # -- start ----------------------------------------------------------------------------

    def _pool(self, settings: Settings, script: str) -> WorkerPool:
        assert self.channel is not None
        return WorkerPool(settings, script, self.channel, self.registry, self.table,
                          self._serials, self.metrics, self.zygote,
                          self.handovers.path if settings.relay and self.handovers.listening
                          else None,
                          self.role.snapshot(script) if self.role is not None else
                          self.runtime_dir / f"script-{next(self._pool_serials)}.pinned.json")

    async def _start_pools(self, settings: Settings) -> dict[str, WorkerPool]:
        """One started pool per script, or StartupError (and nothing left running)."""
        pools = {name: self._pool(settings, name) for name in settings.scripts}
        try:
            results = await asyncio.gather(*(pool.start() for pool in pools.values()),
                                           return_exceptions=True)
        except asyncio.CancelledError:  # stopped while starting: leave nothing behind
            await asyncio.gather(*(pool.stop(0) for pool in pools.values()))
            raise
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await asyncio.gather(*(pool.stop(0) for pool in pools.values()))
            for error in errors:
                if not isinstance(error, StartupError):
                    raise error
            raise StartupError("; ".join(str(e) for e in errors))
        return pools

    def _is_local_worker(self, pid: int) -> bool:
        return any(worker.pid == pid for worker in self.registry.values())

    def _on_frame(self, identity: bytes, frame: p.Frame) -> None:
        """A frame from a local worker: to the stream table (which hands the worker's own
        frames to its handle)."""
        worker = self.registry.get(identity)
        if worker is None:
            # Once a minute per sender: a process that floods the IPC socket under an id of
            # no worker made the loop log ~10,000 lines a second and miss real heartbeats.
            if self._may_log(identity):
                log.warning("dropped %s from unknown worker %r (its frames are logged once "
                            "a minute)", frame.TYPE.name, identity)
            return
        self.table.on_frame(worker, frame)

    # -- remote workers (remote.py) -------------------------------------------------------

    def _start_remote(self, settings: Settings) -> None:
        remote = settings.remote
        if remote is None:
            return
        try:
            self.remote = RemoteLink(remote.host, remote.port, remote.key,
                                     remote.authorized_keys, settings.heartbeat_interval,
                                     settings.heartbeat_timeout, self.table,
                                     lambda: self.active.pools, lambda: self.stopping)
        except KeyFileError as e:
            raise StartupError(f"[remote]: {e}") from None
        except zmq.ZMQError as e:
            raise OSError(e.errno, f"[remote] {remote.host}:{remote.port}: {e}") from None
        log.info("remote workers may connect to %s (%d authorized keys)", self.remote.endpoint,
                 len(self.remote.zap.keys))

    def _on_unreachable(self, identity: bytes) -> None:
        """Batched frames could not reach a worker: its streams fail (the process watcher
        or the heartbeat deals with the worker itself)."""
        worker = self.registry.get(identity)
        if worker is not None:
            self.table.fail_worker(worker, WorkerGone("The worker is not reachable."))

    async def start(self) -> None:
        settings = self.settings
        self.channel = Channel(f"ipc://{self.runtime_dir}/workers.sock", self._on_frame,
                               on_unreachable=self._on_unreachable)
        self.handovers.start()
        pools = await self._start_pools(settings)
        self.active = Active(settings, Router(settings.routes), pools)
        self._start_remote(settings)
        self.scheduler.start()
        # keepalive_timeout is aiohttp's only clock on a connection that has not sent a
        # whole request head: it bounds slow heads (slowloris) as well as idle keep-alive.
        # auto_decompress=False: the script gets the body exactly as sent, matching its
        # Content-Encoding and Content-Length headers (and no decompression bomb here).
        server = FrontServer(self.front, handler_cancellation=True, access_log=None,
                            max_line_size=settings.max_line_size,
                            max_field_size=settings.max_field_size,
                            max_headers=settings.max_headers,
                            keepalive_timeout=settings.header_timeout,
                            auto_decompress=False, logger=http_log)
        self.runner = web.ServerRunner(server, handle_signals=False,
                                       shutdown_timeout=settings.shutdown_grace)
        await self.runner.setup()
        for listener in settings.listeners:
            ssl_context = make_ssl_context(listener) if listener.tls_cert else None
            site = _Site(self.runner, listener.host, listener.port, reuse_address=True,
                         reuse_port=self.role is not None, backlog=1024,
                         ssl_context=ssl_context, handshake_timeout=settings.header_timeout)
            await site.start()
            if ssl_context is not None:
                self._tls[listener.host, listener.port] = ssl_context
        if settings.metrics is not None or self.role is not None:
            admin = Admin(self.metrics, self.readiness, self.scheduler.trigger,
                          lambda: list(self.active.settings.scripts))
            self.admin_runner = web.ServerRunner(web.Server(admin.handle, access_log=None),
                                                 handle_signals=False, shutdown_timeout=1.0)
            await self.admin_runner.setup()
            if self.role is not None:  # the main process asks, and serves the listener
                await web.UnixSite(self.admin_runner,
                                   str(self.role.directory / ADMIN_SOCKET)).start()
            else:
                assert settings.metrics is not None
                await web.TCPSite(self.admin_runner, settings.metrics.host,
                                  settings.metrics.port, reuse_address=True).start()
        self.pid_path = pidfile.location(settings)
        if self.pid_path is not None:
            pidfile.write_status(self.pid_path, 0, True, "started")
            pidfile.write(self.pid_path)

    @property
    def port(self) -> int:
        assert self.runner is not None
        for addr in self.runner.addresses:
            return addr[1]
        return self.settings.listeners[0].port

    def describe(self) -> str:
        s = self.settings
        urls = ", ".join(f"{lst.scheme}://{lst.host}:{lst.port}" for lst in s.listeners)
        if list(s.scripts) == [DEFAULT_SCRIPT]:
            spec = s.scripts[DEFAULT_SCRIPT]
            return f"{spec.path} on {urls} with {spec.workers} workers"
        workers = sum(spec.workers for spec in s.scripts.values())
        return (f"{len(s.scripts)} scripts ({', '.join(s.scripts)}) on {urls} with "
                f"{workers} workers")

    # -- state for metrics and probes --------------------------------------------------

    def _snapshot(self) -> Snapshot:
        pools = list(self.active.pools.values())
        workers = [
            WorkerSample(pool.script, w.name, w.ready and not w.stopping, len(w.streams),
                         int(w.stats.get("heap_used", 0)), int(w.stats.get("heap_total", 0)))
            for pool in pools for w in pool.workers()
        ]
        return Snapshot(workers, [PoolSample(pool.script, pool.queued, pool.in_use)
                                   for pool in pools],
                        len(self.table))

    def readiness(self) -> list[str]:
        if self.stopping:
            return ["the service is stopping"]
        active = self.active
        return [f"script {name!r} has no ready worker" for name in sorted(active.router.scripts)
                if active.pools.get(name) is None or active.pools[name].ready_count == 0]

    # -- reload ---------------------------------------------------------------------------

    def request_reload(self) -> None:
        """SIGHUP: reload in the background (reloads queue up behind each other)."""
        task = asyncio.get_running_loop().create_task(self.reload())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def reload(self) -> bool:
        """Re-read the config and the scripts and switch to them; False if refused."""
        async with self._reload_lock:
            if self.stopping:
                return False
            self.notifier.reloading()
            try:
                ok, message = await self._reload()
            except Exception as e:
                log.exception("reload failed; still serving the previous configuration")
                ok, message = False, f"reload failed: {e}"
            self.metrics.reloads.labels("ok" if ok else "refused").inc()
            self.reload_count += 1
            if self.pid_path is not None:
                pidfile.write_status(self.pid_path, self.reload_count, ok, message)
            self.notifier.ready(f"serving {self.describe()}")
            heap.thaw()  # the configuration frozen at start-up is garbage once drained
            return ok

    async def _reload(self) -> tuple[bool, str]:
        """Switch to the re-read config; (ok, what happened) for the log and `reload`."""
        old = self.active
        path = old.settings.config_path
        keep = "still serving the previous configuration"
        if path is not None:
            try:
                new = load(path).settings
            except ConfigError as e:
                for line in str(e).splitlines():
                    log.error("%s", line)
                log.error("reload refused: %s has %d problem(s); %s", path, len(e.problems),
                          keep)
                return False, f"refused, {keep}:\n{e}"
            if self.role is not None:
                self.role.shape(new)
            self._carry_over(old.settings, new)
        else:
            new = old.settings
        errors = list((await script_errors(new)).values())
        if errors:
            for error in errors:
                log.error("%s", error)
            log.error("reload refused: a script does not load; %s", keep)
            return False, f"refused, {keep}:\n" + "\n".join(errors)
        try:
            pools = await self._start_pools(new)
        except StartupError as e:
            log.error("reload refused: %s; %s", e, keep)
            return False, f"refused, {keep}: {e}"
        self.active = Active(new, Router(new.routes), pools)
        if self.remote is not None:
            self.remote.move(old.pools, pools)
        self.scheduler.start()
        logsetup.configure(new.log_level, new.log_format)
        for pool in old.pools.values():
            pool.retire()
            task = asyncio.get_running_loop().create_task(pool.stop(new.shutdown_grace))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
        log.info("reloaded: serving %s; the previous workers finish their streams",
                 self.describe())
        return True, f"reloaded: serving {self.describe()}"

    def _carry_over(self, old: Settings, new: Settings) -> None:
        """Keep what a reload cannot change, saying so; reload TLS certificates in place."""
        for name in ("runtime_dir", "pid_file"):
            if getattr(new, name) not in (None, getattr(old, name)):
                log.warning("reload: server.%s changes only at a restart", name)
        new.runtime_dir, new.pid_file, new.cache_dir = old.runtime_dir, old.pid_file, \
            old.cache_dir

        def key(lst: Listener) -> tuple[str, int, bool]:
            return (lst.host, lst.port, lst.tls_cert is not None)

        if sorted(map(key, new.listeners)) != sorted(map(key, old.listeners)):
            log.warning("reload: listener changes take effect at a restart; keeping %s",
                        ", ".join(f"{h}:{p}" for h, p, _ in map(key, old.listeners)))
        for name in ("max_line_size", "max_field_size", "max_headers", "shutdown_grace",
                     "header_timeout", "fronts"):
            if getattr(new, name) != getattr(old, name):
                log.warning("reload: server.%s changes only at a restart", name)
                setattr(new, name, getattr(old, name))
        fresh = {(lst.host, lst.port): lst for lst in new.listeners}
        for listener in old.listeners:
            ssl_context = self._tls.get((listener.host, listener.port))
            update = fresh.get((listener.host, listener.port))
            if ssl_context is not None and update is not None and update.tls_cert is not None:
                ssl_context.load_cert_chain(update.tls_cert, update.tls_key)
                listener.tls_cert, listener.tls_key = update.tls_cert, update.tls_key
                log.info("reload: certificate for %s:%d reloaded", listener.host,
                         listener.port)
        new.listeners = old.listeners
        if new.metrics != old.metrics:
            log.warning("reload: the metrics listener changes only at a restart")
            new.metrics = old.metrics
        if new.remote != old.remote:
            log.warning("reload: [remote] changes only at a restart (the contents of "
                        "authorized_keys are re-read)")
            new.remote = old.remote

    # -- stop -----------------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (shutdown_grace), stop workers."""
        self.stopping = True
        self.notifier.stopping()
        self.scheduler.stop()
        for task in list(self._reloads):
            task.cancel()
        if self._reloads:
            await asyncio.gather(*self._reloads, return_exceptions=True)
        if self.runner is not None:
            # Closes the listening sockets and idle connections, waits up to
            # shutdown_grace for the handlers in flight, cancels what is left. A handler
            # streaming a response is not cancelled by aiohttp but waited for as long again:
            # at the end of the grace its stream is ended here, so the stop takes the grace.
            ender = asyncio.get_running_loop().call_later(self.settings.shutdown_grace,
                                                          self._end_streams)
            try:
                await self.runner.cleanup()
            finally:
                ender.cancel()
        pools = list(self.active.pools.values())
        await asyncio.gather(*(pool.stop(1.0) for pool in pools))
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)
        if self.admin_runner is not None:
            await self.admin_runner.cleanup()
        self.cleanup()

    def _end_streams(self) -> None:
        """The shutdown grace is over: every response still streaming ends now."""
        for stream in list(self.table.streams.values()):
            stream.cancel("the server is shutting down")
            stream.fail(WorkerGone("The server is shutting down."))

    def cleanup(self) -> None:
        for pool in self.active.pools.values():
            pool.kill_all()
        self.zygote.close()
        self.handovers.close()
        if self.channel is not None:
            self.channel.close()
        if self.remote is not None:
            self.remote.close()
            self.remote = None
        if self.pid_path is not None:
            pidfile.remove(self.pid_path)
        self._runtime.release()


async def serve(settings: Settings, front: FrontRole | None = None,
                ready_fd: int | None = None, watch: bool = False) -> int:
    """Serve until SIGTERM or SIGINT: the whole service, or (``front``) one front of many,
    which tells the main process on ``ready_fd`` once it serves. ``watch`` (``isoflow
    dev``): print a banner, and reload when a file of a script changes (watch.py)."""
    # No separate check first: the workers load the scripts (compiling each once, through
    # the bundle cache's lock) and a script that does not load stops the start with its
    # error line (FATAL -> StartupError), which saves a process start.
    try:
        service = Service(settings, front=front)
    except RuntimeDirInUse as e:
        print(f"isoflow: {e}", file=sys.stderr)
        return 2
    try:
        await service.start()
    except StartupError as e:
        print(f"isoflow: {e}", file=sys.stderr)
        await _abandon(service)
        return 2
    except OSError as e:
        print(f"isoflow: cannot listen: {e.strerror or e}", file=sys.stderr)
        await _abandon(service)
        return 2
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    early.release(loop, {signal.SIGINT: stop.set, signal.SIGTERM: stop.set,
                         signal.SIGHUP: service.request_reload})
    if front is None:
        log.info("isoflow serving %s", service.describe())
    else:
        log.info("%s serving %s", front.name, service.describe())
        if ready_fd is not None:
            front.tell_ready(ready_fd)
    service.notifier.ready(f"serving {service.describe()}")
    heap.settle()
    watcher = None
    if watch:
        from .watch import Watcher, banner, watched_files

        print(banner(settings, sum(f.is_file() for f in watched_files(settings))),
              file=sys.stderr, flush=True)
        watcher = Watcher(service)
        watcher.start()
    try:
        await stop.wait()
        if watcher is not None:
            await watcher.stop()
        log.info("shutting down: finishing requests in flight (up to %.0f s)",
                 service.settings.shutdown_grace)
        early.refuse(loop, signal.SIGHUP, "the service is stopping")
    finally:
        await service.stop()
    return 0


async def _abandon(service: Service) -> None:
    for pool in service.active.pools.values():
        await pool.stop(0)
    if service.runner is not None:
        with contextlib.suppress(Exception):
            await service.runner.cleanup()
    service.cleanup()
