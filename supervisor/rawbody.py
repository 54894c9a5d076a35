"""A chunked request body's raw bytes, so that its upload can be relayed part way through.

aiohttp's parser decodes a chunked body and keeps no trace of where in the framing it
stopped, so the splice relay (``relays.py``) could not take over such an upload from it.
The front's protocol therefore records the raw bytes of a chunked request body as they
arrive (:class:`RawBody`, up to :data:`RECORD_LIMIT`: a worker asks for the relay after its
first window). When the worker asks, :func:`resume_point` finds, in those bytes, the chunk
that holds the first payload byte not yet sent as frames: the relay starts at that chunk's
size line and drops the payload bytes of it that were sent (``splice.relay``'s ``skip``).

The raw bytes are trusted only if they decode as a chunked body to at least what aiohttp's
parser made of them (its ``total_bytes``; more when its parser paused with raw bytes held,
its buffer full); anything else keeps the body on the frame path.
"""

from __future__ import annotations

from typing import Any

from .splice import SIZE_LINE, SIZE_LINE_LIMIT

RECORD_LIMIT = 1 << 20  # raw bytes kept per chunked body; past it, the body goes as frames


class RawBody:
    """The raw bytes of one chunked request body from its first byte, as the client sent
    them (they may run past the body's end, into a pipelined request)."""

    __slots__ = ("data", "payload")

    def __init__(self, payload: Any, first: bytes) -> None:
        self.payload = payload  # aiohttp's StreamReader of the body: whose bytes these are
        self.data = bytearray(first)

    @classmethod
    def start(cls, message: Any, payload: Any, data: bytes) -> RawBody | None:
        """The record of ``message``'s body if it is chunked and its whole head is in
        ``data`` (a head split over reads is not recorded: that body goes as frames)."""
        if not getattr(message, "chunked", False) or getattr(message, "upgrade", False):
            return None
        method = getattr(message, "method", None)
        if not isinstance(method, str) or not data.startswith(method.encode() + b" "):
            return None
        end = data.find(b"\r\n\r\n")
        return cls(payload, data[end + 4:]) if end >= 0 else None

    def add(self, data: bytes) -> bool:
        """Record ``data``; False once the body is over the limit (the record is useless)."""
        if len(self.data) + len(data) > RECORD_LIMIT:
            return False
        self.data += data
        return True


def resume_point(raw: bytes | bytearray, sent: int, total: int) -> tuple[int, int] | None:
    """Where a relay of the rest of a chunked body starts in ``raw`` (its bytes from the
    first size line) when ``sent`` payload bytes went another way: (offset of a size line,
    payload bytes of that chunk to skip). None unless ``raw`` is chunked framing that
    decodes to at least ``total`` payload bytes and ``sent <= total``."""
    if not 0 <= sent <= total:
        return None
    pos = decoded = 0
    point: tuple[int, int] | None = None
    n = len(raw)
    while pos < n:
        end = raw.find(b"\r\n", pos, pos + SIZE_LINE_LIMIT)
        if end < 0:
            if n - pos >= SIZE_LINE_LIMIT:
                return None
            break  # a size line still arriving
        m = SIZE_LINE.fullmatch(raw, pos, end)
        if m is None:
            return None
        size = int(m.group(1), 16)
        start = end + 2
        got = min(size, n - start)
        tail = bytes(raw[start + size:start + size + 2])
        whole = got == size and tail == b"\r\n"
        if point is None and (size == 0 or decoded + size > sent or not whole):
            point = (pos, sent - decoded)
        if size == 0:
            break  # the last chunk: trailers follow, no payload
        decoded += got
        if not whole:
            if got == size and not b"\r\n".startswith(tail):
                return None  # a chunk's payload not followed by CRLF
            break
        pos = start + size + 2
    if point is None:
        point = (pos, sent - decoded)
    return point if decoded >= total and point[1] >= 0 else None
