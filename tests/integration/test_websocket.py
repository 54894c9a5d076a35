"""WebSockets end to end: a real client (aiohttp's, or raw frames) against a real isoflow.

One server serves the module (two scripts: ``app`` may reach loopback, ``strict`` may not
and has a short idle timeout and two WebSockets per worker; a 64 KiB message limit; a 1 s
shutdown grace); the tests that reload it or kill its worker come last.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import struct
import threading
import time

import aiohttp
import pytest
from aiohttp import web

from isoflow.protocol import WS_MESSAGE_COST
from tests.conftest import fetch, run
from tests.processes import ISOFLOW, LoggedProcess, free_port, wait_until
from tests.procstats import RssSampler
from tests.upstream import ServerThread, Upstream

LIMIT = 64 << 10

SCRIPT = r"""
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function echo(server, query) {
  server.accept();
  server.addEventListener("message", (e) => {
    if (e.data === "close") server.close(4000, "asked to");
    else server.send(e.data);
  });
  server.addEventListener("close", (e) =>
    console.log(`close event ${e.code} ${JSON.stringify(e.reason)} ${e.wasClean} ${query}`));
}

function capture(fn) {
  try { fn(); return "no error"; } catch (e) { return `${e.constructor.name}: ${e.message}`; }
}

async function outbound(target) {
  const out = {};
  const ws = new WebSocket(target, ["echo"]);
  ws.binaryType = "arraybuffer";
  const got = [];
  const closed = new Promise((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, clean: e.wasClean });
  });
  ws.onerror = () => got.push("error event");
  ws.onmessage = (e) => {
    got.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
    if (got.length === 2) ws.send("close");
  };
  await new Promise((resolve) => { ws.onopen = resolve; ws.addEventListener("close", resolve); });
  out.protocol = ws.protocol;
  if (ws.readyState === WebSocket.OPEN) {
    ws.send("hi");
    ws.send(new Uint8Array([1, 2, 255]));
  }
  out.close = await closed;
  out.got = got;
  try {
    const http = target.replace(/^ws/, "http");
    const r = await fetch(http, { headers: { Upgrade: "websocket", "X-Probe": "p" } });
    const sock = r.webSocket;
    sock.accept();
    const echoed = new Promise((resolve) => sock.addEventListener("message", (e) => resolve(e.data)));
    sock.send("via fetch");
    out.fetch = { status: r.status, echoed: await echoed };
    sock.close(1000, "done");
  } catch (e) {
    out.fetch = `${e.constructor.name}: ${e.message}`;
  }
  return Response.json(out);
}

// Sockets held un-accepted (their messages wait in the runtime) until a second request takes
// them: how many messages it finds waiting is how many the credit let through.
const holding = new Map();

/** accept() a held socket: the count of messages it found waiting (dispatched on one task
 * by accept()), and a promise of the count once `end` arrives. */
async function takeHeld(socket) {
  let first = 0, total = 0, burst = true;
  const ended = new Promise((resolve) => socket.addEventListener("message", (e) => {
    total++;
    if (burst) first++;
    if (e.data === "end") resolve(total);
  }));
  socket.accept();
  await sleep(0); // after the task accept() dispatches the waiting messages on
  burst = false;
  return { first, ended };
}

function errorName(fn) {
  try { fn(); return "no error"; } catch (e) { return e.name; }
}

