// META: script=resources/helpers.js
// WritableStream: construction, the underlying sink, writer, controller, abort, close,
// backpressure and errors.
"use strict";

const error1 = namedError("error1");
const error2 = namedError("error2");

// --- construction -------------------------------------------------------------------------------

test(() => {
  new WritableStream();
  new WritableStream({});
  new WritableStream(undefined);
  new WritableStream({}, undefined);
  new WritableStream(() => {});
}, "constructs with no sink, an empty sink or undefined");

test(() => {
  assert_throws_js(TypeError, () => new WritableStream(null));
  assert_throws_js(TypeError, () => new WritableStream(1));
  assert_throws_js(TypeError, () => new WritableStream({ write: 1 }));
  assert_throws_js(TypeError, () => new WritableStream({ close: "x" }));
  assert_throws_js(TypeError, () => new WritableStream({ abort: {} }));
  assert_throws_js(TypeError, () => new WritableStream({ start: 5 }));
}, "a non-object sink or non-callable members are TypeErrors");

test(() => {
  assert_throws_js(RangeError, () => new WritableStream({ type: "bytes" }));
  assert_throws_js(RangeError, () => new WritableStream({ type: null }));
  assert_throws_js(RangeError, () => new WritableStream({ type: 0 }));
  new WritableStream({ type: undefined });
}, "any type other than undefined is a RangeError");

test(() => {
  const record = [];
  const sink = {};
  for (const key of ["write", "close", "abort", "start", "type"]) {
    Object.defineProperty(sink, key, { get() { record.push(key); return undefined; } });
  }
  new WritableStream(sink);
  assert_array_equals(record, ["abort", "close", "start", "type", "write"]);
}, "underlying sink members are read in lexicographic order");

test(() => {
  assert_throws_exactly(error1, () => new WritableStream({ start() { throw error1; } }));
}, "an exception thrown by start propagates out of the constructor");

test(() => {
  const sink = {
    start(c) {
      assert_equals(this, sink);
      assert_true(c instanceof WritableStreamDefaultController);
      sink.started = true;
    },
  };
  new WritableStream(sink);
  assert_true(sink.started);
}, "start gets the sink as this and a WritableStreamDefaultController");

promise_test(async (t) => {
  const ws = new WritableStream({ start() { return Promise.reject(error1); } });
  const writer = ws.getWriter();
  await promise_rejects_exactly(t, error1, writer.closed);
  await promise_rejects_exactly(t, error1, writer.ready);
}, "a rejected start errors the stream");

promise_test(async () => {
  const events = [];
  let resolveStart;
  const ws = new WritableStream({
    start() { return new Promise((r) => { resolveStart = r; }); },
    write(chunk) { events.push(chunk); },
  });
  const writer = ws.getWriter();
  const w = writer.write("a");
  await flushAsyncEvents();
  assert_array_equals(events, [], "no write before start completes");
  resolveStart();
  await w;
  assert_array_equals(events, ["a"]);
}, "writes wait for start to complete");

// --- write ------------------------------------------------------------------------------------

promise_test(async () => {
  const ws = recordingWritableStream();
  const writer = ws.getWriter();
  await Promise.all([writer.write("a"), writer.write("b"), writer.write("c")]);
  await writer.close();
  assert_array_equals(ws.events, ["write", "a", "write", "b", "write", "c", "close"]);
}, "chunks reach the sink in order, then close");

promise_test(async () => {
  let writes = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const ws = new WritableStream({
    async write() {
      writes++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await delay(1);
      inFlight--;
    },
  }, { highWaterMark: 10 });
  const writer = ws.getWriter();
  await Promise.all([1, 2, 3, 4, 5].map((x) => writer.write(x)));
  assert_equals(writes, 5);
  assert_equals(maxInFlight, 1, "the sink never sees two writes at once");
}, "write() is never called again before the previous write's promise settles");

promise_test(async () => {
  const args = [];
  const sink = {
    write(...a) {
      args.push(a);
      assert_equals(this, sink);
    },
  };
  const ws = new WritableStream(sink);
  await ws.getWriter().write("x");
  assert_equals(args[0].length, 2);
  assert_equals(args[0][0], "x");
  assert_true(args[0][1] instanceof WritableStreamDefaultController);
}, "write gets the sink as this, the chunk and the controller");

promise_test(async () => {
  const ws = recordingWritableStream();
  await ws.getWriter().write();
  assert_array_equals(ws.events, ["write", undefined]);
}, "write() with no argument writes undefined");

promise_test(async (t) => {
  const ws = new WritableStream({ write() { throw error1; } });
  const writer = ws.getWriter();
  await promise_rejects_exactly(t, error1, writer.write("a"));
  await promise_rejects_exactly(t, error1, writer.closed);
  await promise_rejects_exactly(t, error1, writer.write("b"), "later writes reject with the same error");
  assert_equals(writer.desiredSize, null);
}, "a throwing write errors the stream");

