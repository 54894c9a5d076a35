"""TCP sockets (``connect()`` of ``cloudflare:sockets``) end to end, against a real TCP
server on 127.0.0.1: echo, the peer's FIN, half-close, a large transfer under flow control,
the outbound address policy, failures, bad arguments and TLS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import time
from collections.abc import Iterator

import pytest

from tests.certs import make_cert
from tests.conftest import fetch, run
from tests.processes import ISOFLOW, LoggedProcess, free_port
from tests.upstream import ServerThread

SCRIPT = r"""
import { connect } from "cloudflare:sockets";

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const BLOCK = new Uint8Array(65536).map((_, i) => (i * 7 + (i >> 8)) & 255);
const ISOLATE = crypto.randomUUID();  // which isolate answered

async function attempt(promise) {
  try {
    const value = await promise;
    return { ok: value === undefined ? null : value };
  } catch (e) {
    return { error: `${e.name}: ${e.message}` };
  }
}

async function readText(readable) {
  let text = "";
  for await (const chunk of readable) text += dec.decode(chunk, { stream: true });
  return text;
}

async function readUntil(reader, n) {
  let text = "";
  let type = "";
  while (text.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    type = Object.prototype.toString.call(value);
    text += dec.decode(value);
  }
  return { text, type };
}

async function echo(socket) {
  const writer = socket.writable.getWriter();
  await writer.write(enc.encode("echo\nhello"));
  const info = await socket.opened;
  const { text, type } = await readUntil(socket.readable.getReader(), 5);
  const closed = await socket.close();
  return { text, type, info: { ...info }, closed: closed === undefined,
    upgraded: socket.upgraded, afterClose: await attempt(writer.write(new Uint8Array(1))) };
}

async function big(at, n) {
  const socket = connect(at);
  const writer = socket.writable.getWriter();
  const sending = (async () => {
    await writer.write(enc.encode("echo\n"));
    for (let off = 0; off < n; off += BLOCK.length) {
      await writer.write(BLOCK.subarray(0, Math.min(BLOCK.length, n - off)));
    }
    await writer.close();
  })();
  let received = 0, bad = 0, tail = "";
  for await (const chunk of socket.readable) {
    for (let j = 0; j < chunk.length; j++, received++) {
      if (received >= n) tail += String.fromCharCode(chunk[j]);
      else if (chunk[j] !== BLOCK[received % BLOCK.length]) bad++;
    }
  }
  await sending;
  await socket.closed;
  return { received, bad, tail };
}

