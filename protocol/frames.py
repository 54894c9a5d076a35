"""Frames exchanged between the supervisor and isolate workers, and their wire encoding.

Theory of operation
-------------------
A frame is one or two parts of a ZeroMQ message:

* the *head*: a msgpack array ``[VERSION, type, stream_id, field...]``;
* only for body frames, next: the raw body bytes (never re-encoded, never copied into
  msgpack), unless the body rides in the head (below).

A ZeroMQ message carries a *batch* of frames: a sender collects every frame it has for a
peer (a worker's pump, a turn of the supervisor's loop) in a :class:`Batch` and sends its
parts as one message. Their heads share a part, msgpack arrays one after the other (as many
as fit in ``MAX_HEAD_BYTES``; then another heads part), and the body parts of those frames
follow it in order. In a batch, a body of at most ``INLINE_MAX`` bytes rides in its head
instead, as one more element (msgpack bin) after the fields: a batch of 28 hello responses
is one part, not 29 (each part costs about a microsecond to send and to receive), and a
large body still travels uncopied in a part of its own. :func:`encode` gives one frame's
parts (a heads part of one head, then its body), so one frame's parts, or several frames'
concatenated, are a batch too. :func:`decode_batch` reads a batch back, frame by frame (the
frame type and the head's length say whether a body part follows); :func:`decode` reads a
message of exactly one frame.

Every head is validated on receipt against the frame's declared fields (count and types, deep
for header lists); anything else raises :class:`ProtocolError` with a message naming the frame
and the field, and the receiver logs it and drops the frame (in a batch: it and the rest of
the message, whose framing can no longer be trusted). This module does no I/O.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
from collections.abc import Callable
from typing import Any, ClassVar, get_type_hints

import msgpack

from .errors import ProtocolError

VERSION = 4  # 2: a part may carry several heads (Batch); 3: a small body rides in its head;
# 4: a WebSocket message costs WS_MESSAGE_COST of credit besides its bytes (stream.py)
INLINE_MAX = 4096  # in a Batch, a body up to this size is packed into its frame's head
MAX_HEAD_BYTES = 1 << 20  # a head larger than this is refused before decoding
MAX_BODY_CHUNK = 16 << 20  # a body frame larger than this is refused
MAX_STREAM_ID = (1 << 63) - 1


class FrameType(enum.IntEnum):
    # supervisor -> worker
    REQUEST_HEAD = 1
    REQUEST_BODY = 2
    REQUEST_END = 3
    CANCEL = 4
    RESPONSE_CREDIT = 5
    PING = 6
    SHUTDOWN = 7
    SCHEDULED = 8
    # worker -> supervisor
    HELLO = 20
    RESPONSE_HEAD = 21
    RESPONSE_BODY = 22
    RESPONSE_END = 23
    RESPONSE_ERROR = 24
    REQUEST_CREDIT = 25
    PONG = 26
    LOG = 27
    FATAL = 28
    RESPONSE_RELAY = 29
    UPLOAD_RELAY = 30
    RESPONSE_COMPLETE = 31
    GOODBYE = 32
    RESPONSE_DIRECT = 33
    DIRECT_END = 34
    # either way, on a stream upgraded to a WebSocket (a 101 RESPONSE_HEAD)
    WS_MESSAGE = 40
    WS_CLOSE = 41


Headers = list[list[str]]


@dataclasses.dataclass(slots=True)
class Frame:
    """Base of all frames. ``stream`` is 0 for frames that belong to no stream."""

    TYPE: ClassVar[FrameType]
    HAS_BODY: ClassVar[bool] = False
    stream: int


# -- supervisor -> worker ---------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class RequestHead(Frame):
    """A new request. ``window``: bytes of response body the worker may send at once."""

    TYPE = FrameType.REQUEST_HEAD
    request_id: str
    method: str
    url: str
    headers: Headers
    client: str
    has_body: bool
    window: int


@dataclasses.dataclass(slots=True)
class RequestBody(Frame):
    """A chunk of request body; never more than the worker granted (REQUEST_CREDIT)."""

    TYPE = FrameType.REQUEST_BODY
    HAS_BODY = True
    data: bytes | memoryview = b""


@dataclasses.dataclass(slots=True)
class RequestEnd(Frame):
    TYPE = FrameType.REQUEST_END


@dataclasses.dataclass(slots=True)
class Cancel(Frame):
    """The supervisor gives up on a stream (client gone, time limit): stop and forget it."""

    TYPE = FrameType.CANCEL
    reason: str


@dataclasses.dataclass(slots=True)
class ResponseCredit(Frame):
    """The client consumed ``size`` bytes: the worker may send that many more."""

    TYPE = FrameType.RESPONSE_CREDIT
    size: int


@dataclasses.dataclass(slots=True)
class Ping(Frame):
    TYPE = FrameType.PING
    seq: int


@dataclasses.dataclass(slots=True)
class Shutdown(Frame):
    """Stop taking requests, finish in-flight ones within ``grace`` seconds, then exit."""

    TYPE = FrameType.SHUTDOWN
    grace: float


@dataclasses.dataclass(slots=True)
class Scheduled(Frame):
    """Run the script's scheduled handler (a cron trigger) as stream ``stream``.

    ``scheduled_time`` is in milliseconds since the epoch. The worker answers on the same
    stream with RESPONSE_END (the handler and its waitUntil promises succeeded) or
    RESPONSE_ERROR (they threw or rejected).
    """

    TYPE = FrameType.SCHEDULED
    cron: str
    scheduled_time: float


# -- worker -> supervisor ---------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Hello(Frame):
    """First frame of a worker. ``window``: request body bytes it accepts before granting."""

    TYPE = FrameType.HELLO
    worker: str
    pid: int
    window: int


@dataclasses.dataclass(slots=True)
class ResponseHead(Frame):
    """Status and headers. ``length`` is the body length if known, else -1."""

    TYPE = FrameType.RESPONSE_HEAD
    status: int
    headers: Headers
    length: int


@dataclasses.dataclass(slots=True)
class ResponseBody(Frame):
    TYPE = FrameType.RESPONSE_BODY
    HAS_BODY = True
    data: bytes | memoryview = b""


@dataclasses.dataclass(slots=True)
class ResponseEnd(Frame):
    TYPE = FrameType.RESPONSE_END


@dataclasses.dataclass(slots=True)
class ResponseComplete(Frame):
    """A whole response in one frame: RESPONSE_HEAD (``length`` is ``len(data)``),
    RESPONSE_BODY and RESPONSE_END at once. Its body counts against the response credit.
    Most small answers are this, and one frame costs each side one decode instead of three."""

    TYPE = FrameType.RESPONSE_COMPLETE
    HAS_BODY = True
    status: int
    headers: Headers
    data: bytes | memoryview = b""


@dataclasses.dataclass(slots=True)
class ResponseError(Frame):
    """The response failed. Before the head: answer ``status``; after: abort the connection."""

    TYPE = FrameType.RESPONSE_ERROR
    status: int
    message: str


@dataclasses.dataclass(slots=True)
class RequestCredit(Frame):
    """The script consumed request body: the supervisor may send ``size`` more bytes."""

    TYPE = FrameType.REQUEST_CREDIT
    size: int


@dataclasses.dataclass(slots=True)
class Pong(Frame):
    TYPE = FrameType.PONG
    seq: int
    stats: dict[str, Any]


@dataclasses.dataclass(slots=True)
class Log(Frame):
    """A console line or runtime message; ``stream`` is the request's stream or 0."""

    TYPE = FrameType.LOG
    level: str
    request_id: str
    message: str


