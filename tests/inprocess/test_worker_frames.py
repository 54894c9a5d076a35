"""The worker's frame handling in-process: a real :class:`Worker` (isolate_worker/worker.py)
with a real bridge and V8, linked over a real ZeroMQ socket pair to a ROUTER the test binds
and speaks the protocol on, as the supervisor would. The test's side checks every frame
against its own stream core (tests/inprocess/peer.py): the worker's frames must respect
phase and credit, and so must the test's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import zmq
import zmq.asyncio

from isoflow import protocol as p
from isoflow.isolate_worker.bridge import BridgeConfig
from isoflow.isolate_worker.worker import Worker, WorkerOptions
from tests.conftest import run
from tests.inprocess.peer import Peer

REQUEST_WINDOW = 8 << 10  # what the worker says in HELLO
WORKER_ID = "inproc/w0.1"
SCRIPT = """
addEventListener("fetch", (event) => event.respondWith(handle(event.request)));
async function handle(request) {
  const url = new URL(request.url);
  if (url.pathname === "/echo") return new Response(request.body);
  if (url.pathname === "/endless") {
    return new Response(new ReadableStream({
      pull(c) { c.enqueue(new Uint8Array(1000).fill(97)); },
      cancel(reason) { console.log(`cancelled: ${reason.message}`); },
    }));
  }
  return new Response(`hello ${request.method} ${url.pathname}`);
}
"""


@contextlib.asynccontextmanager
async def linked() -> AsyncIterator[tuple[Worker, Peer, p.Hello]]:
    """A started worker connected to the test's ROUTER; its HELLO received."""
    # A short directory: an ipc:// path may have about 100 bytes.
    directory = Path(tempfile.mkdtemp(prefix="isoflow-w-"))
    script = directory / "worker.js"
    script.write_text(SCRIPT)
    endpoint = f"ipc://{directory}/workers.sock"
    context = zmq.asyncio.Context()
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    router.bind(endpoint)
    bridge = BridgeConfig(request_window=REQUEST_WINDOW, worker_id=WORKER_ID)
    worker = Worker(WorkerOptions(endpoint, WORKER_ID, script, bridge=bridge))
    try:
        worker.start()
        peer = Peer(router, p.Role.SUPERVISOR)
        await peer.until(lambda: peer.frames)
        hello = peer.frames[0]
        assert isinstance(hello, p.Hello)
        peer.window = hello.window
        yield worker, peer, hello
    finally:
        try:
            await worker.close()
        finally:  # an open socket left to the garbage collector would hang the test run
            context.destroy(linger=0)
            shutil.rmtree(directory, ignore_errors=True)


def head(sid: int, path: str, *, method: str = "GET", body: bool = False,
         window: int = 1 << 20) -> p.RequestHead:
    return p.RequestHead(sid, f"req-{sid}", method, f"http://worker.test{path}",
                         [["host", "worker.test"]], "127.0.0.1", body, window)


def test_hello_names_the_worker_and_ping_gets_its_stats() -> None:
    async def main() -> None:
        async with linked() as (_worker, peer, hello):
            assert (hello.stream, hello.worker, hello.pid, hello.window) == \
                (0, WORKER_ID, os.getpid(), REQUEST_WINDOW)
            await peer.send(p.Ping(0, 7))
            await peer.until(lambda: peer.of(0, p.Pong))
            pong = peer.of(0, p.Pong)[0]
            assert pong.seq == 7 and pong.stats["streams"] == 0

    run(main())


def test_a_small_response_comes_back_in_one_frame() -> None:
    """Head, body and end made in one pump leave as one RESPONSE_COMPLETE."""
    async def main() -> None:
        async with linked() as (worker, peer, _hello):
            await peer.send(head(1, "/hi"))
            await peer.until(lambda: peer.cores[1].finished)
            [frame] = peer.of(1)
            assert type(frame) is p.ResponseComplete and frame.status == 200
            assert ["Content-Type", "text/plain;charset=UTF-8"] in frame.headers
            assert peer.body(1) == b"hello GET /hi"
            assert peer.cores[1].outcome is p.Outcome.DONE
            assert worker.requests == 1

    run(main())


