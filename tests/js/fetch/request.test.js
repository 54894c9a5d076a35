// META: internals
// Request (Fetch standard §5.4): the constructor's steps, attributes, clone() and signals.

const URL_A = "https://example.com/a";

function withLocation(href, fn) {
  const had = Object.getOwnPropertyDescriptor(globalThis, "location");
  Object.defineProperty(globalThis, "location", { value: { href }, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    if (had) Object.defineProperty(globalThis, "location", had);
    else delete globalThis.location;
  }
}

function streamOf(...chunks) {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
      c.close();
    },
  });
}

// --- Defaults and structure -------------------------------------------------------------------

const defaults = {
  method: "GET", url: URL_A, destination: "", referrer: "about:client", referrerPolicy: "",
  mode: "cors", credentials: "same-origin", cache: "default", redirect: "follow", integrity: "",
  keepalive: false, isReloadNavigation: false, isHistoryNavigation: false, duplex: "half",
  bodyUsed: false, body: null,
};
for (const [name, value] of Object.entries(defaults)) {
  test(() => {
    const r = new Request(URL_A);
    assert_equals(r[name], value);
    try {
      r[name] = "changed";
    } catch {
      // A strict-mode write to a getter-only attribute throws: fine.
    }
    assert_equals(r[name], value, "read-only");
  }, `default ${name}`);
}

test(() => {
  const r = new Request(URL_A);
  assert_true(r.headers instanceof Headers);
  assert_equals(r.headers, r.headers, "[SameObject]");
  try {
    r.headers = new Headers({ a: "b" });
  } catch {}
  assert_false(r.headers.has("a"));
}, "headers attribute");

test(() => {
  const r = new Request(URL_A);
  assert_true(r.signal instanceof AbortSignal);
  assert_equals(r.signal, r.signal, "the same signal each time");
  assert_false(r.signal.aborted);
}, "signal attribute");

for (const name of ["priority", "internalpriority", "blocking", "window"]) {
  test(() => {
    assert_false(name in new Request(URL_A));
  }, `Request does not expose ${name}`);
}

test(() => {
  assert_throws_js(TypeError, () => Request(URL_A));
  assert_throws_js(TypeError, () => new Request());
  assert_equals(Request.length, 1);
}, "Request needs new and an argument");

// --- URLs ---------------------------------------------------------------------------------------

for (const [input, expected] of [
  ["https://EXAMPLE.com/a/../b", "https://example.com/b"],
  ["http://example.com", "http://example.com/"],
  ["https://example.com/a?b#c", "https://example.com/a?b#c"],
  ["https://example.com:443/", "https://example.com/"],
  ["https://example.com/ä", "https://example.com/%C3%A4"],
  ["https://xn--nxasmq6b.com/", "https://xn--nxasmq6b.com/"],
  ["data:text/plain,hi", "data:text/plain,hi"],
  ["about:blank", "about:blank"],
]) {
  test(() => {
    assert_equals(new Request(input).url, expected);
  }, `url ${input} is parsed and serialized`);
}

test(() => {
  const url = new URL("https://example.com/u?x=1");
  assert_equals(new Request(url).url, "https://example.com/u?x=1");
  assert_equals(new Request({ toString: () => URL_A }).url, URL_A);
}, "input objects are converted to strings");

for (const input of ["http://:not a valid URL", "", "/relative", "relative", "http://[::1", "https://a b/"]) {
  test(() => {
    assert_throws_js(TypeError, () => new Request(input));
  }, `invalid or relative URL ${JSON.stringify(input)} without a base URL throws`);
}

for (const input of ["http://user:pass@example.com/", "http://user@example.com/", "http://:pass@example.com/"]) {
  test(() => {
    assert_throws_js(TypeError, () => new Request(input));
  }, `URL with credentials ${input} throws`);
}

test(() => {
  withLocation("https://example.com/dir/page", () => {
    assert_equals(new Request("other").url, "https://example.com/dir/other");
    assert_equals(new Request("/root").url, "https://example.com/root");
    assert_equals(new Request("").url, "https://example.com/dir/page");
    assert_equals(new Request("//other.com/x").url, "https://other.com/x");
  });
}, "relative URLs resolve against globalThis.location when one is defined");