// The standard client, new WebSocket(url), in one scenario against the `standard` upstream.
async function standard(target, scenario) {
  const ws = new WebSocket(target, ["echo"]);
  const log = [];
  const out = { log };
  ws.addEventListener("error", () => log.push("error"));
  ws.addEventListener("message", (e) => log.push(["message", e.data, e.origin]));
  const closed = new Promise((resolve) => ws.addEventListener("close", (e) =>
    resolve({ code: e.code, reason: e.reason, clean: e.wasClean, readyState: ws.readyState })));
  const opened = await new Promise((resolve) => {
    ws.addEventListener("open", () => resolve(true));
    ws.addEventListener("close", () => resolve(false));
  });
  if (opened) log.push("open");
  if (!opened) {
    // nothing to do: the connection failed
  } else if (scenario === "close-reason") {
    ws.close(3001, "fin é");
  } else if (scenario === "close-no-code") {
    ws.close();
  } else if (scenario === "server-close") {
    ws.send("hello");
    ws.send("bye-from-server");
  } else if (scenario.startsWith("bad-close-")) {
    ws.send(scenario);
  } else if (scenario === "codes") {
    out.codes = [0, 999, 1001, 1005, 2999, 5000, 65535, "x"].map((c) =>
      errorName(() => ws.close(c)));
    out.longReason = errorName(() => ws.close(1000, "é".repeat(62)));
    out.readyState = ws.readyState;
    ws.close(4999);
  } else if (scenario === "buffered") {
    const echoed = new Promise((resolve) => {
      let n = 0;
      ws.addEventListener("message", () => { if (++n === 2) resolve(); });
    });
    ws.send("x".repeat(1000));
    ws.send(new Uint8Array(24));
    out.afterSend = ws.bufferedAmount;
    await echoed;
    out.afterEcho = ws.bufferedAmount;
    ws.close();
    out.sendAfterClose = errorName(() => ws.send("abc"));
    out.afterClose = ws.bufferedAmount;
  } else if (scenario === "burst") {
    ws.send("burst"); // answered with two messages, which reach the isolate...
    const until = Date.now() + 300;
    while (Date.now() < until); // (busy: they wait for their tasks)
    ws.close(1000); // ...before close(): their tasks find the socket CLOSING
  }
  out.close = await closed;
  return Response.json(out);
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/(strict|tight)/, "");
    if (path === "/outbound") return outbound(url.searchParams.get("u"));
    if (path === "/standard") return standard(url.searchParams.get("u"), url.searchParams.get("s"));
    if (path === "/relative") { // new WebSocket(relative URL) against the API base URL
      globalThis.location = { href: url.searchParams.get("base") };
      let ws;
      try {
        ws = new WebSocket(url.searchParams.get("u"));
      } catch (e) {
        return Response.json(`${e.name}: ${e.message}`);
      } finally {
        delete globalThis.location;
      }
      ws.close();
      return Response.json(ws.url);
    }
    if (path === "/close-unread") { // closed while the peer reads nothing at all
      const ws = new WebSocket(url.searchParams.get("u"));
      const opened = await new Promise((resolve) => {
        ws.addEventListener("open", () => resolve(true));
        ws.addEventListener("error", () => resolve(false));
      });
      await new Promise((resolve) => setTimeout(resolve, 500)); // its pings fill our pongs
      ws.close(1000, "bye");
      return new Response(opened ? "closing" : "no connection");
    }
    if (path === "/upgrade-headers") { // a proxy passing on headers a client chose
      const r = await fetch(url.searchParams.get("u"), { headers: {
        Upgrade: "websocket", Host: "internal-admin.local", "Content-Length": "5",
        "Transfer-Encoding": "chunked", Expect: "100-continue" } });
      r.webSocket.accept();
      r.webSocket.close(1000);
      return new Response(String(r.status));
    }
    if (path === "/never-accepted") { // fetch() upgrades a socket the script never takes
      return new Response(String((await fetch(url.searchParams.get("u"),
                                              { headers: { Upgrade: "websocket" } })).status));
    }
    if (path === "/left-open") { // an outbound socket the script never closes
      const ws = new WebSocket(url.searchParams.get("u"));
      ws.onopen = () => ws.send("left open");
      return new Response("opened");
    }
    if (path === "/release") { // the socket /hold keeps: accept()ed now
      const { first, ended } = await takeHeld(holding.get(url.searchParams.get("id")));
      ended.then((total) => holding.get(url.searchParams.get("id")).send(`total ${total}`));
      return Response.json(first);
    }
    if (path === "/outbound-hold") { // an upgrade fetch, accept()ed once /outbound-release says
      const r = await fetch(url.searchParams.get("u"), { headers: { Upgrade: "websocket" } });
      await new Promise((resolve) => holding.set("outbound", resolve));
      const { first, ended } = await takeHeld(r.webSocket);
      const total = await Promise.race([ended, sleep(10000)]);
      r.webSocket.close(1000);
      return Response.json({ first, total });
    }
    if (path === "/outbound-release") {
      holding.get("outbound")();
      return new Response("released");
    }
    if (path === "/api") {
      const [a, b] = Object.values(new WebSocketPair());
      const errors = {
        beforeAccept: capture(() => a.send("x")),
        status101: capture(() => new Response(null, { status: 101 })),
        socket200: capture(() => new Response(null, { status: 200, webSocket: a })),
        badCode: (a.accept(), capture(() => a.close(1005))),
      };
      b.accept();
      a.close(1000, "bye");
      errors.afterClose = capture(() => a.send("x"));
      errors.readyState = a.readyState;
      const r = new Response(null, { status: 101, webSocket: b });
      errors.response = [r.status, r.webSocket === b];
      return Response.json(errors);
    }
    const [client, server] = Object.values(new WebSocketPair());
    if (path === "/echo") {
      echo(server, url.search);
    } else if (path === "/accept-later") {
      let total = 0;
      setTimeout(() => {
        server.accept();
        server.addEventListener("message", (e) => {
          if (e.data === "done") server.send(`total ${total}`);
          else total += e.data.byteLength;
        });
      }, +url.searchParams.get("ms"));
    } else if (path === "/paced") {
      // A well-behaved sender: waits while bufferedAmount is high.
      server.accept();
      const chunk = new Uint8Array(64 << 10);
      const n = +url.searchParams.get("n");
      (async () => {
        for (let i = 0; i < n; i++) {
          while (server.bufferedAmount > (1 << 20)) await sleep(5);
          server.send(chunk);
        }
        server.send("end");
      })();
    } else if (path === "/hold") {
      holding.set(url.searchParams.get("id"), server);
    } else if (path === "/empty-flood") { // empty messages, more than any credit covers
      server.accept();
      server.addEventListener("message", () => { // (once the socket is the client's)
        const n = +url.searchParams.get("n");
        let i = 0;
        try {
          for (; i < n; i++) server.send("");
        } catch (e) {
          console.log(`empty flood: ${e.constructor.name} after ${i} sends`);
        }
      });
    } else if (path === "/flood") {
      server.accept();
      const chunk = new Uint8Array(64 << 10);
      const n = +url.searchParams.get("n");
      for (let i = 0; i < n; i++) server.send(chunk);
    }
    return new Response(null, { status: 101, webSocket: client });
  },
};
"""


@pytest.fixture(scope="module")
def ws_upstream():
    up = Upstream().start()
    yield up
    up.stop()


class StandardUpstream(ServerThread):
    """A WebSocket server for the standard client's scenarios: /mirror echoes messages and
    answers a Close frame with the same code and reason (an empty one when it had none);
    "bye-from-server" makes it close first; "burst" gets two messages back. /rogue picks a
    subprotocol nobody offered."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        app = web.Application()
        app.router.add_get("/mirror", self.mirror)
        app.router.add_get("/rogue", self.rogue)
        app.router.add_get("/flood", self.flood)
        super().__init__(app)

    async def mirror(self, request):
        kind = aiohttp.WSMsgType
        ws = web.WebSocketResponse(protocols=("echo",), autoclose=False)
        await ws.prepare(request)
        while True:
            msg = await ws.receive()
            if msg.type is kind.TEXT and msg.data.startswith("bad-close-"):
                code = int(msg.data.removeprefix("bad-close-"))  # no such code on the wire
                await ws._writer.send_frame(struct.pack("!H", code) + b"why", kind.CLOSE)
                await ws.receive()  # the client's answer
                break
            if msg.type is kind.TEXT and msg.data == "bye-from-server":
                await ws.close(code=4002, message=b"server says bye")
                self.events.append(("answer", ws.close_code))
                break
            if msg.type is kind.TEXT and msg.data == "burst":
                await ws.send_str("one")
                await ws.send_str("two")
            elif msg.type is kind.TEXT:
                await ws.send_str(msg.data)
            elif msg.type is kind.BINARY:
                await ws.send_bytes(msg.data)
            elif msg.type is kind.CLOSE:
                self.events.append(("close", msg.data or None, msg.extra))
                if msg.data:
                    await ws.close(code=msg.data, message=msg.extra.encode())
                else:  # no status code: answered with an empty Close frame
                    await ws._writer.send_frame(b"", kind.CLOSE)
                    request.transport.close()
                break
            else:
                break
        return ws

    async def flood(self, request):
        """More than an outbound socket's window (1 MiB) at once, then as /mirror."""
        ws = web.WebSocketResponse(autoclose=False)
        await ws.prepare(request)
        for _ in range(20):  # 1.2 MB, in messages under the config's 64 KiB
            await ws.send_bytes(bytes(60_000))
        msg = await ws.receive()
        self.events.append(("flood", msg.type.name, msg.data))
        if msg.type is aiohttp.WSMsgType.CLOSE:
            await ws.close(code=msg.data or 1000)
        return ws

    async def rogue(self, request):
        ws = web.WebSocketResponse()
        ws.headers["Sec-WebSocket-Protocol"] = "unoffered"
        await ws.prepare(request)
        await ws.receive()
        return ws