@dataclasses.dataclass(slots=True)
class Fatal(Frame):
    """The worker cannot serve at all (the script failed to load); it exits after this."""

    TYPE = FrameType.FATAL
    message: str


@dataclasses.dataclass(slots=True)
class Goodbye(Frame):
    """The worker's last frame before it exits on its own: every frame it sent has arrived."""

    TYPE = FrameType.GOODBYE


# -- worker -> supervisor: a body handed over with its socket (the splice relay) ---------


@dataclasses.dataclass(slots=True)
class ResponseRelay(Frame):
    """The rest of the response body is on the upstream connection handed over beside the
    link (SCM_RIGHTS, tagged with this stream id): the upstream delimits it by ``framing``
    ("length": ``length`` bytes, "chunked", or "close"), and ``data`` is what the worker
    had already read of it (raw, chunk framing included). It ends the worker's part of the
    stream, as RESPONSE_END does."""

    TYPE = FrameType.RESPONSE_RELAY
    HAS_BODY = True
    framing: str
    length: int
    data: bytes | memoryview = b""


@dataclasses.dataclass(slots=True)
class UploadRelay(Frame):
    """Splice the rest of the request body into the upstream connection handed over beside
    the link (in HTTP/1.1 chunks if ``chunked``); the worker has received ``received`` bytes
    of it and has no credit outstanding. The supervisor answers with REQUEST_END once the
    body is in the socket (or goes on sending REQUEST_BODY if it cannot relay)."""

    TYPE = FrameType.UPLOAD_RELAY
    received: int
    chunked: bool


