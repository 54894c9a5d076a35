"""The front in-process: a real supervisor :class:`Service` (front.py, the stream table, the
pool, the channels) on the test's event loop, with no worker process at all. Its script
takes remote workers only (``workers = 0``), and the test is that remote worker: a DEALER
that completes the CURVE handshake on loopback, says HELLO and then speaks the protocol,
with a worker-side stream core per stream checking every frame the front sends
(tests/inprocess/peer.py). HTTP requests come from an aiohttp client on the same loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import zmq
import zmq.asyncio
import zmq.auth

from isoflow import protocol as p
from isoflow.supervisor.config import parse
from isoflow.supervisor.server import Service
from tests.conftest import fetch, run
from tests.inprocess.peer import Peer
from tests.processes import free_port

REQUEST_WINDOW = 8 << 10  # what the test's worker says in HELLO
RESPONSE_WINDOW = 16 << 10  # [server] response_window
IDENTITY = b"app@inproc.1"
CONFIG = """
[server]
response_window = {response_window}
shutdown_grace = 1
heartbeat_interval = 10
heartbeat_timeout = 30

[log]
access_log = false

[[listeners]]
host = "127.0.0.1"
port = {port}

[remote]
host = "127.0.0.1"
port = {remote_port}
key = "keys/supervisor.key_secret"
authorized_keys = "keys/authorized"

[scripts.app]
path = "app.js"
workers = 0
remote = true

[[routes]]
script = "app"
"""


@dataclass
class Front:
    service: Service
    worker: Peer  # the test, as the remote worker
    base: str  # the front's URL

    async def request_head(self, n: int = 1) -> p.RequestHead:
        """The ``n``-th REQUEST_HEAD the front sends."""
        await self.worker.until(lambda: len(self.worker.of_type(p.RequestHead)) >= n)
        return self.worker.of_type(p.RequestHead)[n - 1]

    async def download(self, length: int) -> tuple[asyncio.Task, int, p.StreamCore]:
        """A client GETs /down; the test, as the worker, answers 200 with ``length``:
        (the client's task, the stream id, the test's core of the stream)."""
        client = asyncio.create_task(fetch(self.base + "/down"))
        head = await self.request_head()
        sid = head.stream
        await self.worker.send(p.ResponseHead(sid, 200, [], length))
        return client, sid, self.worker.cores[sid]

    async def send_body(self, sid: int, data: bytes, piece: int) -> None:
        """RESPONSE_BODY frames of ``data`` (``piece`` bytes at most each), each sent as soon
        as the front's credit allows it."""
        core = self.worker.cores[sid]
        sent = 0
        while sent < len(data):
            if core.peer_credit == 0:  # the front grants once the client took bytes
                await self.worker.receive()
                continue
            n = min(core.peer_credit, piece, len(data) - sent)
            await self.worker.send(p.ResponseBody(sid, data[sent:sent + n]))
            sent += n


@contextlib.asynccontextmanager
async def front(response_window: int = RESPONSE_WINDOW) -> AsyncIterator[Front]:
    directory = Path(tempfile.mkdtemp(prefix="isoflow-f-"))
    keys = directory / "keys"
    (keys / "authorized").mkdir(parents=True)
    zmq.auth.create_certificates(keys, "supervisor")
    public, _ = zmq.auth.create_certificates(keys / "authorized", "worker")
    (directory / "app.js").write_text("// served by the test's remote worker\n")
    port, remote_port = free_port(), free_port()
    text = CONFIG.format(response_window=response_window, port=port, remote_port=remote_port)
    settings = parse(text, directory / "isoflow.toml").settings
    service = Service(settings)
    context = zmq.asyncio.Context()
    try:
        await service.start()
        sock = context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.IDENTITY, IDENTITY)
        sock.curve_serverkey = zmq.auth.load_certificate(keys / "supervisor.key")[0]
        sock.curve_publickey, sock.curve_secretkey = zmq.auth.load_certificate(
            Path(str(public) + "_secret"))
        sock.connect(f"tcp://127.0.0.1:{remote_port}")
        worker = Peer(sock, p.Role.WORKER, REQUEST_WINDOW)
        await worker.send(p.Hello(0, "app@inproc", os.getpid(), REQUEST_WINDOW))
        yield Front(service, worker, f"http://127.0.0.1:{port}")
    finally:
        try:
            await service.stop()
        finally:  # an open socket left to the garbage collector would hang the test run
            context.destroy(linger=0)
            shutil.rmtree(directory, ignore_errors=True)


