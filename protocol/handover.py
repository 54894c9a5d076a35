"""The hand-over message: a worker passes an upstream socket to the supervisor.

For the splice relay (``docs/protocol.md``) a local worker sends the supervisor the upstream
connection of a fetch over a Unix ``SOCK_SEQPACKET`` socket beside the ZeroMQ link: one
message per socket, its 9 bytes naming what the socket is for and the stream, the socket
itself as ``SCM_RIGHTS`` ancillary data. The stream's frame (RESPONSE_RELAY or UPLOAD_RELAY)
says the rest; the supervisor pairs the two by (worker pid, stream id).
"""

from __future__ import annotations

import struct

from .errors import ProtocolError

RESPONSE = 1  # the response body continues on it (RESPONSE_RELAY)
UPLOAD = 2  # the rest of the request body goes into it (UPLOAD_RELAY)
KINDS = frozenset({RESPONSE, UPLOAD})
_MESSAGE = struct.Struct("!BQ")
SIZE = _MESSAGE.size


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
