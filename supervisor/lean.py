"""The lean path: a plain GET answered without aiohttp's per-request machinery.

Most requests a Workers service sees are a GET without a body on a kept-alive HTTP/1.1
connection, answered with a small body that arrives whole with its head. For those,
aiohttp's handler (a task, a request object, a chain of coroutines awaiting a future, the
response's bookkeeping) cost the front about as much as everything else it does. A
:class:`LeanRequest` is such a GET on an idle connection: the front's protocol
(``front._FrontHandler``) has parsed it with aiohttp's parser; it is routed, checked and
sent to a worker by the same code as any request (``Front.open_stream``), and a callback
writes the answer into the transport when the head arrives with the whole body
(``Front.write_whole``, the bytes aiohttp's path writes).

Anything else goes back to aiohttp, with the stream as it is: a head the front refuses, no
route or no free worker (it is never opened here), a failure, a timeout, a streamed body,
a WebSocket. The message is queued for aiohttp's handler as if it had just been parsed,
and ``Front.handle`` goes on from the response head (``handoff``): what the client sees is
what aiohttp's path gives. Bytes the client sends meanwhile wait (reading paused), so an
answer never overtakes another on the connection.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import HttpVersion11
from aiohttp.streams import EmptyStreamReader

from . import accesslog
from .exchange import CLIENT_GONE, Exchange, request_id
from .pool import PoolRetired
from .whole import whole_body

if TYPE_CHECKING:
    from .front import Front, _FrontHandler
    from .metrics import RouteStats
    from .pool import WorkerPool
    from .routing import Route
    from .server import Active
    from .streams import Stream


class LeanRequest:
    """One GET served on the lean path, from its parsed head to its answer's end."""

    __slots__ = ("active", "ex", "front", "handler", "message", "pool", "remote", "route",
                 "started", "stats", "stream")

    def __init__(self, front: Front, handler: _FrontHandler, message: Any, active: Active,
                 route: Route, pool: WorkerPool, stats: RouteStats, ex: Exchange,
                 remote: str, started: float) -> None:
        self.front = front
        self.handler = handler
        self.message = message  # aiohttp's RawRequestMessage
        self.active = active
        self.route = route
        self.pool = pool
        self.stats = stats
        self.ex = ex
        self.remote = remote
        self.started = started
        self.stream: Stream = None  # type: ignore[assignment]  # opened by start()

    @classmethod
    def start(cls, front: Front, handler: _FrontHandler, message: Any,
              payload: object) -> LeanRequest | None:
        """Serve ``message`` on the lean path if it is a plain GET (HTTP/1.1, kept alive, no
        body, an origin-form target, a head the front accepts) that a worker can take now;
        None leaves it to aiohttp (nothing was done)."""
        if (getattr(message, "method", None) != "GET" or type(payload) is not EmptyStreamReader
                or message.version != HttpVersion11 or message.should_close
                or message.upgrade):
            return None
        active = front.active()
        settings = active.settings
        url = front.lean_url(handler, message, settings)
        if url is None:
            return None
        host = message.headers["Host"]
        route = active.router.match(host, message.url.path)
        if route is None:
            return None
        pool = active.pools[route.script]
        stats = front.metrics.route(route.name)
        try:
            worker = pool.take()
        except PoolRetired:  # aiohttp's path routes it again
            return None
        if worker is None:  # the path that queues is aiohttp's
            return None
        stats.in_flight += 1
        started = front.loop.time()
        ex = Exchange(request_id(message.headers, settings.request_id_header), route.name)
        peer = handler.peername
        remote = str(peer[0]) if isinstance(peer, tuple | list) else str(peer or "")
        lean = cls(front, handler, message, active, route, pool, stats, ex, remote, started)
        lean.stream = stream = front.open_stream(ex, settings, worker, "GET",
                                                 message.raw_headers, message.path, host, url,
                                                 remote, False)
        handler._request_in_progress = True  # aiohttp's shutdown waits for it
        stream.on_head(lean._answer, route.wall_time or pool.limits.wall_time)
        return lean

    def _answer(self, head_future: asyncio.Future) -> None:
        """The response head came, or the stream failed or timed out."""
        handler = self.handler
        if handler.lean is not self:  # the client went away first (lost)
            return
        stream = self.stream
        if head_future.exception() is not None:
            return self._hand_off()
        head = head_future.result()
        body = whole_body("GET", stream, head)
        if body is None:
            return self._hand_off()
        ex = self.ex
        ex.status = head.status
        transport = handler.transport
        if transport is None or transport.is_closing():
            ex.aborted = True
            return self._end()
        fields = self.front.response_fields(head, ex.request_id)
        if not self.front.write_whole(transport, HttpVersion11, head.status, fields, body, True,
                                      ex):
            stream.push_back(body)  # aiohttp's path answers 502
            return self._hand_off()
        if handler.writing_paused:  # the client does not read: send_timeout
            self.front.loop.create_task(self._drain())
            return
        ex.finished = True
        self._end()

    async def _drain(self) -> None:
        handler, ex = self.handler, self.ex
        try:
            ex.finished = await self.front.drained(handler, ex)
        except ConnectionError:
            ex.aborted = True
        if handler.lean is self:
            self._end()

    def _hand_off(self) -> None:
        """aiohttp's handler goes on from the response head (``Front.handle``)."""
        self.handler.lean_done(self)

    def _end(self) -> None:
        """The answer is written (or the connection broken): the stream is over, the
        connection waits for its next request as after any of aiohttp's."""
        self._close_stream()
        handler = self.handler
        handler._request_in_progress = False
        if handler._handler_waiter is not None:  # aiohttp's shutdown waits for this
            handler._handler_waiter.set_result(None)
        if handler._parser is not None:
            handler._parser.message_consumed()
        if handler._manager is not None:
            handler._manager.requests_count += 1
        if handler._close or handler._force_close or self.ex.aborted:
            handler.force_close()
        else:  # aiohttp's keep-alive clock, as its handler sets it after each request
            handler._keepalive = True
            loop = self.front.loop
            close_time = loop.time() + handler._keepalive_timeout
            handler._next_keepalive_close_time = close_time
            if handler._keepalive_handle is None:
                handler._keepalive_handle = loop.call_at(close_time,
                                                         handler._process_keepalive)
        handler.lean_done(None)

    def lost(self) -> None:
        """The connection closed before the answer was written (or before aiohttp's
        handler took it over)."""
        ex = self.ex
        if not ex.status:
            ex.status = CLIENT_GONE
        elif not ex.finished:
            ex.aborted = True
        self._close_stream()
        self.handler._request_in_progress = False

    def _close_stream(self) -> None:
        """What ``Front.handle`` does at a request's end: the stream, the route's numbers,
        the access log."""
        front, ex, stream = self.front, self.ex, self.stream
        if stream.failure is None:
            stream.cancel("client gone or request ended")
        front.release(stream, self.pool)
        self.stats.in_flight -= 1
        duration = front.loop.time() - self.started
        front.metrics.request_done(ex.route, ex.status, duration, 0, ex.bytes_out)
        if self.active.settings.access_log and accesslog.enabled():
            front.access_line(ex, duration, self.remote, "GET", str(self.message.url), "1.1")
