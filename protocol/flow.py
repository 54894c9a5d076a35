"""Per-stream state and credit-based flow control, shared by both ends (sans-I/O).

Theory of operation
-------------------
Each request is a *stream* with two body directions:

* the **request body** flows supervisor -> worker. The worker grants credit
  (``REQUEST_CREDIT``) as the script pulls from ``request.body``; the supervisor reads from
  the client socket only while it holds credit. The worker's ``HELLO.window`` is an initial
  grant for every stream.
* the **response body** flows worker -> supervisor. ``REQUEST_HEAD.window`` is the initial
  grant; the supervisor grants more (``RESPONSE_CREDIT``) as the client socket drains.

A sender never has more bytes in flight than it was granted: :class:`CreditWindow` counts
them, and a receiver that gets more than it granted treats it as a protocol error.

Each direction's life is a small state machine. Everything that changes it lives in
:data:`TRANSITIONS`: ``(state, event) -> next state``; an event missing from the table for
the current state is a :class:`ProtocolError` naming both.
"""

from __future__ import annotations

import enum

from .errors import FlowControlError, ProtocolError

MAX_WINDOW = 1 << 40


class CreditWindow:
    """Bytes a sender may still send. The receiver grants; the sender consumes."""

    __slots__ = ("available",)

    def __init__(self, initial: int = 0) -> None:
        self.available = initial

    def grant(self, size: int) -> None:
        if size <= 0:
            raise FlowControlError(f"credit grant must be positive, got {size}")
        if self.available + size > MAX_WINDOW:
            raise FlowControlError(f"credit grant of {size} overflows the window")
        self.available += size

    def consume(self, size: int) -> None:
        if size > self.available:
            raise FlowControlError(
                f"peer sent {size} bytes with only {self.available} bytes of credit"
            )
        self.available -= size


class BodyState(enum.Enum):
    """The life of one body direction, as its receiver sees it."""

    AWAITING_HEAD = "awaiting head"  # response side only
    STREAMING = "streaming"
    DONE = "done"
    FAILED = "failed"


class BodyEvent(enum.Enum):
    HEAD = "head"
    DATA = "data"
    END = "end"
    ERROR = "error"


S, E = BodyState, BodyEvent

TRANSITIONS: dict[tuple[BodyState, BodyEvent], BodyState] = {
    (S.AWAITING_HEAD, E.HEAD): S.STREAMING,
    (S.AWAITING_HEAD, E.ERROR): S.FAILED,
    (S.STREAMING, E.DATA): S.STREAMING,
    (S.STREAMING, E.END): S.DONE,
    (S.STREAMING, E.ERROR): S.FAILED,
}


class BodyReceiver:
    """Receiving end of one body direction: state machine plus the credit it granted."""

    __slots__ = ("name", "state", "window")

    def __init__(self, name: str, *, expects_head: bool, window: int) -> None:
        self.name = name
        self.state = S.AWAITING_HEAD if expects_head else S.STREAMING
        self.window = CreditWindow(window)

    def _step(self, event: BodyEvent) -> None:
        nxt = TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise ProtocolError(
                f"{self.name}: can't handle event {event.value!r} in state {self.state.value!r}"
            )
        self.state = nxt

    def head(self) -> None:
        self._step(E.HEAD)

    def data(self, size: int) -> None:
        self._step(E.DATA)
        self.window.consume(size)

    def end(self) -> None:
        self._step(E.END)

    def error(self) -> None:
        self._step(E.ERROR)

    def grant(self, size: int) -> None:
        self.window.grant(size)

    @property
    def finished(self) -> bool:
        return self.state in (S.DONE, S.FAILED)
