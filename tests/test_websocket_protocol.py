"""WebSocket streams in the protocol (frames.py, stream.py): plain calls, both sides."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isoflow import protocol as p
from isoflow.protocol.stream import (
    WS_MESSAGE_COST,
    LocalProtocolError,
    Outcome,
    Phase,
    RemoteProtocolError,
    Role,
    StreamCore,
    message_cost,
    ws_piece,
)

SID = 3
UPGRADE = [["Upgrade", "websocket"], ["Connection", "keep-alive, Upgrade"]]
C = WS_MESSAGE_COST


def pair(headers=UPGRADE, method: str = "GET", req: int = 1000,
         resp: int = 1000) -> tuple[StreamCore, StreamCore]:
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
    sup, wrk = pair(req=4 + C + 1, resp=5 + C)
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    cross(sup, wrk, p.WsMessage(SID, False, False, b"abcd"))  # a first piece: its bytes
    with pytest.raises(LocalProtocolError, match=f"{C + 2} bytes with only {C + 1} bytes"):
        sup.send(p.WsMessage(SID, False, True, b"ef"))
    with pytest.raises(p.FlowControlError):  # a supervisor ignoring its credit
        wrk.receive(p.WsMessage(SID, False, True, b"ef"))
    cross(sup, wrk, p.WsMessage(SID, False, True, b"e"))  # the last piece: bytes and C
    assert sup.peer_credit == 0 and wrk.held == 5 + C
    grant = wrk.consumed(5 + C)
    assert isinstance(grant, p.RequestCredit) and grant.size == 5 + C
    sup.receive(grant)
    cross(sup, wrk, p.WsMessage(SID, False, True, b"e"))
    cross(wrk, sup, p.WsMessage(SID, True, True, b"12345"))
    with pytest.raises(LocalProtocolError, match="only 0 bytes of credit"):
        wrk.send(p.WsMessage(SID, True, True, b""))
    credit = sup.consumed(5 + C)
    assert isinstance(credit, p.ResponseCredit) and credit.size == 5 + C


def test_an_empty_message_costs_credit_both_ways_so_a_flood_of_them_stops():
    """An empty message used to cost nothing: a client, an upstream or a script could send
    them without end, past any credit, and grow the receiver until its memory limit."""
    sup, wrk = pair(req=3 * C, resp=2 * C)
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    empty = p.WsMessage(SID, False, True, b"")
    assert message_cost(empty) == C
    for _ in range(3):
        cross(sup, wrk, empty)
    assert sup.peer_credit == 0 and wrk.held == 3 * C
    with pytest.raises(LocalProtocolError, match="credit"):
        sup.send(empty)
    with pytest.raises(p.FlowControlError):  # a supervisor ignoring its credit
        wrk.receive(empty)
    for _ in range(2):
        cross(wrk, sup, empty)
    with pytest.raises(LocalProtocolError, match="credit"):
        wrk.send(empty)
    with pytest.raises(p.FlowControlError):
        sup.receive(empty)
    grant = wrk.consumed(C)  # one message taken: everything received is not yet consumed
    assert grant is not None and grant.size == C  # (a quarter of the window or more)
    sup.receive(grant)
    cross(sup, wrk, empty)


def test_an_empty_piece_before_the_last_is_refused_on_both_sides():
    """It would cost nothing: an endless message of empty pieces would be free."""
    sup, wrk = pair()
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    with pytest.raises(LocalProtocolError, match="empty WsMessage that is not final"):
        sup.send(p.WsMessage(SID, True, False, b""))
    with pytest.raises(RemoteProtocolError, match="empty WsMessage that is not final"):
        sup.receive(p.WsMessage(SID, True, False, b""))
    assert sup.peer_credit == 1000 and sup.granted == 1000  # nothing counted


def test_a_piece_is_cut_to_the_credit_and_the_cost_goes_on_the_last():
    assert ws_piece(10, 10 + C, 1 << 20) == (10, True)
    assert ws_piece(10, 9 + C, 1 << 20) == (10, False)  # then an empty final piece: C
    assert ws_piece(10, 9, 1 << 20) == (9, False)  # the rest (1 + C) later
    assert ws_piece(0, C, 1 << 20) == (0, True)
    assert ws_piece(0, C - 1, 1 << 20) is None
    assert ws_piece(5, 0, 1 << 20) is None
    assert ws_piece(10, 100 + C, 4) == (4, False)  # pieces of at most `piece` bytes


@settings(max_examples=300, deadline=None)
@given(sizes=st.lists(st.integers(0, 3000) | st.just(0), min_size=1, max_size=40),
       window=st.integers(C, 4 * C + 500), piece=st.integers(1, 2000),
       takes=st.lists(st.integers(0, 5), min_size=1, max_size=20))
def test_messages_cut_by_ws_piece_cross_whole_within_the_credit(sizes, window, piece, takes):
    """The supervisor's cores against each other, messages cut as both sides cut them
    (``ws_piece``), the receiver taking messages at its own pace: each arrives whole and in
    order, costs its bytes and C however it was cut, never more is in flight than granted,
    and no message is stuck while its receiver has taken everything."""
    sup, wrk = pair(req=window)
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    messages = [bytes([i % 256]) * n for i, n in enumerate(sizes)]
    sent = spent = 0  # bytes of messages[0] sent, credit they used
    pending: list[bytes] = []  # pieces of the message arriving
    arrived: list[tuple[bytes, int]] = []  # messages and their last piece's cost, not taken
    received: list[bytes] = []
    costs: list[int] = []
    step = 0
    while messages or arrived:
        progressed = False
        while messages:
            cut = ws_piece(len(messages[0]) - sent, sup.peer_credit, piece)
            if cut is None:
                break
            n, fin = cut
            frame = cross(sup, wrk, p.WsMessage(SID, True, fin, messages[0][sent:sent + n]))
            assert wrk.granted >= 0 and sup.peer_credit >= 0
            pending.append(bytes(frame.data))
            spent += message_cost(frame)
            progressed = True
            if not fin:
                grant = wrk.consumed(message_cost(frame))  # earlier pieces: at once
                if grant is not None:
                    sup.receive(grant)
                sent += n
                continue
            arrived.append((b"".join(pending), message_cost(frame)))
            costs.append(spent)
            pending, sent, spent = [], 0, 0
            messages.pop(0)
        take = takes[step % len(takes)] or (0 if progressed else 1)  # taken, at last
        step += 1
        for _ in range(min(take, len(arrived))):
            message, cost = arrived.pop(0)
            received.append(message)
            grant = wrk.consumed(cost)
            if grant is not None:
                sup.receive(grant)
            progressed = True
        assert progressed, "stuck: nothing to take and no credit to send"
    assert received == [bytes([i % 256]) * n for i, n in enumerate(sizes)]
    assert costs == [n + C for n in sizes]
    assert wrk.held == 0 and sup.peer_credit == window  # everything granted back


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
    sup, wrk = pair(req=4 + C, resp=4)
    cross(wrk, sup, p.ResponseHead(SID, 101, [], -1))
    grant = wrk.widen(16)
    assert isinstance(grant, p.RequestCredit) and grant.size == 16
    sup.receive(grant)
    cross(sup, wrk, p.WsMessage(SID, True, True, b"x" * 20))  # 4 + C + 16: in one piece
    credit = sup.widen(8)
    assert isinstance(credit, p.ResponseCredit)
    wrk.receive(credit)
    assert wrk.peer_credit == 12
    assert sup.cancel("gone") is not None and sup.widen(8) is None  # nothing after the end


def test_close_codes_a_peer_may_send_are_those_rfc_6455_allows():
    """RFC 6455, 7.4: 1000-1003 and 1007-1014 (defined, or registered with IANA) and
    3000-4999; never 1004-1006 or 1015 (they only report a close), 0-999, the unassigned
    1016-2999 or anything from 5000 on. Either side sends 1000 in place of a code it may not."""
    allowed = {*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)}
    assert {c for c in range(70_000) if p.close_code_allowed(c)} == allowed
    assert {1004, 1005, 1006, 1015} == p.NOT_ON_THE_WIRE
    assert [p.sendable_close_code(c) for c in (1000, 1006, 1015, 999, 4999, 5000)] == \
        [1000, 1000, 1000, 1000, 4999, 1000]
