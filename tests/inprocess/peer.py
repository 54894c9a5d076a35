"""A scripted protocol peer for the in-process tests: one ZeroMQ socket on the test's loop
and one stream core (protocol/stream.py) per stream, so that every frame the test sends is
checked by the core first and every frame the component under test sends is checked by
the core on receipt (a frame beyond credit or out of phase fails the test with a
RemoteProtocolError naming it).

No tests here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import zmq
import zmq.asyncio

from isoflow import protocol as p


class Peer:
    """One end of the link: ``role`` is the side the test plays."""

    def __init__(self, sock: zmq.asyncio.Socket, role: p.Role, window: int = 0) -> None:
        self.sock = sock
        self.role = role
        self.window = window  # the request window the worker said in HELLO
        self.cores: dict[int, p.StreamCore] = {}
        self.frames: list[p.Frame] = []  # every frame received, in order
        self.sent: list[p.Frame] = []  # every frame sent, in order
        self.identity = b""  # a ROUTER's: the peer's routing id (from its first message)

    # -- sending ----------------------------------------------------------------------

    async def send(self, *frames: p.Frame, raw: bool = False) -> None:
        """Send ``frames`` as one message (a batch). A stream's frames go through its core
        (``raw``: not, to play a peer that breaks the protocol)."""
        parts: list[bytes | memoryview] = []
        for frame in frames:
            core = self.cores.get(frame.stream)
            if isinstance(frame, p.RequestHead) and core is None:
                self.cores[frame.stream] = p.StreamCore.opened(
                    p.Role.SUPERVISOR, frame, request_window=self.window)
            elif not raw and core is not None:
                core.send(frame)
            parts.extend(p.encode(frame))
            self.sent.append(frame)
        envelope = [self.identity] if self.sock.type == zmq.ROUTER else []
        await self.sock.send_multipart([*envelope, *parts])

    async def consumed(self, sid: int, size: int) -> None:
        """Our application took ``size`` bytes of stream ``sid``: send the grant, if due."""
        credit = self.cores[sid].consumed(size)
        if credit is not None:
            await self.send(credit, raw=True)  # the core has counted it already

    async def cancel(self, sid: int, reason: str) -> None:
        """Give up on stream ``sid`` (the supervisor's CANCEL)."""
        frame = self.cores[sid].cancel(reason)
        if frame is not None:
            await self.send(frame, raw=True)

    # -- receiving --------------------------------------------------------------------

    async def receive(self) -> list[p.Frame]:
        """The frames of the next message, each applied to its stream's core."""
        parts = await self.sock.recv_multipart()
        if self.sock.type == zmq.ROUTER:
            self.identity, parts = parts[0], parts[1:]
        frames, error = p.decode_batch(parts)
        assert error is None, error
        for frame in frames:
            core = self.cores.get(frame.stream)
            if isinstance(frame, p.RequestHead) and core is None:
                self.cores[frame.stream] = p.StreamCore.opened(
                    p.Role.WORKER, frame, request_window=self.window)
            elif core is not None and not isinstance(frame, p.Log):
                core.receive(frame)
        self.frames.extend(frames)
        return frames

    async def until(self, done: Callable[[], object], timeout: float = 5.0) -> None:
        """Receive until ``done()`` is true."""
        async with asyncio.timeout(timeout):
            while not done():
                await self.receive()

    def of(self, sid: int, *types: type[p.Frame]) -> list[p.Frame]:
        """The frames received for stream ``sid`` (of ``types``, if given), logs aside."""
        return [f for f in self.frames if f.stream == sid and not isinstance(f, p.Log)
                and (not types or isinstance(f, types))]

    def of_type(self, cls: type[p.Frame]) -> list[p.Frame]:
        """The frames of one type received so far, whatever their stream."""
        return [f for f in self.frames if isinstance(f, cls)]

    def body(self, sid: int) -> bytes:
        data = (p.ResponseBody, p.RequestBody, p.ResponseComplete)
        return b"".join(bytes(f.data) for f in self.of(sid, *data))  # type: ignore[attr-defined]

    def logs(self) -> list[str]:
        return [f.message for f in self.frames if isinstance(f, p.Log)]