@pytest.fixture(scope="module")
def std_upstream():
    up = StandardUpstream().start()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("ws")
    (d / "ws.mjs").write_text(SCRIPT)
    port = free_port()
    config = d / "isoflow.toml"
    config.write_text(f"""
[server]
shutdown_grace = 1
send_timeout = 2

[[listeners]]
port = {port}

[limits]
websocket_max_message = "64KiB"

[scripts.app]
path = "ws.mjs"
workers = 1

[scripts.app.fetch]
allow_loopback = true

[scripts.app.limits]
wall_time_after_response = 1

[scripts.strict]
path = "ws.mjs"
workers = 1

[scripts.strict.limits]
websocket_idle_timeout = 0.5
websocket_connections = 2

[scripts.tight]
path = "ws.mjs"
workers = 1

[scripts.tight.fetch]
allow_loopback = true

[scripts.tight.limits]
websocket_connections = 1
wall_time_after_response = 0.5

[[routes]]
script = "app"

[[routes]]
script = "strict"
path = "/strict"

[[routes]]
script = "tight"
path = "/tight"
""")
    proc = LoggedProcess(d / "isoflow.log").spawn([*ISOFLOW, "serve", "--config", str(config)])
    proc.wait_serving()
    proc.port = port
    yield proc
    proc.stop()


def url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


async def _session_ws(target: str, **kwargs):
    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(target, **kwargs)
    except BaseException:
        await session.close()
        raise
    return session, ws


def test_text_and_binary_messages_echo_and_the_script_closes_with_its_code(server):
    async def go():
        session, ws = await _session_ws(url(server, "/echo"))
        async with session:
            await ws.send_str("héllo ☃")
            assert (await ws.receive()).data == "héllo ☃"
            await ws.send_bytes(bytes(range(256)) * 100)  # more than one piece per frame
            assert (await ws.receive()).data == bytes(range(256)) * 100
            await ws.send_bytes(b"")
            assert (await ws.receive()).data == b""
            await ws.send_str("close")
            msg = await ws.receive()
            assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 4000, "asked to")
    run(go())
    server.wait_log(r'close event 1000 "" true')  # the client's answer reached the script


def test_the_client_close_code_and_reason_reach_the_script(server):
    async def go():
        session, ws = await _session_ws(url(server, "/echo?client-closes"))
        async with session:
            await ws.close(code=4002, message=b"client says bye")
            return ws.close_code
    assert run(go()) == 4002  # echoed back, as RFC 6455 says
    server.wait_log(r'close event 4002 "client says bye" true')
    # A socket closed by its handshake is not an aborted exchange in the access log.
    (line,) = server.wait_log(r'"GET /echo\?client-closes HTTP/1.1" 101 [^\n]*')
    assert not line.group(0).endswith("aborted"), line.group(0)


def test_the_clients_answer_to_the_scripts_close_reaches_the_script(server):
    async def go():
        reader, writer = await _raw_connect(server.port, "/echo?answered")
        writer.write(_frame(0x1, b"close"))
        opcode, payload = await _read_frame(reader)
        assert (opcode, payload) == (0x8, struct.pack("!H", 4000) + b"asked to")
        writer.write(_frame(0x8, struct.pack("!H", 4000) + b"echoed"))  # as browsers answer
        await writer.drain()
        assert await reader.read() == b""  # then the server closes the connection
        writer.close()
    run(go())
    server.wait_log(r'close event 4000 "echoed" true')  # the answer's code and reason


