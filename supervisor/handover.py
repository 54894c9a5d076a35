"""Sockets handed over by local workers, for the splice relay (``protocol/handover.py``).

The supervisor listens on a Unix ``SOCK_SEQPACKET`` socket in its private runtime directory;
each local worker connects once. A message carries one socket (``SCM_RIGHTS``) and the
stream it belongs to; the kernel says which process sent it (``SO_PEERCRED``), so a socket
is only ever given to a stream of the worker that sent it: :meth:`Handovers.take` is keyed
by (worker pid, stream id). A socket nobody takes within ``KEEP`` seconds (its stream
ended meanwhile) is closed. Anything malformed is dropped and its descriptors closed.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path

from isoflow.protocol import ProtocolError
from isoflow.protocol import handover as message

from .logsetup import LogLimiter

log = logging.getLogger("isoflow.supervisor.handover")

KEEP = 10.0  # seconds an untaken socket is kept
_MAX_FDS = 4  # room for more than one, so that extra descriptors are seen (and closed)
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def _received_fds(ancdata: list) -> list[int]:
    fds: list[int] = []
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            arr = array.array("i")
            arr.frombytes(data[: len(data) - len(data) % arr.itemsize])
            fds.extend(arr)
    return fds


class Handovers:
    """The listening socket and the sockets received, until a stream takes them."""

    def __init__(self, path: Path, accepts: Callable[[int], bool] | None = None) -> None:
        self.path = path
        # Whether a pid is one of our workers': only they may hand sockets over (another
        # process of the service's user could otherwise make the front hold descriptors).
        self._accepts = accepts
        self._may_log = LogLimiter()
        self._sock: socket.socket | None = None
        self._conns: dict[int, tuple[socket.socket, int]] = {}  # fd -> (connection, pid)
        self._by_pid: dict[int, socket.socket] = {}  # each worker's connection, for answers
        self._ready: dict[tuple[int, int, int], tuple[socket.socket, asyncio.TimerHandle]] = {}
        self._waiters: dict[tuple[int, int, int], asyncio.Future[socket.socket]] = {}
        self._unwanted: dict[tuple[int, int, int], asyncio.TimerHandle] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def listening(self) -> bool:
        return self._sock is not None

    def start(self) -> bool:
        """Listen; False (with a warning: bodies then take the frame path) if it cannot."""
        self._loop = loop = asyncio.get_running_loop()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.bind(str(self.path))  # a path over 107 bytes is refused here
            os.chmod(self.path, 0o600)
            sock.listen(64)
        except OSError as e:
            sock.close()
            log.warning("cannot listen on the hand-over socket %s (%s): forwarded bodies "
                        "take the frame path", self.path, e)
            return False
        sock.setblocking(False)
        self._sock = sock
        loop.add_reader(sock.fileno(), self._accept)
        return True

    def _accept(self) -> None:
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.warning("hand-over socket: accept failed: %s", e)
                return
            conn.setblocking(False)
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
            pid = _CREDENTIALS.unpack(creds)[0]
            if self._accepts is not None and not self._accepts(pid):
                if self._may_log(pid):
                    log.warning("hand-over socket: refused pid %d, which is not a worker of "
                                "this front", pid)
                conn.close()
                continue
            self._conns[conn.fileno()] = (conn, pid)
            self._by_pid[pid] = conn
            loop.add_reader(conn.fileno(), self._read, conn, pid)

    def _read(self, conn: socket.socket, pid: int) -> None:
        while True:
            try:
                data, ancdata, flags, _ = conn.recvmsg(
                    message.SIZE + 1, socket.CMSG_SPACE(_MAX_FDS * 4))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._drop(conn)
                return
            fds = _received_fds(ancdata)
            if not data and not fds:
                self._drop(conn)  # the worker closed its end (it exited)
                return
            try:
                if flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC) or len(fds) != 1:
                    raise ProtocolError(f"hand-over message with {len(fds)} descriptors")
                kind, sid = message.unpack(data)
                sock = socket.socket(fileno=fds.pop())
            except (ProtocolError, OSError) as e:
                log.warning("hand-over from pid %d refused: %s", pid, e)
                for fd in fds:
                    os.close(fd)
                continue
            if sock.type != socket.SOCK_STREAM:
                log.warning("hand-over from pid %d refused: not a stream socket", pid)
                sock.close()
                continue
            sock.setblocking(False)
            self._deliver((pid, kind, sid), sock)

    def _deliver(self, key: tuple[int, int, int], sock: socket.socket) -> None:
        unwanted = self._unwanted.pop(key, None)
        if unwanted is not None:  # its stream ended before it came
            unwanted.cancel()
            sock.close()
            return
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(sock)
            return
        old = self._ready.pop(key, None)
        if old is not None:  # a second socket for the same stream: keep the newest
            old[0].close()
            old[1].cancel()
        timer = asyncio.get_running_loop().call_later(KEEP, self._expire, key)
        self._ready[key] = (sock, timer)

    def _expire(self, key: tuple[int, int, int]) -> None:
        found = self._ready.pop(key, None)
        if found is not None:
            found[0].close()

    def _drop(self, conn: socket.socket) -> None:
        assert self._loop is not None
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(conn.fileno())
        found = self._conns.pop(conn.fileno(), None)
        if found is not None and self._by_pid.get(found[1]) is conn:
            del self._by_pid[found[1]]
        conn.close()

    def answer(self, pid: int, sid: int, client: int | None, chunked: bool = False,
               send_timeout: float = 0.0) -> bool:
        """Answer worker ``pid``'s RESPONSE_DIRECT for stream ``sid``: the client's socket
        ``client`` (a copy of it goes; the caller keeps its own) or, None, a refusal. False
        if the answer cannot go now (the worker has no connection, or it is full)."""
        conn = self._by_pid.get(pid)
        if conn is None:
            return False
        kind = message.CLIENT if client is not None else message.REFUSED
        data = message.pack_answer(kind, sid, chunked, send_timeout)
        try:
            if client is None:
                conn.send(data)
            else:
                socket.send_fds(conn, [data], [client])
        except OSError as e:
            log.warning("cannot answer pid %d for stream %d: %s", pid, sid, e)
            return False
        return True

    def discard(self, pid: int, kind: int, sid: int) -> None:
        """Stream ``sid`` will not take its socket (its client left, or wants no body):
        close it now, or as soon as it comes."""
        key = (pid, kind, sid)
        found = self._ready.pop(key, None)
        if found is not None:
            found[1].cancel()
            found[0].close()
        elif key not in self._unwanted:
            self._unwanted[key] = asyncio.get_running_loop().call_later(
                KEEP, self._unwanted.pop, key, None)

    async def take(self, pid: int, kind: int, sid: int, timeout: float) -> socket.socket | None:
        """The socket worker ``pid`` handed over for stream ``sid`` (waiting at most
        ``timeout`` seconds for it: the frame that announces it may come first); None if
        none came."""
        key = (pid, kind, sid)
        found = self._ready.pop(key, None)
        if found is not None:
            found[1].cancel()
            return found[0]
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[key] = waiter
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except TimeoutError:
            return None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                waiter.result().close()  # it came just as we were cancelled: not leaked
            raise
        finally:
            if self._waiters.get(key) is waiter:
                del self._waiters[key]

    def close(self) -> None:
        loop = self._loop
        if loop is None:
            return  # never started
        for conn, _pid in list(self._conns.values()):
            self._drop(conn)
        for sock, timer in self._ready.values():
            timer.cancel()
            sock.close()
        self._ready.clear()
        for timer in self._unwanted.values():
            timer.cancel()
        self._unwanted.clear()
        if self._sock is not None:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
