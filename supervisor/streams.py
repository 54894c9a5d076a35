"""The supervisor's stream table: one entry per request in flight on a worker.

A :class:`Stream` is where the HTTP side (``front.py``) and the worker side (``channel.py``)
meet. Frames from the worker are validated against the stream's protocol state
(:class:`isoflow.protocol.BodyReceiver`) and turned into things the HTTP handler awaits: the
response head, body chunks, the end, or a failure. Credit in both directions is counted
here too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from isoflow import protocol as p

if TYPE_CHECKING:
    from .pool import WorkerHandle


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


class Stream:
    __slots__ = (
        "_head", "_items", "_request_credit_waiter", "_waiter", "closed", "failure", "method",
        "on_stall", "request_credit", "request_id", "response", "sid", "worker",
    )

    def __init__(self, sid: int, worker: WorkerHandle, request_id: str, method: str,
                 response_window: int, on_stall: Callable[[str], None] | None = None,
                 expects_head: bool = True) -> None:
        loop = asyncio.get_running_loop()
        self.sid = sid
        self.worker = worker
        self.request_id = request_id
        self.method = method
        self.response = p.BodyReceiver("response body", expects_head=expects_head,
                                       window=response_window)
        self.request_credit = p.CreditWindow(worker.request_window)
        self._head: asyncio.Future[p.ResponseHead] = loop.create_future()
        self._items: deque[object] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._request_credit_waiter: asyncio.Future[None] | None = None
        self.failure: StreamFailed | None = None
        self.closed = False
        self.on_stall = on_stall

    # -- from the worker ----------------------------------------------------------------

    def on_frame(self, frame: p.Frame) -> None:
        """Apply a frame from the worker; raises ProtocolError if it breaks the protocol."""
        if isinstance(frame, p.ResponseHead):
            self.response.head()
            if not self._head.done():
                self._head.set_result(frame)
        elif isinstance(frame, p.ResponseBody):
            self.response.data(len(frame.data))
            self._push(frame.data)
            if self.response.window.available == 0 and self.on_stall is not None:
                self.on_stall("worker_credit")  # the worker must wait for our next grant
        elif isinstance(frame, p.ResponseEnd):
            self.response.end()
            self._push(_END)
        elif isinstance(frame, p.ResponseError):
            self.response.error()
            self.fail(StreamFailed(frame.status, frame.message))
        elif isinstance(frame, p.RequestCredit):
            self.request_credit.grant(frame.size)
            self._wake_request_credit()
        else:
            raise p.ProtocolError(f"unexpected {frame.TYPE.name} for a stream")

    def fail(self, failure: StreamFailed) -> None:
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
        """The response head; TimeoutError after ``timeout`` seconds (a timer on the
        head's future: cheaper than asyncio.wait_for's wrapping, once per request)."""
        if timeout is None or self._head.done():
            return await self._head
        loop = asyncio.get_running_loop()
        timer = loop.call_later(timeout, self._head_timeout)
        try:
            return await self._head
        finally:
            timer.cancel()

    def _head_timeout(self) -> None:
        if not self._head.done():
            self._head.set_exception(TimeoutError())
            self._head.exception()  # retrieved: the handler may be gone already

    async def next_chunk(self) -> bytes | memoryview | None:
        """The next body chunk; None at the end; raises StreamFailed on failure."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
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
        chunks = list(items)[:-1]
        if not all(isinstance(c, (bytes, memoryview)) for c in chunks):
            return None
        items.clear()
        return b"".join(chunks)

    def push_back(self, body: bytes) -> None:
        """Undo take_complete_body: the body and the end are next again."""
        self._items.extend((body, _END))

    async def wait_request_credit(self) -> None:
        """Wait until the worker has granted credit for request body (or the stream ends)."""
        while self.request_credit.available <= 0 and self.failure is None and not self.closed:
            self._request_credit_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._request_credit_waiter
            finally:
                self._request_credit_waiter = None

    @property
    def finished(self) -> bool:
        return self.response.finished


class StreamTable:
    """All streams in flight, by stream id; ids are never reused."""

    def __init__(self, on_stall: Callable[[str], None] | None = None) -> None:
        self.streams: dict[int, Stream] = {}
        self._ids = itertools.count(1)
        self.on_stall = on_stall  # told of flow-control stalls, for metrics

    def open(self, worker: WorkerHandle, request_id: str, method: str, window: int,
             *, expects_head: bool = True) -> Stream:
        """A new stream; ``expects_head=False`` for a scheduled event (END or ERROR only)."""
        stream = Stream(next(self._ids), worker, request_id, method, window, self.on_stall,
                        expects_head)
        self.streams[stream.sid] = stream
        worker.streams.add(stream.sid)
        return stream

    def close(self, stream: Stream) -> None:
        stream.closed = True
        self.streams.pop(stream.sid, None)
        stream.worker.streams.discard(stream.sid)
        stream._wake_request_credit()

    def get(self, sid: int) -> Stream | None:
        return self.streams.get(sid)

    def fail_worker(self, worker: WorkerHandle, failure: StreamFailed) -> None:
        for sid in list(worker.streams):
            stream = self.streams.get(sid)
            if stream is not None:
                stream.fail(failure)

    def __len__(self) -> int:
        return len(self.streams)