def test_an_aiohttp_clients_answer_to_the_scripts_close_reaches_the_script(server):
    async def go():
        session, ws = await _session_ws(url(server, "/echo?aiohttp-answers"), autoclose=False)
        async with session:
            await ws.send_str("close")
            msg = await ws.receive()
            assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 4000, "asked to")
            await ws.close(code=4001, message="the client's answer, é".encode())
    run(go())
    server.wait_log(r'close event 4001 "the client\'s answer, é" true')
    (line,) = server.wait_log(r'"GET /echo\?aiohttp-answers HTTP/1.1" 101 [^\n]*')
    assert not line.group(0).endswith("aborted"), line.group(0)


async def _raw_connect(port: int, path: str, rcvbuf: int = 0):
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


def _frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _read_frame(reader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    return b0 & 0x0F, await reader.readexactly(n)


def test_fragmented_messages_and_pings_are_handled_by_the_protocol_layer(server):
    async def go():
        reader, writer = await _raw_connect(server.port, "/echo")
        # "fragmented" in three frames, a ping between two of them (allowed by RFC 6455).
        writer.write(_frame(0x1, b"frag", fin=False) + _frame(0x0, b"men", fin=False)
                     + _frame(0x9, b"are you there") + _frame(0x0, b"ted"))
        assert await _read_frame(reader) == (0xA, b"are you there")  # the pong
        assert await _read_frame(reader) == (0x1, b"fragmented")  # one message for the script
        writer.write(_frame(0x8, struct.pack("!H", 1000)))
        opcode, _ = await _read_frame(reader)
        assert opcode == 0x8
        writer.close()
    run(go())


async def _client_close(port: int, code: int) -> tuple[int, int]:
    """A client's Close frame with ``code``: the opcode and code of the server's answer."""
    reader, writer = await _raw_connect(port, f"/echo?close-{code}")
    writer.write(_frame(0x8, struct.pack("!H", code) + b"bye"))
    opcode, payload = await _read_frame(reader)
    writer.close()
    return opcode, struct.unpack("!H", payload[:2])[0]


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_a_close_code_no_close_frame_may_carry_is_a_protocol_error(server, code):
    """RFC 6455, 7.4: 1004-1006 and 1015 never appear in a Close frame, 0-999 are not
    used, 1016-2999 are unassigned and there is no code from 5000 on: the connection fails
    with 1002 (aiohttp let 1006 and 5000 on through: a client's 1006 reached the script as a
    clean close, and got 1000 back)."""
    assert run(_client_close(server.port, code)) == (0x8, 1002)
    server.wait_log(rf'close event 1002 "[^"\n]*" \w+ \?close-{code}\n')


@pytest.mark.parametrize("code", [1000, 1003, 1011, 1014, 3000, 4999])
def test_a_close_code_a_client_may_send_is_echoed(server, code):
    assert run(_client_close(server.port, code)) == (0x8, code)
    server.wait_log(rf'close event {code} "bye" true \?close-{code}\n')


def test_an_unmasked_client_frame_fails_the_connection_with_1002(server):
    """RFC 6455, 5.1: a server must close the connection on a client frame that is not
    masked (aiohttp's reader takes it); the frames before it were the client's."""
    async def go():
        reader, writer = await _raw_connect(server.port, "/echo")
        writer.write(_frame(0x1, b"masked"))
        assert await _read_frame(reader) == (0x1, b"masked")
        writer.write(bytes((0x81, 5)) + b"naked")
        opcode, payload = await _read_frame(reader)
        writer.close()
        return opcode, struct.unpack("!H", payload[:2])[0]
    assert run(go()) == (0x8, 1002)


async def _handshake_head(port: int, path: str, version: str, http: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET {path} HTTP/{http}\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 f"Sec-WebSocket-Version: {version}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    return head


def test_a_handshake_in_another_version_gets_426_and_one_over_http_1_0_gets_400(server):
    """RFC 6455, 4.2.2: a version the server does not speak is answered 426 with the one
    it does; 4.1: a handshake is HTTP/1.1 or later."""
    for version in ("8", "7", "14", ""):
        head = run(_handshake_head(server.port, "/echo", version, "1.1"))
        assert head.startswith(b"HTTP/1.1 426 "), head
        assert b"\r\nSec-WebSocket-Version: 13\r\n" in head, head
    head = run(_handshake_head(server.port, "/echo", "13", "1.0"))
    assert re.match(rb"HTTP/1\.[01] 400 ", head), head


def test_workers_api_errors_match_workerd(server):
    status, _, body = run(fetch(url(server, "/api")))
    assert status == 200
    r = json.loads(body)
    assert r["beforeAccept"] == ("TypeError: You must call one of accept() or "
                                 "state.acceptWebSocket() on this WebSocket before sending "
                                 "messages.")
    assert r["status101"].startswith("RangeError: ")
    assert r["socket200"].startswith("RangeError: ")
    assert r["badCode"] == "TypeError: Invalid WebSocket close code: 1005."
    assert r["afterClose"] == "TypeError: Can't call WebSocket send() after close()."
    assert r["readyState"] == 2  # CLOSING: the other end has not answered yet
    assert r["response"] == [101, True]


def test_a_101_to_a_request_that_is_not_an_upgrade_is_a_502(server):
    status, _, body = run(fetch(url(server, "/echo")))  # a plain GET: the script answers 101
    assert status == 502, body
    server.wait_log("answered 101 with a webSocket to a request that is not a WebSocket upgrade")
    # and the worker goes on serving
    assert run(fetch(url(server, "/api")))[0] == 200


def test_a_message_over_the_limit_closes_with_1009(server):
    async def go():
        session, ws = await _session_ws(url(server, "/echo"))
        async with session:
            await ws.send_bytes(b"x" * LIMIT)  # at the limit: fine
            assert len((await ws.receive()).data) == LIMIT
            await ws.send_bytes(b"x" * (LIMIT + 1))
            msg = await ws.receive()
            return msg.type, msg.data
    assert run(go()) == (aiohttp.WSMsgType.CLOSE, 1009)


def test_a_script_that_does_not_take_messages_stops_the_client(server):
    async def go():
        session, ws = await _session_ws(url(server, "/accept-later?ms=900"))
        async with session:
            sent = 0
            block = b"x" * (60 << 10)

            async def sender():
                nonlocal sent
                while sent < (64 << 20):
                    await ws.send_bytes(block)
                    sent += len(block)

            task = asyncio.create_task(sender())
            await asyncio.sleep(0.5)
            stalled_at = sent
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # The worker took at most its window; kernel buffers hold the rest.
            assert 0 < stalled_at < (24 << 20), stalled_at
            await ws.send_str("done")
            reply = (await ws.receive(timeout=10)).data
            return stalled_at, reply
    stalled_at, reply = run(go())
    # Everything the client managed to write reached the script, once it accepted. (A send
    # cancelled mid-frame may have gone out whole: at most one block more.)
    total = int(reply.split()[1])
    assert stalled_at <= total <= stalled_at + (60 << 10)


def _waiting_messages(server, ident: str, n: int) -> tuple[int, bool, str]:
    """A client's ``n`` empty messages, a ping and "end" to a script that holds the socket
    un-accepted: how many the script found waiting once it accept()ed, whether the ping was
    answered before that (all ``n`` were taken from the client), and the script's count
    once "end" came."""
    async def go():
        reader, writer = await _raw_connect(server.port, f"/hold?id={ident}")
        writer.write(b"".join(_frame(0x1, b"") for _ in range(n)) + _frame(0x9, b"sync")
                     + _frame(0x1, b"end"))  # not drained: the front may stop reading
        try:
            answered = await asyncio.wait_for(_read_frame(reader), 3) == (0xA, b"sync")
        except TimeoutError:
            answered = False
        status, _, body = await fetch(url(server, f"/release?id={ident}"))
        assert status == 200, body
        while True:
            opcode, payload = await asyncio.wait_for(_read_frame(reader), 30)
            if opcode == 0x1:
                writer.close()
                return json.loads(body), answered, payload.decode()
    return run(go())


def test_empty_messages_from_a_client_are_paced_by_the_credit(server):
    """An empty message cost no credit: a client's flood of them reached a script that did
    not take them without end (the worker grew to its memory limit). Now each costs
    WS_MESSAGE_COST, so the worker holds at most its window's worth (its request window,
    256 KiB, and one message, 64 KiB) and the rest waits in the client's connection; none
    is lost."""
    n = 60_000  # 360 KB of frames: 7.5 MB of credit
    waiting, answered, total = _waiting_messages(server, "empty", n)
    bound = ((256 << 10) + LIMIT) // WS_MESSAGE_COST  # 2560
    assert waiting <= 2 * bound, (waiting, bound)
    assert not answered  # the ping waited behind the messages the credit held back
    assert total == f"total {n + 1}"


def test_empty_messages_from_an_upstream_are_paced_by_the_credit(server):
    """The same for an outbound socket: an upstream's empty messages were read without end
    while the script took none. Now the reader stops at the socket's window (1 MiB of
    credit: 8192 empty messages) until the script takes them."""
    n = 60_000
    answered: list[bool] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def peer() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(15)
                _answer_handshake(conn)
                conn.sendall(b"\x81\x00" * n + b"\x89\x04sync")
                conn.settimeout(3)
                try:  # the pong comes once the reader took every message before the ping
                    answered.append(b"\x8a" in conn.recv(64))
                except TimeoutError:
                    answered.append(False)
                conn.settimeout(15)
                conn.sendall(b"\x81\x03end")
                with contextlib.suppress(OSError):
                    while conn.recv(65536):
                        pass

        thread = threading.Thread(target=peer, daemon=True)
        thread.start()

        async def go():
            held = asyncio.create_task(
                fetch(url(server, f"/outbound-hold?u=http://127.0.0.1:{port}/")))
            await asyncio.to_thread(wait_until, lambda: answered, 10)
            status, _, body = await fetch(url(server, "/outbound-release"))
            assert (status, body) == (200, b"released")
            return await held
        status, _, body = run(go())
        thread.join(15)
    assert status == 200, body
    r = json.loads(body)
    assert r["first"] <= 2 * (1 << 20) // WS_MESSAGE_COST, r
    assert answered == [False]
    assert r["total"] == n + 1, r


def test_a_scripts_empty_messages_are_paced_by_the_credit(server):
    """A script's empty sends went out without credit, however slowly the client read (the
    front held them all). Now each costs WS_MESSAGE_COST: beyond the credit they wait in the
    runtime, and past its send buffer (16 MiB of cost: 131072 messages) the socket closes
    with 1011."""
    n = 150_000

    async def go():
        session, ws = await _session_ws(url(server, f"/empty-flood?n={n}"))
        async with session:
            await ws.send_str("go")
            got = 0
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    return got, msg.type, msg.data
                assert msg.data == ""
                got += 1
    got, kind, code = run(go())
    assert (kind, code) == (aiohttp.WSMsgType.CLOSE, 1011)
    assert got <= 2 * ((1 << 20) + LIMIT) // WS_MESSAGE_COST  # the credit's worth
    (sends,) = server.wait_log(r"empty flood: TypeError after (\d+) sends")
    assert int(sends.group(1)) < n
    server.wait_log("send buffer over")


def test_a_client_that_does_not_read_bounds_the_memory_of_both_processes(server):
    n = 256  # 16 MiB in 64 KiB messages
    front = server.pid

    async def go():
        session, ws = await _session_ws(url(server, f"/paced?n={n}"), max_msg_size=0)
        async with session:
            with RssSampler(front) as sampler:
                await asyncio.sleep(0.6)  # not reading
            got = 0
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type is aiohttp.WSMsgType.TEXT:
                    assert msg.data == "end"
                    return got, sampler
                got += len(msg.data)
    got, sampler = run(go())
    assert got == n << 16
    growth = sampler.growth_mb()
    print(sampler.report())  # shown with -s
    # The supervisor holds at most one credit window; the worker's script waits.
    assert max(growth.values()) < 24, sampler.report()


def test_a_client_that_reads_nothing_is_cut_off_after_send_timeout(server):
    """The front writes messages while the socket takes them; when it has not drained for
    ``send_timeout`` (2 s here) the connection is given up, not held open forever."""
    n = 256  # 16 MiB in 64 KiB messages: more than the socket buffers hold

    async def go():
        session, ws = await _session_ws(url(server, f"/paced?n={n}"), max_msg_size=0)
        async with session:
            await asyncio.sleep(4)  # not reading, past the timeout
            got, started = 0, time.monotonic()
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type is not aiohttp.WSMsgType.BINARY:
                    return got, msg, time.monotonic() - started
                got += len(msg.data)
    got, last, took = run(go())
    assert got < n << 16, "every message arrived: the socket was never given up"
    assert last.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR,
                         aiohttp.WSMsgType.CLOSE), last
    assert took < 5  # what the buffers held, then the end


def test_a_client_that_pings_and_reads_nothing_is_cut_off_after_send_timeout(server):
    """Pongs wait for the client as messages do: one that has taken nothing for
    ``send_timeout`` (2 s) is cut off. (aiohttp's autoping waited for it for good: the
    connection stayed until ``websocket_idle_timeout``, 300 s.)"""
    async def go():
        _, writer = await _raw_connect(server.port, "/echo?pinger", rcvbuf=4096)
        pings = _frame(0x9, b"p" * 125) * 100  # 13 KB: 12.7 KB of pongs
        started = time.monotonic()
        blocked = 0  # writes the front did not take within 0.5 s
        for sent in range(2000):  # at most 26 MB, for at most 20 s
            if time.monotonic() - started > 20:
                break
            try:
                writer.write(pings)
                await asyncio.wait_for(writer.drain(), 0.5)
            except TimeoutError:
                blocked += 1
            except ConnectionError as e:
                writer.close()
                return type(e).__name__, sent, blocked
        writer.close()
        return "still open", sent, blocked
    outcome = run(go())
    assert outcome[0] in ("ConnectionResetError", "BrokenPipeError"), outcome
    (line,) = server.wait_log(r'"GET /echo\?pinger HTTP/1.1" 101 [^\n]* id=(\w+)')
    server.wait_log(f"request {line.group(1)}: the client took no WebSocket message for 2 s")


def test_a_ping_flood_does_not_hold_the_other_connections(server):
    """aiohttp hands over the frames it has read without suspending, and its autoping
    answered each ping inside: three clients flooding empty pings (and reading their pongs)
    held every other request of the front for 3 s at a time. The front now takes at most 16
    frames of a client before its other work runs: a request to another script, on another
    connection, is answered within 10-50 ms here while the flood goes on."""
    stop = threading.Event()
    pinged = [0, 0, 0]

    def flood(i: int) -> None:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        with sock:
            key = base64.b64encode(os.urandom(16))
            sock.sendall(b"GET /echo?flood HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key
                         + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
            threading.Thread(target=_discard, args=(sock,), daemon=True).start()
            pings = bytes((0x89, 0x80, 0, 0, 0, 0)) * 20_000  # empty, masked with zeros
            deadline = time.monotonic() + 6
            while not stop.is_set() and time.monotonic() < deadline and pinged[i] < 2_000_000:
                try:
                    sock.sendall(pings)
                except OSError:
                    return
                pinged[i] += 20_000

    floods = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(3)]
    for thread in floods:
        thread.start()
    try:
        wait_until(lambda: min(pinged) >= 100_000, timeout=10)
        took = []
        for _ in range(4):
            started = time.monotonic()
            status, _, _ = run(fetch(url(server, "/strict/api")))
            took.append(time.monotonic() - started)
            assert status == 200
        still_flooding = not stop.is_set() and all(t.is_alive() for t in floods)
    finally:
        stop.set()
        for thread in floods:
            thread.join(10)
    assert max(took) < 2, took
    assert still_flooding, pinged  # (the requests were answered during the flood)


def _discard(sock: socket.socket) -> None:
    """Read and drop what comes on ``sock`` until it is closed."""
    with contextlib.suppress(OSError):
        while sock.recv(1 << 16):
            pass


def test_sends_past_the_buffer_limit_close_the_socket_with_1011(server):
    async def go():
        session, ws = await _session_ws(url(server, "/flood?n=400"), max_msg_size=0)
        async with session:
            got = 0
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type is not aiohttp.WSMsgType.BINARY:
                    return got, msg.type, msg.data
                got += len(msg.data)
    got, kind, code = run(go())
    assert (kind, code) == (aiohttp.WSMsgType.CLOSE, 1011)
    assert got < 400 << 16  # the rest was never buffered
    server.wait_log("send buffer over")


def test_an_idle_socket_is_closed_with_1001(server):
    async def go():
        session, ws = await _session_ws(url(server, "/strict/echo"))
        async with session:
            started = time.monotonic()
            msg = await ws.receive(timeout=5)
            return msg.type, msg.data, time.monotonic() - started
    kind, code, waited = run(go())
    assert (kind, code) == (aiohttp.WSMsgType.CLOSE, 1001)
    assert 0.4 < waited < 3


def test_websockets_per_worker_are_limited(server):
    async def go():
        async with aiohttp.ClientSession() as session:
            a = await session.ws_connect(url(server, "/strict/echo"))
            b = await session.ws_connect(url(server, "/strict/echo"))
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url(server, "/strict/echo"))
            await a.send_str("still served")
            assert (await a.receive()).data == "still served"
            await a.close()
            await b.close()
            return refused.value.status
    assert run(go()) == 503
    server.wait_log("already has 2 WebSocket connections")


