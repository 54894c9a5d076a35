"""The splice relay end to end: an untouched forwarded body moves socket to socket.

The upstream here writes its responses byte by byte as each test needs them (Content-Length,
chunked with extensions and trailers, close-delimited, cut short, reset, paced), so every
way an upstream delimits a body, and every way it can break one, reaches the relay. The
metrics say which path each body took.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import os
import random
import signal
import socket
import ssl
import threading
import time
import urllib.request
import zlib
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import aiohttp
import brotli
import pytest

from tests.certs import make_cert
from tests.conftest import run
from tests.integration.ops_support import metric
from tests.processes import free_port
from tests.upstream import ServerThread, stream_bytes

SCRIPT = r"""
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const target = url.searchParams.get("t");
    switch (url.pathname) {
      case "/fwd":
        return fetch(target);
      case "/rewrap": {  // a new Response around the untouched body, headers changed
        const r = await fetch(target);
        const out = new Response(r.body, r);
        out.headers.set("x-relayed", "maybe");
        out.headers.delete("content-length");
        return out;
      }
      case "/up":  // an untouched upload: framed as the client's (its length, or chunks)
        return fetch(target, { method: "POST", body: request.body, duplex: "half" });
      case "/up-request":
        return fetch(new Request(target, request));
      case "/up-touched":  // the upload goes through the script, the response does not
        return fetch(target, { method: "POST", duplex: "half",
                               body: request.body.pipeThrough(new TransformStream()) });
      case "/up-generated": {  // a body the script makes, 40 x 16 KiB
        let n = 0;
        const body = new ReadableStream({ pull(c) {
          if (n++ >= 40) c.close(); else c.enqueue(new Uint8Array(16384).fill(97));
        } });
        return fetch(target, { method: "POST", duplex: "half", body });
      }
      case "/label": {  // the untouched body under the Content-Encoding ce ("none": removed)
        const r = await fetch(target);
        const headers = new Headers(r.headers);
        const ce = url.searchParams.get("ce");
        if (ce === "none") headers.delete("content-encoding");
        else headers.set("content-encoding", ce);
        const encodeBody = url.searchParams.get("encodeBody") ?? "automatic";
        return new Response(r.body, { status: r.status, headers, encodeBody });
      }
      case "/tee": {  // the script touched the body: frames, not the relay
        const r = await fetch(target);
        const [a, b] = r.body.tee();
        b.cancel();
        return new Response(a, r);
      }
    }
    return new Response("unknown", { status: 404 });
  },
};
"""

CHUNK = 64 << 10
LF_START = b"AB\r\n\r\nCD"


class RawUpstream(ServerThread):
    """An HTTP/1.1 upstream writing raw bytes, in a thread of its own. Paths:

    ``/cl/N``, ``/chunked/N?ext=1&trailer=1&size=S``, ``/close/N``: N bytes of
    :func:`stream_bytes`, delimited that way (``extlen=L``: each chunk's size line with an
    extension of L bytes; ``hold=1``: the last chunk only once ``release`` is set);
    ``/cut/FRAMING/N``: half of it, then a FIN; ``/reset/FRAMING/N``: half of it, then a
    reset; ``/paced/N?gap=S``: Content-Length, one 64 KiB piece every S seconds; ``?enc=E``
    adds ``Content-Encoding: E`` (the bytes stay as they are: a forward must not decode
    them); ``?z=E`` sends N bytes of :func:`noise` compressed to E (gzip, deflate, br)
    with ``Content-Encoding: E``; ``?lf=1`` ends the head's lines with a bare LF and the body's first bytes are
    ``LF_START`` (a CRLF CRLF inside the body). ``closed`` records the paths whose connection the peer closed while the body was
    still being written.
    """

    def __init__(self) -> None:
        super().__init__()
        self.closed: set[str] = set()
        self.served: list[str] = []
        self.release = threading.Event()
        self._server: asyncio.Server | None = None

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        return self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                self.served.append(target)
                keep = await self._answer(target, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, target: str, writer: asyncio.StreamWriter) -> bool:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path.strip("/").split("/")
        kind, n = path[0], int(path[-1])
        body = stream_bytes(n)
        if query.get("lf"):
            body = LF_START + body[len(LF_START):]
        if query.get("z"):
            body = compressed(noise(n), query["z"])
        framing = path[1] if kind in ("cut", "reset") else kind
        cut = kind in ("cut", "reset")
        send = body[: len(body) // 2] if cut else body
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        if query.get("enc") or query.get("z"):
            head += f"Content-Encoding: {query.get('enc') or query['z']}\r\n"
        if framing in ("cl", "paced"):
            head += f"Content-Length: {len(body)}\r\n"
        elif framing == "chunked":
            head += "Transfer-Encoding: chunked\r\n"
        else:
            head += "Connection: close\r\n"
        head += "\r\n"
        writer.write(head.replace("\r\n", "\n").encode() if query.get("lf") else head.encode())
        gap = float(query.get("gap", 0))
        size = int(query.get("size", CHUNK))
        ext = b";name=value" if query.get("ext") else b""
        if query.get("extlen"):
            ext = b";" + b"e" * (int(query["extlen"]) - 1)
        try:
            for i in range(0, len(send), size):
                piece = send[i:i + size]
                if framing == "chunked":
                    piece = b"%x%s\r\n%s\r\n" % (len(piece), ext, piece)
                writer.write(piece)
                await writer.drain()
                if gap:
                    await asyncio.sleep(gap)
            if query.get("hold"):
                await asyncio.to_thread(self.release.wait, 30)
            if cut:
                if kind == "reset":
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                    writer.transport.abort()
                return False
            if framing == "chunked":
                trailer = b"x-checksum: 1\r\n" if query.get("trailer") else b""
                writer.write(b"0\r\n" + trailer + b"\r\n")
            await writer.drain()
        except ConnectionError:
            self.closed.add(parts.path)
            return False
        return framing not in ("close",)


def noise(n: int) -> bytes:
    """N bytes that do not compress: a compressed body as large as the relay takes."""
    return random.Random(n).randbytes(n)


def compressed(data: bytes, coding: str) -> bytes:
    """``data`` in Content-Encoding ``coding`` (gzip, deflate: zlib's wrapping, br)."""
    if coding == "gzip":
        return gzip.compress(data, 1)
    if coding == "deflate":
        return zlib.compress(data, 1)
    assert coding == "br"
    return brotli.compress(data, quality=1)


def decoded(data: bytes, coding: str | None) -> bytes:
    """``data`` as a client decodes it under Content-Encoding ``coding``."""
    if coding in (None, "identity"):
        return data
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    if coding == "deflate":
        return zlib.decompress(data)
    assert coding == "br", coding
    return brotli.decompress(data)


@pytest.fixture(scope="module")
def raw_upstream():
    up = RawUpstream().start()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def relay(serve_module, metrics_port):
    return serve_module(SCRIPT, "--allow-fetch-to", "loopback", "--metrics",
                        f"127.0.0.1:{metrics_port}", workers=1, name="relay.mjs")


def counted(metrics_port: int, path: str, direction: str = "response") -> float:
    """isoflow_forwarded_bodies_total{path=...}: framed counts arrive with PONGs (1 s)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return metric(text, "isoflow_forwarded_bodies_total", direction=direction, path=path)


async def download(url: str, version: str = "1.1") -> tuple[int, dict, bytes, str | None]:
    """(status, headers, body, error): error names how the body broke, if it did."""
    v = aiohttp.HttpVersion10 if version == "1.0" else aiohttp.HttpVersion11
    async with aiohttp.ClientSession(version=v) as session, session.get(
            url, timeout=aiohttp.ClientTimeout(total=60)) as r:
        data = bytearray()
        try:
            async for piece in r.content.iter_any():
                data += piece
        except aiohttp.ClientPayloadError as e:
            return r.status, dict(r.headers), bytes(data), str(e)
        return r.status, dict(r.headers), bytes(data), None


def via(server, route: str, target: str) -> str:
    return server.url(f"{route}?t={target}")


@pytest.mark.parametrize("path", ["/cl/{n}", "/chunked/{n}", "/chunked/{n}?ext=1&trailer=1",
                                  "/chunked/{n}?size=7", "/close/{n}"])
def test_every_upstream_framing_is_relayed_bit_identical(relay, raw_upstream, metrics_port,
                                                         path):
    n = (3 << 20) + 12345 if "size=7" not in path else 300_000
    before = counted(metrics_port, "relayed")
    status, headers, body, error = run(download(via(relay, "/fwd", raw_upstream.url(
        path.format(n=n)))))
    assert (status, error, len(body)) == (200, None, n)
    assert hashlib.sha256(body).digest() == hashlib.sha256(stream_bytes(n)).digest()
    if path.startswith("/cl/"):
        assert headers["Content-Length"] == str(n)
    else:
        assert headers.get("Transfer-Encoding") == "chunked"  # re-framed for an 1.1 client
    assert counted(metrics_port, "relayed") == before + 1


@pytest.mark.parametrize("framing", ["cl", "close"])
def test_an_upstream_head_with_bare_lf_line_ends_is_not_relayed_from_inside_its_body(
        relay, raw_upstream, framing):
    n = 1 << 20
    status, _, body, error = run(download(via(relay, "/fwd", raw_upstream.url(
        f"/{framing}/{n}?lf=1&gap=0.02"))))
    expected = LF_START + stream_bytes(n)[len(LF_START):]
    assert (status, error, len(body)) == (200, None, n)
    assert body == expected


def test_a_compressed_body_is_relayed_with_its_encoding_untouched(relay, raw_upstream,
                                                                   metrics_port):
    n = 3 << 20

    async def raw() -> tuple[dict, bytes]:
        async with aiohttp.ClientSession(auto_decompress=False) as session, session.get(
                via(relay, "/fwd", raw_upstream.url(f"/cl/{n}?enc=gzip"))) as r:
            return dict(r.headers), await r.read()

    before = counted(metrics_port, "relayed")
    headers, body = run(raw())
    assert headers["Content-Encoding"] == "gzip" and headers["Content-Length"] == str(n)
    assert body == stream_bytes(n)  # as the upstream sent it, not decoded
    assert counted(metrics_port, "relayed") == before + 1


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_an_http10_client_gets_a_close_delimited_body(relay, raw_upstream, framing):
    n = 2 << 20
    status, headers, body, error = run(download(
        via(relay, "/fwd", raw_upstream.url(f"/{framing}/{n}")), version="1.0"))
    assert (status, error, len(body)) == (200, None, n)
    assert body == stream_bytes(n)
    assert "Transfer-Encoding" not in headers


def test_a_rewrapped_body_with_new_headers_is_relayed(relay, raw_upstream, metrics_port):
    n = 1 << 20
    before = counted(metrics_port, "relayed")
    status, headers, body, error = run(download(via(relay, "/rewrap",
                                                    raw_upstream.url(f"/cl/{n}"))))
    assert (status, error, body) == (200, None, stream_bytes(n))
    assert headers["x-relayed"] == "maybe"
    assert counted(metrics_port, "relayed") == before + 1


async def download_raw(url: str) -> tuple[int, dict, bytes]:
    """(status, headers, body): the body's bytes as they came, not decoded."""
    async with aiohttp.ClientSession(auto_decompress=False) as session, session.get(
            url, timeout=aiohttp.ClientTimeout(total=60)) as r:
        return r.status, dict(r.headers), await r.read()


def relabelled(server, upstream_path: str, ce: str, encode_body: str = "automatic") -> str:
    """/label's URL: the upstream body at ``upstream_path`` sent on under Content-Encoding
    ``ce`` ("none": without one)."""
    return server.url("/label?" + urlencode({"t": upstream_path, "ce": ce,
                                             "encodeBody": encode_body}))


@pytest.mark.parametrize(("path", "ce", "encode_body", "raw"), [
    ("/cl/{n}?z=gzip", "gzip", "automatic", True),  # the common untouched case: relayed
    ("/chunked/{n}?z=deflate", "deflate", "automatic", True),
    ("/cl/{n}?z=gzip", "x-gzip", "automatic", True),  # the same coding by another name
    ("/cl/{n}?z=gzip", "gzip", "manual", True),
    ("/cl/{n}", "gzip", "manual", True),  # "manual": the plain bytes as they are
    ("/cl/{n}?z=gzip", "none", "automatic", False),  # decoded
    ("/chunked/{n}?z=br", "none", "automatic", False),
    ("/cl/{n}?z=gzip", "identity", "automatic", False),
    ("/cl/{n}?z=gzip", "none", "manual", False),
    ("/cl/{n}", "gzip", "automatic", False),  # compressed
    ("/chunked/{n}", "br", "automatic", False),
    ("/cl/{n}?z=gzip", "br", "automatic", False),  # decoded, then compressed again
    ("/cl/{n}?z=br", "deflate", "automatic", False),
])
def test_a_forwarded_body_goes_out_in_the_content_encoding_its_response_names(
        relay, raw_upstream, metrics_port, path, ce, encode_body, raw):
    """Its raw bytes go (relayed) only when they are in the coding the response names (as
    in Workers, where the body is decoded when read and encoded to the response's
    Content-Encoding when sent); else the decoded body goes, compressed to that coding, and
    the upstream's Content-Length goes with the bytes it counted. (The raw bytes went in
    every case: a gzip body marked identity or br, plain text marked gzip.)"""
    n = 1 << 20
    sent = noise(n) if "z=" in path else stream_bytes(n)
    before = counted(metrics_port, "relayed")
    url = relabelled(relay, raw_upstream.url(path.format(n=n)), ce, encode_body)
    status, headers, body = run(download_raw(url))
    coding = headers.get("Content-Encoding")
    assert (status, coding) == (200, None if ce == "none" else ce)
    if encode_body == "manual" and "z=" not in path:
        assert body == sent  # labelled gzip by the script's own choice
    else:
        assert decoded(body, coding) == sent
    assert headers.get("Content-Length", str(len(body))) == str(len(body))
    assert counted(metrics_port, "relayed") == before + (1 if raw else 0)


def test_without_the_relay_a_forwarded_body_goes_out_in_its_content_encoding(
        serve, raw_upstream):
    """The frame path (``--no-relay``) sends the same bytes as the relay would."""
    server = serve(SCRIPT, "--allow-fetch-to", "loopback", "--no-relay", workers=1,
                   name="framed.mjs")
    n = 1 << 20
    for ce in ("none", "br", "gzip"):
        url = relabelled(server, raw_upstream.url(f"/cl/{n}?z=gzip"), ce)
        status, headers, body = run(download_raw(url))
        coding = headers.get("Content-Encoding")
        assert (status, coding) == (200, None if ce == "none" else ce)
        assert decoded(body, coding) == noise(n)
        assert headers.get("Content-Length", str(len(body))) == str(len(body))
    assert body == compressed(noise(n), "gzip")  # as it came


def test_a_tee_d_body_takes_the_frame_path(relay, raw_upstream, metrics_port):
    n = 1 << 20
    relayed, framed = counted(metrics_port, "relayed"), counted(metrics_port, "framed")
    status, _, body, error = run(download(via(relay, "/tee", raw_upstream.url(f"/cl/{n}"))))
    assert (status, error, body) == (200, None, stream_bytes(n))
    assert counted(metrics_port, "relayed") == relayed
    # /fwd-style forwards count as framed only when not relayed; a tee is not a forward.
    assert counted(metrics_port, "framed") == framed


@pytest.mark.parametrize("path", ["/cut/cl/{n}", "/cut/chunked/{n}", "/reset/close/{n}",
                                  "/reset/cl/{n}"])
def test_a_cut_upstream_is_a_visible_abort(relay, raw_upstream, path):
    n = 4 << 20
    status, _headers, body, error = run(download(via(relay, "/fwd",
                                                    raw_upstream.url(path.format(n=n)))))
    assert status == 200
    assert error is not None, f"a cut body of {len(body)} bytes looked complete"
    assert len(body) < n


def test_a_cut_close_delimited_body_reaches_an_http10_client_as_a_reset(relay, raw_upstream):
    async def go() -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        target = raw_upstream.url(f"/reset/close/{4 << 20}")
        writer.write(f"GET /fwd?t={target} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        try:
            while await reader.read(1 << 16):
                pass
        except ConnectionResetError:
            return "reset"
        finally:
            writer.close()
        return "fin"

    assert run(go()) == "reset"  # a FIN would pass for the body's end


def test_a_body_of_long_chunk_lines_is_relayed_while_the_front_serves_others(
        relay, raw_upstream, metrics_port):
    """5,000 one-byte chunks, each size line carrying a 4,000-byte extension: 20 MB of
    framing for 5 KB of payload. The relay reads it in large reads and gives the event
    loop turns, so another request on the same front is answered while the body is still
    flowing (the upstream holds its last chunk until then). Relayed a few bytes per read
    and without a turn, the framing held every other request for seconds."""
    n = 5000
    raw_upstream.release.clear()
    before = counted(metrics_port, "relayed")

    async def go() -> tuple[float, bool, bytes]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            target = raw_upstream.url(f"/chunked/{n}?size=1&extlen=4000&hold=1")
            async with session.get(via(relay, "/fwd", quote(target, safe=""))) as r:
                assert r.status == 200
                await asyncio.sleep(0.3)  # the relay under way (the head comes before it)
                started = time.monotonic()
                async with session.get(relay.url("/another")) as other:
                    assert (other.status, await other.text()) == (404, "unknown")
                took = time.monotonic() - started
                flowing = not r.content.at_eof()
                raw_upstream.release.set()
                return took, flowing, await r.read()

    try:
        took, flowing, body = run(go())
    finally:
        raw_upstream.release.set()
    assert body == stream_bytes(n)
    assert flowing  # the relay had not finished: the answer came while it ran
    assert took < 2.0, f"another request took {took:.2f} s during the relay"
    assert counted(metrics_port, "relayed") == before + 1


def test_the_client_connection_is_reused_after_a_relayed_body(relay, raw_upstream):
    created = []

    async def on_create(session, context, params) -> None:
        created.append(params)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_create)

    async def go() -> list[int]:
        sizes = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1),
                                         trace_configs=[trace]) as session:
            for path in ("/chunked/300000", "/cl/200000", "/close/100000", "/chunked/5"):
                async with session.get(via(relay, "/fwd", raw_upstream.url(path))) as r:
                    sizes.append(len(await r.read()))
        return sizes

    assert run(go()) == [300000, 200000, 100000, 5]
    assert len(created) == 1  # one connection carried all four


