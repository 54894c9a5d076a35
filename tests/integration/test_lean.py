"""The lean path (``supervisor/lean.py``): a plain GET on an idle kept-alive connection,
answered without aiohttp's request machinery, must give the client what aiohttp's path
gives, keep the connection's order and clocks, and hand everything else back.

A GET is lean when it arrives alone on an idle connection; two requests in one write go
aiohttp's way, which is how these tests get both paths for the same request.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import run
from tests.integration.ops_support import OpsServer, get, metric

SCRIPT = """
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const ms = Number(url.searchParams.get("ms") ?? 0);
    if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
    if (url.pathname === "/60k") return new Response("x".repeat(60000));
    if (url.pathname === "/stream") {
      let n = 0;
      return new Response(new ReadableStream({
        async pull(c) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (n++ === 3) c.close(); else c.enqueue(new TextEncoder().encode(`part${n} `));
        },
      }));
    }
    if (url.pathname === "/throw") throw new Error("boom");
    if (url.pathname === "/empty") return new Response(null, { status: 204 });
    return new Response(`${url.pathname} ${ms}`, {
      headers: { "X-Script": "yes", "Set-Cookie": "a=1", "Connection": "X-Script" },
    });
  },
};
"""

CONFIG = """
[server]
header_timeout = 1
send_timeout = 1

[[listeners]]
port = @PORT@

[metrics]
port = @METRICS@

[scripts.app]
path = "lean.mjs"
workers = 1

