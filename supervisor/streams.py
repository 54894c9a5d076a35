"""The supervisor's stream table: one entry per request in flight on a worker.

A :class:`Stream` is where the HTTP side (``front.py``) and the worker side (``channel.py``)
meet: the channels hand every frame a worker sends to :meth:`StreamTable.on_frame`, which
applies a stream's frame to that stream (if it is one of that worker's) and hands the
worker's own frames (HELLO, PONG, LOG, FATAL) to its handle. A stream is a thin adapter
over the protocol's stream core (:class:`isoflow.protocol.StreamCore`), which holds the
stream's state and credit both ways: frames from the worker go through the core and become
things the HTTP handler awaits (the response head, body chunks, the end, or a failure), and
frames to the worker are checked by the core before they are sent.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from isoflow import protocol as p

from .logsetup import LogLimiter

if TYPE_CHECKING:
    from .workers import WorkerHandle

log = logging.getLogger("isoflow.supervisor.pool")


class StreamFailed(Exception):
    """The response cannot be completed. ``status`` applies if no head was sent yet."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WorkerGone(StreamFailed):
    """The worker serving the stream died or was cut off."""

    def __init__(self, message: str = "The worker serving this request died.") -> None:
        super().__init__(502, message)


_END = object()


class HeadDeadlines:
    """The response-head timeouts of the streams waiting for one, checked every ``GRAIN``
    seconds by one timer while any waits: a request costs a dict entry, where a timer of
    its own cost a push on the loop's timer heap and a cancel (1.3 µs on uvloop, once per
    request). A timeout fires up to ``GRAIN`` late."""

    GRAIN = 0.1

    def __init__(self) -> None:
        # The loop's, taken once: asyncio.get_running_loop() costs a getpid() system call
        # on Python 3.11 (its fork check), and the front's streams took it three times a
        # request.
        self.loop = asyncio.get_running_loop()
        self._due: dict[Stream, float] = {}
        self._timer: asyncio.TimerHandle | None = None

    def add(self, stream: Stream, timeout: float) -> None:
        """Time ``stream``'s head out in ``timeout`` s (called on the loop, in Stream.head)."""
        loop = self.loop
        self._due[stream] = loop.time() + timeout
        if self._timer is None:
            self._timer = loop.call_later(self.GRAIN, self._check, loop)

    def discard(self, stream: Stream) -> None:
        self._due.pop(stream, None)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for stream in [s for s, due in self._due.items() if due <= now]:
            del self._due[stream]
            stream._head_timeout()
        self._timer = loop.call_later(self.GRAIN, self._check, loop) if self._due else None