test(() => {
  withLocation("not a url", () => {
    assert_throws_js(TypeError, () => new Request("relative"));
  });
  withLocation(undefined, () => {
    assert_throws_js(TypeError, () => new Request("relative"));
  });
}, "an unusable location is no base URL");

// --- Methods ----------------------------------------------------------------------------------

for (const method of ["CONNECT", "TRACE", "TRACK", "connect", "trace", "track", "Connect"]) {
  test(() => {
    assert_throws_js(TypeError, () => new Request(URL_A, { method }));
  }, `forbidden method ${method} throws`);
}

for (const method of ["delete", "get", "head", "options", "post", "put", "Post", "gEt"]) {
  test(() => {
    const init = { method };
    assert_equals(new Request(URL_A, init).method, method.toUpperCase());
  }, `method ${method} is normalised`);
}

for (const method of ["patch", "Patch", "PATCH", "MyMethod", "m-search", "PROPFIND", "!#$%&'*+-.^_`|~"]) {
  test(() => {
    assert_equals(new Request(URL_A, { method }).method, method);
  }, `method ${method} is kept as given`);
}

for (const method of ["", "IN VALID", "a,b", "a:b", "é", "(get)", "GET\n", " GET"]) {
  test(() => {
    assert_throws_js(TypeError, () => new Request(URL_A, { method }));
  }, `invalid method ${JSON.stringify(method)} throws`);
}

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, { method: "\u0100" }));
  assert_equals(new Request(URL_A, { method: { toString: () => "post" } }).method, "POST");
}, "method is a ByteString");

// --- Enumerations -------------------------------------------------------------------------------

const enums = {
  mode: ["same-origin", "no-cors", "cors"],
  credentials: ["omit", "same-origin", "include"],
  cache: ["default", "no-store", "reload", "no-cache", "force-cache"],
  redirect: ["follow", "error", "manual"],
  referrerPolicy: ["", "no-referrer", "no-referrer-when-downgrade", "same-origin", "origin",
    "strict-origin", "origin-when-cross-origin", "strict-origin-when-cross-origin", "unsafe-url"],
};
for (const [member, values] of Object.entries(enums)) {
  for (const value of values) {
    test(() => {
      assert_equals(new Request(URL_A, { [member]: value })[member], value);
    }, `${member} '${value}'`);
  }
  for (const bad of ["BAD", "", "CORS ", null]) {
    if (values.includes(bad) || (member === "referrerPolicy" && bad === "")) continue;
    test(() => {
      assert_throws_js(TypeError, () => new Request(URL_A, { [member]: bad }));
    }, `bad ${member} ${JSON.stringify(bad)} throws`);
  }
}

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, { mode: "navigate" }));
}, "mode navigate throws");

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, { duplex: "full" }));
  assert_throws_js(TypeError, () => new Request(URL_A, { duplex: "HALF" }));
  new Request(URL_A, { duplex: "half" });
}, "duplex must be 'half'");

test(() => {
  for (const priority of ["high", "low", "auto"]) new Request(URL_A, { priority });
  assert_throws_js(TypeError, () => new Request(URL_A, { priority: "highest" }));
  assert_throws_js(TypeError, () => new Request(URL_A, { priority: null }));
}, "priority enumeration");

test(() => {
  new Request(URL_A, { cache: "only-if-cached", mode: "same-origin" });
  assert_throws_js(TypeError, () => new Request(URL_A, { cache: "only-if-cached" }));
  assert_throws_js(TypeError, () => new Request(URL_A, { cache: "only-if-cached", mode: "cors" }));
  assert_throws_js(TypeError, () => new Request(URL_A, { cache: "only-if-cached", mode: "no-cors" }));
}, "only-if-cached needs mode same-origin");

for (const method of ["GET", "HEAD", "POST"]) {
  test(() => {
    const r = new Request(URL_A, { mode: "no-cors", method });
    assert_equals(r.mode, "no-cors");
  }, `no-cors allows ${method}`);
}

