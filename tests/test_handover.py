"""The hand-over socket (supervisor/handover.py, isolate_worker/handover.py): real Unix
sockets and descriptors, in one process."""

from __future__ import annotations

import array
import asyncio
import contextlib
import gc
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from isoflow.isolate_worker.handover import RESPONSE, UPLOAD, Handover
from isoflow.protocol import ProtocolError
from isoflow.protocol import handover as message
from isoflow.supervisor.handover import Handovers
from tests.conftest import run


def open_fds() -> int:
    """This process's open descriptors, counted after a garbage collection: a socket an
    earlier test left in a reference cycle would otherwise close between two counts."""
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def test_message_round_trip_and_refusals():
    assert message.unpack(message.pack(UPLOAD, 7)) == (UPLOAD, 7)
    for data in (b"", b"\x01" * 8, message.pack(1, 0), b"\x09" + b"\0" * 7 + b"\x01"):
        with pytest.raises(ProtocolError):
            message.unpack(data)


@contextlib.asynccontextmanager
async def _pair(tmp_path) -> AsyncIterator[tuple[Handovers, Handover, socket.socket,
                                                 socket.socket]]:
    """A listening supervisor side, a worker side, and a connection to pass (``a``)."""
    listener = Handovers(tmp_path / "h.sock")
    listener.start()
    sender = Handover(str(tmp_path / "h.sock"))
    a, b = socket.socketpair()  # stands in for an upstream connection
    try:
        yield listener, sender, a, b
    finally:
        listener.close()
        sender.close()
        a.close()
        b.close()


def test_a_socket_reaches_the_stream_of_the_process_that_sent_it(tmp_path):
    async def go() -> None:
        async with _pair(tmp_path) as (listener, sender, a, b):
            assert sender.send(RESPONSE, 5, a.fileno())
            got = await listener.take(os.getpid(), RESPONSE, 5, 2.0)
            assert got is not None
            got.sendall(b"through the copy")  # the same connection as `a`
            assert b.recv(100) == b"through the copy"
            got.close()
            # Another pid, kind or stream gets nothing.
            assert sender.send(RESPONSE, 6, a.fileno())
            assert await listener.take(os.getpid() + 1, RESPONSE, 6, 0.2) is None
            assert await listener.take(os.getpid(), UPLOAD, 6, 0.2) is None
            late = await listener.take(os.getpid(), RESPONSE, 6, 2.0)
            assert late is not None
            late.close()

    run(go())


def test_the_take_may_come_before_the_socket(tmp_path):
    async def go() -> None:
        async with _pair(tmp_path) as (listener, sender, a, _):
            taking = asyncio.ensure_future(listener.take(os.getpid(), UPLOAD, 9, 2.0))
            await asyncio.sleep(0.05)
            assert sender.send(UPLOAD, 9, a.fileno())
            got = await taking
            assert got is not None
            got.close()

    run(go())


def test_only_the_fronts_workers_may_hand_sockets_over(tmp_path, caplog):
    """Another process of the service's user that connects is closed at once: it cannot make
    the front hold descriptors (nor pass one for a stream)."""
    async def go() -> None:
        listener = Handovers(tmp_path / "h.sock", accepts=lambda pid: pid != os.getpid())
        listener.start()
        sender = Handover(str(tmp_path / "h.sock"))
        a, b = socket.socketpair()
        try:
            before = open_fds()
            sender.send(RESPONSE, 3, a.fileno())
            await asyncio.sleep(0.1)
            assert await listener.take(os.getpid(), RESPONSE, 3, 0.2) is None
            sender.close()
            await asyncio.sleep(0.05)
            assert open_fds() <= before
        finally:
            listener.close()
            sender.close()
            a.close()
            b.close()

    run(go())
    assert f"refused pid {os.getpid()}, which is not a worker of this front" in caplog.text


def test_discarded_and_unclaimed_sockets_are_closed(tmp_path):
    async def go() -> None:
        async with _pair(tmp_path) as (listener, sender, a, _):
            assert sender.send(RESPONSE, 10, a.fileno())  # connected and accepted
            (await listener.take(os.getpid(), RESPONSE, 10, 2.0)).close()
            before = open_fds()
            listener.discard(os.getpid(), RESPONSE, 11)  # before it comes: closed on arrival
            assert sender.send(RESPONSE, 11, a.fileno())
            assert sender.send(RESPONSE, 12, a.fileno())
            await asyncio.sleep(0.1)
            assert open_fds() == before + 1  # only stream 12's is kept
            listener.discard(os.getpid(), RESPONSE, 12)
            assert open_fds() == before

    run(go())


def test_malformed_messages_are_refused_and_their_descriptors_closed(tmp_path):
    async def go() -> None:
        async with _pair(tmp_path) as (listener, _, a, b):
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as raw:
                raw.connect(str(tmp_path / "h.sock"))
                await asyncio.sleep(0.05)
                before = open_fds()
                fds = array.array("i", [a.fileno(), b.fileno()])
                # Two descriptors, none, a bad message, a datagram socket: all refused.
                raw.sendmsg([message.pack(RESPONSE, 1)],
                            [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())])
                raw.sendmsg([message.pack(RESPONSE, 2)])
                socket.send_fds(raw, [b"nonsense"], [a.fileno()])
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    socket.send_fds(raw, [message.pack(RESPONSE, 3)], [udp.fileno()])
                await asyncio.sleep(0.1)
                assert open_fds() == before
                for sid in (1, 2, 3):
                    assert await listener.take(os.getpid(), RESPONSE, sid, 0.05) is None

    run(go())


