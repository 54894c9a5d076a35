"""The stream core (protocol/stream.py): unit tests, and both sides run against each other."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isoflow import protocol as p
from isoflow.protocol.stream import (
    LocalProtocolError,
    Outcome,
    Phase,
    RemoteProtocolError,
    Role,
    StreamCore,
    should_grant,
)

SID = 7


def head(has_body: bool = True, window: int = 100) -> p.RequestHead:
    return p.RequestHead(SID, "r1", "POST", "http://x/", [], "127.0.0.1", has_body, window)


def pair(has_body: bool = True, req: int = 100, resp: int = 100) -> tuple[StreamCore, StreamCore]:
    h = head(has_body, resp)
    return (StreamCore.opened(Role.SUPERVISOR, h, request_window=req),
            StreamCore.opened(Role.WORKER, h, request_window=req))


# -- one side at a time ------------------------------------------------------------------


def test_a_body_before_the_head_is_a_local_error_naming_the_phase():
    _, worker = pair()
    with pytest.raises(LocalProtocolError, match="phase 'idle'"):
        worker.send(p.ResponseBody(SID, b"x"))
    assert worker.response is Phase.IDLE  # nothing changed


def test_sending_beyond_credit_is_refused_before_a_frame_exists():
    _, worker = pair(resp=4)
    worker.send(p.ResponseHead(SID, 200, [], -1))
    worker.send(p.ResponseBody(SID, b"abcd"))
    with pytest.raises(LocalProtocolError, match="only 0 bytes of credit"):
        worker.send(p.ResponseBody(SID, b"e"))


def test_a_peer_exceeding_its_credit_is_a_remote_error():
    sup, _ = pair(resp=4)
    sup.receive(p.ResponseHead(SID, 200, [], -1))
    with pytest.raises(p.FlowControlError):
        sup.receive(p.ResponseBody(SID, b"abcde"))


def test_frames_a_role_never_receives_are_remote_errors():
    sup, worker = pair()
    with pytest.raises(RemoteProtocolError):
        sup.receive(p.RequestBody(SID, b"x"))
    with pytest.raises(RemoteProtocolError):
        worker.receive(p.ResponseEnd(SID))
    with pytest.raises(LocalProtocolError):
        sup.send(p.ResponseEnd(SID))


def test_request_without_body_is_half_closed_from_the_start():
    sup, worker = pair(has_body=False)
    assert sup.request is worker.request is Phase.ENDED
    assert sup.half_closed and worker.half_closed
    with pytest.raises(LocalProtocolError):
        sup.send(p.RequestBody(SID, b"x"))


def test_scheduled_stream_answers_with_end_or_error_only():
    frame = p.Scheduled(SID, "* * * * *", 0.0)
    sup = StreamCore.opened(Role.SUPERVISOR, frame, request_window=10)
    worker = StreamCore.opened(Role.WORKER, frame, request_window=10)
    assert sup.receive(worker.send(p.ResponseEnd(SID))) is not None
    assert sup.outcome is worker.outcome is Outcome.DONE


def test_frames_after_the_end_are_late_not_errors():
    sup, worker = pair()
    sup.send(p.Cancel(SID, "client gone"))
    assert sup.receive(p.ResponseHead(SID, 200, [], -1)) is None
    worker.send(p.ResponseHead(SID, 200, [], -1))
    worker.send(p.ResponseEnd(SID))
    assert worker.receive(p.RequestBody(SID, b"late")) is None
    assert worker.outcome is Outcome.DONE
    worker.receive(p.Cancel(SID, "client gone"))  # crossed our end
    assert worker.outcome is Outcome.CANCELLED


def test_sending_after_the_end_is_a_local_error():
    _, worker = pair()
    worker.send(p.ResponseError(SID, 500, "boom"))
    with pytest.raises(LocalProtocolError, match="failed"):
        worker.send(p.ResponseHead(SID, 200, [], -1))


def test_grant_policy():
    assert not should_grant(0, 0, 100)
    assert should_grant(1, 0, 100)  # everything consumed: give it back now
    assert not should_grant(24, 10, 100)
    assert should_grant(25, 10, 100)


def test_consumed_returns_credit_by_the_policy():
    sup, worker = pair(req=100)
    sup.send(p.RequestBody(SID, b"x" * 60))
    worker.receive(p.RequestBody(SID, b"x" * 60))
    assert worker.consumed(10) is None  # 10 < 25 and 50 still held
    credit = worker.consumed(20)
    assert isinstance(credit, p.RequestCredit) and credit.size == 30
    with pytest.raises(LocalProtocolError):
        worker.consumed(31)


# -- both sides against each other -----------------------------------------------------


class Link:
    """A supervisor-side and a worker-side core with two FIFO wires between them."""

    def __init__(self, req_window: int, resp_window: int, request: bytes, response: bytes):
        self.req_window, self.resp_window = req_window, resp_window
        self.sup, self.wrk = pair(True, req_window, resp_window)
        self.to_wrk: deque[p.Frame] = deque()
        self.to_sup: deque[p.Frame] = deque()
        self.request, self.response = request, response
        self.req_sent = self.resp_sent = 0
        self.wrk_got = bytearray()  # request bytes the worker's application received
        self.sup_got = bytearray()
        self.wrk_unconsumed = self.sup_unconsumed = 0

    # the applications

    def sup_send(self, n: int) -> bool:
        if self.sup.finished or self.sup.request is Phase.ENDED:
            return False
        left = len(self.request) - self.req_sent
        if left == 0:
            self.to_wrk.append(self.sup.send(p.RequestEnd(SID)))
            return True
        n = min(n, left, self.sup.peer_credit)
        if n <= 0:
            return False
        chunk = self.request[self.req_sent : self.req_sent + n]
        self.to_wrk.append(self.sup.send(p.RequestBody(SID, chunk)))
        self.req_sent += n
        return True

    def wrk_send(self, n: int) -> bool:
        if self.wrk.finished:
            return False
        if self.wrk.response is Phase.IDLE:
            self.to_sup.append(self.wrk.send(p.ResponseHead(SID, 200, [], -1)))
            return True
        left = len(self.response) - self.resp_sent
        if left == 0:
            self.to_sup.append(self.wrk.send(p.ResponseEnd(SID)))
            return True
        n = min(n, left, self.wrk.peer_credit)
        if n <= 0:
            return False
        chunk = self.response[self.resp_sent : self.resp_sent + n]
        self.to_sup.append(self.wrk.send(p.ResponseBody(SID, chunk)))
        self.resp_sent += n
        return True

    def sup_consume(self, n: int) -> bool:
        n = min(n, self.sup.held)
        if n <= 0:
            return False
        credit = self.sup.consumed(n)
        if credit is not None:
            self.to_wrk.append(credit)
        return True

    def wrk_consume(self, n: int) -> bool:
        n = min(n, self.wrk.held)
        if n <= 0:
            return False
        credit = self.wrk.consumed(n)
        if credit is not None:
            self.to_sup.append(credit)
        return True

    def cancel(self) -> bool:
        frame = self.sup.cancel("the client went away")
        if frame is None:
            return False
        self.to_wrk.append(frame)
        return True

    def fail(self) -> bool:
        if self.wrk.finished or self.wrk.response is Phase.ENDED:
            return False
        self.to_sup.append(self.wrk.send(p.ResponseError(SID, 500, "boom")))
        return True

    # the wires

    def deliver_to_wrk(self) -> bool:
        if not self.to_wrk:
            return False
        event = self.wrk.receive(self.to_wrk.popleft())
        if isinstance(event, p.RequestBody):
            self.wrk_got += event.data
        return True

    def deliver_to_sup(self) -> bool:
        if not self.to_sup:
            return False
        event = self.sup.receive(self.to_sup.popleft())
        if isinstance(event, p.ResponseBody):
            self.sup_got += event.data
        return True

    def check(self) -> None:
        """Credit is conserved: granted = still available + in flight + held + unreturned."""
        assert self.wrk_got == self.request[: len(self.wrk_got)]
        assert self.sup_got == self.response[: len(self.sup_got)]
        if not self.sup.finished and not self.wrk.finished:
            if self.wrk.request is not Phase.ENDED:
                in_flight = sum(len(f.data) for f in self.to_wrk if isinstance(f, p.RequestBody))
                granting = sum(f.size for f in self.to_sup if isinstance(f, p.RequestCredit))
                inbound = self.wrk._in
                assert (self.sup.peer_credit + in_flight + inbound.held + inbound.unreturned
                        + granting) == self.req_window
            in_flight = sum(len(f.data) for f in self.to_sup if isinstance(f, p.ResponseBody))
            granting = sum(f.size for f in self.to_wrk if isinstance(f, p.ResponseCredit))
            inbound = self.sup._in
            assert (self.wrk.peer_credit + in_flight + inbound.held + inbound.unreturned
                    + granting) == self.resp_window

    def drain(self) -> None:
        """Everyone does everything they can until nothing moves: a deadlock would stop here
        with a side unfinished."""
        for _ in range(100_000):
            moved = False
            for step in (self.deliver_to_wrk, self.deliver_to_sup):
                while step():
                    moved = True
            for step in (lambda: self.sup_consume(1 << 30), lambda: self.wrk_consume(1 << 30),
                         lambda: self.sup_send(1 << 30), lambda: self.wrk_send(1 << 30)):
                moved = step() or moved
            self.check()
            if not moved:
                return
        raise AssertionError("no quiescence")


ACTIONS = ("sup_send", "wrk_send", "sup_consume", "wrk_consume", "deliver_to_wrk",
           "deliver_to_sup", "deliver_to_wrk", "deliver_to_sup", "cancel", "fail")


@settings(max_examples=300, deadline=None)
@given(
    req_window=st.integers(1, 64), resp_window=st.integers(1, 64),
    request=st.binary(max_size=200), response=st.binary(max_size=200),
    steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(1, 80)), max_size=120),
    allow_faults=st.booleans(),
)
def test_two_sides_against_each_other(req_window, resp_window, request, response, steps,
                                      allow_faults):
    link = Link(req_window, resp_window, request, response)
    for action, n in steps:
        if action in ("cancel", "fail"):
            if allow_faults and n < 4:  # rare
                getattr(link, action)()
        elif action.startswith("deliver"):
            getattr(link, action)()
        else:
            getattr(link, action)(n)
        link.check()
    link.drain()
    # No deadlock: both sides reached an outcome, and they agree on it.
    assert link.sup.finished and link.wrk.finished
    assert link.sup.outcome is link.wrk.outcome
    if link.sup.outcome is Outcome.DONE:
        assert bytes(link.sup_got) == response  # every byte, once, in order
    if not allow_faults:
        assert link.sup.outcome is Outcome.DONE


# -- a whole response in one frame ----------------------------------------------------------


def test_a_complete_response_is_head_body_and_end_at_once():
    sup, worker = pair(has_body=False, resp=20)
    frame = p.ResponseComplete(SID, 200, [["content-type", "text/plain"]], b"Hello, world!\n")
    assert sup.receive(worker.send(frame)) is frame
    for core in (worker, sup):
        assert core.outcome is Outcome.DONE and core.response is Phase.ENDED
    assert worker.peer_credit == 20 - 14 and sup.held == 14
    with pytest.raises(LocalProtocolError, match="done"):
        worker.send(p.ResponseBody(SID, b"x"))


def test_a_complete_response_keeps_to_the_credit_on_both_sides():
    sup, worker = pair(resp=4)
    with pytest.raises(LocalProtocolError, match="only 4 bytes of credit"):
        worker.send(p.ResponseComplete(SID, 200, [], b"abcde"))
    assert worker.response is Phase.IDLE and worker.outcome is None  # nothing changed
    with pytest.raises(p.FlowControlError):
        sup.receive(p.ResponseComplete(SID, 200, [], b"abcde"))


def test_a_complete_response_after_the_head_or_as_a_101_is_refused():
    sup, worker = pair()
    sup.receive(worker.send(p.ResponseHead(SID, 200, [], -1)))
    with pytest.raises(LocalProtocolError, match="phase 'body'"):
        worker.send(p.ResponseComplete(SID, 200, [], b""))
    with pytest.raises(RemoteProtocolError, match="phase 'body'"):
        sup.receive(p.ResponseComplete(SID, 200, [], b""))
    sup, worker = pair(has_body=False)
    with pytest.raises(LocalProtocolError, match="101"):
        worker.send(p.ResponseComplete(SID, 101, [], b""))
    with pytest.raises(RemoteProtocolError, match="101"):
        sup.receive(p.ResponseComplete(SID, 101, [], b""))


# -- the splice relay's frames -------------------------------------------------------------


def test_a_response_relay_ends_the_response_like_its_end():
    sup, worker = pair(has_body=False)
    for core in (worker, sup):
        step = core.send if core is worker else core.receive
        step(p.ResponseHead(SID, 200, [], 1 << 30))
        # The relayed prefix is outside the stream's credit (100 bytes here).
        assert step(p.ResponseRelay(SID, "length", 1 << 30, b"x" * 1000)) is not None
        assert core.outcome is Outcome.DONE and core.response is Phase.ENDED
    with pytest.raises(LocalProtocolError, match="done"):
        worker.send(p.ResponseBody(SID, b"x"))


def test_a_response_relay_before_the_head_is_refused_on_both_sides():
    sup, worker = pair()
    with pytest.raises(LocalProtocolError, match="phase 'idle'"):
        worker.send(p.ResponseRelay(SID, "close", -1, b""))
    with pytest.raises(RemoteProtocolError, match="phase 'idle'"):
        sup.receive(p.ResponseRelay(SID, "close", -1, b""))


def test_an_upload_relay_is_asked_only_while_the_request_body_flows():
    sup, worker = pair(has_body=True)
    assert sup.receive(worker.send(p.UploadRelay(SID, 0, False))) is not None
    assert sup.request is Phase.BODY  # it asks; the supervisor's REQUEST_END ends the body
    worker.receive(sup.send(p.RequestEnd(SID)))
    with pytest.raises(LocalProtocolError, match="phase 'ended'"):
        worker.send(p.UploadRelay(SID, 0, False))
    with pytest.raises(RemoteProtocolError, match="phase 'ended'"):
        sup.receive(p.UploadRelay(SID, 0, False))
    with pytest.raises(LocalProtocolError, match="cannot send"):
        sup.send(p.UploadRelay(SID, 0, False))


# -- a body the worker writes into the client's socket (RESPONSE_DIRECT) --------------------


def direct_pair() -> tuple[StreamCore, StreamCore]:
    """Both sides with a response head crossed and RESPONSE_DIRECT sent and received."""
    sup, worker = pair(has_body=False)
    sup.receive(worker.send(p.ResponseHead(SID, 200, [], -1)))
    sup.receive(worker.send(p.ResponseBody(SID, b"x" * 40)))
    assert sup.receive(worker.send(p.ResponseDirect(SID))) is not None
    return sup, worker


def test_a_direct_body_ends_with_direct_end_and_no_frames_flow_meanwhile():
    sup, worker = direct_pair()
    for core in (sup, worker):
        assert core.response is Phase.DIRECT and core.outcome is None
    with pytest.raises(LocalProtocolError, match="phase 'direct'"):
        worker.send(p.ResponseBody(SID, b"x"))
    with pytest.raises(RemoteProtocolError, match="phase 'direct'"):
        sup.receive(p.ResponseBody(SID, b"x"))
    with pytest.raises(LocalProtocolError, match="phase 'direct'"):
        worker.send(p.ResponseEnd(SID))
    # Credit for the frames sent before still comes back (the written bytes need none).
    worker.receive(sup.consumed(40))
    assert worker.peer_credit == 100
    # The written body is outside the stream's credit.
    assert sup.receive(worker.send(p.DirectEnd(SID, 1 << 40))) is not None
    for core in (sup, worker):
        assert core.outcome is Outcome.DONE and core.response is Phase.ENDED


def test_a_direct_end_with_a_negative_count_is_a_remote_error():
    sup, _worker = direct_pair()
    with pytest.raises(RemoteProtocolError, match="negative byte count"):
        sup.receive(p.DirectEnd(SID, -1))
    assert sup.response is Phase.DIRECT  # nothing applied


def test_a_refused_direct_body_goes_on_as_frames():
    sup, worker = direct_pair()
    sup.direct_refused()
    worker.direct_refused()
    for core in (sup, worker):
        assert core.response is Phase.BODY
    sup.receive(worker.send(p.ResponseBody(SID, b"y" * 60)))
    with pytest.raises(LocalProtocolError, match="phase 'body'"):
        worker.send(p.DirectEnd(SID, 0))
    sup.receive(worker.send(p.ResponseEnd(SID)))
    assert sup.outcome is worker.outcome is Outcome.DONE


def test_direct_is_asked_only_while_the_body_flows_and_refused_only_when_asked():
    sup, worker = pair(has_body=False)
    with pytest.raises(LocalProtocolError, match="phase 'idle'"):
        worker.send(p.ResponseDirect(SID))
    with pytest.raises(RemoteProtocolError, match="phase 'idle'"):
        sup.receive(p.DirectEnd(SID, 0))
    with pytest.raises(LocalProtocolError, match="refusal"):
        sup.direct_refused()
    with pytest.raises(LocalProtocolError, match="cannot send"):
        sup.send(p.ResponseDirect(SID))


def test_a_direct_body_fails_or_is_cancelled_like_any_other():
    sup, worker = direct_pair()
    sup.receive(worker.send(p.ResponseError(SID, 499, "the client went away")))
    assert sup.outcome is worker.outcome is Outcome.FAILED
    sup, worker = direct_pair()
    cancel = sup.cancel("client gone")
    worker.receive(cancel)
    assert worker.outcome is Outcome.CANCELLED
    sup.direct_refused()  # an answer after the end changes nothing
    assert sup.receive(p.DirectEnd(SID, 5)) is None  # late: it crossed the cancel