async function handle(request) {
  const url = new URL(request.url);
  const port = Number(url.searchParams.get("port"));
  const at = `127.0.0.1:${port}`;
  switch (url.pathname) {
    case "/echo":
      return Response.json({ plain: await echo(connect(at)),
        tls: await echo(connect(`127.0.0.1:${url.searchParams.get("tls")}`, { secureTransport: "on" })) });
    case "/ends": {
      // The peer's FIN: the readable ends and (not half-open) the socket closes.
      const greet = connect({ hostname: "127.0.0.1", port });
      const writer = greet.writable.getWriter();
      await writer.write(enc.encode("greet\n"));
      const text = await readText(greet.readable);
      await greet.closed;
      const write = await attempt(writer.write(enc.encode("late")));
      // Half-open: our FIN reaches the echo server, which answers, then closes.
      const half = connect(at, { allowHalfOpen: true });
      const hw = half.writable.getWriter();
      await hw.write(enc.encode("echo\nabc"));
      await hw.close();
      const halfText = await readText(half.readable);
      await half.closed;
      return Response.json({ text, write, halfText });
    }
    case "/big":
      return Response.json(await big(at, Number(url.searchParams.get("n"))));
    case "/flood": {  // nothing is read: the upstream stalls
      const socket = connect(at);
      await socket.writable.getWriter().write(enc.encode("flood\n"));
      await socket.opened;
      await sleep(300);
      await socket.close();
      return Response.json({ ok: true });
    }
    case "/starttls": {
      const socket = connect(at, { secureTransport: "starttls" });
      const writer = socket.writable.getWriter();
      await writer.write(enc.encode("starttls\n"));
      const reader = socket.readable.getReader();
      const go = await readUntil(reader, 3);
      const secure = socket.startTls();
      const again = await attempt(Promise.resolve().then(() => socket.startTls()));
      const result = await echo(secure);
      return Response.json({ go: go.text, upgraded: socket.upgraded, again, result,
        old: await attempt(writer.write(enc.encode("x"))) });
    }
    case "/starttls-inject": {  // the peer's clear text, unread, must not pass for TLS's
      const socket = connect(at, { secureTransport: "starttls" });
      await socket.writable.getWriter().write(enc.encode("starttls-inject\n"));
      await sleep(200);  // "go" and the injected line are in, and unread
      const secure = socket.startTls();
      return Response.json({ opened: await attempt(secure.opened) });
    }
    case "/linger": {  // left open after the response: closed when its time is over
      const socket = connect(at);
      await socket.writable.getWriter().write(enc.encode("echo\n"));
      await socket.opened;
      return Response.json({ ok: true });
    }
    case "/budget": {  // each connect() is a subrequest
      const made = [];
      let error = null;
      try {
        for (let i = 0; i < 10; i++) made.push(connect(at));
      } catch (e) {
        error = `${e.name}: ${e.message}`;
      }
      await Promise.all(made.map((socket) => socket.close()));
      return Response.json({ made: made.length, error });
    }
    case "/limit": {  // two sockets where the worker allows one open connection
      const first = connect(at);
      await first.writable.getWriter().write(enc.encode("echo\n"));
      await first.opened;
      const second = connect(at);
      const refused = await attempt(second.opened);
      await first.close();
      return Response.json({ refused });
    }
    case "/fail": {
      const socket = connect(at);
      const opened = await attempt(socket.opened);
      const closed = await attempt(socket.closed);
      const read = await attempt(socket.readable.getReader().read());
      const smtp = await attempt(connect("127.0.0.1:25").opened);
      return Response.json({ opened, closed, read, smtp });
    }
    case "/unresolvable": {  // a name under .invalid never resolves (RFC 6761)
      const socket = connect({ hostname: "no-such-host.invalid", port });
      const opened = await attempt(socket.opened);
      const closed = await attempt(socket.closed);
      const read = await attempt(socket.readable.getReader().read());
      const write = await attempt(socket.writable.getWriter().write(enc.encode("x")));
      return Response.json({ opened, closed, read, write, isolate: ISOLATE });
    }
    case "/isolate":
      return Response.json({ isolate: ISOLATE });
    case "/control": {  // a hostname with a control character: the lookup stopped at a NUL
      const names = ["localhost\u0000.example.com", "127.0.0.1\u0000", "a\u0001b", "a\u007fb"];
      return Response.json(names.map((hostname) => {
        try {
          connect({ hostname, port }).close();
          return "no error";
        } catch (e) {
          return `${e.name}: ${e.message}`;
        }
      }));
    }
    case "/bad": {
      const calls = [
        () => connect(), () => connect(42), () => connect("nohost"), () => connect("h:0"),
        () => connect("h:70000"), () => connect("::1:80"), () => connect("a b:80"),
        () => connect({ hostname: 1, port: 80 }), () => connect({ hostname: "h", port: 1.5 }),
        () => connect("h:80", { secureTransport: "maybe" }), () => connect("h:80", 5),
      ];
      const thrown = calls.map((call) => {
        try {
          call();
          return "no error";
        } catch (e) {
          return e.name;
        }
      });
      const socket = connect(at);
      const string = await attempt(socket.writable.getWriter().write("text"));
      const tls = await attempt(Promise.resolve().then(() => socket.startTls()));
      await socket.close();
      connect("[::1]:9").close();  // brackets around an IPv6 address
      return Response.json({ thrown, string, tls });
    }
  }
  return new Response("not found", { status: 404 });
}

