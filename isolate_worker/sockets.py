"""The worker's half of TCP sockets: ``connect()`` of ``cloudflare:sockets``
(``js/37_sockets.js`` is the JavaScript half).

JavaScript asks for a connection with AC_SOCKET_CONNECT. The name is resolved here and each
address is checked against the outbound policy of fetch() (:class:`AddressPolicy`) before a
socket is made for it; the connection goes to that very address (no second lookup). Port 25
is refused, as in Workers. TLS ("on", or "starttls" then ``startTls()``) uses the system's CA
bundle, with the hostname for SNI and verification.

Bytes flow under credit both ways, as fetch bodies do: the reader takes from the socket only
what JavaScript granted (AC_SOCKET_CREDIT, as its Inflow is pulled), and what JavaScript
writes (AC_SOCKET_DATA, within the credit of its Outflow) is granted back (EV_SOCKET_CREDIT)
once it is written and drained. Writes, the end of writing and the TLS upgrade are carried
out in order by one writer task.

The peer's FIN is EV_SOCKET_END; the writable side's close is AC_SOCKET_END, a half-close
(``write_eof``). The connection is closed (EV_SOCKET_CLOSED) once both halves ended, or the
peer's FIN came and the socket does not allow half-open connections, or on ``close()``
(AC_SOCKET_CLOSE, after what was written before it). A failure is EV_SOCKET_ERROR, after
which nothing more comes.

Every open socket counts against ``websocket_connections``, the worker's one limit of open
connections (with the WebSockets, served and outbound: ``Worker.open_connections``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl
from typing import TYPE_CHECKING, Any

from .fetch import Credit
from .kinds import (
    AC_SOCKET_CLOSE,
    AC_SOCKET_CONNECT,
    AC_SOCKET_CREDIT,
    AC_SOCKET_DATA,
    AC_SOCKET_END,
    AC_SOCKET_TLS,
    EV_SOCKET_CLOSED,
    EV_SOCKET_CREDIT,
    EV_SOCKET_DATA,
    EV_SOCKET_END,
    EV_SOCKET_ERROR,
    EV_SOCKET_OPEN,
)

if TYPE_CHECKING:
    from .worker import Worker

log = logging.getLogger("isoflow.worker.sockets")

READ_SIZE = 64 << 10  # the most one read takes (and the stream reader's buffer limit)
CONNECT_TIMEOUT = 30.0  # seconds to resolve, connect and (for "on") finish the handshake
CLOSE_TIMEOUT = 5.0  # seconds a closing socket has to flush what was written to it
REFUSED_PORTS = frozenset({25})  # SMTP: refused by Workers too
# Not in a hostname: getaddrinfo() ends the name at a NUL ("localhost\0.example.com").
_NOT_IN_HOSTNAME = re.compile(r"[\x00-\x20\x7f]")

_EOF = "eof"  # writer queue: the writable side closed
_CLOSE = "close"  # writer queue: close() (after what was written before it)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _name(sockaddr: Any) -> str:
    """A socket address as JavaScript gets it: "ip:port", "[ipv6]:port"."""
    if isinstance(sockaddr, tuple) and len(sockaddr) >= 2:
        return _address(str(sockaddr[0]), int(sockaddr[1]))
    return ""


def _why(error: BaseException) -> str:
    if isinstance(error, socket.gaierror):
        return "the DNS lookup failed"
    if isinstance(error, TimeoutError):
        return f"timed out after {CONNECT_TIMEOUT:.0f} s"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {error.reason or error}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class Connection:
    """One TCP connection a script opened (its id is the JavaScript socket's)."""

    def __init__(self, sockets: Sockets, sid: int, host: str, port: int, tls: str,
                 half_open: bool) -> None:
        self.sockets = sockets
        self.sid = sid
        self.host = host
        self.port = port
        self.tls = tls  # "off", "on" or "starttls"
        self.half_open = half_open
        self.address = _address(host, port)
        self.credit = Credit(0)  # bytes JavaScript may be handed now
        self.next_credit = 0  # granted by the socket of a startTls() not carried out yet
        self.sends: asyncio.Queue[bytes | str | int] = asyncio.Queue()  # int: startTls()
        self.writer: asyncio.StreamWriter | None = None  # once connected
        self.reading: asyncio.Task | None = None
        self.task: asyncio.Task | None = None
        self.read_ended = False
        self.write_ended = False
        self.finished = asyncio.Event()  # close now: both halves ended, close(), a failure
        self.failure: str | None = None

    # -- connecting ---------------------------------------------------------------------

    async def run(self) -> None:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                reader, writer = await self._connect()
        except asyncio.CancelledError:
            raise
        except PermissionError as e:
            self._failed(f"connect() to {self.address} was refused: {e}")
            return
        except Exception as e:  # DNS, refused, unreachable, timed out, TLS, a bad name
            self._failed(f"connect() to {self.address} failed: {_why(e)}")
            return
        self.writer = writer
        self.sockets.emit([EV_SOCKET_OPEN, self.sid, _name(writer.get_extra_info("peername")),
                           _name(writer.get_extra_info("sockname"))])
        loop = asyncio.get_running_loop()
        self.reading = loop.create_task(self._read(reader))
        writing = loop.create_task(self._write(reader, writer))
        try:
            await self.finished.wait()
        except asyncio.CancelledError:  # the isolate is gone, or the worker stops
            writer.transport.abort()
            raise
        finally:
            writing.cancel()
            self.reading.cancel()
            self.sockets.forget(self)
        await self._close(writer)
        for sid in (self.sid, *self._upgrades()):
            if self.failure is not None:
                self.sockets.emit([EV_SOCKET_ERROR, sid, self.failure])
            else:
                self.sockets.emit([EV_SOCKET_CLOSED, sid])

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Resolve, check every address against the policy, connect to the first one
        allowed that answers: the socket is made for the checked address itself."""
        if self.port in REFUSED_PORTS:
            raise PermissionError(f"connections to port {self.port} are not allowed")
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        refused: PermissionError | None = None
        failed: OSError | None = None
        for family, type_, proto, _, sockaddr in infos:
            try:
                self.sockets.worker.fetch.policy.check(sockaddr[0])
            except PermissionError as e:
                refused = refused or e
                continue
            sock = socket.socket(family, type_, proto)
            try:
                sock.setblocking(False)
                await loop.sock_connect(sock, sockaddr)
            except OSError as e:
                sock.close()
                failed = e
                continue
            except BaseException:
                sock.close()
                raise
            context = ssl.create_default_context() if self.tls == "on" else None
            return await asyncio.open_connection(
                sock=sock, ssl=context, server_hostname=self.host if context else None,
                limit=READ_SIZE)
        raise refused or failed or OSError(f"{self.host} has no address")

    def _failed(self, message: str) -> None:
        """The connection could not be made: JavaScript is told, nothing more comes."""
        self.sockets.forget(self)
        for sid in (self.sid, *self._upgrades()):
            self.sockets.emit([EV_SOCKET_ERROR, sid, message])

    def _upgrades(self) -> list[int]:
        """The sockets of startTls() calls not carried out (JavaScript waits for them)."""
        ids = []
        while not self.sends.empty():
            item = self.sends.get_nowait()
            if type(item) is int:
                ids.append(item)
        return ids

    def fail(self, message: str) -> None:
        """Fail the connection (a failure of its own, or of an action or event of it)."""
        if self.writer is None:
            if self.task is not None:
                self.task.cancel()
            self._failed(message)
            return
        if self.failure is None and not self.finished.is_set():
            self.failure = message
        self.finished.set()

    def close(self) -> None:
        """close(): the socket closes after what was written before it, within
        CLOSE_TIMEOUT (a peer that reads nothing does not keep it)."""
        if self.writer is None:  # closed while connecting: the attempt is abandoned
            if self.task is not None:
                self.task.cancel()
            self.sockets.forget(self)
            for sid in (self.sid, *self._upgrades()):
                self.sockets.emit([EV_SOCKET_CLOSED, sid])
            return
        self.sends.put_nowait(_CLOSE)
        asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.finished.set)

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        transport = writer.transport
        if self.failure is not None:
            transport.abort()
            return
        writer.close()  # what is buffered is flushed first
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await writer.wait_closed()
        except Exception:  # the peer reads nothing, or reset the connection meanwhile
            transport.abort()

    # -- the two directions -------------------------------------------------------------

    async def _read(self, reader: asyncio.StreamReader) -> None:
        credit = self.credit
        try:
            while True:
                await credit.wait()
                data = await reader.read(min(READ_SIZE, credit.available))
                if not data:
                    break
                credit.available -= len(data)
                self.sockets.emit_data([EV_SOCKET_DATA, self.sid], data)
        except OSError as e:  # reset, TLS failures (ssl.SSLError is one)
            self.fail(f"the connection to {self.address} failed: {_why(e)}")
            return
        self.read_ended = True
        self.sockets.emit([EV_SOCKET_END, self.sid])
        if self.write_ended or not self.half_open:
            self.finished.set()

    async def _write(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        emit = self.sockets.emit
        try:
            while True:
                item = await self.sends.get()
                if isinstance(item, bytes):
                    if self.write_ended:
                        continue
                    writer.write(item)
                    await writer.drain()
                    emit([EV_SOCKET_CREDIT, self.sid, len(item)])
                elif item == _EOF:
                    self._end_writing(writer)
                elif item == _CLOSE:
                    self.finished.set()
                    return
                else:
                    assert isinstance(item, int)
                    await self._start_tls(reader, writer, item)
        except (OSError, RuntimeError) as e:  # reset, broken pipe, a TLS handshake
            self.fail(f"the connection to {self.address} failed: {_why(e)}")

    def _end_writing(self, writer: asyncio.StreamWriter) -> None:
        """The writable side closed: FIN after what is buffered (TLS cannot half-close,
        so a TLS socket closes whole)."""
        if self.write_ended:
            return
        self.write_ended = True
        if not writer.can_write_eof():
            self.finished.set()
            return
        writer.write_eof()
        if self.read_ended:
            self.finished.set()

    async def _start_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         new_sid: int) -> None:
        """startTls(): the connection goes on under TLS as socket ``new_sid`` (what was
        written before is out first: this runs in the writer's order)."""
        self.sockets.rename(self, new_sid)  # a failure from here on is the new socket's
        if self.tls != "starttls" or self.write_ended or self.read_ended:
            raise RuntimeError("startTls() needs an open socket made with secureTransport "
                               "'starttls', upgraded once")
        self.tls = "on"
        if self.reading is not None:
            self.reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reading
        # Bytes the peer sent in the clear that nobody read yet would come out of the TLS
        # socket as if they were its first (STARTTLS injection, CVE-2011-0411): refused.
        unread = len(getattr(reader, "_buffer", b""))
        if unread:
            raise RuntimeError(f"startTls(): the peer sent {unread} bytes in the clear that "
                               "were not read before the TLS handshake")
        self.credit = Credit(self.next_credit)  # what the new socket's readable granted
        self.next_credit = 0
        await writer.start_tls(ssl.create_default_context(), server_hostname=self.host)
        self.sockets.emit([EV_SOCKET_OPEN, self.sid, _name(writer.get_extra_info("peername")),
                           _name(writer.get_extra_info("sockname"))])
        self.reading = asyncio.get_running_loop().create_task(self._read(reader))


class Sockets:
    """Every TCP socket of one worker."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.connections: dict[int, Connection] = {}

    def emit(self, event: list[Any]) -> None:
        if self.worker.bridge is not None:
            self.worker.bridge.send(event)

    def emit_data(self, event: list[Any], data: bytes) -> None:
        if self.worker.bridge is not None:
            self.worker.bridge.send(event, data)

    def on_action(self, action: list[Any], data: memoryview | None) -> None:
        kind, sid = action[0], action[1]
        if kind == AC_SOCKET_CONNECT:
            self._connect(sid, action[2], action[3], action[4], bool(action[5]))
            return
        c = self.connections.get(sid)
        if c is None:
            return  # closed or failed meanwhile
        if kind == AC_SOCKET_DATA:
            assert data is not None
            c.sends.put_nowait(bytes(data))  # outBin is reused by the next pump: copied
        elif kind == AC_SOCKET_CREDIT:
            if sid == c.sid:
                c.credit.grant(action[2])
            else:  # the new socket of a startTls() under way
                c.next_credit += action[2]
        elif kind == AC_SOCKET_END:
            c.sends.put_nowait(_EOF)
        elif kind == AC_SOCKET_CLOSE:
            c.close()
        elif kind == AC_SOCKET_TLS:
            if action[2] in self.connections:
                c.fail("startTls(): the new socket's id is taken")
            else:  # the new socket's actions reach the connection at once, in order
                self.connections[action[2]] = c
                c.sends.put_nowait(action[2])

    def _connect(self, sid: int, host: str, port: int, tls: str, half_open: bool) -> None:
        address = _address(host, port)
        limit = self.worker.options.bridge.websocket_connections
        if sid in self.connections:
            self.fail(sid, "internal error: the socket's id is taken")
        elif tls not in ("off", "on", "starttls") or not 0 < port < 65536:
            self.emit([EV_SOCKET_ERROR, sid, f"connect() to {address} failed: invalid options"])
        elif _NOT_IN_HOSTNAME.search(host):
            self.emit([EV_SOCKET_ERROR, sid, f"connect() failed: invalid hostname {host!r}"])
        elif limit and self.worker.open_connections() >= limit:
            self.emit([EV_SOCKET_ERROR, sid, f"connect() to {address} failed: this worker "
                                             f"already has {limit} open connections"])
        else:
            c = self.connections[sid] = Connection(self, sid, host, port, tls, half_open)
            c.task = asyncio.get_running_loop().create_task(c.run())

    def count(self) -> int:
        """Open connections (one under two ids while startTls() is under way counts once)."""
        return sum(1 for sid, c in self.connections.items() if c.sid == sid)

    def fail(self, sid: int, message: str) -> None:
        """An action or event of socket ``sid`` could not be handled: it fails."""
        c = self.connections.get(sid)
        if c is not None:
            c.fail(message)
        else:
            self.emit([EV_SOCKET_ERROR, sid, message])

    def forget(self, c: Connection) -> None:
        """Forget ``c`` (under its id, and that of a startTls() not carried out yet)."""
        for sid in [sid for sid, other in self.connections.items() if other is c]:
            del self.connections[sid]

    def rename(self, c: Connection, sid: int) -> None:
        """startTls(): ``c`` goes on as socket ``sid`` (the old one's actions are ignored)."""
        if self.connections.get(c.sid) is c:
            del self.connections[c.sid]
        c.sid = sid
        self.connections[sid] = c

    def reset(self) -> None:
        """The isolate was replaced, or the worker stops: every socket is closed at once."""
        for c in list(self.connections.values()):
            if c.task is not None:
                c.task.cancel()
        self.connections.clear()

    going_away = reset
