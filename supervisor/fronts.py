"""Many fronts: every core of the host serves HTTP.

One supervisor process is one Python interpreter, so it serves about one core's worth of
requests however many workers it has. With ``fronts = N`` (N > 1) ``isoflow serve`` runs a
*main* process that serves no request itself and N *front* processes. Each front is the
whole single-process supervisor (``server.py``) for its share of every script's workers,
with its own ZeroMQ socket and runtime folder (``runtime_dir/front-I``); all of them listen
on the same ports with ``SO_REUSEPORT``, so the kernel spreads connections over them.

The main process owns what must exist once:

* the config: it checks the scripts once before any front starts (the fronts find the
  compiled bundles in the cache), and forwards SIGHUP: each front reloads (one that is
  starting is signalled once it serves: early.py), and the main process writes one
  outcome for ``isoflow reload`` (ok only if every front took it);
* drains: SIGTERM and SIGINT go to every front, which finish their streams;
* systemd: READY, RELOADING and STOPPING come from it alone (``NotifyAccess=main``);
* the metrics listener: ``/metrics`` sums every front's metrics (each front serves its
  own on a Unix socket in its folder), ``/readyz`` is ready when every front is;
* cron triggers and the remote-worker listener run in front 0 only.

A front that dies is restarted (with backoff); the connections it held fail visibly, as a
worker's do: the kernel resets them. A front that is alive but does not answer (stopped,
its loop stuck) would keep its place among the ``SO_REUSEPORT`` sockets and leave the
connections the kernel hands it waiting for ever: the main process asks each serving front
for ``/healthz`` on its admin socket every ``heartbeat_interval`` and kills (SIGKILL) one that
has not answered for ``heartbeat_timeout``, as a pool does a worker; it is then restarted as
a dead one is. The fronts die with the main process (``PR_SET_PDEATHSIG``), whatever killed
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from isoflow.isolate_worker.parent import die_with_parent

from . import early, pidfile
from .admin import from_browser
from .config import ConfigError, load, script_errors
from .notify import Notifier
from .runtimedir import RuntimeDir, RuntimeDirInUse
from .settings import Settings

log = logging.getLogger("isoflow.supervisor.fronts")

ADMIN_SOCKET = "admin.sock"
PINNED = "pinned"  # the main process's folder of what the fronts serve (Pinned)
RESTART_MIN, RESTART_MAX = 0.5, 30.0  # seconds before a dead front is started again
RELOAD_WAIT = 120.0  # seconds a reload waits for every front's outcome
READY_WAIT = 2.0  # seconds /readyz waits for each front's answer (all are asked at once)


@dataclass(frozen=True)
class FrontRole:
    """What makes a supervisor process front ``index`` of ``count``."""

    index: int
    count: int
    directory: Path  # its runtime folder: IPC socket, admin socket, pid and reload status

    @property
    def name(self) -> str:
        return f"front {self.index}/{self.count}"

    def shape(self, settings: Settings) -> None:
        """Make ``settings`` (from the command line or a (re)loaded config) this front's."""
        settings.runtime_dir = self.directory
        settings.pid_file = self.directory / pidfile.NAME
        settings.metrics = None  # the main process serves the metrics listener
        settings.fronts = 1
        if self.index:
            settings.remote = None  # remote workers and cron triggers: front 0 only
        for spec in settings.scripts.values():
            shares = split(spec.workers, self.count)
            spec.workers = shares[self.index]
            spec.first_slot = sum(shares[: self.index])
            if self.index:
                spec.crons = []

    @property
    def pinned(self) -> Path:
        """The main process's folder of what every front serves now (``Pinned``)."""
        return self.directory.parent / PINNED

    def snapshot(self, script: str) -> Path:
        """Where the pools of ``script`` of the current generation pin it (the same file in
        every front: a front restarted later serves what the others do)."""
        return self.pinned / f"{script}.{Pinned.generation_in(self.pinned)}.json"

    def tell_ready(self, fd: int) -> None:
        """Tell the main process this front serves (one line on the pipe it gave us)."""
        with contextlib.suppress(OSError):
            os.write(fd, b"ready\n")
            os.close(fd)


