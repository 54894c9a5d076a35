// META: internals
// fetch() of data: URLs (Fetch standard §4.2 "scheme fetch", "data", and the "data: URL
// processor"): answered in the isolate, with no network and no Python.

async function bytesOf(response) {
  return Array.from(new Uint8Array(await response.arrayBuffer()));
}

// --- The response -------------------------------------------------------------------------------

promise_test(async () => {
  const r = await fetch("data:,hello%20there#ignored");
  assert_equals(r.status, 200);
  assert_equals(r.statusText, "OK");
  assert_true(r.ok);
  assert_equals(r.type, "basic");
  assert_false(r.redirected);
  assert_equals(r.url, "data:,hello%20there", "the fragment is not part of the URL");
  assert_equals([...r.headers].length, 1, "Content-Type is the only header");
  assert_equals(r.headers.get("content-type"), "text/plain;charset=US-ASCII");
  assert_equals(await r.text(), "hello there");
}, "a data: URL answers 200 OK with its body and a default text/plain type");

promise_test(async () => {
  const r = await fetch("data:,one?two#three");
  assert_equals(r.url, "data:,one?two");
  assert_equals(await r.text(), "one?two", "the query is part of the body, the fragment is not");
}, "a data: URL's query belongs to its body");

promise_test(async () => {
  const r = await fetch(new Request("data:text/html,<b>x</b>", { mode: "no-cors" }));
  assert_equals(r.type, "basic");
  assert_equals(await r.text(), "<b>x</b>");
}, "a data: URL fetched in no-cors mode is still a basic response");

promise_test(async () => {
  const r = await fetch("data:,x");
  assert_throws_js(TypeError, () => r.headers.set("content-type", "text/html"));
}, "the headers of a data: response are immutable");

// --- The body -----------------------------------------------------------------------------------

promise_test(async () => {
  assert_array_equals(await bytesOf(await fetch("data:,%FF%00a%zz%4")), [0xff, 0, 0x61, 0x25, 0x7a, 0x7a, 0x25, 0x34]);
}, "the body is percent-decoded to bytes, malformed escapes kept as they are");

promise_test(async () => {
  assert_array_equals(await bytesOf(await fetch("data:,é")), [0xc3, 0xa9]);
}, "a non-ASCII character in a data: URL is its UTF-8 bytes");

promise_test(async () => {
  assert_array_equals(await bytesOf(await fetch("data:,")), []);
}, "a data: URL with nothing after the comma has an empty body");

promise_test(async () => {
  const r = await fetch("data:application/octet-stream;base64,AAEC/w==");
  assert_equals(r.headers.get("content-type"), "application/octet-stream");
  assert_array_equals(await bytesOf(r), [0, 1, 2, 255]);
}, "a ;base64 data: URL is base64-decoded and ;base64 is not part of its type");

promise_test(async () => {
  assert_equals(await (await fetch("data:;base64,YW%4Ej")).text(), "acc", "%4E (N) is decoded first");
  assert_equals(await (await fetch("data:;base64, YW Jj \n")).text(), "abc", "whitespace is skipped");
  assert_equals(await (await fetch("data:;BaSe64,YWJj")).text(), "abc", "base64 in any case");
  assert_equals(await (await fetch("data:text/plain;   base64,YWJj")).text(), "abc", "spaces before base64");
}, "base64 data: URLs: percent-decoding first, forgiving decoding, any case, spaces");

promise_test(async () => {
  const r = await fetch("data:text/plain;base64x,YWJj");
  assert_equals(r.headers.get("content-type"), "text/plain");
  assert_equals(await r.text(), "YWJj");
}, "a parameter that only starts with base64 leaves the body as it is");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, fetch("data:;base64,abcde"));
  await promise_rejects_js(t, TypeError, fetch("data:;base64,ab=c"));
  await promise_rejects_js(t, TypeError, fetch("data:;base64,%FFab"));
}, "a data: URL whose base64 does not decode is a network error");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, fetch("data:text/plain"));
  await promise_rejects_js(t, TypeError, fetch("data:"));
  await promise_rejects_js(t, TypeError, fetch("data:x#a,b"), "a comma in the fragment does not count");
}, "a data: URL without a comma is a network error");

// --- The MIME type ------------------------------------------------------------------------------

