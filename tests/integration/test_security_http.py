"""The HTTP edge against hostile clients: smuggling patterns, oversized heads, slow heads,
slow bodies, slow readers, compressed bodies, and fuzzed request bytes.

aiohttp's parser (llhttp) refuses the request smuggling patterns with a 400 and closes the
connection; the supervisor's own knobs (``[server] header_timeout``, ``body_timeout``,
``send_timeout``, the header limits) are set small here so the slow-client cases finish in
about a second each. Every rejection is one log line, never a traceback.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import re
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run
from tests.integration.ops_support import OpsServer, get, metric

SCRIPT = """
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/read") {
      const body = new Uint8Array(await request.arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      return Response.json({ length: body.length, sha256: hex,
                             encoding: request.headers.get("content-encoding") });
    }
    if (path === "/echo") return new Response(request.body);
    if (path === "/host") {
      return new Response(`${new URL(request.url).host} ${request.headers.get("host")}`);
    }
    if (path === "/60k") return new Response("x".repeat(60000));  // whole: one write
    if (path === "/big") {
      const chunk = new Uint8Array(65536);
      let n = 0;
      return new Response(new ReadableStream({
        pull(c) { if (n++ === 2048) c.close(); else c.enqueue(chunk); },
      }));
    }
    return new Response("hello " + request.method + " " + path);
  },
};
"""

CONFIG = """
[server]
header_timeout = 1
body_timeout = 1
send_timeout = 1
max_line_size = 1024
max_field_size = 1536
max_headers = 20

[limits]
max_body_size = "1MiB"

[[listeners]]
port = @PORT@

[metrics]
port = @METRICS@

[scripts.app]
path = "edge.mjs"
workers = 1

[[routes]]
script = "app"
"""


@pytest.fixture(scope="module")
def edge(tmp_path_factory) -> Iterator[OpsServer]:
    tmp = tmp_path_factory.mktemp("edge")
    (tmp / "edge.mjs").write_text(SCRIPT)
    server = OpsServer(tmp, CONFIG, 0, None).start()
    yield server
    server.stop()


def exchange(server: OpsServer, data: bytes, timeout: float = 5.0,
             pause: float = 0.0) -> tuple[bytes, bool, float]:
    """Send raw bytes; (everything received, whether the server closed, seconds to the
    first byte of the answer or to the close)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        if pause:
            time.sleep(pause)
        out = b""
        closed = False
        took = None
        try:
            while True:
                got = sock.recv(65536)
                if took is None:
                    took = time.monotonic() - started
                if not got:
                    closed = True
                    break
                out += got
        except TimeoutError:
            pass
        except ConnectionResetError:
            closed = True
    return out, closed, time.monotonic() - started if took is None else took


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1."), response[:100]
    return int(response.split(b" ", 2)[1])


H = b"Host: x\r\n"
SMUGGLING = {
    "content_length_and_chunked": b"POST / HTTP/1.1\r\n" + H +
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "chunked_and_content_length": b"POST / HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
    "smuggled_second_request": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1c\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n",
    "two_content_lengths": b"POST / HTTP/1.1\r\n" + H +
        b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
    "two_equal_content_lengths": b"POST / HTTP/1.1\r\n" + H +
        b"Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
    "content_length_list": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4, 4\r\n\r\nabcd",
    "content_length_sign": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +4\r\n\r\nabcd",
    "content_length_negative": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n",
    "content_length_hex": b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x4\r\n\r\nabcd",
    "chunked_not_last": b"POST / HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "unknown_coding": b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "space_before_colon": b"POST / HTTP/1.1\r\n" + H +
        b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "obs_fold_transfer_encoding": b"POST / HTTP/1.1\r\n" + H +
        b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
    "obs_fold": b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n",
    "bare_lf": b"GET / HTTP/1.1\nHost: x\n\n",
    "bare_lf_in_headers": b"GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n",
    "bare_cr": b"GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n",
    "lf_in_chunk_extension": b"POST / HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\n3;x\nabc\r\n0\r\n\r\n",
    "chunk_size_overflow": b"POST / HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n",
    "chunk_without_crlf": b"POST / HTTP/1.1\r\n" + H +
        b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n",
    "nul_in_header": b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n",
    "control_in_name": b"GET / HTTP/1.1\r\n" + H + b"X-\x01: b\r\n\r\n",
    "two_hosts": b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    "no_host": b"GET / HTTP/1.1\r\n\r\n",
    "bad_method": b"G(T / HTTP/1.1\r\n" + H + b"\r\n",
    "bad_version": b"GET / HTTP/9.9\r\n" + H + b"\r\n",
    "space_in_target": b"GET /a b HTTP/1.1\r\n" + H + b"\r\n",
    # No version: aiohttp parses these as HTTP/0.9 ("HTTP/1.1" becomes the target).
    "no_version": b"GET /\r\n\r\n",
    "empty_target": b"CONNECT  HTTP/1.1\r\n" + H + b"\r\n",
    # No target and no version: aiohttp's parser gives no URL at all (it used to hang).
    "connect_nothing": b"CONNECT  \r\n\r\n",
    "connect_nothing_bare": b"CONNECT \r\n\r\n",
    "userinfo_in_target": b"GET http://user:pw@x/ HTTP/1.1\r\n" + H + b"\r\n",
}


