"""The HTTP front: every request is routed to a script's pool and becomes a stream on a worker.

Request bodies are read from the client only while the worker has granted credit, so a
script that does not read its body stops the upload (TCP backpressure). Response chunks
are written to the client as they come; credit goes back to the worker once they were
handed to the socket (``await resp.write`` drains), so a slow client slows the worker.

Failures are visible to the client: before the response head it gets a 4xx/5xx with a
clear message; after the head the connection is aborted (no terminating chunk, or fewer
bytes than Content-Length), never a silently short "complete" body. A body that only the
connection's close delimits (HTTP/1.0 without a known length) ends with a TCP reset
instead, since a close would look like its end; a known length is always sent.

Limits checked here: the request body size (413: at once from Content-Length, else while
the upload streams), the pool's queue (503 with Retry-After), the route's wall time (504),
a client that sends its body too slowly (``body_timeout``: 408, or an aborted response) or
does not take the response (``send_timeout``: the connection is aborted).

A GET or HEAD without a body whose worker died before answering is sent once more, to
another worker (``retry_idempotent``): the client has received nothing yet and the request
has no body that could have been consumed, so sending it again is safe by HTTP's own rules.

Every request gets a request id (from the configured header, or made up), which the
script sees in that header, the response carries, and the access log and console lines
are tagged with.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import os
import re
import socket
import struct
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import HttpVersion11, hdrs, http_writer, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.helpers import must_be_empty_body
from aiohttp.http_exceptions import LineTooLong
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_protocol import RequestHandler
from yarl import URL

from isoflow import protocol as p
from isoflow.protocol import headers as header_bytes

from . import accesslog, websocket, whole
from .exchange import CLIENT_GONE, Exchange, request_id
from .handover import Handovers
from .lean import LeanRequest
from .metrics import Metrics
from .pool import Overloaded, PoolRetired, WorkerPool
from .rawbody import RawBody
from .relays import Relays, flushed
from .routing import Route
from .streams import Stream, StreamFailed, StreamTable, WorkerGone
from .whole import whole_body

if TYPE_CHECKING:
    from collections.abc import Callable

    from .server import Active
    from .settings import Settings
    from .workers import WorkerHandle

log = logging.getLogger("isoflow.supervisor.front")

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
    "upgrade", "content-length",
})
SERVER = "isoflow"
_REROUTES = 3  # times a request may be routed again because its pool was replaced
_IDEMPOTENT = frozenset({"GET", "HEAD"})
# RFC 3986 host [":" port]: an IPv6 literal, or a non-empty reg-name (IPv4 included; an http
# URI's host is never empty) without percent-encoding, which WHATWG URLs refuse in a host.
# Nothing in it can end the authority, so it cannot change the path.
_HOST = re.compile(r"\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9\-._~!$&'()*+,;=]+)")
_PORT = re.compile(r"[0-9]{0,5}")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")

header_bytes.install(http_writer)  # header bytes 0x80-0xFF leave as they came (latin-1)


@functools.lru_cache(maxsize=4096)  # clients send the same few hosts again and again
def valid_host(value: str) -> bool:
    """Is ``value`` a Host header an URL can be built from as it is (port 0-65535)? A name
    ending in a number must be an IPv4 address, as WHATWG URLs require."""
    host, colon, port = value.rpartition(":") if not value.endswith("]") else (value, "", "")
    if not colon:
        host = value
    elif not _PORT.fullmatch(port) or (port and int(port) > 65535):
        return False
    m = _HOST.fullmatch(host)
    if m is None:
        return False
    try:
        if m.group(1) is not None:
            ipaddress.IPv6Address(m.group(1))
        elif _NUMERIC_LABEL.fullmatch((name := host.removesuffix(".")).rpartition(".")[2]):
            ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _origin(scheme: str, host: str) -> str | None:
    """``scheme://host`` if yarl writes that origin so (a lowercase host without its
    scheme's default port), else None."""
    origin = f"{scheme}://{host}"
    return origin if str(URL.build(scheme=scheme, authority=host)) == origin else None


def request_url(request: web.BaseRequest) -> str:
    """``str(request.url)``, the URL the script sees. aiohttp builds it with yarl from the
    scheme, the Host and the target (3 µs a request); an origin-form target with no dot
    segment and no empty query or fragment comes out of that unchanged, so it is joined to
    its origin as it is (tests/test_request_url.py checks this against yarl)."""
    return joined_url(request.scheme, request.host, request.raw_path) or str(request.url)


def joined_url(scheme: str, host: str, raw: str) -> str | None:
    """``request_url`` for an origin-form target that yarl would not change, else None."""
    if raw[:1] == "/" and "/." not in raw and raw[-1] not in "?#" and "?#" not in raw:
        origin = _origin(scheme, host)
        if origin is not None:
            return origin + raw
    return None


def _with_host(headers: list[list[str]], host: str) -> list[list[str]]:
    """``headers`` with ``host`` as their one Host field, first."""
    return [["Host", host], *(h for h in headers if h[0].lower() != "host")]


def _send_continue(request: web.BaseRequest) -> None:
    """``100 Continue``, to a client that sent ``Expect: 100-continue`` and waits for it
    before its body (RFC 9110, 10.1.1): when the body's first bytes are read (the worker's
    initial window takes them at once), unless the final answer went first."""
    if request.transport is not None and not request.transport.is_closing():
        request.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")