const mimeTypes = [
  ["data:TEXT/HTML;Charset=\"UTF-8\",x", "text/html;charset=UTF-8"],
  ["data:  image/svg+xml  ,x", "image/svg+xml"],
  ["data:;charset=utf-8,x", "text/plain;charset=utf-8"],
  ["data:;a=1;a=2;b,x", "text/plain;a=1"],
  ["data:text/plain;q=\"a b\",x", "text/plain;q=\"a b\""],
  ["data:nonsense,x", "text/plain;charset=US-ASCII"],
  ["data:text / html,x", "text/plain;charset=US-ASCII"],
  ["data:%20;charset=x,x", "text/plain;charset=US-ASCII"],
];
for (const [url, expected] of mimeTypes) {
  promise_test(async () => {
    const r = await fetch(url);
    assert_equals(r.headers.get("content-type"), expected);
  }, `the Content-Type of ${url} is ${expected}`);
}

// --- Methods and request bodies -----------------------------------------------------------------

promise_test(async () => {
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FROB"]) {
    const r = await fetch("data:,same", { method, body: method === "FROB" ? null : "ignored" });
    assert_equals(r.status, 200, method);
    assert_equals(await r.text(), "same", method);
  }
}, "a data: URL answers every method the same way");

promise_test(async () => {
  let pulled = false;
  const body = new ReadableStream({ pull() { pulled = true; } }, { highWaterMark: 0 });
  const r = await fetch("data:,x", { method: "POST", body, duplex: "half" });
  assert_equals(await r.text(), "x");
  assert_false(pulled, "the request body is never read");
}, "the request body of a data: fetch is not read");

promise_test(async () => {
  const r = await fetch("data:text/html,not%20sent", { method: "HEAD" });
  assert_equals(r.status, 200);
  assert_equals(r.headers.get("content-type"), "text/html");
  assert_equals(r.body, null);
  assert_equals(await r.text(), "");
}, "HEAD of a data: URL has its Content-Type and a null body");

promise_test(async () => {
  const r = await fetch("data:,x", { redirect: "error" });
  assert_equals(await r.text(), "x");
  const m = await fetch("data:,x", { redirect: "manual" });
  assert_equals(m.type, "basic");
}, "redirect modes do not apply to data: URLs");

// --- Aborts -------------------------------------------------------------------------------------

promise_test(async (t) => {
  const reason = new Error("stop");
  await promise_rejects_exactly(t, reason, fetch("data:,x", { signal: AbortSignal.abort(reason) }));
}, "a data: fetch with an aborted signal rejects with its reason");

promise_test(async (t) => {
  const controller = new AbortController();
  const promise = fetch("data:,x", { signal: controller.signal });
  controller.abort();
  await promise_rejects_dom(t, "AbortError", promise);
}, "an abort right after fetch() rejects a data: fetch");

promise_test(async (t) => {
  const controller = new AbortController();
  const promise = fetch("data:", { signal: controller.signal });
  controller.abort();
  await promise_rejects_dom(t, "AbortError", promise, "the abort comes before the network error");
}, "an abort right after fetch() of an invalid data: URL rejects with the abort reason");

promise_test(async (t) => {
  const controller = new AbortController();
  const r = await fetch("data:,unread", { signal: controller.signal });
  const reason = new Error("late");
  controller.abort(reason);
  await promise_rejects_exactly(t, reason, r.text());
}, "an abort after the response errors the data: body not read yet");

promise_test(async (t) => {
  const controller = new AbortController();
  const r = await fetch("data:,unread", { signal: controller.signal });
  const reader = r.body.getReader();
  controller.abort();
  await promise_rejects_dom(t, "AbortError", reader.read());
}, "an abort errors the stream of a data: body a reader holds");

promise_test(async () => {
  const controller = new AbortController();
  const r = await fetch("data:,done", { signal: controller.signal });
  assert_equals(await r.text(), "done");
  controller.abort();
  assert_true(r.bodyUsed);
}, "an abort after a data: body was read changes nothing");

promise_test(async () => {
  const controller = new AbortController();
  const r = await fetch("data:,abc", { signal: controller.signal });
  const reader = r.body.getReader();
  const first = await reader.read();
  controller.abort();
  assert_array_equals(Array.from(first.value), [0x61, 0x62, 0x63]);
  assert_true((await reader.read()).done, "the stream had closed before the abort");
}, "an abort after a data: body stream was drained changes nothing");

// --- Not a subrequest ---------------------------------------------------------------------------

promise_test(async () => {
  const { fetch: fetchApi, host } = __internals;
  const n = host.config.maxSubrequests + 3;
  const pending = [];
  for (let i = 0; i < n; i++) pending.push(fetch(`data:,${i}`));
  assert_equals(fetchApi.inflight(), 0, "nothing in flight towards Python");
  const texts = await Promise.all(pending.map((p) => p.then((r) => r.text())));
  assert_equals(texts[n - 1], String(n - 1));
}, "data: fetches need no job and are not charged as subrequests");
