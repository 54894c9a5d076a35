// META: script=resources/helpers.js
// TransformStream: transformer start/transform/flush/cancel, backpressure between the sides,
// terminate(), error(), strategies.
"use strict";

const error1 = namedError("error1");
const error2 = namedError("error2");

// --- construction -------------------------------------------------------------------------------

test(() => {
  const ts = new TransformStream();
  assert_true(ts.readable instanceof ReadableStream);
  assert_true(ts.writable instanceof WritableStream);
  assert_equals(ts.readable, ts.readable, "the same readable every time");
  new TransformStream({});
  new TransformStream(undefined, undefined, undefined);
}, "a TransformStream has a readable and a writable side");

test(() => {
  assert_throws_js(TypeError, () => new TransformStream(null));
  assert_throws_js(TypeError, () => new TransformStream({ transform: 1 }));
  assert_throws_js(TypeError, () => new TransformStream({ flush: {} }));
  assert_throws_js(TypeError, () => new TransformStream({ cancel: "x" }));
  assert_throws_js(TypeError, () => new TransformStream({ start: true }));
}, "a non-object transformer or non-callable members are TypeErrors");

test(() => {
  assert_throws_js(RangeError, () => new TransformStream({ readableType: "bytes" }));
  assert_throws_js(RangeError, () => new TransformStream({ writableType: "bytes" }));
  assert_throws_js(RangeError, () => new TransformStream({ readableType: null }));
}, "readableType and writableType are reserved: any value is a RangeError");

test(() => {
  const record = [];
  const transformer = {};
  for (const key of ["transform", "flush", "cancel", "start", "readableType", "writableType"]) {
    Object.defineProperty(transformer, key, { get() { record.push(key); return undefined; } });
  }
  new TransformStream(transformer);
  assert_array_equals(record, ["cancel", "flush", "readableType", "start", "transform", "writableType"]);
}, "transformer members are read in lexicographic order");

test(() => {
  const transformer = {
    start(c) {
      assert_equals(this, transformer);
      assert_true(c instanceof TransformStreamDefaultController);
      transformer.started = true;
    },
  };
  new TransformStream(transformer);
  assert_true(transformer.started);
}, "start gets the transformer as this and the controller");

test(() => {
  assert_throws_exactly(error1, () => new TransformStream({ start() { throw error1; } }));
}, "an exception thrown by start propagates");

promise_test(async (t) => {
  const ts = new TransformStream({ start() { return Promise.reject(error1); } });
  await promise_rejects_exactly(t, error1, ts.readable.getReader().closed);
  await promise_rejects_exactly(t, error1, ts.writable.getWriter().closed);
}, "a rejected start errors both sides");

// --- identity -----------------------------------------------------------------------------------

promise_test(async () => {
  const ts = new TransformStream();
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  const chunk = { x: 1 };
  writer.write(chunk);
  const { value } = await reader.read();
  assert_equals(value, chunk);
  writer.close();
  assert_true((await reader.read()).done);
}, "without transform() the stream is an identity transform");

promise_test(async () => {
  const ts = new TransformStream();
  const writer = ts.writable.getWriter();
  assert_equals(writer.desiredSize, 1, "writable side: high water mark 1");
  const w1 = writer.write("a");
  assert_equals(writer.desiredSize, 0);
  await assertPending(w1, "the first write waits for a read (readable HWM 0)");
  const reader = ts.readable.getReader();
  await reader.read();
  await w1;
}, "the default strategies: writable HWM 1, readable HWM 0");

// --- transform ----------------------------------------------------------------------------------

promise_test(async () => {
  const ts = new TransformStream({
    transform(chunk, c) {
      c.enqueue(chunk.toUpperCase());
      c.enqueue(chunk.toUpperCase());
    },
  });
  const writer = ts.writable.getWriter();
  writer.write("a");
  writer.close();
  assert_array_equals(await readAll(ts.readable), ["A", "A"]);
}, "transform() can enqueue several chunks per written chunk");

promise_test(async () => {
  const ts = new TransformStream({ transform() {} });
  const writer = ts.writable.getWriter();
  writer.write("dropped");
  writer.close();
  assert_array_equals(await readAll(ts.readable), []);
}, "transform() can enqueue nothing");

