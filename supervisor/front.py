"""The HTTP front: every request is routed to a script's pool and becomes a stream on a worker.

Request bodies are read from the client only while the worker has granted credit, so a
script that does not read its body stops the upload (TCP backpressure). Response chunks
are written to the client as they come; credit goes back to the worker once they were
handed to the socket (``await resp.write`` drains), so a slow client slows the worker.

Failures are visible to the client: before the response head it gets a 4xx/5xx with a
clear message; after the head the connection is aborted (no terminating chunk, or fewer
bytes than Content-Length), never a silently short "complete" body.

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
import itertools
import logging
import re
import secrets
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web

from isoflow import protocol as p

from . import accesslog
from .metrics import Metrics
from .pool import Overloaded, PoolRetired, WorkerPool
from .routing import Route
from .streams import Stream, StreamFailed, StreamTable, WorkerGone

if TYPE_CHECKING:
    from collections.abc import Callable

    from .server import Active

log = logging.getLogger("isoflow.supervisor.front")

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
    "upgrade", "content-length",
})
SERVER = "isoflow"
CLIENT_GONE = 499  # nginx's status for "the client closed the connection first"
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")  # visible ASCII, as a client may send it
_REROUTES = 3  # times a request may be routed again because its pool was replaced
_IDEMPOTENT = frozenset({"GET", "HEAD"})


def _plain(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=message + "\n", headers=headers)


@dataclass
class Exchange:
    """One request's bookkeeping, for the access log and the metrics."""

    request_id: str
    route: str = ""
    worker: str = ""
    status: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    aborted: bool = False
    finished: bool = False  # the whole response went to the client


class BodyTooLarge(StreamFailed):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyTimeout(StreamFailed):
    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"No request body arrived for {seconds:g} s.")


class _RetryElsewhere(Exception):
    """The worker died before answering a request that may be sent again."""


# Request ids need to be unique, not secret: a per-process random prefix and a counter,
# which costs no system call per request (secrets.token_hex costs one).
_ID_PREFIX = secrets.token_hex(4)
_ids = itertools.count(1)


def _new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ids) & 0xFFFFFFFF:08x}"


_REASONS = {status.value: status.phrase for status in HTTPStatus}


def _reason(status: int) -> str:
    """The reason phrase (aiohttp would look it up through the HTTPStatus enum each time)."""
    return _REASONS.get(status, "Unknown")