def test_the_access_log_counts_relayed_bytes(relay, raw_upstream):
    n = (1 << 20) + 7
    status, _, body, _ = run(download(via(relay, "/fwd", raw_upstream.url(f"/chunked/{n}"))))
    assert status == 200 and len(body) == n
    deadline = time.monotonic() + 5
    while f"out={n} " not in relay.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"out={n} " in relay.log()


def test_a_client_leaving_mid_relay_closes_the_upstream(relay, raw_upstream):
    async def go() -> None:
        target = raw_upstream.url(f"/paced/{64 << 20}?gap=0.01")
        async with aiohttp.ClientSession() as session, session.get(
                via(relay, "/fwd", target)) as r:
            await r.content.readexactly(1 << 20)
        # The session is closed: the client connection is gone mid-body.

    run(go())
    deadline = time.monotonic() + 10
    while "/paced/67108864" not in raw_upstream.closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "/paced/67108864" in raw_upstream.closed


def test_killing_the_worker_mid_relay_does_not_break_the_transfer(serve, raw_upstream):
    server = serve(SCRIPT, "--allow-fetch-to", "loopback", workers=1, name="kill.mjs")
    n = 16 << 20
    target = raw_upstream.url(f"/paced/{n}?gap=0.005")

    async def go() -> tuple[int, bytes, str | None]:
        async with aiohttp.ClientSession() as session, session.get(
                via(server, "/fwd", target)) as r:
            data = bytearray(await r.content.readexactly(1 << 20))
            os.kill(server.worker_pids()["w0"], signal.SIGKILL)
            try:
                async for piece in r.content.iter_any():
                    data += piece
            except aiohttp.ClientPayloadError as e:
                return r.status, bytes(data), str(e)
            return r.status, bytes(data), None

    victim = server.worker_pids()["w0"]
    status, body, error = run(go())
    assert (status, error, len(body)) == (200, None, n)
    assert body == stream_bytes(n)
    deadline = time.monotonic() + 20
    while server.worker_pids()["w0"] == victim and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.worker_pids()["w0"] != victim  # the supervisor replaced it


