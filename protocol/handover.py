"""The hand-over messages: upstream sockets to the supervisor, client sockets to a worker.

For the splice relay (``docs/protocol.md``) a local worker sends the supervisor the upstream
connection of a fetch over a Unix ``SOCK_SEQPACKET`` socket beside the ZeroMQ link: one
message per socket, its 9 bytes naming what the socket is for and the stream, the socket
itself as ``SCM_RIGHTS`` ancillary data. The stream's frame (RESPONSE_RELAY or UPLOAD_RELAY)
says the rest; the supervisor pairs the two by (worker pid, stream id).

The other way, on the same connection, the supervisor answers a worker's RESPONSE_DIRECT:
an *answer* of 18 bytes (what it is, the stream, whether the body goes out in HTTP/1.1
chunks, the send timeout in seconds), with the client's socket if it is :data:`CLIENT`.
"""

from __future__ import annotations

import struct

from .errors import ProtocolError

RESPONSE = 1  # the response body continues on it (RESPONSE_RELAY)
UPLOAD = 2  # the rest of the request body goes into it (UPLOAD_RELAY)
KINDS = frozenset({RESPONSE, UPLOAD})
_MESSAGE = struct.Struct("!BQ")
SIZE = _MESSAGE.size
CLIENT = 3  # an answer: the client's socket; the worker writes the rest of the body into it
REFUSED = 4  # an answer: no socket; the body goes on as frames
_ANSWER = struct.Struct("!BQ?d")
ANSWER_SIZE = _ANSWER.size


def pack(kind: int, sid: int) -> bytes:
    return _MESSAGE.pack(kind, sid)


def unpack(data: bytes) -> tuple[int, int]:
    """(kind, stream id) of a hand-over message; ProtocolError if it is not one."""
    if len(data) != SIZE:
        raise ProtocolError(f"hand-over message of {len(data)} bytes (expected {SIZE})")
    kind, sid = _MESSAGE.unpack(data)
    if kind not in KINDS or sid == 0:
        raise ProtocolError(f"hand-over message for kind {kind}, stream {sid}")
    return kind, sid


def pack_answer(kind: int, sid: int, chunked: bool = False, send_timeout: float = 0.0) -> bytes:
    return _ANSWER.pack(kind, sid, chunked, send_timeout)


def unpack_answer(data: bytes) -> tuple[int, int, bool, float]:
    """(kind, stream id, chunked, send timeout) of an answer; ProtocolError if it is not one."""
    if len(data) != ANSWER_SIZE:
        raise ProtocolError(f"hand-over answer of {len(data)} bytes (expected {ANSWER_SIZE})")
    kind, sid, chunked, timeout = _ANSWER.unpack(data)
    if kind not in (CLIENT, REFUSED) or sid == 0 or (kind == CLIENT and not 0 < timeout <= 1e9):
        raise ProtocolError(f"hand-over answer of kind {kind} for stream {sid}")
    return kind, sid, chunked, timeout
