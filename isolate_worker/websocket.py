"""The worker's half of WebSockets (``js/37_websocket.js`` is the JavaScript half).

Two kinds of socket, one set of bridge events and actions:

* **served**: a request the script answered with 101 and a ``webSocket``. The stream (its
  stream id is the socket's id) carries WS_MESSAGE and WS_CLOSE frames; the supervisor
  terminates the client's connection (supervisor/websocket.py). Messages from the
  supervisor arrive within the request credit we granted; a message's last piece is granted
  back once JavaScript dispatched it, earlier pieces at once (a message is bounded by the
  size limit). Messages to the supervisor leave in pieces within its response credit;
  what credit does not cover yet waits here (at most what JavaScript handed over beyond the
  credit it was told of: one message). A message costs its bytes and ``WS_MESSAGE_COST``
  more (protocol/stream.py), either way, so that empty messages are paced as data is.
* **outbound**: ``new WebSocket(url)`` or ``fetch()`` with ``Upgrade: websocket``, connected
  with aiohttp's ``ws_connect`` through the fetch client's session, so the same address
  policy applies (``AddressPolicy``, at connect time). The reader takes a message from the
  upstream only while JavaScript has credit for it; the writer grants JavaScript send credit
  back once aiohttp has written a message (it drains the socket). Credit is counted as for
  served sockets: a message's bytes and ``WS_MESSAGE_COST``.

Every open socket of either kind counts against ``websocket_connections``, with the TCP
sockets of ``cloudflare:sockets`` (sockets.py): ``Worker.open_connections``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from isoflow import protocol as p

from .fetch import _SET_BY_FETCH, Credit, _end_to_end, aiohttp
from .kinds import (
    AC_WS_ACCEPT,
    AC_WS_CLOSE,
    AC_WS_CONNECT,
    AC_WS_CREDIT,
    AC_WS_DATA,
    AC_WS_MESSAGE,
    AC_WS_SEND,
    EV_WS_CLOSE,
    EV_WS_CREDIT,
    EV_WS_ERROR,
    EV_WS_MESSAGE,
    EV_WS_OPEN,
    header_pairs,
)

if TYPE_CHECKING:
    from .worker import StreamEntry, Worker

log = logging.getLogger("isoflow.worker.websocket")

PIECE = 1 << 20  # the largest WS_MESSAGE piece sent to the supervisor
WINDOW = 1 << 20  # bytes an outbound socket may hand JavaScript before it takes them
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013
CLOSE_TIMEOUT = 5.0  # seconds the peer has to answer our Close frame


def _joined(pieces: list[bytes]) -> bytes:
    """A message from its pieces (each copied out of outBin already), which are cleared."""
    message = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    pieces.clear()
    return message


class Served:
    """A stream upgraded to a WebSocket, as the worker sees it."""

    __slots__ = ("assembling", "closing", "entry", "incoming", "out", "owed", "sid")

    def __init__(self, sid: int, entry: StreamEntry) -> None:
        self.sid = sid
        self.entry = entry
        self.assembling: list[bytes] = []  # pieces of the message JavaScript hands over
        self.incoming: list[bytes | memoryview] = []  # pieces of a message from the client
        self.out: deque[list[Any]] = deque()  # [binary, view, sent] waiting for credit
        self.owed: deque[int] = deque()  # credit to grant as JavaScript takes each message
        self.closing: tuple[int, str] | None = None  # JS closed: sent after `out`


class Outbound:
    """A WebSocket the script opened to somewhere else."""

    def __init__(self, sockets: WebSockets, wid: int) -> None:
        self.sockets = sockets
        self.wid = wid
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.credit = Credit(WINDOW)  # bytes JavaScript may be handed now
        self.owed: deque[int] = deque()
        self.assembling: list[bytes] = []
        self.sends: asyncio.Queue[tuple[bool, bytes] | tuple[int, str]] = asyncio.Queue()
        self.task: asyncio.Task | None = None
        self.close_sent = False  # our Close frame went out: the next Close is the answer
        self.dropped = False  # the TCP connection is closed (see _drop)
        self.close_timer: asyncio.TimerHandle | None = None

    async def run(self, url: str, headers: list[str], protocols: list[str]) -> None:
        emit = self.sockets.emit
        # As for fetch(): Host is the URL's, and the script's framing fields are not sent (a
        # proxy passing its request's headers on let a client pick the upstream's virtual
        # host, and an upgrade GET with Content-Length and Transfer-Encoding reached it).
        pairs = [(k, v) for k, v in _end_to_end(
            [[headers[i], headers[i + 1]] for i in range(0, len(headers), 2)])
            if k.lower() not in _SET_BY_FETCH]
        try:
            self.ws = ws = await self.sockets.worker.fetch.session.ws_connect(
                url, protocols=protocols, headers=pairs, autoclose=False, autoping=True,
                max_msg_size=self.sockets.max_message + 1, compress=0,  # exclusive
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # refused by the policy, DNS, handshake (not a 101), ...
            cause = getattr(e, "os_error", None) or e
            what = "was refused" if isinstance(cause, PermissionError) else "failed"
            emit([EV_WS_ERROR, self.wid, f"WebSocket connection to {url} {what}: {cause}"])
            self.sockets.forget(self.wid)
            return
        # RFC 6455 4.1: a subprotocol the client did not offer fails the connection
        # (aiohttp just leaves `protocol` unset).
        chosen = ws._response.headers.get("Sec-WebSocket-Protocol")
        if chosen is not None and chosen.strip() not in protocols:
            with contextlib.suppress(Exception):
                await ws.close(code=1002)
            emit([EV_WS_ERROR, self.wid, f"WebSocket connection to {url} failed: the server "
                                         f"chose the subprotocol {chosen!r}, which was not "
                                         "offered"])
            self.sockets.forget(self.wid)
            return
        headers_out = [x for k, v in ws._response.raw_headers
                       for x in (k.decode("latin-1"), v.decode("latin-1"))]
        emit([EV_WS_OPEN, self.wid, ws.protocol or "", headers_out, url])
        writer = asyncio.get_running_loop().create_task(self._write(ws))
        try:
            await self._read(ws)
        finally:
            writer.cancel()
            if self.close_timer is not None:
                self.close_timer.cancel()
            self.sockets.forget(self.wid)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        emit = self.sockets.emit
        while True:
            await self.credit.wait()  # (no longer once our Close is out: see _write)
            if self.dropped:  # while JavaScript held a window's worth unread
                emit([EV_WS_CLOSE, self.wid, 1006, "", 0])
                return
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT or msg.type is aiohttp.WSMsgType.BINARY:
                if self.close_sent:
                    continue  # the socket is closing: a message now is not delivered
                binary = msg.type is aiohttp.WSMsgType.BINARY
                data = msg.data if binary else msg.data.encode()
                cost = len(data) + p.WS_MESSAGE_COST
                self.credit.available -= cost
                self.owed.append(cost)
                self.sockets.emit_data([EV_WS_MESSAGE, self.wid, int(binary)], data)
                continue
            if msg.type is aiohttp.WSMsgType.CLOSE:
                # The peer's Close frame: the answer to ours, or its own (answered with the
                # same code, RFC 6455 5.5.1). Either way the close event carries its code
                # (1005 when it had none) and reason.
                code, reason, clean = msg.data or 1005, msg.extra or "", True
                if msg.data and not p.close_code_allowed(msg.data):
                    # No such code from a peer (RFC 6455, 7.4): the connection fails.
                    code, reason, clean = 1002, "invalid close code", False
                if not self.close_sent:
                    self.close_sent = True
                    with contextlib.suppress(Exception):
                        await _send_close(ws, code, reason)
                self._drop(ws)
            else:  # ERROR (1009, ...) or the connection dropped (or our close was not answered)
                code = getattr(msg.data, "code", None) if msg.type is aiohttp.WSMsgType.ERROR \
                    else 1006
                code, reason, clean = code or 1006, str(msg.data or ""), False
            emit([EV_WS_CLOSE, self.wid, code, reason[:123], int(clean)])
            return

    async def _write(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        emit = self.sockets.emit
        while True:
            item = await self.sends.get()
            if isinstance(item[0], bool):
                binary, data = item
                try:
                    if binary:
                        await ws.send_bytes(data)  # type: ignore[arg-type]
                    else:
                        await ws.send_str(data.decode("utf-8", "replace"))  # type: ignore[union-attr]
                except (ConnectionError, RuntimeError):
                    return
                emit([EV_WS_CREDIT, self.wid, len(data) + p.WS_MESSAGE_COST])
            else:
                code, reason = item
                if self.close_sent:
                    return
                self.close_sent = True
                try:
                    # Bounded: the frame waits behind what the peer has not read.
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await _send_close(ws, code, reason)  # type: ignore[arg-type]
                except Exception:  # the connection is gone (the reader reports it), or full
                    self._drop(ws)
                    return
                # The reader goes on reading, whatever JavaScript has taken: the peer's
                # answer (its code and reason) ends the handshake; a peer that never answers
                # is dropped (close code 1006).
                self.credit.close()
                self.close_timer = asyncio.get_running_loop().call_later(
                    CLOSE_TIMEOUT, self._drop, ws)
                return

    def _drop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Close the TCP connection (after the closing handshake, or instead of it)."""
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        self.dropped = True
        self.credit.close()  # a reader waiting for JavaScript to take messages stops now
        connection = ws._response.connection
        transport = connection.transport if connection is not None else None
        ws._response.close()  # aiohttp's close() would send a second Close frame
        if transport is not None and transport.get_write_buffer_size():
            # A close waits for the bytes queued to leave: a peer that reads nothing kept
            # the connection (and its buffers) for good. Nothing more is owed to it.
            transport.abort()


