"""A response body the worker writes into the client's connection itself (RESPONSE_DIRECT).

A body made in JavaScript otherwise crosses to the supervisor as frames (two ZeroMQ I/O
threads and the supervisor's loop per chunk) before the supervisor writes it to the client.
Once a stream has sent ``DIRECT_AFTER`` bytes that way, or sent some in ``DIRECT_AFTER_PUMPS``
pumps (a body drip-fed by timers or events: each chunk would cross the supervisor on its
own), and goes on past that pump (its Content-Length, if it has one, leaving at least
``DIRECT_MIN_REST``), the worker asks for the client's socket instead. Until the answer
comes, what JS hands over is kept (copied: the bridge's buffer is reused by the next pump);
with the socket, each chunk goes to it with one ``sendmsg`` as it leaves the pump, framed
as an HTTP/1.1 chunk if chunked.
After a refusal the kept chunks go as frames and so does the rest of the body.

JavaScript gets its credit back as bytes reach the kernel, under the stream core's one grant
policy, so a slow client slows the script as before: at most a window waits here, the rest
in the kernel's socket buffer; a client that takes nothing for ``send_timeout`` seconds
fails the stream. The socket is a copy of the supervisor's: closing ours never closes the
connection. The supervisor writes what ends the body (a chunked body's last chunk) and keeps
the connection for its next request.
"""

from __future__ import annotations

import asyncio
import errno
import os
import resource
import socket
from collections import deque
from collections.abc import Callable

from isoflow.protocol.stream import should_grant

DIRECT_AFTER = 128 << 10  # body bytes a stream sends as frames before it asks for the socket
DIRECT_AFTER_PUMPS = 4  # ... or pumps whose actions sent some of them (a drip-fed body)
DIRECT_MIN_REST = 256 << 10  # ... and what a Content-Length must leave after them, if any
_NOSIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)


