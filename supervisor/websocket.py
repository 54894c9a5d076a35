"""The front's half of a WebSocket: the client's connection, terminated with aiohttp.

A request that asks for a WebSocket (``protocol.is_websocket_upgrade``) goes to a worker as
any other. If the script answers 101 with a ``webSocket``, the stream switches to messages
(protocol/stream.py) and :func:`serve` takes the connection over: aiohttp's
``WebSocketResponse`` does the protocol (handshake, masking, fragmentation, ping/pong, the
close handshake, the message size limit), and messages travel to and from the worker as
WS_MESSAGE frames under the stream's credit, where a message costs its bytes and
``WS_MESSAGE_COST`` more (protocol/stream.py: a flood of empty messages is paced as data is):

* client -> worker: a message is read from the client only while the worker has granted
  request credit, and goes in pieces that never exceed it. A script that does not take its
  messages stops the reads, aiohttp's reader queue fills and pauses the socket: TCP
  backpressure, as for request bodies. Pings are answered here (a pong waits for the client
  at most ``send_timeout``, as a message does), and every ``_TURN`` frames the front's
  other work gets a turn.
* worker -> client: a message is written once all its pieces arrived, as a frame of our
  own (unmasked, unfragmented, uncompressed: :func:`frame_head`), with every other message
  already at hand in the same write; its final piece's credit goes back once the socket took
  it (the transport below its high-water mark, or drained), earlier pieces' at once (a
  message is bounded by ``websocket_max_message``). A client that does not read therefore
  stops the grants, and the script's sends pile up in its own bounded buffer
  (js/37_websocket.js).

Close codes and reasons travel both ways (WS_CLOSE), the client's answer to a close the
worker's side started included (:meth:`_Socket._close`). A worker that fails or dies closes the
client's socket with 1011; a socket with no message either way for
``websocket_idle_timeout`` seconds is closed with 1001; a message over
``websocket_max_message`` closes it with 1009 (aiohttp, for the client's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from typing import TYPE_CHECKING, Any

from aiohttp import HttpVersion11, WebSocketError, WSCloseCode, WSMsgType, web

from isoflow import protocol as p
from isoflow.protocol.stream import Phase

from .streams import Stream, StreamFailed

if TYPE_CHECKING:
    from .exchange import Exchange
    from .settings import Limits

log = logging.getLogger("isoflow.supervisor.websocket")

PIECE = 1 << 20  # the largest WS_MESSAGE piece sent to a worker
CLOSE_TIMEOUT = 5.0  # seconds the client has to answer our close frame
# Handshake fields aiohttp writes itself; the script's other header fields go to the client.
_OWN_FIELDS = frozenset({
    "connection", "upgrade", "sec-websocket-accept", "sec-websocket-protocol",
    "sec-websocket-extensions", "content-length", "transfer-encoding", "keep-alive",
})
_JOIN_MAX = 16384  # messages written at once are joined into one buffer up to this size
_TURN = 16  # frames taken from a client before the front's other work gets a turn
_HEAD16 = struct.Struct("!BBH").pack
_HEAD64 = struct.Struct("!BBQ").pack
_CLOSE_CODE = struct.Struct("!H").pack
_NO_ANSWER = frozenset({WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR})


def frame_head(binary: bool, size: int) -> bytes:
    """The head of a final, unmasked, uncompressed data frame of ``size`` payload bytes
    (RFC 6455 §5.2): what a server sends its client for a whole message."""
    first = 0x82 if binary else 0x81
    if size < 126:
        return bytes((first, size))
    if size < 1 << 16:
        return _HEAD16(first, 126, size)
    return _HEAD64(first, 127, size)


def text_payload(data: bytes) -> bytes:
    """A text message's bytes as a text frame may carry them: UTF-8 (the runtime sends
    nothing else; a malformed sequence is replaced rather than sent)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace").encode("utf-8")
    return data