[[routes]]
script = "app"
"""

H = b"Host: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[OpsServer]:
    tmp = tmp_path_factory.mktemp("lean")
    (tmp / "lean.mjs").write_text(SCRIPT)
    server = OpsServer(tmp, CONFIG, 0, None).start()
    yield server
    server.stop()


def connect(server: OpsServer, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def read_answer(sock: socket.socket, buffer: bytearray) -> bytes:
    """One whole answer (with a Content-Length or chunked) from ``sock``."""
    while b"\r\n\r\n" not in buffer:
        got = sock.recv(65536)
        assert got, bytes(buffer)
        buffer += got
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    start = len(head) + 4
    length = re.search(rb"(?i)\r\ncontent-length: (\d+)", head)
    if length is not None:
        end = start + int(length.group(1))
    elif re.search(rb"(?i)\r\ntransfer-encoding: chunked", head):
        while b"\r\n0\r\n\r\n" not in buffer[start:]:
            got = sock.recv(65536)
            assert got, bytes(buffer)
            buffer += got
        end = buffer.index(b"\r\n0\r\n\r\n", start) + 7
    else:
        end = start
    while len(buffer) < end:
        got = sock.recv(65536)
        assert got, bytes(buffer)
        buffer += got
    answer = bytes(buffer[:end])
    del buffer[:end]
    return answer


def normalized(answer: bytes) -> bytes:
    """An answer without what differs from request to request (Date, the request id)."""
    answer = re.sub(rb"\r\nDate: [^\r]*", b"", answer)
    return re.sub(rb"\r\nX-Request-Id: [^\r]*", b"", answer)


def test_a_lean_answer_is_byte_for_byte_the_one_aiohttps_path_writes(server):
    request = b"GET /same?x=1 HTTP/1.1\r\n" + H + b"\r\n"
    with connect(server) as sock:
        buffer = bytearray()
        sock.sendall(request)  # alone on an idle connection: lean
        lean = read_answer(sock, buffer)
        sock.sendall(request * 2)  # two in one write: aiohttp's path
        by_aiohttp = [read_answer(sock, buffer), read_answer(sock, buffer)]
    assert lean.startswith(b"HTTP/1.1 200 OK\r\n") and lean.endswith(b"/same 0")
    assert b"X-Script" not in lean and b"Set-Cookie: a=1" in lean  # Connection names it
    assert normalized(lean) == normalized(by_aiohttp[0]) == normalized(by_aiohttp[1])


def test_what_follows_a_lean_request_in_flight_is_answered_after_it(server):
    with connect(server) as sock:
        buffer = bytearray()
        sock.sendall(b"GET /first?ms=300 HTTP/1.1\r\n" + H + b"\r\n")
        time.sleep(0.05)  # the first is in flight: these wait for its answer
        sock.sendall(b"GET /second HTTP/1.1\r\n" + H + b"\r\n")
        time.sleep(0.05)
        sock.sendall(b"GET /stream HTTP/1.1\r\n" + H + b"\r\nGET /third HTTP/1.1\r\n" + H
                     + b"\r\n")
        answers = [read_answer(sock, buffer) for _ in range(4)]
    assert answers[0].endswith(b"/first 300")
    assert answers[1].endswith(b"/second 0")
    assert b"part1 " in answers[2] and b"part3 " in answers[2]
    assert answers[3].endswith(b"/third 0")


def test_answers_the_lean_path_hands_back_to_aiohttp(server):
    """A streamed body, a script's exception, a bodyless status: aiohttp's path answers
    them, and the connection goes on (lean again) after each."""
    with connect(server) as sock:
        buffer = bytearray()
        for path, expected in ((b"/stream", b"Transfer-Encoding: chunked"),
                               (b"/throw", b"HTTP/1.1 500 "), (b"/empty", b"HTTP/1.1 204 "),
                               (b"/after", b"/after 0")):
            sock.sendall(b"GET " + path + b" HTTP/1.1\r\n" + H + b"\r\n")
            answer = read_answer(sock, buffer)
            assert expected in answer, answer


def test_a_lean_request_may_outlast_header_timeout_and_the_idle_clock_restarts_after(server):
    """header_timeout (1 s here) bounds an idle connection, not a request in flight; after
    each answer the connection is idle again and closed a header_timeout later."""
    with connect(server) as sock:
        buffer = bytearray()
        sock.sendall(b"GET /long?ms=1500 HTTP/1.1\r\n" + H + b"\r\n")
        assert read_answer(sock, buffer).endswith(b"/long 1500")
        time.sleep(0.6)
        sock.sendall(b"GET /again HTTP/1.1\r\n" + H + b"\r\n")
        assert read_answer(sock, buffer).endswith(b"/again 0")
        answered = time.monotonic()
        assert sock.recv(1024) == b""
        idle = time.monotonic() - answered
    assert 0.8 < idle < 3, idle


def test_a_client_gone_before_its_lean_answer_is_logged_499_and_its_stream_ends(server):
    with connect(server) as sock:
        sock.sendall(b"GET /gone?ms=400 HTTP/1.1\r\n" + H + b"\r\n")
        time.sleep(0.1)
    server.wait_log(r'"GET /gone\?ms=400 HTTP/1.1" 499 ', timeout=10)
    text = run(get(server.metrics_url()))[2].decode()
    assert metric(text, "isoflow_streams_open") == 0
    assert metric(text, "isoflow_requests_in_flight", route="default") == 0
    status, _, out = run(get(server.url("/next")))
    assert status == 200 and out == b"/next 0"


def test_a_lean_client_that_reads_nothing_is_cut_off_after_send_timeout(server):
    """One request at a time (each lean), none of the answers read: once the socket's
    buffers are full the front waits send_timeout for them to drain, then aborts."""
    pattern = r"the client took nothing for 1 s; aborting"
    before = len(re.findall(pattern, server.log()))
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before the handshake
        sock.settimeout(5)
        sock.connect(("127.0.0.1", server.port))
        with contextlib.suppress(OSError):  # the front stops reading once it waits
            for _ in range(300):  # 18 MB of answers, more than the socket buffers hold
                sock.sendall(b"GET /60k HTTP/1.1\r\n" + H + b"\r\n")
                time.sleep(0.005)
        server.wait_log(pattern, timeout=10, count=before + 1)
    text = run(get(server.metrics_url()))[2].decode()
    assert metric(text, "isoflow_streams_open") == 0
    status, _, out = run(get(server.url("/after")))
    assert status == 200 and out == b"/after 0"