def _as_front(parent: int) -> None:
    """In a front, between fork and exec: SIGHUP and SIGTERM wait until it can take them
    (early.py), and it dies with the main process."""
    early.block()
    die_with_parent(parent, signal.SIGTERM)


def split(total: int, count: int) -> list[int]:
    """``total`` workers over ``count`` fronts, as evenly as can be, at least one each."""
    return [max(1, total // count + (1 if i < total % count else 0)) for i in range(count)]


class Pinned:
    """What a front started now must serve, kept by the main process in ``runtime_dir/
    pinned``: the config text last accepted (a front restarted after a reload was refused
    must not read the file as it is now) and the generation, which names the scripts'
    pinned copies (``script.py``): the pools of every front of one generation share them."""

    def __init__(self, directory: Path, config_text: str | None) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, exist_ok=True)
        self.config = directory / "config.toml"
        self.generation = 0
        self.accept(config_text)
        self._write_generation()

    @staticmethod
    def generation_in(directory: Path) -> int:
        try:
            return int((directory / "generation").read_text())
        except (OSError, ValueError):
            return 0

    def _write_generation(self) -> None:
        tmp = self.directory / "generation.tmp"
        tmp.write_text(str(self.generation))
        tmp.replace(self.directory / "generation")

    def next(self) -> None:
        """A reload is under way: the pools it starts pin the next generation."""
        self.generation += 1
        self._write_generation()

    def back(self) -> None:
        """No front took the reload: the current generation stays."""
        self.generation -= 1
        self._write_generation()

    def accept(self, config_text: str | None) -> None:
        if config_text is None:
            return
        tmp = self.config.with_suffix(".tmp")
        tmp.write_text(config_text)
        tmp.replace(self.config)


class FrontProcess:
    """One front process, as the main process sees it."""

    def __init__(self, index: int, directory: Path) -> None:
        self.index = index
        self.directory = directory
        self.process: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()
        self.started = 0.0
        self.backoff = RESTART_MIN
        self.heard = 0.0  # when it last answered the heartbeat (monotonic)
        self.probe: asyncio.Task | None = None  # the heartbeat's question in flight

    @property
    def serving(self) -> bool:
        """Whether it runs and has said it serves since it was (re)started."""
        process = self.process
        return process is not None and process.returncode is None and self.ready.is_set()

    @property
    def status_path(self) -> Path:
        return self.directory / pidfile.NAME

    @property
    def admin_socket(self) -> Path:
        return self.directory / ADMIN_SOCKET


class Main:
    """The main process of a many-front service."""

    def __init__(self, settings: Settings, argv: list[str], count: int) -> None:
        self.settings = settings
        self.argv = argv  # the serve command line: every front parses the same one
        self.count = count
        self.notifier = Notifier()
        self._runtime = RuntimeDir(settings.runtime_dir)  # locked; stale ones swept
        self.runtime_dir = self._runtime.path
        self.fronts = [FrontProcess(i, self.runtime_dir / f"front-{i}") for i in range(count)]
        self.pinned = Pinned(self.runtime_dir / PINNED, settings.config_text)
        self.stopping = False
        self.admin: web.AppRunner | None = None
        self.pid_path = pidfile.location(settings)
        self.reload_count = 0
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    # -- fronts ---------------------------------------------------------------------------

    async def _spawn(self, front: FrontProcess) -> None:
        front.directory.mkdir(parents=True, exist_ok=True)
        front.directory.chmod(0o700)
        front.ready.clear()
        read_fd, write_fd = os.pipe()
        args = [sys.executable, "-m", "isoflow.supervisor", *self.argv,
                "--front", f"{front.index}/{self.count}", "--front-dir", str(front.directory),
                "--front-fd", str(write_fd)]
        if self.pinned.config.is_file():  # the config last accepted, not the file as it is
            args += ["--pinned-config", str(self.pinned.config)]
        try:
            front.process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, pass_fds=(write_fd,),
                preexec_fn=functools.partial(_as_front, os.getpid()))
        finally:
            os.close(write_fd)
        front.started = time.monotonic()
        self._run(self._watch_ready(front, read_fd))
        self._run(self._watch_exit(front, front.process))

    def _run(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch_ready(self, front: FrontProcess, fd: int) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", 0))
        try:
            if (await reader.readline()).strip() == b"ready":
                front.heard = time.monotonic()
                front.ready.set()
        finally:
            transport.close()

    async def _watch_exit(self, front: FrontProcess, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        if self.stopping or front.process is not process:
            return
        uptime = time.monotonic() - front.started
        if uptime > 30:
            front.backoff = RESTART_MIN
        log.error("front %d (pid %d) died (exit code %s); its connections were reset; "
                  "restarting in %.1f s", front.index, process.pid, code, front.backoff)
        delay, front.backoff = front.backoff, min(front.backoff * 2, RESTART_MAX)
        await asyncio.sleep(delay)
        if not self.stopping:
            await self._spawn(front)

    # -- the heartbeat ----------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        """Ask every serving front each ``heartbeat_interval`` whether its loop answers; kill
        one silent for ``heartbeat_timeout`` (``_watch_exit`` restarts it)."""
        interval = self.settings.heartbeat_interval
        timeout = self.settings.heartbeat_timeout
        last = time.monotonic()
        while not self.stopping:
            await asyncio.sleep(interval)
            now = time.monotonic()
            # This loop held past its interval (the main process stopped or starved) asked
            # nothing and read no answer: not the fronts' fault (pool.py's heartbeat too).
            held = now - last - interval
            last = now
            for front in self.fronts:
                if held > interval:
                    front.heard = min(now, front.heard + held)
                if front.serving and not self.stopping:
                    self._beat(front, now, timeout)

    def _beat(self, front: FrontProcess, now: float, timeout: float) -> None:
        """One heartbeat tick of a serving front: kill it if silent too long, else ask."""
        assert front.process is not None
        silent = now - front.heard
        if silent > timeout:
            log.error("front %d (pid %d) has not answered for %.1f s; killing it",
                      front.index, front.process.pid, silent)
            front.ready.clear()  # down from now, as a dead one is
            with contextlib.suppress(ProcessLookupError):
                front.process.kill()
        elif front.probe is None or front.probe.done():
            front.probe = asyncio.get_running_loop().create_task(
                self._probe(front, front.process, timeout))

    async def _probe(self, front: FrontProcess, process: asyncio.subprocess.Process,
                     timeout: float) -> None:
        """Ask ``process`` for /healthz; an answer is a heartbeat."""
        with contextlib.suppress(OSError, aiohttp.ClientError, TimeoutError):
            status, _ = await self._ask(front, "GET", "/healthz", timeout)
            if status == 200 and front.process is process:
                front.heard = time.monotonic()

    def _signal(self, sig: int) -> None:
        for front in self.fronts:
            if front.process is not None and front.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    front.process.send_signal(sig)

    # -- start and stop --------------------------------------------------------------------

    async def start(self) -> str | None:
        """Start every front; None once all serve, else why not (all stopped again)."""
        for front in self.fronts:
            await self._spawn(front)
        waits = [asyncio.ensure_future(front.ready.wait()) for front in self.fronts]
        exits = [asyncio.ensure_future(front.process.wait()) for front in self.fronts
                 if front.process is not None]
        timeout = self.settings.start_timeout
        done, _ = await asyncio.wait([asyncio.gather(*waits), *exits], timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        for future in (*waits, *exits):
            future.cancel()
        if all(front.ready.is_set() for front in self.fronts):
            return None
        return "a front did not start (see its lines above)" if done else \
            f"the fronts did not start within {timeout:.0f} s"

    async def stop(self) -> None:
        self.stopping = True
        self.notifier.stopping()
        self._signal(signal.SIGTERM)
        deadline = self.settings.shutdown_grace + 10.0
        for front in self.fronts:
            if front.process is None:
                continue
            try:
                await asyncio.wait_for(front.process.wait(), max(0.1, deadline))
            except TimeoutError:
                log.warning("front %d did not stop in time; killing it", front.index)
                with contextlib.suppress(ProcessLookupError):
                    front.process.kill()
                await front.process.wait()
        for task in [*self._tasks, *(f.probe for f in self.fronts if f.probe is not None)]:
            task.cancel()
        if self.admin is not None:
            await self.admin.cleanup()
        if self.pid_path is not None:
            pidfile.remove(self.pid_path)
        self._runtime.release()

    # -- reload ---------------------------------------------------------------------------

    def request_reload(self) -> None:
        self._run(self.reload())

    async def _refusal(self) -> tuple[str | None, str | None]:
        """Check the config and its scripts as each front will: (why they would refuse the
        reload or None, the config's text). Checked here first, a config or script that
        does not load reaches no front, so none of them takes a reload the others refuse
        (their own checks agree but for a script that fails by chance, or files changed
        between two reads)."""
        settings = self.settings
        if settings.config_path is not None:
            try:
                settings = load(settings.config_path).settings
            except ConfigError as e:
                return str(e), None
        errors = (await script_errors(settings)).values()
        return "\n".join(errors) or None, settings.config_text

    async def reload(self) -> None:
        """SIGHUP every front once it serves; one outcome once each has said how its reload
        went."""
        async with self._reload_lock:
            if self.stopping:
                return
            self.notifier.reloading()
            refusal, config_text = await self._refusal()
            if refusal is not None:
                for line in refusal.splitlines():
                    log.error("%s", line)
                message = f"refused, still serving the previous configuration:\n{refusal}"
                log.error("reload refused; still serving the previous configuration")
                self.reload_count += 1
                if self.pid_path is not None:
                    pidfile.write_status(self.pid_path, self.reload_count, False, message)
                self.notifier.ready(f"serving with {self.count} fronts")
                return
            self.pinned.next()
            deadline = time.monotonic() + RELOAD_WAIT
            found = await asyncio.gather(*(self._reload_front(f, deadline)
                                           for f in self.fronts))
            outcomes = {f.index: status for f, status in zip(self.fronts, found, strict=True)
                        if status is not None}
            ok = len(outcomes) == len(self.fronts) and all(s.get("ok") for s in
                                                           outcomes.values())
            if ok:
                self.pinned.accept(config_text)
            elif not any(s.get("ok") for s in outcomes.values()):
                self.pinned.back()
            refused = [f"front {i}: {s.get('message', '')}" for i, s in sorted(outcomes.items())
                       if not s.get("ok")]
            missing = [str(f.index) for f in self.fronts if f.index not in outcomes]
            if ok:
                message = outcomes[0].get("message", "reloaded")
            else:
                message = "; ".join(refused + ([f"no outcome from front(s) {', '.join(missing)}"]
                                               if missing else []))
            self.reload_count += 1
            if self.pid_path is not None:
                pidfile.write_status(self.pid_path, self.reload_count, ok, message)
            (log.info if ok else log.error)("reload: %s", message)
            self.notifier.ready(f"serving with {self.count} fronts")

    async def _reload_front(self, front: FrontProcess, deadline: float) -> dict | None:
        """``front``'s outcome of the reload: signalled once it serves (one that is starting
        has not taken SIGHUP yet), again once it serves anew if it dies first; None if it
        has none by ``deadline``."""
        while time.monotonic() < deadline and not self.stopping:
            if not front.serving:
                await asyncio.sleep(0.05)
                continue
            status = await self._signal_reload(front, deadline)
            if status is not None:
                return status
        return None

    async def _signal_reload(self, front: FrontProcess, deadline: float) -> dict | None:
        """SIGHUP the serving ``front``; its reload's status, or None if it ended or
        ``deadline`` passed first."""
        process = front.process
        assert process is not None
        before = (pidfile.read_status(front.status_path) or {}).get("count", 0)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGHUP)
        while time.monotonic() < deadline and front.process is process \
                and process.returncode is None and not self.stopping:
            status = pidfile.read_status(front.status_path)
            if status is not None and status.get("count", 0) > before:
                return status
            await asyncio.sleep(0.05)
        return None

    # -- the metrics listener ---------------------------------------------------------------

    async def _ask(self, front: FrontProcess, method: str, path: str,
                   timeout: float = 10.0) -> tuple[int, bytes]:
        connector = aiohttp.UnixConnector(path=str(front.admin_socket))
        limit = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=limit) as session, \
                session.request(method, f"http://front{path}") as response:
            return response.status, await response.read()

    async def _ask_all(self, path: str,
                       timeout: float = 10.0) -> list[tuple[FrontProcess, int, bytes]]:
        async def one(front: FrontProcess) -> tuple[FrontProcess, int, bytes]:
            try:
                status, body = await self._ask(front, "GET", path, timeout)
            except TimeoutError:
                return front, 503, self._silence(front, timeout).encode()
            except (OSError, aiohttp.ClientError) as e:
                return front, 503, f"not reachable: {e}".encode()
            return front, status, body

        return await asyncio.gather(*(one(front) for front in self.fronts))

    def _silence(self, front: FrontProcess, waited: float) -> str:
        """Why ``front`` is not ready when it did not answer within ``waited`` seconds."""
        pid = front.process.pid if front.process is not None else 0
        return (f"not answering (pid {pid}: nothing within {waited:g} s, last heartbeat "
                f"{time.monotonic() - front.heard:.1f} s ago)")

    async def _admin(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/__scheduled":  # cron triggers live in front 0
            if from_browser(request):
                return web.Response(status=403, text="Not from a browser.\n")
            status, body = await self._ask(self.fronts[0], request.method, request.path_qs)
            return web.Response(status=status, body=body)
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, text="Use GET.\n", headers={"Allow": "GET, HEAD"})
        if request.path == "/metrics":
            answers = await self._ask_all("/metrics")
            failed = [f"front {f.index}: {status} {body.decode(errors='replace').strip()[:200]}"
                      for f, status, body in answers if status != 200]
            if failed:
                # A sum without a front's series would make its counters go backwards (a
                # reset to the scraper): the scrape fails instead, and says why.
                log.warning("metrics: %s", "; ".join(failed))
                return web.Response(status=503, text="metrics unavailable: " +
                                    "; ".join(failed) + "\n")
            texts = [body.decode() for _, _, body in answers]
            return web.Response(body=merge_metrics(texts),
                                headers={"Content-Type": CONTENT_TYPE_LATEST})
        if request.path == "/healthz":
            return web.Response(text="ok\n")
        if request.path == "/readyz":
            if self.stopping:
                return web.Response(status=503, text="not ready: the service is stopping\n")
            # A front that is down (dead, or restarting and not serving yet) takes no
            # connections: the others take them all, so it does not make the service
            # unready (or a load balancer would drop a host that serves); one that is up
            # but not ready does, and so does having none up.
            down = [f for f in self.fronts if not f.serving]
            wait = min(READY_WAIT, self.settings.heartbeat_timeout)
            answers = await self._ask_all("/readyz", wait)
            reasons = [f"front {f.index}: {body.decode().strip()}" for f, status, body in answers
                       if status != 200 and f not in down]
            if len(down) == len(self.fronts):
                reasons.append("no front is serving")
            if reasons:
                return web.Response(status=503, text="not ready: " + "; ".join(reasons) + "\n")
            note = f" ({', '.join(f'front {f.index}' for f in down)} down)" if down else ""
            return web.Response(text=f"ready{note}\n")
        return web.Response(status=404, text="Try /metrics, /healthz or /readyz.\n")

    async def _start_admin(self) -> None:
        metrics = self.settings.metrics
        if metrics is None:
            return
        self.admin = web.ServerRunner(web.Server(self._admin, access_log=None),
                                      handle_signals=False, shutdown_timeout=1.0)
        await self.admin.setup()
        await web.TCPSite(self.admin, metrics.host, metrics.port, reuse_address=True).start()


def merge_metrics(texts: Iterable[str]) -> bytes:
    """Sum the fronts' Prometheus expositions sample by sample (counters, gauges and
    histogram buckets all add up; workers are numbered across fronts, so their labels
    stay apart)."""
    families: dict[str, Metric] = {}
    values: dict[str, dict[tuple, float]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            if family.name.endswith("_created"):
                continue  # a creation time does not add up
            if family.name not in families:
                families[family.name] = Metric(family.name, family.documentation, family.type)
            samples = values.setdefault(family.name, {})
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue  # a creation time does not add up
                key = (sample.name, tuple(sorted(sample.labels.items())))
                samples[key] = samples.get(key, 0.0) + sample.value
    for name, samples in values.items():
        for (sample_name, labels), value in samples.items():
            families[name].add_sample(sample_name, dict(labels), value)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(families.values())))
    return generate_latest(registry)


class _Families:
    """A collector of ready-made metric families."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


async def serve_many(settings: Settings, argv: list[str], count: int) -> int:
    """Run the main process of ``count`` fronts until SIGTERM or SIGINT."""
    errors = await script_errors(settings)
    if errors:
        for error in errors.values():
            print(f"isoflow: {error}", file=sys.stderr)
        return 2
    try:
        main = Main(settings, argv, count)
    except RuntimeDirInUse as e:
        print(f"isoflow: {e}", file=sys.stderr)
        return 2
    problem = await main.start()
    if problem is not None:
        print(f"isoflow: {problem}", file=sys.stderr)
        await main.stop()
        return 2
    try:
        await main._start_admin()
    except OSError as e:
        print(f"isoflow: cannot listen for metrics: {e.strerror or e}", file=sys.stderr)
        await main.stop()
        return 2
    if main.pid_path is not None:
        pidfile.write_status(main.pid_path, 0, True, "started")
        pidfile.write(main.pid_path)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    early.release(loop, {signal.SIGINT: stop.set, signal.SIGTERM: stop.set,
                         signal.SIGHUP: main.request_reload})
    workers = 0
    for name, spec in settings.scripts.items():
        running = sum(split(spec.workers, count))  # at least one a front
        if running > spec.workers:
            log.warning("script %s: %d workers asked for over %d fronts: each front runs one "
                        "(%d in all)", name, spec.workers, count, running)
        workers += running
    if count > 4 * (os.cpu_count() or 1):
        log.warning("%d fronts on %d cores: a front serves about a core's worth of requests "
                    "(docs/performance.md, Many fronts)", count, os.cpu_count() or 1)
    urls = ", ".join(f"{lst.scheme}://{lst.host}:{lst.port}" for lst in settings.listeners)
    log.info("isoflow serving %s with %d workers over %d fronts", urls, workers, count)
    main._run(main._heartbeat())
    main.notifier.ready(f"serving {urls} with {count} fronts")
    try:
        await stop.wait()
        log.info("shutting down: the fronts finish their requests (up to %.0f s)",
                 settings.shutdown_grace)
        early.refuse(loop, signal.SIGHUP, "the service is stopping")
    finally:
        await main.stop()
    return 0