export default { fetch: handle };
"""


class TcpUpstream(ServerThread):
    """A TCP server whose first line says what to do: ``echo`` (until our FIN, then "bye"
    and close), ``greet`` ("hi" and close), ``flood`` (send until the peer stops reading:
    ``flooded`` counts), ``starttls`` ("go", TLS, then a first line again). A second port speaks TLS."""

    def __init__(self, tls: ssl.SSLContext) -> None:
        super().__init__()
        self.tls = tls
        self.tls_port = 0
        self.flooded = 0
        self.echo_ends = 0  # echo connections that saw our end
        self._servers: list[asyncio.Server] = []

    async def _listen(self) -> int:
        plain = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        secure = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self._servers = [plain, secure]
        self.tls_port = secure.sockets[0].getsockname()[1]
        return plain.sockets[0].getsockname()[1]

    def wait_for(self, predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.01)

    async def _close(self) -> None:
        for server in self._servers:
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.IncompleteReadError):
            command = (await reader.readline()).strip()
            if command in (b"starttls", b"starttls-inject"):
                # "inject": a line in the clear after "go", as an attacker on the path would
                writer.write(b"go\n" + (b"INJECTED\n" if command.endswith(b"inject") else b""))
                await writer.drain()
                await writer.start_tls(self.tls)
                command = (await reader.readline()).strip()
            if command == b"echo":
                while data := await reader.read(1 << 16):
                    writer.write(data)
                    await writer.drain()
                self.echo_ends += 1
                writer.write(b"bye")
            elif command == b"greet":
                writer.write(b"hi")
            elif command == b"flood":
                block = b"x" * (1 << 16)
                while True:
                    writer.write(block)
                    self.flooded += len(block)
                    await writer.drain()
            await writer.drain()
        writer.close()


@pytest.fixture(scope="module")
def tcp(tmp_path_factory) -> Iterator[TcpUpstream]:
    directory = tmp_path_factory.mktemp("certs")
    make_cert(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    server = TcpUpstream(context).start()
    server.cert = directory / "cert.pem"
    yield server
    server.stop()


@pytest.fixture(scope="module")
def servers(serve_module, tcp):
    """The script with loopback allowed (and the test CA trusted), and without."""
    before = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(tcp.cert)  # the workers' default TLS context trusts it
    try:
        allowed = serve_module(SCRIPT, "--allow-fetch-to", "loopback", "--max-subrequests",
                               "6", "--wall-time-after-response", "0.5", workers=1,
                               name="sockets.mjs")
    finally:
        if before is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = before
    strict = serve_module(SCRIPT, workers=1, name="strict.mjs")
    return allowed, strict


def get(server, path: str, port: int, **query) -> dict:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    status, _, body = run(fetch(server.url(f"{path}?port={port}{extra}")))
    assert status == 200, body
    return json.loads(body)


def test_echo_over_tcp_and_tls_with_addresses_and_close(servers, tcp):
    allowed, _ = servers
    out = get(allowed, "/echo", tcp.port, tls=tcp.tls_port)
    for mode, port in (("plain", tcp.port), ("tls", tcp.tls_port)):
        r = out[mode]
        assert r["text"] == "hello" and r["type"] == "[object Uint8Array]", r
        assert r["info"]["remoteAddress"] == f"127.0.0.1:{port}"
        assert r["info"]["localAddress"].startswith("127.0.0.1:")
        assert r["closed"] is True and r["upgraded"] is False
        assert r["afterClose"]["error"].startswith("TypeError: The socket to 127.0.0.1:"), r


def test_the_peers_end_closes_the_socket_and_half_open_keeps_writing(servers, tcp):
    allowed, _ = servers
    out = get(allowed, "/ends", tcp.port)
    assert out["text"] == "hi"
    assert out["write"]["error"].startswith("TypeError: The socket to 127.0.0.1:")
    assert out["halfText"] == "abcbye"  # our FIN went out while the readable stayed open


def test_8_mib_echo_arrives_intact_and_an_unread_socket_stalls_its_peer(servers, tcp):
    allowed, _ = servers
    n = 8 << 20
    assert get(allowed, "/big", tcp.port, n=n) == {"received": n + 3, "bad": 0, "tail": "bye"}
    tcp.flooded = 0
    assert get(allowed, "/flood", tcp.port) == {"ok": True}
    # What the kernel's buffers, the stream reader and one read window hold: not the flood.
    assert 0 < tcp.flooded < 24 << 20, tcp.flooded


def test_start_tls_upgrades_the_connection(servers, tcp):
    allowed, _ = servers
    out = get(allowed, "/starttls", tcp.port)
    assert out["go"] == "go\n" and out["upgraded"] is True
    assert out["again"]["error"] == "TypeError: startTls() was called on this socket already."
    assert out["result"]["text"] == "hello" and out["result"]["closed"] is True
    assert out["old"]["error"].startswith("TypeError: The socket to 127.0.0.1:")


def test_start_tls_refuses_clear_text_left_unread_before_the_handshake(servers, tcp):
    allowed, _ = servers
    out = get(allowed, "/starttls-inject", tcp.port)
    assert "sent 12 bytes in the clear" in out["opened"]["error"], out


def test_refused_and_failed_connections_reject_opened_and_closed(servers, tcp):
    allowed, strict = servers
    closed_port = free_port()
    out = get(allowed, "/fail", closed_port)
    expected = f"Error: connect() to 127.0.0.1:{closed_port} failed: Connection refused"
    assert out["opened"]["error"] == expected
    assert out["closed"]["error"] == expected and out["read"]["error"] == expected
    assert out["smtp"]["error"] == ("Error: connect() to 127.0.0.1:25 was refused: "
                                    "connections to port 25 are not allowed")
    out = get(strict, "/fail", tcp.port)  # the address policy of fetch()
    assert out["opened"]["error"].startswith(
        f"Error: connect() to 127.0.0.1:{tcp.port} was refused: connections to loopback "
        "address 127.0.0.1 are not allowed (allow them with --allow-fetch-to loopback")


def test_a_name_that_does_not_resolve_rejects_opened_and_closed_and_the_worker_goes_on(
        servers, tcp):
    allowed, _ = servers
    out = get(allowed, "/unresolvable", tcp.port)
    expected = f"Error: connect() to no-such-host.invalid:{tcp.port} failed: the DNS lookup failed"
    assert out["opened"] == out["closed"] == out["read"] == out["write"] == {"error": expected}
    # The same worker (one isolate) answers the next requests, sockets included.
    assert get(allowed, "/isolate", tcp.port) == {"isolate": out["isolate"]}
    assert get(allowed, "/echo", tcp.port, tls=tcp.tls_port)["plain"]["text"] == "hello"


def test_sockets_count_against_the_workers_open_connections(tcp, tmp_path):
    (tmp_path / "sockets.mjs").write_text(SCRIPT)
    port = free_port()
    (tmp_path / "isoflow.toml").write_text(f"""