# -- worker -> supervisor: a response body the worker writes into the client's socket ---------


@dataclasses.dataclass(slots=True)
class ResponseDirect(Frame):
    """The worker would write the rest of the response body into the client's connection
    itself. It sends no more RESPONSE_BODY until the supervisor answers beside the link (the
    hand-over socket): with the client's socket (the body goes on there, DIRECT_END ends
    it), or with a refusal (body frames flow again)."""

    TYPE = FrameType.RESPONSE_DIRECT


@dataclasses.dataclass(slots=True)
class DirectEnd(Frame):
    """The body the worker wrote into the client's socket is complete: ``written`` payload
    bytes (chunk framing not counted). It ends the response, as RESPONSE_END does; the
    supervisor writes what ends the body on the connection (a chunked body's last chunk)."""

    TYPE = FrameType.DIRECT_END
    written: int


# -- either way: WebSocket messages of an upgraded stream ----------------------------------


@dataclasses.dataclass(slots=True)
class WsMessage(Frame):
    """A WebSocket message, or a piece of one (``fin`` false: more pieces follow). Counted
    against the same credit as bodies: supervisor -> worker as request credit (REQUEST_CREDIT
    grants it), worker -> supervisor as response credit (RESPONSE_CREDIT)."""

    TYPE = FrameType.WS_MESSAGE
    HAS_BODY = True
    binary: bool = False
    fin: bool = True
    data: bytes | memoryview = b""


@dataclasses.dataclass(slots=True)
class WsClose(Frame):
    """The sender's side of the WebSocket is closed with ``code`` and ``reason`` (a close
    frame from the client, or the script's close()); it sends no more messages."""

    TYPE = FrameType.WS_CLOSE
    code: int
    reason: str


FRAME_CLASSES: dict[int, type[Frame]] = {
    cls.TYPE: cls
    for cls in (
        RequestHead, RequestBody, RequestEnd, Cancel, ResponseCredit, Ping, Shutdown,
        Scheduled, Hello, ResponseHead, ResponseBody, ResponseEnd, ResponseError,
        RequestCredit, Pong, Log, Fatal, Goodbye, ResponseRelay, UploadRelay, ResponseComplete,
        ResponseDirect, DirectEnd, WsMessage, WsClose,
    )
}


def _field_specs(cls: type[Frame]) -> tuple[tuple[str, Any], ...]:
    hints = get_type_hints(cls, globalns={**globals(), "Headers": Headers})
    return tuple(
        (f.name, hints[f.name])
        for f in dataclasses.fields(cls)
        if f.name not in ("stream", "data")
    )


_SPECS: dict[int, tuple[tuple[str, Any], ...]] = {
    t: _field_specs(c) for t, c in FRAME_CLASSES.items()
}


def _header_list(value: Any) -> bool:
    """Whether ``value`` is a list of [name, value] lists of two str (every request's and
    response's head has one: a plain loop, exact types, as msgpack decodes them)."""
    if type(value) is not list:
        return False
    for pair in value:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str \
                or type(pair[1]) is not str:
            return False
    return True


def _compile_exact(specs: tuple[tuple[str, Any], ...]) -> Callable[[list[Any]], bool]:
    """One function testing a frame's field values the common way: each of the one exact
    type it has (``type(v) is int``: True is not an int here, nor 1.0), a header list as
    ``_header_list`` says. Compiled once per frame type (as dataclasses compiles
    ``__init__``): a good head costs one call, not a loop over its fields. False sends the
    values to :func:`_check`'s full way (a float field sent as an int, a map, a wrong type)."""
    tests = []
    for i, (_name, typ) in enumerate(specs):
        if typ in (bool, int, str, float):
            tests.append(f"type(v[{i}]) is {typ.__name__}")
        elif typ == Headers:
            tests.append(f"header_list(v[{i}])")
        else:
            tests.append("False")
    scope: dict[str, Any] = {"header_list": _header_list}
    exec(f"def exact(v):\n    return {' and '.join(tests) or 'True'}\n", scope)
    return scope["exact"]


def _compile_getter(specs: tuple[tuple[str, Any], ...]) -> Callable[[Frame], tuple[Any, ...]]:
    """A frame's field values in wire order, as a tuple (its head after the stream id)."""
    names = [name for name, _typ in specs]
    if len(names) > 1:
        return operator.attrgetter(*names)
    if names:
        get = operator.attrgetter(names[0])
        return lambda frame: (get(frame),)
    return lambda frame: ()