def descriptors_to_spare(coming: int = 0) -> bool:
    """Whether this process may take one more client socket (``coming``: others already
    asked for): a direct body holds one for its whole length, and a worker whose descriptors
    run out loses the socket the supervisor sends (and cannot open a fetch's): a quarter of
    ``RLIMIT_NOFILE`` stays free."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    try:
        used = len(os.listdir("/proc/self/fd"))
    except OSError as e:
        return e.errno not in (errno.EMFILE, errno.ENFILE)  # no /proc: no way to tell
    return soft == resource.RLIM_INFINITY or used + coming < soft - soft // 4
_CRLF = b"\r\n"


class DirectWrite:
    """One stream's body on its way into the client's socket (or waiting for the socket).

    ``on_credit(n)``: JS may send ``n`` more bytes. ``on_end(written, failure)``: the body is
    written (``failure`` None: ``end`` was called and everything reached the kernel) or
    cannot be (``failure`` says why, in one line). ``on_stall()``: the client's socket is
    full, the body waits for it. None is called after :meth:`close`.
    """

    __slots__ = ("_held", "_on_credit", "_on_end", "_on_stall", "_pending", "_timer",
                 "_unreturned", "accepted", "chunked", "client_gone", "done", "ending",
                 "limit", "loop", "send_timeout", "sock", "window", "written")

    def __init__(self, window: int, on_credit: Callable[[int], None],
                 on_end: Callable[[int, str | None], None],
                 on_stall: Callable[[], None] | None = None, limit: int = -1) -> None:
        self.loop = asyncio.get_running_loop()
        self.window = window
        self._on_credit = on_credit
        self._on_end = on_end
        self._on_stall = on_stall  # the client's socket is full: the body waits for it
        self.sock: socket.socket | None = None
        self.chunked = False
        self.send_timeout = 0.0
        self._held: list[bytes] = []  # chunks JS made before the answer came
        self._pending: deque[tuple[memoryview, int]] = deque()  # (bytes to send, payload)
        self._unreturned = 0  # payload bytes in the kernel, not granted back to JS yet
        self._timer: asyncio.TimerHandle | None = None
        self.written = 0  # payload bytes handed to the kernel
        self.accepted = 0  # payload bytes taken from JS (written, waiting, or held)
        # What the Content-Length leaves (-1: no length): a byte past it would reach the
        # client as the start of its next response, so the body fails before it is written.
        self.limit = limit
        self.ending = False  # JS ended the body
        self.done = False
        self.client_gone = False  # why it failed: the client closed or reset the connection

    @property
    def answered(self) -> bool:
        return self.sock is not None or self.done

    @property
    def backlog(self) -> int:
        """Payload bytes taken from JS that have not reached the kernel (held or pending)."""
        return self.accepted - self.written

    # -- from the worker ------------------------------------------------------------------

    def granted(self, sock: socket.socket, chunked: bool, send_timeout: float) -> None:
        """The supervisor's answer: the client's socket. What JS made meanwhile goes first."""
        if self.done:
            sock.close()
            return
        sock.setblocking(False)
        self.sock, self.chunked, self.send_timeout = sock, chunked, send_timeout
        held, self._held = self._held, []
        for chunk in held:
            if not self.done:
                self._send(memoryview(chunk))
        if self.ending and not self._pending and not self.done:
            self._finish(None)

    def refused(self) -> list[bytes]:
        """The supervisor keeps the socket: the chunks held for it, to go as frames."""
        self.done = True
        held, self._held = self._held, []
        return held

    def write(self, data: memoryview) -> None:
        """One chunk of the body (memory the caller reuses once this returns)."""
        size = len(data)
        if self.done or not size:  # an empty chunk would end a chunked body
            return
        self.accepted += size
        if 0 <= self.limit < self.accepted:
            self._finish(f"the body is longer than its Content-Length ({self.limit} bytes "
                         "were left)")
            return
        self._send(data)

    def _send(self, data: memoryview) -> None:
        size = len(data)
        sock = self.sock
        if sock is None:
            self._held.append(bytes(data))
            return
        parts = [b"%x\r\n" % size, data, _CRLF] if self.chunked else [data]
        total = size + (len(parts[0]) + 2 if self.chunked else 0)
        sent = 0
        if not self._pending:
            try:
                sent = sock.sendmsg(parts, (), _NOSIGNAL)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                self._gone(e)
                return
            if sent == total:
                self.written += size
                self._returned(size)
                return
        rest = memoryview(b"".join(parts))[sent:]
        self._pending.append((rest, size))
        if len(self._pending) == 1:
            if self._on_stall is not None:
                self._on_stall()
            self._wait_writable()

    def end(self) -> None:
        """JS ended the body: done once everything reached the kernel."""
        self.ending = True
        if self.sock is not None and not self._pending and not self.done:
            self._finish(None)

    def close(self) -> None:
        """The stream is gone (cancelled, failed): stop, without a word to anyone."""
        self.done = True
        self._held.clear()
        self._stop_waiting()
        self._pending.clear()
        if self.sock is not None:
            self.sock.close()

    # -- internals ----------------------------------------------------------------------

    def _returned(self, size: int) -> None:
        """``size`` payload bytes reached the kernel: grant them back under the policy."""
        self._unreturned += size
        if should_grant(self._unreturned, self.backlog, self.window):
            grant, self._unreturned = self._unreturned, 0
            self._on_credit(grant)

    def _wait_writable(self) -> None:
        """The socket is full: go on when it takes more, fail if it takes none in time."""
        assert self.sock is not None
        if self._timer is None:
            self.loop.add_writer(self.sock.fileno(), self._flush)
        else:
            self._timer.cancel()
        self._timer = self.loop.call_later(self.send_timeout, self._timed_out)

    def _stop_waiting(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            if self.sock is not None:
                self.loop.remove_writer(self.sock.fileno())

    def _flush(self) -> None:
        sock = self.sock
        assert sock is not None
        pending = self._pending
        progress = False
        while pending:
            view, payload = pending[0]
            try:
                sent = sock.send(view, _NOSIGNAL)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                self._gone(e)
                return
            progress = True
            if sent < len(view):
                pending[0] = (view[sent:], payload)
                continue
            pending.popleft()
            self.written += payload
            self._returned(payload)
            if self.done:
                return
        if not pending:
            self._stop_waiting()
            if self.ending:
                self._finish(None)
        elif progress:
            self._wait_writable()  # a fresh send_timeout from this progress

    def _timed_out(self) -> None:
        self._timer = None
        if self.sock is not None:
            self.loop.remove_writer(self.sock.fileno())
        self._finish(f"the client took nothing for {self.send_timeout:g} s")

    def _gone(self, error: OSError) -> None:
        self.client_gone = True
        self._finish(f"the client went away: {error.strerror or error}")

    def _finish(self, failure: str | None) -> None:
        if self.done:
            return
        written = self.written
        self.close()
        self._on_end(written, failure)