def test_without_the_relay_forwarded_bodies_are_framed(serve, raw_upstream):
    port = free_port()
    server = serve(SCRIPT, "--allow-fetch-to", "loopback", "--no-relay", "--metrics",
                   f"127.0.0.1:{port}", workers=1, name="framed.mjs")
    n = 2 << 20
    status, _, body, error = run(download(via(server, "/fwd", raw_upstream.url(f"/chunked/{n}"))))
    assert (status, error, body) == (200, None, stream_bytes(n))
    deadline = time.monotonic() + 5  # the worker's count comes with its next PONG
    while counted(port, "framed") < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counted(port, "framed") == 1
    assert counted(port, "relayed") == 0


# -- uploads ------------------------------------------------------------------------------


async def upload(url: str, body: bytes, piece: int = 1 << 20,
                 gap: float = 0.0, chunked: bool = False) -> tuple[int, bytes, dict]:
    async def pieces():
        for i in range(0, len(body), piece):
            yield body[i:i + piece]
            if gap:
                await asyncio.sleep(gap)

    async with aiohttp.ClientSession() as session, session.post(
            url, data=pieces(), headers={} if chunked else {"Content-Length": str(len(body))},
            timeout=aiohttp.ClientTimeout(total=60)) as r:
        return r.status, await r.read(), dict(r.headers)


