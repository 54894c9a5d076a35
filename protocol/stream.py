"""The life of one stream, for either side: one pure state machine (sans-I/O, like h11).

Theory of operation
-------------------
A stream is one request: the **request** direction flows supervisor -> worker (REQUEST_HEAD,
REQUEST_BODY..., REQUEST_END), the **response** direction worker -> supervisor
(RESPONSE_HEAD, RESPONSE_BODY..., RESPONSE_END). Each side of the link keeps one
:class:`StreamCore` per stream, built for its :class:`Role`; the two are the same code, so
the rules exist once and the two sides can be run against each other with plain calls.

Each direction has a :class:`Phase`, changed only through :data:`TRANSITIONS`::

    IDLE --head--> BODY --data--> BODY --end--> ENDED
    IDLE --head (no body)--> ENDED

A WebSocket upgrade request (GET, ``Upgrade: websocket``, no body: :func:`is_websocket_upgrade`)
may be answered with a 101 RESPONSE_HEAD, which moves both directions to SOCKET: then
WS_MESSAGE frames flow both ways (the supervisor's count against request credit, the
worker's against response credit) and each side ends its direction with WS_CLOSE::

    request:  ENDED --101--> SOCKET --message--> SOCKET --close--> ENDED
    response: IDLE  --101--> SOCKET --message--> SOCKET --close--> ENDED

When both closes have crossed the stream is ``DONE``.

A request that ended while its response is still flowing is *half-closed*. The stream ends
with exactly one :class:`Outcome`, from :data:`ENDINGS`: RESPONSE_END makes it ``DONE``,
RESPONSE_ERROR ``FAILED``, CANCEL ``CANCELLED``. Frames of a stream that has ended are
*late* (they crossed the ending frame on the wire) and are dropped, not errors; when a CANCEL
and the worker's RESPONSE_END or RESPONSE_ERROR cross, both sides settle on ``CANCELLED``
(the supervisor gave up on the client first).

A response body the worker writes into the client's connection itself: RESPONSE_DIRECT moves
the response BODY -> DIRECT, where no body frames flow; the supervisor answers beside the
link (the hand-over socket) with the client's socket, and DIRECT_END (``DONE``) ends the
response when the body is written, or with a refusal (:meth:`StreamCore.direct_refused`,
called on both sides), after which the response is in BODY again::

    response: BODY --direct--> DIRECT --direct end--> ENDED
                               DIRECT --refused-----> BODY

RESPONSE_COMPLETE is a whole response in one frame (head, body within credit, end): the
response goes IDLE -> ENDED at once, and the stream is ``DONE``.

The splice relay: RESPONSE_RELAY ends the response like RESPONSE_END (``DONE``; the rest of
the body travels on a socket handed over beside the link, outside the stream's credit), and
UPLOAD_RELAY, allowed while the request body flows, asks the supervisor to put the rest of
the body into such a socket itself; REQUEST_END then says it is there.

Credit: a sender never has more body bytes in flight than its peer granted. The receiver
grants bytes back as its application *consumes* them (:meth:`StreamCore.consumed`), under
one policy, :func:`should_grant`: once a quarter of the window is unreturned, or as soon as
everything received has been consumed (nothing left to wait for, so the sender must not
wait either). A WebSocket message costs its bytes and :data:`WS_MESSAGE_COST` more, charged
on its final piece (:func:`message_cost`; :func:`ws_piece` cuts a message to the credit):
an empty message is not free.

Errors: our own misuse (sending in the wrong phase, beyond credit, after the end) raises
:class:`LocalProtocolError` before any frame exists, so a bug of ours never reaches the
wire; a peer's raises :class:`RemoteProtocolError`. Both name the frame and the phase.
Everything that affects a stream's state lives in this file.
"""

from __future__ import annotations

import enum

from .errors import FlowControlError, ProtocolError
from .frames import (
    Cancel,
    DirectEnd,
    Frame,
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
    UploadRelay,
    WsClose,
    WsMessage,
)
from .headers import field_tokens

__all__ = [
    "ENDINGS", "NOT_ON_THE_WIRE", "TRANSITIONS", "WS_MESSAGE_COST", "LocalProtocolError",
    "Outcome", "Phase", "RemoteProtocolError", "Role", "StreamCore", "close_code_allowed",
    "is_websocket_upgrade", "message_cost", "sendable_close_code", "should_grant", "ws_piece",
]

