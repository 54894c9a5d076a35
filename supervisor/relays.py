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
from typing import Any

import aiohttp
from aiohttp import hdrs, web

from isoflow import protocol as p
from isoflow.isolate_worker.handover import flushed
from isoflow.protocol import handover as handover_kind

from . import rawbody, splice
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
    too_large: bool = False  # an upload's body went over max_body_size


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
                     count: Callable[[int], None], use_splice: bool = False,
                     max_body: int = 0) -> Moved | None:
        """Move the rest of the client's body into the socket worker ``pid`` handed over with
        ``ask``, after ``sent`` bytes went as frames; None if it cannot be relayed (the body
        goes on as frames). A chunked body is relayed from its raw bytes (``rawbody.py``);
        ``max_body`` bounds its payload (a Content-Length over it was refused earlier)."""
        length = request.content_length
        transport = request.transport
        client = transport.get_extra_info("socket") if transport is not None else None
        content = request.content
        if (ask.received != sent or self.handovers is None or pid is None or client is None
                or content.exception() is not None
                or transport.get_extra_info("sslcontext") is not None):
            log.debug("upload of stream %d not relayed (%d of %s bytes sent, %d received)",
                      ask.stream, sent, length, ask.received)
            if self.handovers is not None and pid is not None:
                self.handovers.discard(pid, handover_kind.UPLOAD, ask.stream)
            return None
        sock = await self.handovers.take(pid, handover_kind.UPLOAD, ask.stream, HANDOVER_WAIT)
        if sock is None:
            return None
        resume = None if length is not None else _chunked_resume(request, sent)
        room = max_body - sent if max_body else -1  # payload bytes still allowed
        with sock:
            try:
                if content.at_eof() or room == 0 or (length is None and resume is None):
                    # aiohttp has (or must keep) the body: copied from its reader, once.
                    moved = await _copy(content, sock, ask.chunked, send_timeout,
                                        body_timeout, count, room)
                else:
                    moved = await self._splice(request, client, sock, ask, resume,
                                               length, sent, room, send_timeout,
                                               body_timeout, count, use_splice)
            except splice.BodyTooLarge as e:
                return Moved(e.message, too_large=True)
            except splice.RelayBroken as e:
                return Moved(e.message)
        self.metrics.relayed("upload", moved)
        return Moved()

    @staticmethod
    async def _splice(request: web.BaseRequest, client: socket.socket, sock: socket.socket,
                      ask: p.UploadRelay, resume: tuple[bytes, int] | None,
                      length: int | None, sent: int, room: int, send_timeout: float,
                      body_timeout: float, count: Callable[[int], None],
                      use_splice: bool) -> int:
        """The rest of the body from the client's socket into ``sock``, in the kernel."""
        # What aiohttp had read already is the body's next bytes: taken first (taking them
        # may resume its reading), then its reading stops, for good: the rest is the relay's
        # to read, and aiohttp's parser, which never sees it, must not take what follows for
        # more body. The connection closes after the response. A chunked body starts again
        # from its raw bytes instead (aiohttp's decoded ones are among them).
        content = request.content
        prefix = content.read_nowait(-1)
        transport = request.transport
        assert transport is not None
        transport.pause_reading()
        request.protocol.close()
        if resume is not None:
            prefix, skip, framing = resume[0], resume[1], splice.Framing("chunked")
        else:
            assert length is not None
            skip, framing = 0, splice.Framing("length", length - sent)
        moved = await splice.relay(
            client.fileno(), prefix, framing, sock.fileno(), chunked_out=ask.chunked,
            send_timeout=send_timeout, idle_timeout=body_timeout, on_sent=count,
            use_splice=use_splice, skip=skip, max_bytes=max(room, 0))
        content.feed_eof()
        return moved


async def _copy(content: Any, sock: socket.socket, chunked_out: bool, send_timeout: float,
                body_timeout: float, count: Callable[[int], None], room: int) -> int:
    """The rest of the body from aiohttp's reader into ``sock`` (``room``: payload bytes
    allowed, -1 for any): for a body whose raw bytes the front could not follow (a chunked
    one whose head came in two reads, or past its record) or that aiohttp has whole."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    moved = 0
    while True:
        try:
            async with asyncio.timeout(body_timeout):
                data = await content.readany()
        except TimeoutError:
            raise splice.RelayTimeout(f"the client sent nothing for {body_timeout:g} s") \
                from None
        except (OSError, aiohttp.ClientError) as e:
            raise splice.SourceBroken(f"the client's body broke off: {e}") from None
        if not data:
            return moved
        if 0 <= room < moved + len(data):
            raise splice.BodyTooLarge(f"the body went {moved + len(data) - room} bytes over "
                                      "the limit")
        out = b"%x\r\n%s\r\n" % (len(data), data) if chunked_out else data
        try:
            async with asyncio.timeout(send_timeout):
                await loop.sock_sendall(sock, out)
        except TimeoutError:
            raise splice.RelayTimeout(
                f"the upstream took nothing for {send_timeout:g} s") from None
        except OSError as e:
            raise splice.DestinationGone(f"the upstream connection failed: {e}") from None
        moved += len(data)
        count(len(data))


def _chunked_resume(request: web.BaseRequest, sent: int) -> tuple[bytes, int] | None:
    """A chunked body's raw bytes from the chunk holding its next unsent payload byte, and
    that chunk's bytes already sent; None if the front's record cannot say."""
    raw = getattr(request.protocol, "raw_body", None)
    if raw is None or raw.payload is not request.content:
        return None
    point = rawbody.resume_point(raw.data, sent, request.content.total_bytes)
    return None if point is None else (bytes(raw.data[point[0]:]), point[1])
