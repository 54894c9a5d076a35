"""Moving one HTTP body from a socket to another in the kernel: ``os.splice`` through a pipe.

:func:`relay` copies the payload of a body whose head someone else has read (``prefix``
holds whatever body bytes they read past it) from ``src_fd`` to ``dst_fd``, waiting on the
event loop for readiness when a socket says EAGAIN, and for a turn every ``YIELD_BYTES``
(or ``YIELD_CHUNKS`` chunks) so that a fast source never holds the loop. Payload bytes go
socket -> pipe -> socket without entering Python; a chunked body's framing (and, with it,
payloads too small to splice) is read into userland in large reads, parsed there, and taken
off the socket only as far as the body goes (``recv(MSG_PEEK)`` first where the framing
says too little), so that nothing past the body's end is ever consumed.
At most one pipe's (or buffer's) worth is read ahead of what the destination took, so a slow
destination slows the source (TCP backpressure) instead of growing memory.

Either fd may belong to an asyncio transport, so the loop never sees them: readiness waits
use duplicates, registered only while waited on and closed at the end. The destination's
transport must have nothing buffered when the relay starts (drained), or the body would
overtake it. After a :class:`RelayBroken` (or a cancellation) the destination may hold part
of the body and the source an unknown rest: both connections are only fit to be closed.

The same loop can instead copy through a 4 MiB buffer (``use_splice=False``, and
always where there is no ``os.splice``): ``recv_into`` and ``send``, two copies in the
kernel's syscalls and none in Python. Which is faster depends on the kernel and the NIC; on
this project's test machine (Linux 6.18, loopback and veth) copying moved 15-30 % more per
second at the same CPU, so the supervisor copies unless told to splice (``relay_mode``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import mmap
import os
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

HAVE_SPLICE: bool = hasattr(os, "splice") and hasattr(os, "pipe2")
if HAVE_SPLICE:
    import fcntl

PIPE_SIZE = 1 << 20  # the pipe: the most read ahead of dst when splicing
COPY_SIZE = 4 << 20  # the buffer when copying (4 MiB moved 12 % more per second than 1 MiB)
KEEP_BUFFERS = 2  # copy buffers kept for the next relays (a fresh one faults its pages in)
SLOW_WAIT = 0.05  # a destination that takes nothing for this long is slow: ...
SLOW_READ = 256 << 10  # ... the relay reads this much at a time. Large reads are what let
# Linux autotune the source's receive buffer up (to tcp_rmem's maximum, 32 MB on some hosts),
# so that a slow reader's upstream ran that far ahead; small ones keep it where it is.
FAST_AGAIN = 16 << 20  # bytes a slow destination takes with no such wait: full reads again
SIZE_LINE_LIMIT = 4096  # a chunk size line with its extensions and CRLF (rawbody's too)
PEEK_SIZE = 64 << 10  # the most peeked at once in a chunked body's framing
SPLICE_FROM = 64 << 10  # with splice: a chunk's payload left at least this large is spliced
YIELD_BYTES = 1 << 20  # the event loop gets a turn after this much is read in a row ...
YIELD_CHUNKS = 2048  # ... or this many chunks parsed (~3 ms), whatever the sockets say
TRAILER_LINE_LIMIT = 8192  # one trailer field line with its CRLF
TRAILERS_LIMIT = 64 << 10  # the whole trailer section
_PEEK = 256  # bytes peeked at once while looking for a line's end (most lines are short)
_MAX_CHUNK = 1 << 62
_NOSIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)
_MORE = getattr(socket, "MSG_MORE", 0)
_CRLF = memoryview(b"\r\n")
# A chunk size, then extensions (not parsed, they are dropped): visible bytes, SP and HTAB.
SIZE_LINE = re.compile(rb"([0-9A-Fa-f]+)(?:[ \t]*;[\t\x20-\x7e\x80-\xff]*)?")
_SIZE_LINE_CRLF = re.compile(SIZE_LINE.pattern + rb"\r\n")  # one, whole, in a buffer
_LF = re.compile(rb"\n")
_FIELD_LINE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")


@dataclass(frozen=True)
class Framing:
    """How the source body is delimited: ``"length"`` (``length`` bytes), ``"chunked"``
    (RFC 9112 §7.1) or ``"close"`` (until the source's EOF)."""

    kind: str
    length: int = -1

    def __post_init__(self) -> None:
        if self.kind not in ("length", "chunked", "close"):
            raise ValueError(f"unknown body framing {self.kind!r}")
        if self.kind == "length" and self.length < 0:
            raise ValueError("a length framing needs length >= 0")


class RelayBroken(Exception):
    """The relay stopped before the body's end; ``message`` says why, in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SourceBroken(RelayBroken):
    """The source ended early (EOF or reset), or its chunked framing is malformed."""


class DestinationGone(RelayBroken):
    """Writing to the destination failed: the client went away."""


class RelayTimeout(RelayBroken):
    """The destination took nothing for ``send_timeout``, or the source sent nothing for
    ``idle_timeout``."""


class BodyTooLarge(RelayBroken):
    """The body has more than ``max_bytes`` of payload."""


async def relay(src_fd: int, prefix: bytes | bytearray | memoryview, framing: Framing,
                dst_fd: int, *, chunked_out: bool = False, send_timeout: float | None = None,
                idle_timeout: float | None = None, max_bytes: int = 0,
                on_sent: Callable[[int], None] | None = None,
                use_splice: bool = True, skip: int = 0) -> int:
    """Move one HTTP body's payload from ``src_fd`` to ``dst_fd``; returns the payload bytes
    written. ``prefix`` is body bytes already read from src (framing included, bytes past
    the body ignored). With ``chunked_out`` the payload leaves as HTTP/1.1 chunks, without
    the last chunk. ``skip``: payload bytes at the start of a chunked ``prefix`` that went
    another way (dropped, not counted; they must be in ``prefix``). ``on_sent(n)`` is told
    of payload bytes as dst takes them. Raises a :class:`RelayBroken`; neither fd is closed
    or made blocking. A bytearray ``prefix`` must not be resized while the relay runs."""
    if framing.kind == "length" and 0 < max_bytes < framing.length:
        raise BodyTooLarge(f"the body's {framing.length} bytes are over the limit of "
                           f"{max_bytes} bytes")
    if skip and framing.kind != "chunked":
        raise ValueError("only a chunked body's prefix can have payload to skip")
    r = _Relay(src_fd, prefix, dst_fd, chunked_out, send_timeout, idle_timeout, max_bytes,
               on_sent, use_splice and HAVE_SPLICE)
    r.skip = skip
    try:
        if framing.kind == "length":
            await r.payload(framing.length, "body")
        elif framing.kind == "close":
            await r.payload(-1, "body")
        else:
            await r.chunked()
        return r.sent
    finally:
        r.close()


def _timeout_text(seconds: float) -> str:
    return f"{seconds:g} s"


class _Relay:
    """One relay's state: the fds' duplicates, the pipe (or buffer), the unread prefix."""

    def __init__(self, src_fd: int, prefix: bytes | bytearray | memoryview, dst_fd: int,
                 chunked_out: bool, send_timeout: float | None, idle_timeout: float | None,
                 max_bytes: int, on_sent: Callable[[int], None] | None,
                 use_splice: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self.buf = memoryview(prefix).cast("B")
        self.chunked_out = chunked_out
        self.send_timeout = send_timeout
        self.idle_timeout = idle_timeout
        self.max_bytes = max_bytes
        self.on_sent = on_sent
        self.sent = 0  # payload bytes dst took
        self.skip = 0  # payload bytes at the prefix's start to drop (a chunked body)
        self.splice = use_splice
        self.src: socket.socket | None = None
        self.dst: socket.socket | None = None
        self.pipe: tuple[int, int] | None = None
        self.staging: memoryview | None = None
        self._map: mmap.mmap | None = None  # the staging buffer's memory (copy mode)
        self.full_capacity = PIPE_SIZE  # the most read at once while dst keeps up
        self.slow = False  # the destination was seen slow (SLOW_WAIT)
        self.slow_until = 0  # while slow: fast again once ``sent`` reaches this
        self._discard = 0  # recv flags that take peeked bytes off src without copying
        try:
            self.src = _dup(src_fd)
            self.dst = _dup(dst_fd)
            if self.src.family in (socket.AF_INET, socket.AF_INET6):
                self._discard = getattr(socket, "MSG_TRUNC", 0)  # TCP: discarded (tcp(7))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.buf = memoryview(b"")  # the caller's prefix (or the buffer) is not referenced
        for s in (self.src, self.dst):
            if s is not None:
                s.close()  # the duplicate only: the caller's fd stays open
        if self.pipe is not None:
            for fd in self.pipe:
                os.close(fd)
        if self.staging is not None:
            self.staging.release()
        if self._map is not None:
            _BUFFERS.give_back(self._map)
        self.src = self.dst = self.pipe = self.staging = self._map = None

    # -- payload -------------------------------------------------------------------------

    async def payload(self, n: int, what: str) -> None:
        """Move ``n`` payload bytes (``-1``: until the source's EOF) to dst: the prefix's
        first, then the socket's, one pipe's worth at a time."""
        total = n
        if self.buf:
            take = len(self.buf) if n < 0 else min(n, len(self.buf))
            if take:
                self._account(take)
                data, self.buf = self.buf[:take], self.buf[take:]
                if self.chunked_out:
                    await self._send([memoryview(b"%x\r\n" % take), data, _CRLF])
                else:
                    await self._send([data])
                self._sent(take)
                if n > 0:
                    n -= take
        if self.pipe is None and self.staging is None and n:
            self._open_staging()
        moved = 0  # bytes moved since the event loop's last turn
        while n:
            want = self.capacity if n < 0 else min(self.capacity, n)
            if n < 0 and self.max_bytes:  # one byte over the limit is enough to know
                want = min(want, self.max_bytes - self.sent + 1)
            got = await self._fill(want, what)
            if got == 0:
                if n < 0:
                    return
                raise SourceBroken(self._broke_off(what, total))
            self._account(got)
            if self.chunked_out:
                await self._send([memoryview(b"%x\r\n" % got)], more=True)
            await self._drain(got)
            if self.chunked_out:
                await self._send([_CRLF])
            if n > 0:
                n -= got
            moved += got
            if moved >= YIELD_BYTES:  # a source and a destination that never say EAGAIN
                moved = 0
                await asyncio.sleep(0)

    def _broke_off(self, what: str, total: int) -> str:
        if what == "body":
            return f"the upstream body broke off after {self.sent} of {total} bytes"
        return f"the upstream chunked body broke off after {self.sent} bytes, in a chunk"

    def _account(self, n: int) -> None:
        if self.max_bytes and self.sent + n > self.max_bytes:
            raise BodyTooLarge(f"the body is over the limit of {self.max_bytes} bytes")

    def _sent(self, n: int) -> None:
        self.sent += n
        if self.on_sent is not None:
            self.on_sent(n)
        if self.slow and self.sent >= self.slow_until:
            self._set_pace(slow=False)

    @property
    def capacity(self) -> int:
        """The most read at once: less while the destination is slow (``_set_pace``)."""
        return SLOW_READ if self.slow else self.full_capacity

    def _open_staging(self) -> None:
        if self.splice:
            self.pipe = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            self.full_capacity = _grow_pipe(self.pipe[1])
        else:
            self._map = _BUFFERS.take()
            self.staging = memoryview(self._map)
            self.full_capacity = COPY_SIZE

    def _open_frames(self) -> None:
        """The buffer a chunked body's framing (and its small payloads) is read into; with
        splice, the pipe too (for large payloads; it sets the capacity)."""
        if self.splice and self.pipe is None:
            self._open_staging()
        if self.staging is None:
            self._map = _BUFFERS.take()
            self.staging = memoryview(self._map)
            if not self.splice:
                self.full_capacity = COPY_SIZE

    async def _fill(self, want: int, what: str) -> int:
        """Up to ``want`` bytes from src into the (empty) pipe; 0 at EOF."""
        assert self.src is not None
        while True:
            try:
                if self.pipe is not None:
                    return os.splice(self.src.fileno(), self.pipe[1], want,
                                     flags=os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK)
                assert self.staging is not None
                return self.src.recv_into(self.staging[:want])
            except BlockingIOError:
                await self._readable()
            except OSError as e:
                raise SourceBroken(self._reset(e)) from None

    async def _drain(self, n: int) -> None:
        """Write the ``n`` bytes the pipe holds to dst."""
        assert self.dst is not None
        flags = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK if self.splice else 0
        if self.chunked_out and self.splice:
            flags |= os.SPLICE_F_MORE  # the chunk's CRLF follows at once
        done = 0
        while done < n:
            try:
                if self.pipe is not None:
                    k = os.splice(self.pipe[0], self.dst.fileno(), n - done, flags=flags)
                else:
                    assert self.staging is not None
                    k = self.dst.send(self.staging[done:n], _NOSIGNAL)
            except BlockingIOError:
                await self._writable()
                continue
            except OSError as e:
                raise DestinationGone(self._gone(e)) from None
            if k == 0:  # a socket takes something or says EAGAIN; never loop on nothing
                raise DestinationGone(f"the client connection took nothing after "
                                      f"{self.sent} bytes")
            done += k
            self._sent(k)

    async def _send(self, parts: list[memoryview], more: bool = False) -> None:
        """Write ``parts`` (userland bytes: prefix payload or framing) to dst."""
        assert self.dst is not None
        flags = _NOSIGNAL | (_MORE if more else 0)
        while parts:
            try:
                k = self.dst.sendmsg(parts[:_IOV_MAX], (), flags)
            except BlockingIOError:
                await self._writable()
                continue
            except OSError as e:
                raise DestinationGone(self._gone(e)) from None
            while parts and k >= len(parts[0]):
                k -= len(parts.pop(0))
            if k:
                parts[0] = parts[0][k:]

    def _reset(self, e: OSError) -> str:
        return f"the upstream connection failed after {self.sent} bytes: {_errno_text(e)}"

    def _gone(self, e: OSError) -> str:
        return f"the client connection failed after {self.sent} bytes: {_errno_text(e)}"

    # -- chunked framing -----------------------------------------------------------------

    async def chunked(self) -> None:
        """Decode a chunked source: each chunk's payload to dst, then read the trailer
        section up to its empty line (discarded); nothing after it is read."""
        await self._chunks()
        await self._trailers()

    async def _chunks(self) -> None:
        """The chunks up to the last one. Their framing is parsed (:class:`_ChunkParser`)
        out of a userland buffer filled by large reads, so that a chunk costs a few
        operations in C however short it or however long its size line is. A read that
        surely stays inside the body (the rest of a large chunk's payload, its CRLF, the 5
        bytes of the shortest end, ``0\\r\\n\\r\\n``) goes straight in; anything else is
        peeked (``MSG_PEEK``, up to ``PEEK_SIZE``) and only what the parser took as body is
        then consumed: nothing past the body's end is ever read. Small payloads are gathered
        and go out in one write per buffer; with splice, a large one is spliced. Every
        ``YIELD_BYTES`` read or ``YIELD_CHUNKS`` chunks, what was read goes out and the
        event loop gets a turn, however fast the source."""
        parser = _ChunkParser(self.skip, self.sent, self.max_bytes)
        out = _Payload()
        prefix, self.buf = self.buf, memoryview(b"")
        if prefix:
            end = parser.feed(prefix, 0, len(prefix), out)
            if parser.done:
                await self._copy_out(out)
                self.buf = prefix[end:]  # the trailers' first bytes
                return
        if parser.skip:
            raise SourceBroken(f"{self.skip} bytes to skip, {self.skip - parser.skip} in "
                               "the prefix")
        self._open_frames()
        frames = self.staging
        assert frames is not None
        off = 0  # where the next read goes in the buffer (before it: payload not written)
        read = 0  # bytes read since the event loop's last turn
        chunks = parser.chunks + YIELD_CHUNKS  # the next turn's, at the latest
        while True:
            if self.splice and parser.left >= SPLICE_FROM and not parser.skip:
                await self._copy_out(out)
                off = 0
                await self.payload(parser.take_payload(), "chunk")
                continue
            want = parser.need()
            direct = not self.splice and want > PEEK_SIZE
            if self.capacity - off < (min(want, _MIN_READ) if direct else _MIN_READ):
                await self._copy_out(out)
                off = 0
            size = min(want if direct else PEEK_SIZE, self.capacity - off)
            got = self._recv_now(frames[off:off + size], 0 if direct else socket.MSG_PEEK)
            if got is None:
                await self._copy_out(out)
                off = 0
                await self._readable()
                continue
            if got == 0:
                raise SourceBroken(f"the upstream chunked body broke off after {self.sent} "
                                   "bytes")
            end = parser.feed(frames, off, off + got, out, None if direct else chunks)
            if not direct:
                self._consume(frames[off:end])
            if parser.done:
                await self._copy_out(out)
                if direct:
                    self.buf = bytes(frames[end:off + got])  # the trailers' first bytes
                return
            read += end - off
            off = end
            if read >= YIELD_BYTES or parser.chunks >= chunks:
                await self._copy_out(out)
                off = read = 0
                chunks = parser.chunks + YIELD_CHUNKS
                await asyncio.sleep(0)

    def _recv_now(self, view: memoryview, flags: int = 0) -> int | None:
        """Bytes read (or peeked) into ``view``; None if the socket has none now."""
        assert self.src is not None
        try:
            return self.src.recv_into(view, 0, flags)
        except BlockingIOError:
            return None
        except OSError as e:
            raise SourceBroken(self._reset(e)) from None

    def _consume(self, peeked: memoryview) -> None:
        """Take the bytes just peeked into ``peeked`` off the socket: on TCP without
        copying them again (``MSG_TRUNC`` discards), elsewhere over themselves."""
        assert self.src is not None
        done, n = 0, len(peeked)
        while done < n:
            try:
                k = self.src.recv_into(peeked[done:], n - done, self._discard)
            except OSError as e:
                raise SourceBroken(self._reset(e)) from None
            if k <= 0:
                raise SourceBroken(f"the upstream chunked body broke off after {self.sent} "
                                   "bytes")
            done += k

    async def _copy_out(self, payload: _Payload) -> None:
        """Write (and forget) the payload gathered, as one chunk with ``chunked_out``."""
        total = payload.size
        pieces = payload.take()
        if not total:
            return
        if self.chunked_out:
            pieces[:0] = [memoryview(b"%x\r\n" % total)]
            pieces.append(_CRLF)
        await self._send(pieces)  # takes the pieces off the list as they go
        self._sent(total)

    async def _trailers(self) -> None:
        """The trailer section, up to its empty line (discarded)."""
        section = 0
        while True:
            line = await self._line(TRAILER_LINE_LIMIT, "a trailer line")
            if not line:
                return
            section += len(line) + 2
            if section > TRAILERS_LIMIT:
                raise SourceBroken(f"the trailer section is over {TRAILERS_LIMIT} bytes")
            if _FIELD_LINE.fullmatch(line) is None:
                raise SourceBroken(f"malformed trailer line {_show(line)}")

    async def _recv(self, n: int, what: str, peek: bool = False) -> bytes:
        assert self.src is not None
        while True:
            try:
                data = self.src.recv(n, socket.MSG_PEEK if peek else 0)
            except BlockingIOError:
                await self._readable()
                continue
            except OSError as e:
                raise SourceBroken(self._reset(e)) from None
            if not data:
                raise SourceBroken(f"the upstream chunked body broke off after {self.sent} "
                                   f"bytes, in {what}")
            return data

    async def _line(self, limit: int, what: str) -> bytes:
        """One line (without its CRLF) of at most ``limit`` bytes with the CRLF. The socket
        is peeked for the line's end, so that only the line's bytes are consumed."""
        line = bytearray()
        if self.buf:
            head = self.buf[:limit]
            end = bytes(head).find(b"\n")
            take = end + 1 if end >= 0 else len(head)
            line += head[:take]
            self.buf = self.buf[take:]
        while not line.endswith(b"\n"):
            if len(line) >= limit:
                raise SourceBroken(f"{what} is over {limit} bytes")
            peeked = await self._recv(min(_PEEK, limit - len(line)), what, peek=True)
            end = peeked.find(b"\n")
            take = end + 1 if end >= 0 else len(peeked)
            while take:  # the bytes peeked are there: recv returns them (in one go on TCP)
                data = await self._recv(take, what)
                line += data
                take -= len(data)
        return _line_of(line, what)

    # -- readiness -----------------------------------------------------------------------

    async def _readable(self) -> None:
        assert self.src is not None
        try:
            await self._ready(self.src.fileno(), False, self.idle_timeout)
        except TimeoutError:
            raise RelayTimeout(f"the upstream sent nothing for "
                               f"{_timeout_text(self.idle_timeout or 0)} (after {self.sent} "
                               f"bytes)") from None

    async def _writable(self) -> None:
        assert self.dst is not None
        started = self.loop.time()
        try:
            await self._ready(self.dst.fileno(), True, self.send_timeout)
        except TimeoutError:
            raise RelayTimeout(f"the client took nothing for "
                               f"{_timeout_text(self.send_timeout or 0)} (after {self.sent} "
                               f"bytes)") from None
        if self.loop.time() - started >= SLOW_WAIT:
            self.slow_until = self.sent + FAST_AGAIN
            if not self.slow:
                self._set_pace(slow=True)

    def _set_pace(self, slow: bool) -> None:
        """Slow: read ``SLOW_READ`` at a time, so the source's receive buffer stops growing
        and its window closes (backpressure reaches the source within a few buffers). Not
        slow: full reads. The socket's own settings are left alone: a fixed receive buffer
        would switch Linux's autotuning off for the rest of the body."""
        self.slow = slow

    async def _ready(self, fd: int, write: bool, timeout: float | None) -> None:
        """Wait for ``fd`` (one of our duplicates) to be readable or writable."""
        fut = self.loop.create_future()
        if write:
            self.loop.add_writer(fd, _wake, fut)
        else:
            self.loop.add_reader(fd, _wake, fut)
        try:
            if timeout is None:
                await fut
            else:
                async with asyncio.timeout(timeout):
                    await fut
        finally:
            if write:
                self.loop.remove_writer(fd)
            else:
                self.loop.remove_reader(fd)


class _Buffers:
    """The copy buffers: each its own mapping, a few kept for reuse and the rest unmapped.

    Not malloc: it would keep freed 4 MiB blocks (glibc raises its mmap threshold after such
    a free), and 200 relays at once would leave the supervisor 800 MB larger for good. Not a
    fresh mapping each time either: a 10 MiB relay then spent ~750 page faults (and the
    zeroing of 3 MB) filling it in. At most ``KEEP_BUFFERS`` are kept (their touched pages
    stay resident)."""

    def __init__(self) -> None:
        self._free: list[mmap.mmap] = []

    def take(self) -> mmap.mmap:
        return self._free.pop() if self._free else mmap.mmap(-1, COPY_SIZE)

    def give_back(self, buffer: mmap.mmap) -> None:
        if len(self._free) < KEEP_BUFFERS:
            try:
                buffer.resize(COPY_SIZE)  # raises BufferError while a slice is alive
            except (BufferError, OSError, SystemError):
                pass
            else:
                self._free.append(buffer)
                return
        with contextlib.suppress(BufferError):  # a slice still alive: the GC unmaps it
            buffer.close()


_BUFFERS = _Buffers()


def _wake(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


def _dup(fd: int) -> socket.socket:
    """A socket object on a duplicate of ``fd``, in non-blocking mode (which the caller's
    fd already is: the flag is shared, nothing changes for it)."""
    new = os.dup(fd)
    try:
        s = socket.socket(fileno=new)
    except BaseException:
        os.close(new)
        raise
    s.settimeout(0.0)
    return s


def _grow_pipe(fd: int) -> int:
    """Size the pipe to PIPE_SIZE or the most the kernel allows; its capacity in bytes."""
    size = PIPE_SIZE
    while size >= 64 << 10:
        with contextlib.suppress(OSError):
            return fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
        size //= 2
    return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


def _errno_text(e: OSError) -> str:
    if e.errno is None:
        return str(e)
    return f"{errno.errorcode.get(e.errno, e.errno)} ({os.strerror(e.errno)})"


def _line_of(line: bytes | bytearray, what: str) -> bytes:
    """A line read with its LF: without its CRLF, checked."""
    if not line.endswith(b"\r\n"):
        raise SourceBroken(f"{what} does not end in CRLF")
    body = bytes(line[:-2])
    if b"\r" in body:
        raise SourceBroken(f"{what} has a bare CR")
    return body


def _chunk_size(line: bytes) -> int:
    """The size a chunk size line (without its CRLF) gives."""
    m = SIZE_LINE.fullmatch(line)
    if m is None:
        raise SourceBroken(f"malformed chunk size line {_show(line)}")
    return _size_of(m.group(1))


def _size_of(digits: bytes) -> int:
    """A chunk size's hex digits' value, at most ``_MAX_CHUNK``."""
    size = int(digits, 16)  # linear in the digits: base 16
    if size > _MAX_CHUNK:
        raise SourceBroken(f"chunk size {digits[:24].decode()} is too large")
    return size


_DIGITS = re.compile(rb"[0-9A-Fa-f]+")
_MIN_READ = 64 << 10  # with less room than this left in the buffer, it is written out first
_JOIN_BELOW = 16 << 10  # payload pieces smaller than this are copied together for writing
_IOV_MAX = 1024  # the most buffers one sendmsg takes (Linux's UIO_MAXIOV)


def _after_line(line: bytearray) -> int:
    """Bytes the body surely still holds after a size line begun with ``line``: the rest
    of the line (its CRLF at least), then, if its digits so far make a chunk, that chunk's
    payload, CRLF and the shortest end; else that end (``0\\r\\n\\r\\n``)."""
    m = _DIGITS.match(line)
    size = min(int(m.group(), 16), _MAX_CHUNK) if m and len(m.group()) <= 16 else 0
    if size > 0:
        return (1 if line.endswith(b"\r") else 2) + size + 7
    return max(1, 5 - len(line))


def _show(line: bytes) -> str:
    """A line for a message: at most 40 bytes, escaped."""
    text = repr(line[:40])[2:-1]
    return repr(text + ("..." if len(line) > 40 else ""))


class _Payload:
    """Payload pieces parsed out of buffers, not yet written: large ones as views, runs of
    small ones (tiny chunks) copied together, so that a buffer of them is a few pieces."""

    __slots__ = ("pieces", "size", "small")

    def __init__(self) -> None:
        self.pieces: list[memoryview] = []
        self.small = bytearray()
        self.size = 0

    def add(self, piece: memoryview) -> None:
        self.size += len(piece)
        if len(piece) < _JOIN_BELOW:
            self.small += piece
            return
        if self.small:
            self.pieces.append(memoryview(self.small))
            self.small = bytearray()
        self.pieces.append(piece)

    def take(self) -> list[memoryview]:
        """The pieces, in order; the payload is empty after."""
        pieces = self.pieces
        if self.small:
            pieces.append(memoryview(self.small))
            self.small = bytearray()
        self.pieces, self.size = [], 0
        return pieces


class _ChunkParser:
    """Chunked framing (RFC 9112 §7.1) up to the last chunk's size line, parsed out of
    buffers as they come: :meth:`feed` takes any piece of the body, split anywhere, and
    hands the payload to a :class:`_Payload`. A size line is one regular expression match
    when it is whole in the buffer; one split across buffers is gathered, up to
    ``SIZE_LINE_LIMIT``. ``skip`` payload bytes at the start are dropped; ``announced``
    counts the payload the size lines announced (from the bytes sent before), checked
    against ``max_bytes`` (0: no limit) before any of a chunk's payload goes out."""

    __slots__ = ("announced", "chunks", "crlf", "done", "left", "line", "max_bytes", "skip")

    def __init__(self, skip: int = 0, announced: int = 0, max_bytes: int = 0) -> None:
        self.left = 0  # payload bytes of the current chunk still due
        self.crlf = 0  # bytes of the CRLF after a payload still due
        self.line = bytearray()  # a size line begun in an earlier buffer
        self.skip = skip
        self.announced = announced
        self.max_bytes = max_bytes
        self.chunks = 0  # size lines parsed
        self.done = False  # the last chunk's size line was parsed: the trailers follow

    def need(self) -> int:
        """Bytes the body surely still holds: a read of this many never reads past it."""
        if self.crlf:
            return self.crlf + 5
        if self.left:
            return self.left + 7
        return _after_line(self.line)

    def take_payload(self) -> int:
        """The current chunk's payload left, to be moved another way (none is skipped)."""
        n, self.left, self.crlf = self.left, 0, 2
        return n

    def feed(self, buf: memoryview, i: int, n: int, out: _Payload,
             until: int | None = None) -> int:
        """Parse ``buf[i:n]``: where parsing stopped, ``n`` unless the last chunk's size
        line ended before it (then ``done``) or ``chunks`` reached ``until`` (then the rest
        is to be fed again). Raises :class:`SourceBroken` on malformed framing,
        :class:`BodyTooLarge` over ``max_bytes``."""
        match = _SIZE_LINE_CRLF.match
        while i < n:
            if self.left:
                k = min(self.left, n - i)
                d = 0
                if self.skip:
                    d = min(self.skip, k)
                    self.skip -= d
                if k > d:
                    out.add(buf[i + d:i + k])
                self.left -= k
                i += k
                if self.left:
                    return i
                self.crlf = 2
            if self.crlf:
                k = min(self.crlf, n - i)
                due = 2 - self.crlf
                if buf[i:i + k] != b"\r\n"[due:due + k]:
                    raise SourceBroken("missing CRLF after chunk data")
                self.crlf -= k
                i += k
                if self.crlf or i == n:
                    return i
            if self.chunks == until:
                return i
            m = None if self.line else match(buf, i, min(n, i + SIZE_LINE_LIMIT))
            if m is not None:
                size = _size_of(m.group(1))
                i = m.end()
            else:
                i, size = self._line_from(buf, i, n)
                if size < 0:
                    return i
            self.chunks += 1
            if size == 0:
                self.done = True
                return i
            drop = min(self.skip, size)
            self.announced += size - drop
            if self.max_bytes and self.announced > self.max_bytes:
                raise BodyTooLarge(f"the body is over the limit of {self.max_bytes} bytes")
            if not drop and i + size + 2 <= n:  # a chunk whole in the buffer: at once
                end = i + size
                if buf[end:end + 2] != b"\r\n":
                    raise SourceBroken("missing CRLF after chunk data")
                out.add(buf[i:end])
                i = end + 2
            else:
                self.left = size
        return i

    def _line_from(self, buf: memoryview, i: int, n: int) -> tuple[int, int]:
        """A size line that is split, over-long or malformed: (where it ends, its size),
        or (``n``, -1) while its end is still to come."""
        room = SIZE_LINE_LIMIT - len(self.line)
        m = _LF.search(buf, i, min(n, i + room))
        if m is None:
            if n - i >= room:
                raise SourceBroken(f"a chunk size line is over {SIZE_LINE_LIMIT} bytes")
            self.line += buf[i:n]
            return n, -1
        self.line += buf[i:m.end()]
        size = _chunk_size(_line_of(self.line, "a chunk size line"))
        self.line.clear()
        return m.end(), size
