// META: internals
// The Cache API as Workers has it (caches.default, caches.open, put/match/delete), kept in
// the isolate: what put() stores follows the response's caching headers; match() answers
// conditional and range requests.

const url = (path) => `https://example.com${path}`;

promise_test(async () => {
  assert_true(caches instanceof CacheStorage);
  assert_true(caches.default instanceof Cache);
  assert_equals(caches.default, caches.default);
  const named = await caches.open("pages");
  assert_equals(await caches.open("pages"), named);
  assert_not_equals(named, caches.default);
  assert_throws_js(TypeError, () => new Cache());
  assert_throws_js(TypeError, () => new CacheStorage());
}, "caches.default and caches.open(name): one Cache each");

promise_test(async () => {
  const cache = caches.default;
  const response = new Response("hello", {
    status: 200, statusText: "Fine", headers: { "content-type": "text/plain", "x-kept": "1" },
  });
  assert_equals(await cache.put(url("/a?q=1"), response), undefined);
  assert_true(response.bodyUsed, "put consumes the response");
  const hit = await cache.match(new Request(url("/a?q=1#fragment")));
  assert_equals(hit.status, 200);
  assert_equals(hit.statusText, "Fine");
  assert_equals(hit.headers.get("x-kept"), "1");
  assert_equals(await hit.text(), "hello");
  assert_equals(await (await cache.match(url("/a?q=1"))).text(), "hello", "each match a new body");
  assert_equals(await cache.match(url("/a?q=2")), undefined, "the query is part of the key");
  assert_equals(await (await caches.open("other")).match(url("/a?q=1")), undefined,
    "named caches are separate");
  assert_equals(await cache.match(new Request(url("/a?q=1"), { method: "POST" })), undefined);
  assert_not_equals(
    await cache.match(new Request(url("/a?q=1"), { method: "POST" }), { ignoreMethod: true }),
    undefined);
  assert_true(await cache.delete(url("/a?q=1")));
  assert_false(await cache.delete(url("/a?q=1")));
  assert_equals(await cache.match(url("/a?q=1")), undefined);
}, "put, match and delete by URL");

promise_test(async (t) => {
  const cache = caches.default;
  await promise_rejects_js(t, TypeError,
    cache.put(new Request(url("/p"), { method: "POST" }), new Response("x")));
  await promise_rejects_js(t, TypeError, cache.put(url("/p"), new Response("x", { status: 206 })));
  await promise_rejects_js(t, TypeError,
    cache.put(url("/p"), new Response("x", { headers: { vary: "*" } })));
  const used = new Response("x");
  await used.text();
  await promise_rejects_js(t, TypeError, cache.put(url("/p"), used));
  await promise_rejects_js(t, TypeError, cache.put(url("/p"), "not a response"));
  await promise_rejects_js(t, TypeError, cache.put("/relative", new Response("x")));
  await promise_rejects_js(t, TypeError, cache.match());
}, "what put() refuses: non-GET, 206, Vary: *, a used body, not a Response, a relative URL");

promise_test(async () => {
  const cache = await caches.open("rules");
  const stores = async (path, init) => {
    await cache.put(url(path), new Response("body", init));
    return (await cache.match(url(path))) !== undefined;
  };
  assert_true(await stores("/plain", {}), "a 200 without caching headers");
  assert_false(await stores("/error", { status: 500 }), "a 500 without caching headers");
  assert_true(await stores("/error-ttl", { status: 500, headers: { "cache-control": "max-age=60" } }));
  for (const value of ["no-store", "no-cache", "private", "max-age=0", "public, max-age=0"]) {
    assert_false(await stores(`/cc-${value}`, { headers: { "cache-control": value } }), value);
  }
  assert_false(await stores("/cookie", { headers: { "set-cookie": "a=1" } }));
  await cache.put(url("/cookie-private"), new Response("body", {
    headers: { "set-cookie": "a=1", "cache-control": 'private="Set-Cookie", max-age=60' },
  }));
  const kept = await cache.match(url("/cookie-private"));
  assert_equals(kept.headers.get("set-cookie"), null, "stored without its Set-Cookie");
  assert_false(await stores("/expired", { headers: { expires: "Thu, 01 Jan 1970 00:00:00 GMT" } }));
  assert_true(await stores("/expires", {
    headers: { expires: new Date(Date.now() + 60000).toUTCString() },
  }));
  await cache.put(url("/plain"), new Response("new", { headers: { "cache-control": "no-store" } }));
  assert_equals(await cache.match(url("/plain")), undefined, "a response not kept replaces the old");
}, "what put() keeps follows the response's caching headers");

