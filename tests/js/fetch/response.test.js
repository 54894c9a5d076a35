// META: internals
// Response (Fetch standard §5.5): constructor, statics, attributes and clone().

function streamOf(...chunks) {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
      c.close();
    },
  });
}

async function readAllText(stream) {
  const reader = stream.getReader();
  let out = "";
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out + decoder.decode();
    out += decoder.decode(value, { stream: true });
  }
}

// --- Defaults -----------------------------------------------------------------------------------

const defaults = { type: "default", url: "", ok: true, status: 200, statusText: "", body: null,
  bodyUsed: false, redirected: false };
for (const [name, value] of Object.entries(defaults)) {
  test(() => {
    const r = new Response();
    assert_equals(r[name], value);
    try {
      r[name] = "changed";
    } catch {}
    assert_equals(r[name], value, "read-only");
  }, `default ${name}`);
}

test(() => {
  const r = new Response();
  assert_true(r.headers instanceof Headers);
  assert_equals(r.headers, r.headers, "[SameObject]");
  assert_equals([...r.headers].length, 0);
  r.headers.set("x", "y");
  assert_equals(r.headers.get("x"), "y", "mutable (guard response)");
}, "headers attribute");

test(() => {
  assert_throws_js(TypeError, () => Response());
  assert_equals(Response.length, 0);
  new Response(undefined, undefined);
  new Response(null, null);
}, "Response needs new; every argument is optional");

// --- Status and statusText -------------------------------------------------------------------------

for (const status of [200, 201, 204, 299, 300, 302, 400, 404, 500, 599]) {
  test(() => {
    const r = new Response(null, { status });
    assert_equals(r.status, status);
    assert_equals(r.ok, status >= 200 && status <= 299);
  }, `status ${status}`);
}

for (const status of [0, 100, 101, 199, 600, 1000, -1, 65535]) {
  test(() => {
    assert_throws_js(RangeError, () => new Response(null, { status }));
  }, `status ${status} throws RangeError`);
}

test(() => {
  assert_equals(new Response(null, { status: 65736 }).status, 200, "unsigned short wraps");
  assert_equals(new Response(null, { status: "201" }).status, 201);
  assert_equals(new Response(null, { status: 250.9 }).status, 250);
  assert_throws_js(RangeError, () => new Response(null, { status: NaN }));
  assert_throws_js(TypeError, () => new Response(null, { status: 200n }));
}, "status is converted as an unsigned short");

for (const statusText of ["", "OK", "Not Found", "tab\there", "\x80\xff obs-text", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]) {
  test(() => {
    assert_equals(new Response(null, { statusText }).statusText, statusText);
  }, `statusText ${JSON.stringify(statusText)}`);
}

for (const statusText of ["\n", "\r", "a\nb", "\u0000", "\x7f", "\x1f", "\u0100", "😀"]) {
  test(() => {
    assert_throws_js(TypeError, () => new Response(null, { statusText }));
  }, `statusText ${JSON.stringify(statusText)} throws TypeError`);
}

test(() => {
  assert_throws_js(RangeError, () => new Response(null, { status: 0, statusText: "\n" }),
    "the status is checked first");
  assert_throws_js(TypeError, () => new Response(null, { statusText: "\n", headers: { "a b": "c" } }));
  assert_throws_js(TypeError, () => new Response(null, { headers: { "a b": "c" } }));
}, "initialization order");

for (const status of [204, 205, 304]) {
  test(() => {
    assert_throws_js(TypeError, () => new Response("body", { status }));
    assert_throws_js(TypeError, () => new Response("", { status }), "even an empty body");
    assert_throws_js(TypeError, () => new Response(new ReadableStream(), { status }));
    const r = new Response(null, { status });
    assert_equals(r.body, null);
  }, `null body status ${status}`);
}

