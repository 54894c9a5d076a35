// WebSocketPair, WebSocket and CloseEvent inside one isolate (Workers API, WebSockets standard).

const tick = () => new Promise((r) => setTimeout(r, 0));

function pair() {
  const [a, b] = Object.values(new WebSocketPair());
  return [a, b];
}

test(() => {
  const p = new WebSocketPair();
  assert_equals(Object.keys(p).join(), "0,1");
  assert_true(p[0] instanceof WebSocket && p[1] instanceof WebSocket && p[0] !== p[1]);
  assert_equals(p[0].readyState, WebSocket.OPEN);
  assert_equals(WebSocket.CLOSING, 2);
  assert_equals(p[0].CLOSED, 3);
  assert_throws_js(TypeError, () => WebSocket.prototype.send.call({}, "x"));
}, "a WebSocketPair is two open WebSockets, as own properties 0 and 1");

promise_test(async () => {
  const [a, b] = pair();
  const got = [];
  a.accept();
  a.send("first");
  a.send(new Uint8Array([1, 2, 3]));
  a.send(new Uint16Array([0x0201]).buffer);
  await tick();
  b.accept(); // what arrived before accept() is held, then dispatched after listeners exist
  b.addEventListener("message", (e) => got.push(e.data));
  await tick();
  await tick();
  assert_equals(got.length, 3);
  assert_equals(got[0], "first");
  assert_true(got[1] instanceof ArrayBuffer);
  assert_array_equals(new Uint8Array(got[1]), [1, 2, 3]);
  assert_array_equals(new Uint8Array(got[2]), [1, 2]);
}, "messages between the two ends keep their order and type; held until accept()");

promise_test(async () => {
  const [a, b] = pair();
  a.accept();
  b.accept();
  const seen = [];
  a.addEventListener("close", (e) => seen.push(["a", e.code, e.reason, e.wasClean,
    e instanceof CloseEvent]));
  b.addEventListener("close", (e) => seen.push(["b", e.code, e.reason, a.readyState]));
  a.close(4001, "done");
  assert_equals(a.readyState, WebSocket.CLOSING);
  await tick();
  await tick();
  await tick();
  assert_array_equals(seen[0], ["b", 4001, "done", WebSocket.CLOSING]);
  // b answered the close with the same code, automatically.
  assert_array_equals(seen[1], ["a", 4001, "", true, true]);
  assert_equals(a.readyState, WebSocket.CLOSED);
  assert_equals(b.readyState, WebSocket.CLOSED);
}, "close() is answered by the peer with its code: both ends end CLOSED");

test(() => {
  const [a] = pair();
  assert_throws_js(TypeError, () => a.send("x"), "before accept");
  assert_throws_js(TypeError, () => a.close(), "close goes through the same gate");
  a.accept();
  for (const code of [999, 1004, 1005, 1006, 1015, 5000]) {
    assert_throws_js(TypeError, () => a.close(code), `code ${code}`);
  }
  assert_throws_dom("SyntaxError", () => a.close(1000, "x".repeat(124)));
  a.close(1000, "é".repeat(61)); // 122 bytes
  a.close(1000); // a second close does nothing
  assert_throws_js(TypeError, () => a.send("late"));
}, "send and close: the accept gate, valid codes and reasons, send after close");

test(() => {
  const [a, b] = pair();
  assert_throws_js(RangeError, () => new Response(null, { status: 101 }));
  assert_throws_js(RangeError, () => new Response(null, { status: 200, webSocket: a }));
  assert_throws_js(TypeError, () => new Response(null, { status: 101, webSocket: {} }));
  const r = new Response(null, { status: 101, webSocket: a });
  assert_equals(r.status, 101);
  assert_equals(r.webSocket, a);
  assert_equals(new Response("x").webSocket, null);
}, "a Response carries a webSocket with status 101 only");

test(() => {
  const e = new CloseEvent("close", { code: 1000, reason: "r", wasClean: true });
  assert_equals(e.code, 1000);
  assert_equals(e.reason, "r");
  assert_true(e.wasClean);
  const d = new CloseEvent("close");
  assert_equals(d.code, 0);
  assert_equals(d.reason, "");
  assert_false(d.wasClean);
}, "CloseEvent");

test(() => {
  assert_throws_dom("SyntaxError", () => new WebSocket("ftp://example.com/"));
  assert_throws_dom("SyntaxError", () => new WebSocket("wss://example.com/#frag"));
  assert_throws_dom("SyntaxError", () => new WebSocket("wss://example.com/", ["a", "a"]));
  assert_throws_dom("SyntaxError", () => new WebSocket("wss://example.com/", "a b"));
}, "new WebSocket() checks its URL and protocols (WebSockets standard)");