for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"]) {
  test(() => {
    assert_throws_js(TypeError, () => new Request(URL_A, { mode: "no-cors", method }));
  }, `no-cors rejects ${method}`);
}

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, { window: "http://test.url" }));
  assert_throws_js(TypeError, () => new Request(URL_A, { window: {} }));
  assert_throws_js(TypeError, () => new Request(URL_A, { window: 0 }));
  new Request(URL_A, { window: null });
  new Request(URL_A, { window: undefined });
}, "window can only be null");

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, "init"));
  assert_throws_js(TypeError, () => new Request(URL_A, 1));
  new Request(URL_A, null);
  new Request(URL_A, undefined);
  new Request(URL_A, () => {});
}, "init must be an object, null or undefined");

test(() => {
  const r = new Request(URL_A, { integrity: "sha256-abc", keepalive: true, redirect: "manual" });
  assert_equals(r.integrity, "sha256-abc");
  assert_true(r.keepalive);
  assert_equals(r.redirect, "manual");
  assert_true(new Request(URL_A, { keepalive: 1 }).keepalive);
  assert_false(new Request(URL_A, { keepalive: "" }).keepalive);
}, "integrity, keepalive and redirect");

test(() => {
  const log = [];
  const init = {};
  for (const key of ["window", "signal", "referrerPolicy", "referrer", "redirect", "priority",
    "mode", "method", "keepalive", "integrity", "headers", "duplex", "credentials", "cache", "body"]) {
    Object.defineProperty(init, key, { get() { log.push(key); return undefined; } });
  }
  new Request({ toString() { log.push("input"); return URL_A; } }, init);
  assert_array_equals(log, ["input", "body", "cache", "credentials", "duplex", "headers",
    "integrity", "keepalive", "method", "mode", "priority", "redirect", "referrer",
    "referrerPolicy", "signal", "window"]);
}, "input then RequestInit members in lexicographic order");

test(() => {
  const err = new Error("boom");
  assert_throws_exactly(err, () => new Request(URL_A, { get cache() { throw err; } }));
  assert_throws_exactly(err, () => new Request({ toString() { throw err; } }));
}, "exceptions during conversion propagate");

// --- Referrer ---------------------------------------------------------------------------------

test(() => {
  assert_equals(new Request(URL_A, { referrer: "" }).referrer, "");
  assert_equals(new Request(URL_A, { referrer: "about:client" }).referrer, "about:client");
  assert_equals(new Request(URL_A, { referrer: "https://ref.example/p?q" }).referrer, "https://ref.example/p?q");
  assert_equals(new Request(URL_A, { referrer: "HTTPS://REF.example" }).referrer, "https://ref.example/");
}, "referrer values");

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, { referrer: "http://:not a valid URL" }));
  assert_throws_js(TypeError, () => new Request(URL_A, { referrer: "/relative" }));
}, "invalid referrers throw");

test(() => {
  withLocation("https://example.com/page", () => {
    assert_equals(new Request(URL_A, { referrer: "/here" }).referrer, "https://example.com/here");
    assert_equals(new Request(URL_A, { referrer: "https://other.example/" }).referrer, "about:client",
      "a cross-origin referrer becomes the client");
  });
}, "referrers with a base URL");

test(() => {
  const r1 = new Request(URL_A, { referrer: "https://ref.example/", referrerPolicy: "origin" });
  const r2 = new Request(r1);
  assert_equals(r2.referrer, "https://ref.example/");
  assert_equals(r2.referrerPolicy, "origin");
  const r3 = new Request(r1, {});
  assert_equals(r3.referrer, "https://ref.example/", "an empty init keeps them");
  const r4 = new Request(r1, { method: "GET" });
  assert_equals(r4.referrer, "about:client", "a non-empty init resets the referrer");
  assert_equals(r4.referrerPolicy, "");
}, "referrer and policy from an input request");

// --- Request from Request -----------------------------------------------------------------------