promise_test(async (t) => {
  const ws = new WritableStream({ write(chunk) { if (chunk === 2) return Promise.reject(error1); } });
  const writer = ws.getWriter();
  const w1 = writer.write(1);
  const w2 = writer.write(2);
  const w3 = writer.write(3);
  const close = writer.close();
  await w1;
  await promise_rejects_exactly(t, error1, w2);
  await promise_rejects_exactly(t, error1, w3, "queued writes are rejected with the error");
  await promise_rejects_exactly(t, error1, close);
}, "a rejected write errors queued writes and close");

// --- desiredSize, ready, backpressure -------------------------------------------------------------

promise_test(async () => {
  let resolveWrite;
  const ws = new WritableStream({ write() { return new Promise((r) => { resolveWrite = r; }); } },
    { highWaterMark: 2 });
  const writer = ws.getWriter();
  assert_equals(writer.desiredSize, 2);
  writer.write("a");
  assert_equals(writer.desiredSize, 1);
  writer.write("b");
  assert_equals(writer.desiredSize, 0);
  writer.write("c");
  assert_equals(writer.desiredSize, -1);
  await flushAsyncEvents();
  assert_equals(writer.desiredSize, -1, "a write in flight still counts");
  resolveWrite();
  await flushAsyncEvents();
  assert_equals(writer.desiredSize, 0);
}, "desiredSize counts queued and in-flight chunks");

promise_test(async () => {
  const ws = new WritableStream({ write() { return delay(2); } });
  const writer = ws.getWriter();
  await writer.ready;
  const ready0 = writer.ready;
  writer.write("a");
  const ready1 = writer.ready;
  assert_not_equals(ready1, ready0, "backpressure replaces ready with a pending promise");
  await assertPending(ready1.then(() => {}), "ready is pending under backpressure");
}, "ready is pending while desiredSize <= 0");

promise_test(async () => {
  const ws = new WritableStream({ write() { return delay(1); } });
  const writer = ws.getWriter();
  writer.write("a");
  const ready = writer.ready;
  await ready;
  assert_equals(writer.desiredSize, 1);
  assert_equals(writer.ready, ready, "ready stays the same promise once resolved");
}, "ready resolves when the queue drains below the high water mark");

promise_test(async () => {
  const ws = new WritableStream({}, { highWaterMark: 0 });
  const writer = ws.getWriter();
  assert_equals(writer.desiredSize, 0);
  await assertPending(writer.ready, "HWM 0 starts with backpressure");
}, "a zero high water mark starts with backpressure");

promise_test(async () => {
  const ws = new WritableStream({}, { highWaterMark: 0 });
  const writer = ws.getWriter();
  const ready = writer.ready;
  writer.close();
  await ready;
}, "close() resolves a pending ready promise");

promise_test(async (t) => {
  let c;
  const ws = new WritableStream({ start(controller) { c = controller; } }, { highWaterMark: 0 });
  const writer = ws.getWriter();
  const ready = writer.ready;
  c.error(error1);
  await promise_rejects_exactly(t, error1, ready, "erroring rejects a pending ready");
}, "an error rejects a pending ready promise");

promise_test(async () => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  await writer.close();
  assert_equals(writer.desiredSize, 0);
}, "desiredSize is 0 once closed");

promise_test(async () => {
  const ws = new WritableStream({}, { highWaterMark: 10, size(chunk) { return chunk.length; } });
  const writer = ws.getWriter();
  writer.write("abc");
  assert_equals(writer.desiredSize, 7);
  writer.write("defgh");
  assert_equals(writer.desiredSize, 2);
}, "a size function measures chunks");

promise_test(async (t) => {
  const ws = new WritableStream({}, { size() { throw error1; } });
  const writer = ws.getWriter();
  await promise_rejects_exactly(t, error1, writer.write("a"));
  await promise_rejects_exactly(t, error1, writer.closed);
}, "a throwing size function errors the stream");

// --- close ------------------------------------------------------------------------------------

promise_test(async () => {
  const ws = recordingWritableStream();
  const writer = ws.getWriter();
  writer.write("a");
  const closed = writer.close();
  assert_equals(await closed, undefined);
  await writer.closed;
  assert_array_equals(ws.events, ["write", "a", "close"]);
}, "close() waits for queued writes, then calls the sink's close");

promise_test(async (t) => {
  const ws = new WritableStream({ close() { throw error1; } });
  const writer = ws.getWriter();
  await promise_rejects_exactly(t, error1, writer.close());
  await promise_rejects_exactly(t, error1, writer.closed);
}, "a failing sink close errors the stream");