[[listeners]]
port = {port}

[scripts.app]
path = "sockets.mjs"
workers = 1

[scripts.app.fetch]
allow_loopback = true

[scripts.app.limits]
websocket_connections = 1

[[routes]]
script = "app"
""")
    proc = LoggedProcess(tmp_path / "isoflow.log").spawn(
        [*ISOFLOW, "serve", "--config", str(tmp_path / "isoflow.toml")])
    try:
        proc.wait_serving()
        status, _, body = run(fetch(f"http://127.0.0.1:{port}/limit?port={tcp.port}"))
        assert status == 200, body
        assert "already has 1 open connections" in json.loads(body)["refused"]["error"]
    finally:
        proc.stop()


def test_bad_arguments_throw_type_errors(servers, tcp):
    allowed, _ = servers
    out = get(allowed, "/bad", tcp.port)
    assert out["thrown"] == ["TypeError"] * 11
    assert out["string"]["error"].startswith("TypeError: This WritableStream only supports")
    assert out["tls"]["error"].startswith("TypeError: startTls() needs a socket made with")


def test_a_hostname_with_a_control_character_is_a_type_error(servers, tcp):
    allowed, _ = servers  # loopback allowed: "localhost\0..." would have reached localhost
    out = get(allowed, "/control", tcp.port)
    assert len(out) == 4 and all(e.startswith("TypeError: connect(): invalid hostname")
                                 for e in out), out


def test_a_socket_is_a_subrequest_and_is_closed_when_its_request_s_time_is_over(servers, tcp):
    allowed, _ = servers
    assert get(allowed, "/budget", tcp.port) == {
        "made": 6, "error": "TypeError: fetch failed: too many subrequests (more than 6 for "
                            "one request)"}
    ends = tcp.echo_ends
    started = time.monotonic()
    assert get(allowed, "/linger", tcp.port) == {"ok": True}
    tcp.wait_for(lambda: tcp.echo_ends > ends)  # our end reached the upstream
    assert time.monotonic() - started >= 0.4  # wall_time_after_response, not at once
    allowed.wait_log(r"work after the response ran past 0.5 s: .* 1 socket\(s\) closed")