def test_outbound_websocket_and_fetch_upgrade_reach_a_loopback_upstream(server, ws_upstream):
    target = f"ws://127.0.0.1:{ws_upstream.port}/ws"
    status, _, body = run(fetch(url(server, f"/outbound?u={target}")))
    assert status == 200, body
    r = json.loads(body)
    assert r["protocol"] == "echo"
    assert r["got"] == ["hi", [1, 2, 255]]
    assert r["close"] == {"code": 4001, "reason": "upstream done", "clean": True}
    assert r["fetch"] == {"status": 101, "echoed": "via fetch"}
    assert ("ws-open", None, "p") in ws_upstream.events  # fetch()'s own header went along


def _standard(server, up, scenario: str, path: str = "/mirror") -> dict:
    target = f"ws://127.0.0.1:{up.port}{path}"
    status, _, body = run(fetch(url(server, f"/standard?u={target}&s={scenario}")))
    assert status == 200, body
    return json.loads(body)


def test_the_standard_client_reports_the_peers_close_code_and_reason(server, std_upstream):
    r = _standard(server, std_upstream, "close-reason")
    assert r["log"] == ["open"]
    # The close event carries what the server's Close frame said; the socket is CLOSED by then.
    assert r["close"] == {"code": 3001, "reason": "fin é", "clean": True, "readyState": 3}
    assert ("close", 3001, "fin é") in std_upstream.events


