"""One worker, as the pool and the stream table see it: the interface, and local workers.

A :class:`WorkerHandle` is a worker that can take streams: its name and ZeroMQ identity,
``send``, whether it is ready, its streams and stats, and what the pool asks of it (a
heartbeat, a drain, a kill). Two kinds implement it:

* :class:`LocalWorker`: a child process of this supervisor in one of its pool's slots,
  on the private ``ipc://`` channel; the pool spawns, restarts, recycles and kills it.
* :class:`RemoteWorker` (``remote.py``): a worker on another host that said HELLO over the
  TCP link; it holds no slot and is not ours to restart or kill: when it goes silent or its
  connection drops, it is dropped (its streams fail).

Frames a worker sends for a stream go to the stream table (``streams.py``); the frames of
the worker itself (HELLO, PONG, LOG, FATAL) come here (:meth:`WorkerHandle.on_frame`), and
the pool acts on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from typing import TYPE_CHECKING, Any, ClassVar

from isoflow import protocol as p

if TYPE_CHECKING:
    from .channel import Channel
    from .pool import WorkerPool
    from .zygote import Child

log = logging.getLogger("isoflow.supervisor.pool")


class WorkerHandle:
    """A worker that takes streams; :class:`LocalWorker` and ``remote.RemoteWorker``."""

    recyclable: ClassVar[bool] = False  # the pool may replace it (recycle_requests, heap)
    slot = -1  # its slot in the pool (local workers); -1: none
    name: str  # for logs and metrics ("w0", "api/w3", "api@host-a")
    identity: bytes  # its ZeroMQ routing id on its channel

    def __init__(self, pool: WorkerPool, serial: int, channel: Channel,
                 registry: dict[bytes, Any]) -> None:
        self.pool = pool
        self.serial = serial  # unique in this supervisor: a new worker never reuses an id
        self.channel = channel  # the socket it is reached on
        self.registry = registry  # where the channel's frames find it, by identity
        self.ready = False
        self.stopping = False
        self.said_goodbye = False  # its last frame has arrived (GOODBYE)
        self.request_window = 0
        self.streams: set[int] = set()
        self.reserved = 0  # handed to queued requests that have not opened their stream yet
        self.served = 0  # requests handed to this worker
        self.started = time.monotonic()
        self.last_pong = self.started
        self.ping_seq = 0
        self.stats: dict = {}

    @property
    def pid(self) -> int | None:
        return None

    @property
    def load(self) -> int:
        return len(self.streams) + self.reserved

    def send(self, frame: p.Frame) -> bool:
        """Send a frame to the worker; False if it is not reachable."""
        return self.channel.send(self.identity, frame)

    def on_frame(self, frame: p.Frame) -> None:
        """A frame of the worker itself (HELLO, PONG, LOG, FATAL): the pool's to act on."""
        self.pool.on_frame(self, frame)

    def forget(self) -> None:
        """Frames from its identity find it no more."""
        if self.registry.get(self.identity) is self:
            del self.registry[self.identity]

    # -- what each kind does its own way ------------------------------------------------

    def said_hello(self, frame: p.Hello) -> None:
        """It said HELLO (it is ready)."""

    def heartbeat(self, now: float, timeout: float) -> None:
        """A heartbeat tick of a ready worker: act on its silence, or PING it."""
        raise NotImplementedError

    def drain(self, grace: float) -> None:
        """Finish the streams within ``grace`` seconds and stop (``stopping`` is set)."""

    async def wait_exit(self, deadline: float) -> None:
        """Wait until it is gone (at most until ``deadline``, monotonic), at a pool's stop."""

    def kill(self) -> None:
        """Stop it at once, if it is ours to stop."""

    def fatal(self, message: str) -> None:
        """It sent FATAL: it cannot serve (it did not start, or its host is stopping it)."""
        raise NotImplementedError


class LocalWorker(WorkerHandle):
    """A worker process of this supervisor, in one slot of its pool."""

    recyclable = True

    def __init__(self, pool: WorkerPool, slot: int, serial: int) -> None:
        super().__init__(pool, serial, pool.channel, pool.registry)
        self.slot = slot
        self.process: asyncio.subprocess.Process | Child | None = None  # zygote.py's Child
        self.said_fatal = False  # it told us why it cannot serve (FATAL)

    # name and identity are fixed for the handle's life; identity is wanted for every frame
    # sent to the worker, so both are made once.
    @functools.cached_property
    def name(self) -> str:
        return self.pool.worker_name(self.slot)

    @functools.cached_property
    def identity(self) -> bytes:
        return f"{self.name}.{self.serial}".encode()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def said_hello(self, frame: p.Hello) -> None:
        log.info("%s ready (pid %d)", self.name, frame.pid)

    def heartbeat(self, now: float, timeout: float) -> None:
        if self.process is None:
            return
        if now - self.last_pong > timeout:
            log.error("%s (pid %d) missed heartbeats for %.1f s; killing it", self.name,
                      self.process.pid, now - self.last_pong)
            self.ready = False
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            return
        self.ping_seq += 1
        self.send(p.Ping(0, self.ping_seq))

    def drain(self, grace: float) -> None:
        """SHUTDOWN(grace); it exits when its streams are done (killed if it cannot hear)."""
        if self.process is None or self.process.returncode is not None:
            return
        if not self.ready or not self.send(p.Shutdown(0, grace)):
            self.kill()

    async def wait_exit(self, deadline: float) -> None:
        if self.process is None:
            return
        remaining = max(0.1, deadline - time.monotonic())
        try:
            await asyncio.wait_for(self.process.wait(), remaining)
        except TimeoutError:
            log.warning("%s did not stop in time; killing it", self.name)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    def fatal(self, message: str) -> None:
        self.said_fatal = True
        log.error("%s cannot serve: %s", self.name, message)
        self.pool.startup_failed(message)