# Credit a WebSocket message costs besides its bytes (what holding one costs either side,
# as aiohttp's reader queue charges 128 bytes a message): a flood of empty messages is
# paced by the credit as a flood of data is.
WS_MESSAGE_COST = 128
# WebSocket close codes that only report a close, never in a Close frame (RFC 6455, 7.4.1).
NOT_ON_THE_WIRE = frozenset({1004, 1005, 1006, 1015})


class LocalProtocolError(ProtocolError):
    """Our own code tried to do something the protocol forbids in this state."""


class RemoteProtocolError(ProtocolError):
    """The peer sent a frame the protocol forbids in this state."""


class _Key(enum.Enum):
    """An enum whose members are hashed by identity: they key the transition tables, looked
    up for every frame, and Enum's own ``__hash__`` is Python code (hash of the name)."""

    __hash__ = object.__hash__


class Role(_Key):
    SUPERVISOR = "supervisor"
    WORKER = "worker"


class Phase(_Key):
    """One direction of a stream."""

    IDLE = "idle"  # no head yet
    BODY = "body"  # the head crossed: data may flow
    ENDED = "ended"  # the end crossed
    SOCKET = "socket"  # upgraded to a WebSocket: messages flow until a WS_CLOSE
    DIRECT = "direct"  # the worker writes the body into the client's socket (or asked to)


class Step(_Key):
    HEAD = "head"
    HEAD_END = "head without body"
    DATA = "data"
    END = "end"
    UPGRADE = "upgrade"
    MESSAGE = "message"
    CLOSE = "close"
    DIRECT = "direct"
    DIRECT_END = "direct end"
    REFUSED = "refused"


class Outcome(_Key):
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


TRANSITIONS: dict[tuple[Phase, Step], Phase] = {
    (Phase.IDLE, Step.HEAD): Phase.BODY,
    (Phase.IDLE, Step.HEAD_END): Phase.ENDED,
    (Phase.BODY, Step.DATA): Phase.BODY,
    (Phase.BODY, Step.END): Phase.ENDED,
    (Phase.IDLE, Step.UPGRADE): Phase.SOCKET,  # the response: a 101 head
    (Phase.ENDED, Step.UPGRADE): Phase.SOCKET,  # the request (it had no body)
    (Phase.SOCKET, Step.MESSAGE): Phase.SOCKET,
    (Phase.SOCKET, Step.CLOSE): Phase.ENDED,
    (Phase.BODY, Step.DIRECT): Phase.DIRECT,  # the response: the worker writes it itself
    (Phase.DIRECT, Step.DIRECT_END): Phase.ENDED,
    (Phase.DIRECT, Step.REFUSED): Phase.BODY,  # the supervisor kept the client's socket
}

# The frames that end a stream, and how.
ENDINGS: dict[type[Frame], Outcome] = {
    ResponseEnd: Outcome.DONE,
    ResponseComplete: Outcome.DONE,  # head, body and end in one frame
    ResponseRelay: Outcome.DONE,  # the body goes on outside the stream (the splice relay)
    DirectEnd: Outcome.DONE,  # the body the worker wrote into the client's socket is complete
    ResponseError: Outcome.FAILED,
    Cancel: Outcome.CANCELLED,
}

# Which direction each body-carrying frame moves, and which step it is.
_REQUEST, _RESPONSE = "request", "response"
_STEPS: dict[type[Frame], tuple[str, Step]] = {
    RequestBody: (_REQUEST, Step.DATA),
    RequestEnd: (_REQUEST, Step.END),
    ResponseHead: (_RESPONSE, Step.HEAD),
    ResponseBody: (_RESPONSE, Step.DATA),
    ResponseEnd: (_RESPONSE, Step.END),
    ResponseRelay: (_RESPONSE, Step.END),
    ResponseDirect: (_RESPONSE, Step.DIRECT),
    DirectEnd: (_RESPONSE, Step.DIRECT_END),
}
# What each role may send; everything else it may only receive.
_SENDS: dict[Role, frozenset[type[Frame]]] = {
    Role.SUPERVISOR: frozenset({RequestHead, Scheduled, RequestBody, RequestEnd, Cancel,
                                ResponseCredit}),
    Role.WORKER: frozenset({ResponseHead, ResponseBody, ResponseEnd, ResponseError,
                            RequestCredit, ResponseRelay, UploadRelay, ResponseComplete,
                            ResponseDirect, DirectEnd}),
}
_SOCKET_FRAMES = (WsMessage, WsClose)  # sent by both roles, each on its own direction