def test_a_request_becomes_a_stream_and_its_answer_goes_back() -> None:
    async def main() -> None:
        async with front() as f:
            client = asyncio.create_task(fetch(f.base + "/hi?x=1", headers={"X-A": "b"}))
            head = await f.request_head()
            assert (head.method, head.url, head.has_body) == \
                ("GET", f.base + "/hi?x=1", False)
            assert head.window == RESPONSE_WINDOW
            headers = {k.lower(): v for k, v in head.headers}
            assert headers["x-a"] == "b" and headers["x-request-id"] == head.request_id
            sid = head.stream
            await f.worker.send(p.ResponseHead(sid, 201, [["X-Out", "1"]], -1),
                                p.ResponseBody(sid, b"hello "))
            await f.worker.send(p.ResponseBody(sid, b"world"), p.ResponseEnd(sid))
            status, out, body = await client
            assert (status, body) == (201, b"hello world")
            assert out["X-Out"] == "1" and out["Server"] == "isoflow"
            assert out["X-Request-Id"] == head.request_id
            assert f.worker.cores[sid].outcome is p.Outcome.DONE

    run(main())


def test_an_upload_is_read_only_as_the_worker_grants_credit() -> None:
    """100 KB through an 8 KiB request window: the worker's core would raise on a byte
    beyond its grants; credit goes back as the test consumes what arrived."""
    body = os.urandom(100_000)

    async def main() -> None:
        async with front() as f:
            client = asyncio.create_task(fetch(f.base + "/up", "POST", data=body))
            head = await f.request_head()
            sid, core = head.stream, f.worker.cores[head.stream]
            assert head.has_body
            taken = 0
            while core.request is not p.Phase.ENDED:
                await f.worker.receive()
                got = len(f.worker.body(sid))
                if got > taken:
                    await f.worker.consumed(sid, got - taken)
                    taken = got
            assert f.worker.body(sid) == body
            grants = [x for x in f.worker.sent if isinstance(x, p.RequestCredit)]
            assert grants and all(g.size <= REQUEST_WINDOW for g in grants)
            await f.worker.send(p.ResponseHead(sid, 200, [], 2), p.ResponseBody(sid, b"ok"),
                                p.ResponseEnd(sid))
            status, _headers, answer = await client
            assert (status, answer) == (200, b"ok")

    run(main())


def test_a_response_beyond_the_window_waits_for_the_clients_credit() -> None:
    body = os.urandom(100_000)

    async def main() -> None:
        async with front() as f:
            client, sid, core = await f.download(len(body))
            await f.send_body(sid, body, 6000)
            await f.worker.send(p.ResponseEnd(sid))
            status, _headers, got = await client
            assert (status, got) == (200, body)
            granted = sum(c.size for c in f.worker.of(sid, p.ResponseCredit))
            assert granted >= len(body) - RESPONSE_WINDOW
            assert core.outcome is p.Outcome.DONE

    run(main())


def test_a_client_that_takes_a_whole_window_at_once_gets_it_doubled_once() -> None:
    """The credit's round trip, not the client, limits a fast stream: its window doubles,
    once, when a whole window went to the client without it making the front wait."""
    body = os.urandom(10 * RESPONSE_WINDOW)

    async def main() -> None:
        async with front() as f:
            client, sid, core = await f.download(len(body))
            await f.send_body(sid, body[:-1], 4096)
            # The client has taken everything so far: all of it is granted back, and the
            # credit the worker holds is the whole window, which has doubled.
            await f.worker.until(lambda: core.peer_credit == 2 * RESPONSE_WINDOW)
            await f.worker.send(p.ResponseBody(sid, body[-1:]), p.ResponseEnd(sid))
            status, _headers, got = await client
            assert (status, got) == (200, body)
            with contextlib.suppress(TimeoutError):  # and it never grows again
                await f.worker.until(lambda: core.peer_credit > 2 * RESPONSE_WINDOW, 0.3)
            assert core.peer_credit <= 2 * RESPONSE_WINDOW

    run(main())


