"""The upstream server killed mid-body, and clients that vanish mid-upload and mid-download.

Neither is the worker's fault: no worker may die or be restarted, every affected response
fails visibly, every other request is untouched, and afterwards nothing is left behind -
not in the supervisor (stream table, memory), not in the workers (live JS streams), not
at the upstream (its connections are closed when nobody reads them any more).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from tests.chaos.support import (
    CHUNK,
    Req,
    UpstreamProcess,
    assert_no_silent_failure,
    assert_untouched,
    config,
    make_wave,
    period_digest,
    run_wave,
    summary,
    wait_until,
    worker_live_counts,
)
from tests.conftest import run
from tests.integration.ops_support import get
from tests.procstats import rss

WORKERS = 2
MEMORY_SLACK_KIB = 30 << 10


def _long_proxies(rng, n: int) -> list[Req]:
    """Proxied bodies of about 4 MiB at 16 KiB per 20 ms: 5 s each, far longer than the test."""
    wave = []
    for i in range(n):
        size = 256 * CHUNK - rng.randint(0, 1000)
        route = ("/proxy", "/proxy-js")[i % 2]
        wave.append(Req("proxy", "GET", f"{route}?n={size}&delay=20&cl={i // 2 % 2}",
                        period_digest(size)))
    return wave


def test_upstream_killed_mid_body(ops, rng, seed):
    upstream = UpstreamProcess()
    try:
        server = ops(config(upstream.port, WORKERS))
        base = server.url("").rstrip("/")
        pids = server.worker_pids()

        async def kill_upstream(tasks):
            await asyncio.sleep(0.8 + rng.uniform(0, 0.4))
            upstream.kill()

        outcomes = run(run_wave(base, _long_proxies(rng, 40), timeout=20.0,
                                during=kill_upstream))
    finally:
        upstream.stop()
    print(f"seed {seed}: {summary(outcomes)}")
    assert_no_silent_failure(outcomes, seed)
    # Every body was cut short by the upstream's death, and every client could tell.
    assert {o.result for o in outcomes} == {"broken"}, summary(outcomes)
    assert_untouched(server, pids)
    assert run(get(server.url("/")))[2] == b"hello"
    assert set(run(worker_live_counts(base, WORKERS)).values()) == {1}


async def _vanish(port: int, request: bytes, read: int, send: int, rst: bool) -> None:
    """Send a request (and ``send`` more bytes of body), read ``read`` bytes, then leave."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    # Bounded: an echo nobody reads stops the upload too (backpressure), so stop trying.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            sent = 0
            while sent < send:
                writer.write(b"v" * CHUNK)
                sent += CHUNK
                await writer.drain()
                await asyncio.sleep(0.002)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2.0):
            got = 0
            while got < read:
                data = await reader.read(65536)
                if not data:
                    break
                got += len(data)
    if rst:  # a reset, as when a process dies or a NAT forgets the flow
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


def test_clients_vanishing_mid_upload_and_mid_download(ops, chaos_upstream, rng, seed):
    server = ops(config(chaos_upstream.port, WORKERS))
    base = server.url("").rstrip("/")
    warm = run(run_wave(base, make_wave(rng, 60)))
    assert {o.result for o in warm} == {"ok"}, summary(warm)
    baseline = rss(server.pid) >> 10
    pids = server.worker_pids()

    host = b"Host: x\r\n"
    vanishers = []
    for i in range(36):
        rst = bool(i % 2)
        kind = i % 3
        if kind == 0:  # mid-download of a body generated in JS
            req = b"GET /gen?n=400&delay=5 HTTP/1.1\r\n" + host + b"\r\n"
            vanishers.append((req, rng.randint(1, 40) * CHUNK, 0, rst))
        elif kind == 1:  # mid-download of a proxied body (the upstream must hear of it)
            route = (b"/proxy", b"/proxy-js")[i % 2]
            req = b"GET " + route + b"?n=8000000&delay=5 HTTP/1.1\r\n" + host + b"\r\n"
            vanishers.append((req, rng.randint(1, 40) * CHUNK, 0, rst))
        else:  # mid-upload of a body echoed back
            req = (b"POST /echo HTTP/1.1\r\n" + host + b"Content-Length: 8000000\r\n\r\n")
            vanishers.append((req, rng.randint(0, 8) * CHUNK, rng.randint(1, 60) * CHUNK,
                              rst))

    async def scenario():
        normal = asyncio.ensure_future(run_wave(base, make_wave(rng, 60), timeout=30.0))
        await asyncio.gather(*(_vanish(server.port, *v) for v in vanishers))
        return await normal

    outcomes = run(scenario())
    print(f"seed {seed}: 36 clients vanished; the others: {summary(outcomes)}")
    assert {o.result for o in outcomes} == {"ok"}, summary(outcomes)
    # Downloads nobody reads any more were cancelled all the way to the upstream.
    wait_until(lambda: chaos_upstream.active() == 0, 10, "the upstream to see every close")
    assert_untouched(server, pids)
    assert set(run(worker_live_counts(base, WORKERS)).values()) == {1}
    grown = (rss(server.pid) >> 10) - baseline
    assert grown < MEMORY_SLACK_KIB, f"seed {seed}: supervisor RSS grew {grown} KiB"
