"""The floor of isoflow's design: what a hello request costs in the libraries alone.

    .venv/bin/python bench/floor.py [--duration 5] [--runs 3]

isoflow's hot path is aiohttp (the front) -> ZeroMQ -> a worker process -> mini-racer's V8
thread and back. This bench builds the same hops with nothing of isoflow in them and drives
each with wrk (-t2 -c50), beside isoflow itself (``examples/hello.js``, one worker) in the
same run:

  * ``bare``: a uvloop protocol answering every request head it reads with a fixed
    response, no HTTP parser: the floor of any HTTP server on this event loop (the kernel's
    reads and writes, the loop's callbacks);
  * ``aiohttp``: aiohttp's low-level ``web.Server`` answering a fixed response;
  * ``aiohttp-write``: the same, its handler writing the response into the transport
    itself, as isoflow's front writes a whole answer (``supervisor/whole.py``); every line
    below answers this way;
  * ``+ zmq``: that server sends each request (a small msgpack message) over a ROUTER to one
    worker process, one ZeroMQ message per request, which the worker answers at once over
    its DEALER;
  * ``+ zmq, batched``: the requests of one turn of the front's loop leave as one message
    and the worker answers each message's requests at once, as isoflow's channel and link
    batch (``supervisor/channel.py``, ``isolate_worker/link.py``);
  * ``+ v8``: batched, and the worker also posts each batch to a V8 isolate (mini-racer,
    the same ``mr_eval`` call isoflow's bridge makes) and answers when its result is back;
  * ``unix socket``: the batched hop over a plain Unix stream socket instead of ZeroMQ
    (not isoflow's design, which is fixed on ZeroMQ: the line says what ZeroMQ's I/O
    threads and mailboxes cost on top of the kernel's socket).

Each line gives requests/s and CPU microseconds per request of the front and of the worker
(user + system time from /proc over the run, divided by the requests served). What isoflow
spends above the last line is its own code; what the last line spends is the floor of the
libraries the design is built on, on this machine. The last column times the first body byte
of a request on a fresh connection, back to back and after 100 ms of idleness: on a shared
VM a request to processes that slept is several times slower than to busy ones (wake-ups on
idle cores, caches others have filled), for the floor as for isoflow.

Then the memory floor: the idle RSS of a process with Python and the libraries a worker
imports (aiohttp, ZeroMQ, uvloop, msgpack), then with an empty V8 isolate, then with
isoflow's runtime loaded into it (``Bridge``), beside an idle isoflow worker's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from _harness import REPO, free_port, isoflow

sys.path.insert(0, str(REPO / "bench" / "compare"))
from measure import cpu_seconds, first_byte, median, wrk

from tests.procstats import descendants, rss

BODY = b"Hello, world!\n"


# --- the processes (run as `floor.py --serve KIND PORT ENDPOINT`) -------------------------

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n%s"
            % (len(BODY), BODY))


def serve_bare(port: int) -> None:
    """Answers every request head it reads (and closes after a ``Connection: close``);
    bodies and malformed requests are not its business (wrk sends neither)."""
    import uvloop

    class Bare(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport
            self.pending = b""

        def data_received(self, data: bytes) -> None:
            data = self.pending + data
            heads = data.count(b"\r\n\r\n")
            self.pending = data[data.rfind(b"\r\n\r\n") + 4:] if heads else data
            if heads:
                self.transport.write(RESPONSE * heads)
                if b"connection: close" in data.lower():  # bench/compare's first_byte
                    self.transport.close()

    async def main() -> None:
        await asyncio.get_running_loop().create_server(Bare, "127.0.0.1", port,
                                                       reuse_address=True)
        await asyncio.Event().wait()

    uvloop.run(main())


def serve_front(kind: str, port: int, endpoint: str) -> None:
    """aiohttp's low-level server; with a worker, each request is one message to it."""
    import msgpack
    import uvloop
    import zmq
    from aiohttp import web

    from isoflow.isolate_worker.link import EdgeReader
    from isoflow.supervisor.whole import WholeResponse

    if kind == "bare":
        serve_bare(port)
        return
    if kind == "unix":
        serve_front_unix(port, endpoint)
        return

    async def main() -> None:
        loop = asyncio.get_running_loop()
        waiting: dict[int, asyncio.Future] = {}
        sock = None
        if kind in ("zmq", "zmq-batch", "v8"):
            sock = zmq.Context.instance().socket(zmq.ROUTER)
            sock.bind(endpoint)
            peer: list[bytes] = []

            def on_message(parts: list) -> None:
                if not peer:
                    peer.append(parts[0].bytes)
                    return  # the worker's hello
                for sid in msgpack.unpackb(parts[1].buffer):
                    fut = waiting.pop(sid, None)
                    if fut is not None and not fut.done():
                        fut.set_result(None)

            reader = EdgeReader(loop, sock, on_message)
            reader.read()
            while not peer:
                await asyncio.sleep(0.05)
        sids = iter(range(1, 1 << 62))
        pending: list[bytes] = []

        def flush() -> None:
            sock.send_multipart([peer[0], *pending])
            pending.clear()
            reader.sent()

        async def handle(request: web.BaseRequest) -> web.Response:
            if sock is not None:
                sid = next(sids)
                fut = waiting[sid] = loop.create_future()
                headers = [[k.decode("latin-1"), v.decode("latin-1")]
                           for k, v in request.raw_headers]
                message = msgpack.packb([sid, request.method, str(request.url), headers])
                if kind in ("zmq-batch", "v8"):
                    if not pending:
                        loop.call_soon(flush)
                    pending.append(message)
                else:
                    sock.send_multipart([peer[0], message])
                    reader.sent()
                await fut
            if kind != "aiohttp":  # written into the transport, as isoflow's front does
                if request.transport is not None:  # else the client left meanwhile
                    request.transport.write(RESPONSE)
                return WholeResponse(200, "OK", request.keep_alive)
            return web.Response(body=BODY, content_type="text/plain")

        server = web.Server(handle, access_log=None)
        await loop.create_server(server, "127.0.0.1", port, reuse_address=True)
        await asyncio.Event().wait()

    uvloop.run(main())