@pytest.mark.parametrize("name", sorted(SMUGGLING))
def test_smuggling_and_malformed_requests_get_400_and_a_closed_connection(edge, name):
    out, closed, _ = exchange(edge, SMUGGLING[name])
    assert status_of(out) == 400, out[:200]
    assert closed
    # Nothing after it was taken as a second request.
    assert len(re.findall(rb"(?:^|\r\n)HTTP/1\.[01] \d{3} ", out)) == 1, out


def test_an_absolute_form_target_is_the_host_the_script_sees(edge):
    # RFC 9112 3.2.2: the target's authority, not the Host field. Routing and request.url
    # used it, while the script's Host header was the client's other value.
    out, _, _ = exchange(edge, b"GET http://public.example/host HTTP/1.1\r\n"
                               b"Host: admin.internal\r\nConnection: close\r\n\r\n")
    assert status_of(out) == 200, out
    assert out.endswith(b"\r\n\r\npublic.example public.example"), out


def test_a_transfer_coding_besides_chunked_gets_501(edge):
    """aiohttp's parser accepts "gzip, chunked" and hands the body on still gzipped."""
    body = gzip.compress(b"hello")
    out, closed, _ = exchange(edge, b"POST /read HTTP/1.1\r\n" + H +
                              b"Transfer-Encoding: gzip, chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                              % (len(body), body))
    assert out.startswith(b"HTTP/1.1 501 "), out[:200]
    assert closed


def test_connect_gets_501_and_a_closed_connection(edge):
    """An origin server, not a proxy: the script never sees the authority-form target."""
    out, closed, _ = exchange(edge, b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n"
                                    b"\r\nSSH-2.0-x\r\n")
    assert out.startswith(b"HTTP/1.1 501 ") and b"not a proxy" in out, out[:200]
    assert closed


def test_expect_100_continue_gets_a_100_before_the_body_is_read(edge):
    """The client sends its body only after a 100 Continue (curl waits a second for it,
    others for ever): it comes when the body is read (at once: the worker takes a window
    of it before the script asks), before the final answer."""
    body = b"x" * 5000
    for path in ("/read", "/echo"):
        with socket.create_connection(("127.0.0.1", edge.port), timeout=5) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
            out = b""
            while b"\r\n\r\n" not in out:  # the echo's final head may follow in the same read
                got = sock.recv(64)
                assert got, (path, out)
                out += got
            interim, _, out = out.partition(b"\r\n\r\n")
            assert interim == b"HTTP/1.1 100 Continue", path
            sock.sendall(body)
            while got := sock.recv(65536):
                out += got
        assert out.startswith(b"HTTP/1.1 200 "), out[:200]
        assert (b'"length":5000' if path == "/read" else body) in out, out[-200:]
    out, _, _ = exchange(edge, b"POST /other HTTP/1.0\r\nHost: x\r\nExpect: 100-continue\r\n"
                               b"Content-Length: 5\r\n\r\nhello")
    assert out.startswith(b"HTTP/1.0 200 ") and out.endswith(b"hello POST /other"), out  # 1.0: none


def test_an_http2_request_line_gets_505_in_http11(edge):
    """aiohttp's parser takes "HTTP/2.0" (and answered in it: "HTTP/2.0 200" on an HTTP/1
    connection); a later 1.x minor its parser refuses (400)."""
    out, closed, _ = exchange(edge, b"GET / HTTP/2.0\r\n" + H + b"\r\n")
    assert out.startswith(b"HTTP/1.1 505 "), out[:200]
    assert closed
    out, _, _ = exchange(edge, b"GET / HTTP/1.7\r\n" + H + b"Connection: close\r\n\r\n")
    assert status_of(out) in (200, 400)


def test_rejections_are_one_log_line_each_and_nothing_reached_the_script(edge):
    exchange(edge, SMUGGLING["two_content_lengths"])
    edge.wait_log(r"INFO isoflow.http: bad request from 127.0.0.1: 400, Duplicate Content-Length")
    log = edge.log()
    assert "Traceback" not in log
    assert "/smuggled" not in log  # the access log never saw the smuggled request


@pytest.mark.parametrize(("data", "status"), [
    (b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),  # request line over 1024
    (b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 2000 + b"\r\n\r\n", 431),  # a field
    (b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: v\r\n" % i for i in range(30)) + b"\r\n",
     400),
], ids=["long_request_line", "long_header", "too_many_headers"])
def test_oversized_heads_are_refused(edge, data, status):
    out, closed, _ = exchange(edge, data)
    assert status_of(out) == status and closed


def test_a_body_over_the_limit_gets_413_at_once(edge):
    # The connection closes after aiohttp's lingering read of the unread body (at most
    # 10 s), so that the client can see the answer instead of a reset.
    out, _, took = exchange(edge, b"POST /read HTTP/1.1\r\n" + H +
                            b"Content-Length: 2000000\r\n\r\n", timeout=1.0)
    assert status_of(out) == 413 and b"Connection: close" in out and took < 1


def test_slow_heads_are_cut_off_after_header_timeout(edge):
    """Slowloris: a head that never completes, one header line every 0.3 s."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", edge.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n" + H)
        closed = False
        for i in range(20):
            try:
                sock.sendall(b"X-Slow-%d: 1\r\n" % i)
                sock.settimeout(0.3)
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
    assert closed and time.monotonic() - started < 3


def test_an_idle_connection_is_closed_after_header_timeout(edge):
    out, closed, took = exchange(edge, b"")
    assert out == b"" and closed and took < 3


def test_a_slow_upload_before_the_response_gets_408(edge):
    out, _, took = exchange(edge, b"POST /read HTTP/1.1\r\n" + H +
                            b"Content-Length: 100000\r\n\r\n" + b"x" * 1000, timeout=2.5)
    assert status_of(out) == 408 and b"No request body arrived for 1 s" in out
    assert b"Connection: close" in out and took < 2.5


def test_a_slow_upload_after_the_response_began_aborts_it(edge):
    request = (b"POST /echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n")
    out, closed, took = exchange(edge, request)
    assert status_of(out) == 200 and b"hello" in out
    assert closed and not out.endswith(b"0\r\n\r\n")  # no terminating chunk: visibly broken
    assert took < 4


def test_a_client_that_does_not_read_is_cut_off_after_send_timeout(edge):
    with socket.create_connection(("127.0.0.1", edge.port), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /big HTTP/1.1\r\n" + H + b"\r\n")
        edge.wait_log(r"the client took nothing for 1 s; aborting", timeout=10)
    text = run(get(edge.metrics_url()))[2].decode()
    assert metric(text, "isoflow_streams_open") == 0


def test_a_pipelining_client_that_reads_no_answer_is_cut_off_after_send_timeout(edge):
    """Small answers (written whole by the front) pile up for a client that pipelines
    requests and reads nothing: once the connection's buffer is full the front waits
    ``send_timeout`` for it to drain, then aborts, instead of waiting for ever."""
    pattern = r"the client took nothing for 1 s; aborting"
    before = len(re.findall(pattern, edge.log()))
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before the handshake
        sock.settimeout(10)
        sock.connect(("127.0.0.1", edge.port))
        sock.settimeout(0.5)
        # 24 MB of answers: more than the kernel's socket buffers take (4 MiB here).
        request = b"GET /60k HTTP/1.1\r\n" + H + b"\r\n"
        with contextlib.suppress(OSError):  # the front stops reading once it waits
            sock.sendall(request * 400)
        edge.wait_log(pattern, timeout=10, count=before + 1)
    text = run(get(edge.metrics_url()))[2].decode()
    assert metric(text, "isoflow_streams_open") == 0
    status, _, out = run(get(edge.url("/after")))  # the service goes on
    assert status == 200 and out == b"hello GET /after"


def test_compressed_request_bodies_reach_the_script_as_sent(edge):
    raw = b"compressible " * 10000
    body = gzip.compress(raw)
    status, _, out = run(get(edge.url("/read"), "POST", data=body,
                             headers={"Content-Encoding": "gzip"}))
    assert status == 200
    assert json.loads(out) == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                               "encoding": "gzip"}


def test_a_compression_bomb_is_not_inflated_by_the_supervisor(edge):
    bomb = gzip.compress(b"\0" * (64 << 20))  # 64 MiB of zeros in about 64 KiB
    status, _, out = run(get(edge.url("/read"), "POST", data=bomb,
                             headers={"Content-Encoding": "gzip"}))
    assert status == 200 and json.loads(out)["length"] == len(bomb)


# -- fuzzing ------------------------------------------------------------------------------

tokens = st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT", b"OPTIONS", b"CONNECT", b"G T",
                          b"", b"\x00", b"\xff\xfe"])
targets = st.sampled_from([b"/", b"/read", b"/echo", b"*", b"http://evil/", b"//x", b"/%00",
                           b"/\xff", b"/a?b=c#d", b"", b"/" + b"a" * 1500])
versions = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1 ", b"http/1.1",
                            b"HTTP/1", b""])
eols = st.sampled_from([b"\r\n", b"\n", b"\r", b"\r\r\n"])
names = st.sampled_from([b"Host", b"Content-Length", b"Transfer-Encoding", b"Expect",
                         b"Connection", b"Content-Encoding", b"X-Request-Id", b"Upgrade",
                         b"X-A", b"X A", b"", b"\x7f"])
values = st.sampled_from([b"x", b"0", b"5", b"-1", b"99999999999999999999", b"chunked",
                          b"gzip, chunked", b"100-continue", b"close", b"keep-alive",
                          b"websocket", b" ", b"\x00", b"\xe9"]) | st.binary(max_size=12)
headers = st.lists(st.tuples(names, st.sampled_from([b": ", b":", b" : ", b""]), values, eols),
                   max_size=6)
bodies = st.sampled_from([b"", b"0\r\n\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"hello",
                          b"ffffffff\r\n"]) | st.binary(max_size=40)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tokens, targets, versions, eols, headers, bodies, st.booleans())
def test_fuzzed_requests_get_an_answer_or_a_close_in_bounded_time(edge, method, target,
                                                                  version, eol, head, body,
                                                                  with_host):
    data = method + b" " + target + b" " + version + eol
    if with_host:
        data += b"Host: x\r\n"
    for name, sep, value, end in head:
        data += name + sep + value + end
    data += eol + body
    out, closed, took = exchange(edge, data, timeout=6.0)
    # An answer (any status line) or a closed connection, within the slow-client timeouts.
    assert out.startswith(b"HTTP/1.") or (out == b"" and closed), out[:200]
    assert took < 5.5
    if out:
        assert 100 <= status_of(out) < 600


def test_after_the_fuzzing_the_server_is_healthy(edge):
    assert edge.proc.poll() is None
    assert run(get(edge.url("/after")))[2] == b"hello GET /after"
    text = run(get(edge.metrics_url()))[2].decode()
    assert metric(text, "isoflow_streams_open") == 0
    assert metric(text, "isoflow_worker_restarts_total", script="app") == 0
    assert "Traceback" not in edge.log()


def test_isoflows_own_answers_carry_its_server_name_and_the_request_id(edge):
    out, _, _ = exchange(edge, b"GET / HTTP/1.1\r\nHost: a/admin?\r\n\r\n")  # refused: 400
    assert status_of(out) == 400
    assert b"\r\nServer: isoflow\r\n" in out and b"\r\nX-Request-Id: " in out
    out, _, _ = exchange(edge, b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 2000 + b"\r\n\r\n")
    assert status_of(out) == 431 and b"\r\nServer: isoflow\r\n" in out
