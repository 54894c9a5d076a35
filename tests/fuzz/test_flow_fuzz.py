"""Fuzzing the per-stream state machine and the supervisor's stream table.

* ``BodyReceiver`` (protocol/flow.py) against a model: any sequence of events either follows
  ``TRANSITIONS`` or raises ProtocolError and changes nothing; credit never goes negative
  and a peer can never send more than it was granted.
* The supervisor's handling of stream frames (``WorkerPool.on_frame`` over a real
  ``StreamTable``): frames from any worker for any stream id - its own, another worker's,
  one that does not exist - never raise, never touch a stream the sender does not own, and
  a protocol violation fails only the stream it was sent for (502).
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from isoflow import protocol as p
from isoflow.protocol.flow import MAX_WINDOW, TRANSITIONS, BodyEvent, BodyState
from isoflow.supervisor.pool import WorkerHandle, WorkerPool
from isoflow.supervisor.settings import Settings
from isoflow.supervisor.streams import StreamTable

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
sizes = st.integers(-3, 1 << 20) | st.sampled_from([0, 1, MAX_WINDOW, MAX_WINDOW + 1])


class ReceiverMachine(RuleBasedStateMachine):
    """One body direction, driven by random events, checked against a tiny model."""

    def __init__(self) -> None:
        super().__init__()
        self.rx = p.BodyReceiver("response body", expects_head=True, window=65536)
        self.state = BodyState.AWAITING_HEAD
        self.credit = 65536

    def _apply(self, event: BodyEvent, action, size: int = 0) -> None:
        nxt = TRANSITIONS.get((self.state, event))
        before = (self.rx.state, self.rx.window.available)
        try:
            action()
        except p.ProtocolError as e:
            assert str(e)
            if nxt is None:
                assert "can't handle event" in str(e)
                assert (self.rx.state, self.rx.window.available) == before
            else:  # only the credit can be wrong: too many bytes
                assert event is BodyEvent.DATA and size > self.credit
                assert self.rx.window.available == before[1]
                self.state = nxt
            return
        assert nxt is not None, f"{event} accepted in {self.state}"
        if event is BodyEvent.DATA:
            assert size <= self.credit
            self.credit -= size
        self.state = nxt

    @rule()
    def head(self) -> None:
        self._apply(BodyEvent.HEAD, self.rx.head)

    @rule(size=sizes)
    def data(self, size: int) -> None:
        self._apply(BodyEvent.DATA, lambda: self.rx.data(size), size)

    @rule()
    def end(self) -> None:
        self._apply(BodyEvent.END, self.rx.end)

    @rule()
    def error(self) -> None:
        self._apply(BodyEvent.ERROR, self.rx.error)

    @rule(size=sizes)
    def grant(self, size: int) -> None:
        before = self.rx.window.available
        try:
            self.rx.grant(size)
        except p.FlowControlError:
            assert size <= 0 or before + size > MAX_WINDOW
            assert self.rx.window.available == before
            return
        assert size > 0 and before + size <= MAX_WINDOW
        self.credit += size

    @invariant()
    def matches_the_model(self) -> None:
        assert self.rx.state is self.state
        assert self.rx.window.available == self.credit
        assert 0 <= self.credit <= MAX_WINDOW
        assert self.rx.finished == (self.state in (BodyState.DONE, BodyState.FAILED))


ReceiverMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30,
                                             deadline=None)
test_body_receiver_follows_its_table = ReceiverMachine.TestCase


def test_every_pair_outside_the_table_is_refused_with_both_names():
    for state in BodyState:
        for event in BodyEvent:
            if (state, event) in TRANSITIONS:
                continue
            rx = p.BodyReceiver("response body", expects_head=True, window=10)
            rx.state = state
            with pytest.raises(p.ProtocolError, match=f"{event.value!r} in state "
                                                      f"{state.value!r}"):
                getattr(rx, event.value)() if event is not BodyEvent.DATA else rx.data(1)


# -- the supervisor's stream table --------------------------------------------------------


class _Channel:
    endpoint = "ipc:///nonexistent"

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, p.Frame]] = []

    def send(self, identity: bytes, frame: p.Frame) -> bool:
        self.sent.append((identity, frame))
        return True


def _frame(kind: str, sid: int, size: int) -> p.Frame:
    """A frame a worker (or something pretending to be one) could send for stream ``sid``."""
    return {
        "head": lambda: p.ResponseHead(sid, 200, [["a", "b"]], -1),
        "body": lambda: p.ResponseBody(sid, b"x" * size),
        "end": lambda: p.ResponseEnd(sid),
        "error": lambda: p.ResponseError(sid, 500, "boom"),
        "credit": lambda: p.RequestCredit(sid, size),
        # wrong direction or not a stream frame: a protocol violation for the stream
        "request_head": lambda: p.RequestHead(sid, "r", "GET", "/", [], "", False, 1),
        "cancel": lambda: p.Cancel(sid, "x"),
        "response_credit": lambda: p.ResponseCredit(sid, 1),
        "hello": lambda: p.Hello(sid, "w", 1, 1),
        "pong": lambda: p.Pong(sid, 1, {}),
    }[kind]()


KINDS = ["head", "body", "end", "error", "credit", "request_head", "cancel",
         "response_credit", "hello", "pong"]
steps = st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["a1", "a2", "b1",
                                                                            "gone", "never"]),
                           st.sampled_from(KINDS), st.integers(-1, 70000)),
                 max_size=40)


def _snapshot(stream) -> tuple:
    return (stream.response.state, stream.response.window.available, len(stream._items),
            stream.failure, stream._head.done(), stream.request_credit.available)


@FUZZ
@given(steps)
def test_frames_for_foreign_or_unknown_streams_change_nothing(steps):
    async def scenario() -> None:
        settings_ = Settings.single_script(Path("worker.js"), workers=2)
        table = StreamTable()
        pool = WorkerPool(settings_, "default", _Channel(), {}, table, itertools.count(1))
        a, b = WorkerHandle(pool, 0, 1), WorkerHandle(pool, 1, 2)
        for w in (a, b):
            w.ready, w.request_window = True, 65536
        streams = {"a1": table.open(a, "ra1", "GET", 65536),
                   "a2": table.open(a, "ra2", "GET", 65536),
                   "b1": table.open(b, "rb1", "GET", 65536)}
        gone = table.open(a, "gone", "GET", 65536)
        table.close(gone)
        sids = {name: s.sid for name, s in streams.items()}
        sids["gone"], sids["never"] = gone.sid, 10_000
        owner = {"a1": a, "a2": a, "b1": b}
        senders = {"A": a, "B": b}
        for sender_name, target, kind, size in steps:
            sender = senders[sender_name]
            size = max(size, 1) if kind == "credit" else max(size, 0)
            before = {name: _snapshot(s) for name, s in streams.items()}
            pool.on_frame(sender, _frame(kind, sids[target], size))  # never raises
            for name, stream in streams.items():
                if name == target and owner[name] is sender:
                    continue
                assert _snapshot(stream) == before[name], (name, sender_name, target, kind)
            if target in owner and owner[target] is sender and before[target][3] is None:
                stream = streams[target]
                if kind in KINDS[5:]:  # a wrong frame fails the stream it was sent for
                    assert stream.failure is not None and stream.failure.status == 502
        assert len(table) == 3  # nothing opened or lost by frames
        for s in streams.values():
            table.close(s)
        assert len(table) == 0 and not a.streams and not b.streams

    asyncio.run(scenario())
