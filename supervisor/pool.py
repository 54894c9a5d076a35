"""The pool of isolate worker processes for one script: spawn, watch, restart, recycle, pick.

Each of the script's N *slots* holds one worker process at a time. A worker is *ready*
once it has said HELLO. When its process exits, every stream it was serving fails
(WorkerGone) and the slot starts a new process after a backoff that doubles with each
quick failure (and says so in the log when the slot is crash-looping). A worker that stops
answering heartbeats is killed, which leads to the same path.

Requests take a worker with :meth:`WorkerPool.acquire`: the ready worker with the fewest
streams, as long as it has fewer than ``max_concurrent``, among the slots in use (``packing.py``:
as few as keep up; any other if none of those can take it); otherwise the request waits in
a bounded FIFO queue (``queue_size``, ``queue_timeout``) and gets :class:`Overloaded`
when it is full or the wait is too long.

*Recycling* (``recycle_requests``, ``recycle_heap``) replaces a worker without a gap: the
replacement is started first; once it is ready it takes the slot and the old worker gets
SHUTDOWN, finishes its streams and exits. A reload retires a whole pool the same way.

*Remote* workers (``remote.py``, admitted there) join a script's pool by saying HELLO over
the TCP link. They hold no slot and are not the supervisor's processes: they are picked like
local ones, but never spawned, restarted, recycled or killed here (their host's systemd does
that). A remote worker whose link drops or that misses heartbeats is *dropped*: its streams
fail and it takes no more requests until it says HELLO again. One that sends FATAL (its host
is stopping it) takes no new requests and finishes the ones it has. The pool deals with both
kinds through one interface (``workers.py``).

The pool does not route frames: the frames of a stream go from the channel to the stream
table; only a worker's own frames (HELLO, PONG, LOG, FATAL) reach :meth:`WorkerPool.on_frame`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from isoflow import protocol as p

from . import packing
from .channel import Channel
from .metrics import Metrics
from .settings import DEFAULT_SCRIPT, Settings
from .streams import StreamTable, WorkerGone
from .workers import LocalWorker, WorkerHandle
from .zygote import Child, Zygote

log = logging.getLogger("isoflow.supervisor.pool")
console_log = logging.getLogger("isoflow.console")
worker_log = logging.getLogger("isoflow.worker")

BACKOFF_MIN = 0.1
BACKOFF_MAX = 10.0
HEALTHY_AFTER = 30.0  # seconds up after which a slot's backoff resets
CRASH_LOOP = 5  # restarts within HEALTHY_AFTER that count as a crash loop
KILL_AFTER_GRACE = 2.0  # extra seconds a draining worker gets before SIGKILL
LAST_WORDS_WAIT = 0.5  # seconds an exited worker's last frame (GOODBYE, FATAL) may trail it
PACKING = packing.supported()  # the kernel tells each thread's CPU time

# A worker's own log line on stderr: "2026-01-02 03:04:05,678 ERROR worker w0.3: message".
_WORKER_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) worker \S+: (.*)"
)


class StartupError(Exception):
    """The pool could not start (the script does not load, workers do not come up)."""


class Overloaded(Exception):
    """No worker can take the request: the queue is full or the wait was too long."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "queue_full" or "queue_timeout"
        self.message = message


class PoolRetired(Exception):
    """The pool was replaced (reload) or is stopping: route the request again."""


Registry = dict[bytes, WorkerHandle]


