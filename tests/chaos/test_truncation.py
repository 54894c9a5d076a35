"""Every truncated response is visible to the client, whatever its framing.

A body the client can delimit only by the connection's close (HTTP/1.0 without a known
length) must end with a TCP reset when it is cut, never with a FIN that looks like its end;
a body whose length is known carries it as Content-Length, also for HTTP/1.0, so that a cut
is a short count. Cuts come from killed workers, a script's stream that errors, a killed
upstream and the send timeout. A complete response, and one that has no body (HEAD, 204,
304), still ends with a clean close. The clients are raw sockets, so nothing hides a reset.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.chaos.support import (
    CHUNK,
    UpstreamProcess,
    assert_idle,
    config,
    live_pids,
    settled,
)
from tests.conftest import run
from tests.integration.ops_support import ops_servers

WORKERS = 2
SEND_TIMEOUT = 1.0

SCRIPT = r"""
const BLOCK = new Uint8Array(16384).fill(120);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = (k, d) => Number(url.searchParams.get(k) ?? d);
    const n = q("n", 4), delay = q("delay", 0), fail = q("fail", -1);
    const up = () => `http://127.0.0.1:${q("up", env.PORT)}/paced/${n}` +
      `?delay=${delay}&cl=${q("cl", 0)}`;
    switch (url.pathname) {
      case "/gen": {  // n blocks, delay ms apart; the stream errors instead of block `fail`
        let k = 0;
        const body = new ReadableStream({
          async pull(c) {
            if (k === n) return c.close();
            if (k === fail) return c.error(new Error("the script's stream broke"));
            if (delay && k) await sleep(delay);
            k++;
            c.enqueue(BLOCK.slice());
          },
        });
        const headers = url.searchParams.has("length") ? { "content-length": `${n * 16384}` } : {};
        return new Response(body, { headers });
      }
      case "/proxy":  // forwarded natively, with the upstream's Content-Length if cl=1
        return fetch(up());
      case "/proxy-js": {  // through JS: no length
        const r = await fetch(up());
        return new Response(r.body.pipeThrough(new TransformStream()));
      }
      case "/empty":
        return new Response(null, { status: q("status", 204) });
      default:
        return new Response("hello");
    }
  },
};
"""

CUT_CASES = [  # (HTTP version, extra header line, path): each a stream that is cut
    ("1.0", "", "/gen?n=1000&delay=10"),
    ("1.0", "Connection: keep-alive", "/gen?n=1000&delay=10"),
    ("1.0", "", "/gen?n=1000&delay=10&length"),
    ("1.0", "", "/proxy?n=8000000&delay=20"),
    ("1.0", "", "/proxy?n=8000000&delay=20&cl=1"),
    ("1.0", "", "/proxy-js?n=8000000&delay=20&cl=1"),
    ("1.1", "Connection: close", "/gen?n=1000&delay=10"),
    ("1.1", "Connection: close", "/proxy?n=8000000&delay=20&cl=1"),
]


@dataclass
class Reply:
    version: str
    path: str
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes = field(repr=False)
    end: str = ""  # "eof" (a clean close), "reset" or "timeout"

    @property
    def framed(self) -> bool:
        return "content-length" in self.headers or "transfer-encoding" in self.headers

    @property
    def visibly_cut(self) -> bool:
        """Whether the client can tell that the body is incomplete."""
        if self.end == "reset":
            return True
        if "content-length" in self.headers:
            return len(self.body) < int(self.headers["content-length"])
        if self.headers.get("transfer-encoding") == "chunked":
            return not self.body.endswith(b"\r\n0\r\n\r\n")
        return False  # delimited by the close alone: a FIN looks like its end


class RawClient:
    """One request on a raw connection: the head and the first body bytes, then the rest."""

    def __init__(self, port: int, version: str, header: str, path: str,
                 method: str = "GET") -> None:
        self.port = port
        self.request = (f"{method} {path} HTTP/{version}\r\nHost: t\r\n"
                        + (f"{header}\r\n" if header else "") + "\r\n").encode()
        self.reply = Reply(version, path, 0, {}, b"")

    async def start(self, first_bytes: bool = True) -> RawClient:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.reply.status = int(lines[0].split()[1])
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                self.reply.headers[name.strip().lower()] = value.strip()
        if first_bytes:  # the body is flowing: the head is out for sure
            try:
                self.reply.body += await self.reader.read(65536)
            except ConnectionResetError:
                self.reply.end = "reset"
        return self

    async def finish(self, timeout: float = 10.0) -> Reply:
        try:
            if self.reply.end:
                return self.reply
            async with asyncio.timeout(timeout):
                while data := await self.reader.read(65536):
                    self.reply.body += data
            self.reply.end = "eof"
        except ConnectionResetError:
            self.reply.end = "reset"
        except TimeoutError:
            self.reply.end = "timeout"
        finally:
            self.writer.close()
        return self.reply


async def _cut_while_streaming(port: int, cases, cut, **params: str) -> list[Reply]:
    """Start every case (its head and first body bytes are in), run ``cut``, read the rest."""
    suffix = "".join(f"&{k}={v}" for k, v in params.items())
    clients = await asyncio.gather(*(RawClient(port, v, h, p + suffix).start()
                                     for v, h, p in cases))
    await asyncio.to_thread(cut)
    return await asyncio.gather(*(c.finish() for c in clients))


def _assert_all_visibly_cut(replies: list[Reply], close_delimited: int = 4) -> None:
    print("cut streams (HTTP version, framing, end):",
          dict(Counter((r.version, (r.framed and "framed") or "close", r.end) for r in replies)))
    for r in replies:
        assert r.status == 200, r
        assert r.visibly_cut, (r.version, r.path, r.headers, len(r.body), r.end)
        if not r.framed:  # the close alone delimits it: only a reset can tell the cut
            assert r.end == "reset", (r.version, r.path, r.headers, len(r.body), r.end)
        if "length" in r.path or ("/proxy?" in r.path and "cl=1" in r.path):
            assert "content-length" in r.headers, r  # a known length is always sent
    assert sum(not r.framed for r in replies) >= close_delimited, "too few were close-delimited"


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator:
    tmp = tmp_path_factory.mktemp("truncation")
    (tmp / "chaos.mjs").write_text(SCRIPT)
    upstream = UpstreamProcess()
    servers = ops_servers(tmp)
    make = next(servers)
    try:
        text = config(upstream.port, WORKERS).replace(
            "[server]\n", f"[server]\nsend_timeout = {SEND_TIMEOUT}\n").replace(
            "shutdown_grace = 2", "shutdown_grace = 0.5")
        text = text.replace('env = { UPSTREAM', f'env = {{ PORT = "{upstream.port}", UPSTREAM')
        yield make(text)
    finally:
        next(servers, None)
        upstream.stop()


# Bodies forwarded untouched are relayed socket to socket (the splice relay): once handed
# over they no longer depend on their worker, so killing it must not cut them.
RELAYED = [
    ("1.0", "", "/proxy?n=2000000&delay=20"),
    ("1.0", "", "/proxy?n=2000000&delay=20&cl=1"),
    ("1.1", "Connection: close", "/proxy?n=2000000&delay=20&cl=1"),
]


def test_streams_of_killed_workers_end_visibly(service):
    victims = list(live_pids(service).values())
    assert len(victims) == WORKERS

    def kill_all() -> None:
        for pid in victims:
            os.kill(pid, signal.SIGKILL)

    cut = [c for c in CUT_CASES if not c[2].startswith("/proxy?")]
    replies = run(_cut_while_streaming(service.port, (cut + RELAYED) * 3, kill_all))
    survivors = [r for r in replies if r.path.startswith("/proxy?")]
    _assert_all_visibly_cut([r for r in replies if r not in survivors])
    for r in survivors:
        assert (r.status, len(r.body), r.end) == (200, 2000000, "eof"), (r.path, r.headers)
    assert_idle(settled(service, "app", WORKERS, victims), "app")


def test_streams_that_error_in_the_script_end_visibly(service):
    gen = [c for c in CUT_CASES if c[2].startswith("/gen")]
    replies = run(_cut_while_streaming(service.port, gen * 2, lambda: None, fail=3))
    _assert_all_visibly_cut(replies)


def test_bodies_cut_by_a_killed_upstream_end_visibly(service):
    upstream = UpstreamProcess()
    try:
        proxied = [c for c in CUT_CASES if c[2].startswith("/proxy")]
        replies = run(_cut_while_streaming(service.port, proxied * 2, upstream.kill,
                                           up=str(upstream.port)))
    finally:
        upstream.stop()
    _assert_all_visibly_cut(replies)


def test_a_client_that_stops_reading_gets_a_reset(service):
    """The send timeout cuts a close-delimited body that nobody takes: with a reset."""

    async def scenario() -> Reply:
        client = await RawClient(service.port, "1.0", "X-Request-Id: stalled-reader",
                                 "/gen?n=4000").start()
        await asyncio.to_thread(service.wait_log,
                                r"request stalled-reader: the client took nothing", 10)
        return await client.finish()

    reply = run(scenario())
    assert not reply.framed and reply.end == "reset", (reply.headers, len(reply.body))


def test_complete_responses_end_with_a_clean_close(service):
    full = 100 * CHUNK  # more than the response window: it streams
    cases = [  # (version, header, method, path, body length, framing header or None)
        ("1.0", "", "GET", "/gen?n=100", full, None),
        ("1.0", "", "GET", "/gen?n=100&length", full, "content-length"),
        ("1.0", "", "GET", "/proxy?n=3000000&cl=1", 3000000, "content-length"),
        ("1.0", "", "GET", "/proxy-js?n=3000000&cl=1", 3000000, None),
        ("1.0", "", "GET", "/small", 5, "content-length"),
        ("1.0", "", "HEAD", "/gen?n=100", 0, None),
        ("1.0", "", "GET", "/empty?status=204", 0, None),
        ("1.0", "", "GET", "/empty?status=304", 0, None),
        ("1.1", "Connection: close", "HEAD", "/gen?n=100", 0, None),
        ("1.1", "Connection: close", "GET", "/empty?status=204", 0, None),
        ("1.1", "Connection: close", "GET", "/gen?n=100", None, "transfer-encoding"),
    ]

    async def scenario() -> list[Reply]:
        clients = [RawClient(service.port, v, h, p, m) for v, h, m, p, _, _ in cases]
        await asyncio.gather(*(c.start(first_bytes=False) for c in clients))
        return await asyncio.gather(*(c.finish() for c in clients))

    for (version, _, method, path, size, framing), r in zip(cases, run(scenario()),
                                                            strict=True):
        what = (version, method, path, r.status, r.headers, len(r.body), r.end)
        assert r.end == "eof" and not r.visibly_cut, what
        if size is not None:
            assert len(r.body) == size, what
        assert (framing in r.headers) if framing else not r.framed, what


def test_streams_cut_by_the_service_stopping_end_visibly(service):
    """Last: the streams still running after shutdown_grace are cut, visibly."""
    gen = [c for c in CUT_CASES if c[2].startswith("/gen")]
    replies = run(_cut_while_streaming(service.port, gen, lambda: service.stop(timeout=10)))
    _assert_all_visibly_cut(replies, close_delimited=2)
    assert "Traceback" not in service.log()
