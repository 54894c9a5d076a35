"""Hand an upstream socket to the supervisor (the splice relay; ``protocol/handover.py``).

Only a worker started by the supervisor on this host has a hand-over path; the supervisor
checks who sent a socket (SO_PEERCRED). Sending never blocks: if the message cannot go at
once the body takes the frame path instead.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from isoflow.protocol import handover as message

log = logging.getLogger("isoflow.worker.handover")

RESPONSE, UPLOAD = message.RESPONSE, message.UPLOAD


async def flushed(transport: asyncio.WriteTransport, timeout: float) -> bool:
    """Wait until ``transport`` has handed everything written to it to its socket, so that
    whoever writes to the socket directly next (the relay, on either side) comes after it;
    False if the transport closes or that takes ``timeout`` seconds. It holds bytes only
    when the peer is slow, so a short poll costs nothing on the common path."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while transport.get_write_buffer_size():
        if transport.is_closing() or loop.time() > deadline:
            return False
        await asyncio.sleep(0.002)
    return not transport.is_closing()


class Handover:
    """The worker's end of the hand-over socket, connected on first use."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._sock: socket.socket | None = None

    @property
    def available(self) -> bool:
        return self.path is not None

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
            self._sock.close()
            self._sock = None
