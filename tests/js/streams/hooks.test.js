// META: internals
// META: script=resources/helpers.js
// internals.streams: the "other specifications" hooks the runtime (fetch, the bridge) uses.
"use strict";

const S = __internals.streams;
const error1 = namedError("error1");

test(() => {
  for (const name of [
    "ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "WritableStream",
    "TransformStream", "createReadableStream", "createReadableByteStream", "enqueue", "close",
    "error", "desiredSize", "currentBYOBRequestView", "isReadableStream", "isWritableStream",
    "isLocked", "isDisturbed", "isReadable", "isClosed", "isErrored", "storedError", "getReader",
    "readerRead", "readerReleaseLock", "cancel", "tee", "readAllBytes", "pipeTo",
    "createWritableStream", "createTransformStream",
  ]) {
    assert_not_equals(S[name], undefined, name);
  }
  assert_equals(S.ReadableStream, ReadableStream);
}, "internals.streams exports every hook");

promise_test(async () => {
  let pulls = 0;
  const rs = S.createReadableStream({
    pull(controller) {
      pulls++;
      S.enqueue(rs, pulls);
      if (pulls === 3) S.close(rs);
    },
  });
  assert_true(rs instanceof ReadableStream);
  assert_array_equals(await readAll(rs), [1, 2, 3]);
}, "createReadableStream(): pull() feeds the stream through enqueue() and close()");

promise_test(async () => {
  let controllerSeen;
  const rs = S.createReadableStream({ pull(c) { controllerSeen = c; c.enqueue("x"); } });
  const { value } = await rs.getReader().read();
  assert_equals(value, "x");
  assert_true(controllerSeen instanceof ReadableStreamDefaultController);
}, "createReadableStream(): pull() gets the public controller");

promise_test(async () => {
  let pulls = 0;
  const rs = S.createReadableStream({ pull() { pulls++; } });
  await flushAsyncEvents();
  assert_equals(pulls, 1, "highWaterMark 1 by default: one pull up front");
  const lazy = S.createReadableStream({ pull() { pulls += 100; }, highWaterMark: 0 });
  await flushAsyncEvents();
  assert_equals(pulls, 1, "highWaterMark 0: no pull until someone reads");
  lazy.getReader().read();
  assert_equals(pulls, 101);
  void rs;
}, "createReadableStream(): the high water mark decides when pull starts");

promise_test(async () => {
  let resolvePull;
  let pulls = 0;
  const rs = S.createReadableStream({
    pull() {
      pulls++;
      return new Promise((r) => { resolvePull = r; });
    },
    highWaterMark: 0,
  });
  const reader = rs.getReader();
  reader.read();
  reader.read();
  await flushAsyncEvents();
  assert_equals(pulls, 1, "no second pull while the first one's promise is pending");
  S.enqueue(rs, "a");
  resolvePull();
  await flushAsyncEvents();
  assert_equals(pulls, 2);
}, "createReadableStream(): pull promises are respected (credit-style flow control)");

promise_test(async () => {
  let reason;
  const rs = S.createReadableStream({ cancel(r) { reason = r; } });
  await rs.cancel("stop");
  assert_equals(reason, "stop");
}, "createReadableStream(): cancel() reaches the hook");

promise_test(async (t) => {
  const rs = S.createReadableStream({ pull() { throw error1; } });
  await promise_rejects_exactly(t, error1, rs.getReader().read());
}, "createReadableStream(): a throwing pull errors the stream");

promise_test(async () => {
  const rs = S.createReadableStream({ size: (chunk) => chunk.length, highWaterMark: 10 });
  S.enqueue(rs, "abcd");
  assert_equals(S.desiredSize(rs), 6);
}, "createReadableStream(): size and desiredSize");

promise_test(async () => {
  let pulls = 0;
  const rs = S.createReadableByteStream({
    pull() {
      pulls++;
      S.enqueue(rs, new Uint8Array([pulls]));
      if (pulls === 2) S.close(rs);
    },
  });
  const reader = rs.getReader({ mode: "byob" });
  const a = await reader.read(new Uint8Array(4));
  assert_array_equals(Array.from(a.value), [1]);
  const b = await reader.read(new Uint8Array(4));
  assert_array_equals(Array.from(b.value), [2]);
  assert_true((await reader.read(new Uint8Array(4))).done);
}, "createReadableByteStream(): a byte stream that supports BYOB readers");

promise_test(async () => {
  const rs = S.createReadableByteStream({
    pull() {
      const view = S.currentBYOBRequestView(rs);
      view.set([7, 8]);
      S.enqueue(rs, new Uint8Array(view.buffer, view.byteOffset, 2));
    },
  });
  const reader = rs.getReader({ mode: "byob" });
  const { value } = await reader.read(new Uint8Array(8));
  assert_array_equals(Array.from(value), [7, 8], "enqueue() of the BYOB view responds to it");
}, "createReadableByteStream(): enqueue() of the current BYOB request view responds");