@pytest.mark.parametrize("code", [65535, 1006])
def test_a_close_code_no_peer_may_send_fails_the_connection(server, std_upstream, code):
    r = _standard(server, std_upstream, f"bad-close-{code}")
    assert r["close"] == {"code": 1002, "reason": "invalid close code", "clean": False,
                          "readyState": 3}


def test_close_without_a_code_sends_no_status_and_reports_1005(server, std_upstream):
    r = _standard(server, std_upstream, "close-no-code")
    assert ("close", None, "") in std_upstream.events  # an empty Close frame went out
    assert r["close"] == {"code": 1005, "reason": "", "clean": True, "readyState": 3}


def test_a_server_initiated_close_finds_the_standard_client_closed(server, std_upstream):
    r = _standard(server, std_upstream, "server-close")
    origin = f"ws://127.0.0.1:{std_upstream.port}"
    assert r["log"] == ["open", ["message", "hello", origin]]  # MessageEvent.origin is set
    assert r["close"] == {"code": 4002, "reason": "server says bye", "clean": True,
                          "readyState": 3}
    # answered with the same code (the upstream records it once its close() has read the
    # answer, in its own thread: maybe after the script's response reached us)
    wait_until(lambda: any(e[0] == "answer" for e in std_upstream.events), timeout=15)
    assert ("answer", 4002) in std_upstream.events