test(() => {
  const init = {
    method: "POST", mode: "same-origin", credentials: "include", cache: "no-cache",
    redirect: "error", integrity: "x", keepalive: true, referrerPolicy: "origin",
    headers: { "X-A": "1" }, body: "body",
  };
  const r1 = new Request(URL_A, init);
  const r2 = new Request(r1);
  for (const name of ["method", "url", "mode", "credentials", "cache", "redirect", "integrity",
    "keepalive", "referrerPolicy", "referrer"]) {
    assert_equals(r2[name], r1[name], name);
  }
  assert_equals(r2.headers.get("x-a"), "1");
  assert_not_equals(r2.headers, r1.headers);
}, "a Request from a Request copies every field");

test(() => {
  const r1 = new Request(URL_A, { method: "POST", headers: { a: "1" }, body: "x" });
  const r2 = new Request(r1, { method: "PUT", headers: { b: "2" }, redirect: "manual" });
  assert_equals(r2.method, "PUT");
  assert_equals(r2.redirect, "manual");
  assert_false(r2.headers.has("a"), "init headers replace the input's");
  assert_equals(r2.headers.get("b"), "2");
  assert_equals(r2.url, URL_A);
}, "init members override the input request's");

test(() => {
  const r1 = new Request(URL_A, { headers: [["Content-Type", "potato"]] });
  assert_equals(new Request(r1).headers.get("content-type"), "potato");
  assert_false(new Request(r1, { headers: new Headers([]) }).headers.has("content-type"));
}, "content-type from the input request unless init headers are given");

test(() => {
  const r1 = new Request(URL_A, { headers: [["Content-Type-Extra", "potato"]], body: "plate", method: "POST" });
  assert_equals(new Request(r1).headers.get("Content-Type"), "text/plain;charset=UTF-8");
  const r2 = new Request(URL_A, { headers: [["Content-Type", "potato"]], body: "plate", method: "POST" });
  assert_equals(new Request(r2).headers.get("Content-Type"), "potato");
}, "content-type from the body unless one is given");

test(() => {
  const h = new Headers([["X-Mixed-Case", "1"], ["x-mixed-case", "2"]]);
  const r = new Request(URL_A, { headers: h });
  assert_array_equals(__internals.headers.list(r.headers), ["X-Mixed-Case", "1", "X-Mixed-Case", "2"]);
  h.append("later", "x");
  assert_false(r.headers.has("later"));
}, "a Headers init is copied from its header list");

test(() => {
  // HeadersInit is a union of a sequence and a record: a Headers object given as
  // RequestInit.headers is converted through whatever its @@iterator is.
  const h = new Headers([["kept-out", "1"]]);
  h[Symbol.iterator] = function* () {
    yield ["from-iterator", "2"];
  };
  const r = new Request(URL_A, { headers: h });
  assert_false(r.headers.has("kept-out"));
  assert_equals(r.headers.get("from-iterator"), "2");
}, "a Headers init with its own @@iterator is converted through it");

test(() => {
  // RequestInit members convert in lexicographic order: "headers" is read and converted
  // before "method", so what a later member's getter does to the Headers is not seen.
  const h = new Headers([["early", "1"]]);
  const init = {
    headers: h,
    get method() {
      h.append("late", "2");
      return "GET";
    },
  };
  const r = new Request(URL_A, init);
  assert_equals(r.headers.get("early"), "1");
  assert_false(r.headers.has("late"));
  assert_true(h.has("late"));
}, "a Headers init is taken as it is when the headers member is converted");

test(() => {
  const r1 = new Request(URL_A);
  const r2 = new Request(r1);
  r2.headers.set("a", "b");
  assert_false(r1.headers.has("a"));
}, "headers are copied, not shared");

// --- Bodies -----------------------------------------------------------------------------------

for (const method of ["GET", "HEAD", "get", "head"]) {
  test(() => {
    assert_throws_js(TypeError, () => new Request(URL_A, { method, body: "x" }));
    assert_throws_js(TypeError, () => new Request(URL_A, { method, body: "" }), "even an empty string");
    new Request(URL_A, { method, body: null });
    new Request(URL_A, { method, body: undefined });
  }, `${method} cannot have a body`);
}

