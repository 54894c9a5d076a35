"""Hand an upstream socket to the supervisor (the splice relay; ``protocol/handover.py``),
and receive the client sockets it answers RESPONSE_DIRECT with (``direct.py``).

Only a worker started by the supervisor on this host has a hand-over path; the supervisor
checks who sent a socket (SO_PEERCRED). Sending never blocks: if the message cannot go at
once the body takes the frame path instead.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections.abc import Callable

from isoflow.protocol import ProtocolError
from isoflow.protocol import handover as message

log = logging.getLogger("isoflow.worker.handover")

RESPONSE, UPLOAD = message.RESPONSE, message.UPLOAD
# An answer: (stream id, the client's socket, or None for a refusal, or the OSError that lost
# the socket on its way (no descriptor left here: the supervisor has handed it over all the
# same), chunked, send timeout).
OnAnswer = Callable[[int, "socket.socket | OSError | None", bool, float], None]
LOST = "the worker had no file descriptor left for the client's socket"


async def flushed(transport: asyncio.WriteTransport, timeout: float) -> bool:
    """Wait until ``transport`` has handed everything written to it to its socket, so that
    whoever writes to the socket directly next (the relay, on either side) comes after it;
    False if the transport closes or that takes ``timeout`` seconds. It holds bytes only
    when the peer is slow, so a short poll costs nothing on the common path; the poll
    starts at 125 µs and doubles up to 2 ms (a hand-over waits for it, and most clients
    drain within the first few)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pause = 0.000125  # a fast client drains within a millisecond: look often at first
    while transport.get_write_buffer_size():
        if transport.is_closing() or loop.time() > deadline:
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.002)
    return not transport.is_closing()


class Handover:
    """The worker's end of the hand-over socket, connected on first use."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._sock: socket.socket | None = None
        self._on_answer: OnAnswer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # reading answers on it

    @property
    def available(self) -> bool:
        return self.path is not None

    @property
    def answers(self) -> bool:
        """Whether the supervisor can answer a RESPONSE_DIRECT (we are connected, listening)."""
        return self._sock is not None and self._on_answer is not None

    def listen(self, on_answer: OnAnswer) -> None:
        """Connect now and hand every answer the supervisor sends to ``on_answer``."""
        sock = self._connect()
        if sock is None:
            return
        self._on_answer = on_answer
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._read)

    def _read(self) -> None:
        sock = self._sock
        if sock is None:
            return
        while True:
            try:
                data, fds, flags, _ = socket.recv_fds(sock, message.ANSWER_SIZE + 1, 2)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.warning("hand-over socket failed: %s", e)
                self.close()
                return
            if not data and not fds:  # the supervisor closed it (it is stopping)
                self.close()
                return
            try:
                if flags & socket.MSG_TRUNC:
                    raise ProtocolError("truncated hand-over answer")
                kind, sid, chunked, timeout = message.unpack_answer(data)
                client: socket.socket | OSError | None
                if flags & socket.MSG_CTRUNC and kind == message.CLIENT and not fds:
                    # The kernel dropped the socket: our descriptor table is full. The
                    # supervisor has handed it over; its stream must fail, not wait.
                    log.warning("hand-over answer for stream %d: %s", sid, LOST)
                    client = OSError(errno.EMFILE, LOST)
                elif flags & socket.MSG_CTRUNC or len(fds) != (kind == message.CLIENT):
                    raise ProtocolError(f"hand-over answer with {len(fds)} descriptors")
                else:
                    client = socket.socket(fileno=fds.pop()) if fds else None
            except (ProtocolError, OSError) as e:
                log.warning("hand-over answer refused: %s", e)
                for fd in fds:
                    os.close(fd)
                continue
            if self._on_answer is not None:
                self._on_answer(sid, client, chunked, timeout)
            elif isinstance(client, socket.socket):
                client.close()

    def _connect(self) -> socket.socket | None:
        if self._sock is None and self.path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                sock.connect(self.path)
            except OSError as e:
                log.warning("cannot reach the supervisor's hand-over socket %s: %s; bodies "
                            "take the frame path", self.path, e)
                sock.close()
                self.path = None
                return None
            sock.setblocking(False)
            self._sock = sock
        return self._sock

    def send(self, kind: int, sid: int, fd: int) -> bool:
        """Pass ``fd`` (a copy of it: the caller still owns its own) for stream ``sid``;
        ``kind`` is :data:`RESPONSE` or :data:`UPLOAD`."""
        sock = self._connect()
        if sock is None:
            return False
        try:
            socket.send_fds(sock, [message.pack(kind, sid)], [fd])
        except OSError as e:
            log.warning("hand-over of stream %d failed: %s; it takes the frame path", sid, e)
            return False
        return True

    def close(self) -> None:
        if self._sock is not None:
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