_EXACT: dict[int, Callable[[list[Any]], bool]] = {
    t: _compile_exact(specs) for t, specs in _SPECS.items()
}
_FIELDS: dict[int, Callable[[Frame], tuple[Any, ...]]] = {
    t: _compile_getter(specs) for t, specs in _SPECS.items()
}


def _check(value: Any, typ: Any, name: str, frame: type[Frame]) -> Any:
    """Validate one decoded field of a ``frame``; returns it (ints accepted for floats)."""
    if typ is bool:
        ok = isinstance(value, bool)
    elif typ is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif typ is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif typ is str:
        ok = isinstance(value, str)
    elif typ == Headers:
        ok = _header_list(value)
    elif typ == dict[str, Any]:
        ok = isinstance(value, dict) and all(isinstance(k, str) for k in value)
    else:  # pragma: no cover - a frame declared a type this function does not know
        raise TypeError(f"unsupported field type {typ!r}")
    if not ok:
        raise ProtocolError(
            f"{frame.TYPE.name}: field {name!r} must be {getattr(typ, '__name__', typ)}, "
            f"got {type(value).__name__}"
        )
    return value


_pack = msgpack.Packer(unicode_errors="replace").pack  # reused: cheaper than packb


def _packed_head(frame: Frame, inline: bool) -> bytes:
    """``frame``'s head, with its body as the last element if ``inline``; raises
    ProtocolError if the receiver would refuse it (over ``MAX_HEAD_BYTES``). Text that is
    not valid Unicode (a lone surrogate from JavaScript) travels with ``?`` in its place, so
    every str can be sent."""
    ftype = frame.TYPE
    head = [VERSION, ftype, frame.stream, *_FIELDS[ftype](frame)]
    if inline:
        head.append(frame.data)  # type: ignore[attr-defined]  # msgpack copies it (bin)
    packed = _pack(head)
    if len(packed) > MAX_HEAD_BYTES:
        raise ProtocolError(f"{frame.TYPE.name}: head of {len(packed)} bytes exceeds "
                            f"{MAX_HEAD_BYTES}")
    return packed


def encode(frame: Frame) -> list[bytes | memoryview]:
    """The ZeroMQ message parts for ``frame`` alone: its head, then its body if it has
    one; raises ProtocolError for a head the receiver would refuse (``_packed_head``)."""
    packed = _packed_head(frame, False)
    if frame.HAS_BODY:
        return [packed, frame.data]  # type: ignore[attr-defined]
    return [packed]


class Batch:
    """The frames for one message to one peer, in order: :meth:`parts` is what to send."""

    __slots__ = ("_bodies", "_heads", "_parts", "_size")

    def __init__(self) -> None:
        self._parts: list[Any] = []  # finished groups: a heads part, then its bodies
        self._heads: list[bytes] = []  # the open group's heads and bodies
        self._bodies: list[Any] = []
        self._size = 0

    def add(self, frame: Frame) -> None:
        """Add ``frame``; raises ProtocolError for a head the receiver would refuse."""
        body = frame.data if frame.HAS_BODY else None  # type: ignore[attr-defined]
        inline = body is not None and len(body) <= INLINE_MAX
        head = _packed_head(frame, inline)
        if self._size + len(head) > MAX_HEAD_BYTES:
            self._close_group()
        self._heads.append(head)
        self._size += len(head)
        if body is not None and not inline:
            self._bodies.append(body)

    def __bool__(self) -> bool:
        return bool(self._parts or self._heads)

    def parts(self) -> list[Any]:
        self._close_group()
        return self._parts

    def _close_group(self) -> None:
        if self._heads:
            heads = self._heads
            self._parts.append(heads[0] if len(heads) == 1 else b"".join(heads))
            self._parts += self._bodies
            self._heads, self._bodies, self._size = [], [], 0


def _unpacker(raw: Any) -> msgpack.Unpacker:
    """A reader of a heads part's arrays, refused unread if over ``MAX_HEAD_BYTES``."""
    if len(raw) > MAX_HEAD_BYTES:
        raise ProtocolError(f"frame head of {len(raw)} bytes exceeds {MAX_HEAD_BYTES}")
    unpacker = msgpack.Unpacker(use_list=True, raw=False, strict_map_key=True,
                                max_buffer_size=MAX_HEAD_BYTES)
    unpacker.feed(raw)
    return unpacker


def _next_head(unpacker: msgpack.Unpacker) -> Any:
    try:
        return unpacker.unpack()
    except msgpack.OutOfData:
        raise ProtocolError("undecodable frame head: truncated") from None
    except Exception as e:  # msgpack raises several types for malformed input
        raise ProtocolError(f"undecodable frame head: {e}") from None


