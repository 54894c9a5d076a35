"""Bodies made in JS that their worker writes into the client's socket (RESPONSE_DIRECT).

Past its first 128 KiB a generated body leaves the worker straight into the client's
connection, not as frames through the supervisor. These tests hold it to everything the
frame path promises: every byte in order under either framing, the connection kept for the
next request, a visible cut when the script, the client or the worker fails, and frames
where a socket cannot be handed over (HTTP/1.0 without a length, TLS). The metrics say
which bodies were written directly.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import random
import resource
import signal
import socket
import ssl
import time
import urllib.request

import aiohttp
import pytest
from aiohttp import web

from tests.certs import make_cert
from tests.conftest import run
from tests.integration.ops_support import metric
from tests.processes import free_port
from tests.upstream import ServerThread

SCRIPT = r"""
let cancels = 0;
function body(total, size, failAt) {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= failAt) throw new Error("the script broke its body");
      if (sent >= total) return c.close();
      const n = Math.min(size, total - sent);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (sent + i) % 251;
      c.enqueue(b);
      sent += n;
    },
    cancel() { cancels += 1; },
  });
}
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/cancels") return new Response(String(cancels));
    if (url.pathname === "/echo") {  // the upload, through the script, as the response
      return new Response(request.body.pipeThrough(new TransformStream()));
    }
    if (url.pathname === "/drip") {  // small chunks from a timer: one pump each
      let i = 0;
      const n = Number(url.searchParams.get("n"));
      return new Response(new ReadableStream({
        async pull(c) {
          if (i === n) return c.close();
          await new Promise((r) => setTimeout(r, 2));
          c.enqueue(new TextEncoder().encode(`event ${i++}\n`));
        },
      }), url.searchParams.has("length") ? { headers: { "content-length": "80" } } : {});
    }
    const q = (name, d) => Number(url.searchParams.get(name) ?? d);
    const headers = url.searchParams.has("length") ? { "content-length": String(q("bytes")) }
      : url.searchParams.has("claim") ? { "content-length": url.searchParams.get("claim") }
      : {};
    return new Response(body(q("bytes", 0), q("chunk", 65536), q("fail", Infinity)),
                        { headers });
  },
};
"""


def expected(n: int) -> bytes:
    return bytes(i % 251 for i in range(251)) * (n // 251) + bytes(range(n % 251))


def dechunk(data: bytes) -> bytes:
    """The payload of a whole chunked body (AssertionError if its last chunk is missing)."""
    body, pos = bytearray(), 0
    while True:
        line_end = data.index(b"\r\n", pos)
        size = int(data[pos:line_end].split(b";")[0], 16)
        if size == 0:
            assert data[line_end:] == b"\r\n\r\n", "no end after the last chunk"
            return bytes(body)
        body += data[line_end + 2:line_end + 2 + size]
        pos = line_end + 2 + size + 2


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def direct(serve_module, metrics_port):
    return serve_module(SCRIPT, "--metrics", f"127.0.0.1:{metrics_port}", workers=1,
                        name="direct.mjs")


def written_directly(metrics_port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
        return metric(r.read().decode(), "isoflow_direct_response_bodies_total")


def cancels(server) -> int:
    with urllib.request.urlopen(server.url("/cancels"), timeout=5) as r:
        return int(r.read())


def test_bodies_written_by_the_worker_arrive_whole_on_one_kept_alive_connection(
        direct, metrics_port):
    before = written_directly(metrics_port)
    conn = http.client.HTTPConnection("127.0.0.1", direct.port, timeout=30)
    cases = [  # (bytes, chunk size, with a Content-Length)
        (3_000_000, 65536, False), (3_000_000, 1000, True), (5 << 20, 65536, True),
        (100_000, 65536, False),  # below the threshold: frames
        (2_000_003, 4099, False),
    ]
    for n, chunk, known in cases:
        conn.request("GET", f"/?bytes={n}&chunk={chunk}" + ("&length" if known else ""))
        r = conn.getresponse()
        data = r.read()
        assert r.status == 200 and data == expected(n), (n, chunk, known)
        if known:
            assert r.getheader("content-length") == str(n)
        elif n > 200_000:
            assert r.getheader("transfer-encoding") == "chunked"
    conn.close()
    assert written_directly(metrics_port) == before + 4


def test_a_body_drip_fed_over_several_pumps_is_written_directly_too(direct, metrics_port):
    # Each chunk would otherwise cross the supervisor on its own: after a few pumps the
    # worker takes the client's socket, however small the chunks (an event stream). One
    # with a Content-Length too short to be worth it stays on frames.
    before = written_directly(metrics_port)
    conn = http.client.HTTPConnection("127.0.0.1", direct.port, timeout=30)
    conn.request("GET", "/drip?n=40")
    r = conn.getresponse()
    assert r.status == 200 and r.headers["Transfer-Encoding"] == "chunked"
    assert r.read() == b"".join(b"event %d\n" % i for i in range(40))
    assert written_directly(metrics_port) == before + 1
    conn.request("GET", "/drip?n=10&length")  # 10 lines of 8 bytes: 80
    r = conn.getresponse()
    assert r.read() == b"".join(b"event %d\n" % i for i in range(10))
    assert written_directly(metrics_port) == before + 1
    conn.close()


def test_direct_bodies_leave_a_quarter_of_the_workers_descriptors_free(serve):
    # Each direct body holds a copy of its client's socket. A worker short of descriptors
    # keeps the rest of its bodies on frames: every body arrives whole, none waits for a
    # socket the kernel could not give it.
    server = serve(SCRIPT, workers=1, name="direct.mjs")
    resource.prlimit(server.worker_pids()["w0"], resource.RLIMIT_NOFILE, (80, 80))

    async def many() -> list[bytes]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            async def one() -> bytes:
                async with s.get(server.url("/drip?n=30")) as r:
                    return await r.read()
            return await asyncio.gather(*(one() for _ in range(120)))

    bodies = run(many())
    assert bodies == [b"".join(b"event %d\n" % i for i in range(30))] * 120
    assert "Too many open files" not in server.log()


def test_an_upload_echoed_through_the_script_flows_both_ways_at_once(direct, metrics_port):
    # The response is written by the worker while the request body still comes as frames.
    before = written_directly(metrics_port)
    payload = os.urandom(12 << 20)

    async def echo() -> tuple[int, bytes]:
        async def chunks():
            for i in range(0, len(payload), 1 << 20):
                yield payload[i:i + (1 << 20)]

        async with aiohttp.ClientSession() as s, s.post(
                direct.url("/echo"), data=chunks(),
                timeout=aiohttp.ClientTimeout(total=60)) as r:
            return r.status, await r.read()

    status, body = run(echo())
    assert status == 200 and body == payload
    assert written_directly(metrics_port) == before + 1


def test_a_pipelined_request_is_answered_after_a_body_the_worker_wrote(direct):
    with socket.create_connection(("127.0.0.1", direct.port), timeout=30) as sock:
        sock.sendall(b"GET /?bytes=3000000&length HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /?bytes=2000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = bytearray()
        while chunk := sock.recv(1 << 16):
            data += chunk
    first_head, _, rest = bytes(data).partition(b"\r\n\r\n")
    assert b"Content-Length: 3000000" in first_head
    assert rest[:3_000_000] == expected(3_000_000)
    second_head, _, chunked = rest[3_000_000:].partition(b"\r\n\r\n")
    assert second_head.startswith(b"HTTP/1.1 200") and b"chunked" in second_head
    assert dechunk(chunked) == expected(2_000_000)


def test_a_body_only_the_close_delimits_stays_on_frames(direct, metrics_port):
    # HTTP/1.0 without a length: the body ends with the close, which only the supervisor
    # may make (a reset if it is cut short), so it refuses the worker its socket.
    before = written_directly(metrics_port)
    with socket.create_connection(("127.0.0.1", direct.port), timeout=30) as sock:
        sock.sendall(b"GET /?bytes=3000000 HTTP/1.0\r\nHost: x\r\n\r\n")
        data = bytearray()
        while chunk := sock.recv(1 << 16):
            data += chunk
    head, _, rest = bytes(data).partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"200" and b"Transfer-Encoding" not in head
    assert rest == expected(3_000_000)
    assert written_directly(metrics_port) == before


def test_a_script_that_breaks_its_body_midway_cuts_the_response_visibly(direct):
    async def get() -> tuple[int, str | None]:
        async with aiohttp.ClientSession() as s, s.get(
                direct.url("/?bytes=10000000&fail=2000000")) as r:
            try:
                await r.read()
            except aiohttp.ClientPayloadError as e:
                return r.status, str(e)
            return r.status, None

    status, error = run(get())
    assert status == 200 and error is not None  # no last chunk: not a complete body
    with urllib.request.urlopen(direct.url("/?bytes=300000"), timeout=10) as r:
        assert r.read() == expected(300_000)  # the worker serves on


@pytest.mark.parametrize("claim", [2_500_000, 4_000_000])
def test_a_body_that_breaks_its_content_length_never_overruns_it(direct, claim):
    # Longer: no byte past the length reaches the connection (it would be read as the start
    # of the next response); shorter: the connection is cut, not left waiting.
    with socket.create_connection(("127.0.0.1", direct.port), timeout=30) as sock:
        sock.sendall(f"GET /?bytes=3000000&claim={claim} HTTP/1.1\r\nHost: x\r\n\r\n"
                     .encode())
        data = bytearray()
        while chunk := sock.recv(1 << 16):
            data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    assert f"Content-Length: {claim}".encode() in head
    assert len(body) <= min(claim, 3_000_000) and body == expected(len(body))


def test_a_client_that_leaves_midway_cancels_the_script_s_stream(direct):
    before = cancels(direct)
    worker_fds = f"/proc/{direct.worker_pids()['w0']}/fd"
    fds = len(os.listdir(worker_fds))
    sock = socket.create_connection(("127.0.0.1", direct.port), timeout=30)
    sock.sendall(b"GET /?bytes=1000000000 HTTP/1.1\r\nHost: x\r\n\r\n")
    got = 0
    while got < 4 << 20:
        got += len(sock.recv(1 << 16))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    sock.close()  # a reset
    for _ in range(200):
        if cancels(direct) > before:
            break
        time.sleep(0.05)
    assert cancels(direct) == before + 1
    direct.wait_log(r"\"GET /\?bytes=1000000000 HTTP/1.1\" 200 .* aborted", timeout=10)
    assert len(os.listdir(worker_fds)) == fds  # its copy of the client's socket is closed


def test_many_bodies_at_once_with_clients_that_leave_reset_or_crawl(direct, metrics_port):
    # Bounded: 16 clients, at most 20 MB each, every read under a timeout. Whatever the
    # others do, a client that reads to the end gets every byte; afterwards the worker holds
    # no client socket and no stream is left open.
    rng = random.Random(8)
    worker_fds = f"/proc/{direct.worker_pids()['w0']}/fd"
    fds = len(os.listdir(worker_fds))

    async def client(i: int) -> None:
        n = rng.choice([400_000, 3_000_000, 20_000_000])
        mode = ("full", "leave", "reset", "crawl")[i % 4]
        reader, writer = await asyncio.open_connection("127.0.0.1", direct.port)
        query = f"/?bytes={n}" + ("&length" if i % 2 else "")
        writer.write(f"GET {query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = bytearray()
        stop = rng.randint(100_000, 2_000_000)
        while chunk := await asyncio.wait_for(reader.read(1 << 16), 20):
            data += chunk
            if mode in ("leave", "reset") and len(data) > stop:
                break
            if mode == "crawl":
                await asyncio.sleep(0.002)
        if mode == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        writer.close()
        if mode in ("full", "crawl"):
            head, _, body = bytes(data).partition(b"\r\n\r\n")
            assert (dechunk(body) if b"chunked" in head else body) == expected(n), (i, mode)

    async def all_clients() -> None:
        await asyncio.gather(*(client(i) for i in range(16)))

    run(all_clients())
    for _ in range(100):
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        if metric(text, "isoflow_streams_open") == 0 and len(os.listdir(worker_fds)) == fds:
            break
        time.sleep(0.05)
    assert metric(text, "isoflow_streams_open") == 0
    assert len(os.listdir(worker_fds)) == fds
    with urllib.request.urlopen(direct.url("/?bytes=3000000"), timeout=10) as r:
        assert r.read() == expected(3_000_000)


def test_a_worker_killed_midway_cuts_the_body_and_is_replaced(serve):
    server = serve(SCRIPT, workers=1, name="direct.mjs")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(b"GET /?bytes=1000000000 HTTP/1.1\r\nHost: x\r\n\r\n")
    data = bytearray()
    while len(data) < 4 << 20:
        data += sock.recv(1 << 16)
    os.kill(server.worker_pids()["w0"], signal.SIGKILL)
    while chunk := sock.recv(1 << 16):  # the connection ends, without the last chunk
        data += chunk
    sock.close()
    assert not bytes(data).endswith(b"0\r\n\r\n")
    server.wait_log(r"w0 ready \(pid", timeout=30)
    for _ in range(100):
        try:
            with urllib.request.urlopen(server.url("/?bytes=300000"), timeout=10) as r:
                assert r.read() == expected(300_000)
                break
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
    else:
        raise AssertionError("the replaced worker does not serve")


def test_a_tls_client_gets_the_body_as_frames(ops, tmp_path):
    make_cert(tmp_path)
    server = ops(
        """
        [metrics]
        port = @METRICS@

        [[listeners]]
        port = @PORT@
        tls_cert = "cert.pem"
        tls_key = "key.pem"

        [scripts.app]
        path = "app.mjs"
        workers = 1

        [[routes]]
        script = "app"
        """,
        files={"app.mjs": SCRIPT},
    )
    context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))

    async def get(query: str) -> bytes:
        url = f"https://127.0.0.1:{server.port}/?{query}"
        async with aiohttp.ClientSession() as s, s.get(url, ssl=context) as r:
            return await r.read()

    assert run(get("bytes=3000000")) == expected(3_000_000)
    assert run(get("bytes=3000000&length")) == expected(3_000_000)
    text = urllib.request.urlopen(server.metrics_url(), timeout=5).read().decode()
    assert metric(text, "isoflow_direct_response_bodies_total") == 0


class TlsUpstream(ServerThread):
    """An HTTPS upstream: /big/N streams N pattern bytes in 64 KiB writes."""

    def __init__(self, directory) -> None:
        app = web.Application()
        app.router.add_get("/big/{n}", self._big)
        super().__init__(app)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(directory / "cert.pem", directory / "key.pem")

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def _big(self, request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        resp = web.StreamResponse()
        await resp.prepare(request)
        data = expected(n)
        for i in range(0, n, 65536):
            await resp.write(data[i:i + 65536])
        await resp.write_eof()
        return resp

    async def _listen(self) -> int:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0, ssl_context=self.context).start()
        return self._runner.addresses[0][1]


def test_an_upstream_body_that_cannot_be_relayed_is_written_by_the_worker(ops, tmp_path):
    # A TLS upstream's body cannot be relayed (the worker decrypts it): forwarded untouched,
    # it goes into the client's socket from the worker past its first 128 KiB.
    make_cert(tmp_path)
    upstream = TlsUpstream(tmp_path).start()
    try:
        server = ops(
            """
            [metrics]
            port = @METRICS@

            [[listeners]]
            port = @PORT@

            [scripts.app]
            path = "app.mjs"
            workers = 1

            [scripts.app.fetch]
            allow_loopback = true

            [[routes]]
            script = "app"
            """,
            files={"app.mjs": "export default { fetch: (r) => fetch(new URL(r.url)"
                              ".searchParams.get('t')) };"},
            env={"SSL_CERT_FILE": str(tmp_path / "cert.pem")},
        )
        for n in (5_000_003, 300_000):
            url = server.url("/?t=" + upstream.url(f"/big/{n}"))
            with urllib.request.urlopen(url, timeout=30) as r:
                assert r.read() == expected(n)
        text = urllib.request.urlopen(server.metrics_url(), timeout=5).read().decode()
        assert metric(text, "isoflow_direct_response_bodies_total") >= 1
        assert metric(text, "isoflow_forwarded_bodies_total", direction="response",
                      path="relayed") == 0
        # The forwards' paths arrive with the worker's PONGs: the 5 MB one went direct.
        for _ in range(100):
            text = urllib.request.urlopen(server.metrics_url(), timeout=5).read().decode()
            counted = [metric(text, "isoflow_forwarded_bodies_total", direction="response",
                              path=path) for path in ("direct", "framed")]
            if sum(counted) == 2:
                break
            time.sleep(0.05)
        assert counted[0] >= 1 and sum(counted) == 2
    finally:
        upstream.stop()