def test_bodies_flow_both_ways_under_credit() -> None:
    """A 40 KB upload echoed through an 8 KiB request window and a 4,000-byte response
    window: the test sends only what the worker granted, the worker only what the test
    granted (both cores check it), and every byte arrives once, in order."""
    body = os.urandom(40_000)

    async def main() -> None:
        async with linked() as (worker, peer, _hello):
            await peer.send(head(2, "/echo", method="POST", body=True, window=4000))
            core = peer.cores[2]
            sent = taken = 0
            while not core.finished:
                while sent < len(body) and core.peer_credit > 0:
                    n = min(core.peer_credit, 3000, len(body) - sent)
                    await peer.send(p.RequestBody(2, body[sent:sent + n]))
                    sent += n
                    if sent == len(body):
                        await peer.send(p.RequestEnd(2))
                await peer.receive()
                got = len(peer.body(2))
                if got > taken:  # the client took it: credit goes back as the core says
                    await peer.consumed(2, got - taken)
                    taken = got
            assert core.outcome is p.Outcome.DONE
            assert peer.body(2) == body
            assert sum(f.size for f in peer.of(2, p.RequestCredit)) >= len(body) - REQUEST_WINDOW
            await peer.send(p.Ping(0, 1))  # the worker forgets the stream once JS is done
            await peer.until(lambda: 2 not in worker.streams and peer.of(0, p.Pong))

    run(main())


def test_cancel_stops_the_script_and_late_frames_are_dropped() -> None:
    async def main() -> None:
        async with linked() as (worker, peer, _hello):
            await peer.send(head(3, "/endless", window=3000))
            await peer.until(lambda: len(peer.body(3)) >= 3000)
            await peer.cancel(3, "client gone")
            await peer.until(lambda: any(m.startswith("cancelled") for m in peer.logs()))
            assert "cancelled: The client went away: client gone" in peer.logs()
            assert 3 not in worker.streams
            # Credit that crossed the CANCEL is late for the worker: nothing more is sent.
            await peer.send(p.ResponseCredit(3, 10_000), raw=True)
            await peer.send(head(4, "/after"))
            await peer.until(lambda: peer.cores[4].finished)
            assert len(peer.body(3)) == 3000 and not peer.of(3, p.ResponseEnd)
            assert peer.body(4) == b"hello GET /after"

    run(main())


def test_a_drained_worker_says_goodbye_after_its_last_frame() -> None:
    """GOODBYE closes the link: the supervisor, told of the exit by another pipe, waits
    for it so that nothing the worker sent before is taken for a crash."""
    async def main() -> None:
        async with linked() as (worker, peer, _hello):
            await peer.send(head(7, "/endless", window=3000))
            await peer.until(lambda: len(peer.body(7)) >= 3000)
            await peer.send(p.Shutdown(0, 0.05))
            await worker.stopped.wait()
            await worker.close()
            await peer.until(lambda: peer.of_type(p.Goodbye))
            assert type(peer.frames[-1]) is p.Goodbye and peer.frames[-1].stream == 0
            assert len(peer.of_type(p.Goodbye)) == 1

    run(main())


def test_a_supervisor_beyond_its_credit_fails_only_that_stream() -> None:
    async def main() -> None:
        async with linked() as (_worker, peer, _hello):
            await peer.send(head(5, "/echo", method="POST", body=True))
            await peer.send(p.RequestBody(5, b"x" * (REQUEST_WINDOW + 1)), raw=True)
            await peer.until(lambda: peer.cores[5].finished)
            error = peer.of(5, p.ResponseError)[0]
            assert error.status == 502 and "protocol error" in error.message
            assert "credit" in error.message
            await peer.send(head(6, "/next"))
            await peer.until(lambda: peer.cores[6].finished)
            assert peer.body(6) == b"hello GET /next"

    run(main())


def test_a_batch_is_served_and_a_malformed_message_is_dropped() -> None:
    """Several frames in one message are each handled; a message that is not frames is
    logged and dropped, and the worker goes on."""

    async def main() -> None:
        async with linked() as (_worker, peer, _hello):
            await peer.sock.send_multipart([peer.identity, b"\x93\x01\x02", b"junk"])
            await peer.send(head(7, "/a"), head(8, "/b"), p.Ping(0, 2))
            await peer.until(lambda: peer.cores[7].finished and peer.cores[8].finished)
            assert (peer.body(7), peer.body(8)) == (b"hello GET /a", b"hello GET /b")

    run(main())