class FrontServer(web.Server):
    """aiohttp's server for ``front``'s requests, whose parser answers **431** to a header
    field over its limit (and 414 to a request line over its own), where aiohttp says 400."""

    def __init__(self, front: Front, *args, **kwargs) -> None:
        self.front = front
        # The parser's error names only the limit it hit: keep the two limits apart by a
        # byte so that the handler can tell a long request line from a long field.
        if kwargs.get("max_line_size", 8190) == kwargs.get("max_field_size", 8190):
            kwargs["max_line_size"] = kwargs.get("max_line_size", 8190) + 1
        super().__init__(front.handle, *args, **kwargs)

    def __call__(self) -> RequestHandler:
        return _FrontHandler(self, loop=self._loop, **self._kwargs)

    def _make_request(self, message: RawRequestMessage, payload: StreamReader,
                      protocol: RequestHandler, writer: AbstractStreamWriter,
                      task: asyncio.Task[None]) -> web.BaseRequest:
        # aiohttp's parser gives no URL for a CONNECT without a target ("CONNECT  \r\n"),
        # and BaseRequest then fails: the connection was left open, unanswered, with no
        # timeout. An empty URL is answered 400 and closed (Front._check_head).
        if message.url is None:
            message = message._replace(url=URL(""))
        return super()._make_request(message, payload, protocol, writer, task)


class _FrontHandler(RequestHandler):
    """aiohttp's protocol, which also serves a plain GET on an idle connection itself
    (``lean.py``), records a chunked request body's raw bytes (their upload can then be
    relayed, ``rawbody.py``), says 414 and 431 (``FrontServer``) and fails a WebSocket on
    a client frame that is not masked (``websocket.py``)."""

    __slots__ = ("begun", "front", "handoff", "held", "lean", "raw_body", "websocket")

    def __init__(self, manager: FrontServer, *args, **kwargs) -> None:
        super().__init__(manager, *args, **kwargs)
        self.front = manager.front
        self.raw_body: RawBody | None = None
        self.websocket: web.WebSocketResponse | None = None  # set before its handshake
        self.lean: LeanRequest | None = None  # the lean request in flight
        self.handoff: LeanRequest | None = None  # one aiohttp's handler is to go on with
        self.held: list[bytes] = []  # what came while a lean request was in flight
        self.begun = False  # aiohttp's start() has run (on Python < 3.12 it starts late)

    async def start(self) -> None:
        self.begun = True
        await super().start()

    def set_parser(self, parser: Any, data_received_cb: Callable[[], None] | None = None,
                   ) -> None:
        # Only a WebSocket's reader is set here (what came after its handshake goes in now).
        super().set_parser(websocket.MaskedFramesOnly(parser, self.websocket),
                           data_received_cb)

    def data_received(self, data: bytes) -> None:
        if self.lean is not None:  # what follows waits for the lean request's answer
            self.held.append(data)
            if self.transport is not None:
                self.transport.pause_reading()
            return
        # aiohttp's start() waits for a request (or has yet to run): it is woken below,
        # unless the request goes the lean way (aiohttp parses it, and does not see it).
        waiter = self._waiter
        idle = ((not self.begun or (waiter is not None and not waiter.done()))
                and not self._messages and self.raw_body is None
                and self._payload_parser is None and not self._upgraded)
        if idle:
            self._waiter = None
        raw = self.raw_body
        if raw is not None and not raw.add(data):
            raw = self.raw_body = None
        messages = self._messages
        before = len(messages)
        try:
            super().data_received(data)
        finally:
            if idle:
                self._waiter = waiter
        if len(messages) == before + 1:  # a request whose head ended in these bytes
            raw = self.raw_body = RawBody.start(*messages[-1], data)
        if raw is not None and raw.payload.is_eof():
            self.raw_body = None
        if idle and messages:
            if len(messages) == 1 and not self._close and not self._force_close:
                lean = LeanRequest.start(self.front, self, *messages[0])
                if lean is not None:
                    messages.clear()
                    self.lean = lean
                    return
            if waiter is not None:
                waiter.set_result(None)

    def lean_done(self, handoff: LeanRequest | None) -> None:
        """The lean request is answered, or (``handoff``) is now aiohttp's to go on with;
        what came meanwhile is read."""
        self.lean = None
        if handoff is not None:
            self.handoff = handoff
            self._messages.append((handoff.message, EMPTY_PAYLOAD))
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        held = self.held
        if held:
            data = b"".join(held)
            held.clear()
            if self.transport is not None:
                self.transport.resume_reading()
            self.data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        for request in (self.lean, self.handoff):  # not answered: the client is gone
            if request is not None:
                request.lost()
        self.lean = self.handoff = None
        super().connection_lost(exc)

    def _process_keepalive(self) -> None:
        if self.lean is not None:  # a request in flight: its end sets the next close time
            self._keepalive_handle = None
            return
        super()._process_keepalive()

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if isinstance(exc, LineTooLong):
            kwargs = self._manager._kwargs if self._manager is not None else {}
            line_limit = kwargs.get("max_line_size")
            status = 414 if exc.args[1] == line_limit != kwargs.get("max_field_size") else 431
            exc.code = status  # what the log line says (server.py's filter)
            message = ("The request line is too long." if status == 414
                       else "A request header field is too large.")
        resp = super().handle_error(request, status, exc, message)
        resp.headers["Server"] = SERVER
        return resp