test(() => {
  const r1 = new Request(URL_A, { method: "POST", body: "x" });
  assert_throws_js(TypeError, () => new Request(r1, { method: "GET" }));
  assert_throws_js(TypeError, () => new Request(r1, { method: "HEAD" }));
  assert_false(r1.bodyUsed, "a failed construction leaves the input alone");
  assert_throws_js(TypeError, () => new Request(r1, { method: "CONNECT" }));
  assert_false(r1.bodyUsed);
  new Request(r1);
  assert_true(r1.bodyUsed);
}, "a GET request cannot take the input's body, and failures do not use it");

test(() => {
  const body = new ReadableStream();
  const r = new Request(URL_A, { method: "POST", body, duplex: "half" });
  assert_equals(r.body, body, "the stream itself");
  assert_equals(r.headers.get("content-type"), null);
}, "a ReadableStream body is held as is");

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, { method: "POST", body: new ReadableStream() }));
  assert_throws_js(TypeError, () => new Request(URL_A, { method: "POST", body: new ReadableStream(), duplex: "full" }));
}, "a ReadableStream body needs duplex 'half'");

for (const [label, make] of [["null", () => null], ["a string", () => "..."],
  ["a Uint8Array", () => new Uint8Array(3)], ["a Blob", () => new Blob([])]]) {
  test(() => {
    new Request(URL_A, { method: "POST", body: make() });
    new Request(URL_A, { method: "POST", body: make(), duplex: "half" });
    assert_throws_js(TypeError, () => new Request(URL_A, { method: "POST", body: make(), duplex: "full" }));
  }, `duplex may be omitted with ${label} body`);
}

test(() => {
  const r1 = new Request(URL_A, { method: "POST", body: new ReadableStream(), duplex: "half" });
  new Request(r1);
}, "duplex may be omitted when the stream body comes from the input request");

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, { method: "POST", body: new ReadableStream(), duplex: "half", mode: "no-cors" }));
}, "a streaming body needs mode cors or same-origin");

test(() => {
  assert_throws_js(TypeError, () => new Request(URL_A, { method: "POST", keepalive: true, body: new ReadableStream(), duplex: "half" }));
  const r = new Request(URL_A, { method: "POST", keepalive: true, body: "x" });
  assert_true(r.keepalive);
}, "keepalive forbids a stream body");

test(() => {
  const locked = new ReadableStream();
  locked.getReader();
  assert_throws_js(TypeError, () => new Request(URL_A, { method: "POST", body: locked, duplex: "half" }));
  const read = new ReadableStream();
  read.getReader().read();
  assert_throws_js(TypeError, () => new Request(URL_A, { method: "POST", body: read, duplex: "half" }));
}, "a locked or disturbed stream body throws");

promise_test(async () => {
  const body = new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array()) });
  const reader = body.getReader();
  await reader.read();
  reader.releaseLock();
  assert_throws_js(TypeError, () => new Request(URL_A, { method: "POST", body, duplex: "half" }));
}, "a released but disturbed stream body throws");

for (const [label, setup] of [
  ["body.getReader()", (r) => r.body.getReader()],
  ["body.getReader().read()", (r) => r.body.getReader().read()],
]) {
  test(() => {
    const r = new Request(URL_A, { method: "POST", body: "..." });
    setup(r);
    assert_throws_js(TypeError, () => new Request(r));
    new Request(r, { body: "..." });
  }, `a Request after ${label} cannot be the input, unless its body is replaced`);
}

promise_test(async () => {
  const r = new Request(URL_A, { method: "POST", body: "..." });
  const reader = r.body.getReader();
  await reader.read();
  reader.releaseLock();
  assert_throws_js(TypeError, () => new Request(r));
  new Request(r, { body: "..." });
}, "a Request read then released cannot be the input");