class Front:
    def __init__(self, active: Callable[[], Active], table: StreamTable,
                 metrics: Metrics) -> None:
        self.active = active
        self.table = table
        self.metrics = metrics

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        started = loop.time()
        settings = self.active().settings
        header = settings.request_id_header
        given = request.headers.get(header, "")
        request_id = given if _REQUEST_ID.fullmatch(given) else _new_request_id()
        ex = Exchange(request_id)
        try:
            resp = await self._route_and_serve(request, ex)
            ex.status = resp.status
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
            if settings.access_log:
                accesslog.write(accesslog.AccessRecord(
                    request.remote or "", request.method, request.path_qs,
                    f"{request.version.major}.{request.version.minor}", ex.status,
                    ex.bytes_in, ex.bytes_out, duration, ex.route, ex.worker, request_id,
                    ex.aborted,
                ))

    async def _route_and_serve(self, request: web.BaseRequest,
                               ex: Exchange) -> web.StreamResponse:
        retry = (self.active().settings.retry_idempotent and request.method in _IDEMPOTENT
                 and not request.body_exists)
        for _ in range(_REROUTES + 1):
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
                self.metrics.rejected.labels("body_too_large").inc()
                resp = _plain(413, BodyTooLarge(limit).message)
                resp.force_close()  # the body stays unread
                return resp
            in_flight = self.metrics.in_flight_of(route.name)
            in_flight.inc()
            try:
                worker = await pool.acquire()
            except PoolRetired:
                in_flight.dec()
                continue
            except Overloaded as e:
                in_flight.dec()
                self.metrics.rejected.labels(e.reason).inc()
                return _plain(503, e.message, {"Retry-After": "1"})
            try:
                return await self._serve(request, ex, active, route, pool, worker, retry)
            except _RetryElsewhere:
                log.info("request %s: %s died before answering; retrying on another worker",
                         ex.request_id, worker.name)
                retry = False
                continue
            finally:
                in_flight.dec()
        return _plain(503, "The service is reloading; try again shortly.", {"Retry-After": "1"})

    async def _serve(self, request: web.BaseRequest, ex: Exchange, active: Active,
                     route: Route, pool: WorkerPool, worker,
                     retry: bool = False) -> web.StreamResponse:
        settings = active.settings
        ex.worker = worker.name
        stream = self.table.open(worker, ex.request_id, request.method, settings.response_window)
        upload: asyncio.Task | None = None
        try:
            header = settings.request_id_header
            headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers
                       if k.decode("latin-1").lower() != header.lower()]
            headers.append([header, ex.request_id])
            has_body = request.body_exists
            head = p.RequestHead(
                stream.sid, ex.request_id, request.method, str(request.url), headers,
                request.remote or "", has_body, settings.response_window,
            )
            if not pool.send(worker, head):
                stream.fail(WorkerGone("The worker is not reachable."))
                if retry:
                    raise _RetryElsewhere
                return _plain(502, "The worker is not reachable.")
            if has_body:
                upload = asyncio.get_running_loop().create_task(
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
                if isinstance(e, BodyTooLarge | BodyTimeout):
                    resp.force_close()  # the rest of the body stays unread
                return resp
            return await self._respond(request, stream, rhead, pool, ex)
        finally:
            if upload is not None and not upload.done():
                upload.cancel()
            if not stream.finished and stream.failure is None:
                pool.send(worker, p.Cancel(stream.sid, "client gone or request ended"))
            self.table.close(stream)
            pool.release(worker)

    async def _respond(self, request: web.BaseRequest, stream: Stream, head: p.ResponseHead,
                       pool: WorkerPool, ex: Exchange) -> web.StreamResponse:
        length = head.length
        body = stream.take_complete_body() if request.method != "HEAD" else None
        if body is not None and (length < 0 or length == len(body)):
            resp: web.StreamResponse = web.Response(status=head.status, body=body,
                                                    reason=_reason(head.status))
            length = len(body)
        else:
            if body is not None:  # the worker broke its own Content-Length: abort below
                stream.push_back(body)
            resp = web.StreamResponse(status=head.status, reason=_reason(head.status))
            body = None
        out = resp.headers
        for name, value in head.headers:
            if name.lower() not in HOP_BY_HOP:
                out.add(name, value)
        if "Server" not in out:
            out["Server"] = SERVER
        header = self.active().settings.request_id_header
        if header not in out:
            out[header] = ex.request_id
        if length >= 0 and body is None:
            resp.content_length = length  # a web.Response sets its own from the body
        ex.status = head.status  # what the client gets, even if it leaves before we return
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

    async def _send_body(self, request: web.BaseRequest, stream: Stream,
                         resp: web.StreamResponse, length: int, pool: WorkerPool,
                         ex: Exchange) -> None:
        await resp.prepare(request)
        if request.method == "HEAD":
            await resp.write_eof()
            ex.finished = True
            return
        loop = asyncio.get_running_loop()
        sent = 0
        credit = 0
        settings = self.active().settings
        threshold = settings.response_window // 4
        send_timeout = settings.send_timeout
        worker = stream.worker
        waited = False

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
                log.warning("request %s: the client took nothing for %g s; aborting",
                            stream.request_id, send_timeout)
                self._abort(request, resp, ex)
                return
            probe.cancel()
            if waited:
                self.metrics.stall("client_drain")
            credit += len(chunk)
            if credit >= threshold or stream.pending_chunks() == 0:
                stream.response.grant(credit)
                pool.send(worker, p.ResponseCredit(stream.sid, credit))
                credit = 0
        if 0 <= length != sent:
            log.warning("request %s: body of %d bytes, Content-Length said %d",
                        stream.request_id, sent, length)
            self._abort(request, resp, ex)
            return
        await resp.write_eof()
        ex.finished = True

    def _abort(self, request: web.BaseRequest, resp: web.StreamResponse, ex: Exchange) -> None:
        """Break the connection so the client sees an incomplete response."""
        ex.aborted = True
        transport = request.transport
        if transport is not None:
            transport.abort()
        resp.force_close()

    async def _upload(self, stream: Stream, request: web.BaseRequest, pool: WorkerPool,
                      ex: Exchange) -> None:
        content = request.content
        worker = stream.worker
        settings = self.active().settings
        chunk_size = settings.chunk_size
        body_timeout = settings.body_timeout
        limit = pool.limits.max_body_size
        try:
            while True:
                if stream.request_credit.available <= 0 and not content.at_eof():
                    self.metrics.stall("upload_credit")
                await stream.wait_request_credit()
                if stream.failure is not None or stream.closed:
                    return
                size = min(stream.request_credit.available, chunk_size)
                try:
                    async with asyncio.timeout(body_timeout):
                        data = await content.read(size)
                except TimeoutError:
                    log.info("request %s: no request body for %g s", stream.request_id,
                             body_timeout)
                    pool.send(worker, p.Cancel(stream.sid, "request body timed out"))
                    stream.fail(BodyTimeout(body_timeout))
                    return
                if not data:
                    pool.send(worker, p.RequestEnd(stream.sid))
                    return
                ex.bytes_in += len(data)
                if limit and ex.bytes_in > limit:
                    self.metrics.rejected.labels("body_too_large").inc()
                    log.info("request %s: request body over %d bytes", stream.request_id, limit)
                    pool.send(worker, p.Cancel(stream.sid, "request body too large"))
                    stream.fail(BodyTooLarge(limit))
                    return
                stream.request_credit.consume(len(data))
                pool.send(worker, p.RequestBody(stream.sid, data))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the client's upload broke off
            log.info("request %s: upload failed: %s", stream.request_id, e)
            if not stream.closed:
                pool.send(worker, p.Cancel(stream.sid, f"upload failed: {e}"))
                stream.fail(StreamFailed(400, "The request body could not be read."))