def is_websocket_upgrade(method: str, headers: list[list[str]], has_body: bool) -> bool:
    """Whether a request may be answered with a 101 that switches to a WebSocket: a GET
    without a body whose Upgrade names websocket and whose Connection says upgrade."""
    if method != "GET" or has_body:
        return False
    upgrade = field_tokens(v for k, v in headers if k.lower() == "upgrade")
    connection = field_tokens(v for k, v in headers if k.lower() == "connection")
    return "websocket" in upgrade and "upgrade" in connection


def close_code_allowed(code: int) -> bool:
    """Whether a peer's Close frame may carry ``code`` (RFC 6455, 7.4): 1000-1014 but those
    NOT_ON_THE_WIRE (defined, or registered with IANA), and 3000-4999 (libraries and
    applications). Any other (0-999, 1016-2999 unassigned, 5000 on) fails the connection."""
    return (1000 <= code <= 1014 and code not in NOT_ON_THE_WIRE) or 3000 <= code <= 4999


def sendable_close_code(code: int) -> int:
    """A close code we may put in a Close frame: 1000 for one that must not be sent."""
    return 1000 if code in NOT_ON_THE_WIRE or not 1000 <= code <= 4999 else code


def message_cost(frame: WsMessage) -> int:
    """The credit a WS_MESSAGE costs: its bytes, and WS_MESSAGE_COST on a message's final
    piece (so a message costs the same however it is cut)."""
    return len(frame.data) + WS_MESSAGE_COST if frame.fin else len(frame.data)


def ws_piece(remaining: int, credit: int, piece: int) -> tuple[int, bool] | None:
    """The next piece of a message with ``remaining`` bytes to send under ``credit``, in
    pieces of at most ``piece`` bytes: its size and whether it is the final one, or None
    to wait for credit. A piece before the final one is never empty."""
    if remaining <= piece and remaining + WS_MESSAGE_COST <= credit:
        return remaining, True
    size = min(remaining, credit, piece)
    return (size, False) if size > 0 else None


def should_grant(unreturned: int, held: int, window: int) -> bool:
    """The one grant policy: give credit back once a quarter of the window is unreturned,
    or as soon as the application has consumed everything it received."""
    return unreturned > 0 and (held == 0 or unreturned * 4 >= window)