promise_test(async () => {
  const args = [];
  const transformer = {
    transform(...a) {
      args.push(a);
      assert_equals(this, transformer);
    },
  };
  const ts = new TransformStream(transformer);
  ts.readable.getReader().read();
  await ts.writable.getWriter().write("x");
  assert_equals(args[0].length, 2);
  assert_equals(args[0][0], "x");
  assert_true(args[0][1] instanceof TransformStreamDefaultController);
}, "transform gets the transformer as this, the chunk and the controller");

promise_test(async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const ts = new TransformStream({
    async transform(chunk, c) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await delay(1);
      c.enqueue(chunk);
      inFlight--;
    },
  }, { highWaterMark: 5 }, { highWaterMark: 5 });
  const writer = ts.writable.getWriter();
  for (let i = 0; i < 5; i++) writer.write(i);
  writer.close();
  assert_array_equals(await readAll(ts.readable), [0, 1, 2, 3, 4]);
  assert_equals(maxInFlight, 1);
}, "transform() is not called again until the previous one has finished");

promise_test(async (t) => {
  const ts = new TransformStream({ transform() { throw error1; } });
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  reader.read().catch(() => {});
  await promise_rejects_exactly(t, error1, writer.write("a"));
  await promise_rejects_exactly(t, error1, reader.closed);
  await promise_rejects_exactly(t, error1, writer.closed);
}, "a throwing transform() errors both sides");

promise_test(async (t) => {
  const ts = new TransformStream({ transform() { return Promise.reject(error1); } }, undefined, { highWaterMark: 1 });
  const writer = ts.writable.getWriter();
  await promise_rejects_exactly(t, error1, writer.write("a"));
  await promise_rejects_exactly(t, error1, ts.readable.getReader().read());
}, "a rejected transform() promise errors both sides");

// --- flush ------------------------------------------------------------------------------------

promise_test(async () => {
  const events = [];
  const ts = new TransformStream({
    transform(chunk, c) { events.push(`t:${chunk}`); c.enqueue(chunk); },
    flush(c) { events.push("flush"); c.enqueue("last"); },
  });
  const writer = ts.writable.getWriter();
  writer.write("a");
  writer.close();
  assert_array_equals(await readAll(ts.readable), ["a", "last"]);
  assert_array_equals(events, ["t:a", "flush"]);
}, "flush() runs after the last transform and can enqueue suffix chunks");

promise_test(async () => {
  let resolveFlush;
  const ts = new TransformStream({ flush() { return new Promise((r) => { resolveFlush = r; }); } });
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  const close = writer.close();
  let closed = false;
  reader.closed.then(() => { closed = true; });
  await flushAsyncEvents();
  assert_false(closed, "the readable side stays open while flush is pending");
  resolveFlush();
  await close;
  await reader.closed;
}, "the readable side closes when flush() completes");

promise_test(async (t) => {
  const ts = new TransformStream({ flush() { throw error1; } });
  const writer = ts.writable.getWriter();
  await promise_rejects_exactly(t, error1, writer.close());
  await promise_rejects_exactly(t, error1, ts.readable.getReader().closed);
}, "a throwing flush() errors both sides");

promise_test(async () => {
  const ts = new TransformStream({ flush(c) { c.terminate(); } });
  const writer = ts.writable.getWriter();
  await writer.close();
  await ts.readable.getReader().closed;
}, "terminate() inside flush() is harmless");

// --- cancel (transformer.cancel) ------------------------------------------------------------------

promise_test(async () => {
  let reason;
  const ts = new TransformStream({ cancel(r) { reason = r; } });
  const writer = ts.writable.getWriter();
  await ts.readable.cancel(error1);
  assert_equals(reason, error1);
  let caught;
  await writer.closed.catch((e) => { caught = e; });
  assert_equals(caught, error1, "the writable side errors with the cancel reason");
}, "canceling the readable side calls transformer.cancel() and errors the writable side");