promise_test(async (t) => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  writer.close();
  await promise_rejects_js(t, TypeError, writer.close(), "close() twice");
  await promise_rejects_js(t, TypeError, writer.write("a"), "write() after close()");
}, "close() and write() after close() reject with TypeErrors");

promise_test(async (t) => {
  const ws = new WritableStream();
  await ws.close();
  await promise_rejects_js(t, TypeError, ws.close());
  const writer = ws.getWriter();
  await writer.closed;
  await promise_rejects_js(t, TypeError, writer.write("a"));
}, "WritableStream.close() closes the stream");

promise_test(async (t) => {
  const ws = new WritableStream();
  ws.getWriter();
  await promise_rejects_js(t, TypeError, ws.close());
  await promise_rejects_js(t, TypeError, ws.abort());
}, "close() and abort() of a locked stream reject");

promise_test(async () => {
  const events = [];
  const ws = new WritableStream({ close() { events.push("close"); return delay(5).then(() => events.push("closed")); } });
  const writer = ws.getWriter();
  const closed = writer.closed.then(() => events.push("writer.closed"));
  await writer.close();
  events.push("close() fulfilled");
  await closed;
  assert_array_equals(events, ["close", "closed", "close() fulfilled", "writer.closed"]);
}, "close() and writer.closed wait for the sink's close promise");

// --- abort ------------------------------------------------------------------------------------

promise_test(async (t) => {
  const ws = recordingWritableStream();
  const writer = ws.getWriter();
  const abort = writer.abort(error1);
  await promise_rejects_exactly(t, error1, writer.closed);
  await abort;
  assert_array_equals(ws.events, ["abort", error1]);
  await promise_rejects_exactly(t, error1, writer.write("a"));
  assert_equals(writer.desiredSize, null);
}, "abort() errors the stream with the reason and calls the sink's abort");

promise_test(async () => {
  const ws = recordingWritableStream();
  await ws.abort();
  assert_array_equals(ws.events, ["abort", undefined]);
}, "WritableStream.abort() with no reason passes undefined to the sink");

promise_test(async (t) => {
  const ws = new WritableStream({ abort() { throw error2; } });
  const writer = ws.getWriter();
  await promise_rejects_exactly(t, error2, writer.abort(error1), "abort() rejects with the sink's error");
  await promise_rejects_exactly(t, error1, writer.closed, "the stream errors with the abort reason");
}, "a failing sink abort rejects abort() but the stream keeps the abort reason");

promise_test(async (t) => {
  let resolveWrite;
  const ws = recordingWritableStream({ write() { return new Promise((r) => { resolveWrite = r; }); } });
  const writer = ws.getWriter();
  const w1 = writer.write("a");
  const w2 = writer.write("b");
  await flushAsyncEvents();
  const abort = writer.abort(error1);
  assert_equals(writer.desiredSize, null, "erroring at once");
  await promise_rejects_exactly(t, error1, writer.ready);
  await flushAsyncEvents();
  assert_array_equals(ws.events, ["write", "a"], "the sink's abort waits for the write in flight");
  resolveWrite();
  await w1;
  await promise_rejects_exactly(t, error1, w2, "queued writes are discarded");
  await abort;
  assert_array_equals(ws.events, ["write", "a", "abort", error1]);
}, "abort() during a write waits for it, then drops queued writes");

promise_test(async () => {
  let resolveClose;
  const ws = recordingWritableStream({ close() { return new Promise((r) => { resolveClose = r; }); } });
  const writer = ws.getWriter();
  const close = writer.close();
  await flushAsyncEvents();
  const abort = writer.abort(error1);
  resolveClose();
  await close;
  await abort;
  await writer.closed;
  assert_array_equals(ws.events, ["close"], "a close in flight wins; abort is not called");
}, "abort() during an in-flight close lets the close finish");

promise_test(async () => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  await writer.close();
  await writer.abort(error1);
  await writer.closed;
}, "abort() of a closed stream fulfills and changes nothing");

promise_test(async (t) => {
  const ws = new WritableStream({ start(c) { c.error(error1); } });
  await flushAsyncEvents();
  await ws.abort(error2);
  await promise_rejects_exactly(t, error1, ws.getWriter().closed);
}, "abort() of an errored stream fulfills and keeps the first error");

promise_test(async (t) => {
  const ws = new WritableStream({ start(c) { c.error(error1); } });
  await promise_rejects_exactly(t, error1, ws.abort(error2),
    "the stream is still erroring while start() has not completed");
}, "abort() of an erroring stream rejects with the stored error");

promise_test(async () => {
  let resolveWrite;
  const ws = new WritableStream({ write() { return new Promise((r) => { resolveWrite = r; }); } });
  const writer = ws.getWriter();
  writer.write("a");
  await flushAsyncEvents();
  const a1 = writer.abort(error1);
  const a2 = writer.abort(error2);
  assert_equals(a1, a2, "a second abort() returns the pending abort's promise");
  resolveWrite();
  await a1;
}, "concurrent abort() calls share one promise");

