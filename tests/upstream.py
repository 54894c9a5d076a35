"""A real upstream HTTP server for fetch() tests: aiohttp on 127.0.0.1, in its own thread.

Each route records what it saw in ``Upstream.events`` (a list the test can read) so tests
can assert on what reached the upstream and in which order.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Self

import brotli
import pytest
from aiohttp import WSMsgType, web

CHUNK = 64 << 10


def pattern(n: int) -> bytes:
    """Deterministic, incompressible-looking bytes: the test can check any prefix."""
    out = bytearray()
    block = 0
    while len(out) < n:
        out += hashlib.sha256(block.to_bytes(8, "big")).digest() * 64
        block += 1
    return bytes(out[:n])


BLOCK = pattern(CHUNK)
PERIOD = pattern(8 << 20)  # /stream bodies repeat this


def stream_bytes(n: int) -> bytes:
    """The body /stream/{n} sends."""
    return (PERIOD * (n // len(PERIOD) + 1))[:n]


class ServerThread:
    """A server on ``host`` (a free port), run by an event loop in a thread of its own so
    that it outlives the loops the tests run: an aiohttp application, or whatever a subclass
    starts in :meth:`_listen`."""

    def __init__(self, app: web.Application | None = None, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    async def _listen(self) -> int:
        """Start serving; the port."""
        assert self.app is not None
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        return self._runner.addresses[0][1]

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.port = self.loop.run_until_complete(self._listen())
        self._ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self._close())
            self.loop.close()


class Upstream(ServerThread):
    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.received: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.closed: dict[str, bool] = {}
        self.hits = 0  # requests /text answered
        app = web.Application(client_max_size=1 << 30)
        r = app.router
        r.add_get("/text", self.text)
        r.add_get("/sse", self.sse)
        r.add_get("/json", self.json)
        r.add_route("*", "/headers", self.headers)
        r.add_route("*", "/early", self.early)
        r.add_get("/bytes/{n}", self.bytes)
        r.add_get("/stream/{n}", self.stream)
        r.add_get("/gzip", self.encoded("gzip"))
        r.add_get("/deflate", self.encoded("deflate"))
        r.add_get("/br", self.encoded("br"))
        r.add_get("/bomb/{encoding}", self.bomb)
        r.add_post("/echo", self.echo)
        r.add_post("/count", self.count)
        r.add_get("/redirect/{n}", self.redirect)
        r.add_route("*", "/redirect-status/{status}", self.redirect_status)
        r.add_get("/redirect-to", self.redirect_to)
        r.add_get("/cookies", self.cookies)
        r.add_get("/reset", self.reset)
        r.add_get("/forever/{name}", self.forever)
        r.add_get("/progress/{name}", self.progress)
        r.add_get("/ws", self.ws)
        super().__init__(app)

    def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; events so far: {self.events[-20:]}")
            time.sleep(0.01)

    # -- routes -----------------------------------------------------------------------

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        """A WebSocket echo (text and binary); "close" closes with 4001 "upstream done"."""
        ws = web.WebSocketResponse(protocols=("chat", "echo"))
        await ws.prepare(request)
        self.events.append(("ws-open", ws.ws_protocol, request.headers.get("X-Probe")))
        self.events.append(("ws-head", *(request.headers.get(name) for name in (
            "Host", "Content-Length", "Transfer-Encoding", "Expect"))))
        async for msg in ws:
            if msg.type is WSMsgType.TEXT and msg.data == "close":
                await ws.close(code=4001, message=b"upstream done")
            elif msg.type is WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type is WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        self.events.append(("ws-closed", ws.close_code))
        return ws

    async def text(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.Response(text="hello from upstream", headers={"X-Upstream": "yes"})

    async def json(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "n": 3})

    async def progress(self, request: web.Request) -> web.Response:
        return web.json_response(self.received.get(request.match_info["name"], 0))

    async def headers(self, request: web.Request) -> web.Response:
        body = await request.read()
        pairs = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers]
        return web.json_response({"method": request.method, "headers": pairs,
                                  "body": body.decode("latin-1")})

    async def early(self, request: web.Request) -> web.Response:
        """401 before reading the body (as many servers answer a refused request): what
        follows on the connection is read as the rest of the body it declared."""
        return web.Response(status=401, text=f"length {request.headers.get('Content-Length')}")

    async def bytes(self, request: web.Request) -> web.Response:
        return web.Response(body=pattern(int(request.match_info["n"])))

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """n bytes of stream_bytes(), chunked; records how much was handed to the socket.
        ``?sndbuf=N`` fixes the socket's send buffer (else the kernel grows it, by MBs)."""
        n = int(request.match_info["n"])
        name = request.query.get("name", "stream")
        sndbuf = request.query.get("sndbuf")
        sock = request.transport.get_extra_info("socket") if request.transport else None
        if sndbuf is not None and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(sndbuf))
        resp = web.StreamResponse()
        await resp.prepare(request)
        data = memoryview(PERIOD)
        sent = 0
        self.sent[name] = 0
        try:
            while sent < n:
                size = min(CHUNK, n - sent)
                offset = sent % len(data)
                await resp.write(data[offset : offset + size])
                sent += size
                self.sent[name] = sent
        except ConnectionError:
            self.closed[name] = True
            return resp
        await resp.write_eof()
        return resp

    BOMB = 32 << 20  # zero bytes, compressed to a few tens of KiB

    async def bomb(self, request: web.Request) -> web.Response:
        """BOMB zero bytes, compressed (gzip, deflate or br): a small body that inflates."""
        encoding = request.match_info["encoding"]
        zeros = bytes(self.BOMB)
        if encoding == "gzip":
            body = gzip.compress(zeros, 1)
        elif encoding == "deflate":
            body = zlib.compress(zeros, 1)
        else:
            body = brotli.compress(zeros, quality=1)
        return web.Response(body=body, headers={"Content-Encoding": encoding})

    def encoded(self, encoding: str):
        text = ("compressible text " * 2000).encode()

        async def handler(request: web.Request) -> web.Response:
            if encoding == "gzip":
                body = gzip.compress(text)
            elif encoding == "deflate":
                body = zlib.compress(text)
            else:
                body = brotli.compress(text)
            return web.Response(body=body, headers={"Content-Encoding": encoding})

        return handler

    async def echo(self, request: web.Request) -> web.StreamResponse:
        """The request body back as it comes; ``?after=N``: the head only once N bytes of it
        have arrived (default: at once)."""
        held = await request.content.readexactly(int(request.query.get("after", 0)))
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(held)
        async for chunk in request.content.iter_any():
            await resp.write(chunk)
        await resp.write_eof()
        return resp

    async def count(self, request: web.Request) -> web.Response:
        """Read the body as it arrives, recording each piece; answer size and sha256."""
        name = request.query.get("name", "count")
        h = hashlib.sha256()
        total = 0
        self.received[name] = 0
        async for chunk in request.content.iter_any():
            h.update(chunk)
            total += len(chunk)
            self.received[name] = total
            self.events.append(("chunk", name, len(chunk)))
        self.events.append(("end", name, total))
        return web.json_response({"size": total, "sha256": h.hexdigest(),
                                  "te": request.headers.get("Transfer-Encoding")})

    async def redirect(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        target = "/text" if n <= 1 else f"/redirect/{n - 1}"
        raise web.HTTPFound(target)

    async def redirect_status(self, request: web.Request) -> web.Response:
        status = int(request.match_info["status"])
        return web.Response(status=status, headers={"Location": "/headers"})

    async def sse(self, request: web.Request) -> web.StreamResponse:
        """An event stream: the first connection sends a retry time, a comment and two events
        (CR, LF and CRLF line ends, a BOM, a line split across writes) and ends; the next
        (with Last-Event-ID) one more event. ``?status=`` and ``?type=`` answer otherwise."""
        status = int(request.query.get("status", "200"))
        kind = request.query.get("type", "text/event-stream; charset=utf-8")
        resp = web.StreamResponse(status=status, headers={"Content-Type": kind})
        await resp.prepare(request)
        self.events.append(("sse", request.headers.get("Last-Event-ID"),
                            request.headers.get("Accept")))
        if request.headers.get("Last-Event-ID") == "7":
            await resp.write(b"data: again\r\n\r\n")
        else:
            await resp.write(b"\xef\xbb\xbfretry: 50\n: a comment\ndata: one\n\n")
            await resp.write(b"id: 7\revent: custom\rdata: two\ndata")
            await resp.write(b": lines\n\ndata: unfinished")
        await resp.write_eof()
        return resp

    async def redirect_to(self, request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": request.query["location"]})

    async def cookies(self, request: web.Request) -> web.Response:
        resp = web.Response(text="cookies")
        resp.headers.add("Set-Cookie", "a=1; Path=/")
        resp.headers.add("Set-Cookie", "b=2; Path=/")
        return resp

    async def reset(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": str(10 * CHUNK)})
        await resp.prepare(request)
        await resp.write(BLOCK)
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.abort()
        return resp

    async def forever(self, request: web.Request) -> web.StreamResponse:
        """Stream until the client goes away; records that it noticed."""
        name = request.match_info["name"]
        self.closed[name] = False
        self.sent[name] = 0
        resp = web.StreamResponse()
        await resp.prepare(request)
        try:
            while True:
                await resp.write(BLOCK)
                self.sent[name] += len(BLOCK)
                await asyncio.sleep(0.005)
        except ConnectionError:
            self.closed[name] = True
        return resp


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream().start()
    yield up
    up.stop()