class MaskedFramesOnly:
    """Ahead of aiohttp's WebSocket reader, which takes any frame: a client frame that is
    not masked fails the connection (RFC 6455, 5.1: the server MUST close it) as aiohttp
    fails it for its own protocol errors (a Close frame of 1002, the message an ERROR for
    ``_Socket``). It follows the frames' boundaries in what the client sends, reading each
    head and skipping its payload (aiohttp's reader does the rest)."""

    __slots__ = ("_head", "_skip", "failed", "reader", "ws")

    def __init__(self, reader: Any, ws: web.WebSocketResponse | None) -> None:
        self.reader = reader
        self.ws = ws  # its queue is told of the failure (its reader's is not reachable)
        self._head = bytearray()  # the head of the frame being read, so far
        self._skip = 0  # payload bytes of the current frame still to come
        self.failed = False

    def feed_eof(self) -> None:
        self.reader.feed_eof()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.failed:
            return True, b""
        bad = self._unmasked_at(data)
        if bad < 0:
            return self.reader.feed_data(data)
        if bad > 0:  # the frames before it are the client's, as it sent them
            eof, tail = self.reader.feed_data(data[:bad])
            if eof:
                return eof, tail
        self.failed = True
        queue = getattr(self.ws, "_reader", None)
        if queue is not None:
            queue.set_exception(WebSocketError(WSCloseCode.PROTOCOL_ERROR,
                                               "A client frame is not masked."))
        return True, b""  # what aiohttp's reader answers on an error: no more reads

    def _unmasked_at(self, data: bytes) -> int:
        """Where in ``data`` the first frame that is not masked begins (0 if its head began
        in earlier data), or -1."""
        head, i, n = self._head, 0, len(data)
        while i < n:
            if self._skip:
                step = min(self._skip, n - i)
                self._skip -= step
                i += step
                continue
            if not head and i + 2 <= n:  # a whole head in this data: read it in place
                second = data[i + 1]
                if not second & 0x80:
                    return i
                end = i + _head_size(second)
                if end <= n:
                    i = end + _payload_size(data, i, second)
                    if i > n:
                        self._skip = i - n
                    continue
            start = i - len(head)
            need = 2 if len(head) < 2 else _head_size(head[1])
            take = min(need - len(head), n - i)
            head += data[i:i + take]
            i += take
            if len(head) < 2:
                break
            if not head[1] & 0x80:
                return max(start, 0)
            if len(head) < _head_size(head[1]):
                continue
            self._skip = _payload_size(head, 0, head[1])
            head.clear()
        return -1


def _head_size(second: int) -> int:
    """The size of a frame's head from its second byte: the extended length, the mask."""
    size = second & 0x7F
    return 2 + (2 if size == 126 else 8 if size == 127 else 0) + (4 if second & 0x80 else 0)


def _payload_size(buf: bytes | bytearray, at: int, second: int) -> int:
    """The payload length of the frame whose whole head starts at ``buf[at]``."""
    size = second & 0x7F
    if size == 126:
        return int.from_bytes(buf[at + 2:at + 4], "big")
    if size == 127:
        return int.from_bytes(buf[at + 2:at + 10], "big")
    return size


async def serve(request: web.BaseRequest, stream: Stream, head: p.ResponseHead,
                limits: Limits, ex: Exchange, extra_headers: dict[str, str],
                send_timeout: float) -> web.StreamResponse:
    """Answer the 101 the script gave and carry messages until the socket is closed."""
    protocols = [t.strip() for k, v in head.headers if k.lower() == "sec-websocket-protocol"
                 for t in v.split(",") if t.strip()]
    ws = web.WebSocketResponse(protocols=protocols, autoclose=False, autoping=False,
                               # aiohttp refuses a message of max_msg_size bytes already
                               max_msg_size=limits.websocket_max_message + 1, compress=False,
                               timeout=CLOSE_TIMEOUT)
    if request.version < HttpVersion11:  # RFC 6455, 4.1: HTTP/1.1 or later
        stream.cancel("not a valid WebSocket handshake")
        return web.Response(status=400, text="A WebSocket handshake needs HTTP/1.1.\n")
    if request.headers.get("Sec-WebSocket-Version", "").strip() != "13":
        # RFC 6455, 4.2.2: a version the server does not speak gets 426 and the one it does
        # (aiohttp would take drafts 7 and 8 as well).
        stream.cancel("not a WebSocket version this server speaks")
        return web.Response(status=426, text="Only WebSocket version 13 is supported.\n",
                            headers={"Sec-WebSocket-Version": "13"})
    ready = ws.can_prepare(request)
    if not ready.ok:  # an Upgrade without a valid handshake (no Sec-WebSocket-Key, ...)
        stream.cancel("not a valid WebSocket handshake")
        return web.Response(status=400, text="Not a valid WebSocket handshake.\n")
    protocol = request.protocol
    if hasattr(protocol, "websocket"):  # the front's handler wraps the reader (set_parser)
        protocol.websocket = ws
    for name, value in head.headers:
        if name.lower() not in _OWN_FIELDS:
            ws.headers.add(name, value)
    for name, value in extra_headers.items():
        ws.headers.setdefault(name, value)
    await ws.prepare(request)
    ex.status = 101
    # A whole message of the worker's may be in flight besides the window: none waits for
    # a grant between its pieces.
    stream.widen(limits.websocket_max_message)
    await _Socket(ws, request, stream, limits, ex, send_timeout).run()
    ex.finished = True
    return ws