class Stream:
    """One request in flight: the protocol's view of it (:class:`isoflow.protocol.StreamCore`:
    phases, outcome, credit both ways) and the waiters the HTTP handler awaits."""

    __slots__ = (
        "_deadlines", "_head", "_items", "_request_credit_waiter", "_waiter", "closed", "core",
        "failure", "method", "on_stall", "request_id", "upload_relay", "worker",
    )

    def __init__(self, sid: int, worker: WorkerHandle, request_id: str, method: str,
                 response_window: int, on_stall: Callable[[str], None] | None,
                 deadlines: HeadDeadlines) -> None:
        loop = deadlines.loop
        self._deadlines = deadlines  # the table's: one timer for every stream's head
        self.worker = worker
        self.request_id = request_id
        self.method = method
        self.core = p.StreamCore(p.Role.SUPERVISOR, sid, request_window=worker.request_window,
                                 response_window=response_window)
        self._head: asyncio.Future[p.ResponseHead] = loop.create_future()
        self._items: deque[object] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._request_credit_waiter: asyncio.Future[None] | None = None
        self.failure: StreamFailed | None = None
        self.closed = False
        self.on_stall = on_stall
        self.upload_relay: p.UploadRelay | None = None  # the worker asks for the upload

    @property
    def sid(self) -> int:
        return self.core.sid

    @property
    def finished(self) -> bool:
        return self.core.finished

    @property
    def request_credit(self) -> int:
        """Request body bytes the worker lets us send now."""
        return self.core.peer_credit

    # -- to the worker ------------------------------------------------------------------

    def send(self, frame: p.Frame) -> bool:
        """Check ``frame`` against the stream's state and credit, then send it; False if the
        worker is not reachable. A frame our own code may not send raises
        LocalProtocolError and never reaches the wire."""
        self.core.send(frame)
        return self.worker.send(frame)

    def cancel(self, reason: str) -> None:
        """Give up on the stream (client gone, a limit): the worker stops it too."""
        frame = self.core.cancel(reason)
        if frame is not None:
            self.worker.send(frame)

    def consumed(self, size: int) -> None:
        """The client took ``size`` bytes of response body: grant credit as the policy says."""
        credit = self.core.consumed(size)
        if credit is not None:
            self.worker.send(credit)

    def widen(self, size: int) -> None:
        """Open the response window by ``size`` bytes for good (a WebSocket's: a message)."""
        credit = self.core.widen(size)
        if credit is not None:
            self.worker.send(credit)

    # -- from the worker ----------------------------------------------------------------

    def on_frame(self, frame: p.Frame) -> None:
        """Apply a frame from the worker; raises ProtocolError if it breaks the protocol,
        after cancelling the stream on the worker (which would otherwise go on serving a
        stream the supervisor has failed)."""
        try:
            event = self.core.receive(frame)
        except p.ProtocolError as e:
            self.cancel(f"protocol error: {e}")
            raise
        if event is None:
            return  # late: it crossed our CANCEL
        if isinstance(event, p.ResponseBody):
            self._push(event.data)
            if self.core.granted == 0 and self.on_stall is not None:
                self.on_stall("worker_credit")  # the worker must wait for our next grant
        elif isinstance(event, p.ResponseComplete):
            data = event.data
            if not self._head.done():
                self._head.set_result(p.ResponseHead(event.stream, event.status, event.headers,
                                                     len(data)))
            if data:
                self._push(data)
            self._push(_END)
        elif isinstance(event, p.ResponseHead):
            if not self._head.done():
                self._head.set_result(event)
        elif isinstance(event, p.ResponseEnd):
            self._push(_END)
        elif isinstance(event, p.ResponseRelay | p.ResponseDirect | p.DirectEnd):
            self._push(event)  # the body goes on on a socket (front.py: relayed, or direct)
        elif isinstance(event, p.UploadRelay):
            self.upload_relay = event
            self._wake_request_credit()  # the upload task (front.py) answers it
        elif isinstance(event, p.ResponseError):
            self.fail(StreamFailed(event.status, event.message))
        elif isinstance(event, p.RequestCredit):
            self._wake_request_credit()
        elif isinstance(event, p.WsMessage | p.WsClose):
            self._push(event)  # a WebSocket's (supervisor/websocket.py)

    def fail(self, failure: StreamFailed) -> None:
        """The response cannot complete (the worker said so, died, or a limit was hit)."""
        if self.failure is not None:
            return
        self.failure = failure
        if not self._head.done():
            self._head.set_exception(failure)
            self._head.exception()  # mark retrieved: the handler may be gone already
        self._push(failure)
        self._wake_request_credit()

    def _push(self, item: object) -> None:
        self._items.append(item)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _wake_request_credit(self) -> None:
        w = self._request_credit_waiter
        if w is not None and not w.done():
            w.set_result(None)

    # -- for the HTTP handler -------------------------------------------------------------

    async def head(self, timeout: float | None = None) -> p.ResponseHead:
        """The response head; TimeoutError after ``timeout`` seconds (up to
        ``HeadDeadlines.GRAIN`` later: the table's one timer checks them all)."""
        if timeout is None or self._head.done():
            return await self._head
        deadlines = self._deadlines
        deadlines.add(self, timeout)
        try:
            return await self._head
        finally:
            deadlines.discard(self)

    def on_head(self, callback: Callable[[asyncio.Future[p.ResponseHead]], None],
                timeout: float) -> None:
        """:meth:`head` for a callback (the lean path's): ``callback(future)`` once the head
        came, the stream failed or ``timeout`` passed (TimeoutError)."""
        self._deadlines.add(self, timeout)
        self._head.add_done_callback(callback)

    def _head_timeout(self) -> None:
        if not self._head.done():
            self._head.set_exception(TimeoutError())
            self._head.exception()  # retrieved: the handler may be gone already

    async def next_chunk(self) -> bytes | memoryview | p.Frame | None:
        """The next body chunk; None at the end; RESPONSE_RELAY if the rest is to be
        relayed from a socket, RESPONSE_DIRECT if the worker asks for the client's socket,
        DIRECT_END when it has written the body there; raises StreamFailed on failure."""
        while not self._items:
            self._waiter = self._deadlines.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if item is _END:
            return None
        if isinstance(item, StreamFailed):
            raise item
        return item  # type: ignore[return-value]

    def untaken_relay(self) -> p.ResponseRelay | None:
        """A RESPONSE_RELAY nobody took from the stream (a HEAD, a client gone first)."""
        for item in self._items:
            if type(item) is p.ResponseRelay:
                return item
        return None

    def pending_chunks(self) -> int:
        return len(self._items)

    def take_complete_body(self) -> bytes | None:
        """The whole body if it has already arrived (chunks then the end), else None.

        A small response usually arrives in one batch with its head: answering it in one
        write (head and body together) saves a syscall and a trip through aiohttp's
        streaming path.
        """
        items = self._items
        if not items or items[-1] is not _END:
            return None
        if len(items) == 2 and type(items[0]) is bytes:  # one chunk (RESPONSE_COMPLETE's)
            body = items[0]
            items.clear()
            return body
        chunks = list(items)[:-1]
        if not all(isinstance(c, (bytes, memoryview)) for c in chunks):
            return None
        items.clear()
        return b"".join(chunks)

    def push_back(self, body: bytes) -> None:
        """Undo take_complete_body: the body and the end are next again."""
        self._items.extend((body, _END))

    async def wait_request_credit(self, need: int = 1) -> None:
        """Wait until the worker has granted ``need`` bytes of request credit (or the stream
        ends)."""
        while (self.core.peer_credit < need and self.failure is None and not self.closed
               and not self.core.finished and self.upload_relay is None):
            self._request_credit_waiter = self._deadlines.loop.create_future()
            try:
                await self._request_credit_waiter
            finally:
                self._request_credit_waiter = None



