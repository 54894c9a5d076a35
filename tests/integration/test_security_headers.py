"""Header bytes, header sizes, hop-by-hop fields, the Host and the status at the HTTP edge.

* A request with 25 headers of 8,000 bytes of 0xFF once became a bridge event larger than
  the shared buffer and wedged its worker: it now reaches the script intact while the same
  worker (same isolate, no restart) keeps serving; over ``max_header_size`` it is a 431.
* Header bytes 0x80-0xFF are carried as bytes (latin-1) end to end: client -> script,
  script -> client, script -> upstream, upstream -> script.
* An upstream's response head over the limit rejects the fetch with a clear TypeError.
* A status outside 200-599 (101, 099, 999 from an upstream) is a 502; an invalid Host a 400.
* Fields named in ``Connection`` are not forwarded (the front's responses and fetch()).

One supervisor (one worker) and one raw-socket upstream serve the whole module.
"""

from __future__ import annotations

import json
import re
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator

import pytest

from tests.integration.ops_support import OpsServer
from tests.integration.test_security_http import exchange, status_of

SCRIPT = """
const ISOLATE = crypto.randomUUID();  // changes if the isolate or the worker is replaced
const codes = (s) => Array.from(s, (c) => c.charCodeAt(0));

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.pathname;
    const up = env.UPSTREAM;
    if (path === "/big") {  // the 25 x 8,000 bytes of 0xFF
      let n = 0, intact = true;
      for (const [name, value] of request.headers) {
        if (!name.startsWith("x-big-")) continue;
        n++;
        intact &&= value === "\\xff".repeat(8000);
      }
      return Response.json({ n, intact, isolate: ISOLATE });
    }
    if (path === "/in") return Response.json(codes(request.headers.get("x-in") ?? ""));
    if (path === "/out") {
      return new Response("ok", { headers: { "x-out": "\\xff\\x80caf\\xe9" } });
    }
    if (path === "/where") return Response.json({ url: request.url, isolate: ISOLATE });
    if (path === "/lone") {  // a lone surrogate: not valid Unicode, cannot be UTF-8 encoded
      console.log("half a pair: \\ud800");
      return new Response("ok");
    }
    if (path === "/huge-head") {  // a response head over the frame limit (1 MiB)
      return new Response("ok", { headers: { "x-h": "a".repeat(2 << 20) } });
    }
    if (path === "/hop") {
      return new Response("ok", { headers: { connection: "x-hop", "x-hop": "1", "x-end": "1" } });
    }
    if (path.startsWith("/up/")) {  // to the upstream, headers and all
      return fetch(up + path.slice(3), {
        headers: { "x-l1": "\\xff\\xe9", connection: "x-secret", "x-secret": "s" },
      });
    }
    if (path.startsWith("/text/")) {  // the upstream's body, read in JS
      try {
        return new Response(String((await (await fetch(up + path.slice(5))).text()).length));
      } catch (e) {
        return new Response(`${e.name}: ${e.message}`);
      }
    }
    if (path.startsWith("/seen/")) {  // what came back from the upstream, as code units
      try {
        const r = await fetch(up + path.slice(5));
        const heads = [...r.headers].filter(([k]) => k.startsWith("x-"));
        return Response.json({ status: r.status, headers: heads.map(([k, v]) => [k, codes(v)]) });
      } catch (e) {
        return Response.json({ error: e.name, message: e.message });
      }
    }
    return new Response("hello " + path);
  },
};
"""

CONFIG = """
[server]
max_header_size = "256KiB"

[[listeners]]
port = @PORT@

[metrics]
port = @METRICS@

[scripts.app]
path = "app.mjs"
workers = 1
env = { UPSTREAM = "@UPSTREAM@" }

[scripts.app.fetch]
allow_loopback = true

[[routes]]
script = "app"
"""


