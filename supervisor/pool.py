"""The pool of isolate worker processes: spawn, watch, restart, pick one for a request.

Each of the N *slots* holds one worker process at a time. A worker is *ready* once it has
said HELLO. When its process exits, every stream it was serving fails (WorkerGone) and the
slot starts a new process after a backoff that doubles with each quick failure (and says
so in the log when the slot is crash-looping). A worker that stops answering heartbeats is
killed, which leads to the same path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from isoflow import protocol as p

from .channel import Channel
from .settings import Settings
from .streams import StreamTable, WorkerGone

log = logging.getLogger("isoflow.supervisor.pool")
console_log = logging.getLogger("isoflow.console")

BACKOFF_MIN = 0.1
BACKOFF_MAX = 10.0
HEALTHY_AFTER = 30.0  # seconds up after which a slot's backoff resets
CRASH_LOOP = 5  # restarts within HEALTHY_AFTER that count as a crash loop


@dataclass(eq=False)
class WorkerHandle:
    slot: int
    generation: int
    process: asyncio.subprocess.Process | None = None
    ready: bool = False
    request_window: int = 0
    streams: set[int] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)
    last_pong: float = field(default_factory=time.monotonic)
    ping_seq: int = 0
    stats: dict = field(default_factory=dict)
    stopping: bool = False

    @property
    def name(self) -> str:
        return f"w{self.slot}"

    @property
    def identity(self) -> bytes:
        return f"w{self.slot}.{self.generation}".encode()


class StartupError(Exception):
    """The pool could not start (the script does not load, workers do not come up)."""


class WorkerPool:
    def __init__(self, settings: Settings, endpoint: str, table: StreamTable) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.table = table
        self.channel: Channel | None = None
        self.slots: list[WorkerHandle | None] = [None] * settings.workers
        self.by_identity: dict[bytes, WorkerHandle] = {}
        self._backoff = [BACKOFF_MIN] * settings.workers
        self._restarts: list[list[float]] = [[] for _ in range(settings.workers)]
        self._rr = 0
        self._closing = False
        self._fatal: asyncio.Future[str] | None = None
        self._tasks: set[asyncio.Task] = set()
        self.restarts = 0
        self.on_ready_change: Callable[[], None] | None = None

    # -- start and stop -----------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._fatal = loop.create_future()
        self.channel = Channel(self.endpoint, self.on_frame)
        for slot in range(self.settings.workers):
            await self._spawn(slot)
        deadline = loop.time() + self.settings.start_timeout
        while not all(w is not None and w.ready for w in self.slots):
            if self._fatal.done():
                raise StartupError(self._fatal.result())
            if loop.time() > deadline:
                raise StartupError("workers did not start within "
                                   f"{self.settings.start_timeout:.0f} s")
            await asyncio.wait([self._fatal], timeout=0.02)
        self._fatal = None
        self._spawn_task(self._heartbeat())

    async def stop(self, grace: float) -> None:
        """Ask every worker to finish its streams within ``grace`` seconds, then stop."""
        self._closing = True
        for worker in self.slots:
            if worker is not None and self.channel is not None:
                worker.stopping = True
                self.channel.send(worker.identity, p.Shutdown(0, grace))
        deadline = time.monotonic() + grace + 2.0
        for worker in self.slots:
            if worker is None or worker.process is None:
                continue
            remaining = max(0.1, deadline - time.monotonic())
            try:
                await asyncio.wait_for(worker.process.wait(), remaining)
            except TimeoutError:
                log.warning("%s did not stop in time; killing it", worker.name)
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()
                await worker.process.wait()
        for task in list(self._tasks):
            task.cancel()
        if self.channel is not None:
            self.channel.close()

    def kill_all(self) -> None:
        for worker in self.slots:
            if worker is not None and worker.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()

    # -- processes ----------------------------------------------------------------------

    def _spawn_task(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _spawn(self, slot: int) -> None:
        previous = self.slots[slot]
        generation = previous.generation + 1 if previous is not None else 1
        worker = WorkerHandle(slot, generation)
        s = self.settings
        args = [
            sys.executable, "-m", "isoflow.isolate_worker",
            "--connect", self.endpoint,
            "--id", worker.identity.decode(),
            "--script", str(s.script),
            "--options", json.dumps(s.worker_options()),
            "--log-level", s.log_level,
        ]
        if s.cache_dir is not None:
            args += ["--cache-dir", str(s.cache_dir)]
        worker.process = await asyncio.create_subprocess_exec(*args)
        self.slots[slot] = worker
        self.by_identity[worker.identity] = worker
        log.debug("started %s (pid %d)", worker.name, worker.process.pid)
        self._spawn_task(self._watch(worker))

    async def _watch(self, worker: WorkerHandle) -> None:
        assert worker.process is not None
        code = await worker.process.wait()
        self._on_exit(worker, code)

    def _on_exit(self, worker: WorkerHandle, code: int) -> None:
        was_ready = worker.ready
        worker.ready = False
        self.by_identity.pop(worker.identity, None)
        if worker.streams:
            self.table.fail_worker(worker, WorkerGone())
        if self.on_ready_change is not None:
            self.on_ready_change()
        if self._closing or worker.stopping:
            return
        reason = f"signal {-code}" if code < 0 else f"exit code {code}"
        log.error("%s (pid %s) died (%s)%s; restarting", worker.name, worker.process.pid,
                  reason, "" if was_ready else " before it was ready")
        self._schedule_restart(worker.slot)

    def _schedule_restart(self, slot: int) -> None:
        now = time.monotonic()
        history = [t for t in self._restarts[slot] if now - t < HEALTHY_AFTER]
        history.append(now)
        self._restarts[slot] = history
        if len(history) == 1:
            self._backoff[slot] = BACKOFF_MIN
        delay = self._backoff[slot]
        self._backoff[slot] = min(delay * 2, BACKOFF_MAX)
        if len(history) >= CRASH_LOOP:
            log.error("w%d is crash-looping: %d restarts in %.0f s; next attempt in %.1f s",
                      slot, len(history), HEALTHY_AFTER, delay)
        self.restarts += 1

        async def restart() -> None:
            await asyncio.sleep(delay)
            if not self._closing:
                await self._spawn(slot)

        self._spawn_task(restart())

    async def _heartbeat(self) -> None:
        interval = self.settings.heartbeat_interval
        timeout = self.settings.heartbeat_timeout
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for worker in self.slots:
                if worker is None or not worker.ready or worker.process is None:
                    continue
                if now - worker.last_pong > timeout:
                    log.error("%s (pid %d) missed heartbeats for %.1f s; killing it",
                              worker.name, worker.process.pid, now - worker.last_pong)
                    worker.ready = False
                    with contextlib.suppress(ProcessLookupError):
                        worker.process.send_signal(signal.SIGKILL)
                    continue
                worker.ping_seq += 1
                if self.channel is not None:
                    self.channel.send(worker.identity, p.Ping(0, worker.ping_seq))

    # -- frames -------------------------------------------------------------------------

    def on_frame(self, identity: bytes, frame: p.Frame) -> None:
        worker = self.by_identity.get(identity)
        if worker is None:
            log.warning("dropped %s from unknown worker %r", frame.TYPE.name, identity)
            return
        if frame.stream != 0 and not isinstance(frame, p.Log):
            stream = self.table.get(frame.stream)
            if stream is None:
                log.debug("dropped %s for finished stream %d", frame.TYPE.name, frame.stream)
                return
            if stream.worker is not worker:
                log.warning("rejected %s from %s for stream %d, which belongs to %s",
                            frame.TYPE.name, worker.name, frame.stream, stream.worker.name)
                return
            try:
                stream.on_frame(frame)
            except p.ProtocolError as e:
                log.warning("%s, stream %d: %s", worker.name, frame.stream, e)
                from .streams import StreamFailed

                stream.fail(StreamFailed(502, f"The worker broke the protocol: {e}"))
            return
        if isinstance(frame, p.Hello):
            worker.ready = True
            worker.request_window = frame.window
            worker.last_pong = time.monotonic()
            log.info("%s ready (pid %d)", worker.name, frame.pid)
            if self.on_ready_change is not None:
                self.on_ready_change()
        elif isinstance(frame, p.Pong):
            worker.last_pong = time.monotonic()
            worker.stats = frame.stats
        elif isinstance(frame, p.Log):
            level = getattr(logging, frame.level.upper(), logging.INFO)
            tag = f"{worker.name}" + (f" [{frame.request_id}]" if frame.request_id else "")
            console_log.log(level, "%s %s", tag, frame.message)
        elif isinstance(frame, p.Fatal):
            log.error("%s cannot serve: %s", worker.name, frame.message)
            if self._fatal is not None and not self._fatal.done():
                self._fatal.set_result(frame.message)
        else:
            log.warning("unexpected %s from %s", frame.TYPE.name, worker.name)

    # -- routing ------------------------------------------------------------------------

    def pick(self) -> WorkerHandle | None:
        """The ready worker with the fewest streams (round-robin among equals)."""
        best: WorkerHandle | None = None
        n = len(self.slots)
        for i in range(n):
            worker = self.slots[(self._rr + i) % n]
            if worker is None or not worker.ready or worker.stopping:
                continue
            if best is None or len(worker.streams) < len(best.streams):
                best = worker
        self._rr = (self._rr + 1) % n
        return best

    def send(self, worker: WorkerHandle, frame: p.Frame) -> bool:
        assert self.channel is not None
        return self.channel.send(worker.identity, frame)