promise_test(async () => {
  const cache = await caches.open("conditional");
  await cache.put(url("/c"), new Response("0123456789", {
    headers: { etag: '"v1"', "last-modified": "Mon, 07 Dec 2026 10:00:00 GMT",
      "cache-control": "max-age=60", "content-type": "text/plain" },
  }));
  const get = (headers) => cache.match(new Request(url("/c"), { headers }));
  const same = await get({ "if-none-match": 'W/"v1", "v0"' });
  assert_equals(same.status, 304);
  assert_equals(same.headers.get("etag"), '"v1"');
  assert_equals(same.headers.get("content-type"), null);
  assert_equals((await get({ "if-none-match": '"v2"' })).status, 200);
  assert_equals((await get({ "if-modified-since": "Mon, 07 Dec 2026 11:00:00 GMT" })).status, 304);
  assert_equals((await get({ "if-modified-since": "Mon, 07 Dec 2026 09:00:00 GMT" })).status, 200);
  const part = await get({ range: "bytes=2-4" });
  assert_equals(part.status, 206);
  assert_equals(part.headers.get("content-range"), "bytes 2-4/10");
  assert_equals(await part.text(), "234");
  assert_equals(await (await get({ range: "bytes=-3" })).text(), "789");
  assert_equals(await (await get({ range: "bytes=8-" })).text(), "89");
  const outside = await get({ range: "bytes=20-30" });
  assert_equals(outside.status, 416);
  assert_equals(outside.headers.get("content-range"), "bytes */10");
  assert_equals((await get({ range: "bytes=1-2,4-5" })).status, 200, "several ranges: the whole");
  // If-Range: the range only of the representation the client holds part of.
  assert_equals((await get({ range: "bytes=8-", "if-range": '"v1"' })).status, 206);
  assert_equals((await get({ range: "bytes=8-", "if-range": '"v0"' })).status, 200);
  assert_equals((await get({ range: "bytes=8-", "if-range": 'W/"v1"' })).status, 200, "weak");
  assert_equals((await get({ range: "bytes=8-", "if-range": "Mon, 07 Dec 2026 10:00:00 GMT" })).status, 206);
  assert_equals((await get({ range: "bytes=8-", "if-range": "Mon, 07 Dec 2026 11:00:00 GMT" })).status, 200);
}, "match() answers conditional requests with 304 and a byte range with 206");

promise_test(async () => {
  const cache = await caches.open("encoded");
  const text = "hello world ".repeat(100);
  await cache.put(url("/gz"), new Response(text, {
    headers: { "content-encoding": "gzip", "cache-control": "max-age=60" },
  }));
  // Its bytes go out compressed: a range of the plain ones is not of the bytes sent.
  for (const range of ["bytes=0-9", "bytes=-3", "bytes=5000-"]) {
    const whole = await cache.match(new Request(url("/gz"), { headers: { range } }));
    assert_equals(whole.status, 200, range);
    assert_equals(whole.headers.get("content-range"), null, range);
    assert_equals(whole.headers.get("content-encoding"), "gzip", range);
    assert_equals(await whole.text(), text, range);
  }
  await cache.put(url("/id"), new Response("0123456789", {
    headers: { "content-encoding": "identity", "cache-control": "max-age=60" },
  }));
  const part = await cache.match(new Request(url("/id"), { headers: { range: "bytes=2-4" } }));
  assert_equals(part.status, 206, "identity is no coding");
  assert_equals(await part.text(), "234");
}, "match() ignores a Range for an entry with a Content-Encoding: 200, the whole entry");

promise_test(async () => {
  const cache = await caches.open("streams");
  const body = new ReadableStream({
    start(c) { c.enqueue(new TextEncoder().encode("streamed ")); c.enqueue(new TextEncoder().encode("body")); c.close(); },
  });
  await cache.put(url("/s"), new Response(body));
  assert_equals(await (await cache.match(url("/s"))).text(), "streamed body");
  await cache.put(url("/empty"), new Response(null, { status: 204 }));
  const empty = await cache.match(url("/empty"));
  assert_equals(empty.status, 204);
  assert_equals(empty.body, null);
}, "a streamed body is stored whole; a null body stays null");

promise_test(async () => {
  const config = __internals.host.config;
  const budget = config.cacheBytes;
  config.cacheBytes = 11200; // entries of 2,000 bytes and ~700 more: four fit
  try {
    const cache = await caches.open("budget");
    const bytes = (n) => new Response(new Uint8Array(2000).fill(n));
    for (let i = 0; i < 4; i++) await cache.put(url(`/${i}`), bytes(i));
    assert_not_equals(await cache.match(url("/0")), undefined); // now the most recently used
    await cache.put(url("/4"), bytes(4));
    assert_equals(await cache.match(url("/1")), undefined, "the least recently used left");
    assert_not_equals(await cache.match(url("/0")), undefined);
    assert_not_equals(await cache.match(url("/4")), undefined);
    await cache.put(url("/big"), new Response(new Uint8Array(2500)));
    assert_equals(await cache.match(url("/big")), undefined, "over a quarter of the budget");
    // A streamed body is read only until it passes that: the rest is never pulled.
    let pulled = 0, cancelled = false;
    const endless = new ReadableStream({
      pull(c) { pulled++; c.enqueue(new Uint8Array(200)); },
      cancel() { cancelled = true; },
    });
    await cache.put(url("/endless"), new Response(endless));
    assert_equals(await cache.match(url("/endless")), undefined);
    assert_true(cancelled && pulled <= 16, `pulled ${pulled}`);
    // Each entry is charged its key and a fixed cost too: many small entries with long
    // keys (a client choosing URLs) stay within the budget.
    const long = (i) => url(`/k${i}?${"q".repeat(400)}`);
    for (let i = 0; i < 40; i++) await cache.put(long(i), new Response(new Uint8Array(100)));
    let kept = 0;
    for (let i = 0; i < 40; i++) if (await cache.match(long(i))) kept++;
    assert_true(kept >= 1 && kept <= 4, `kept ${kept}`);
  } finally {
    config.cacheBytes = budget;
  }
}, "the cache keeps within its budget, least recently used out first");
