"""Wire protocol between the supervisor and isolate workers (sans-I/O).

Frames and their msgpack encoding are in :mod:`.frames`; per-stream state and credit-based
flow control in :mod:`.flow`. Nothing here touches a socket. See ``docs/protocol.md``.
"""

from .errors import FlowControlError, ProtocolError
from .flow import BodyReceiver, BodyState, CreditWindow
from .frames import (
    MAX_BODY_CHUNK,
    VERSION,
    Cancel,
    Fatal,
    Frame,
    FrameType,
    Hello,
    Log,
    Ping,
    Pong,
    RequestBody,
    RequestCredit,
    RequestEnd,
    RequestHead,
    ResponseBody,
    ResponseCredit,
    ResponseEnd,
    ResponseError,
    ResponseHead,
    Scheduled,
    Shutdown,
    decode,
    decode_batch,
    encode,
)

__all__ = [
    "MAX_BODY_CHUNK", "VERSION", "BodyReceiver", "BodyState", "Cancel", "CreditWindow",
    "Fatal", "FlowControlError", "Frame", "FrameType", "Hello", "Log", "Ping", "Pong",
    "ProtocolError", "RequestBody", "RequestCredit", "RequestEnd", "RequestHead",
    "ResponseBody", "ResponseCredit", "ResponseEnd", "ResponseError", "ResponseHead",
    "Scheduled", "Shutdown", "decode", "decode_batch", "encode",
]