test(() => {
  const log = [];
  const init = {
    get headers() { log.push("headers"); return undefined; },
    get status() { log.push("status"); return 201; },
    get statusText() { log.push("statusText"); return "x"; },
  };
  new Response({ toString() { log.push("body"); return "b"; } }, init);
  assert_array_equals(log, ["body", "headers", "status", "statusText"]);
}, "body then ResponseInit members in lexicographic order");

test(() => {
  assert_throws_js(TypeError, () => new Response(null, "init"));
  assert_throws_js(TypeError, () => new Response(null, 5));
}, "init must be an object");

// --- Bodies and Content-Type ---------------------------------------------------------------------

const bodyTypes = [
  ["no body", () => null, null, ""],
  ["Blob (no type)", () => new Blob(["b"]), null, "b"],
  ["Blob (type set)", () => new Blob(["b"], { type: "Application/Octet-Binary" }), "application/octet-binary", "b"],
  ["Uint8Array", () => new Uint8Array([104, 105]), null, "hi"],
  ["Int16Array", () => new Int16Array([0x6968]), null, "hi"],
  ["ArrayBuffer", () => new Uint8Array([104, 105]).buffer, null, "hi"],
  ["DataView", () => new DataView(new Uint8Array([0, 104, 105, 0]).buffer, 1, 2), null, "hi"],
  ["subarray view", () => new Uint8Array([1, 104, 105, 2]).subarray(1, 3), null, "hi"],
  ["URLSearchParams", () => new URLSearchParams("a=b&c=d d"), "application/x-www-form-urlencoded;charset=UTF-8", "a=b&c=d+d"],
  ["string", () => "This is a USVString", "text/plain;charset=UTF-8", "This is a USVString"],
  ["lone surrogate string", () => "a\uD800b", "text/plain;charset=UTF-8", "a\uFFFDb"],
  ["number", () => 12, "text/plain;charset=UTF-8", "12"],
  ["object", () => ({ toString: () => "obj" }), "text/plain;charset=UTF-8", "obj"],
  ["ReadableStream", () => streamOf("st", "ream"), null, "stream"],
];
for (const [label, make, type, text] of bodyTypes) {
  promise_test(async () => {
    const r = new Response(make());
    assert_equals(r.headers.get("content-type"), type);
    assert_equals(await r.text(), text);
  }, `${label} body: Content-Type and text`);
  test(() => {
    const r = new Response(make(), { headers: { "Content-Type": "over/ride" } });
    assert_equals(r.headers.get("content-type"), "over/ride");
  }, `${label} body: Content-Type can be overridden`);
}

promise_test(async () => {
  const fd = new FormData();
  fd.append("name", "value");
  const r = new Response(fd);
  const text = await r.text();
  const boundary = text.split("\r\n")[0].slice(2);
  assert_equals(r.headers.get("content-type"), `multipart/form-data; boundary=${boundary}`);
  assert_true(text.includes('name="name"\r\n\r\nvalue'));
}, "FormData body");

promise_test(async () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const r = new Response(bytes);
  bytes[0] = 9;
  assert_array_equals(await r.bytes(), [1, 2, 3], "the body is a copy");
}, "a buffer source body is copied");

promise_test(async () => {
  const buffer = new ArrayBuffer(4);
  const moved = buffer.transfer();
  const r = new Response(buffer);
  assert_equals((await r.arrayBuffer()).byteLength, 0);
  assert_equals(moved.byteLength, 4);
}, "a detached buffer is an empty body");

promise_test(async () => {
  const sab = new SharedArrayBuffer(2);
  new Uint8Array(sab).set([104, 105]);
  assert_equals(await new Response(sab).text(), "hi");
  assert_equals(await new Response(new Uint8Array(sab)).text(), "hi");
}, "shared buffers are byte bodies too");

test(() => {
  const locked = new ReadableStream();
  locked.getReader();
  assert_throws_js(TypeError, () => new Response(locked));
  const read = new ReadableStream();
  read.getReader().read();
  assert_throws_js(TypeError, () => new Response(read));
}, "a locked or disturbed stream body throws");