promise_test(async () => {
  const rs = S.createReadableByteStream({});
  assert_equals(S.currentBYOBRequestView(rs), null);
  const reader = rs.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  assert_equals(S.currentBYOBRequestView(rs).byteLength, 4);
  S.close(rs);
  const { done } = await read;
  assert_true(done, "close() also answers a pending BYOB request");
}, "createReadableByteStream(): close() with a pending BYOB read");

promise_test(async (t) => {
  const rs = S.createReadableByteStream({});
  const reader = rs.getReader();
  const read = reader.read();
  S.error(rs, error1);
  await promise_rejects_exactly(t, error1, read);
  assert_true(S.isErrored(rs));
  assert_equals(S.storedError(rs), error1);
}, "error() errors a byte stream");

promise_test(async () => {
  const rs = S.createReadableByteStream({ highWaterMark: 1024 });
  assert_equals(S.desiredSize(rs), 1024);
  S.enqueue(rs, new Uint8Array(100));
  assert_equals(S.desiredSize(rs), 924);
  S.close(rs);
  assert_equals(S.desiredSize(rs), 924, "closing with queued bytes keeps the stream readable");
  await rs.getReader().read();
  assert_equals(S.desiredSize(rs), 0, "0 once closed");
}, "desiredSize() of a byte stream");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue(1); } });
  assert_true(S.isReadableStream(rs));
  assert_false(S.isReadableStream({}));
  assert_false(S.isReadableStream(new WritableStream()));
  assert_true(S.isWritableStream(new WritableStream()));
  assert_false(S.isLocked(rs));
  assert_false(S.isDisturbed(rs));
  assert_true(S.isReadable(rs));
  const reader = S.getReader(rs);
  assert_true(S.isLocked(rs));
  assert_false(S.isDisturbed(rs), "locking is not disturbing");
  assert_object_equals(await S.readerRead(reader), { value: 1, done: false });
  assert_true(S.isDisturbed(rs));
  S.readerReleaseLock(reader);
  assert_false(S.isLocked(rs));
  await S.cancel(rs, "x");
  assert_true(S.isClosed(rs));
}, "state queries: isLocked, isDisturbed, isReadable, isClosed");

test(() => {
  const rs = new ReadableStream();
  assert_false(S.isDisturbed(rs));
  rs.getReader();
  assert_false(S.isDisturbed(rs));
  const rs2 = new ReadableStream();
  rs2.cancel();
  assert_true(S.isDisturbed(rs2), "cancel disturbs");
  const rs3 = new ReadableStream();
  rs3.tee();
  assert_true(S.isLocked(rs3));
}, "an untouched stream is unlocked and undisturbed; cancel disturbs");

promise_test(async () => {
  const rs = S.createReadableStream({});
  S.enqueue(rs, "a");
  S.close(rs);
  const [a, b] = S.tee(rs);
  assert_array_equals(await readAll(a), ["a"]);
  assert_array_equals(await readAll(b), ["a"]);
}, "tee()");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue(new Uint8Array([1, 2]));
      c.enqueue(new Uint8Array([]));
      c.enqueue(new Uint8Array([3]));
      c.close();
    },
  });
  const bytes = await S.readAllBytes(rs);
  assert_true(bytes instanceof Uint8Array);
  assert_array_equals(Array.from(bytes), [1, 2, 3]);
  assert_true(S.isLocked(rs));
}, "readAllBytes() concatenates every chunk");

promise_test(async () => {
  const bytes = await S.readAllBytes(new ReadableStream({ start(c) { c.close(); } }));
  assert_equals(bytes.byteLength, 0);
  const one = new Uint8Array([5, 6]);
  const copy = await S.readAllBytes(new ReadableStream({ start(c) { c.enqueue(one); c.close(); } }));
  assert_array_equals(Array.from(copy), [5, 6]);
  assert_not_equals(copy.buffer, one.buffer, "the result never aliases a chunk");
}, "readAllBytes() of an empty stream and of one chunk");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.enqueue("not bytes"); } });
  await promise_rejects_js(t, TypeError, S.readAllBytes(rs));
  const rs2 = new ReadableStream({ start(c) { c.enqueue(new Uint16Array(1)); } });
  await promise_rejects_js(t, TypeError, S.readAllBytes(rs2), "only Uint8Array chunks");
  const rs3 = new ReadableStream({ start(c) { c.error(error1); } });
  await promise_rejects_exactly(t, error1, S.readAllBytes(rs3));
}, "readAllBytes() rejects non-Uint8Array chunks and errors");