def serve_front_unix(port: int, path: str) -> None:
    """aiohttp's low-level server; each request is a msgpack message to the worker over a
    Unix stream socket, the messages of one turn of the loop in one write."""
    import msgpack
    import uvloop
    from aiohttp import web

    from isoflow.supervisor.whole import WholeResponse

    async def main() -> None:
        loop = asyncio.get_running_loop()
        waiting: dict[int, asyncio.Future] = {}
        link: list[asyncio.Transport] = []
        pending: list[bytes] = []

        class Front(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.unpacker = msgpack.Unpacker()
                link.append(transport)

            def data_received(self, data: bytes) -> None:
                self.unpacker.feed(data)
                for sids in self.unpacker:
                    for sid in sids:
                        fut = waiting.pop(sid, None)
                        if fut is not None and not fut.done():
                            fut.set_result(None)

        def flush() -> None:
            link[0].write(b"".join(pending))
            pending.clear()

        await loop.create_unix_server(Front, path)
        while not link:
            await asyncio.sleep(0.05)
        sids = iter(range(1, 1 << 62))

        async def handle(request: web.BaseRequest) -> web.Response:
            sid = next(sids)
            fut = waiting[sid] = loop.create_future()
            headers = [[k.decode("latin-1"), v.decode("latin-1")]
                       for k, v in request.raw_headers]
            if not pending:
                loop.call_soon(flush)
            pending.append(msgpack.packb([sid, request.method, str(request.url), headers]))
            await fut
            if request.transport is not None:  # else the client left meanwhile
                request.transport.write(RESPONSE)
            return WholeResponse(200, "OK", request.keep_alive)

        server = web.Server(handle, access_log=None)
        await loop.create_server(server, "127.0.0.1", port, reuse_address=True)
        await asyncio.Event().wait()

    uvloop.run(main())


def serve_worker_unix(path: str) -> None:
    """Answers the messages of each read at once, in one write."""
    import msgpack
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()

        class Worker(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport
                self.unpacker = msgpack.Unpacker()

            def data_received(self, data: bytes) -> None:
                self.unpacker.feed(data)
                sids = [message[0] for message in self.unpacker]
                if sids:
                    self.transport.write(msgpack.packb(sids))

        while True:
            try:
                await loop.create_unix_connection(Worker, path)
                break
            except OSError:  # the front is not listening yet
                await asyncio.sleep(0.05)
        await asyncio.Event().wait()

    uvloop.run(main())


def serve_worker(kind: str, endpoint: str) -> None:
    """Answers the front's messages, a batch at a time; with ``v8``, after a pump."""
    import msgpack
    import uvloop
    import zmq

    from isoflow.isolate_worker.link import EdgeReader
    from isoflow.isolate_worker.v8 import V8Context

    if kind == "unix":
        serve_worker_unix(endpoint)
        return

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.connect(endpoint)
        v8 = V8Context(loop) if kind == "v8" else None
        if v8 is not None:
            v8.eval("globalThis.pump = (n) => JSON.stringify([0, n])")
        queued: list[int] = []
        in_flight: list[bool] = [False]

        def answer(sids: list[int]) -> None:
            sock.send_multipart([msgpack.packb(sids)])
            reader.sent()

        def post() -> None:
            batch = queued[:]
            queued.clear()
            in_flight[0] = True

            def done(_value, _error) -> None:
                in_flight[0] = False
                answer(batch)
                if queued:
                    post()

            v8.post(f"pump({len(batch)})", done)

        def on_message(parts: list) -> None:
            if kind == "zmq-batch":
                answer([msgpack.unpackb(part.buffer)[0] for part in parts])
                return
            if v8 is None:
                answer([msgpack.unpackb(parts[0].buffer)[0]])
                return
            queued.extend(msgpack.unpackb(part.buffer)[0] for part in parts)
            if not in_flight[0]:
                loop.call_soon(lambda: queued and not in_flight[0] and post())

        reader = EdgeReader(loop, sock, on_message)
        sock.send(b"hello")
        reader.sent()
        reader.read()
        await asyncio.Event().wait()

    uvloop.run(main())


# --- the driver ---------------------------------------------------------------------------

@contextlib.contextmanager
def floor(kind: str) -> Iterator[tuple[str, list[int]]]:
    """Start the front (and the worker) for ``kind``; yields (url, [front pid, worker pid])."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="isoflow-floor-") as tmp:
        endpoint = f"{tmp}/link.sock" if kind == "unix" else f"ipc://{tmp}/link.sock"
        me = [sys.executable, __file__, "--serve", kind]
        procs = [subprocess.Popen([*me, str(port), endpoint], start_new_session=True)]
        if kind in ("zmq", "zmq-batch", "v8", "unix"):
            procs.append(subprocess.Popen([*me, "0", endpoint], start_new_session=True))
        try:
            deadline = time.monotonic() + 30
            while subprocess.run(["curl", "-sf", "-o", "/dev/null", "--max-time", "2",
                                  f"http://127.0.0.1:{port}/"]).returncode != 0:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError(f"the {kind} floor did not start")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/", [p.pid for p in procs]
        finally:
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def first_bytes(url: str, count: int = 15) -> tuple[float, float]:
    """Median ms from a request on a fresh connection to its first body byte: requests back
    to back, then each after 100 ms of idleness (every process asleep, as between the
    requests of a quiet service)."""
    warm = [first_byte(url).ttfb_ms for _ in range(count)]
    idle = []
    for _ in range(count):
        time.sleep(0.1)
        idle.append(first_byte(url).ttfb_ms)
    return median(warm), median(idle)


def run(url: str, fronts: list[int], workers: list[int], duration: float,
        runs: int) -> tuple[float, float, float]:
    """(median requests/s, front µs per request, worker µs per request)."""
    wrk(url, 2)  # warm-up
    rates, front_us, worker_us = [], [], []
    for _ in range(runs):
        f0 = sum(cpu_seconds(p) for p in fronts)
        w0 = sum(cpu_seconds(p) for p in workers)
        result = wrk(url, duration)
        f1 = sum(cpu_seconds(p) for p in fronts)
        w1 = sum(cpu_seconds(p) for p in workers)
        rates.append(result.requests_per_s)
        front_us.append((f1 - f0) / result.requests * 1e6)
        worker_us.append((w1 - w0) / result.requests * 1e6)
    return median(rates), median(front_us), median(worker_us)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "ENDPOINT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        kind, port, endpoint = args.serve
        if int(port):
            serve_front(kind, int(port), endpoint)
        else:
            serve_worker(kind, endpoint)
        return
    print(f"wrk -t2 -c50 -d{args.duration:g}s, median of {args.runs} runs; CPU µs per request; "
          "first byte (ms, median of 15): back to back / after 100 ms idle")
    print(f"{'setup':<28} {'requests/s':>11} {'front':>7} {'worker':>7} {'total':>7} "
          f"{'first byte':>14}")

    def line(label: str, rate: float, front: float, worker: float, url: str) -> None:
        warm, idle = first_bytes(url)
        print(f"{label:<28} {rate:>11,.0f} {front:>7.0f} {worker:>7.0f} {front + worker:>7.0f} "
              f"{warm:>6.2f} / {idle:.2f}", flush=True)

    for kind, label in (("bare", "bare uvloop protocol"), ("aiohttp", "aiohttp alone"),
                        ("aiohttp-write", "aiohttp, handler writes"),
                        ("zmq", "+ zmq hop to a worker"),
                        ("zmq-batch", "+ zmq, batched per turn"),
                        ("v8", "+ v8 pump per batch"),
                        ("unix", "(unix socket hop, batched)")):
        with floor(kind) as (url, pids):
            line(label, *run(url, pids[:1], pids[1:], args.duration, args.runs), url)
    hello = (REPO / "examples" / "hello.js").read_text()
    with isoflow(hello, workers=1, name="hello.js") as server:
        time.sleep(1.0)
        main_pid = server["pid"]
        procs = {main_pid, *descendants(main_pid)}
        workers = [p for p in procs if "isolate_worker" in _cmdline(p)]
        fronts = [p for p in procs if p not in workers]
        url = server["url"] + "/"
        line("isoflow (hello.js, 1 worker)",
             *run(url, fronts, workers, args.duration, args.runs), url)
    memory_floor()


MEMORY_PROBE = """
import asyncio, gc, sys
import aiohttp, msgpack, uvloop, zmq
from isoflow.isolate_worker.bridge import Bridge
from isoflow.isolate_worker.v8 import V8Context

async def main():
    loop = asyncio.get_running_loop()
    keep = None
    if sys.argv[1] == "v8":
        keep = V8Context(loop)
        keep.eval("1")
    elif sys.argv[1] == "runtime":
        keep = Bridge(loop, lambda action, data: None, lambda failure: None)
    gc.collect()
    await asyncio.sleep(0.5)
    print(next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmRSS")) / 1024)

uvloop.run(main())
"""


def memory_floor() -> None:
    print("\nidle RSS of one process (MiB)")
    for kind, label in (("python", "python + aiohttp, zmq, uvloop"),
                        ("v8", "+ an empty V8 isolate"), ("runtime", "+ isoflow's runtime")):
        out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, kind], capture_output=True,
                             text=True, check=True, timeout=60, cwd=REPO)
        print(f"{label:<32} {float(out.stdout):>6.1f}")
    hello = (REPO / "examples" / "hello.js").read_text()
    with isoflow(hello, workers=1, name="hello.js") as server:
        time.sleep(1.0)
        worker = next(p for p in descendants(server["pid"])
                      if "isolate_worker --" in _cmdline(p))
        print(f"{'an idle isoflow worker':<32} {rss(worker) / (1 << 20):>6.1f}")


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


if __name__ == "__main__":
    main()