test(() => {
  const stream = new ReadableStream();
  const r = new Response(stream);
  assert_equals(r.body, stream, "the stream itself");
}, "a stream body is held as is");

// --- Response.error() ----------------------------------------------------------------------------

test(() => {
  const r = Response.error();
  assert_equals(r.type, "error");
  assert_equals(r.status, 0);
  assert_equals(r.statusText, "");
  assert_equals(r.body, null);
  assert_false(r.ok);
  assert_equals(r.url, "");
  assert_true(r.headers.entries().next().done);
  assert_throws_js(TypeError, () => r.headers.append("name", "value"));
  assert_not_equals(Response.error(), r, "[NewObject]");
}, "Response.error()");

test(() => {
  assert_equals(Response.error.name, "error");
  assert_equals(Response.error.length, 0);
  const c = Response.error().clone();
  assert_equals(c.type, "error");
  assert_throws_js(TypeError, () => c.headers.set("a", "b"), "the clone's headers are immutable too");
}, "Response.error() name, length and clone");

// --- Response.redirect() -------------------------------------------------------------------------

const redirectURL = "http://test.url:1234/";
test(() => {
  const r = Response.redirect(redirectURL);
  assert_equals(r.type, "default");
  assert_false(r.redirected);
  assert_false(r.ok);
  assert_equals(r.status, 302);
  assert_equals(r.headers.get("Location"), redirectURL);
  assert_equals(r.statusText, "");
  assert_equals(r.body, null);
}, "Response.redirect() defaults to 302");

for (const status of [301, 302, 303, 307, 308]) {
  test(() => {
    const r = Response.redirect(redirectURL, status);
    assert_equals(r.status, status);
    assert_equals(r.headers.get("location"), redirectURL);
    assert_throws_js(TypeError, () => r.headers.set("location", "x"), "immutable headers");
  }, `Response.redirect() with status ${status}`);
}

for (const status of [200, 300, 304, 309, 400, 500, 0]) {
  test(() => {
    assert_throws_js(RangeError, () => Response.redirect(redirectURL, status));
  }, `Response.redirect() with status ${status} throws RangeError`);
}

test(() => {
  assert_throws_js(TypeError, () => Response.redirect("http://:This is not an url"));
  assert_throws_js(TypeError, () => Response.redirect("/relative"));
  assert_throws_js(TypeError, () => Response.redirect("http://:bad", 200), "the URL is checked first");
  assert_throws_js(TypeError, () => Response.redirect());
}, "Response.redirect() with a bad URL throws TypeError");

test(() => {
  assert_equals(Response.redirect("HTTPS://Example.COM/a b?c d#e").headers.get("location"),
    "https://example.com/a%20b?c%20d#e");
  assert_equals(Response.redirect(new URL("https://x.example/")).headers.get("location"), "https://x.example/");
  assert_equals(Response.redirect(redirectURL, 65837).status, 301, "unsigned short wraps");
}, "Response.redirect() serializes the URL");

test(() => {
  Object.defineProperty(globalThis, "location", { value: { href: "https://base.example/dir/x" }, configurable: true });
  try {
    assert_equals(Response.redirect("/").headers.get("location"), "https://base.example/");
    assert_equals(Response.redirect("y").headers.get("location"), "https://base.example/dir/y");
  } finally {
    delete globalThis.location;
  }
}, "Response.redirect() resolves against globalThis.location");

test(() => {
  assert_equals(Response.redirect.name, "redirect");
  assert_equals(Response.redirect.length, 1);
}, "Response.redirect name and length");

// --- Response.json() -------------------------------------------------------------------------------