def test_standard_close_codes_are_checked_with_invalid_access_error(server, std_upstream):
    r = _standard(server, std_upstream, "codes")
    assert r["codes"] == ["InvalidAccessError"] * 8
    assert r["longReason"] == "SyntaxError"  # 124 bytes of UTF-8
    assert r["readyState"] == 1  # none of them started closing
    assert r["close"]["code"] == 4999 and r["close"]["clean"]


def test_buffered_amount_counts_unsent_bytes_and_sends_after_close(server, std_upstream):
    r = _standard(server, std_upstream, "buffered")
    assert r["afterSend"] == 1024  # handed over, not yet written: still counted
    assert r["afterEcho"] == 0
    assert r["sendAfterClose"] == "no error"  # the standard: no exception, only counted
    assert r["afterClose"] == 3


def test_messages_arriving_while_closing_are_dropped(server, std_upstream):
    r = _standard(server, std_upstream, "burst")
    assert r["log"] == ["open"]
    assert r["close"]["code"] == 1000 and r["close"]["clean"]


def test_a_subprotocol_the_client_did_not_offer_fails_the_connection(server, std_upstream):
    r = _standard(server, std_upstream, "none", path="/rogue")
    assert r["log"] == ["error"]
    assert r["close"] == {"code": 1006, "reason": "", "clean": False, "readyState": 3}
    server.wait_log("which was not offered")