class _Inbound:
    """Credit for bytes we receive: granted to the peer, received, consumed, returned."""

    __slots__ = ("held", "outstanding", "unreturned", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.outstanding = window  # the peer may send this many bytes now
        self.held = 0  # received, not yet consumed by our application
        self.unreturned = 0  # consumed, not yet granted back

    def receive(self, size: int) -> None:
        if size > self.outstanding:
            raise FlowControlError(
                f"peer sent {size} bytes with only {self.outstanding} bytes of credit")
        self.outstanding -= size
        self.held += size

    def consume(self, size: int, *, wanted: bool) -> int:
        """Bytes to grant back now (0: not yet, or not ``wanted``: nothing more will come)."""
        if size > self.held:
            raise LocalProtocolError(f"consumed {size} bytes but only {self.held} are held")
        self.held -= size
        if not wanted:
            return 0
        self.unreturned += size
        if not should_grant(self.unreturned, self.held, self.window):
            return 0
        grant, self.unreturned = self.unreturned, 0
        self.outstanding += grant
        return grant


class StreamCore:
    """One stream as one side sees it. Frames in, events out; frames out, checked first.

    The events :meth:`receive` returns are the frames themselves (they are already typed,
    validated values); a late frame returns None.
    """

    __slots__ = ("_data_in", "_data_out", "_head", "_in", "outcome", "peer_credit", "request",
                 "response", "role", "sid", "upgraded")

    def __init__(self, role: Role, sid: int, *, request_window: int,
                 response_window: int) -> None:
        self.role = role
        self.sid = sid
        self.request = Phase.IDLE
        self.response = Phase.IDLE
        self.outcome: Outcome | None = None
        self._head: RequestHead | None = None  # the request's head (see upgradable)
        self.upgraded = False  # a 101 crossed: WebSocket messages flow
        # The direction we receive has an inbound window; the one we send, the peer's credit.
        if role is Role.SUPERVISOR:
            self._in = _Inbound(response_window)
            self.peer_credit = request_window
            self._data_out, self._data_in = RequestBody, ResponseBody
        else:
            self._in = _Inbound(request_window)
            self.peer_credit = response_window
            self._data_out, self._data_in = ResponseBody, RequestBody

    # -- state --------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def half_closed(self) -> bool:
        return self.outcome is None and Phase.ENDED in (self.request, self.response)

    @property
    def head(self) -> RequestHead | None:
        """The request's head (None for a scheduled event)."""
        return self._head

    @property
    def upgradable(self) -> bool:
        """Whether the request asked for a WebSocket, so that a 101 may answer it (looked at
        only when a 101 comes: not a cost of every request)."""
        head = self._head
        return head is not None and is_websocket_upgrade(head.method, head.headers,
                                                         head.has_body)

    def _step(self, direction: str, step: Step, what: str, error: type[ProtocolError]) -> None:
        phase = self.request if direction == _REQUEST else self.response
        nxt = TRANSITIONS.get((phase, step))
        if nxt is None:
            raise error(f"stream {self.sid}: can't handle {what} with the {direction} "
                        f"in phase {phase.value!r}")
        if direction == _REQUEST:
            self.request = nxt
        else:
            self.response = nxt

    def _upgrade(self, what: str, error: type[ProtocolError]) -> None:
        """A 101 head: both directions switch to WebSocket messages."""
        if not self.upgradable:
            raise error(f"stream {self.sid}: {what} with status 101 answers only a "
                        "WebSocket upgrade request")
        self._step(_RESPONSE, Step.UPGRADE, what, error)
        self._step(_REQUEST, Step.UPGRADE, what, error)
        self.upgraded = True

    def _socket_step(self, direction: str, frame: Frame, error: type[ProtocolError],
                     credit_check: bool) -> None:
        """WS_MESSAGE or WS_CLOSE on ``direction``; when both closes crossed: DONE."""
        what = type(frame).__name__
        if isinstance(frame, WsMessage):
            if not frame.fin and not frame.data:  # it would cost nothing
                raise error(f"stream {self.sid}: an empty {what} that is not final")
            size = message_cost(frame)
            if credit_check:
                self._check_credit(size, what, error)
            self._step(direction, Step.MESSAGE, what, error)
            if credit_check:
                self.peer_credit -= size
            else:
                self._in.receive(size)
        else:
            self._step(direction, Step.CLOSE, what, error)
            if self.request is Phase.ENDED and self.response is Phase.ENDED:
                self.outcome = Outcome.DONE

    # -- sending ------------------------------------------------------------------------

    def send(self, frame: Frame) -> Frame:
        """Check ``frame`` against the state and credit, apply it, and hand it back to send.

        Raises :class:`LocalProtocolError` (and changes nothing) if it is not allowed now.
        """
        cls = type(frame)
        if cls is self._data_out and self.outcome is None and frame.stream == self.sid:
            # The per-chunk path: body data in the body phase, within credit.
            size = len(frame.data)  # type: ignore[attr-defined]
            phase = self.response if cls is ResponseBody else self.request
            if phase is Phase.BODY and size <= self.peer_credit:
                self.peer_credit -= size
                return frame
        what = cls.__name__
        if cls not in _SENDS[self.role] and cls not in _SOCKET_FRAMES:
            raise LocalProtocolError(f"stream {self.sid}: a {self.role.value} cannot send {what}")
        if frame.stream != self.sid:
            raise LocalProtocolError(f"{what} for stream {frame.stream} sent on {self.sid}")
        if self.outcome is not None:
            raise LocalProtocolError(f"stream {self.sid}: can't send {what}: it is "
                                     f"{self.outcome.value}")
        if cls is RequestHead:
            step = Step.HEAD if frame.has_body else Step.HEAD_END  # type: ignore[attr-defined]
            self._step(_REQUEST, step, what, LocalProtocolError)
            self._in = _Inbound(frame.window)  # type: ignore[attr-defined]
            self._head = frame  # type: ignore[assignment]
        elif cls is ResponseComplete:
            size = len(frame.data)  # type: ignore[attr-defined]
            self._check_complete(frame, LocalProtocolError)
            self._check_credit(size, what, LocalProtocolError)
            self._step(_RESPONSE, Step.HEAD_END, what, LocalProtocolError)
            self.peer_credit -= size
            self.outcome = ENDINGS[cls]
        elif cls in _SOCKET_FRAMES:
            direction = _REQUEST if self.role is Role.SUPERVISOR else _RESPONSE
            self._socket_step(direction, frame, LocalProtocolError, True)
        elif cls is ResponseHead and frame.status == 101:  # type: ignore[attr-defined]
            self._upgrade(what, LocalProtocolError)
        elif cls is Scheduled:
            # A scheduled event has no request body and no response head: END or ERROR only.
            self._step(_REQUEST, Step.HEAD_END, what, LocalProtocolError)
            self.response = Phase.BODY
        elif cls is Cancel:
            self.outcome = ENDINGS[cls]
        elif cls is ResponseError:
            if self.response is Phase.ENDED:
                raise LocalProtocolError(f"stream {self.sid}: can't send {what}: the response "
                                         "has ended")
            self.outcome = ENDINGS[cls]
        elif cls is RequestCredit or cls is ResponseCredit:
            raise LocalProtocolError(f"stream {self.sid}: credit frames come from consumed()")
        elif cls is UploadRelay:
            self._relay_upload(what, LocalProtocolError)
        else:
            direction, step = _STEPS[cls]
            if step is Step.DATA:
                size = len(frame.data)  # type: ignore[attr-defined]
                self._check_credit(size, what, LocalProtocolError)
                self._step(direction, step, what, LocalProtocolError)
                self.peer_credit -= size
            else:
                self._step(direction, step, what, LocalProtocolError)
                if cls in ENDINGS:  # RESPONSE_END, RESPONSE_RELAY or DIRECT_END
                    self.outcome = ENDINGS[cls]
        return frame

    def _check_credit(self, size: int, what: str, error: type[ProtocolError]) -> None:
        """A body of ``size`` bytes we are about to send must fit the peer's credit."""
        if size > self.peer_credit:
            raise error(f"stream {self.sid}: {what} of {size} bytes with only "
                        f"{self.peer_credit} bytes of credit")

    def _check_complete(self, frame: Frame, error: type[ProtocolError]) -> None:
        """RESPONSE_COMPLETE ends the response: a 101 (which goes on as a WebSocket) cannot."""
        if frame.status == 101:  # type: ignore[attr-defined]
            raise error(f"stream {self.sid}: RESPONSE_COMPLETE cannot carry status 101")

    def _relay_upload(self, what: str, error: type[ProtocolError]) -> None:
        """UPLOAD_RELAY asks for the rest of a request body that is still flowing."""
        if self.request is not Phase.BODY:
            raise error(f"stream {self.sid}: can't handle {what} with the request in phase "
                        f"{self.request.value!r}")

    def direct_refused(self) -> None:
        """The supervisor answered RESPONSE_DIRECT with a refusal (it sent it, or the worker
        received it): body frames flow again. Nothing happens to a stream that has ended."""
        if self.outcome is None:
            self._step(_RESPONSE, Step.REFUSED, "a refusal of RESPONSE_DIRECT",
                       LocalProtocolError)

    def cancel(self, reason: str) -> Cancel | None:
        """Give up on the stream (supervisor: the CANCEL frame to send; worker: None)."""
        if self.outcome is not None:
            return None
        self.outcome = Outcome.CANCELLED
        return Cancel(self.sid, reason) if self.role is Role.SUPERVISOR else None

    def consumed(self, size: int) -> RequestCredit | ResponseCredit | None:
        """Our application took ``size`` received bytes: the credit frame to send, if due."""
        if self.role is Role.SUPERVISOR:
            wanted = self.outcome is None
            grant = self._in.consume(size, wanted=wanted)
            return ResponseCredit(self.sid, grant) if grant else None
        # Once the request has ended the peer sends nothing more: credit would be noise.
        wanted = self.outcome is None and self.request is not Phase.ENDED
        grant = self._in.consume(size, wanted=wanted)
        return RequestCredit(self.sid, grant) if grant else None

    def widen(self, size: int) -> RequestCredit | ResponseCredit | None:
        """Open our inbound window by ``size`` bytes for the rest of the stream: the credit
        frame to send. A WebSocket's receiver widens it by one whole message, so that a
        message never waits for a grant between its pieces."""
        if size <= 0 or self.outcome is not None:
            return None
        self._in.window += size
        self._in.outstanding += size
        if self.role is Role.SUPERVISOR:
            return ResponseCredit(self.sid, size)
        return RequestCredit(self.sid, size)

    @property
    def held(self) -> int:
        """Received bytes the application has not consumed yet."""
        return self._in.held

    @property
    def granted(self) -> int:
        """Bytes the peer may still send us before our next grant."""
        return self._in.outstanding

    # -- receiving ------------------------------------------------------------------------

    def receive(self, frame: Frame) -> Frame | None:
        """Apply a frame from the peer; the event for the application, or None if late.

        Raises :class:`RemoteProtocolError` if the peer broke the protocol.
        """
        cls = type(frame)
        if cls is self._data_in and self.outcome is None:
            # The per-chunk path: body data in the body phase, within the credit we granted.
            phase = self.response if cls is ResponseBody else self.request
            if phase is Phase.BODY:
                self._in.receive(len(frame.data))  # type: ignore[attr-defined]
                return frame
        what = cls.__name__
        if cls in _SENDS[self.role]:
            raise RemoteProtocolError(f"stream {self.sid}: a {self.role.value} does not "
                                      f"receive {what}")
        if self.outcome is not None:
            if cls is Cancel and self.outcome is not Outcome.CANCELLED:
                self.outcome = Outcome.CANCELLED  # it crossed our end: the client is gone
            return None
        if cls is ResponseComplete:
            self._check_complete(frame, RemoteProtocolError)
            self._step(_RESPONSE, Step.HEAD_END, what, RemoteProtocolError)
            self._in.receive(len(frame.data))  # type: ignore[attr-defined]
            self.outcome = ENDINGS[cls]
            return frame
        if cls is RequestHead or cls is Scheduled:
            raise RemoteProtocolError(f"stream {self.sid}: {what} for a stream already open")
        if cls is Cancel:
            self.outcome = ENDINGS[cls]
            return frame
        if cls is ResponseError:
            if self.response is Phase.ENDED:
                raise RemoteProtocolError(f"stream {self.sid}: {what} after the response ended")
            self.outcome = ENDINGS[cls]
            return frame
        if cls is RequestCredit or cls is ResponseCredit:
            size = frame.size  # type: ignore[attr-defined]
            if size <= 0:
                raise RemoteProtocolError(f"stream {self.sid}: credit grant must be positive, "
                                          f"got {size}")
            self.peer_credit += size
            return frame
        if cls in _SOCKET_FRAMES:
            direction = _RESPONSE if self.role is Role.SUPERVISOR else _REQUEST
            self._socket_step(direction, frame, RemoteProtocolError, False)
            return frame
        if cls is ResponseHead and frame.status == 101:  # type: ignore[attr-defined]
            self._upgrade(what, RemoteProtocolError)
            return frame
        if cls is UploadRelay:
            self._relay_upload(what, RemoteProtocolError)
            return frame
        if cls is DirectEnd and frame.written < 0:  # type: ignore[attr-defined]
            raise RemoteProtocolError(f"stream {self.sid}: {what} with a negative byte count "
                                      f"{frame.written}")  # type: ignore[attr-defined]
        found = _STEPS.get(cls)
        if found is None:
            raise RemoteProtocolError(f"stream {self.sid}: {what} is not a frame of a stream")
        direction, step = found
        self._step(direction, step, what, RemoteProtocolError)
        if step is Step.DATA:
            self._in.receive(len(frame.data))  # type: ignore[attr-defined]
        elif cls in ENDINGS:  # RESPONSE_END, RESPONSE_RELAY or DIRECT_END
            self.outcome = ENDINGS[cls]
        return frame

    @classmethod
    def opened(cls, role: Role, head: RequestHead | Scheduled, *,
               request_window: int) -> StreamCore:
        """A core whose REQUEST_HEAD (or SCHEDULED) was just sent or received."""
        window = head.window if isinstance(head, RequestHead) else 0
        core = cls(role, head.stream, request_window=request_window, response_window=window)
        if role is Role.SUPERVISOR:
            core.send(head)
        else:
            has_body = isinstance(head, RequestHead) and head.has_body
            core.request = Phase.BODY if has_body else Phase.ENDED
            if isinstance(head, RequestHead):
                core._head = head
            if isinstance(head, Scheduled):
                core.response = Phase.BODY
        return core