for (const [init, status, statusText, type, extra] of [
  [undefined, 200, "", "application/json", {}],
  [{ status: 400 }, 400, "", "application/json", {}],
  [{ statusText: "foo" }, 200, "foo", "application/json", {}],
  [{ headers: {} }, 200, "", "application/json", {}],
  [{ headers: { "content-type": "foo/bar" } }, 200, "", "foo/bar", {}],
  [{ headers: { "x-foo": "bar" } }, 200, "", "application/json", { "x-foo": "bar" }],
]) {
  promise_test(async () => {
    const r = Response.json("hello world", init);
    assert_equals(r.type, "default");
    assert_equals(r.status, status);
    assert_equals(r.statusText, statusText);
    assert_equals(r.headers.get("content-type"), type);
    for (const k of Object.keys(extra)) assert_equals(r.headers.get(k), extra[k]);
    assert_equals(await r.json(), "hello world");
  }, `Response.json() with init ${JSON.stringify(init)}`);
}

for (const status of [204, 205, 304]) {
  test(() => {
    assert_throws_js(TypeError, () => Response.json("x", { status }));
  }, `Response.json() with null body status ${status} throws`);
}

test(() => {
  assert_throws_js(TypeError, () => Response.json(Symbol("foo")));
  assert_throws_js(TypeError, () => Response.json(undefined));
  assert_throws_js(TypeError, () => Response.json(() => {}));
  assert_throws_js(TypeError, () => Response.json(1n));
  const a = { b: 1 };
  a.a = a;
  assert_throws_js(TypeError, () => Response.json(a));
  assert_throws_js(TypeError, () => Response.json());
}, "Response.json() with unserializable data throws TypeError");

test(() => {
  class CustomError extends Error {}
  assert_throws_js(CustomError, () => Response.json({ get foo() { throw new CustomError("bar"); } }));
  assert_throws_js(CustomError, () => Response.json({ toJSON() { throw new CustomError("x"); } }));
}, "Response.json() propagates serializer errors");

for (const [input, expected] of [
  ["𝌆", [34, 240, 157, 140, 134, 34]],
  ["\uDF06\uD834", [34, 92, 117, 100, 102, 48, 54, 92, 117, 100, 56, 51, 52, 34]],
  ["\uDEAD", [34, 92, 117, 100, 101, 97, 100, 34]],
]) {
  promise_test(async () => {
    assert_array_equals(new Uint8Array(await Response.json(input).arrayBuffer()), expected);
  }, `Response.json() encodes ${JSON.stringify(input)} as UTF-8`);
}

promise_test(async () => {
  const data = await Response.json({ foo: "bar", n: [1, null] }).json();
  assert_equals(data.foo, "bar");
  assert_array_equals(data.n, [1, null]);
  assert_equals(await Response.json(null).text(), "null");
  assert_equals(await Response.json({ toJSON: () => 5 }).text(), "5");
}, "Response.json() serializes");

test(() => {
  const headers = Response.json(null).headers;
  headers.append("x-custom", "value");
  assert_equals(headers.get("x-custom"), "value");
  headers.set("content-type", "foo/bar");
  assert_equals(headers.get("content-type"), "foo/bar");
  headers.delete("content-type");
  assert_equals(headers.get("content-type"), null);
}, "headers of Response.json() are mutable");

test(() => {
  assert_equals(Response.json.name, "json");
  assert_equals(Response.json.length, 1);
  assert_throws_js(RangeError, () => Response.json(1, { status: 99 }));
}, "Response.json name, length and status range");

// --- url, redirected, type -----------------------------------------------------------------------

test(() => {
  const I = __internals;
  const r = I.response.make({
    status: 200, headers: I.headers.fromList([], "immutable"),
    urlList: ["https://a.example/", "https://b.example/x#frag"],
  });
  assert_equals(r.url, "https://b.example/x");
  assert_true(r.redirected);
  const single = I.response.make({ headers: I.headers.fromList([], "immutable"), urlList: ["https://a.example/#x"] });
  assert_equals(single.url, "https://a.example/");
  assert_false(single.redirected);
  assert_equals(r.clone().url, "https://b.example/x");
  assert_true(r.clone().redirected);
}, "url drops the fragment; redirected means more than one URL");