class WorkerPool:
    def __init__(self, settings: Settings, script: str, channel: Channel, registry: Registry,
                 table: StreamTable, serials: Iterator[int],
                 metrics: Metrics | None = None, zygote: Zygote | None = None,
                 handover: Path | None = None, snapshot: Path | None = None) -> None:
        self.settings = settings
        self.handover = handover  # where workers hand sockets over (the splice relay), if on
        # The pool's pinned copy of its script, written by its first worker to load it and
        # evaluated by every later one (isolate_worker/script.py); removed with the pool.
        self.snapshot = snapshot
        self.zygote = zygote  # forks the workers, if there is one (else: spawned directly)
        self.script = script
        self.spec = settings.scripts[script]
        self.limits = self.spec.limits
        self.channel = channel
        self.registry = registry
        self.table = table
        self.metrics = metrics
        self._serials = serials
        n = self.spec.workers
        self.slots: list[LocalWorker | None] = [None] * n
        self._replacements: dict[int, LocalWorker] = {}  # slot -> recycling replacement
        self._recycling: set[int] = set()  # slots whose replacement is being spawned
        self._retiring: set[LocalWorker] = set()  # recycled workers finishing their streams
        self._recycle_hold: list[float] = [0.0] * n  # no recycling of the slot before then
        self._backoff = [BACKOFF_MIN] * n
        self._restarts: list[list[float]] = [[] for _ in range(n)]
        self._waiters: deque[asyncio.Future[WorkerHandle]] = deque()
        self._rr = 0
        # which slots take new requests (packing.py); None: every worker, by least load
        self.packer = packing.Packer(n) if self.spec.pack and n > 1 and PACKING else None
        self.closing = False
        self._fatal: asyncio.Future[str] | None = None
        self._tasks: set[asyncio.Task] = set()
        self._relays: set[asyncio.Task] = set()  # stderr readers, which end at EOF
        self.restarts = 0
        self.remotes: dict[bytes, WorkerHandle] = {}  # remote workers, by routing id
        self.on_ready_change: Callable[[], None] | None = None
        if metrics is not None:
            metrics.add_script(script)

    def worker_name(self, slot: int) -> str:
        number = self.spec.first_slot + slot
        return f"w{number}" if self.script == DEFAULT_SCRIPT else f"{self.script}/w{number}"

    def workers(self) -> list[WorkerHandle]:
        """Every live worker: the slots', replacements being started, retiring ones."""
        out = [w for w in self.slots if w is not None]
        return (out + list(self._replacements.values()) + list(self._retiring)
                + list(self.remotes.values()))

    @property
    def ready_count(self) -> int:
        return sum(1 for w in (*self.slots, *self.remotes.values())
                   if w is not None and w.ready and not w.stopping)

    @property
    def in_use(self) -> int:
        """Local slots that take new requests (all of them unless packing says fewer)."""
        return self.packer.in_use if self.packer is not None else len(self.slots)

    @property
    def queued(self) -> int:
        return len(self._waiters)

    # -- start and stop -----------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._fatal = loop.create_future()
        for slot in range(len(self.slots)):
            self.slots[slot] = await self._spawn(slot)
        deadline = loop.time() + self.settings.start_timeout
        while not all(w is not None and w.ready for w in self.slots):
            if self._fatal.done():
                raise StartupError(self._fatal.result())
            if loop.time() > deadline:
                raise StartupError(f"{self.script}: workers did not start within "
                                   f"{self.settings.start_timeout:.0f} s")
            await asyncio.wait([self._fatal], timeout=0.02)
        self._fatal = None
        self._spawn_task(self._heartbeat())
        if self.packer is not None:
            self._spawn_task(self._pack())

    def retire(self) -> None:
        """Take no more requests; queued ones go back to routing (PoolRetired)."""
        self.closing = True
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(PoolRetired())

    async def stop(self, grace: float) -> None:
        """Ask every worker to finish its streams within ``grace`` seconds, then stop."""
        self.retire()
        workers = self.workers()
        for worker in workers:
            self._drain(worker, grace)
        deadline = time.monotonic() + grace + KILL_AFTER_GRACE
        for worker in workers:
            await worker.wait_exit(deadline)
            if isinstance(worker, LocalWorker) and worker.process is not None \
                    and worker.process.returncode is not None:
                await self._last_words(worker, worker.process.returncode)
        if self._relays:  # the workers' last log lines
            await asyncio.wait(list(self._relays), timeout=1.0)
        for worker in workers:
            self._forget(worker)
            if worker.streams:  # whatever the watcher has not failed yet
                self.table.fail_worker(worker, WorkerGone())
        for task in list(self._tasks | self._relays):
            task.cancel()
        if self.snapshot is not None:
            with contextlib.suppress(OSError):
                self.snapshot.unlink()

    def kill_all(self) -> None:
        for worker in self.workers():
            worker.kill()

    def _drain(self, worker: WorkerHandle, grace: float) -> None:
        """No new streams for ``worker``; it finishes its streams (a local one then exits,
        a remote one is its host's to stop)."""
        worker.stopping = True
        worker.drain(grace)

    # -- processes ----------------------------------------------------------------------

    def _spawn_task(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _spawn(self, slot: int) -> LocalWorker:
        worker = LocalWorker(self, slot, next(self._serials))
        s = self.settings
        args = [
            "--options", "-",  # on stdin: they carry the secrets
            "--connect", self.channel.endpoint,
            "--id", worker.identity.decode(),
            "--script", str(self.spec.path),
            "--log-level", s.log_level,
        ]
        if s.cache_dir is not None:
            args += ["--cache-dir", str(s.cache_dir)]
        if self.handover is not None:
            args += ["--handover", str(self.handover)]
        if self.snapshot is not None:
            args += ["--snapshot", str(self.snapshot)]
        if self.spec.root is not None:
            args += ["--root", str(self.spec.root)]
        for flag in self.spec.compatibility_flags:
            args += ["--compat-flag", flag]
        process: asyncio.subprocess.Process | Child | None = None
        if self.zygote is not None and not self.zygote.failed:
            with contextlib.suppress(OSError, TimeoutError):
                process = await self.zygote.spawn(args)  # shares the zygote's pages
        if process is None:
            # The worker dies with this process, even by SIGKILL (PR_SET_PDEATHSIG): this
            # loop's thread forks it, and it is the main thread. A session of its own:
            # Ctrl-C at a terminal signals the foreground process group, and only the
            # supervisor may tell a worker to drain (else it stops by itself, the
            # supervisor sees it exit and logs a false "died").
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "isoflow.isolate_worker", *args,
                "--parent-pid", str(os.getpid()), stdin=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, limit=1 << 20, start_new_session=True,
            )
        worker.process = process
        assert process.stdin is not None
        # The options carry the secrets: on stdin, never on a command line.
        process.stdin.write(json.dumps(s.worker_options(self.script)).encode())
        with contextlib.suppress(ConnectionError):
            await process.stdin.drain()
        process.stdin.close()
        self.registry[worker.identity] = worker
        log.debug("started %s (pid %d)", worker.name, process.pid)
        self._spawn_task(self._watch(worker))
        relay = asyncio.get_running_loop().create_task(self._relay_stderr(worker))
        self._relays.add(relay)
        relay.add_done_callback(self._relays.discard)
        return worker

    async def _relay_stderr(self, worker: LocalWorker) -> None:
        """Worker log lines go through the supervisor's logging (text or JSON alike)."""
        assert worker.process is not None and worker.process.stderr is not None
        stream = worker.process.stderr
        fields = {"worker": worker.name, "script": self.script, "pid": worker.pid}
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line over the limit: take what is there
                line = await stream.read(1 << 20)
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()
            m = _WORKER_LINE.fullmatch(text)
            level, message = (getattr(logging, m.group(1)), m.group(2)) if m else \
                (logging.WARNING, text)
            worker_log.log(level, "%s: %s", worker.name, message, extra={"fields": fields})

    async def _watch(self, worker: LocalWorker) -> None:
        assert worker.process is not None
        code = await worker.process.wait()
        await self._last_words(worker, code)
        self._on_exit(worker, code)

    async def _last_words(self, worker: LocalWorker, code: int) -> None:
        """A worker's exit can be reported (by the zygote's pipe) before ZeroMQ's I/O thread
        has read its last frames off the socket: a drained worker's 1001 closes, the FATAL
        of one that failed to start. One that left on its own (0) ends with GOODBYE, one
        that failed to start with FATAL: wait a moment for that frame, so that nothing it
        said is lost or taken for a crash."""
        if worker.said_goodbye or worker.said_fatal or not (
                code == 0 or (code > 0 and not worker.ready)):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LAST_WORDS_WAIT
        while not (worker.said_goodbye or worker.said_fatal) and loop.time() < deadline:
            self.channel.drain()
            await asyncio.sleep(0.01)

    def _on_exit(self, worker: LocalWorker, code: int) -> None:
        # Its last frames first (a FATAL saying why it could not serve): a fast exit report
        # must not overtake them and leave them to an unknown worker.
        self.channel.drain()
        was_ready = worker.ready
        worker.ready = False
        worker.forget()
        if worker.streams:
            self.table.fail_worker(worker, WorkerGone())
        self.ready_changed()
        slot = worker.slot
        if worker in self._retiring or worker.stopping:
            self._retiring.discard(worker)
            return
        if self.closing:
            return
        reason = f"signal {-code}" if code < 0 else f"exit code {code}"
        if self._replacements.get(slot) is worker:
            del self._replacements[slot]
            self._recycle_hold[slot] = time.monotonic() + HEALTHY_AFTER
            log.error("%s (pid %s): its replacement died (%s) before it was ready; the "
                      "current worker keeps serving", worker.name, worker.pid, reason)
            return
        if self.slots[slot] is not worker:
            return
        replacement = self._replacements.pop(slot, None)
        if replacement is not None:
            self.slots[slot] = replacement
            log.error("%s (pid %s) died (%s); its replacement takes over", worker.name,
                      worker.pid, reason)
            return
        delay = self._next_backoff(slot)
        log.error("%s (pid %s) died (%s)%s; restarting in %.1f s", worker.name, worker.pid,
                  reason, "" if was_ready else " before it was ready", delay)
        self.restarts += 1
        if self.metrics is not None:
            self.metrics.restarts.labels(self.script).inc()

        async def restart() -> None:
            await asyncio.sleep(delay)
            if not self.closing and self.slots[slot] is worker:
                self.slots[slot] = await self._spawn(slot)

        self._spawn_task(restart())

    def _next_backoff(self, slot: int) -> float:
        now = time.monotonic()
        history = [t for t in self._restarts[slot] if now - t < HEALTHY_AFTER]
        history.append(now)
        self._restarts[slot] = history
        if len(history) == 1:
            self._backoff[slot] = BACKOFF_MIN
        delay = self._backoff[slot]
        self._backoff[slot] = min(delay * 2, BACKOFF_MAX)
        if len(history) >= CRASH_LOOP:
            log.error("%s is crash-looping: %d restarts in %.0f s; next attempt in %.1f s",
                      self.worker_name(slot), len(history), HEALTHY_AFTER, delay)
        return delay

    async def _heartbeat(self) -> None:
        interval = self.settings.heartbeat_interval
        timeout = self.settings.heartbeat_timeout
        last = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            # How long this loop itself was held past its interval (a stopped or starved
            # supervisor, a paused machine): its PINGs went unsent and PONGs unread, which
            # is no worker's fault; that time is not counted against them.
            held = now - last - interval
            last = now
            for worker in self.workers():
                if held > interval:
                    worker.last_pong = min(now, worker.last_pong + held)
                if worker.ready:
                    worker.heartbeat(now, timeout)

    async def _pack(self) -> None:
        packer = self.packer
        assert packer is not None
        while True:
            await asyncio.sleep(packing.INTERVAL)
            in_use = self.slots[:packer.in_use]
            if all(w is None or not w.load for w in in_use):
                packer.rest()
            else:
                packer.sample([w.pid if w is not None and w.ready else None for w in in_use],
                              time.monotonic())

    # -- remote workers (admitted by remote.py) -------------------------------------------

    def next_serial(self) -> int:
        return next(self._serials)

    def add_remote(self, worker: WorkerHandle) -> None:
        """A remote worker said HELLO and was admitted (on_frame then makes it ready)."""
        self.remotes[worker.identity] = worker
        worker.registry[worker.identity] = worker

    def adopt(self, worker: WorkerHandle) -> None:
        """Take over a remote worker from the pool this one replaces (a reload)."""
        old = worker.pool
        if old is not self:
            old.remotes.pop(worker.identity, None)
        worker.pool = self
        self.add_remote(worker)
        self.ready_changed()
        self._dispatch()

    def drop_remote(self, worker: WorkerHandle, reason: str) -> None:
        """A remote worker is gone (link down, silent, replaced): fail its streams."""
        if self.remotes.get(worker.identity) is not worker:
            return
        self._forget(worker)
        was_ready, worker.ready = worker.ready, False
        n = len(worker.streams)
        if worker.stopping and not n:  # it said it was going: nothing lost
            log.info("remote worker %s left (%s)", worker.name, reason)
        else:
            log.error("remote worker %s dropped: %s; %d stream(s) on it fail", worker.name,
                      reason, n)
        if worker.streams:
            self.table.fail_worker(worker, WorkerGone(
                f"The connection to the worker serving this request ({worker.name}) was "
                "lost."))
        if was_ready:
            self.ready_changed()

    def _forget(self, worker: WorkerHandle) -> None:
        if self.remotes.get(worker.identity) is worker:
            del self.remotes[worker.identity]
        worker.forget()

    # -- recycling ----------------------------------------------------------------------

    def _recycle_reason(self, worker: WorkerHandle) -> tuple[str, str] | None:
        """Why ``worker`` is due for replacement, as (metric label, log text), or None."""
        limits = self.limits
        stats = worker.stats
        if limits.recycle_requests and worker.served >= limits.recycle_requests:
            return "requests", f"after {worker.served} requests"
        if limits.recycle_heap and stats.get("heap_used", 0) >= limits.recycle_heap:
            return "heap", f"with {stats['heap_used'] >> 20} MiB of heap"
        if limits.recycle_rss and stats.get("rss", 0) >= limits.recycle_rss:
            return "rss", f"with {stats['rss'] >> 20} MiB resident"
        if stats.get("recycle"):  # the worker asks (isolate_worker/worker.py, _await_freed)
            return "worker", ("at its own request (its memory did not come back after an "
                              "isolate was replaced)")
        return None

    def _maybe_recycle(self, worker: WorkerHandle) -> None:
        if not worker.recyclable:
            return  # a remote worker: not ours to replace
        due = self._recycle_reason(worker)
        if due is None:
            return
        kind, reason = due
        slot = worker.slot
        if (self.closing or worker.stopping or self.slots[slot] is not worker
                or slot in self._replacements or slot in self._recycling
                or time.monotonic() < self._recycle_hold[slot]):
            return
        log.info("%s (pid %s) is recycled %s; starting its replacement", worker.name,
                 worker.pid, reason)
        if self.metrics is not None:
            self.metrics.recycles.labels(self.script, kind).inc()
        self._recycling.add(slot)

        async def replace() -> None:
            try:
                new = await self._spawn(slot)
            finally:
                self._recycling.discard(slot)
            if self.closing or self.slots[slot] is not worker:
                self._drain(new, 0)  # the old one died meanwhile (its slot restarts)
            else:
                self._replacements[slot] = new

        self._spawn_task(replace())

    def _take_over(self, new: LocalWorker) -> None:
        """A ready replacement takes its slot; the old worker finishes and exits."""
        slot = new.slot
        del self._replacements[slot]
        old = self.slots[slot]
        self.slots[slot] = new
        if old is not None and old is not new:
            self._retiring.add(old)
            self._drain(old, self.settings.shutdown_grace)
            log.info("%s (pid %s) replaced by pid %s; it finishes its %d streams", old.name,
                     old.pid, new.pid, len(old.streams))
            self._spawn_task(self._kill_late(old, self.settings.shutdown_grace))

    async def _kill_late(self, worker: LocalWorker, grace: float) -> None:
        assert worker.process is not None
        try:
            await asyncio.wait_for(worker.process.wait(), grace + KILL_AFTER_GRACE)
        except TimeoutError:
            log.warning("%s (pid %s) did not finish in time; killing it", worker.name,
                        worker.pid)
            with contextlib.suppress(ProcessLookupError):
                worker.process.kill()

    # -- a worker's own frames (a stream's go to the stream table) -------------------------

    def on_frame(self, worker: WorkerHandle, frame: p.Frame) -> None:
        if isinstance(frame, p.Hello):
            worker.ready = True
            worker.request_window = frame.window
            worker.last_pong = time.monotonic()
            worker.said_hello(frame)
            if self._replacements.get(worker.slot) is worker:
                self._take_over(worker)
            if worker.stopping:  # asked to stop before it could hear it
                self._drain(worker, 0)
            self.ready_changed()
            self._dispatch()
        elif isinstance(frame, p.Pong):
            worker.last_pong = time.monotonic()
            # Stats feed metrics and recycling: keep only numbers (a bad value is dropped
            # here rather than breaking every /metrics scrape).
            stats = {k: v for k, v in frame.stats.items()
                     if isinstance(v, int | float) and not isinstance(v, bool)
                     and math.isfinite(v)}
            if self.metrics is not None:
                self.metrics.pong(self.script, worker.stats, stats)
            worker.stats = stats
            self._maybe_recycle(worker)
        elif isinstance(frame, p.Log):
            level = getattr(logging, frame.level.upper(), logging.INFO)
            tag = worker.name + (f" [{frame.request_id}]" if frame.request_id else "")
            fields = {"worker": worker.name, "script": self.script,
                      "request_id": frame.request_id or None, "console": frame.level}
            console_log.log(level, "%s %s", tag, frame.message, extra={"fields": fields})
        elif isinstance(frame, p.Fatal):
            worker.fatal(frame.message)
        elif isinstance(frame, p.Goodbye):
            worker.said_goodbye = True
        else:
            log.warning("unexpected %s from %s", frame.TYPE.name, worker.name)

    def startup_failed(self, message: str) -> None:
        """A local worker cannot serve (FATAL): the pool's start fails with ``message``."""
        if self._fatal is not None and not self._fatal.done():
            self._fatal.set_result(message)

    def ready_changed(self) -> None:
        if self.on_ready_change is not None:
            self.on_ready_change()

    # -- taking a worker for a request --------------------------------------------------

    def pick(self, avoid: WorkerHandle | None = None) -> WorkerHandle | None:
        """The ready worker with the fewest streams that has room (round-robin among equals):
        among the slots in use and the remote workers when packing, else (or if none of them
        can take it) among all; ``avoid`` (a retry's worker, which failed) only if no other
        can."""
        packer = self.packer
        if packer is not None and packer.in_use < len(self.slots):
            worker = self._least(self._and_remotes(self.slots[:packer.in_use]), avoid)
            if worker is not None:
                return worker
        every = self._and_remotes(self.slots)
        worker = self._least(every, avoid)
        if worker is None and avoid is not None:
            worker = self._least(every)
        return worker

    def _and_remotes(self, slots: list[LocalWorker | None]) -> Sequence[WorkerHandle | None]:
        return [*slots, *self.remotes.values()] if self.remotes else slots

    def _least(self, candidates: Sequence[WorkerHandle | None],
               avoid: WorkerHandle | None = None) -> WorkerHandle | None:
        best: WorkerHandle | None = None
        cap = self.limits.max_concurrent
        n = len(candidates)
        for i in range(n):
            worker = candidates[(self._rr + i) % n]
            if worker is None or worker is avoid or not worker.ready or worker.stopping:
                continue
            if cap and worker.load >= cap:
                continue
            if best is None or worker.load < best.load:
                best = worker
        self._rr = (self._rr + 1) % max(n, 1)
        return best

    def take(self, avoid: WorkerHandle | None = None) -> WorkerHandle | None:
        """A worker for one request if one can take it now and nobody queues before it
        (another than ``avoid`` if one can), else None: then ``await queue()``. The usual
        case without a coroutine to make and run. Raises PoolRetired."""
        if self.closing:
            raise PoolRetired()
        if not self._waiters:
            worker = self.pick(avoid)
            if worker is not None:
                return self._hand_out(worker)
        return None

    async def acquire(self, avoid: WorkerHandle | None = None) -> WorkerHandle:
        """A worker for one request, waiting in the bounded queue if every one is busy;
        another than ``avoid`` if one can take it now.

        Raises Overloaded (queue full, waited ``queue_timeout``) or PoolRetired.
        """
        return self.take(avoid) or await self.queue()

    async def queue(self) -> WorkerHandle:
        """Wait in the bounded queue for the next worker with room (``take`` found none).
        Raises Overloaded (queue full, waited ``queue_timeout``)."""
        if len(self._waiters) >= self.limits.queue_size:
            raise Overloaded("queue_full", "The server is busy; try again shortly.")
        fut: asyncio.Future[WorkerHandle] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            async with asyncio.timeout(self.limits.queue_timeout):
                worker = await asyncio.shield(fut)
        except TimeoutError:
            self._give_back(fut)
            raise Overloaded("queue_timeout",
                             "No worker became free in time; try again shortly.") from None
        except asyncio.CancelledError:
            self._give_back(fut)
            raise
        worker.reserved -= 1
        return self._hand_out(worker)

    def _give_back(self, fut: asyncio.Future[WorkerHandle]) -> None:
        """A waiter gave up: leave the queue, or return the worker it was just given."""
        if not fut.done():
            fut.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(fut)
        elif not fut.cancelled() and fut.exception() is None:
            fut.result().reserved -= 1
            self._dispatch()

    def _hand_out(self, worker: WorkerHandle) -> WorkerHandle:
        worker.served += 1
        if self.limits.recycle_requests:
            self._maybe_recycle(worker)
        return worker

    def release(self, worker: WorkerHandle) -> None:
        """A stream on ``worker`` ended: its room goes to the next queued request."""
        if self._waiters:
            self._dispatch()

    def _dispatch(self) -> None:
        while self._waiters:
            worker = self.pick()
            if worker is None:
                return
            fut = self._waiters.popleft()
            if fut.done():
                continue
            worker.reserved += 1
            fut.set_result(worker)