def _decode_head(raw: Any) -> tuple[type[Frame], int, list[Any]]:
    """Decode and validate a part of exactly one frame head."""
    unpacker = _unpacker(raw)
    head = _next_head(unpacker)
    if unpacker.tell() < len(raw):
        raise ProtocolError("undecodable frame head: extra data after it")
    return _valid_head(head)


def _valid_head(head: Any) -> tuple[type[Frame], int, list[Any]]:
    """Validate one decoded frame head: (frame class, stream id, field values)."""
    if not isinstance(head, list) or len(head) < 3:
        raise ProtocolError("frame head must be an array [version, type, stream, ...]")
    version, ftype, stream = head[0], head[1], head[2]
    # `type(...) is int`: True == 1 and 1.0 == 1, and neither may pass for a version or type.
    if type(version) is not int or version != VERSION:
        raise ProtocolError(f"unsupported protocol version {version!r} (expected {VERSION})")
    cls = FRAME_CLASSES.get(ftype) if type(ftype) is int else None
    if cls is None:
        raise ProtocolError(f"unknown frame type {ftype!r}")
    # The frame's name is only needed for an error: not looked up for every good frame.
    if type(stream) is not int or not 0 <= stream <= MAX_STREAM_ID:
        raise ProtocolError(f"{cls.TYPE.name}: invalid stream id {stream!r}")
    specs = _SPECS[ftype]
    if len(head) != 3 + len(specs) and not (
            cls.HAS_BODY and len(head) == 4 + len(specs) and type(head[-1]) is bytes):
        raise ProtocolError(f"{cls.TYPE.name}: expected {len(specs)} fields, got {len(head) - 3}")
    values = head[3:]  # a body frame's body last, if it rides in the head
    if not _EXACT[ftype](values):  # the common case: one call (_compile_exact)
        for i, (fname, typ) in enumerate(specs):
            values[i] = _check(values[i], typ, fname, cls)
    return cls, stream, values


def _body(cls: type[Frame], data: Any) -> Any:
    if len(data) > MAX_BODY_CHUNK:
        raise ProtocolError(
            f"{cls.TYPE.name}: body chunk of {len(data)} bytes exceeds {MAX_BODY_CHUNK}"
        )
    return data


def decode(parts: list[bytes] | list[memoryview] | list[Any]) -> Frame:
    """Decode and validate a message of exactly one frame; raises :class:`ProtocolError`."""
    if not parts:
        raise ProtocolError("empty message")
    cls, stream, values = _decode_head(parts[0])
    name = cls.TYPE.name
    if cls.HAS_BODY and len(values) > len(_SPECS[cls.TYPE]):  # its body in its head
        if len(parts) != 1:
            raise ProtocolError(f"{name}: unexpected extra message parts")
        return cls(stream, *values)
    if cls.HAS_BODY:
        if len(parts) != 2:
            raise ProtocolError(f"{name}: expected a body part, got {len(parts) - 1} extra parts")
        return cls(stream, *values, _body(cls, parts[1]))  # type: ignore[call-arg]
    if len(parts) != 1:
        raise ProtocolError(f"{name}: unexpected extra message parts")
    return cls(stream, *values)


def decode_batch(parts: list[Any]) -> tuple[list[Frame], ProtocolError | None]:
    """Decode a message carrying one or more frames (:class:`Batch`): a heads part, its
    frames' body parts in order, and so on. Returns the frames up to the first malformed
    one, and the error that stopped it (None if the whole message was good): after a bad
    frame the framing of the rest cannot be trusted.
    """
    frames: list[Frame] = []
    if not parts:
        return frames, ProtocolError("empty message")
    i, count = 0, len(parts)
    try:
        while i < count:
            size = len(parts[i])
            unpacker = _unpacker(parts[i])
            i += 1
            while True:
                cls, stream, values = _valid_head(_next_head(unpacker))
                if cls.HAS_BODY and len(values) > len(_SPECS[cls.TYPE]):
                    frames.append(cls(stream, *values))  # its body rode in its head
                elif cls.HAS_BODY:
                    if i >= count:
                        raise ProtocolError(f"{cls.TYPE.name}: expected a body part, got none")
                    body = _body(cls, parts[i])
                    i += 1
                    frames.append(cls(stream, *values, body))  # type: ignore[call-arg]
                else:
                    frames.append(cls(stream, *values))
                if unpacker.tell() >= size:
                    break
    except ProtocolError as e:
        return frames, e
    return frames, None