test(() => {
  const I = __internals;
  const r = I.response.make({ type: "basic", status: 404, statusText: "Nope", headers: I.headers.fromList(["a", "1"], "immutable") });
  assert_equals(r.type, "basic");
  assert_equals(r.status, 404);
  assert_false(r.ok);
  assert_equals(r.statusText, "Nope");
  assert_equals(I.response.status(r), 404);
  assert_equals(I.response.body(r), null);
  assert_true(I.response.isResponse(r));
  assert_false(I.response.isResponse({}));
  assert_true(I.response.NULL_BODY_STATUS.has(204));
}, "internals.response.make and accessors");

// --- clone() ------------------------------------------------------------------------------------

test(() => {
  const r = new Response().clone();
  for (const [name, value] of Object.entries({ type: "default", url: "", ok: true, status: 200, statusText: "" })) {
    assert_equals(r[name], value, name);
  }
}, "clone of a default response");

promise_test(async () => {
  const r = new Response("This is response body", { status: 201, statusText: "GOOD", headers: { name: "value" } });
  const c = r.clone();
  assert_equals(c.status, 201);
  assert_equals(c.statusText, "GOOD");
  assert_equals(c.headers.get("name"), "value");
  assert_not_equals(c.headers, r.headers);
  c.headers.set("other", "1");
  assert_false(r.headers.has("other"));
  assert_equals(await readAllText(r.body), "This is response body");
  assert_equals(await readAllText(c.body), "This is response body");
}, "clone has the same attributes and body");

promise_test(async () => {
  const r = new Response("data");
  await r.text();
  assert_true(r.bodyUsed);
  assert_throws_js(TypeError, () => r.clone());
}, "a disturbed response cannot be cloned");

test(() => {
  const r = new Response("data");
  r.body.getReader();
  assert_throws_js(TypeError, () => r.clone());
}, "a locked response cannot be cloned");

promise_test(async () => {
  const r = new Response(streamOf("a", "b", "c"));
  const c = r.clone();
  r.body.cancel();
  assert_true(r.bodyUsed);
  assert_false(c.bodyUsed);
  assert_equals(await c.text(), "abc");
  assert_true(c.bodyUsed);
}, "cancelling a stream does not affect its clone");

const buffer = new ArrayBuffer(16);
for (const [label, chunk] of [
  ["Int8Array", new Int8Array(buffer, 1)], ["Uint8Array", new Uint8Array(buffer)],
  ["Float64Array", new Float64Array(buffer)], ["DataView", new DataView(buffer, 2, 8)],
  ["ArrayBuffer", buffer],
]) {
  promise_test(async () => {
    const r = new Response(new ReadableStream({ start(c) { c.enqueue(chunk); c.close(); } }));
    const c = r.clone();
    const a = await r.body.getReader().read();
    assert_equals(a.value, chunk, "the original chunk on the first branch");
    const b = await c.body.getReader().read();
    assert_not_equals(b.value, chunk, "a structured clone on the second");
    assert_equals(Object.getPrototypeOf(b.value), Object.getPrototypeOf(chunk));
  }, `clone tees a stream of ${label} chunks with a structured clone`);
}

promise_test(async () => {
  const r = new Response(new Uint8Array([1, 2, 3]));
  const c = r.clone();
  const a = await r.bytes();
  a[0] = 99;
  assert_array_equals(await c.bytes(), [1, 2, 3], "consumers do not share bytes");
}, "a clone of a byte body does not share bytes");

promise_test(async () => {
  const r = new Response("abc");
  const c = r.clone();
  const c2 = c.clone();
  assert_equals(await readAllText(c.body), "abc");
  assert_equals(await r.text(), "abc");
  assert_equals(await c2.text(), "abc");
}, "clones of clones");