class _Socket:
    def __init__(self, ws: web.WebSocketResponse, request: web.BaseRequest, stream: Stream,
                 limits: Limits, ex: Exchange, send_timeout: float) -> None:
        self.ws = ws
        self.request = request
        self.stream = stream
        self.limits = limits
        self.ex = ex
        self.send_timeout = send_timeout
        self.loop = asyncio.get_running_loop()
        self.last = self.loop.time()  # the last message either way (idle timeout)
        self.closer: asyncio.Task | None = None  # the task that started our close handshake
        self.inbound: asyncio.Task | None = None
        self.receiving = False  # the inbound task waits in the socket's receive()

    async def run(self) -> None:
        self.inbound = inbound = self.loop.create_task(self._inbound())
        outbound = self.loop.create_task(self._outbound())
        idle = self.loop.create_task(self._idle())
        try:
            # The client's side ends whoever closes: the client, the script (its close is
            # answered) or the idle timer; nothing the worker sends after can reach it.
            await asyncio.wait((inbound,))  # cancelled by our close (_close), or done
            error = None if inbound.cancelled() else inbound.exception()
            if isinstance(error, ConnectionError):
                log.debug("request %s: the client's connection broke: %s",
                          self.stream.request_id, error)
            elif error is not None:
                raise error
            closer = self.closer
            if closer is not None and closer is not asyncio.current_task():
                await closer  # let our close handshake finish (bounded by CLOSE_TIMEOUT)
        except asyncio.CancelledError:  # the service stops: the client is told to go away
            if not self.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._close(WSCloseCode.GOING_AWAY,
                                                       "the server is shutting down"), 1.0)
            raise
        finally:
            for task in (inbound, outbound, idle):
                task.cancel()
        self._answer_to_worker()

    def _to_worker(self, frame: p.Frame) -> bool:
        stream = self.stream
        if stream.failure is not None or stream.closed or stream.finished:
            return False
        try:
            stream.send(frame)
        except p.ProtocolError:  # it crossed the end of the worker's side
            return False
        return True

    async def _close(self, code: int, reason: str) -> None:
        """Start (and finish) the close handshake with the client: our Close frame, its
        answer (code and reason) to the worker, then the end of the connection."""
        self.closer = closer = asyncio.current_task()
        self.ex.finished = True  # a closing handshake: its end is the connection's (not aborted)
        ws = self.ws
        if ws.closed:  # the client's close is being answered, or the connection is gone
            return
        inbound = self.inbound
        if self.receiving and inbound is not None and inbound is not closer:
            inbound.cancel()  # the answer is read here (one receive() at a time)
            await asyncio.wait((inbound,))
        try:
            answer = await self._handshake(code, reason)
            # Before aiohttp's end of the connection cancels the handler (handler_cancellation).
            self._answer_to_worker(*answer)
        finally:
            transport = self.request.transport
            if transport is not None:
                transport.close()  # the server ends the TCP connection (RFC 6455, 7.1.1)
        await ws.close()  # marks it closed: no second Close frame (the transport is closing)

    async def _handshake(self, code: int, reason: str) -> tuple[int, str]:
        """Send our Close frame and read the client's answer: its code (1005: none) and
        reason, or 1006 if none came within CLOSE_TIMEOUT. aiohttp's close() would read
        the answer but keep only its code: the frame goes by send_frame and the answer is
        read by receive() (messages that crossed our close are dropped)."""
        ws = self.ws
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await ws.send_frame(_CLOSE_CODE(p.sendable_close_code(code))
                                    + reason.encode()[:123],
                                    WSMsgType.CLOSE)
                while True:
                    msg = await ws.receive()
                    if msg.type is WSMsgType.CLOSE:
                        return msg.data or 1005, msg.extra or ""
                    if msg.type in _NO_ANSWER:
                        break
        except (TimeoutError, ConnectionError):
            pass
        return 1006, ""

    def _answer_to_worker(self, code: int | None = None, reason: str = "") -> None:
        """The client's answer (``code`` and ``reason``, else its code as aiohttp saw it,
        1005 if none) to a close frame the worker's side started, if the worker has not
        heard how the socket ended."""
        if self.stream.core.request is Phase.SOCKET:
            self._to_worker(p.WsClose(self.stream.sid, code or self.ws.close_code or 1005,
                                      reason))

    async def _inbound(self) -> None:
        """Client -> worker, only while the worker has granted credit; pings answered here.
        Every _TURN frames the front's other work gets a turn: aiohttp hands over what it
        has read without suspending (a client's flood of tiny frames or pings held every
        other connection for a second at a time)."""
        ws, stream, sid = self.ws, self.stream, self.stream.sid
        frames = 0
        while True:
            frames += 1
            if frames % _TURN == 0:
                await asyncio.sleep(0)
            await stream.wait_request_credit(p.WS_MESSAGE_COST)  # (an empty message's)
            if (stream.failure is not None or stream.closed or stream.finished
                    or self.closer is not None):  # (our close reads the client's answer)
                return
            self.receiving = True
            try:
                msg = await ws.receive()
            finally:
                self.receiving = False
            if msg.type is WSMsgType.PING:
                if not await self._pong(msg.data):
                    return
                continue
            if msg.type is WSMsgType.PONG:
                continue
            self.last = self.loop.time()
            if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
                binary = msg.type is WSMsgType.BINARY
                data = memoryview(msg.data if binary else msg.data.encode())
                self.ex.bytes_in += len(data)
                if not await self._forward(binary, data):
                    return
            elif msg.type is WSMsgType.CLOSE:
                await self._closed_by_client(msg.data, msg.extra or "")
                return
            elif msg.type is WSMsgType.ERROR:  # too big (1009), not UTF-8 (1007), ...
                code = getattr(msg.data, "code", None) or WSCloseCode.PROTOCOL_ERROR
                log.info("request %s: WebSocket closed with %d: %s", stream.request_id, code,
                         msg.data)
                self._to_worker(p.WsClose(sid, code, str(msg.data)[:123]))
                return
            else:  # CLOSING (our close is under way), CLOSED (the connection is gone)
                if msg.type is WSMsgType.CLOSED and not ws.closed:
                    self._to_worker(p.WsClose(sid, 1006, "the client went away"))
                return

    async def _closed_by_client(self, code: int, reason: str) -> None:
        """The client's Close frame (``code`` 0: none, reported as 1005): to the worker, and
        echoed (RFC 6455, 5.5.1). A code no Close frame may carry (RFC 6455, 7.4; aiohttp
        refuses most, but lets 1006 and 5000 on through) fails the connection with 1002."""
        ws, stream = self.ws, self.stream
        if code and not p.close_code_allowed(code):
            log.info("request %s: WebSocket close code %d from the client: 1002",
                     stream.request_id, code)
            self._to_worker(p.WsClose(stream.sid, 1002, "invalid close code"))
            await ws.close(code=WSCloseCode.PROTOCOL_ERROR, message=b"invalid close code")
            return
        self._to_worker(p.WsClose(stream.sid, code or 1005, reason))
        self.ex.finished = True  # the client closed it: not an aborted exchange
        await ws.close(code=p.sendable_close_code(code or 1005), message=reason.encode())

    async def _pong(self, data: bytes) -> bool:
        """Answer a client's ping. A client that has taken nothing for ``send_timeout`` is
        given up on, as for messages (aiohttp's autoping waited for it for good). False:
        the connection is gone."""
        try:
            async with asyncio.timeout(self.send_timeout):
                await self.ws.pong(data)
        except TimeoutError:
            self._give_up()
            return False
        except ConnectionError:
            return False
        return True

    async def _forward(self, binary: bool, data: memoryview) -> bool:
        """A client's message to the worker, in pieces as its credit comes (a message costs
        its bytes and WS_MESSAGE_COST); False if the stream ended meanwhile."""
        stream = self.stream
        while True:
            piece = p.ws_piece(len(data), stream.request_credit, PIECE)
            if piece is None:
                await stream.wait_request_credit(stream.request_credit + 1)
                if stream.failure is not None or stream.closed or stream.finished:
                    return False
                continue
            n, fin = piece
            if not self._to_worker(p.WsMessage(stream.sid, binary, fin, data[:n])):
                return False
            if fin:
                return True
            data = data[n:]

    async def _outbound(self) -> None:
        """Worker -> client: whole messages, credit back once the socket took them. The
        messages at hand when one is complete leave with it, in one write; the messages
        written before a close leave before its Close frame."""
        stream = self.stream
        pieces: list[bytes | memoryview] = []
        size = 0
        limit = self.limits.websocket_max_message
        batch: list[bytes | memoryview] = []  # frame heads and payloads to write
        owed = 0  # the credit of the batch's final pieces, returned once written
        while True:
            if batch and not stream.pending_chunks():
                if not await self._write(batch, owed):
                    return
                batch, owed = [], 0
            try:
                item = await stream.next_chunk()
            except StreamFailed as e:
                log.warning("request %s: WebSocket closed with 1011: %s", stream.request_id,
                            e.message)
                closing = (WSCloseCode.INTERNAL_ERROR, e.message)
                break
            if isinstance(item, p.WsClose):
                closing = (item.code, item.reason)
                break
            if not isinstance(item, p.WsMessage):
                continue
            pieces.append(item.data)
            size += len(item.data)
            if size > limit:
                log.warning("request %s: the script sent a WebSocket message over %d bytes",
                            stream.request_id, limit)
                self._to_worker(p.WsClose(stream.sid, WSCloseCode.MESSAGE_TOO_BIG,
                                          "message too big"))
                closing = (WSCloseCode.MESSAGE_TOO_BIG, "message too big")
                break
            if not item.fin:
                stream.consumed(p.message_cost(item))  # bounded by the limit: the rest may come
                continue
            data = b"".join(pieces) if len(pieces) > 1 else item.data
            pieces, size = [], 0
            if not item.binary:
                data = text_payload(bytes(data))
            batch += (frame_head(item.binary, len(data)), data)
            owed += p.message_cost(item)
        if batch and not await self._write(batch, owed):
            return
        await self._close(*closing)

    async def _write(self, batch: list[bytes | memoryview], owed: int) -> bool:
        """Write whole frames; once the socket took them (drained if the client reads
        slowly, for up to ``send_timeout``), give ``owed`` credit back. False: the socket
        is closed, closing or was given up on."""
        transport = self.request.transport
        if transport is None or transport.is_closing() or self.ws.closed:
            return False  # the connection is going: nothing more is sent
        size = sum(len(b) for b in batch)
        if size <= _JOIN_MAX:
            transport.write(b"".join(batch))
        else:
            transport.writelines(batch)
        self.ex.bytes_out += sum(len(b) for b in batch[1::2])  # the payloads
        self.last = self.loop.time()
        if self.request.protocol.writing_paused:
            try:
                async with asyncio.timeout(self.send_timeout):
                    await self.request.writer.drain()
            except TimeoutError:
                self._give_up()
                return False
            except ConnectionError:
                return False
        if owed:
            self.stream.consumed(owed)
        return True

    def _give_up(self) -> None:
        """The client has taken nothing for ``send_timeout``: its connection is aborted."""
        log.warning("request %s: the client took no WebSocket message for %g s; closing",
                    self.stream.request_id, self.send_timeout)
        self.stream.cancel("the client does not read")
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def _idle(self) -> None:
        timeout = self.limits.websocket_idle_timeout
        if timeout <= 0:
            return
        while True:
            left = self.last + timeout - self.loop.time()
            if left <= 0:
                break
            await asyncio.sleep(left)
        log.info("request %s: WebSocket idle for %g s; closing", self.stream.request_id,
                 timeout)
        await self._close(WSCloseCode.GOING_AWAY, "idle timeout")