class StreamTable:
    """All streams in flight, by stream id; ids are never reused."""

    def __init__(self, on_stall: Callable[[str], None] | None = None) -> None:
        self.streams: dict[int, Stream] = {}
        self._ids = itertools.count(1)
        self.on_stall = on_stall  # told of flow-control stalls, for metrics
        # Told of a RESPONSE_RELAY or UPLOAD_RELAY that came after its stream ended: the
        # socket handed over with it is not wanted (relays.py closes it).
        self.on_late_relay: Callable[[WorkerHandle, p.Frame], None] | None = None
        self.deadlines = HeadDeadlines()
        self._may_log = LogLimiter()

    def open(self, worker: WorkerHandle, request_id: str, method: str, window: int) -> Stream:
        """A new stream; its first frame (REQUEST_HEAD or SCHEDULED) goes out through it."""
        stream = Stream(next(self._ids), worker, request_id, method, window, self.on_stall,
                        self.deadlines)
        self.streams[stream.sid] = stream
        worker.streams.add(stream.sid)
        return stream

    def close(self, stream: Stream) -> None:
        stream.closed = True
        self.deadlines.discard(stream)
        self.streams.pop(stream.sid, None)
        stream.worker.streams.discard(stream.sid)
        stream._wake_request_credit()

    def get(self, sid: int) -> Stream | None:
        return self.streams.get(sid)

    def on_frame(self, worker: WorkerHandle, frame: p.Frame) -> None:
        """A frame from ``worker``: a stream's goes to that stream if it is one of the
        worker's (a protocol violation fails only that stream, 502); the worker's own
        frames (HELLO, PONG, LOG, FATAL) go to its handle."""
        sid = frame.stream
        if sid == 0 or isinstance(frame, p.Log):
            worker.on_frame(frame)
            return
        stream = self.streams.get(sid)
        if stream is None:
            log.debug("dropped %s for finished stream %d", frame.TYPE.name, sid)
            if type(frame) in (p.ResponseRelay, p.UploadRelay) and self.on_late_relay:
                self.on_late_relay(worker, frame)
            return
        if stream.worker is not worker:
            if self._may_log(worker):
                log.warning("rejected %s from %s for stream %d, which belongs to %s (such "
                            "frames from it are logged once a minute)", frame.TYPE.name,
                            worker.name, sid, stream.worker.name)
            return
        try:
            stream.on_frame(frame)
        except p.ProtocolError as e:
            log.warning("%s, stream %d: %s", worker.name, sid, e)
            stream.fail(StreamFailed(502, f"The worker broke the protocol: {e}"))

    def fail_worker(self, worker: WorkerHandle, failure: StreamFailed) -> None:
        for sid in list(worker.streams):
            stream = self.streams.get(sid)
            if stream is not None:
                stream.fail(failure)

    def __len__(self) -> int:
        return len(self.streams)