@pytest.mark.parametrize("route", ["/up", "/up?chunked=1", "/up-request"])
def test_an_untouched_upload_is_spliced_into_the_upstream(relay, upstream, metrics_port,
                                                          route):
    payload = stream_bytes(12 << 20)
    before = counted(metrics_port, "relayed", "upload")
    sep = "&" if "?" in route else "?"
    status, body, headers = run(upload(relay.url(f"{route}{sep}t={upstream.url('/count')}"),
                                       payload, chunked="chunked" in route))
    assert status == 200, body
    seen = json.loads(body)
    assert seen["size"] == len(payload)
    assert seen["sha256"] == hashlib.sha256(payload).hexdigest()
    assert seen["te"] == ("chunked" if "chunked" in route else None)
    assert counted(metrics_port, "relayed", "upload") == before + 1
    assert headers.get("Connection") == "close"  # aiohttp's parser did not see the body


def test_an_upload_and_its_echo_are_both_relayed(relay, upstream, metrics_port):
    payload = stream_bytes(20 << 20)
    uploads, responses = (counted(metrics_port, "relayed", d) for d in ("upload", "response"))
    # The echo answers once 2 MiB have arrived: past the first window, so the upload is
    # relayed by then, and its response can be too.
    echo = upstream.url("/echo?after=" + str(2 << 20))
    status, body, _ = run(upload(relay.url(f"/up?t={echo}"), payload))
    assert status == 200
    assert hashlib.sha256(body).digest() == hashlib.sha256(payload).digest()
    assert counted(metrics_port, "relayed", "upload") == uploads + 1
    assert counted(metrics_port, "relayed", "response") == responses + 1


