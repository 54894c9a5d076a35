"""The ZeroMQ plumbing both processes share (isolate_worker/link.py), in-process: the one
edge-triggered read loop and the worker's link (HELLO, batching, frames in), over a real
ROUTER on an inproc:// endpoint; and the module layering it made possible."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from isoflow import protocol as p
from isoflow.isolate_worker.link import READ_BATCH, EdgeReader, Link
from isoflow.supervisor.channel import Channel

ROOT = Path(__file__).resolve().parent.parent
_endpoints = itertools.count()


@contextlib.contextmanager
def _pair() -> Iterator[tuple[zmq.Socket, zmq.Socket]]:
    """Two connected PAIR sockets on a fresh inproc:// endpoint: (sender, receiver)."""
    ctx = zmq.Context.instance()
    endpoint = f"inproc://edge-{next(_endpoints)}"
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    b.bind(endpoint)
    a.connect(endpoint)
    try:
        yield a, b
    finally:
        a.close(linger=0)
        b.close(linger=0)


async def _recv(sock: zmq.Socket, timeout: float = 2.0) -> list[bytes]:
    """One message from a socket nobody else reads, without blocking the loop."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return sock.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            assert asyncio.get_running_loop().time() < deadline, "no message"
            await asyncio.sleep(0.005)


def test_edge_reader_takes_every_queued_message_in_order_and_is_not_reentered() -> None:
    async def scenario(a: zmq.Socket, b: zmq.Socket) -> None:
        got: list[bytes] = []
        depth = [0, 0]  # now, deepest
        for i in range(5):
            a.send(b"%d" % i)

        def on_message(parts: list[bytes]) -> None:
            depth[0] += 1
            depth[1] = max(depth)
            got.append(parts[0])
            reader.read()  # a handler asking for the socket's news: returns at once
            depth[0] -= 1

        reader = EdgeReader(asyncio.get_running_loop(), b, on_message, copy=True)
        try:
            reader.read()
            assert got == [b"0", b"1", b"2", b"3", b"4"]  # one call takes all, in order
            assert depth[1] == 1  # never read from inside a handler
            a.send(b"5")
            reader.sent()  # as after a send: the socket is looked at again on the loop
            for _ in range(100):
                if len(got) == 6:
                    break
                await asyncio.sleep(0.005)
            assert got[-1] == b"5"
        finally:
            reader.close()

    with _pair() as (a, b):
        asyncio.run(scenario(a, b))


def test_edge_reader_takes_a_bounded_batch_and_the_rest_on_the_next_turn() -> None:
    """A worker flooding its link (a console.log loop) held the front's loop in one read:
    no request of any script was served meanwhile."""
    async def scenario(a: zmq.Socket, b: zmq.Socket) -> None:
        n = READ_BATCH * 3 + 5
        for i in range(n):
            a.send(b"%d" % i)
        got: list[bytes] = []
        reader = EdgeReader(asyncio.get_running_loop(), b, lambda parts: got.append(parts[0]),
                            copy=True)
        try:
            reader.read()
            assert len(got) == READ_BATCH  # then the loop's other callbacks run
            for _ in range(100):
                if len(got) == n:
                    break
                await asyncio.sleep(0)  # no new edge: the reader looks again by itself
            assert got == [b"%d" % i for i in range(n)]
        finally:
            reader.close()

    with _pair() as (a, b):
        asyncio.run(scenario(a, b))


def test_link_says_hello_batches_a_pumps_frames_and_delivers_frames() -> None:
    async def scenario() -> None:
        ctx = zmq.Context.instance()
        endpoint = f"inproc://link-{next(_endpoints)}"
        router = ctx.socket(zmq.ROUTER)
        router.setsockopt(zmq.LINGER, 0)
        router.bind(endpoint)
        received: list[p.Frame] = []
        hellos: list[int] = []
        link: Link | None = None

        def hello() -> None:
            hellos.append(1)
            assert link is not None
            link.send(p.Hello(0, "w0.1", 1, 65536))

        link = Link(endpoint, "w0.1", None, received.extend, hello, lambda: None)
        try:
            link.start()
            assert hellos == [1]  # a local worker says HELLO at once
            identity, *parts = await _recv(router)
            assert identity == b"w0.1"
            assert [type(f) for f in p.decode_batch(parts)[0]] == [p.Hello]
            link.begin_batch()  # a pump's actions: their frames leave as one message
            assert link.send(p.Log(0, "info", "", "one"))
            assert link.send(p.Log(0, "info", "", "two"))
            assert router.poll(50) == 0  # nothing left before the batch is flushed
            link.flush_batch()
            _, *parts = await _recv(router)
            frames, error = p.decode_batch(parts)
            assert error is None and [f.message for f in frames] == ["one", "two"]
            router.send_multipart([b"w0.1", *p.encode(p.Ping(0, 7)), *p.encode(p.Ping(0, 8))])
            for _ in range(200):
                if received:
                    break
                await asyncio.sleep(0.005)
            assert [f.seq for f in received] == [7, 8]  # one message, both frames, in order
        finally:
            link.close()
            router.close(linger=0)

    asyncio.run(scenario())


def test_the_supervisors_channel_sends_a_turns_frames_as_one_batch_per_worker() -> None:
    async def scenario() -> None:
        endpoint = f"inproc://channel-{next(_endpoints)}"
        channel = Channel(endpoint, lambda identity, frame: None, on_unreachable=print)
        dealer = zmq.Context.instance().socket(zmq.DEALER)
        dealer.setsockopt(zmq.IDENTITY, b"w0.1")
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.connect(endpoint)
        try:
            dealer.send_multipart(p.encode(p.Goodbye(0)))  # the router learns the identity
            await asyncio.sleep(0.05)
            huge = p.Log(1, "info", "r", "x" * p.frames.MAX_HEAD_BYTES)
            with pytest.raises(p.ProtocolError, match="exceeds"):
                channel.send(b"w0.1", huge)  # refused, and nothing is left queued
            await asyncio.sleep(0.01)
            assert dealer.poll(50) == 0
            frames = [p.RequestEnd(1), p.ResponseCredit(2, 10), p.RequestBody(3, b"abc")]
            for frame in frames:
                assert channel.send(b"w0.1", frame)
            parts = await _recv(dealer)
            assert len(parts) == 1  # the heads in one part, the small body in its head
            decoded, error = p.decode_batch(parts)
            assert error is None and [type(f) for f in decoded] == [type(f) for f in frames]
        finally:
            dealer.close(linger=0)
            channel.close()

    asyncio.run(scenario())


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
            names.update(f"{'.' * node.level}{alias.name}" for alias in node.names
                         if node.module is None)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_zeromq_read_loop_exists_once_and_config_and_remote_do_not_import_each_other():
    sources = [f for d in ("supervisor", "isolate_worker") for f in (ROOT / d).glob("*.py")]
    loops = [f.name for f in sources
             if "zmq.EVENTS) & zmq.POLLIN" in f.read_text() or "_EVENTS) & _POLLIN" in f.read_text()]
    assert loops == ["link.py"]
    assert ".remote" not in _imports(ROOT / "supervisor" / "config.py")
    assert not {".config", ".cli"} & _imports(ROOT / "supervisor" / "remote.py")
    worker_side = [f for f in (ROOT / "isolate_worker").glob("*.py")
                   if "isoflow.supervisor" in f.read_text()]
    assert worker_side == []  # the supervisor may import the worker's link, not the reverse