promise_test(async () => {
  let reason;
  const ts = new TransformStream({ cancel(r) { reason = r; } });
  const reader = ts.readable.getReader();
  await ts.writable.abort(error1);
  assert_equals(reason, error1);
  let caught;
  await reader.closed.catch((e) => { caught = e; });
  assert_equals(caught, error1, "the readable side errors with the abort reason");
}, "aborting the writable side calls transformer.cancel() and errors the readable side");

promise_test(async (t) => {
  const ts = new TransformStream({ cancel() { throw error2; } });
  await promise_rejects_exactly(t, error2, ts.readable.cancel(error1));
  await promise_rejects_exactly(t, error2, ts.writable.getWriter().closed,
    "a failing cancel errors the writable side with its error");
}, "a throwing transformer.cancel() rejects cancel() and errors the other side with that error");

promise_test(async (t) => {
  const ts = new TransformStream({ cancel() { return Promise.reject(error2); } });
  const reader = ts.readable.getReader();
  await promise_rejects_exactly(t, error2, ts.writable.abort(error1));
  await promise_rejects_exactly(t, error2, reader.closed);
}, "a rejecting transformer.cancel() rejects abort() and errors the readable side");

promise_test(async () => {
  let calls = 0;
  const ts = new TransformStream({ cancel() { calls++; }, flush() { calls += 100; } });
  const writer = ts.writable.getWriter();
  const cancel = ts.readable.cancel("r");
  const close = writer.close();
  await cancel;
  await close.catch(() => {});
  assert_equals(calls, 1, "flush is not called after cancel");
}, "after cancel() the transformer's flush is not called");

promise_test(async () => {
  let calls = 0;
  let resolveFlush;
  const ts = new TransformStream({
    cancel() { calls++; },
    flush() { calls += 100; return new Promise((r) => { resolveFlush = r; }); },
  });
  const writer = ts.writable.getWriter();
  const close = writer.close();
  await flushAsyncEvents();
  const cancel = ts.readable.cancel("r");
  resolveFlush();
  await close;
  await cancel;
  assert_equals(calls, 100, "cancel during flush shares flush's outcome and does not call cancel()");
}, "cancel() while flush() runs returns flush's promise");

promise_test(async () => {
  let calls = 0;
  const ts = new TransformStream({ cancel() { calls++; } });
  await Promise.all([ts.readable.cancel("a"), ts.writable.abort("b")]);
  assert_equals(calls, 1, "transformer.cancel() runs once");
}, "cancel() and abort() together call transformer.cancel() once");

// --- backpressure -------------------------------------------------------------------------------

promise_test(async () => {
  const transformed = [];
  const ts = new TransformStream({
    transform(chunk, c) { transformed.push(chunk); c.enqueue(chunk); },
  }, undefined, { highWaterMark: 1 });
  const writer = ts.writable.getWriter();
  writer.write(1);
  writer.write(2);
  writer.write(3);
  await flushAsyncEvents();
  assert_array_equals(transformed, [1], "the readable side is full after one chunk");
  const reader = ts.readable.getReader();
  await reader.read();
  await flushAsyncEvents();
  assert_array_equals(transformed, [1, 2], "each read lets one more chunk through");
}, "transform() waits while the readable side is full");

promise_test(async () => {
  let c;
  const ts = new TransformStream({ start(controller) { c = controller; } }, undefined, { highWaterMark: 2 });
  assert_equals(c.desiredSize, 2);
  c.enqueue("a");
  assert_equals(c.desiredSize, 1);
  const reader = ts.readable.getReader();
  await reader.read();
  assert_equals(c.desiredSize, 2);
}, "controller.desiredSize reflects the readable side's queue");

promise_test(async () => {
  const ts = new TransformStream({}, { highWaterMark: 0 }, { highWaterMark: 0 });
  const writer = ts.writable.getWriter();
  assert_equals(writer.desiredSize, 0);
  await assertPending(writer.ready, "an empty writable side with HWM 0 has backpressure");
  const reader = ts.readable.getReader();
  const read = reader.read();
  const write = writer.write("x");
  assert_object_equals(await read, { value: "x", done: false }, "a write still goes through");
  await write;
}, "zero high water marks: writes still flow to pending reads");