promise_test(async () => {
  const r = new Request(URL_A, { method: "POST", body: "Request's body" });
  const original = r.body;
  assert_false(r.bodyUsed);
  const r2 = new Request(r);
  assert_true(r.bodyUsed);
  assert_equals(r.body, original, "the input keeps its stream object");
  assert_not_equals(r2.body, original);
  assert_true(original.locked, "piped into the new request");
  assert_equals(await r2.text(), "Request's body");
}, "the input request's body moves (its exposed stream is proxied)");

promise_test(async () => {
  const r = new Request(URL_A, { method: "POST", body: "unexposed" });
  const r2 = new Request(r);
  assert_true(r.bodyUsed);
  assert_true(r.body.locked, "a later .body is locked");
  await promise_rejects_js(null, TypeError, r.text());
  assert_equals(await r2.text(), "unexposed");
}, "the input request's unexposed body moves");

promise_test(async () => {
  const r = new Request(URL_A, { method: "POST", body: "abc" });
  const original = r.body;
  const r2 = new Request(r, { body: "init body" });
  assert_true(r.bodyUsed, "disturbed even though not used");
  assert_equals(r.body, original);
  assert_not_equals(r2.body, original);
  assert_equals(await r2.text(), "init body");
}, "an input request whose body is replaced becomes disturbed");

promise_test(async () => {
  const r = new Request(URL_A, { method: "POST", body: "x" });
  await r.blob();
  assert_true(r.bodyUsed);
  assert_throws_js(TypeError, () => r.clone());
  assert_throws_js(TypeError, () => new Request(r));
  const replaced = new Request(r, { body: "Replaced body" });
  assert_false(replaced.bodyUsed);
  assert_equals(await replaced.text(), "Replaced body");
  await promise_rejects_js(null, TypeError, r.blob());
}, "a disturbed request: no clone, no copy, but a new body is fine");

promise_test(async () => {
  const noBody = new Request(URL_A);
  await noBody.blob();
  assert_false(noBody.bodyUsed);
  noBody.clone();
  new Request(noBody);
}, "a request without body cannot be disturbed");

promise_test(async () => {
  const r1 = new Request(URL_A, { body: "req1", method: "POST" });
  assert_equals(await r1.text(), "req1");
  const r2 = new Request(r1, { body: "req2" });
  assert_equals(await r2.text(), "req2");
}, "the body of a new request can be overridden");

promise_test(async () => {
  const r1 = new Request(URL_A, { body: "req1", method: "POST" });
  const r2 = new Request(URL_A, r1);
  assert_equals(r2.method, "POST");
  assert_equals(await r2.text(), "req1");
}, "a Request as init duplicates the body");

promise_test(async () => {
  const r1 = new Request(URL_A, { method: "POST", body: streamOf("hello"), duplex: "half" });
  const r2 = r1.clone();
  assert_false(r2.bodyUsed);
  const r3 = new Request(r2);
  assert_equals(await r3.text(), "hello");
  assert_equals(await r1.text(), "hello");
}, "a Request made from a clone keeps its stream body");

// --- Content-Type defaults -----------------------------------------------------------------------

const bodyTypes = [
  ["no body", () => undefined, null],
  ["Blob (no type)", () => new Blob([]), null],
  ["Blob (empty type)", () => new Blob([], { type: "" }), null],
  ["Blob (type set)", () => new Blob([], { type: "a/b; c=d" }), "a/b; c=d"],
  ["buffer source", () => new Uint8Array(), null],
  ["ArrayBuffer", () => new ArrayBuffer(2), null],
  ["DataView", () => new DataView(new ArrayBuffer(2)), null],
  ["URLSearchParams", () => new URLSearchParams(), "application/x-www-form-urlencoded;charset=UTF-8"],
  ["string", () => "", "text/plain;charset=UTF-8"],
  ["object with toString", () => ({ toString: () => "hi!" }), "text/plain;charset=UTF-8"],
  ["number", () => 42, "text/plain;charset=UTF-8"],
  ["ReadableStream", () => new ReadableStream(), null],
];
for (const [label, make, expected] of bodyTypes) {
  test(() => {
    const r = new Request(URL_A, { method: "POST", body: make(), duplex: "half" });
    assert_equals(r.headers.get("Content-Type"), expected);
  }, `default Content-Type for a ${label} body`);
  test(() => {
    const r = new Request(URL_A, { method: "POST", body: make(), duplex: "half", headers: { "Content-Type": "test/only; mime=type" } });
    assert_equals(r.headers.get("Content-Type"), "test/only; mime=type");
  }, `Content-Type can be overridden for a ${label} body`);
}