test(() => {
  assert_throws_js(TypeError, () => Response.prototype.clone.call({}));
  assert_throws_js(TypeError, () => Response.prototype.clone.call(new Request("https://a.example/")));
}, "clone checks its receiver");

// --- Errors from streams ----------------------------------------------------------------------------

promise_test(async () => {
  const error = new Error("stream failed");
  const r = new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1])); c.error(error); } }));
  await promise_rejects_exactly(null, error, r.text());
}, "a body stream error rejects the consumer with that error");

for (const [label, chunk] of [["a string", "hello"], ["an ArrayBuffer", new ArrayBuffer(2)],
  ["an Int8Array", new Int8Array(2)], ["undefined", undefined], ["null", null], ["a number", 5]]) {
  promise_test(async () => {
    const r = new Response(new ReadableStream({ start(c) { c.enqueue(chunk); c.close(); } }));
    await promise_rejects_js(null, TypeError, r.arrayBuffer());
  }, `a body stream chunk that is ${label} rejects with TypeError`);
}

// --- The bridge's view of bodies (90_serve.js, 34_fetch.js) ------------------------------------

test(() => {
  const I = __internals;
  const body = I.response.body(new Response("hello"));
  assert_equals(body.stream, null, "no stream is made");
  assert_true(body.source instanceof Uint8Array);
  assert_equals(new TextDecoder().decode(body.source), "hello");
  assert_equals(body.length, 5);
  assert_false(I.body.isUnusable(body));
}, "a string body stays bytes until a stream is asked for");

test(() => {
  const I = __internals;
  const r = new Response(new Blob(["abc"]));
  const body = I.response.body(r);
  assert_equals(body.stream, null);
  assert_true(I.blob.isBlob(body.source));
  assert_equals(body.length, 3);
  const stream = I.body.bodyStream(body);
  assert_true(stream instanceof ReadableStream);
  assert_equals(I.body.bodyStream(body), stream, "made once");
}, "a Blob body keeps its Blob as source");

promise_test(async () => {
  const I = __internals;
  const r = new Response("x");
  await r.text();
  const body = I.response.body(r);
  assert_true(I.body.isUnusable(body));
  assert_true(I.body.isDisturbed(body));
}, "a consumed body is unusable for the bridge");

test(() => {
  const I = __internals;
  const r = new Response(new ReadableStream());
  const body = I.response.body(r);
  assert_equals(body.source, null);
  assert_equals(body.length, null);
  assert_true(body.exposed, "the script holds the stream");
  const fetched = I.response.make({
    status: 200, headers: I.headers.fromList([], "immutable"),
    body: new I.body.InnerBody(new ReadableStream(), null, null),
  });
  assert_false(I.response.body(fetched).exposed);
  fetched.body;
  assert_true(I.response.body(fetched).exposed);
}, "stream bodies and the exposed flag");

promise_test(async () => {
  const I = __internals;
  const r = new Response(new Uint8Array([1, 2]));
  const clone = r.clone();
  const a = I.response.body(r);
  const b = I.response.body(clone);
  assert_equals(a.source, b.source, "clones share an immutable source");
  assert_true(a.shared && b.shared);
  const bytes = await r.bytes();
  assert_not_equals(bytes, a.source, "a shared source is copied when handed out");
  const stream = I.body.bodyStream(b);
  assert_array_equals((await stream.getReader().read()).value, [1, 2]);
  assert_equals(a.source.length, 2, "streaming a clone leaves the shared source intact");
}, "shared sources of clones");

test(() => {
  new Response("x", { encodeBody: "automatic" });
  new Response("x", { encodeBody: "manual" });
  for (const bad of ["Manual", "", "gzip", {}]) {
    assert_throws_js(TypeError, () => new Response("x", { encodeBody: bad }), String(bad));
  }
}, "ResponseInit's encodeBody (Workers) is \"automatic\" or \"manual\"");