async def _send_close(ws: aiohttp.ClientWebSocketResponse, code: int, reason: str) -> None:
    """Send a Close frame: empty for 1005 (no status code, RFC 6455 7.1.5), else the code
    and the reason. (aiohttp's close() always sends a code, and reads the answer itself,
    dropping its reason: the frame is written here and the reader takes the answer.)"""
    payload = (b"" if code == 1005
               else p.sendable_close_code(code).to_bytes(2, "big") + reason.encode())
    await ws._writer.send_frame(payload, aiohttp.WSMsgType.CLOSE)


class WebSockets:
    """Every WebSocket of one worker, served and outbound."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.served: dict[int, Served] = {}
        self.outbound: dict[int, Outbound] = {}

    @property
    def max_message(self) -> int:
        return self.worker.options.bridge.websocket_max_message

    def emit(self, event: list[Any]) -> None:
        if self.worker.bridge is not None:
            self.worker.bridge.send(event)

    def emit_data(self, event: list[Any], data: bytes | memoryview) -> None:
        if self.worker.bridge is not None:
            self.worker.bridge.send(event, data)

    def _full(self) -> bool:
        limit = self.worker.options.bridge.websocket_connections
        return bool(limit) and self.worker.open_connections() >= limit

    # -- actions from JavaScript ----------------------------------------------------------

    def on_action(self, action: list[Any], data: memoryview | None) -> None:
        kind, ident = action[0], action[1]
        if kind == AC_WS_CONNECT:
            self._connect(ident, action[2], action[3], action[4])
            return
        if kind == AC_WS_ACCEPT:
            self._accept(ident, action[2])
            return
        if ident < 0:
            self._outbound_action(kind, action, data)
            return
        s = self.served.get(ident)
        if s is None:
            return  # cancelled meanwhile
        if kind == AC_WS_MESSAGE:  # a whole message (outBin is reused: copied)
            assert data is not None
            s.out.append([bool(action[4]), memoryview(bytes(data)), 0])
            self._flush(s)
        elif kind == AC_WS_DATA:
            assert data is not None
            s.assembling.append(bytes(data))  # outBin is reused by the next pump: copied
        elif kind == AC_WS_SEND:
            message = _joined(s.assembling)
            s.out.append([bool(action[2]), memoryview(message), 0])
            self._flush(s)
        elif kind == AC_WS_CLOSE:
            s.closing = (action[2], action[3])
            self._flush(s)
        elif kind == AC_WS_CREDIT:
            size = sum(s.owed.popleft() for _ in range(min(action[2], len(s.owed))))
            if size:
                self._consumed(s, size)

    def _consumed(self, s: Served, size: int) -> None:
        """JavaScript took ``size`` bytes of messages: credit as the core's policy says."""
        credit = s.entry.core.consumed(size)
        if credit is not None:
            self.worker._send(credit)

    def _outbound_action(self, kind: int, action: list[Any], data: memoryview | None) -> None:
        o = self.outbound.get(action[1])
        if o is None:
            return
        if kind == AC_WS_MESSAGE:
            assert data is not None
            o.sends.put_nowait((bool(action[4]), bytes(data)))
        elif kind == AC_WS_DATA:
            assert data is not None
            o.assembling.append(bytes(data))
        elif kind == AC_WS_SEND:
            o.sends.put_nowait((bool(action[2]), _joined(o.assembling)))
        elif kind == AC_WS_CLOSE:
            if o.ws is None:  # closed while connecting: the attempt is abandoned
                if o.task is not None:
                    o.task.cancel()
                self.forget(o.wid)
                self.emit([EV_WS_CLOSE, o.wid, 1006, "", 0])
            else:
                o.sends.put_nowait((action[2], action[3]))
        elif kind == AC_WS_CREDIT:
            size = sum(o.owed.popleft() for _ in range(min(action[2], len(o.owed))))
            if size:
                o.credit.grant(size)

    def _connect(self, wid: int, url: str, headers: list[str], protocols: list[str]) -> None:
        if self._full():
            limit = self.worker.options.bridge.websocket_connections
            self.emit([EV_WS_ERROR, wid, f"WebSocket connection to {url} failed: this worker "
                                         f"already has {limit} WebSocket connections"])
            return
        o = Outbound(self, wid)
        self.outbound[wid] = o
        o.task = asyncio.get_running_loop().create_task(o.run(url, headers, protocols))

    def forget(self, wid: int) -> None:
        self.outbound.pop(wid, None)

    # -- served sockets ---------------------------------------------------------------------

    def _accept(self, sid: int, flat: list[str]) -> None:
        worker = self.worker
        entry = worker.streams.get(sid)
        if entry is None:
            return  # the client went away before the answer
        headers = header_pairs(flat)
        limit = worker.options.bridge.websocket_connections
        try:
            if self._full():
                message = f"This worker already has {limit} WebSocket connections."
                code, why = TRY_AGAIN_LATER, "too many WebSocket connections"
                worker._send(entry.core.send(p.ResponseError(sid, 503, message)))
            else:
                worker._send(entry.core.send(p.ResponseHead(sid, 101, headers, -1)))
                self.served[sid] = Served(sid, entry)
                # One whole message from the client may come besides the window.
                widened = entry.core.widen(self.max_message)
                if widened is not None:
                    worker._send(widened)
                return
        except p.ProtocolError as e:  # the request was not a WebSocket upgrade
            message = ("The script answered 101 with a webSocket to a request that is not a "
                       f"WebSocket upgrade ({e}).")
            code, why = 1006, "not a WebSocket upgrade request"
            with contextlib.suppress(p.ProtocolError):
                worker._send(entry.core.send(p.ResponseError(sid, 502, message)))
        worker._send(p.Log(sid, "warn", entry.request_id, message))
        worker.streams.pop(sid, None)
        self.emit([EV_WS_CLOSE, sid, code, why, 0])

    def _flush(self, s: Served) -> None:
        """Send what the supervisor's credit covers, then a pending close."""
        core = s.entry.core
        worker = self.worker
        if core.finished:
            return
        while s.out:
            item = s.out[0]
            binary, view, sent = item
            piece = p.ws_piece(len(view) - sent, core.peer_credit, PIECE)
            if piece is None:
                break  # until the supervisor's next grant
            n, fin = piece
            worker._send(core.send(p.WsMessage(s.sid, binary, fin, view[sent : sent + n])))
            item[2] = sent + n
            if fin:
                s.out.popleft()
        if not s.out and s.closing is not None:
            code, reason = s.closing
            s.closing = None
            worker._send(core.send(p.WsClose(s.sid, code, reason)))

    def is_socket(self, sid: int) -> bool:
        return sid in self.served

    def on_frame(self, sid: int, entry: StreamEntry, frame: p.Frame) -> None:
        """WS_MESSAGE or WS_CLOSE from the supervisor."""
        s = self.served.get(sid)
        if s is None:
            raise p.ProtocolError(f"{frame.TYPE.name} for stream {sid}, which is not a WebSocket")
        if entry.core.receive(frame) is None:  # its phase and credit checked
            return  # late: it crossed the end of the stream
        if isinstance(frame, p.WsMessage):
            size = p.message_cost(frame)
            s.incoming.append(frame.data)
            if not frame.fin:
                self._consumed(s, size)
                return
            data = b"".join(s.incoming) if len(s.incoming) > 1 else frame.data
            s.incoming = []
            s.owed.append(size)
            self.emit_data([EV_WS_MESSAGE, sid, int(frame.binary)], data)
        elif isinstance(frame, p.WsClose):
            self.emit([EV_WS_CLOSE, sid, frame.code, frame.reason, 1])

    def credit(self, sid: int, size: int) -> bool:
        """RESPONSE_CREDIT for ``sid``: True if it is a WebSocket (JavaScript is told)."""
        s = self.served.get(sid)
        if s is None:
            return False
        self._flush(s)  # the core counted the grant
        self.emit([EV_WS_CREDIT, sid, size])
        return True

    def stream_gone(self, sid: int, reason: str) -> None:
        """The supervisor cancelled the stream (the client is gone): JS sees a 1006."""
        if self.served.pop(sid, None) is not None:
            self.emit([EV_WS_CLOSE, sid, 1006, reason[:123], 0])

    def released(self, sid: int) -> None:
        """JavaScript is done with the stream (both closes crossed)."""
        self.served.pop(sid, None)

    # -- the whole worker ---------------------------------------------------------------------

    def going_away(self) -> None:
        """The drain's grace is over: every socket is closed with 1001."""
        for s in list(self.served.values()):
            with contextlib.suppress(p.ProtocolError):  # its side was closed already
                self.worker._send(s.entry.core.send(
                    p.WsClose(s.sid, GOING_AWAY, "the worker is shutting down")))
        self.served.clear()
        for o in list(self.outbound.values()):
            if o.task is not None:
                o.task.cancel()
        self.outbound.clear()

    def reset(self) -> None:
        """The isolate was replaced: its sockets are gone (the streams failed: 1011)."""
        self.served.clear()
        for o in list(self.outbound.values()):
            if o.task is not None:
                o.task.cancel()
        self.outbound.clear()
