"""The HTTP front: every request becomes a stream on a worker, both bodies streamed.

Request bodies are read from the client only while the worker has granted credit, so a
script that does not read its body stops the upload (TCP backpressure). Response chunks
are written to the client as they come; credit goes back to the worker once they were
handed to the socket (``await resp.write`` drains), so a slow client slows the worker.

Failures are visible to the client: before the response head it gets a 5xx with a clear
message; after the head the connection is aborted (no terminating chunk, or fewer bytes
than Content-Length), never a silently short "complete" body.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiohttp import web

from isoflow import protocol as p

from .pool import WorkerPool
from .settings import Settings
from .streams import Stream, StreamFailed, StreamTable, WorkerGone

log = logging.getLogger("isoflow.supervisor.front")

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
    "upgrade", "content-length",
})
SERVER = "isoflow"


def _plain(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=message + "\n", headers=headers)


class Front:
    def __init__(self, settings: Settings, pool: WorkerPool, table: StreamTable) -> None:
        self.settings = settings
        self.pool = pool
        self.table = table

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        worker = self.pool.pick()
        if worker is None:
            return _plain(503, "No worker is available; try again shortly.", {"Retry-After": "1"})
        request_id = secrets.token_hex(8)
        stream = self.table.open(worker, request_id, request.method, self.settings.response_window)
        upload: asyncio.Task | None = None
        try:
            headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers]
            has_body = request.body_exists
            head = p.RequestHead(
                stream.sid, request_id, request.method, str(request.url), headers,
                request.remote or "", has_body, self.settings.response_window,
            )
            if not self.pool.send(worker, head):
                raise WorkerGone("The worker is not reachable.")
            if has_body:
                upload = asyncio.get_running_loop().create_task(self._upload(stream, request))
            try:
                rhead = await asyncio.wait_for(stream.head(), self.settings.wall_time)
            except TimeoutError:
                log.warning("request %s: no response within %.1f s", request_id,
                            self.settings.wall_time)
                return _plain(504, "The worker did not respond in time.")
            except StreamFailed as e:
                return _plain(e.status, e.message)
            return await self._respond(request, stream, rhead)
        finally:
            if upload is not None and not upload.done():
                upload.cancel()
            if not stream.finished and stream.failure is None:
                self.pool.send(worker, p.Cancel(stream.sid, "client gone or request ended"))
            self.table.close(stream)

    async def _respond(self, request: web.BaseRequest, stream: Stream,
                       head: p.ResponseHead) -> web.StreamResponse:
        resp = web.StreamResponse(status=head.status)
        out = resp.headers
        for name, value in head.headers:
            if name.lower() not in HOP_BY_HOP:
                out.add(name, value)
        if "Server" not in out:
            out["Server"] = SERVER
        length = head.length
        if length >= 0:
            resp.content_length = length
        try:
            await self._send_body(request, stream, resp, length)
        except ConnectionResetError:
            log.debug("request %s: the client went away", stream.request_id)
            resp.force_close()
        return resp

    async def _send_body(self, request: web.BaseRequest, stream: Stream,
                         resp: web.StreamResponse, length: int) -> None:
        await resp.prepare(request)
        if request.method == "HEAD":
            await resp.write_eof()
            return
        sent = 0
        credit = 0
        threshold = self.settings.response_window // 4
        worker = stream.worker
        while True:
            try:
                chunk = await stream.next_chunk()
            except StreamFailed as e:
                log.warning("request %s: response failed after its head: %s",
                            stream.request_id, e.message)
                self._abort(request, resp)
                return
            if chunk is None:
                break
            sent += len(chunk)
            if 0 <= length < sent:
                log.warning("request %s: body longer than its Content-Length %d",
                            stream.request_id, length)
                self._abort(request, resp)
                return
            await resp.write(chunk)
            credit += len(chunk)
            if credit >= threshold or stream.pending_chunks() == 0:
                stream.response.grant(credit)
                self.pool.send(worker, p.ResponseCredit(stream.sid, credit))
                credit = 0
        if 0 <= length != sent:
            log.warning("request %s: body of %d bytes, Content-Length said %d",
                        stream.request_id, sent, length)
            self._abort(request, resp)
            return
        await resp.write_eof()

    def _abort(self, request: web.BaseRequest, resp: web.StreamResponse) -> None:
        """Break the connection so the client sees an incomplete response."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        resp.force_close()

    async def _upload(self, stream: Stream, request: web.BaseRequest) -> None:
        content = request.content
        worker = stream.worker
        chunk_size = self.settings.chunk_size
        try:
            while True:
                await stream.wait_request_credit()
                if stream.failure is not None or stream.closed:
                    return
                size = min(stream.request_credit.available, chunk_size)
                data = await content.read(size)
                if not data:
                    self.pool.send(worker, p.RequestEnd(stream.sid))
                    return
                stream.request_credit.consume(len(data))
                self.pool.send(worker, p.RequestBody(stream.sid, data))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the client's upload broke off
            log.info("request %s: upload failed: %s", stream.request_id, e)
            if not stream.closed:
                self.pool.send(worker, p.Cancel(stream.sid, f"upload failed: {e}"))
                stream.fail(StreamFailed(400, "The request body could not be read."))
