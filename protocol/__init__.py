"""Wire protocol between the supervisor and isolate workers (sans-I/O).

Frames and their msgpack encoding are in :mod:`.frames`; the life of a stream (phases,
outcome, credit both ways, the grant policy) in :mod:`.stream`, one core per stream and
side. Nothing here touches a socket. See ``docs/protocol.md``.
"""

from .errors import FlowControlError, ProtocolError
from .frames import (
    INLINE_MAX,
    MAX_BODY_CHUNK,
    VERSION,
    Batch,
    Cancel,
    DirectEnd,
    Fatal,
    Frame,
    FrameType,
    Goodbye,
    Hello,
    Log,
    Ping,
    Pong,
    RequestBody,
    RequestCredit,
    RequestEnd,
    RequestHead,
    ResponseBody,
    ResponseComplete,
    ResponseCredit,
    ResponseDirect,
    ResponseEnd,
    ResponseError,
    ResponseHead,
    ResponseRelay,
    Scheduled,
    Shutdown,
    UploadRelay,
    WsClose,
    WsMessage,
    decode,
    decode_batch,
    encode,
)
from .stream import (
    NOT_ON_THE_WIRE,
    WS_MESSAGE_COST,
    LocalProtocolError,
    Outcome,
    Phase,
    RemoteProtocolError,
    Role,
    StreamCore,
    close_code_allowed,
    is_websocket_upgrade,
    message_cost,
    sendable_close_code,
    ws_piece,
)

__all__ = [
    "INLINE_MAX", "MAX_BODY_CHUNK", "NOT_ON_THE_WIRE", "VERSION", "WS_MESSAGE_COST", "Batch",
    "Cancel",
    "DirectEnd", "Fatal", "FlowControlError", "Frame", "FrameType", "Goodbye", "Hello",
    "LocalProtocolError", "Log", "Outcome", "Phase", "Ping", "Pong", "ProtocolError",
    "RemoteProtocolError", "RequestBody", "RequestCredit", "RequestEnd", "RequestHead",
    "ResponseBody", "ResponseComplete", "ResponseCredit", "ResponseDirect", "ResponseEnd",
    "ResponseError", "ResponseHead", "ResponseRelay", "Role", "Scheduled", "Shutdown",
    "StreamCore", "UploadRelay", "WsClose", "WsMessage", "close_code_allowed", "decode",
    "decode_batch", "encode", "is_websocket_upgrade", "message_cost", "sendable_close_code",
    "ws_piece",
]