class RawUpstream(socketserver.ThreadingTCPServer):
    """An upstream that answers canned bytes (aiohttp would re-encode header text), and
    records the raw request heads it received."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.heads: list[bytes] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, path: str) -> bytes:
        if path.startswith("/status/"):
            return b"HTTP/1.1 " + path[8:].encode() + b" X\r\nContent-Length: 0\r\n\r\n"
        if path in ("/close-delimited", "/close-delimited-cut"):  # no length: the close ends it
            return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 100_000
        if path == "/latin1":
            head = b"X-L1: \xff\x80caf\xe9\r\n"
        elif path == "/hop":
            head = b"Connection: x-secret\r\nX-Secret: 1\r\nX-End: 1\r\n"
        elif path == "/huge":  # 60 KB of 0xFF: under the 64 KiB limit
            head = b"".join(b"X-H%d: " % i + b"\xff" * 3000 + b"\r\n" for i in range(20))
        elif path == "/too-huge":  # 120 KB: over it
            head = b"".join(b"X-H%d: " % i + b"\xff" * 6000 + b"\r\n" for i in range(20))
        else:
            head = b""
        return b"HTTP/1.1 200 OK\r\n" + head + b"Content-Length: 2\r\n\r\nok"


class _RawHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            got = self.request.recv(65536)
            if not got:
                return
            data += got
        head = data.split(b"\r\n\r\n", 1)[0]
        self.server.heads.append(head)
        path = head.split(b" ", 2)[1].decode()
        self.request.sendall(self.server.answer(path))
        if path.endswith("-cut"):  # a reset, not a FIN: the body broke off
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
            self.request.close()  # now: socketserver would shut it down (a FIN) first
            return
        self.request.shutdown(socket.SHUT_WR)


@pytest.fixture(scope="module")
def upstream() -> Iterator[RawUpstream]:
    server = RawUpstream()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def edge(tmp_path_factory, upstream) -> Iterator[OpsServer]:
    tmp = tmp_path_factory.mktemp("headers")
    (tmp / "app.mjs").write_text(SCRIPT)
    server = OpsServer(tmp, CONFIG.replace("@UPSTREAM@", upstream.url), 0, None).start()
    yield server
    server.stop()


def request(server: OpsServer, path: str, headers: bytes = b"", host: bytes = b"x"
            ) -> tuple[int, bytes, bytes]:
    """(status, raw head, body) of one GET sent as raw bytes."""
    out, _, _ = exchange(server, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host +
                         b"\r\nConnection: close\r\n" + headers + b"\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    return status_of(out), head, body


BIG = b"".join(b"X-Big-%d: " % i + b"\xff" * 8000 + b"\r\n" for i in range(25))


def test_huge_non_ascii_headers_reach_the_script_and_the_worker_keeps_serving(edge):
    before = json.loads(request(edge, "/where")[2])["isolate"]
    results: list[tuple[int, bytes]] = []

    def other() -> None:
        for _ in range(5):
            status, _, body = request(edge, "/plain")
            results.append((status, body))

    others = threading.Thread(target=other)
    others.start()
    for _ in range(3):
        status, _, body = request(edge, "/big", BIG)
        assert status == 200, body
        assert json.loads(body) == {"n": 25, "intact": True, "isolate": before}
    others.join(30)
    assert results == [(200, b"hello /plain")] * 5
    assert json.loads(request(edge, "/where")[2])["isolate"] == before  # never replaced
    assert "Traceback" not in edge.log()


def test_what_a_script_sends_never_stops_the_worker(edge):
    """A log line that is not valid Unicode, a head too large for a frame: the worker's pump
    goes on (the second fails its own stream with a 500), the isolate is the same."""
    before = json.loads(request(edge, "/where")[2])["isolate"]
    assert request(edge, "/lone")[:1] == (200,)
    assert request(edge, "/huge-head")[0] == 500
    assert request(edge, "/plain")[2] == b"hello /plain"
    assert json.loads(request(edge, "/where")[2])["isolate"] == before
    edge.wait_log(r"half a pair: \?")


def test_header_fields_over_max_header_size_get_431(edge):
    status, _, body = request(edge, "/big", BIG * 2)  # 400 KB > 256 KiB
    assert status == 431 and b"larger than 262144 bytes" in body


def test_one_header_field_over_max_field_size_gets_431(edge):
    status, _, _ = request(edge, "/", b"X-A: " + b"a" * 9000 + b"\r\n")
    assert status == 431


def test_header_bytes_reach_the_script_as_the_same_code_units(edge):
    sent = bytes([0x80, 0xA0, 0xE9, 0xFF]) + b"caf\xc3\xa9"  # and UTF-8, byte by byte
    status, _, body = request(edge, "/in", b"X-In: " + sent + b"\r\n")
    assert status == 200 and json.loads(body) == list(sent)


def test_script_header_code_units_reach_the_client_as_the_same_bytes(edge):
    status, head, _ = request(edge, "/out")
    assert status == 200 and b"\r\nx-out: \xff\x80caf\xe9" in head


def test_header_bytes_to_and_from_an_upstream_are_latin1(edge, upstream):
    status, _, body = request(edge, "/up/plain")
    assert status == 200
    sent = upstream.heads[-1]
    assert b"\r\nx-l1: \xff\xe9" in sent
    assert b"x-secret" not in sent.lower()  # named in Connection: hop-by-hop
    status, _, body = request(edge, "/seen/latin1")
    assert json.loads(body) == {"status": 200, "headers": [["x-l1", list(b"\xff\x80caf\xe9")]]}


def test_an_upstream_with_huge_non_ascii_headers(edge):
    status, _, body = request(edge, "/seen/huge")
    seen = json.loads(body)
    assert status == 200 and len(seen["headers"]) == 20
    assert all(codes == [0xFF] * 3000 for _name, codes in seen["headers"])
    status, _, body = request(edge, "/seen/too-huge")
    assert json.loads(body)["error"] == "TypeError"
    assert "header fields larger than 65536 bytes" in json.loads(body)["message"]
    status, _, body = request(edge, "/up/too-huge")  # forwarded, not caught: a bad gateway
    assert status == 502 and b"upstream" in body


@pytest.mark.parametrize("code", ["101", "099", "999"])
def test_an_invalid_status_from_an_upstream_is_a_502(edge, code):
    status, _, _ = request(edge, "/up/status/" + code)
    assert status == 502
    assert "Traceback" not in edge.log()


@pytest.mark.parametrize("host", [b"a/admin?", b"a:99999", b"a b", b"a@b", b"a#x", b"[zz]",
                                  b"a%2Fadmin", b"a\\b", b"a:8o", b"", b"999.1.1.1"])
def test_an_invalid_host_is_a_400(edge, host):
    status, _, _ = request(edge, "/public", host=host)
    assert status == 400


@pytest.mark.parametrize("host", [b"example.com:8080", b"[::1]:81", b"127.0.0.1", b"a:65535"])
def test_a_valid_host_becomes_the_url_and_never_changes_the_path(edge, host):
    status, _, body = request(edge, "/where?q=1", host=host)
    assert status == 200
    assert json.loads(body)["url"] == "http://" + host.decode() + "/where?q=1"


def test_fields_named_in_connection_are_not_forwarded(edge):
    status, head, _ = request(edge, "/hop")  # the script's own response
    assert status == 200 and b"x-end: 1" in head and b"x-hop" not in head.lower()
    status, head, _ = request(edge, "/up/hop")  # an upstream's, passed through
    assert status == 200 and b"x-end: 1" in head.lower() and b"x-secret" not in head.lower()


def test_hostile_heads_never_produce_a_traceback(edge):
    hostile = [
        b"GET / HTTP/1.1\r\nHost: \xff\xfe",
        b"GET / HTTP/1.1\r\nHost: a:",
        b"GET / HTTP/1.1\r\nHost: [",
        b"GET / HTTP/1.1\r\nHost:",
        b"GET http://other/x HTTP/1.1\r\nHost: a",
        b"GET //x//y/../.. HTTP/1.1\r\nHost: a",
        b"GET /%zz%00%ff HTTP/1.1\r\nHost: a",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: a",
        b"GET * HTTP/1.1\r\nHost: a",
        b"OPTIONS * HTTP/1.1\r\nHost: a",
        b"GET / HTTP/1.0\r\nX-A: b",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-\xff: \xff",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: \xff, x-a\r\nConnection: x-a",
    ]
    for data in hostile:
        out, _, _ = exchange(edge, data + b"\r\nConnection: close\r\n\r\n")
        assert re.match(rb"HTTP/1\.[01] [1-5]\d\d ", out), (data, out[:200])
    assert "Traceback" not in edge.log()


def test_a_close_delimited_upstream_body_cut_by_a_reset_is_an_error_not_an_end(edge):
    # Read in JS: the whole body, or an error; never a silently short body.
    assert request(edge, "/text/close-delimited")[2] == b"100000"
    status, _, body = request(edge, "/text/close-delimited-cut")
    assert status == 200 and body.startswith(b"TypeError"), body
    # Forwarded untouched: the client's chunked body ends with its last chunk only if whole.
    status, _, body = request(edge, "/up/close-delimited")
    assert status == 200 and body.endswith(b"\r\n0\r\n\r\n")
    status, _, body = request(edge, "/up/close-delimited-cut")
    assert status == 200 and not body.endswith(b"0\r\n\r\n")