def test_a_client_that_makes_the_front_wait_keeps_the_window() -> None:
    """A client that reads nothing for a while makes the front wait before a window is
    through (the kernel's socket buffers take a few MB of it): its window never grows, however
    fast it reads afterwards, so the front never holds more than one window of its body."""
    # Larger than all the kernel can buffer on the front's side (its send buffer's limit).
    window = max(8 << 20, 2 * int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2]))
    body = b"x" * (2 * window)

    async def read_later(sock: socket.socket) -> int:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0.5)
        got = 0
        while data := await loop.sock_recv(sock, 1 << 20):
            got += len(data)
        return got

    async def main() -> None:
        async with front(window) as f:
            port = int(f.base.rsplit(":", 1)[1])
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            loop = asyncio.get_running_loop()
            await loop.sock_connect(sock, ("127.0.0.1", port))
            await loop.sock_sendall(sock, b"GET /late HTTP/1.1\r\nHost: x\r\n"
                                          b"Connection: close\r\n\r\n")
            reader = asyncio.create_task(read_later(sock))
            head = await f.request_head()
            sid, core = head.stream, f.worker.cores[head.stream]
            await f.worker.send(p.ResponseHead(sid, 200, [], len(body)))
            await f.send_body(sid, body[:-1], 256 << 10)
            # The client has read all but the last byte: everything is granted back, and the
            # credit the worker holds is the window, not twice it.
            await f.worker.until(lambda: core.peer_credit >= window, 30)
            with contextlib.suppress(TimeoutError):
                await f.worker.until(lambda: core.peer_credit > window, 0.3)
            assert core.peer_credit == window
            await f.worker.send(p.ResponseBody(sid, body[-1:]), p.ResponseEnd(sid))
            got = await asyncio.wait_for(reader, 30)
            sock.close()
            assert got > len(body)  # head and body: the client read everything in the end

    run(main())


def test_an_error_before_the_head_is_the_clients_answer() -> None:
    async def main() -> None:
        async with front() as f:
            client = asyncio.create_task(fetch(f.base + "/busy"))
            sid = (await f.request_head()).stream
            await f.worker.send(p.ResponseError(sid, 503, "Too busy to answer."))
            status, _headers, body = await client
            assert (status, body) == (503, b"Too busy to answer.\n")

    run(main())


def test_a_worker_that_breaks_the_protocol_gets_a_502() -> None:
    async def main() -> None:
        async with front() as f:
            client = asyncio.create_task(fetch(f.base + "/broken"))
            sid = (await f.request_head()).stream
            await f.worker.send(p.ResponseBody(sid, b"body before head"), raw=True)
            status, _headers, body = await client
            assert status == 502 and b"broke the protocol" in body
            # The front gave up on the stream: the worker hears CANCEL.
            await f.worker.until(lambda: f.worker.of(sid, p.Cancel))

    run(main())


def test_a_head_that_would_inject_a_field_is_a_502() -> None:
    """A worker's header with CR or LF (the runtime's Headers refuse it; a forged frame
    does not), in a whole answer, a streamed one or a bodyless 204: the client gets a 502,
    and the connection serves the next request."""
    async def main() -> None:
        async with front() as f, aiohttp.ClientSession() as session:
            async def get(path: str) -> tuple[int, bytes]:
                async with session.get(f.base + path) as r:
                    return r.status, await r.read()

            client = asyncio.create_task(get("/inject"))
            sid = (await f.request_head()).stream
            await f.worker.send(p.ResponseComplete(sid, 200, [["X-A", "a\r\nX-Injected: 1"]],
                                                   b"hello"))
            status, body = await client
            assert status == 502 and b"not valid HTTP" in body
            client = asyncio.create_task(get("/streamed"))  # a head with a body to come
            sid = (await f.request_head(2)).stream
            await f.worker.send(p.ResponseHead(sid, 200, [["X-A\nX-Injected", "1"]], -1))
            status, body = await client
            assert status == 502 and b"not valid HTTP" in body
            client = asyncio.create_task(get("/empty"))  # a 204: aiohttp writes its head
            sid = (await f.request_head(3)).stream
            await f.worker.send(p.ResponseComplete(sid, 204, [["X-A", "a\rb"]], b""))
            status, body = await client
            assert status == 502 and b"not valid HTTP" in body
            client = asyncio.create_task(get("/next"))
            sid = (await f.request_head(4)).stream
            await f.worker.send(p.ResponseComplete(sid, 200, [["X-A", "b"]], b"fine"))
            assert await client == (200, b"fine")

    run(main())


def test_a_client_that_leaves_cancels_the_stream() -> None:
    async def main() -> None:
        async with front() as f, aiohttp.ClientSession() as session:
            client = asyncio.create_task(session.get(f.base + "/slow"))
            sid = (await f.request_head()).stream
            await f.worker.send(p.ResponseHead(sid, 200, [], -1), p.ResponseBody(sid, b"first"))
            response = await client
            assert await response.content.readexactly(5) == b"first"
            response.close()  # the client hangs up mid-body
            await f.worker.until(lambda: f.worker.cores[sid].finished)
            cancel = f.worker.of(sid, p.Cancel)[0]
            assert cancel.reason and f.worker.cores[sid].outcome is p.Outcome.CANCELLED

    run(main())
