"""A worker writing a response body into the client's socket (RESPONSE_DIRECT), in-process:
a real :class:`Worker` with V8 on a ZeroMQ socket the test speaks the protocol on (its frames
checked by the test's stream cores), and the supervisor's real hand-over listener, through
which the test answers with one end of a socket pair standing in for the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import zmq
import zmq.asyncio

from isoflow import protocol as p
from isoflow.isolate_worker.bridge import BridgeConfig
from isoflow.isolate_worker.direct import DIRECT_AFTER
from isoflow.isolate_worker.worker import Worker, WorkerOptions
from isoflow.supervisor.handover import Handovers
from tests.conftest import run
from tests.inprocess.peer import Peer
from tests.test_direct import read_all

SCRIPT = """
addEventListener("fetch", (event) => event.respondWith(handle(event.request)));
function pattern(from, n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) % 251;
  return b;
}
async function handle(request) {
  const url = new URL(request.url);
  const total = Number(url.searchParams.get("n"));
  if (url.pathname === "/at-once") {  // the whole body enqueued before the first pump ends
    return new Response(new ReadableStream({ start(c) {
      for (let sent = 0; sent < total; sent += 65536)
        c.enqueue(pattern(sent, Math.min(65536, total - sent)));
      c.close();
    } }));
  }
  let sent = 0;
  const headers = url.searchParams.has("length") ? { "content-length": String(total) } : {};
  return new Response(new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(65536, total - sent);
      c.enqueue(pattern(sent, n));
      sent += n;
    },
    cancel(reason) { console.log(`cancelled: ${reason.message}`); },
  }), { headers });
}
"""


def expected(n: int) -> bytes:
    return bytes(i % 251 for i in range(251)) * (n // 251) + bytes(range(n % 251))


@contextlib.asynccontextmanager
async def linked() -> AsyncIterator[tuple[Worker, Peer, Handovers]]:
    directory = Path(tempfile.mkdtemp(prefix="isoflow-d-"))
    script = directory / "worker.js"
    script.write_text(SCRIPT)
    endpoint = f"ipc://{directory}/workers.sock"
    handovers = Handovers(directory / "handover.sock")
    assert handovers.start()
    context = zmq.asyncio.Context()
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    router.bind(endpoint)
    worker = Worker(WorkerOptions(endpoint, "inproc/w0.1", script,
                                  bridge=BridgeConfig(worker_id="inproc/w0.1"),
                                  handover=str(directory / "handover.sock")))
    try:
        worker.start()
        peer = Peer(router, p.Role.SUPERVISOR)
        await peer.until(lambda: peer.frames)
        peer.window = peer.frames[0].window
        yield worker, peer, handovers
    finally:
        try:
            await worker.close()
        finally:
            handovers.close()
            context.destroy(linger=0)
            shutil.rmtree(directory, ignore_errors=True)


def head(sid: int, path: str) -> p.RequestHead:
    return p.RequestHead(sid, f"req-{sid}", "GET", f"http://worker.test{path}",
                         [["host", "worker.test"]], "127.0.0.1", False, 1 << 20)


async def take_frames(peer: Peer, sid: int, taken: int = 0) -> int:
    """Play a client that takes every framed chunk at once (``taken`` bytes of them so
    far), until the worker asks for the socket or the stream ends; bytes taken."""
    core = peer.cores[sid]
    while not core.finished and core.response is not p.Phase.DIRECT:
        await peer.receive()
        got = len(peer.body(sid))
        if got > taken:
            await peer.consumed(sid, got - taken)
            taken = got
    return taken


def test_a_long_body_asks_for_the_socket_and_goes_on_in_it() -> None:
    n = 3 << 20

    async def main() -> None:
        async with linked() as (_worker, peer, handovers):
            await peer.send(head(1, f"/?n={n}"))
            await take_frames(peer, 1)
            assert peer.of(1, p.ResponseDirect)
            framed = len(peer.body(1))
            assert DIRECT_AFTER <= framed < n
            ours, client = socket.socketpair()
            with ours, client:
                assert handovers.answer(os.getpid(), 1, ours.fileno(), True, 5.0)
                reading = asyncio.get_running_loop().run_in_executor(None, read_all, client)
                await peer.until(lambda: peer.cores[1].finished)
                (end,) = peer.of(1, p.DirectEnd)
                assert framed + end.written == n
                ours.shutdown(socket.SHUT_WR)  # the worker closed its copy: ours ends it
                chunked = await reading
            body, pos = bytearray(), 0
            while pos < len(chunked):  # HTTP/1.1 chunks, without the last (the front's)
                line = chunked.index(b"\r\n", pos)
                size = int(chunked[pos:line], 16)
                body += chunked[line + 2:line + 2 + size]
                pos = line + 2 + size + 2
            assert peer.body(1) + bytes(body) == expected(n)

    run(main())


def test_a_refusal_sends_the_kept_chunks_and_the_rest_as_frames() -> None:
    n = 3 << 20

    async def main() -> None:
        async with linked() as (_worker, peer, handovers):
            await peer.send(head(2, f"/?n={n}"))
            taken = await take_frames(peer, 2)
            core = peer.cores[2]
            core.direct_refused()
            assert handovers.answer(os.getpid(), 2, None)
            await take_frames(peer, 2, taken)
            assert core.outcome is p.Outcome.DONE and peer.of(2, p.ResponseEnd)
            assert peer.body(2) == expected(n)

    run(main())


def test_a_body_that_ends_in_its_first_pump_does_not_ask() -> None:
    n = 600_000

    async def main() -> None:
        async with linked() as (_worker, peer, _handovers):
            await peer.send(head(3, f"/at-once?n={n}"))
            await take_frames(peer, 3)
            assert peer.cores[3].outcome is p.Outcome.DONE
            assert not peer.of(3, p.ResponseDirect) and peer.body(3) == expected(n)

    run(main())


def test_a_body_whose_length_leaves_little_after_the_threshold_does_not_ask() -> None:
    async def main() -> None:
        async with linked() as (_worker, peer, _handovers):
            # 1 MiB goes in the first pump (the window): 100 KB are left, too few to pay
            # for the hand-over; 3 MiB with a length leave plenty, and ask.
            await peer.send(head(5, "/?n=1148576&length"), head(6, "/?n=3145728&length"))
            await take_frames(peer, 5)
            await take_frames(peer, 6)
            assert peer.cores[5].outcome is p.Outcome.DONE and not peer.of(5, p.ResponseDirect)
            assert peer.body(5) == expected(1148576)
            assert peer.of(6, p.ResponseDirect)

    run(main())


def test_a_cancel_closes_the_worker_s_copy_and_stops_the_script() -> None:
    async def main() -> None:
        async with linked() as (worker, peer, handovers):
            await peer.send(head(4, "/?n=1000000000"))
            await take_frames(peer, 4)
            ours, client = socket.socketpair()
            with ours, client:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
                assert handovers.answer(os.getpid(), 4, ours.fileno(), False, 30.0)
                await asyncio.sleep(0.2)  # the worker writes until the socket is full
                await peer.cancel(4, "client gone")
                await peer.until(lambda: any(m.startswith("cancelled") for m in peer.logs()))
                assert 4 not in worker.streams
                ours.close()  # the worker's copy is closed too: the client sees the end
                client.setblocking(False)
                data = bytearray()
                with contextlib.suppress(BlockingIOError):
                    while chunk := client.recv(1 << 20):
                        data += chunk
                assert len(data) > 0 and client.recv(1) == b""

    run(main())
