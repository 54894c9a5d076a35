"""The worker's fetch client holds an upstream body until it has a consumer.

Once a response head is in, nothing more is read from the upstream socket until the body
is read by JavaScript or forwarded: a forward that relays hands the rest over unread (the
RESPONSE_RELAY prefix is only what came with the head), and the other consumers read it
all. A real ``FetchClient`` against a raw upstream on 127.0.0.1 that sends the head and
64 KiB, then the rest of the body at once when the test says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator

import pytest

from isoflow.isolate_worker.fetch import AddressPolicy, FetchClient
from isoflow.isolate_worker.kinds import EV_FETCH_DATA, EV_FETCH_END, EV_FETCH_HEAD
from tests.conftest import run

FIRST = 64 << 10
TOTAL = (2 << 20) + FIRST


def body_bytes(n: int) -> bytes:
    return bytes(i * 7 % 251 for i in range(256)) * (n // 256) + b"x" * (n % 256)


BODY = body_bytes(TOTAL)


class Upstream:
    """Answers one request: its head and FIRST bytes, then the rest once ``go`` is set."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % TOTAL + BODY[:FIRST])
            await writer.drain()
            await self.go.wait()
            writer.write(BODY[FIRST:])
            await writer.drain()
            await reader.read()  # until the client closes
        writer.close()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[Upstream]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self


class Target:
    """A forward target: takes or declines the relay; collects framed bytes."""

    def __init__(self, take_relay: bool) -> None:
        self.take_relay = take_relay
        self.prefix: bytes | None = None
        self.rest = b""
        self.data = bytearray()
        self.ended = asyncio.Event()

    async def write(self, data: bytes) -> None:
        self.data += data

    def end(self) -> None:
        self.ended.set()

    def fail(self, message: str) -> None:
        raise AssertionError(message)

    def relay(self, framing: str, length: int, prefix: bytes, fd: int) -> bool:
        assert (framing, length) == ("length", TOTAL)
        self.prefix = bytes(prefix)
        if self.take_relay:
            with socket.socket(fileno=os.dup(fd)) as sock:  # the rest, unread by aiohttp
                sock.setblocking(True)
                sock.settimeout(10)
                rest = bytearray()
                while len(rest) < TOTAL - len(prefix):
                    rest += sock.recv(1 << 20)
                self.rest = bytes(rest)
            self.ended.set()
        return self.take_relay


async def _head(consumer: str) -> tuple[bytes, Target | None]:
    """Fetch from the upstream; once the head is in and the rest of the body sits in the
    socket, attach ``consumer`` ("relay", "frames" or "js"); returns what it got."""
    events: list = []
    got_head = asyncio.Event()
    ended = asyncio.Event()

    def emit(event, payload):
        events.append((event, payload))
        if event[0] == EV_FETCH_HEAD:
            got_head.set()
        elif event[0] == EV_FETCH_END:
            ended.set()

    client = FetchClient(emit, policy=AddressPolicy(allow_loopback=True), relay=True)
    try:
        async with Upstream().serving() as up:
            fetch = client.start(1, "GET", f"http://127.0.0.1:{up.port}/", [], None, -1,
                                 "follow")
            await asyncio.wait_for(got_head.wait(), 10)
            up.go.set()
            await asyncio.sleep(0.2)  # reading on would have taken the rest by now
            assert fetch.task is not None and not fetch.task.done()
            if consumer == "js":
                client.grant(1, 1 << 30)
                await asyncio.wait_for(ended.wait(), 10)
                data = b"".join(bytes(p) for e, p in events if e[0] == EV_FETCH_DATA)
                return data, None
            target = Target(take_relay=consumer == "relay")
            assert client.forward(1, target)
            await asyncio.wait_for(target.ended.wait(), 10)
            return bytes(target.data), target
    finally:
        await client.close()


def test_a_relayed_body_is_handed_over_unread_past_what_came_with_its_head():
    data, target = run(_head("relay"))
    assert target is not None and target.prefix is not None
    assert len(target.prefix) <= FIRST  # not the 2 MiB the socket held
    assert target.prefix + target.rest == BODY
    assert data == b""


@pytest.mark.parametrize("consumer", ["frames", "js"])
def test_a_held_body_is_read_whole_by_any_other_consumer(consumer):
    data, target = run(_head(consumer))
    if target is not None:  # the relay was declined: the prefix and the rest as frames
        assert target.prefix is not None and len(target.prefix) <= FIRST
    assert data == BODY
