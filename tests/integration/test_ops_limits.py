"""Per-request and per-isolate limits from the config file: each one tripped, and the service
healthy afterwards. One server (one worker, tight limits) serves the module's tests."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import aiohttp
import pytest

from tests.conftest import run
from tests.integration.ops_support import OpsServer, get, metric

SCRIPT = """
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/slow") { console.log("slow started"); await sleep(2000); return new Response("slow done"); }
    if (path === "/upload") { const b = await request.arrayBuffer(); return new Response(`got ${b.byteLength}`); }
    if (path === "/spin") { while (true) {} }
    if (path === "/oom") { const a = []; while (true) a.push(new Array(100000).fill(1.5)); }
    if (path.endsWith("/hang")) { return new Promise(() => {}); }
    if (path === "/many") {
      const out = [];
      for (let i = 0; i < 4; i++) {
        try { await (await fetch(url.searchParams.get("u"))).text(); out.push("ok"); }
        catch (e) { out.push(String(e.message)); }
      }
      return Response.json(out);
    }
    globalThis.count = (globalThis.count ?? 0) + 1;
    return new Response(`alive ${globalThis.count}`);
  },
};
"""

CONFIG = """
[server]
max_header_size = "1KiB"

[[listeners]]
port = @PORT@

[metrics]
port = @METRICS@

[scripts.app]
path = "limits.mjs"
workers = 1

[scripts.app.limits]
cpu_time = 0.3
memory = "64MiB"
wall_time = 3
max_body_size = "100KiB"
max_concurrent = 1
queue_size = 1
queue_timeout = 0.5
max_subrequests = 2

[scripts.app.fetch]
allow_loopback = true

[[routes]]
script = "app"

[[routes]]
path = "/short"
wall_time = 0.5
script = "app"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[OpsServer]:
    tmp = tmp_path_factory.mktemp("limits")
    (tmp / "limits.mjs").write_text(SCRIPT)
    srv = OpsServer(tmp, CONFIG, 0, None).start()
    yield srv
    srv.stop()


def healthy(server: OpsServer) -> bool:
    status, _, body = run(get(server.url("/")))
    return status == 200 and body.startswith(b"alive")


def raw_request(server: OpsServer, head: bytes, body: bytes = b"") -> bytes:
    """Send bytes on a fresh connection; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data:
            got = sock.recv(65536)
            if not got:
                break
            data += got
        return data


def test_content_length_over_the_limit_gets_413_before_the_body_is_read(server):
    answer = raw_request(server, b"POST /upload HTTP/1.1\r\nHost: x\r\n"
                                 b"Content-Length: 1000000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"larger than 102400 bytes" in answer or b"Content-Length" in answer
    assert healthy(server)


def test_streamed_upload_over_the_limit_gets_413_while_streaming(server):
    async def upload():
        async def chunks():
            for _ in range(20):
                yield b"x" * 16384  # 320 KiB in all, chunked: no Content-Length
        async with aiohttp.ClientSession() as s:
            try:
                async with s.post(server.url("/upload"), data=chunks()) as r:
                    return r.status, await r.text()
            except aiohttp.ClientError as e:  # the server may close before we finish
                return None, repr(e)

    status, text = run(upload())
    assert status == 413, text
    assert "larger than 102400 bytes" in text
    server.wait_log("request body over 102400 bytes")  # found while streaming
    assert healthy(server)


def test_an_upload_within_the_limit_is_served(server):
    status, _, body = run(get(server.url("/upload"), method="POST", data=b"y" * 100_000))
    assert (status, body) == (200, b"got 100000")


def test_oversized_header_fields_get_431_and_the_service_stays_healthy(server):
    answer = raw_request(server, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2048 + b"\r\n\r\n")
    assert answer.split(b"\r\n")[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert b"larger than 1024 bytes" in answer
    assert healthy(server)


def test_cpu_limit_from_the_config_gets_503_and_a_fresh_isolate(server):
    status, _, body = run(get(server.url("/spin")))
    assert status == 503 and b"CPU time limit" in body
    assert healthy(server)


def test_memory_limit_from_the_config_gets_503_and_a_fresh_isolate(server):
    status, _, body = run(get(server.url("/oom")))
    assert status == 503 and b"memory limit" in body
    assert healthy(server)


def test_wall_time_is_per_route(server):
    async def both():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        short = await get(server.url("/short/hang"))
        t1 = loop.time()
        default = await get(server.url("/hang"))
        return short, default, t1 - t0

    short, default, _ = run(both())
    assert short[0] == 504 and b"did not respond in time" in short[2]
    assert default[0] == 504
    server.wait_log(r"no response within 0\.5 s")
    server.wait_log(r"no response within 3\.0 s")
    assert healthy(server)


def test_a_full_queue_gets_503_with_retry_after(server):
    async def scenario():
        async with aiohttp.ClientSession() as s:
            first = asyncio.ensure_future(s.get(server.url("/slow")))
            await wait_for_metric(server, "isoflow_requests_in_flight", 1, route="*/")
            second = asyncio.ensure_future(s.get(server.url("/")))  # queued behind it
            await wait_for_metric(server, "isoflow_queued_requests", 1, script="app")
            async with s.get(server.url("/")) as third:  # the queue (1) is full
                status3, retry3 = third.status, third.headers.get("Retry-After")
            r2 = await second
            r1 = await first
            return r1.status, r2.status, status3, retry3

    first, second, third, retry = run(scenario())
    assert first == 200
    assert third == 503 and retry == "1"
    assert second == 503  # it waited queue_timeout (0.5 s) for a worker busy for 2 s
    assert healthy(server)


def test_subrequests_are_limited_by_the_config(server, upstream):
    status, _, body = run(get(server.url(f"/many?u={upstream.url('/text')}")))
    assert status == 200
    out = json.loads(body)
    assert out[:2] == ["ok", "ok"]
    assert all("too many subrequests" in m for m in out[2:]), out


async def wait_for_metric(server: OpsServer, name: str, value: float, **labels: str) -> None:
    for _ in range(200):
        _, _, body = await get(server.metrics_url())
        if metric(body.decode(), name, **labels) >= value:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name}{labels} never reached {value}")
