"""The front's side of the splice relay: bodies that move socket to socket, not as frames.

A local worker whose response body is an untouched upstream body hands the upstream
connection over (``handover.py``) and ends its part of the stream with RESPONSE_RELAY;
:meth:`Relays.response` then moves the rest of the body from that socket to the client
with ``splice.py``, the worker out of the way (it is released at once and may even die).
The other way, a worker forwarding an untouched upload asks with UPLOAD_RELAY, and
:meth:`Relays.upload` moves the rest of the client's body into the upstream socket.

The client's framing is the response's as aiohttp prepared it (Content-Length, chunked, or
the close for HTTP/1.0); the upstream's is followed as it passes (``splice.Framing``). A TLS
client cannot be spliced into: its body goes through aiohttp's TLS writer, copied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import hdrs, web

from isoflow import protocol as p
from isoflow.isolate_worker.handover import flushed
from isoflow.protocol import handover as handover_kind

from . import splice
from .handover import Handovers
from .metrics import Metrics
from .workers import WorkerHandle

log = logging.getLogger("isoflow.supervisor.front")

HANDOVER_WAIT = 5.0  # seconds a relayed stream waits for its socket (it is in flight)
_TLS_READ = 256 << 10


@dataclass
class Moved:
    """How a relay ended: why it stopped short (None: complete), and whether the client
    left (the bytes moved are counted as they go, by ``count``)."""

    failure: str | None = None
    client_gone: bool = False


class Relays:
    def __init__(self, handovers: Handovers | None, metrics: Metrics) -> None:
        self.handovers = handovers
        self.metrics = metrics

    def discard(self, worker: WorkerHandle, frame: p.Frame) -> None:
        """A socket was handed over with ``frame`` (RESPONSE_RELAY or UPLOAD_RELAY) but its
        stream will not take it (a HEAD, a client gone first): it is closed."""
        kind = handover_kind.RESPONSE if type(frame) is p.ResponseRelay else \
            handover_kind.UPLOAD
        if self.handovers is not None and worker.pid is not None:
            self.handovers.discard(worker.pid, kind, frame.stream)

    async def response(self, request: web.BaseRequest, resp: web.StreamResponse, pid: int | None,
                       frame: p.ResponseRelay, left: int, send_timeout: float,
                       count: Callable[[int], None], use_splice: bool = False) -> Moved:
        """Move the rest of a prepared response's body (``left`` bytes, -1: unknown) from
        the socket the worker ``pid`` handed over for ``frame``'s stream to the client."""
        sock = None
        if self.handovers is not None and pid is not None:
            sock = await self.handovers.take(pid, handover_kind.RESPONSE, frame.stream,
                                             HANDOVER_WAIT)
        if sock is None:
            return Moved("the worker relayed the body but its socket never came")
        transport = request.transport
        with sock:
            if transport is None or transport.is_closing():
                return Moved("the client went away", client_gone=True)
            upstream = splice.Framing(frame.framing, frame.length)
            tls = transport.get_extra_info("sslcontext") is not None
            await resp.write(b"")  # the head, if aiohttp still holds it
            if not tls and not await flushed(transport, send_timeout):
                return Moved(f"the client took nothing for {send_timeout:g} s")
            try:
                if tls:
                    moved = await self._through_writer(sock, frame.data, upstream, resp,
                                                       left, send_timeout, count)
                else:
                    client = transport.get_extra_info("socket")
                    moved = await splice.relay(
                        sock.fileno(), frame.data, upstream, client.fileno(),
                        chunked_out=resp.headers.get(hdrs.TRANSFER_ENCODING) == "chunked",
                        send_timeout=send_timeout, max_bytes=max(left, 0), on_sent=count,
                        use_splice=use_splice)
            except splice.DestinationGone as e:
                return Moved(e.message, client_gone=True)
            except splice.RelayBroken as e:
                return Moved(e.message)
        self.metrics.relayed("response", moved)
        if left >= 0 and moved != left:
            return Moved(f"relayed body of {moved} bytes, {left} were due")
        return Moved()

    async def _through_writer(self, sock: socket.socket, prefix: bytes, upstream: splice.Framing,
                              resp: web.StreamResponse, left: int, send_timeout: float,
                              count: Callable[[int], None]) -> int:
        """A TLS client: the relay decodes the upstream's framing into one end of a socket
        pair, and the body goes from the other end through aiohttp's TLS writer."""
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        theirs.setblocking(False)
        loop = asyncio.get_running_loop()
        with ours, theirs:
            relay = asyncio.ensure_future(splice.relay(
                sock.fileno(), prefix, upstream, ours.fileno(), send_timeout=send_timeout,
                max_bytes=max(left, 0)))
            relay.add_done_callback(lambda _: ours.shutdown(socket.SHUT_WR))
            try:
                while data := await loop.sock_recv(theirs, _TLS_READ):
                    count(len(data))
                    try:
                        async with asyncio.timeout(send_timeout):
                            await resp.write(data)
                    except TimeoutError:
                        raise splice.RelayTimeout(
                            f"the client took nothing for {send_timeout:g} s") from None
                    except ConnectionError as e:
                        raise splice.DestinationGone(f"the client went away: {e}") from None
                return await relay
            finally:
                if not relay.done():
                    relay.cancel()
                    with contextlib.suppress(asyncio.CancelledError, splice.RelayBroken):
                        await relay

    async def upload(self, request: web.BaseRequest, pid: int | None, ask: p.UploadRelay,
                     sent: int, send_timeout: float, body_timeout: float,
                     count: Callable[[int], None], use_splice: bool = False) -> Moved | None:
        """Move the rest of the client's body into the socket worker ``pid`` handed over with
        ``ask``, after ``sent`` bytes went as frames; None if it cannot be relayed (the body
        goes on as frames)."""
        length = request.content_length
        transport = request.transport
        client = transport.get_extra_info("socket") if transport is not None else None
        content = request.content
        if (length is None or ask.received != sent or self.handovers is None or pid is None
                or client is None or content.at_eof() or content.exception() is not None
                or transport.get_extra_info("sslcontext") is not None):
            log.debug("upload of stream %d not relayed (%d of %s bytes sent, %d received)",
                      ask.stream, sent, length, ask.received)
            if self.handovers is not None and pid is not None:
                self.handovers.discard(pid, handover_kind.UPLOAD, ask.stream)
            return None
        sock = await self.handovers.take(pid, handover_kind.UPLOAD, ask.stream, HANDOVER_WAIT)
        if sock is None:
            return None
        # What aiohttp had read already is the body's next bytes: taken first (taking them
        # may resume its reading), then its reading stops, for good: the rest is the relay's
        # to read, and aiohttp's parser, which never sees it, must not take what follows for
        # more body. The connection closes after the response.
        prefix = content.read_nowait(-1)
        transport.pause_reading()
        request.protocol.close()
        with sock:
            try:
                moved = await splice.relay(
                    client.fileno(), prefix, splice.Framing("length", length - sent),
                    sock.fileno(), chunked_out=ask.chunked, send_timeout=send_timeout,
                    idle_timeout=body_timeout, on_sent=count, use_splice=use_splice)
            except splice.RelayBroken as e:
                return Moved(e.message)
        content.feed_eof()
        self.metrics.relayed("upload", moved)
        return Moved()
