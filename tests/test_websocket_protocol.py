"""WebSocket streams in the protocol (frames.py, stream.py): plain calls, both sides."""

from __future__ import annotations

import pytest

from isoflow import protocol as p
from isoflow.protocol.stream import (
    LocalProtocolError,
    Outcome,
    Phase,
    RemoteProtocolError,
    Role,
    StreamCore,
)

SID = 3
UPGRADE = [["Upgrade", "websocket"], ["Connection", "keep-alive, Upgrade"]]


def pair(headers=UPGRADE, method: str = "GET", req: int = 10,
         resp: int = 10) -> tuple[StreamCore, StreamCore]:
    h = p.RequestHead(SID, "r", method, "http://x/", headers, "", False, resp)
    return (StreamCore.opened(Role.SUPERVISOR, h, request_window=req),
            StreamCore.opened(Role.WORKER, h, request_window=req))


def cross(sender: StreamCore, receiver: StreamCore, frame: p.Frame) -> p.Frame | None:
    """Send ``frame`` from one side, through the wire encoding, into the other."""
    wire = p.decode([bytes(x) for x in p.encode(sender.send(frame))])
    return receiver.receive(wire)


def test_message_frames_round_trip_with_their_flags():
    frame = p.decode([bytes(x) for x in p.encode(p.WsMessage(SID, True, False, b"\x00\xff"))])
    assert isinstance(frame, p.WsMessage)
    assert (frame.binary, frame.fin, bytes(frame.data)) == (True, False, b"\x00\xff")
    close = p.decode(p.encode(p.WsClose(SID, 4000, "bye")))
    assert (close.code, close.reason) == (4000, "bye")


def test_a_101_switches_both_directions_to_messages_then_closes_end_the_stream():
    sup, wrk = pair()
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    assert sup.request is sup.response is Phase.SOCKET
    assert wrk.request is wrk.response is Phase.SOCKET
    assert isinstance(cross(sup, wrk, p.WsMessage(SID, False, True, b"hi")), p.WsMessage)
    assert isinstance(cross(wrk, sup, p.WsMessage(SID, True, True, b"yo")), p.WsMessage)
    cross(sup, wrk, p.WsClose(SID, 1000, ""))
    assert wrk.request is Phase.ENDED and wrk.outcome is None  # the worker may still send
    cross(wrk, sup, p.WsMessage(SID, False, True, b"last"))
    cross(wrk, sup, p.WsClose(SID, 1000, ""))
    assert sup.outcome is wrk.outcome is Outcome.DONE


def test_a_101_to_a_request_that_is_not_an_upgrade_is_refused_on_both_sides():
    sup, wrk = pair(headers=[["Upgrade", "websocket"]])  # no Connection: upgrade
    with pytest.raises(LocalProtocolError, match="101 answers only a WebSocket upgrade"):
        wrk.send(p.ResponseHead(SID, 101, [], -1))
    with pytest.raises(RemoteProtocolError, match="101"):
        sup.receive(p.ResponseHead(SID, 101, [], -1))
    sup, _ = pair(method="POST")
    assert not sup.upgradable


def test_messages_before_the_upgrade_and_bodies_after_it_are_errors():
    sup, wrk = pair()
    with pytest.raises(LocalProtocolError, match="phase 'ended'"):
        sup.send(p.WsMessage(SID, False, True, b"x"))
    with pytest.raises(RemoteProtocolError, match="phase 'idle'"):
        sup.receive(p.WsMessage(SID, False, True, b"x"))
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    with pytest.raises(LocalProtocolError, match="phase 'socket'"):
        wrk.send(p.ResponseBody(SID, b"x"))
    with pytest.raises(RemoteProtocolError, match="phase 'socket'"):
        sup.receive(p.ResponseEnd(SID))


def test_messages_ride_the_body_credit_both_ways():
    sup, wrk = pair(req=4, resp=5)
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    cross(sup, wrk, p.WsMessage(SID, False, False, b"abcd"))
    with pytest.raises(LocalProtocolError, match="only 0 bytes of credit"):
        sup.send(p.WsMessage(SID, False, True, b"e"))
    with pytest.raises(p.FlowControlError):  # a supervisor ignoring its credit
        wrk.receive(p.WsMessage(SID, False, True, b"e"))
    grant = wrk.consumed(4)
    assert isinstance(grant, p.RequestCredit) and grant.size == 4
    sup.receive(grant)
    cross(sup, wrk, p.WsMessage(SID, False, True, b"e"))
    cross(wrk, sup, p.WsMessage(SID, True, True, b"12345"))
    with pytest.raises(LocalProtocolError, match="only 0 bytes of credit"):
        wrk.send(p.WsMessage(SID, True, True, b"6"))
    credit = sup.consumed(5)
    assert isinstance(credit, p.ResponseCredit) and credit.size == 5


def test_a_worker_failure_or_a_cancel_ends_an_open_socket():
    sup, wrk = pair()
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    cross(wrk, sup, p.ResponseError(SID, 503, "The script exceeded its CPU time limit."))
    assert sup.outcome is Outcome.FAILED
    sup, wrk = pair()
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    wrk.receive(sup.cancel("client gone"))
    assert wrk.outcome is Outcome.CANCELLED
    assert sup.receive(p.WsMessage(SID, False, True, b"late")) is None  # crossed the cancel


def test_widening_a_socket_window_lets_a_whole_message_cross_without_grants():
    sup, wrk = pair(req=4, resp=4)
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    grant = wrk.widen(16)
    assert isinstance(grant, p.RequestCredit) and grant.size == 16
    sup.receive(grant)
    cross(sup, wrk, p.WsMessage(SID, True, True, b"x" * 20))  # 4 + 16: in one piece
    credit = sup.widen(8)
    assert isinstance(credit, p.ResponseCredit)
    wrk.receive(credit)
    assert wrk.peer_credit == 12
    assert sup.cancel("gone") is not None and sup.widen(8) is None  # nothing after the end