promise_test(async () => {
  const ts = new TransformStream(undefined, { highWaterMark: 4, size: (c) => c.length }, {
    highWaterMark: 3, size: (c) => c.length,
  });
  const writer = ts.writable.getWriter();
  assert_equals(writer.desiredSize, 4);
  writer.write("ab");
  assert_equals(writer.desiredSize, 2);
}, "custom writable and readable strategies are honored");

// --- terminate ----------------------------------------------------------------------------------

promise_test(async (t) => {
  const ts = new TransformStream({ start(c) { c.enqueue("a"); c.terminate(); } });
  const writer = ts.writable.getWriter();
  await promise_rejects_js(t, TypeError, writer.closed, "the writable side errors with a TypeError");
  assert_array_equals(await readAll(ts.readable), ["a"], "queued chunks are still readable");
}, "terminate() closes the readable side and errors the writable side");

promise_test(async (t) => {
  const ts = new TransformStream({
    transform(chunk, c) {
      c.enqueue(chunk);
      c.terminate();
    },
  });
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  const write = writer.write("a");
  assert_object_equals(await reader.read(), { value: "a", done: false });
  await write;
  await promise_rejects_js(t, TypeError, writer.write("b"));
  assert_true((await reader.read()).done);
}, "terminate() in transform() ends the stream after the current chunk");

test(() => {
  let c;
  new TransformStream({ start(controller) { c = controller; } });
  c.terminate();
  assert_throws_js(TypeError, () => c.enqueue("late"));
  c.terminate();
  c.error(error1);
}, "enqueue() after terminate() throws; terminate() and error() again are no-ops");

// --- controller.error ------------------------------------------------------------------------------

promise_test(async (t) => {
  let c;
  const ts = new TransformStream({ start(controller) { c = controller; } });
  c.error(error1);
  assert_equals(c.desiredSize, null);
  await promise_rejects_exactly(t, error1, ts.readable.getReader().read());
  await promise_rejects_exactly(t, error1, ts.writable.getWriter().write("x"));
}, "controller.error() errors both sides");

promise_test(async (t) => {
  const ts = new TransformStream({
    transform(chunk, c) {
      c.error(error1);
      c.error(error2);
    },
  }, undefined, { highWaterMark: 1 });
  const writer = ts.writable.getWriter();
  await writer.write("a");
  await promise_rejects_exactly(t, error1, writer.closed);
  await promise_rejects_exactly(t, error1, ts.readable.getReader().closed);
}, "only the first controller.error() counts");

promise_test(async (t) => {
  let c;
  const ts = new TransformStream({ start(controller) { c = controller; } }, undefined, {
    size() { throw error1; },
  });
  assert_throws_exactly(error1, () => c.enqueue("a"));
  await promise_rejects_exactly(t, error1, ts.readable.getReader().closed);
  await promise_rejects_exactly(t, error1, ts.writable.getWriter().closed);
}, "a throwing readable size function errors both sides from enqueue()");

test(() => {
  let c;
  const ts = new TransformStream({ start(controller) { c = controller; } });
  ts.readable.cancel();
  assert_throws_js(TypeError, () => c.enqueue("x"), "the readable side was canceled");
}, "enqueue() after the readable side is canceled throws");

// --- subclassing and misc ---------------------------------------------------------------------

promise_test(async () => {
  class Upper extends TransformStream {
    constructor() {
      super({ transform(chunk, c) { c.enqueue(String(chunk).toUpperCase()); } });
    }
  }
  const t = new Upper();
  const writer = t.writable.getWriter();
  writer.write("hi");
  writer.close();
  assert_array_equals(await readAll(t.readable), ["HI"]);
}, "TransformStream can be subclassed");

promise_test(async () => {
  const ts = new TransformStream();
  const writer = ts.writable.getWriter();
  const reader = ts.readable.getReader();
  const all = [];
  const producer = (async () => {
    for (let i = 0; i < 200; i++) await writer.write(i);
    await writer.close();
  })();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    all.push(value);
  }
  await producer;
  assert_array_equals(all, Array.from({ length: 200 }, (_, i) => i));
}, "an identity transform passes many chunks in order without loss");