promise_test(async () => {
  const rs = S.createReadableByteStream({
    pull() {
      S.enqueue(rs, new Uint8Array(1000).fill(1));
    },
  });
  let n = 0;
  const big = new ReadableStream({
    pull(c) {
      if (n++ === 2000) { c.close(); return; }
      c.enqueue(new Uint8Array(512).fill(n & 255));
    },
  });
  const bytes = await S.readAllBytes(big);
  assert_equals(bytes.byteLength, 2000 * 512);
  assert_equals(bytes[511], 1);
  assert_equals(bytes[512], 2);
  void rs;
}, "readAllBytes() of many chunks (read in a loop, not by recursion)");

promise_test(async () => {
  const written = [];
  const ws = S.createWritableStream({
    write(chunk, controller) {
      assert_true(controller instanceof WritableStreamDefaultController);
      written.push(chunk);
    },
  });
  const writer = ws.getWriter();
  await writer.write("a");
  await writer.close();
  assert_array_equals(written, ["a"]);
}, "createWritableStream(): write(chunk, controller)");

promise_test(async () => {
  const events = [];
  const ws = S.createWritableStream({
    write() { return delay(1); },
    close() { events.push("close"); },
    abort(r) { events.push("abort", r); },
    highWaterMark: 2,
  });
  const writer = ws.getWriter();
  assert_equals(writer.desiredSize, 2);
  await writer.close();
  assert_array_equals(events, ["close"]);
  const ws2 = S.createWritableStream({ abort(r) { events.push("abort", r); } });
  await ws2.abort("r");
  assert_array_equals(events, ["close", "abort", "r"]);
}, "createWritableStream(): close, abort and highWaterMark");

promise_test(async (t) => {
  const ws = S.createWritableStream({});
  S.errorWritable(ws, error1);
  await promise_rejects_exactly(t, error1, ws.getWriter().closed);
}, "errorWritable() errors a WritableStream");

promise_test(async () => {
  const ts = S.createTransformStream({
    transform(chunk, controller) { controller.enqueue(chunk * 2); },
    flush(controller) { controller.enqueue("end"); },
  });
  assert_true(ts instanceof TransformStream);
  const writer = ts.writable.getWriter();
  writer.write(1);
  writer.write(2);
  writer.close();
  assert_array_equals(await readAll(ts.readable), [2, 4, "end"]);
}, "createTransformStream(): transform and flush");

promise_test(async () => {
  const ts = S.createTransformStream({});
  const writer = ts.writable.getWriter();
  writer.write("same");
  writer.close();
  assert_array_equals(await readAll(ts.readable), ["same"]);
}, "createTransformStream(): identity by default");

promise_test(async () => {
  let reason;
  const ts = S.createTransformStream({ cancel(r) { reason = r; } });
  await ts.readable.cancel("c");
  assert_equals(reason, "c");
}, "createTransformStream(): cancel");

promise_test(async () => {
  const source = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } });
  const got = [];
  const dest = new WritableStream({ write(c) { got.push(c); } });
  await S.pipeTo(source, dest, {});
  assert_array_equals(got, [1, 2]);
}, "pipeTo()");

promise_test(async (t) => {
  const source = new ReadableStream();
  const dest = new WritableStream();
  const controller = new AbortController();
  const p = S.pipeTo(source, dest, { preventCancel: true, signal: controller.signal });
  controller.abort(error1);
  await promise_rejects_exactly(t, error1, p);
  assert_false(S.isLocked(source));
}, "pipeTo() with options and a signal");

promise_test(async (t) => {
  const source = new ReadableStream();
  source.getReader();
  await promise_rejects_js(t, TypeError, S.pipeTo(source, new WritableStream()));
}, "pipeTo() of a locked stream rejects");

test(() => {
  assert_throws_js(TypeError, () => S.enqueue({}, 1));
  assert_throws_js(TypeError, () => S.getReader({}));
  assert_throws_js(TypeError, () => S.readerRead({}));
}, "hooks given something that is not a stream throw a TypeError");

promise_test(async () => {
  const chunk = { n: 1 };
  const rs = new ReadableStream({ start(c) { c.enqueue(chunk); c.close(); } });
  const [a, b] = S.tee(rs);
  const [ca] = await readAll(a);
  const [cb] = await readAll(b);
  assert_equals(ca, chunk, "branch 1 gets the chunk itself");
  assert_not_equals(cb, chunk, "branch 2 gets a structured clone");
  assert_equals(cb.n, 1);
}, "tee() for other specifications clones the chunks of branch 2");

promise_test(async (t) => {
  let cancelReason;
  const rs = new ReadableStream({
    start(c) { c.enqueue(() => {}); },
    cancel(r) { cancelReason = r; },
  });
  const [a, b] = S.tee(rs);
  const ra = a.getReader();
  const rb = b.getReader();
  const e1 = await ra.read().then(() => null, (e) => e);
  const e2 = await rb.read().then(() => null, (e) => e);
  assert_equals(e1?.name, "DataCloneError");
  assert_equals(e2, e1, "both branches error with the clone error");
  assert_equals(cancelReason, e1, "and the source is canceled with it");
}, "tee() for other specifications errors both branches when a chunk cannot be cloned");
