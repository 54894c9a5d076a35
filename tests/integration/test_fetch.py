"""Outbound fetch() end to end, against real upstream servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import re
import socket
import threading

import aiohttp
import pytest
from multidict import CIMultiDict

from isoflow.isolate_worker.codecs import OUTPUT_PIECE
from tests.conftest import fetch, run
from tests.processes import free_port
from tests.upstream import Upstream, pattern, stream_bytes

ALLOW_LOOPBACK = ("--allow-fetch-to", "loopback")

# One script serves every test: the path picks the behaviour, `?u=` is the upstream base.
SCRIPT = r"""
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const enc = new TextEncoder();

async function handle(request) {
  const url = new URL(request.url);
  const up = url.searchParams.get("u");
  switch (url.pathname) {
    case "/stats":
      return new Response(__isoflow_status());
    case "/text": {
      const r = await fetch(`${up}/text`);
      return Response.json({ status: r.status, ok: r.ok, statusText: r.statusText,
        text: await r.text(), header: r.headers.get("x-upstream"), url: r.url });
    }
    case "/headers": {
      const h = new Headers();
      h.append("X-Dup", "one");
      h.append("X-Dup", "two");
      h.append("X-Case", "Kept");
      const r = await fetch(`${up}/headers`, { method: url.searchParams.get("m") ?? "GET", headers: h });
      return new Response(await r.text());
    }
    case "/framing": {
      // A length that is not the body's is not sent: the pooled connection stays in step.
      const stream = new Blob(["abcd"]).stream();
      const a = await fetch(`${up}/early`, { method: "POST", body: "abc",
        headers: { "content-length": "60", "transfer-encoding": "chunked" } });
      const c = await fetch(`${up}/early`, { method: "PUT", body: stream, duplex: "half",
        headers: { "content-length": "2" } });
      const b = await fetch(`${up}/headers`, { headers: { authorization: "Bearer B",
        host: "internal-admin.example" } });
      return Response.json({ a: [a.status, await a.text()], c: [c.status, await c.text()],
        b: b.status, seen: (await b.json()).headers });
    }
    case "/fixed": {  // a FixedLengthStream's readable side as a body: it has a length
      const { readable, writable } = new FixedLengthStream(11);
      const writer = writable.getWriter();
      const short = url.searchParams.has("short");
      (async () => {
        await writer.write(enc.encode("hello "));
        await sleep(5);
        if (short) await writer.close().catch(() => {});
        else { await writer.write(enc.encode("world")); await writer.close(); }
      })();
      if (url.searchParams.has("upload")) {
        const r = await fetch(`${up}/headers`, { method: "POST", body: readable, duplex: "half" });
        return new Response(await r.text());
      }
      return new Response(readable);
    }
    case "/sse": {  // an EventSource: events, a reconnection with Last-Event-ID, close()
      const query = url.searchParams.get("q") ?? "";
      const source = new EventSource(`${up}/sse${query}`);
      const seen = [];
      await new Promise((resolve) => {
        source.onopen = () => seen.push(["open", source.readyState]);
        source.onmessage = (e) => {
          seen.push([e.type, e.data, e.lastEventId, e.origin === new URL(up).origin]);
          if (e.data === "again") { source.close(); resolve(); }
        };
        source.addEventListener("custom", (e) => seen.push([e.type, e.data, e.lastEventId]));
        source.onerror = () => {
          seen.push(["error", source.readyState]);
          if (source.readyState === EventSource.CLOSED) resolve();
        };
      });
      return Response.json({ seen, state: source.readyState });
    }
    case "/cookies": {
      const r = await fetch(`${up}/cookies`);
      return Response.json(r.headers.getSetCookie());
    }
    case "/body": {
      const kind = url.searchParams.get("kind");
      const bodies = {
        string: () => "text body",
        arraybuffer: () => new Uint8Array([104, 105]).buffer,
        typed: () => new Uint16Array([0x6968]),
        blob: () => new Blob(["blob ", "body"], { type: "text/x-blob" }),
        form: () => { const f = new FormData(); f.append("a", "1"); f.append("f", new Blob(["x"]), "f.txt"); return f; },
        params: () => new URLSearchParams({ q: "a b", r: "c" }),
      };
      const r = await fetch(`${up}/headers`, { method: "POST", body: bodies[kind]() });
      return new Response(await r.text());
    }
    case "/upload": {
      // Each chunk is produced only once the upstream has received the previous ones.
      let i = 0;
      const n = 5;
      const body = new ReadableStream({
        async pull(controller) {
          if (i > 0) {
            for (;;) {
              const got = await (await fetch(`${up}/progress/upload`)).json();
              if (got >= i * 1000) break;
              await sleep(5);
            }
          }
          if (i === n) return controller.close();
          controller.enqueue(new Uint8Array(1000).fill(97 + i));
          i++;
        },
      });
      const r = await fetch(`${up}/count?name=upload`, { method: "POST", body, duplex: "half" });
      return new Response(await r.text());
    }
    case "/proxy":
      return fetch(`${up}/stream/${url.searchParams.get("n")}`);
    case "/proxy-rewrap": {
      const r = await fetch(`${up}/stream/${url.searchParams.get("n")}`);
      const out = new Response(r.body, r);
      out.headers.set("x-proxied", "1");
      return out;
    }
    case "/forward-request":
      return fetch(new Request(`${up}/count?name=fwd`, request));
    case "/read-all": {
      const r = await fetch(`${up}/stream/${url.searchParams.get("n")}`);
      const buf = new Uint8Array(await r.arrayBuffer());
      return Response.json({ size: buf.length, first: buf[0], last: buf[buf.length - 1] });
    }
    case "/unread": {
      const r = await fetch(`${up}/stream/${100 << 20}?name=unread`);
      await sleep(1500);
      return new Response("done waiting " + r.status);
    }
    case "/abort": {
      const controller = new AbortController();
      const r = await fetch(`${up}/forever/abort`, { signal: controller.signal });
      const reader = r.body.getReader();
      await reader.read();
      controller.abort();
      try {
        await reader.read();
        return new Response("read after abort succeeded", { status: 500 });
      } catch (e) {
        return new Response(e.name);
      }
    }
    case "/abort-before": {
      const controller = new AbortController();
      controller.abort(new Error("custom reason"));
      try {
        await fetch(`${up}/text`, { signal: controller.signal });
        return new Response("no error");
      } catch (e) {
        return new Response(e.message);
      }
    }
    case "/redirect": {
      const mode = url.searchParams.get("mode");
      try {
        const r = await fetch(`${up}/redirect/3`, { redirect: mode });
        return Response.json({ status: r.status, url: r.url, redirected: r.redirected,
          location: r.headers.get("location"), text: mode === "manual" ? "" : await r.text() });
      } catch (e) {
        return Response.json({ error: e.name, message: e.message });
      }
    }
    case "/redirect-to": {
      const to = encodeURIComponent(url.searchParams.get("location"));
      try {
        return new Response((await fetch(`${up}/redirect-to?location=${to}`)).status);
      } catch (e) {
        return Response.json({ error: e.name, message: e.message });
      }
    }
    case "/redirect-status": {
      const r = await fetch(`${up}/redirect-status/${url.searchParams.get("s")}`,
        { method: "POST", body: "payload" });
      return new Response(await r.text());
    }
    case "/encoded": {
      const r = await fetch(`${up}/${url.searchParams.get("e")}`);
      const text = await r.text();
      return Response.json({ length: text.length, start: text.slice(0, 18), encoding: r.headers.get("content-encoding") });
    }
    case "/encoded-forward":
      return fetch(`${up}/gzip`);
    case "/encoded-touched": {  // a compressed upstream's body decoded in JS, then sent on
      const how = url.searchParams.get("how");
      const r = await fetch(`${up}/${url.searchParams.get("e") ?? "gzip"}`);
      const key = new URL("/cache-key", request.url).href;
      if (how === "clone") {  // the Workers caching snippet: put a clone, return the original
        await caches.default.put(key, r.clone());
        return r;
      }
      if (how === "cached") return (await caches.default.match(key)) ?? new Response("miss");
      if (how === "cached-range") {  // the client's Range, If-None-Match... apply
        const hit = await caches.default.match(new Request(key, { headers: request.headers }));
        return hit ?? new Response("miss");
      }
      if (how === "rewrite") return new Response((await r.text()).toUpperCase(), r);
      const manual = new Response("plain").body.pipeThrough(new CompressionStream("gzip"));
      if (how === "manual-cached") {  // the script's own gzip bytes, through the cache
        const mkey = new URL("/manual-key", request.url).href;
        await caches.default.put(mkey, new Response(manual, {
          encodeBody: "manual", headers: { "content-encoding": "gzip", "cache-control": "max-age=60" },
        }));
        return (await caches.default.match(mkey)) ?? new Response("miss");
      }
      return new Response(manual, { encodeBody: "manual", headers: { "content-encoding": "gzip" } });
    }
    case "/bomb": {
      const r = await fetch(`${up}/bomb/${url.searchParams.get("e")}`);
      let total = 0, largest = 0;
      for await (const chunk of r.body) {
        total += chunk.length;
        largest = Math.max(largest, chunk.length);
      }
      return Response.json({ total, largest });
    }
    case "/error": {
      const target = url.searchParams.get("t");
      try {
        const init = target === "badheader" ? { headers: { "x-bad": "a\nb" } } : undefined;
        const r = await fetch(target === "badheader" ? `${up}/text` : target, init);
        await r.arrayBuffer();
        return new Response("no error");
      } catch (e) {
        return Response.json({ name: e.name, message: e.message });
      }
    }
    case "/many": {
      const out = [];
      for (let i = 0; i < 5; i++) {
        try {
          await (await fetch(`${up}/text`)).text();
          out.push("ok");
        } catch (e) {
          out.push(e.message);
        }
      }
      return Response.json(out);
    }
  }
  return new Response("unknown path", { status: 404 });
}