def _field_fault(raw_headers: tuple[tuple[bytes, bytes], ...], limit: int) -> str | None:
    """What is wrong with a request's header fields: their size over ``limit``
    ("header_too_large"), more than one Host or one that is not host[:port] ("bad_host")."""
    size = 0
    hosts = []
    for k, v in raw_headers:  # one pass: the fields' size and the Host fields
        size += len(k) + len(v) + 4
        if len(k) == 4 and k.lower() == b"host":
            hosts.append(v)
    if size > limit:
        return "header_too_large"
    if len(hosts) > 1 or (hosts and not valid_host(hosts[0].decode("latin-1"))):
        return "bad_host"
    return None


def _plain(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=message + "\n", headers=headers)


class BodyTooLarge(StreamFailed):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyTimeout(StreamFailed):
    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"No request body arrived for {seconds:g} s.")


class HeadTooLarge(StreamFailed):
    """The request's head does not fit a frame (431)."""


class _RetryElsewhere(Exception):
    """The worker died before answering a request that may be sent again."""


_REASONS = {status.value: status.phrase for status in HTTPStatus}


def _reason(status: int) -> str:
    """The reason phrase (aiohttp would look it up through the HTTPStatus enum each time)."""
    return _REASONS.get(status, "Unknown")


_JOIN_MAX = 16384  # a whole body up to this size is copied to join its head in one write
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a TCP reset
_LINGER_OFF = struct.pack("ii", 0, 0)  # the default: close() sends a FIN after the data


def _head_fields(fields: list[tuple[str, str]], status: int, length: int,
                 body: bytes | None) -> int:
    """A HEAD answer's Content-Length (-1: none) and Content-Type are its GET's (RFC 9110,
    9.3.2): the length of the body the script made for it when that came whole with the
    head (``body``; a GET gets one then), and aiohttp's ``application/octet-stream`` for a
    body not known to be empty that has none (added to a GET's, to no HEAD answer)."""
    if length < 0 and body is not None:
        length = len(body)
    if length != 0 and not must_be_empty_body("GET", status) and all(
            name.lower() != "content-type" for name, _ in fields):
        fields.append(("Content-Type", "application/octet-stream"))
    return length


def _close_delimited(resp: web.StreamResponse) -> bool:
    """Whether the client can tell the end of this (prepared) body only by the close."""
    headers = resp.headers
    return hdrs.CONTENT_LENGTH not in headers and hdrs.TRANSFER_ENCODING not in headers


def _reset_on_close(transport: asyncio.BaseTransport, reset: bool) -> None:
    """Make the socket's close a TCP reset (or again a FIN, ``reset=False``)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed, or not TCP
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            _LINGER_RESET if reset else _LINGER_OFF)


def _shut_down(client: socket.socket) -> None:
    """End the connection for every copy of its socket (a worker may hold one)."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(client.fileno())) as sock:
        sock.shutdown(socket.SHUT_RDWR)


