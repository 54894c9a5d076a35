"""Fuzzing the per-stream state machine and the supervisor's stream table.

* The supervisor's stream core (protocol/stream.py) against a model: any sequence of
  frames from the worker either follows ``TRANSITIONS`` or raises RemoteProtocolError and
  changes nothing; frames after the end change nothing; a peer can never send more than it
  was granted.
* The supervisor's handling of stream frames (``StreamTable.on_frame``, where the channel
  hands every frame of a worker, with a real pool behind it): frames from any worker for any stream id - its own, another worker's,
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
from isoflow.protocol.stream import TRANSITIONS, Phase, Step
from isoflow.supervisor.pool import WorkerPool
from isoflow.supervisor.settings import Settings
from isoflow.supervisor.streams import StreamTable
from isoflow.supervisor.workers import LocalWorker

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
sizes = st.integers(-3, 70000) | st.sampled_from([0, 1, 65536, 65537])


class ReceiverMachine(RuleBasedStateMachine):
    """The supervisor's side of one stream (its StreamCore), fed random frames by a hostile
    worker, checked against a tiny model of the response direction."""

    def __init__(self) -> None:
        super().__init__()
        head = p.RequestHead(1, "r", "GET", "http://x/", [], "", False, 65536)
        self.core = p.StreamCore.opened(p.Role.SUPERVISOR, head, request_window=1024)
        self.phase = Phase.IDLE
        self.credit = 65536  # bytes the worker may still send
        self.peer_credit = 1024  # request bytes we may send (granted by the worker)

    def _apply(self, step: Step, frame: p.Frame, size: int = 0) -> None:
        before = (self.core.response, self.core.granted, self.core.outcome)
        finished = self.core.finished
        nxt = TRANSITIONS.get((self.phase, step))
        try:
            event = self.core.receive(frame)
        except p.ProtocolError as e:
            assert str(e) and not finished
            if nxt is None:
                assert "can't handle" in str(e)
                assert (self.core.response, self.core.granted, self.core.outcome) == before
            else:  # only the credit can be wrong: too many bytes
                assert step is Step.DATA and size > self.credit
                assert self.core.granted == before[1]
            return
        if finished:  # late frames change nothing
            assert event is None
            assert (self.core.response, self.core.granted, self.core.outcome) == before
            return
        assert nxt is not None, f"{step} accepted in {self.phase}"
        if step is Step.DATA:
            assert size <= self.credit
            self.credit -= size
        self.phase = nxt

    @rule()
    def head(self) -> None:
        self._apply(Step.HEAD, p.ResponseHead(1, 200, [], -1))

    @rule(size=sizes)
    def data(self, size: int) -> None:
        self._apply(Step.DATA, p.ResponseBody(1, b"x" * max(0, min(size, 70000))),
                    max(0, min(size, 70000)))

    @rule()
    def end(self) -> None:
        self._apply(Step.END, p.ResponseEnd(1))

    @rule()
    def error(self) -> None:
        finished = self.core.finished
        ended = self.core.response is Phase.ENDED
        try:
            self.core.receive(p.ResponseError(1, 500, "boom"))
        except p.RemoteProtocolError:
            assert ended and not finished
            return
        assert finished or not ended
        if not finished:
            self.phase = Phase.ENDED

    @rule(size=sizes)
    def grant(self, size: int) -> None:
        before = self.core.peer_credit
        finished = self.core.finished
        try:
            self.core.receive(p.RequestCredit(1, size))
        except p.RemoteProtocolError:
            assert size <= 0 and not finished
            assert self.core.peer_credit == before
            return
        if not finished:
            self.peer_credit += size
        assert self.core.peer_credit == self.peer_credit

    @invariant()
    def matches_the_model(self) -> None:
        if not self.core.finished:
            assert self.core.response is self.phase
        assert self.core.granted == self.credit
        assert self.core.peer_credit == self.peer_credit
        assert self.core.finished == (self.core.outcome is not None)


ReceiverMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30,
                                             deadline=None)
test_stream_core_follows_its_table = ReceiverMachine.TestCase


def test_every_pair_outside_the_table_is_refused_naming_the_frame_and_the_phase():
    frames = {Step.HEAD: p.ResponseHead(1, 200, [], -1), Step.DATA: p.ResponseBody(1, b"x"),
              Step.END: p.ResponseEnd(1)}
    for phase in (Phase.IDLE, Phase.BODY):
        for step, frame in frames.items():
            if (phase, step) in TRANSITIONS:
                continue
            core = p.StreamCore(p.Role.SUPERVISOR, 1, request_window=10, response_window=10)
            core.response = phase
            with pytest.raises(p.RemoteProtocolError,
                               match=f"{type(frame).__name__} with the response in phase "
                                     f"{phase.value!r}"):
                core.receive(frame)


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
    core = stream.core
    return (core.request, core.response, core.outcome, core.granted, core.peer_credit,
            len(stream._items), stream.failure, stream._head.done())


@FUZZ
@given(steps)
def test_frames_for_foreign_or_unknown_streams_change_nothing(steps):
    async def scenario() -> None:
        settings_ = Settings.single_script(Path("worker.js"), workers=2)
        table = StreamTable()
        pool = WorkerPool(settings_, "default", _Channel(), {}, table, itertools.count(1))
        a, b = LocalWorker(pool, 0, 1), LocalWorker(pool, 1, 2)
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
            table.on_frame(sender, _frame(kind, sids[target], size))  # never raises
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