export default { fetch: handle };
"""


@pytest.fixture(scope="module")
def proxy(serve_module):
    return serve_module(SCRIPT, *ALLOW_LOOPBACK, workers=1, name="fetch.mjs")


def get(server, path: str, up: Upstream, **kw):
    sep = "&" if "?" in path else "?"
    return run(fetch(server.url(f"{path}{sep}u={up.url('')}"), **kw))


def get_json(server, path, up, **kw):
    status, _, body = get(server, path, up, **kw)
    assert status == 200, body
    return json.loads(body)


def stats(server, up) -> dict:
    return get_json(server, "/stats", up)


def test_fetch_reads_status_headers_and_text(proxy, upstream):
    data = get_json(proxy, "/text", upstream)
    assert data == {"status": 200, "ok": True, "statusText": "OK", "text": "hello from upstream",
                    "header": "yes", "url": upstream.url("/text")}


def test_request_headers_are_sent_as_given_with_duplicates(proxy, upstream):
    data = get_json(proxy, "/headers", upstream)
    sent = [(k.lower(), v) for k, v in data["headers"]]
    assert ("x-dup", "one") in sent and ("x-dup", "two") in sent
    assert sent.index(("x-dup", "one")) < sent.index(("x-dup", "two"))
    assert ("x-case", "Kept") in sent
    assert data["method"] == "GET"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "PURGE"])
def test_any_method(proxy, upstream, method):
    assert get_json(proxy, f"/headers?m={method}", upstream)["method"] == method


def test_framing_and_host_are_the_body_s_and_the_url_s_not_the_scripts_headers(proxy, upstream):
    status, _, body = run(fetch(proxy.url(f"/framing?u={upstream.url('')}")))
    out = json.loads(body)
    assert status == 200 and out["a"] == [401, "length 3"], out
    assert out["c"][0] == 401 and out["c"][1] in ("length 4", "length None"), out
    assert out["b"] == 200 and ["authorization", "Bearer B"] in out["seen"], out
    assert ["Host", f"127.0.0.1:{upstream.port}"] in out["seen"], out  # the URL's, not the script's


def test_a_fixed_length_stream_body_has_its_length(proxy, upstream):
    status, headers, body = run(fetch(proxy.url(f"/fixed?u={upstream.url('')}")))
    assert (status, body) == (200, b"hello world")
    assert headers["content-length"] == "11" and "transfer-encoding" not in headers
    out = get_json(proxy, "/fixed?upload", upstream)
    sent = {k.lower(): v for k, v in out["headers"]}
    assert sent.get("content-length") == "11" and "transfer-encoding" not in sent, sent
    assert out["body"] == "hello world"
    with pytest.raises(aiohttp.ClientPayloadError):  # closed short: the answer is cut
        run(fetch(proxy.url(f"/fixed?short&u={upstream.url('')}")))


def test_event_source_reads_events_and_reconnects_with_the_last_event_id(proxy, upstream):
    out = get_json(proxy, "/sse", upstream)
    assert out == {"state": 2, "seen": [
        ["open", 1], ["message", "one", "", True], ["custom", "two\nlines", "7"],
        ["error", 0], ["open", 1], ["message", "again", "7", True]]}, out
    sent = [e for e in upstream.events if e[0] == "sse"][-2:]
    assert sent == [("sse", None, "text/event-stream"), ("sse", "7", "text/event-stream")]
    for query in ("?status=404", "?type=text/plain"):  # failed for good: no reconnection
        out = get_json(proxy, "/sse?q=" + query.replace("?", "%3F").replace("=", "%3D")
                       .replace("/", "%2F"), upstream)
        assert out == {"state": 2, "seen": [["error", 2]]}, (query, out)


def test_set_cookie_values_stay_separate(proxy, upstream):
    assert get_json(proxy, "/cookies", upstream) == ["a=1; Path=/", "b=2; Path=/"]


@pytest.mark.parametrize(
    "kind, body, ctype",
    [
        ("string", "text body", "text/plain;charset=UTF-8"),
        ("arraybuffer", "hi", None),
        ("typed", "hi", None),
        ("blob", "blob body", "text/x-blob"),
        ("params", "q=a+b&r=c", "application/x-www-form-urlencoded;charset=UTF-8"),
    ],
)
def test_request_body_types(proxy, upstream, kind, body, ctype):
    data = get_json(proxy, f"/body?kind={kind}", upstream)
    headers = {k.lower(): v for k, v in data["headers"]}
    assert data["body"] == body
    assert headers.get("content-type") == ctype
    assert headers.get("content-length") == str(len(body))


def test_form_data_body_is_multipart(proxy, upstream):
    data = get_json(proxy, "/body?kind=form", upstream)
    headers = {k.lower(): v for k, v in data["headers"]}
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert 'name="a"' in data["body"] and 'filename="f.txt"' in data["body"]


def test_readable_stream_upload_reaches_the_upstream_as_it_is_produced(proxy, upstream):
    data = get_json(proxy, "/upload", upstream)
    assert data["size"] == 5000
    assert data["te"] == "chunked"
    chunks = [e for e in upstream.events if e[0] == "chunk" and e[1] == "upload"]
    # The script waited for the upstream to see each 1000 bytes before making the next.
    assert len(chunks) == 5 and all(c[2] == 1000 for c in chunks)


def _download(url: str) -> tuple[int, dict, str, int]:
    async def go():
        async with aiohttp.ClientSession(auto_decompress=False) as s, s.get(url) as r:
            h = hashlib.sha256()
            n = 0
            async for chunk in r.content.iter_any():
                h.update(chunk)
                n += len(chunk)
            return r.status, dict(r.headers), h.hexdigest(), n
    return run(go())


@pytest.mark.parametrize("path", ["/proxy", "/proxy-rewrap"])
def test_proxying_100mb_is_bit_identical_and_never_enters_v8(proxy, upstream, path):
    n = 100 << 20
    before = stats(proxy, upstream)
    status, headers, digest, size = _download(proxy.url(f"{path}?n={n}&u={upstream.url('')}"))
    assert status == 200 and size == n
    assert digest == hashlib.sha256(stream_bytes(n)).hexdigest()
    if path == "/proxy-rewrap":
        assert headers["x-proxied"] == "1"
    s = stats(proxy, upstream)
    assert s["v8BytesIn"] == before["v8BytesIn"]
    assert s["v8BytesOut"] - before["v8BytesOut"] < 1000  # the /stats answer itself, not 100 MB


def test_reading_a_body_in_js_counts_v8_bytes(proxy, upstream):
    before = stats(proxy, upstream)["v8BytesIn"]
    data = get_json(proxy, f"/read-all?n={1 << 20}", upstream)
    assert data["size"] == 1 << 20
    assert stats(proxy, upstream)["v8BytesIn"] - before == 1 << 20


def test_forwarding_the_incoming_request_streams_its_body_outside_v8(proxy, upstream):
    payload = pattern(10 << 20)
    before = stats(proxy, upstream)["v8BytesIn"]
    status, _, body = get(proxy, "/forward-request", upstream, method="POST", data=payload)
    assert status == 200, body
    data = json.loads(body)
    assert data["size"] == len(payload)
    assert data["sha256"] == hashlib.sha256(payload).hexdigest()
    assert stats(proxy, upstream)["v8BytesIn"] == before


def test_a_forwarded_expect_100_continue_does_not_wait_for_the_upstreams_100(proxy):
    """An upstream may answer without a 100 Continue (RFC 9110, 10.1.1): aiohttp's client,
    told to expect one, held the body back for ever. A raw upstream that answers once it
    has the whole body (it never says 100)."""
    payload = pattern(100_000)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def answer() -> None:
            with contextlib.suppress(OSError), listener.accept()[0] as conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                while len(body) < length and (got := conn.recv(65536)):
                    body += got
                text = f"{len(body)} {hashlib.sha256(body).hexdigest()}".encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n%s" % (len(text), text))

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        status, _, body = run(fetch(proxy.url(f"/forward-request?u=http://127.0.0.1:{port}"),
                                    method="POST", data=payload,
                                    headers={"Expect": "100-continue"}))
        thread.join(10)
    assert (status, body) == (200, f"{len(payload)} {hashlib.sha256(payload).hexdigest()}"
                              .encode())


def test_an_unread_body_stops_the_upstream(proxy, upstream):
    status, _, body = get(proxy, "/unread", upstream)
    assert status == 200 and body == b"done waiting 200"
    # 100 MB were offered; with nobody reading, only socket buffers' worth left the upstream.
    assert upstream.sent["unread"] < 16 << 20


def test_abort_mid_body_closes_the_upstream_connection(proxy, upstream):
    status, _, body = get(proxy, "/abort", upstream)
    assert status == 200 and body == b"AbortError"
    upstream.wait_for(lambda: upstream.closed.get("abort") is True)


def test_an_already_aborted_signal_rejects_with_its_reason(proxy, upstream):
    assert get(proxy, "/abort-before", upstream)[2] == b"custom reason"


def test_redirects_follow(proxy, upstream):
    data = get_json(proxy, "/redirect?mode=follow", upstream)
    assert data["status"] == 200 and data["redirected"] is True
    assert data["url"] == upstream.url("/text") and data["text"] == "hello from upstream"


def test_redirects_manual_returns_the_redirect(proxy, upstream):
    data = get_json(proxy, "/redirect?mode=manual", upstream)
    assert data["status"] == 302 and data["location"] == "/redirect/2"
    assert data["redirected"] is False


def test_redirects_error_rejects(proxy, upstream):
    data = get_json(proxy, "/redirect?mode=error", upstream)
    assert data["error"] == "TypeError" and "redirect" in data["message"]


@pytest.mark.parametrize("location", ["data:text/plain,hello", "file:///etc/passwd",
                                      "ftp://127.0.0.1/x"])
def test_a_redirect_to_another_scheme_is_a_network_error_that_says_so(proxy, upstream,
                                                                       location):
    data = get_json(proxy, f"/redirect-to?location={location}", upstream)
    scheme = location.split(":")[0]
    assert data == {"error": "TypeError", "message": f"fetch failed: a redirect to a {scheme}: "
                    "URL is not followed (only http: and https:)"}


def test_303_turns_post_into_get_and_307_keeps_it(proxy, upstream):
    after_303 = json.loads(get(proxy, "/redirect-status?s=303", upstream)[2])
    assert after_303["method"] == "GET" and after_303["body"] == ""
    after_307 = json.loads(get(proxy, "/redirect-status?s=307", upstream)[2])
    assert after_307["method"] == "POST" and after_307["body"] == "payload"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_compressed_bodies_are_decoded_when_read(proxy, upstream, encoding):
    data = get_json(proxy, f"/encoded?e={encoding}", upstream)
    assert data["length"] == len("compressible text " * 2000)
    assert data["start"] == "compressible text "
    assert data["encoding"] == encoding


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_compressed_body_that_inflates_a_lot_is_decoded_in_bounded_pieces(proxy, upstream,
                                                                            encoding):
    # 32 MiB of zeros in a few tens of KiB: decoded a piece at a time as the script reads,
    # never whole (the worker's memory), the pieces no larger than codecs.OUTPUT_PIECE.
    data = get_json(proxy, f"/bomb?e={encoding}", upstream)
    assert data["total"] == Upstream.BOMB
    assert 0 < data["largest"] <= OUTPUT_PIECE


@pytest.mark.parametrize(("how", "encoding"), [("clone", "gzip"), ("cached", "gzip"),
                                               ("rewrite", "gzip"), ("rewrite", "br"),
                                               ("rewrite", "deflate"), ("manual", "gzip")])
def test_a_decoded_body_sent_on_is_compressed_again_to_its_content_encoding(
        proxy, upstream, how, encoding):
    """A body JavaScript read was decoded for it; sent on with the upstream's headers it is
    compressed again (Workers' encodeBody "automatic"), its stale Content-Length dropped;
    "manual" sends the script's bytes as they are. (The client got a cut body, or plain
    bytes labelled gzip.)"""
    path = f"/encoded-touched?how={how}&e={encoding}&u={upstream.url('')}"
    status, headers, body = run(fetch(proxy.url(path)))  # aiohttp decodes what it is sent
    text = ("compressible text " * 2000)
    expected = {"rewrite": text.upper(), "manual": "plain"}.get(how, text)
    assert (status, body.decode()) == (200, expected), (status, body[:60])
    assert headers["Content-Encoding"] == encoding


def test_a_range_of_a_cached_compressed_body_is_answered_with_the_whole_body(proxy, upstream):
    """The cache keeps the body decoded and it goes out compressed again: a 206 counted the
    decoded bytes in its Content-Range while it sent a new gzip stream of the slice. The
    Range is ignored: 200, the whole body in its Content-Encoding."""
    base = f"/encoded-touched?e=gzip&u={upstream.url('')}"
    assert run(fetch(proxy.url(f"{base}&how=clone")))[0] == 200  # put a clone in the cache

    async def ranged(spec: str) -> tuple[int, CIMultiDict, bytes]:
        async with aiohttp.ClientSession(auto_decompress=False) as s, s.get(
                proxy.url(f"{base}&how=cached-range"), headers={"Range": spec}) as r:
            return r.status, r.headers.copy(), await r.read()

    for spec in ("bytes=0-9", "bytes=-5", "bytes=100000-"):
        status, headers, body = run(ranged(spec))
        assert (status, headers.get("Content-Range")) == (200, None), spec
        assert headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == ("compressible text " * 2000).encode()


def test_a_cached_manual_response_goes_out_as_the_script_made_it(proxy, upstream):
    """An ``encodeBody: "manual"`` response holds its Content-Encoding's bytes already: the
    cache keeps that, and its match() sends them as they are (it sent them compressed
    twice)."""
    async def raw() -> tuple[int, CIMultiDict, bytes]:
        async with aiohttp.ClientSession(auto_decompress=False) as s, s.get(proxy.url(
                f"/encoded-touched?how=manual-cached&u={upstream.url('')}")) as r:
            return r.status, r.headers.copy(), await r.read()

    status, headers, body = run(raw())
    assert (status, headers["Content-Encoding"]) == (200, "gzip")
    assert gzip.decompress(body) == b"plain"


def test_a_forwarded_compressed_body_keeps_its_encoding(proxy, upstream):
    status, headers, _, _ = _download(proxy.url(f"/encoded-forward?u={upstream.url('')}"))
    assert status == 200 and headers["Content-Encoding"] == "gzip"

    async def raw():
        async with aiohttp.ClientSession(auto_decompress=False) as s, s.get(
            proxy.url(f"/encoded-forward?u={upstream.url('')}")
        ) as r:
            return await r.read()

    assert gzip.decompress(run(raw())) == ("compressible text " * 2000).encode()


@pytest.mark.parametrize(
    "target, fragment",
    [
        ("http://does-not-exist.invalid/", "DNS lookup"),
        ("http://127.0.0.1:CLOSED/", "cannot connect"),  # a free port: nothing listens
        ("http://127.0.0.1:9/", "a bad port of the Fetch standard"),  # discard: never tried
        ("not a url", "Invalid URL"),
        ("ftp://127.0.0.1/x", "unsupported URL scheme"),
        ("badheader", "Invalid header value"),
    ],
)
def test_fetch_errors_reject_with_a_clear_type_error(proxy, upstream, target, fragment):
    target = target.replace("CLOSED", str(free_port()))  # here: the ids must not vary
    data = get_json(proxy, f"/error?t={target}", upstream)
    assert data["name"] == "TypeError"
    assert fragment in data["message"]
    assert get_json(proxy, "/text", upstream)["status"] == 200  # the worker lives on


def test_a_body_reset_mid_way_errors_the_stream(proxy, upstream):
    data = get_json(proxy, f"/error?t={upstream.url('/reset')}", upstream)
    assert data["name"] == "TypeError" and "broke off" in data["message"]


def test_private_destinations_are_refused_unless_allowed(serve, upstream):
    server = serve(SCRIPT, workers=1, name="fetch.mjs")
    data = get_json(server, f"/error?t={upstream.url('/text')}", upstream)
    assert data["name"] == "TypeError"
    assert "loopback" in data["message"] and "not allowed" in data["message"]
    # and says how to allow them
    assert "--allow-fetch-to loopback" in data["message"]
    assert "allow_loopback = true under [fetch]" in data["message"]


def test_subrequests_per_request_are_limited(serve, upstream):
    server = serve(SCRIPT, *ALLOW_LOOPBACK, "--max-subrequests", "3", workers=1,
                   name="fetch.mjs")
    out = get_json(server, "/many", upstream)
    assert out[:3] == ["ok", "ok", "ok"]
    assert all("too many subrequests" in m for m in out[3:])


def test_concurrent_fetches_through_one_worker(proxy, upstream):
    async def many():
        async with aiohttp.ClientSession() as s:
            async def one():
                async with s.get(proxy.url(f"/text?u={upstream.url('')}")) as r:
                    return (await r.json())["text"]
            return await asyncio.gather(*(one() for _ in range(50)))

    assert run(many()) == ["hello from upstream"] * 50


def test_forwarding_pairs_the_right_stream_and_fetch(proxy, upstream):
    """Requests without fetches make stream ids and fetch ids diverge: no mixing them up."""
    for _ in range(2):
        stats(proxy, upstream)
    n = 1 << 20
    status, _, digest, size = _download(proxy.url(f"/proxy?n={n}&u={upstream.url('')}"))
    assert status == 200 and size == n
    assert digest == hashlib.sha256(stream_bytes(n)).hexdigest()