class Front:
    def __init__(self, active: Callable[[], Active], table: StreamTable,
                 metrics: Metrics, handovers: Handovers | None = None) -> None:
        self.loop = asyncio.get_running_loop()  # once: on Python 3.11 each call is a getpid()
        self.active = active
        self.table = table
        self.metrics = metrics
        self.relays = Relays(handovers, metrics)  # bodies moved socket to socket
        table.on_late_relay = self.relays.discard

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        loop = self.loop
        protocol = request.protocol
        handoff = protocol.handoff  # a lean request that needs more than the lean path
        if handoff is None:
            started = loop.time()
            settings = self.active().settings
            ex = Exchange(request_id(request.headers, settings.request_id_header))
        else:
            protocol.handoff = None
            started = handoff.started
            settings = handoff.active.settings
            ex = handoff.ex
        try:
            resp = await self._route_and_serve(request, ex, handoff)
            ex.status = resp.status
            if ex.close_connection and not resp.prepared:
                resp.force_close()  # Connection: close
            if not resp.prepared:  # isoflow's own answers (4xx, 5xx) say who and which too
                resp.headers.setdefault("Server", SERVER)
                resp.headers.setdefault(settings.request_id_header, ex.request_id)
            return resp
        except asyncio.CancelledError:  # the connection was lost (or the service stops)
            if not ex.status:
                ex.status = CLIENT_GONE
            elif not ex.finished:
                ex.aborted = True
            raise
        finally:
            duration = loop.time() - started
            self.metrics.request_done(ex.route or "-", ex.status, duration, ex.bytes_in,
                                      ex.bytes_out)
            if settings.access_log and accesslog.enabled():
                self.access_line(ex, duration, request.remote or "", request.method,
                                 request.path_qs,
                                 f"{request.version.major}.{request.version.minor}")

    @staticmethod
    def access_line(ex: Exchange, duration: float, client: str, method: str, target: str,
                    version: str) -> None:
        accesslog.write(accesslog.AccessRecord(
            client, method, target, version, ex.status, ex.bytes_in, ex.bytes_out, duration,
            ex.route, ex.worker, ex.request_id, ex.aborted,
        ))

    async def _route_and_serve(self, request: web.BaseRequest, ex: Exchange,
                               handoff: LeanRequest | None = None) -> web.StreamResponse:
        if handoff is None:
            refused = self._check_head(request)
            if refused is not None:
                return refused
        retry = (self.active().settings.retry_idempotent and request.method in _IDEMPOTENT
                 and not request.body_exists)
        failed = None  # the worker that died before answering, when retrying
        for _ in range(_REROUTES + 1):
            stream = None
            if handoff is not None:  # routed, with a worker and a stream already
                active, route, pool, stats = (handoff.active, handoff.route, handoff.pool,
                                              handoff.stats)
                stream, worker, handoff = handoff.stream, handoff.stream.worker, None
            else:
                active = self.active()
                route = active.router.match(request.host, request.path)
                if route is None:
                    self.metrics.rejected.labels("no_route").inc()
                    return _plain(404, "No route matches this host and path.")
                ex.route = route.name
                pool = active.pools[route.script]
                limit = pool.limits.max_body_size
                length = request.content_length
                if limit and length is not None and length > limit:
                    return self._refused("body_too_large", 413, BodyTooLarge(limit).message)
                stats = self.metrics.route(route.name)
                stats.in_flight += 1
                try:
                    worker = pool.take(failed) or await pool.queue()
                except PoolRetired:
                    stats.in_flight -= 1
                    continue
                except Overloaded as e:
                    stats.in_flight -= 1
                    self.metrics.rejected.labels(e.reason).inc()
                    return _plain(503, e.message, {"Retry-After": "1"})
            try:
                return await self._serve(request, ex, active, route, pool, worker, retry,
                                         stream)
            except _RetryElsewhere:
                log.info("request %s: %s died before answering; retrying on another worker",
                         ex.request_id, worker.name)
                retry = False
                failed = worker
                continue
            finally:
                stats.in_flight -= 1
        return _plain(503, "The service is reloading; try again shortly.", {"Retry-After": "1"})

    def open_stream(self, ex: Exchange, settings: Settings, worker: WorkerHandle, method: str,
                    raw_headers: tuple[tuple[bytes, bytes], ...], target: str, host: str,
                    url: str, remote: str, has_body: bool) -> Stream:
        """A stream on ``worker`` with the request's head sent; a head that could not be
        sent fails the stream (``HeadTooLarge``, or ``WorkerGone``), as a worker's answer
        would: the handler finds that failure where it awaits the response head."""
        ex.worker = worker.name
        stream = self.table.open(worker, ex.request_id, method, settings.response_window)
        header = settings.request_id_header
        own = header.lower().encode("latin-1")  # the client's is replaced by ours
        headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in raw_headers
                   if k.lower() != own]
        if target[:1] != "/":  # an absolute-form target (RFC 9112 3.2.2): its authority,
            headers = _with_host(headers, host)  # as routed, is the Host
        headers.append([header, ex.request_id])
        head = p.RequestHead(stream.sid, ex.request_id, method, url, headers, remote, has_body,
                             settings.response_window)
        try:
            sent = stream.send(head)
        except p.ProtocolError as e:  # a head over the frame limit (MAX_HEAD_BYTES)
            log.info("request %s: %s", ex.request_id, e)
            stream.fail(HeadTooLarge(431, "The request head is too large."))
        else:
            if not sent:
                stream.fail(WorkerGone("The worker is not reachable."))
        return stream

    async def _serve(self, request: web.BaseRequest, ex: Exchange, active: Active,
                     route: Route, pool: WorkerPool, worker: WorkerHandle,
                     retry: bool = False, stream: Stream | None = None) -> web.StreamResponse:
        settings = active.settings
        if stream is None:
            stream = self.open_stream(ex, settings, worker, request.method, request.raw_headers,
                                      request.raw_path, request.host, request_url(request),
                                      request.remote or "", request.body_exists)
        upload: asyncio.Task | None = None
        try:
            has_body = request.body_exists
            ex.continue_due = has_body and request.version >= HttpVersion11 and \
                request.headers.get("Expect", "").lower() == "100-continue"
            if has_body and stream.failure is None:
                upload = self.loop.create_task(
                    self._upload(stream, request, pool, ex))
            wall_time = route.wall_time or pool.limits.wall_time
            try:
                rhead = await stream.head(wall_time)
            except TimeoutError:
                log.warning("request %s: no response within %.1f s", ex.request_id, wall_time)
                return _plain(504, "The worker did not respond in time.")
            except StreamFailed as e:
                if retry and isinstance(e, WorkerGone):
                    raise _RetryElsewhere from None
                resp = _plain(e.status, e.message)
                if isinstance(e, BodyTooLarge | BodyTimeout | HeadTooLarge):
                    resp.force_close()  # the rest of the request stays unread
                return resp
            return await self._respond(request, stream, rhead, pool, ex)
        finally:
            if upload is not None and not upload.done():
                upload.cancel()
            if stream.failure is None:
                stream.cancel("client gone or request ended")
            self.release(stream, pool)

    def release(self, stream: Stream, pool: WorkerPool) -> None:
        """The stream is over for its worker (at the end, or once its body is relayed)."""
        if not stream.closed:
            if (relay := stream.untaken_relay()) is not None:
                self.relays.discard(stream.worker, relay)
            self.table.close(stream)
            pool.release(stream.worker)

    def _check_head(self, request: web.BaseRequest) -> web.Response | None:
        """The request head's limits aiohttp does not check: HTTP/1.x (an HTTP/0.9 request
        line has no version: 400; "HTTP/2.0" on this HTTP/1 connection: 505; 1.2 and later
        minors are answered as 1.1), CONNECT (501: not a proxy), userinfo in an
        absolute-form target (400), a transfer coding besides chunked (501), the total size
        of the header fields (431) and the Host, which becomes part of the script's
        ``request.url`` (400)."""
        if request.version > HttpVersion11:
            major = request.version.major
            # aiohttp answers in the request's version (a cached property): answer 1.1.
            request._version = request._cache["version"] = HttpVersion11
            if major > 1:
                return self._refused("bad_request", 505,
                                     "This server speaks HTTP/1.x on this connection.")
        if request.version < (1, 0) or not request.raw_path:
            # aiohttp answers in the request's version (a cached property): answer 1.1.
            request._version = request._cache["version"] = HttpVersion11
            return self._refused("bad_request", 400,
                                 "The request line is not METHOD TARGET HTTP/1.x.")
        target = request.raw_path
        if target[:1] != "/":  # absolute-form, authority-form (CONNECT) or "*"
            if request.method == "CONNECT":  # a tunnel's bytes may follow: closed
                return self._refused("bad_request", 501,
                                     "CONNECT is not supported: this server is not a proxy.")
            if "@" in target.partition("//")[2].partition("/")[0]:  # RFC 9110, 4.2.4
                return self._refused("bad_request", 400,
                                     "The request target carries userinfo (user@host).")
        coding = request.headers.get("Transfer-Encoding")
        if coding is not None and coding.strip().lower() != "chunked":
            # aiohttp's parser takes "gzip, chunked" and leaves the gzip to the reader: the
            # script would get the body still encoded (RFC 9112, 6.1: 501).
            return self._refused("bad_request", 501,
                                 "Only the chunked transfer coding is supported.")
        limit = self.active().settings.max_header_size
        fault = _field_fault(request.raw_headers, limit)
        if fault == "header_too_large":
            return self._refused("header_too_large", 431,
                                 f"The request header fields are larger than {limit} bytes.")
        if fault == "bad_host":
            return self._refused("bad_host", 400, "The Host header is not a valid host[:port].")
        return None

    def lean_url(self, handler: _FrontHandler, message: Any, settings: Settings) -> str | None:
        """The URL the script sees of a GET the lean path may serve (``lean.py``): its
        head passes ``_check_head`` (an HTTP/1.1 request, an origin-form target, no
        transfer coding, header fields within their limit, one valid Host) and
        ``request_url`` needs no yarl; else None."""
        raw = message.path
        if raw[:1] != "/" or "Transfer-Encoding" in message.headers:
            return None
        host = message.headers.get("Host")
        if host is None or _field_fault(message.raw_headers, settings.max_header_size):
            return None
        return joined_url("https" if handler.ssl_context is not None else "http", host, raw)

    def _refused(self, reason: str, status: int, message: str) -> web.Response:
        """A request refused before it reaches a worker, counted by ``reason``; the
        connection closes after the answer (the request's body, if any, stays unread)."""
        self.metrics.rejected.labels(reason).inc()
        resp = _plain(status, message)
        resp.force_close()
        return resp

    async def _respond(self, request: web.BaseRequest, stream: Stream, head: p.ResponseHead,
                       pool: WorkerPool, ex: Exchange) -> web.StreamResponse:
        ex.continue_due = False  # a 100 Continue goes before the final answer, or never
        if head.status == 101 and stream.core.upgraded:  # a WebSocket (the core checked it)
            settings = self.active().settings
            return await websocket.serve(
                request, stream, head, pool.limits, ex,
                {"Server": SERVER, settings.request_id_header: ex.request_id},
                settings.send_timeout)
        if not 200 <= head.status <= 599:  # 1xx (other than a WebSocket's 101) or not HTTP
            log.warning("request %s: the script answered status %d; sending 502",
                        stream.request_id, head.status)
            return _plain(502, f"The script answered an invalid status {head.status}.")
        ex.status = head.status  # what the client gets, even if it leaves before we return
        fields = self.response_fields(head, ex.request_id)
        length = head.length
        if request.method == "HEAD":
            length = _head_fields(fields, head.status, length, stream.take_complete_body())
            body = None
        else:
            body = whole_body(request.method, stream, head)
            if body is not None:
                return await self._send_whole(request, head.status, fields, body, ex)
            body = stream.take_complete_body()
        if body is not None and (length < 0 or length == len(body)):
            resp: web.StreamResponse = web.Response(status=head.status, body=body,
                                                    reason=_reason(head.status))
            length = len(body)
        else:
            if body is not None:  # the worker broke its own Content-Length: abort below
                stream.push_back(body)
            resp = web.StreamResponse(status=head.status, reason=_reason(head.status))
            body = None
        if header_bytes.has_control(text for field in fields for text in field):
            return self._invalid_head(ex)  # aiohttp's serializer would refuse it: no answer
        resp.headers.extend(fields)
        if length >= 0 and body is None:
            resp.content_length = length  # a web.Response sets its own from the body
        if ex.close_connection or (length < 0 and request.version < HttpVersion11):
            # Its upload was relayed (_relay_upload), or the body's end is the close (HTTP/1.0
            # without a length): aiohttp would keep an HTTP/1.0 keep-alive client's open.
            resp.force_close()
        if body is not None:  # complete already: aiohttp writes head and body at once
            ex.bytes_out = len(body)
            ex.finished = True
            return resp
        try:
            await self._send_body(request, stream, resp, length, pool, ex)
        except ConnectionResetError:
            log.debug("request %s: the client went away", stream.request_id)
            ex.aborted = True
            resp.force_close()
        return resp

    def response_fields(self, head: p.ResponseHead, request_id: str) -> list[tuple[str, str]]:
        """The response's header fields for the client: the script's less the hop-by-hop
        ones (the fixed ones, and every field its Connection names), with Server and the
        request id added when the script sent neither."""
        header = self.active().settings.request_id_header
        own_id = header.lower()
        fields: list[tuple[str, str]] = []
        lowered: list[str] = []
        connection: list[str] = []  # the Connection fields' values
        for name, value in head.headers:
            lower = name.lower()
            if lower not in HOP_BY_HOP:
                fields.append((name, value))
                lowered.append(lower)
            elif lower == "connection":
                connection.append(value)
        if connection:  # the fields it names are hop-by-hop too (RFC 9110, 7.6.1)
            named = header_bytes.field_tokens(connection)
            kept = [i for i, lower in enumerate(lowered) if lower not in named]
            fields = [fields[i] for i in kept]
            lowered = [lowered[i] for i in kept]
        if "server" not in lowered:
            fields.append(("Server", SERVER))
        if own_id not in lowered:
            fields.append((header, request_id))
        return fields

    def _invalid_head(self, ex: Exchange) -> web.Response:
        """The 502 for a response head with a control character in a field (CR LF would
        inject fields: the runtime's Headers refuse it, a forged frame does not)."""
        log.warning("request %s: the script's response head has a control character in a "
                    "field; sending 502", ex.request_id)
        return _plain(502, "The script's response head is not valid HTTP.")

    async def _send_whole(self, request: web.BaseRequest, status: int,
                          fields: list[tuple[str, str]], body: bytes,
                          ex: Exchange) -> web.StreamResponse:
        """Answer with a body that is whole already: head and body in one write
        (``whole.py``), then wait only while the client does not read (``send_timeout``)."""
        keep_alive = request.keep_alive and not ex.close_connection
        reason = _reason(status)
        transport = request.transport
        if transport is None or transport.is_closing():
            ex.aborted = True
            return whole.WholeResponse(status, reason, False)
        if not self.write_whole(transport, request.version, status, fields, body, keep_alive,
                                ex):
            return self._invalid_head(ex)
        resp = whole.WholeResponse(status, reason, keep_alive)
        protocol = request.protocol
        if protocol.writing_paused and not await self.drained(protocol, ex):
            resp.force_close()
            return resp
        ex.finished = True
        return resp

    async def drained(self, protocol: RequestHandler, ex: Exchange) -> bool:
        """Wait while the client does not take what was written; False once it took
        nothing for ``send_timeout``: then the connection is aborted (and that logged).
        Raises ConnectionError if it is lost meanwhile."""
        send_timeout = self.active().settings.send_timeout
        try:
            async with asyncio.timeout(send_timeout):
                await protocol._drain_helper()  # what aiohttp's StreamWriter.drain awaits
        except TimeoutError:
            log.warning("request %s: the client took nothing for %g s; aborting",
                        ex.request_id, send_timeout)
            ex.aborted = True
            if protocol.transport is not None:
                protocol.transport.abort()
            return False
        return True

    def write_whole(self, transport: asyncio.Transport, version: tuple[int, int], status: int,
                    fields: list[tuple[str, str]], body: bytes, keep_alive: bool,
                    ex: Exchange) -> bool:
        """Head and body in one write (``whole.py``); False, and nothing written, for a
        head with a control character in a field (``_invalid_head``)."""
        try:
            head = whole.head_bytes(version, status, _reason(status), fields, len(body),
                                    keep_alive)
        except ValueError:
            return False
        if len(body) <= _JOIN_MAX:
            transport.write(head + body)
        else:
            transport.writelines((head, body))
        ex.bytes_out = len(body)
        return True

    async def _send_body(self, request: web.BaseRequest, stream: Stream,
                         resp: web.StreamResponse, length: int, pool: WorkerPool,
                         ex: Exchange) -> None:
        await resp.prepare(request)
        if must_be_empty_body(request.method, resp.status):  # HEAD, 204, 304: complete
            await resp.write_eof()
            ex.finished = True
            return
        # A body only the close delimits is armed to end with a reset until it is complete,
        # whoever closes the connection first (an abort here, aiohttp at shutdown).
        transport = request.transport
        armed = transport is not None and _close_delimited(resp)
        if armed:
            _reset_on_close(transport, True)
        try:
            await self._send_chunks(request, stream, resp, length, pool, ex)
        except ConnectionResetError:
            raise  # the client went away
        except BaseException:  # cancelled (the service stops) or a bug: cut it visibly
            if not ex.aborted:
                self._abort(request, resp, ex)
            raise
        if armed and ex.finished:  # complete: its close is its end, a FIN
            _reset_on_close(transport, False)

    async def _send_chunks(self, request: web.BaseRequest, stream: Stream,
                           resp: web.StreamResponse, length: int, pool: WorkerPool,
                           ex: Exchange) -> None:
        """Copy the body from the worker to the client; abort if it cannot be completed."""
        loop = self.loop
        sent = 0
        settings = self.active().settings
        send_timeout = settings.send_timeout
        waited = False
        # The window grows once, to twice its size, for a client that took a whole window
        # without ever making us wait: in flight, the credit's round trip (worker, V8, back)
        # and not the client limits it (bench/sweep.py). A slow client never gets it.
        grow_at = settings.response_window

        def mark_waited() -> None:
            nonlocal waited
            waited = True

        while True:
            try:
                chunk = await stream.next_chunk()
            except StreamFailed as e:
                log.warning("request %s: response failed after its head: %s",
                            stream.request_id, e.message)
                self._abort(request, resp, ex)
                return
            if chunk is None:
                break
            if type(chunk) is p.ResponseRelay:
                await self._relay_response(request, stream, resp, chunk, length, sent, pool, ex)
                return
            if type(chunk) is p.ResponseDirect:
                if await self._direct(request, stream, resp, length, sent, ex):
                    return
                continue  # refused: the body goes on as frames
            sent += len(chunk)
            if 0 <= length < sent:
                log.warning("request %s: body longer than its Content-Length %d",
                            stream.request_id, length)
                self._abort(request, resp, ex)
                return
            # A write suspends only when it waits for the client to drain: a callback
            # scheduled now runs before the write returns exactly in that case.
            waited = False
            probe = loop.call_soon(mark_waited)
            ex.bytes_out += len(chunk)  # handed to the transport before the write can wait
            try:
                async with asyncio.timeout(send_timeout):
                    await resp.write(chunk)
            except TimeoutError:
                self._abort_slow(request, resp, ex, stream.request_id, send_timeout)
                return
            probe.cancel()
            if waited:
                self.metrics.stall("client_drain")
                grow_at = 0
            stream.consumed(len(chunk))
            if 0 < grow_at <= sent:
                stream.widen(grow_at)
                grow_at = 0
        await self._end_body(request, stream, resp, length, sent, ex)

    async def _direct(self, request: web.BaseRequest, stream: Stream, resp: web.StreamResponse,
                      length: int, sent: int, ex: Exchange) -> bool:
        """The worker asks to write the rest of the body into the client's socket itself
        (RESPONSE_DIRECT): give it a copy of the socket and wait for DIRECT_END, then end
        the body here. False if refused (the body goes on as frames): a TLS client, a body
        only the close delimits, no hand-over connection to that worker."""
        transport = request.transport
        handovers = self.relays.handovers
        pid = stream.worker.pid
        client = transport.get_extra_info("socket") if transport is not None else None
        send_timeout = self.active().settings.send_timeout
        if (handovers is None or pid is None or client is None or transport.is_closing()
                or transport.get_extra_info("sslcontext") is not None
                or _close_delimited(resp)):
            return self._refuse_direct(request, stream, resp, ex)
        await resp.write(b"")  # the head, if aiohttp still holds it
        if not await flushed(transport, send_timeout):
            self._abort_slow(request, resp, ex, stream.request_id, send_timeout)
            return True
        chunked = resp.headers.get(hdrs.TRANSFER_ENCODING) == "chunked"
        if not handovers.answer(pid, stream.sid, client.fileno(), chunked, send_timeout):
            return self._refuse_direct(request, stream, resp, ex)
        self.metrics.direct.inc()
        try:
            end = await stream.next_chunk()
        except StreamFailed as e:  # the worker's word (499: the client left), or it died
            level = logging.DEBUG if e.status == CLIENT_GONE else logging.WARNING
            log.log(level, "request %s: %s; aborting", stream.request_id, e.message.rstrip("."))
            _shut_down(client)  # the worker's copy may still be open
            self._abort(request, resp, ex)
            return True
        assert type(end) is p.DirectEnd  # the stream core allows nothing else here
        ex.bytes_out += end.written
        await self._end_body(request, stream, resp, length, sent + end.written, ex)
        return True

    async def _end_body(self, request: web.BaseRequest, stream: Stream,
                        resp: web.StreamResponse, length: int, sent: int,
                        ex: Exchange) -> None:
        """All of the body is out (``sent`` bytes): check it against the Content-Length
        and end it (a chunked body's last chunk, drained), or abort the response."""
        if 0 <= length != sent:
            log.warning("request %s: body of %d bytes, Content-Length said %d",
                        stream.request_id, sent, length)
            self._abort(request, resp, ex)
            return
        send_timeout = self.active().settings.send_timeout
        try:
            async with asyncio.timeout(send_timeout):
                await resp.write_eof()
        except TimeoutError:
            self._abort_slow(request, resp, ex, stream.request_id, send_timeout)
            return
        ex.finished = True

    def _refuse_direct(self, request: web.BaseRequest, stream: Stream,
                       resp: web.StreamResponse, ex: Exchange) -> bool:
        """Answer RESPONSE_DIRECT with a refusal: False, the body goes on as frames (True if
        the refusal cannot reach the worker either: the response is aborted)."""
        handovers = self.relays.handovers
        pid = stream.worker.pid
        stream.core.direct_refused()
        if handovers is not None and pid is not None and handovers.answer(pid, stream.sid, None):
            return False
        log.warning("request %s: cannot answer the worker's RESPONSE_DIRECT; aborting",
                    stream.request_id)
        self._abort(request, resp, ex)
        return True

    async def _relay_response(self, request: web.BaseRequest, stream: Stream,
                              resp: web.StreamResponse, frame: p.ResponseRelay, length: int,
                              sent: int, pool: WorkerPool, ex: Exchange) -> None:
        """The rest of the body is on the upstream socket the worker handed over: the
        worker is released at once (it may even die meanwhile) and the body moves socket to
        socket (relays.py). Aborts the response if it cannot complete."""
        self.release(stream, pool)

        def count(n: int) -> None:
            ex.bytes_out += n

        settings = self.active().settings
        moved = await self.relays.response(
            request, resp, stream.worker.pid, frame, length - sent if length >= 0 else -1,
            settings.send_timeout, count, settings.relay_mode == "splice")
        if moved.failure is not None:
            level = logging.DEBUG if moved.client_gone else logging.WARNING
            log.log(level, "request %s: relayed body failed: %s", stream.request_id,
                    moved.failure)
            self._abort(request, resp, ex)
            return
        await resp.write_eof()  # a chunked body's last chunk
        ex.finished = True

    async def _relay_upload(self, stream: Stream, request: web.BaseRequest,
                            ex: Exchange, limit: int) -> bool:
        """The worker asks for the rest of the request body in the upstream socket it handed
        over (UPLOAD_RELAY): relay it (relays.py), then end the body. False if it cannot be
        relayed: the body goes on as frames (the worker's credit resumes)."""
        ask, stream.upload_relay = stream.upload_relay, None
        assert ask is not None
        settings = self.active().settings

        def count(n: int) -> None:
            ex.bytes_in += n

        moved = await self.relays.upload(request, stream.worker.pid, ask, ex.bytes_in,
                                         settings.send_timeout, settings.body_timeout, count,
                                         settings.relay_mode == "splice", limit)
        if moved is None:
            return False
        ex.close_connection = True  # aiohttp's parser is behind: Connection: close
        if moved.too_large:
            self._too_large(stream, limit)
            return True
        if moved.failure is not None:
            log.info("request %s: relayed upload failed: %s", stream.request_id, moved.failure)
            stream.cancel(f"upload failed: {moved.failure}")
            stream.fail(StreamFailed(400, "The request body could not be read."))
            return True
        if not stream.finished:  # a relayed response may have ended the stream already
            stream.send(p.RequestEnd(stream.sid))
        return True

    def _too_large(self, stream: Stream, limit: int) -> None:
        """The request body went over ``limit`` while it streamed: the stream fails, 413."""
        self.metrics.rejected.labels("body_too_large").inc()
        log.info("request %s: request body over %d bytes", stream.request_id, limit)
        stream.cancel("request body too large")
        stream.fail(BodyTooLarge(limit))

    def _abort_slow(self, request: web.BaseRequest, resp: web.StreamResponse, ex: Exchange,
                    request_id: str, seconds: float) -> None:
        """The client took nothing for ``seconds`` (``send_timeout``): abort, and say so."""
        log.warning("request %s: the client took nothing for %g s; aborting", request_id,
                    seconds)
        self._abort(request, resp, ex)

    def _abort(self, request: web.BaseRequest, resp: web.StreamResponse, ex: Exchange) -> None:
        """Break the connection so the client sees an incomplete response: a chunked body
        lacks its last chunk, a Content-Length is not reached, and a body only the close
        delimits ends with a TCP reset (armed in _send_body: a FIN would look like its end)."""
        ex.aborted = True
        transport = request.transport
        if transport is not None:
            transport.abort()
        resp.force_close()

    async def _upload(self, stream: Stream, request: web.BaseRequest, pool: WorkerPool,
                      ex: Exchange) -> None:
        content = request.content
        settings = self.active().settings
        chunk_size = settings.chunk_size
        body_timeout = settings.body_timeout
        limit = pool.limits.max_body_size
        try:
            while True:
                if stream.upload_relay is not None and await self._relay_upload(
                        stream, request, ex, limit):
                    return
                if stream.request_credit <= 0 and not content.at_eof():
                    self.metrics.stall("upload_credit")
                await stream.wait_request_credit()
                if stream.failure is not None or stream.closed or stream.finished:
                    return
                if ex.continue_due:  # the body is read from now on: the client may send it
                    ex.continue_due = False
                    _send_continue(request)
                if stream.upload_relay is not None:
                    continue
                size = min(stream.request_credit, chunk_size)
                try:
                    async with asyncio.timeout(body_timeout):
                        data = await content.read(size)
                except TimeoutError:
                    log.info("request %s: no request body for %g s", stream.request_id,
                             body_timeout)
                    stream.cancel("request body timed out")
                    stream.fail(BodyTimeout(body_timeout))
                    return
                if stream.finished or stream.closed:
                    return  # the response ended (or failed) while we read
                if not data:
                    stream.send(p.RequestEnd(stream.sid))
                    return
                ex.bytes_in += len(data)
                if limit and ex.bytes_in > limit:
                    self._too_large(stream, limit)
                    return
                stream.send(p.RequestBody(stream.sid, data))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the client's upload broke off
            log.info("request %s: upload failed: %s", stream.request_id, e)
            if not stream.closed:
                stream.cancel(f"upload failed: {e}")
                stream.fail(StreamFailed(400, "The request body could not be read."))