promise_test(async (t) => {
  let resolveStart;
  const ws = recordingWritableStream({ start() { return new Promise((r) => { resolveStart = r; }); } });
  const writer = ws.getWriter();
  const w = writer.write("a");
  const abort = writer.abort(error1);
  await flushAsyncEvents();
  assert_array_equals(ws.events, [], "nothing reaches the sink before start completes");
  resolveStart();
  await promise_rejects_exactly(t, error1, w);
  await abort;
  assert_array_equals(ws.events, ["abort", error1]);
}, "abort() before start completes aborts once it does, without writing");

promise_test(async (t) => {
  let c;
  const ws = new WritableStream({ start(controller) { c = controller; }, write() { return delay(2); } });
  const writer = ws.getWriter();
  const w = writer.write("a");
  await flushAsyncEvents();
  c.error(error1);
  const abort = writer.abort(error2);
  await w;
  await promise_rejects_exactly(t, error1, abort, "an abort while erroring rejects with the stored error");
}, "abort() while erroring after controller.error() rejects with that error");

// --- controller ---------------------------------------------------------------------------------

promise_test(async (t) => {
  let c;
  const ws = new WritableStream({ start(controller) { c = controller; } });
  const writer = ws.getWriter();
  c.error(error1);
  c.error(error2);
  await promise_rejects_exactly(t, error1, writer.closed);
}, "controller.error() errors the stream; later calls are ignored");

promise_test(async () => {
  let c;
  const ws = new WritableStream({ start(controller) { c = controller; } });
  await ws.getWriter().close();
  c.error(error1);
}, "controller.error() after close does nothing");

promise_test(async (t) => {
  const ws = new WritableStream({
    write(chunk, c) {
      c.error(error1);
      return delay(1);
    },
  });
  const writer = ws.getWriter();
  await writer.write("a");
  await promise_rejects_exactly(t, error1, writer.closed);
}, "controller.error() during a write errors the stream once the write finishes");

test(() => {
  let c;
  new WritableStream({ start(controller) { c = controller; } });
  const signal = c.signal;
  assert_true(signal instanceof AbortSignal);
  assert_equals(c.signal, signal, "the same signal every time");
  assert_false(signal.aborted);
}, "controller.signal is an AbortSignal that starts unaborted");

promise_test(async () => {
  let c;
  const ws = new WritableStream({ start(controller) { c = controller; } });
  const reason = namedError("why");
  const abort = ws.abort(reason);
  assert_true(c.signal.aborted, "aborted synchronously");
  assert_equals(c.signal.reason, reason);
  await abort;
}, "abort() aborts controller.signal synchronously with the reason");

promise_test(async () => {
  let c;
  const ws = new WritableStream({ start(controller) { c = controller; } });
  const signal = c.signal;
  let events = 0;
  signal.addEventListener("abort", () => { events++; });
  await ws.abort();
  assert_equals(events, 1);
  assert_equals(signal.reason.name, "AbortError", "an undefined reason becomes an AbortError");
}, "abort() with no reason fires abort with an AbortError reason");

promise_test(async (t) => {
  let started;
  const ws = new WritableStream({
    write(chunk, c) {
      started = true;
      return new Promise((resolve, reject) => {
        c.signal.addEventListener("abort", () => reject(c.signal.reason));
      });
    },
  });
  const writer = ws.getWriter();
  const w = writer.write("a");
  await flushAsyncEvents();
  assert_true(started);
  await writer.abort(error1);
  await promise_rejects_exactly(t, error1, w, "the sink used the signal to stop the write");
}, "a sink can use controller.signal to give up an in-flight write");

promise_test(async () => {
  let c;
  const ws = new WritableStream({ start(controller) { c = controller; } });
  await ws.close();
  await ws.abort(error1);
  assert_false(c.signal.aborted, "a closed stream's signal is never aborted");
}, "abort() of a closed stream does not abort the signal");

// --- getWriter / locked -----------------------------------------------------------------------

test(() => {
  const ws = new WritableStream();
  assert_false(ws.locked);
  const writer = ws.getWriter();
  assert_true(ws.locked);
  assert_throws_js(TypeError, () => ws.getWriter());
  writer.releaseLock();
  assert_false(ws.locked);
  ws.getWriter();
}, "getWriter() locks; releaseLock() unlocks");

promise_test(async () => {
  class Sub extends WritableStream {
    constructor() {
      super({ write: (chunk) => { this.last = chunk; } });
    }
  }
  const s = new Sub();
  await s.getWriter().write(3);
  assert_equals(s.last, 3);
  assert_true(s instanceof WritableStream);
}, "WritableStream can be subclassed");