def test_a_worker_without_a_path_does_not_relay(tmp_path):
    sender = Handover(None)
    assert not sender.available
    assert not sender.send(RESPONSE, 1, 0)
    missing = Handover(str(tmp_path / "absent.sock"))
    assert not missing.send(RESPONSE, 1, 0)
    assert not missing.available  # it does not try again


def test_a_path_too_long_for_a_unix_socket_leaves_the_relay_off(tmp_path):
    async def go() -> None:
        listener = Handovers(tmp_path / ("x" * 120) / "h.sock")
        (tmp_path / ("x" * 120)).mkdir()
        assert not listener.start()
        assert not listener.listening
        listener.close()

    run(go())


# -- the supervisor's answers to RESPONSE_DIRECT -------------------------------------------


def test_answer_round_trip_and_refusals():
    assert message.unpack_answer(message.pack_answer(message.CLIENT, 3, True, 30.0)) == \
        (message.CLIENT, 3, True, 30.0)
    assert message.unpack_answer(message.pack_answer(message.REFUSED, 3)) == \
        (message.REFUSED, 3, False, 0.0)
    for data in (b"", message.pack(RESPONSE, 3), message.pack_answer(RESPONSE, 3),
                 message.pack_answer(message.CLIENT, 0, False, 1.0),
                 message.pack_answer(message.CLIENT, 3, False, 0.0),
                 message.pack_answer(message.CLIENT, 3, False, float("nan"))):
        with pytest.raises(ProtocolError):
            message.unpack_answer(data)


def test_the_client_socket_or_a_refusal_reaches_the_worker_that_asked(tmp_path):
    async def go() -> None:
        async with _pair(tmp_path) as (listener, worker, a, b):
            answers: asyncio.Queue = asyncio.Queue()
            assert not listener.answer(os.getpid(), 1, None)  # no connection yet
            worker.listen(lambda *answer: answers.put_nowait(answer))
            assert worker.answers
            await asyncio.sleep(0.05)  # accepted
            assert not listener.answer(os.getpid() + 1, 1, None)  # another process: none
            assert listener.answer(os.getpid(), 4, a.fileno(), True, 2.5)
            sid, client, chunked, timeout = await asyncio.wait_for(answers.get(), 2)
            assert (sid, chunked, timeout) == (4, True, 2.5)
            client.sendall(b"into the client's connection")  # a copy of `a`
            client.close()
            assert b.recv(100) == b"into the client's connection"
            assert listener.answer(os.getpid(), 5, None)
            assert await asyncio.wait_for(answers.get(), 2) == (5, None, False, 0.0)

    run(go())


def test_malformed_answers_are_refused_and_their_descriptors_closed(tmp_path):
    async def go() -> None:
        listener, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        worker = Handover(None)
        worker._sock = worker_end  # connected by hand: no supervisor in this test
        worker_end.setblocking(False)
        answers: list = []
        worker._on_answer = lambda *answer: answers.append(answer)
        worker._loop = asyncio.get_running_loop()
        worker._loop.add_reader(worker_end.fileno(), worker._read)
        a, b = socket.socketpair()
        with listener, a, b:
            await asyncio.sleep(0.01)
            before = open_fds()
            # A client answer without its socket, a refusal with one, two sockets, nonsense.
            listener.send(message.pack_answer(message.CLIENT, 1, False, 1.0))
            socket.send_fds(listener, [message.pack_answer(message.REFUSED, 2)], [a.fileno()])
            socket.send_fds(listener, [message.pack_answer(message.CLIENT, 3, False, 1.0)],
                            [a.fileno(), b.fileno()])
            socket.send_fds(listener, [b"nonsense"], [a.fileno()])
            await asyncio.sleep(0.1)
            assert answers == [] and open_fds() == before
            listener.close()  # the supervisor went: the worker's end closes
            await asyncio.sleep(0.05)
            assert not worker.answers
        worker.close()

    run(go())


LOST_SCRIPT = r"""
import os, resource, socket
from isoflow.isolate_worker.handover import Handover
from isoflow.protocol import handover as message

listener, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
a, b = socket.socketpair()
worker = Handover(None)
worker._sock = worker_end
worker_end.setblocking(False)
answers = []
worker._on_answer = lambda *answer: answers.append(answer)
socket.send_fds(listener, [message.pack_answer(message.CLIENT, 7, True, 1.0)], [a.fileno()])
used = len(os.listdir("/proc/self/fd")) - 1  # listdir's own descriptor is closed again
resource.setrlimit(resource.RLIMIT_NOFILE, (used, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
worker._read()  # the kernel cannot install the socket here: MSG_CTRUNC
(sid, client, chunked, timeout), = answers
print(sid, type(client).__name__, client.errno, chunked, timeout)
"""


def test_a_client_socket_lost_for_want_of_a_descriptor_is_reported_not_dropped():
    """With no descriptor left, the kernel drops the socket the supervisor handed over
    (MSG_CTRUNC): the worker must hear of its stream (which then fails at once), not wait
    for an answer that came without it. In a process of its own: it lowers its limit."""
    out = subprocess.run([sys.executable, "-c", LOST_SCRIPT], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["7", "OSError", "24", "True", "1.0"]