promise_test(async () => {
  const fd = new FormData();
  fd.append("a", "b");
  const r = new Request(URL_A, { method: "POST", body: fd });
  const boundary = (await r.text()).split("\r\n")[0].slice(2);
  assert_equals(r.headers.get("Content-Type"), `multipart/form-data; boundary=${boundary}`);
}, "default Content-Type for a FormData body names its boundary");

// --- Signals ----------------------------------------------------------------------------------

test(() => {
  const c = new AbortController();
  const r = new Request(URL_A, { signal: c.signal });
  assert_not_equals(r.signal, c.signal, "a dependent signal");
  assert_false(r.signal.aborted);
  const reason = new Error("why");
  c.abort(reason);
  assert_true(r.signal.aborted);
  assert_equals(r.signal.reason, reason);
}, "the request signal follows init.signal");

test(() => {
  const c = new AbortController();
  c.abort("early");
  const r = new Request(URL_A, { signal: c.signal });
  assert_true(r.signal.aborted);
  assert_equals(r.signal.reason, "early");
}, "an already aborted signal is followed");

test(() => {
  const c = new AbortController();
  const r1 = new Request(URL_A, { signal: c.signal });
  const r2 = new Request(r1);
  const r3 = new Request(r1, { signal: null });
  const events = [];
  r2.signal.addEventListener("abort", () => events.push("r2"));
  c.abort();
  assert_true(r2.signal.aborted, "follows the input's signal");
  assert_false(r3.signal.aborted, "init.signal null follows nothing");
  assert_array_equals(events, ["r2"]);
}, "signals of requests made from requests");

test(() => {
  const c1 = new AbortController();
  const c2 = new AbortController();
  const r1 = new Request(URL_A, { signal: c1.signal });
  const r2 = new Request(r1, { signal: c2.signal });
  c1.abort();
  assert_false(r2.signal.aborted, "init.signal replaces the input's");
  c2.abort();
  assert_true(r2.signal.aborted);
}, "init.signal overrides the input's signal");

test(() => {
  const c = new AbortController();
  const r = new Request(URL_A, { signal: c.signal });
  const clone = r.clone();
  assert_not_equals(clone.signal, r.signal);
  c.abort("x");
  assert_true(clone.signal.aborted);
  assert_equals(clone.signal.reason, "x");
}, "a clone's signal follows the original's");

test(() => {
  const r = new Request(URL_A);
  const clone = r.clone();
  assert_false(clone.signal.aborted);
  assert_not_equals(clone.signal, r.signal);
}, "a clone of a request without a followed signal");

test(() => {
  for (const signal of [{}, "signal", 1, new EventTarget(), new AbortController()]) {
    assert_throws_js(TypeError, () => new Request(URL_A, { signal }), String(signal));
  }
  assert_false(new Request(URL_A, { signal: null }).signal.aborted);
  const timeout = AbortSignal.abort("t");
  assert_true(new Request(URL_A, { signal: timeout }).signal.aborted);
}, "signal must be an AbortSignal or null");

// --- clone() ------------------------------------------------------------------------------------

promise_test(async () => {
  const r = new Request(URL_A, {
    method: "POST", body: "cloned body", headers: { "X-A": "1" }, mode: "same-origin",
    credentials: "omit", cache: "no-store", redirect: "manual", referrer: "", integrity: "i",
  });
  const c = r.clone();
  for (const name of ["method", "url", "mode", "credentials", "cache", "redirect", "referrer",
    "referrerPolicy", "integrity", "keepalive"]) {
    assert_equals(c[name], r[name], name);
  }
  assert_equals(c.headers.get("x-a"), "1");
  assert_not_equals(c.headers, r.headers);
  c.headers.set("x-b", "2");
  assert_false(r.headers.has("x-b"));
  assert_equals(await c.text(), "cloned body");
  assert_equals(await r.text(), "cloned body");
}, "clone copies the request and its body");