def test_a_relative_url_resolves_against_the_api_base_url(server, std_upstream):
    base = f"https://127.0.0.1:{std_upstream.port}/dir/page"
    status, _, body = run(fetch(url(server, f"/relative?base={base}&u=../mirror%3Fq")))
    assert status == 200, body
    assert json.loads(body) == f"wss://127.0.0.1:{std_upstream.port}/mirror?q"  # https -> wss


def test_an_outbound_socket_left_open_is_closed_when_its_request_runs_out_of_time(
        server, ws_upstream):
    target = f"ws://127.0.0.1:{ws_upstream.port}/ws"
    before = ws_upstream.events.count(("ws-closed", 1001))
    started = time.monotonic()
    assert run(fetch(url(server, f"/left-open?u={target}")))[2] == b"opened"
    ws_upstream.wait_for(lambda: ws_upstream.events.count(("ws-closed", 1001)) > before,
                         timeout=5)
    assert time.monotonic() - started >= 0.9  # wall_time_after_response, not at once


def _answer_handshake(conn: socket.socket) -> None:
    """Read a client's WebSocket handshake from ``conn`` and answer it with a 101."""
    head = b""
    while b"\r\n\r\n" not in head:
        head += conn.recv(4096)
    key = re.search(rb"(?i)sec-websocket-key: *(\S+)", head).group(1)
    accept = base64.b64encode(hashlib.sha1(
        key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")


def test_an_outbound_socket_closed_while_its_peer_reads_nothing_is_dropped(server):
    """A peer that floods pings and reads nothing: our pongs fill the connection, and the
    Close frame waited behind them for good (4 MB of buffers kept, and a worker that could
    not stop). It now waits CLOSE_TIMEOUT (5 s); then the connection is aborted."""
    outcome: list[object] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def peer() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(15)
                _answer_handshake(conn)
                ping = b"\x89\x7d" + b"p" * 125
                try:
                    for _ in range(200_000):  # 25 MB of pings, never a byte read
                        conn.sendall(ping)
                    outcome.append("all sent")
                except OSError as e:
                    outcome.append(type(e).__name__)

        thread = threading.Thread(target=peer, daemon=True)
        thread.start()
        assert run(fetch(url(server, f"/close-unread?u=ws://127.0.0.1:{port}/")))[2] == \
            b"closing"
        thread.join(15)
    assert outcome == ["ConnectionResetError"], outcome


def test_an_outbound_socket_holding_unread_messages_gives_its_slot_back_when_closed(
        server, std_upstream, ws_upstream):
    """An upstream that sends more than the socket's window before the script takes any:
    its reader waited for credit, and when the socket was closed (here by the request's
    time after its response) nothing woke it: the worker's socket slot was never given back
    (`websocket_connections = 1`: no other outbound socket, ever)."""
    flood = f"http://127.0.0.1:{std_upstream.port}/flood"
    assert run(fetch(url(server, f"/tight/never-accepted?u={flood}")))[2] == b"101"
    # Closed after 0.5 s: our Close, then the flood read and dropped, then the peer's Close.
    wait_until(lambda: ("flood", "CLOSE", 1000) in std_upstream.events, timeout=5)
    target = f"ws://127.0.0.1:{ws_upstream.port}/ws"

    def served() -> bool:
        body = run(fetch(url(server, f"/tight/outbound?u={target}")))[2]
        return json.loads(body)["got"] == ["hi", [1, 2, 255]]

    wait_until(served, timeout=5)


def test_an_upgrade_fetch_sends_the_urls_host_and_no_framing_fields_of_the_script(
        server, ws_upstream):
    target = f"http://127.0.0.1:{ws_upstream.port}/ws"
    assert run(fetch(url(server, f"/upgrade-headers?u={target}")))[2] == b"101"
    assert ("ws-head", f"127.0.0.1:{ws_upstream.port}", None, None, None) in ws_upstream.events


def test_outbound_websockets_obey_the_address_policy(server, ws_upstream):
    target = f"ws://127.0.0.1:{ws_upstream.port}/ws"
    status, _, body = run(fetch(url(server, f"/strict/outbound?u={target}")))
    assert status == 200, body
    r = json.loads(body)
    assert r["got"] == ["error event"]
    assert r["close"] == {"code": 1006, "reason": "", "clean": False}
    assert r["fetch"].startswith("TypeError: WebSocket connection to ")
    assert "was refused" in r["fetch"]
    server.wait_log("connections to loopback address 127.0.0.1 are not allowed")


def test_a_reload_closes_websockets_with_1001_after_the_grace(server):
    async def go():
        session, ws = await _session_ws(url(server, "/echo"))
        async with session:
            await ws.send_str("before")
            assert (await ws.receive()).data == "before"
            server.send_signal(signal.SIGHUP)
            started = time.monotonic()
            await ws.send_str("during the grace")
            assert (await ws.receive(timeout=5)).data == "during the grace"
            msg = await ws.receive(timeout=10)
            return msg.type, msg.data, time.monotonic() - started
    kind, code, waited = run(go())
    assert (kind, code) == (aiohttp.WSMsgType.CLOSE, 1001)
    assert waited >= 0.8  # after shutdown_grace (1 s), not at once
    server.wait_log("reloaded: serving", timeout=20)


def test_a_worker_killed_mid_connection_closes_the_socket_with_1011(server):
    async def go():
        session, ws = await _session_ws(url(server, "/echo"))
        async with session:
            await ws.send_str("ping")
            assert (await ws.receive()).data == "ping"
            os.kill(server.worker_pids()["app/w0"], signal.SIGKILL)
            msg = await ws.receive(timeout=10)
            return msg.type, msg.data
    assert run(go()) == (aiohttp.WSMsgType.CLOSE, 1011)