async def raw_upload(port: int, head: bytes, pieces: list[bytes], *, split_head: bool = False,
                     ext: bytes = b"", gap: float = 0.0) -> tuple[int, bytes]:
    """POST a chunked body over a plain socket (``split_head``: the head in two writes, so
    the front's protocol sees it arrive in two reads); (status, decoded response body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        if split_head:
            writer.write(head[:10])
            await writer.drain()
            await asyncio.sleep(0.1)
            head_rest = head[10:]
        else:
            head_rest = head
        for i, piece in enumerate(pieces):
            writer.write((head_rest if i == 0 else b"") + b"%x%s\r\n" % (len(piece), ext)
                         + piece + b"\r\n")
            await writer.drain()
            if gap:
                await asyncio.sleep(gap)
        writer.write(b"0\r\nX-Checksum: 1\r\n\r\n")
        await writer.drain()

    sender = asyncio.create_task(send())
    try:
        async with asyncio.timeout(30):
            status = int((await reader.readline()).split()[1])
            fields = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                fields[name.strip().lower()] = value.strip()
            body = bytearray()
            if fields.get("transfer-encoding") == "chunked":
                while size := int((await reader.readline()).split(b";")[0], 16):
                    body += await reader.readexactly(size)
                    await reader.readexactly(2)
            elif "content-length" in fields:
                body += await reader.readexactly(int(fields["content-length"]))
            await sender
            return status, bytes(body)
    finally:
        sender.cancel()
        writer.close()


def chunked_head(path: str) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()


def test_a_response_is_not_relayed_while_its_request_body_still_flows_as_frames(
        relay, upstream, metrics_port):
    """The upstream answers at once and echoes as the body comes; the upload is too small
    to be relayed, so it goes as frames through the worker to the end. Relaying the
    response would end the stream and cut the upload off (the upstream then waits for the
    rest forever)."""
    payload = stream_bytes(1 << 20)
    uploads, responses = (counted(metrics_port, "relayed", d) for d in ("upload", "response"))
    status, body, _ = run(upload(relay.url(f"/up?t={upstream.url('/echo')}"), payload,
                                 piece=64 << 10, gap=0.01))
    assert status == 200
    assert hashlib.sha256(body).digest() == hashlib.sha256(payload).digest()
    assert counted(metrics_port, "relayed", "upload") == uploads
    assert counted(metrics_port, "relayed", "response") == responses


def test_a_chunked_upload_whose_raw_bytes_were_not_recorded_is_copied(relay, upstream,
                                                                      metrics_port):
    """Its head came in two reads, so the front has no record of the raw bytes: the rest
    of the body goes from aiohttp's reader into the handed-over socket, still past the
    worker (which may then relay the echo too)."""
    payload = stream_bytes(6 << 20)
    pieces = [payload[i:i + (256 << 10)] for i in range(0, len(payload), 256 << 10)]
    uploads = counted(metrics_port, "relayed", "upload")
    status, body = run(raw_upload(relay.port, chunked_head(f"/up?chunked=1&t={upstream.url('/echo')}"),
                                  pieces, split_head=True))
    assert status == 200
    assert hashlib.sha256(body).digest() == hashlib.sha256(payload).digest()
    assert counted(metrics_port, "relayed", "upload") == uploads + 1


@pytest.mark.parametrize("route", ["/up?chunked=1", "/up-request"])
def test_a_chunked_upload_is_relayed_from_where_its_frames_stopped(relay, upstream,
                                                                   metrics_port, route):
    """No Content-Length: the front resumes the relay from the chunk its frames stopped in
    (its recorded raw bytes), with extensions and trailers on the way; the upstream gets
    every byte once, in order."""
    payload = stream_bytes(9 << 20)
    piece = 7001  # chunks that never line up with the window
    pieces = [payload[i:i + piece] for i in range(0, len(payload), piece)]
    before = counted(metrics_port, "relayed", "upload")
    status, body = run(raw_upload(relay.port, chunked_head(
        f"{route}&t={upstream.url('/count')}".replace("-request&", "-request?")), pieces,
        ext=b";n=1"))
    assert status == 200, body
    seen = json.loads(body)
    assert (seen["size"], seen["te"]) == (len(payload), "chunked")
    assert seen["sha256"] == hashlib.sha256(payload).hexdigest()
    assert counted(metrics_port, "relayed", "upload") == before + 1


def test_a_small_chunked_request_forwarded_whole_reaches_the_upstream(relay, upstream,
                                                                     metrics_port):
    """``fetch(new Request(url, request))`` of a chunked upload: the client's
    Transfer-Encoding is not copied (the fetch frames the body itself); too small to be
    relayed, it goes as frames."""
    before = counted(metrics_port, "relayed", "upload")
    status, body = run(raw_upload(relay.port, chunked_head(
        f"/up-request?t={upstream.url('/count')}"), [b"abc", b"defgh"]))
    assert status == 200, body
    assert json.loads(body)["size"] == 8
    assert counted(metrics_port, "relayed", "upload") == before


def test_a_relayed_chunked_upload_keeps_its_last_chunk_when_the_response_comes_after(
        relay, upstream):
    """The upstream answers only once the whole payload is in, then waits for the last
    chunk, which the worker's fetch writes after REQUEST_END: its response must not be
    handed over before that (the connection would go, and the last chunk with it)."""
    payload = stream_bytes(3 << 20)
    pieces = [payload[i:i + (256 << 10)] for i in range(0, len(payload), 256 << 10)]
    for _ in range(3):
        status, body = run(raw_upload(relay.port, chunked_head(
            f"/up?chunked=1&t={upstream.url(f'/echo?after={len(payload)}')}"), pieces))
        assert status == 200
        assert hashlib.sha256(body).digest() == hashlib.sha256(payload).digest()


def test_a_chunked_upload_from_aiohttp_is_relayed(relay, upstream, metrics_port):
    payload = stream_bytes(12 << 20)

    async def go() -> tuple[int, bytes]:
        async def pieces():
            for i in range(0, len(payload), 1 << 20):
                yield payload[i:i + (1 << 20)]

        async with aiohttp.ClientSession() as session, session.post(
                relay.url(f"/up?chunked=1&t={upstream.url('/count')}"), data=pieces(),
                timeout=aiohttp.ClientTimeout(total=60)) as r:
            return r.status, await r.read()

    before = counted(metrics_port, "relayed", "upload")
    status, body = run(go())
    assert status == 200, body
    assert json.loads(body)["sha256"] == hashlib.sha256(payload).hexdigest()
    assert counted(metrics_port, "relayed", "upload") == before + 1


def test_a_relayed_chunked_upload_over_the_limit_gets_413(serve_module, upstream):
    server = serve_module(SCRIPT, "--allow-fetch-to", "loopback", "--max-body-size", "3MiB",
                          workers=1, name="limited.mjs")
    payload = stream_bytes(6 << 20)
    pieces = [payload[i:i + (64 << 10)] for i in range(0, len(payload), 64 << 10)]
    target = upstream.url("/count?name=limited")
    with contextlib.suppress(ConnectionError):
        status, _ = run(raw_upload(server.port, chunked_head(f"/up?chunked=1&t={target}"),
                                   pieces))
        assert status == 413
    server.wait_log("request body over 3145728 bytes")
    assert ("end", "limited", len(payload)) not in upstream.events
    assert upstream.received.get("limited", 0) <= 3 << 20


@pytest.mark.parametrize("route", ["/up-touched", "/up-generated"])
def test_a_response_is_not_relayed_while_the_fetch_still_writes_its_body(relay, upstream,
                                                                         route):
    """The fetch's own body comes from the script (a pipe, a stream it makes) while the
    upstream echoes it at once: the connection carries that body until it is written, so
    the response goes as frames (a hand-over cut the body off, and both sides waited)."""
    payload = stream_bytes(600_000) if route == "/up-touched" else b""
    expected = payload or b"a" * (40 * 16384)
    status, body, _ = run(upload(relay.url(f"{route}?t={upstream.url('/echo')}"), payload,
                                 piece=64 << 10))
    assert status == 200
    assert len(body) == len(expected) and body == expected


def test_a_forwarded_response_that_ends_before_its_piped_upload_is_whole(relay, upstream,
                                                                         raw_upstream):
    """The upstream answers without reading the body the script pipes into the fetch: the
    response arrives whole, and the rest of the upload is dropped without a hang."""
    payload = stream_bytes(3 << 20)
    status, body, _ = run(upload(relay.url(f"/up-touched?t={raw_upstream.url('/cl/1000')}"),
                                 payload, piece=64 << 10, gap=0.005))
    assert status == 200 and body == stream_bytes(1000)
    status, _, body, _ = run(download(via(relay, "/fwd", upstream.url("/text"))))
    assert (status, body) == (200, b"hello from upstream")


def test_a_small_upload_takes_the_frame_path(relay, upstream, metrics_port):
    payload = stream_bytes(300_000)  # not 1 MiB beyond the first window
    before = counted(metrics_port, "relayed", "upload")
    status, body, _ = run(upload(relay.url(f"/up?t={upstream.url('/count')}"), payload))
    assert status == 200
    assert json.loads(body)["size"] == len(payload)
    assert counted(metrics_port, "relayed", "upload") == before


def test_a_client_cutting_its_relayed_upload_short_is_not_a_complete_body(relay, upstream):
    """The client promises 8 MiB, sends 4 and leaves: the upstream must not see a whole
    body, and the service goes on serving."""
    async def go() -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        target = upstream.url("/count?name=cut")
        writer.write(f"POST /up?t={target} HTTP/1.1\r\nHost: x\r\n"
                     f"Content-Length: {8 << 20}\r\n\r\n".encode())
        writer.write(stream_bytes(4 << 20))
        await writer.drain()
        await asyncio.sleep(0.5)
        writer.transport.abort()

    run(go())
    deadline = time.monotonic() + 10
    while ("end", "cut", 8 << 20) not in upstream.events and time.monotonic() < deadline:
        if upstream.received.get("cut", 0) >= 4 << 20:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    assert ("end", "cut", 8 << 20) not in upstream.events
    status, _, body, _ = run(download(via(relay, "/fwd", upstream.url("/text"))))
    assert (status, body) == (200, b"hello from upstream")


def test_no_descriptor_is_left_behind(relay, raw_upstream, upstream):
    def fds() -> int:
        pid = relay.proc.pid
        return len(os.listdir(f"/proc/{pid}/fd"))

    run(download(via(relay, "/fwd", raw_upstream.url("/cl/1000000"))))
    start = fds()
    for path in ("/cl/1000000", "/chunked/1000000", "/cut/cl/1000000", "/reset/close/1000000"):
        for _ in range(3):
            with contextlib.suppress(aiohttp.ClientError):
                run(download(via(relay, "/fwd", raw_upstream.url(path))))
    for _ in range(3):
        run(upload(relay.url(f"/up?t={upstream.url('/count')}"), stream_bytes(3 << 20)))
    time.sleep(0.5)
    assert fds() <= start + 2


def test_a_tls_client_gets_a_relayed_body_through_the_tls_writer(ops, tmp_path, raw_upstream,
                                                                upstream):
    make_cert(tmp_path)
    server = ops(
        """
        [[listeners]]
        port = @PORT@
        tls_cert = "cert.pem"
        tls_key = "key.pem"

        [scripts.app]
        path = "app.mjs"
        workers = 1

        [scripts.app.fetch]
        allow_loopback = true

        [[routes]]
        script = "app"
        """,
        files={"app.mjs": SCRIPT},
    )
    context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    n = (2 << 20) + 3

    async def get(path: str) -> tuple[int, bytes]:
        url = f"https://127.0.0.1:{server.port}/fwd?t={raw_upstream.url(path)}"
        async with aiohttp.ClientSession() as s, s.get(url, ssl=context) as r:
            return r.status, await r.read()

    for path in (f"/cl/{n}", f"/chunked/{n}", f"/close/{n}"):
        assert run(get(path)) == (200, stream_bytes(n)), path

    # Its upload cannot be relayed (TLS wraps it), so the worker does not ask: the body goes
    # as frames while the echo, answering at once, is relayed back.
    payload = stream_bytes(6 << 20)

    async def echo() -> tuple[int, bytes]:
        url = f"https://127.0.0.1:{server.port}/up?t={upstream.url('/echo')}"
        async with aiohttp.ClientSession() as s, s.post(
                url, data=payload, ssl=context, timeout=aiohttp.ClientTimeout(total=30)) as r:
            return r.status, await r.read()

    status, body = run(echo())
    assert status == 200 and hashlib.sha256(body).digest() == hashlib.sha256(payload).digest()


def test_a_head_request_closes_the_socket_it_does_not_need(relay, raw_upstream):
    async def head() -> int:
        async with aiohttp.ClientSession() as s, s.head(
                via(relay, "/fwd", raw_upstream.url(f"/paced/{48 << 20}?gap=0.01"))) as r:
            return r.status

    assert run(head()) == 200
    deadline = time.monotonic() + 5  # not the hand-over's 10 s: at once
    while "/paced/50331648" not in raw_upstream.closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "/paced/50331648" in raw_upstream.closed


def test_the_splice_mode_relays_both_ways(serve, raw_upstream, upstream):
    port = free_port()
    server = serve(SCRIPT, "--allow-fetch-to", "loopback", "--relay-mode", "splice",
                   "--metrics", f"127.0.0.1:{port}", workers=1, name="spliced.mjs")
    n = (2 << 20) + 1
    for path in (f"/cl/{n}", f"/chunked/{n}?ext=1&trailer=1", f"/close/{n}"):
        status, _, body, error = run(download(via(server, "/fwd", raw_upstream.url(path))))
        assert (status, error, body) == (200, None, stream_bytes(n)), path
    payload = stream_bytes(6 << 20)
    status, body, _ = run(upload(server.url(f"/up?chunked=1&t={upstream.url('/count')}"),
                                 payload))
    assert status == 200
    assert json.loads(body)["sha256"] == hashlib.sha256(payload).hexdigest()
    assert counted(port, "relayed") == 3
    assert counted(port, "relayed", "upload") == 1


def test_every_front_relays_through_its_own_hand_over_socket(serve, raw_upstream):
    port = free_port()
    server = serve(SCRIPT, "--allow-fetch-to", "loopback", "--fronts", "2", "--metrics",
                   f"127.0.0.1:{port}", workers=2, name="fronts.mjs")
    n = (1 << 20) + 17

    async def many() -> list[tuple]:
        return await asyncio.gather(*(download(via(server, "/fwd", raw_upstream.url(
            f"/chunked/{n}"))) for _ in range(12)))

    for status, _, body, error in run(many()):
        assert (status, error, body) == (200, None, stream_bytes(n))
    assert counted(port, "relayed") == 12  # /metrics sums the fronts