promise_test(async () => {
  const r = new Request(URL_A, { method: "POST", body: streamOf("a", "b"), duplex: "half" });
  const c = r.clone();
  assert_equals(await c.text(), "ab");
  assert_equals(await r.text(), "ab");
}, "clone tees a stream body");

test(() => {
  const r = new Request(URL_A, { method: "POST", body: "x" });
  r.body.getReader();
  assert_throws_js(TypeError, () => r.clone());
}, "clone of a locked body throws");

test(() => {
  const r = new Request(URL_A, { mode: "no-cors" });
  const c = r.clone();
  c.headers.append("x-custom", "1");
  assert_false(c.headers.has("x-custom"), "the clone keeps the no-cors guard");
  assert_equals(c.mode, "no-cors");
}, "clone keeps the headers guard");

test(() => {
  assert_throws_js(TypeError, () => Request.prototype.clone.call({}));
  assert_throws_js(TypeError, () => Request.prototype.clone.call(new Response()));
}, "clone checks its receiver");

// --- Internals contract -------------------------------------------------------------------------

promise_test(async () => {
  const I = __internals;
  const headers = I.headers.fromList(["Host", "example.com", "X-A", "1"], "immutable");
  const body = new I.body.InnerBody(streamOf("incoming"), null, null);
  const c = new AbortController();
  const r = I.request.make({ method: "POST", url: URL_A, headers, body, signal: c.signal, extra: { id: 1 } });
  assert_true(r instanceof Request);
  assert_equals(r.method, "POST");
  assert_equals(r.headers.get("x-a"), "1");
  assert_throws_js(TypeError, () => r.headers.set("a", "b"), "immutable headers");
  assert_equals(r.signal, c.signal);
  assert_equals(I.request.extra(r).id, 1);
  assert_equals(I.request.body(r), body);
  assert_equals(await r.text(), "incoming");
}, "internals.request.make builds an incoming request");

test(() => {
  const I = __internals;
  const stream = streamOf("native");
  const body = new I.body.InnerBody(stream, null, null);
  const incoming = I.request.make({
    method: "POST", url: URL_A, headers: I.headers.fromList([], "immutable"), body, signal: null, extra: null,
  });
  const moved = new Request("https://upstream.example/", incoming);
  assert_equals(I.request.body(moved).stream, stream, "the stream object moves (init.body)");
  const viaFetch = I.request.forFetch(moved, undefined);
  assert_equals(I.request.body(viaFetch).stream, stream, "fetch's own request keeps it too");
  assert_true(moved.bodyUsed);
}, "an untouched incoming stream reaches fetch's request unproxied");

test(() => {
  const I = __internals;
  const stream = streamOf("native");
  const incoming = I.request.make({
    method: "POST", url: URL_A, headers: I.headers.fromList([], "immutable"),
    body: new I.body.InnerBody(stream, null, null), signal: null, extra: null,
  });
  const r = new Request(incoming);
  assert_equals(I.request.body(r).stream, stream, "moved without a proxy");
  assert_true(incoming.bodyUsed);
  assert_not_equals(incoming.body, stream);
  assert_true(incoming.body.locked);
}, "an unexposed stream moves to a Request made from its request");

test(() => {
  const I = __internals;
  const r = I.request.forFetch(URL_A, { method: "POST", body: "x" });
  assert_equals(I.request.method(r), "POST");
  assert_equals(I.request.url(r), URL_A);
  assert_equals(I.request.signal(r), null, "no signal when none is followed");
  const c = new AbortController();
  const r2 = I.request.forFetch(URL_A, { signal: c.signal });
  assert_true(I.abort.isAbortSignal(I.request.signal(r2)));
  assert_throws_js(TypeError, () => I.request.forFetch("/relative"));
}, "internals.request.forFetch");
