// META: script=resources/helpers.js
// ReadableStream with a default controller: construction, start/pull/cancel, the controller's
// methods, desiredSize and the queue.
"use strict";

const error1 = namedError("error1");

// --- construction -----------------------------------------------------------------------------

test(() => {
  new ReadableStream();
  new ReadableStream({});
  new ReadableStream(undefined);
  new ReadableStream({ type: undefined });
  new ReadableStream(() => {});
}, "constructs with no source, an empty source, undefined, an undefined type or a function");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream(null));
  assert_throws_js(TypeError, () => new ReadableStream(5));
  assert_throws_js(TypeError, () => new ReadableStream("source"));
}, "a source that is null or not an object is a TypeError");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream({ type: null }));
  assert_throws_js(TypeError, () => new ReadableStream({ type: "" }));
  assert_throws_js(TypeError, () => new ReadableStream({ type: "byob" }));
  assert_throws_exactly(error1, () => new ReadableStream({ type: { toString() { throw error1; } } }));
}, "an invalid type is a TypeError (an IDL enumeration), ToString errors propagate");

test(() => {
  new ReadableStream({ type: { toString() { return "bytes"; } } }).getReader({ mode: "byob" });
}, "type is converted with ToString");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream({ start: "potato" }));
  assert_throws_js(TypeError, () => new ReadableStream({ pull: {} }));
  assert_throws_js(TypeError, () => new ReadableStream({ cancel: 2 }));
}, "non-callable start, pull or cancel members are TypeErrors");

test(() => {
  new ReadableStream({ start: undefined, pull: undefined, cancel: undefined });
  assert_throws_js(TypeError, () => new ReadableStream({ start: null }));
}, "undefined callbacks are absent; null is a TypeError for a callback member");

test(() => {
  const record = [];
  const source = {};
  for (const key of ["type", "start", "pull", "cancel", "autoAllocateChunkSize"]) {
    Object.defineProperty(source, key, { get() { record.push(key); return undefined; } });
  }
  new ReadableStream(source);
  assert_array_equals(record, ["autoAllocateChunkSize", "cancel", "pull", "start", "type"]);
}, "underlying source members are read once, in lexicographic order");

test(() => {
  let calls = 0;
  const source = { start() { calls++; } };
  new ReadableStream(source);
  source.start = () => { calls += 100; };
  assert_equals(calls, 1);
}, "start is called synchronously, exactly once");

test(() => {
  const source = {
    start(controller) {
      assert_equals(this, source, "this is the source");
      assert_true(controller instanceof ReadableStreamDefaultController);
      source.called = true;
    },
  };
  new ReadableStream(source);
  assert_true(source.called);
}, "start gets the source as this and a ReadableStreamDefaultController");

promise_test(async () => {
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  function Source() {}
  Source.prototype.start = resolve;
  new ReadableStream(new Source());
  await done;
}, "callbacks are found on the source's prototype chain");

test(() => {
  assert_throws_exactly(error1, () => new ReadableStream({ start() { throw error1; } }));
}, "an exception thrown by start propagates out of the constructor");

promise_test(async (t) => {
  const rs = new ReadableStream({ start() { return Promise.reject(error1); } });
  await promise_rejects_exactly(t, error1, rs.getReader().closed);
}, "a rejected start promise errors the stream");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      return delay(5).then(() => {
        c.enqueue("a");
        c.close();
      });
    },
  });
  const reader = rs.getReader();
  assert_object_equals(await reader.read(), { value: "a", done: false });
  await reader.closed;
}, "start can return a promise; reads wait for data enqueued later");

test(() => {
  let controller;
  new ReadableStream({ start(c) { controller = c; } });
  controller.extra = 1;
  assert_equals(controller.extra, 1);
  assert_false("extra" in ReadableStreamDefaultController.prototype);
}, "the controller is an ordinary extensible object");

// --- pull ------------------------------------------------------------------------------------

promise_test(async () => {
  let pullCount = 0;
  new ReadableStream({ pull() { pullCount++; } });
  assert_equals(pullCount, 0, "not during construction");
  await flushAsyncEvents();
  assert_equals(pullCount, 1, "once after start");
  await delay(10);
  assert_equals(pullCount, 1, "and only once while nothing is read");
}, "pull is called once after start when the queue is below the high water mark");

promise_test(async () => {
  let pullCount = 0;
  new ReadableStream({ pull() { pullCount++; } }, { highWaterMark: 0 });
  await flushAsyncEvents();
  assert_equals(pullCount, 0);
}, "pull is not called after start with a zero high water mark and no reads");

promise_test(async () => {
  let pullCount = 0;
  const rs = new ReadableStream({
    pull(c) {
      if (pullCount > 0) c.enqueue(pullCount);
      pullCount++;
    },
  });
  await flushAsyncEvents();
  assert_equals(pullCount, 1);
  const reader = rs.getReader();
  const read = reader.read();
  assert_equals(pullCount, 2, "read() on an empty started stream pulls synchronously");
  assert_object_equals(await read, { value: 1, done: false });
  assert_equals(pullCount, 3, "and the queue refills afterwards");
}, "reading from an empty stream calls pull");

promise_test(async () => {
  let pullCount = 0;
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); }, pull() { pullCount++; } });
  const read = rs.getReader().read();
  assert_equals(pullCount, 0, "not before start completes");
  await flushAsyncEvents();
  assert_equals(pullCount, 1);
  assert_object_equals(await read, { value: "a", done: false });
  await delay(5);
  assert_equals(pullCount, 1);
}, "a read before start completes pulls only once start is done");

promise_test(async () => {
  let pullCount = 0;
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); }, pull() { pullCount++; } });
  await flushAsyncEvents();
  assert_equals(pullCount, 0, "the queue is full");
  const read = rs.getReader().read();
  assert_equals(pullCount, 1, "reading the last chunk pulls synchronously");
  await read;
}, "reading the last queued chunk pulls when the stream is not closing");

promise_test(async () => {
  let pullCount = 0;
  let controller;
  const rs = new ReadableStream({ start(c) { controller = c; }, pull() { pullCount++; } });
  await flushAsyncEvents();
  controller.enqueue("a");
  controller.close();
  await rs.getReader().read();
  await delay(5);
  assert_equals(pullCount, 1, "no pull once close() was called");
}, "reading the last chunk of a closing stream does not pull");

promise_test(async () => {
  let resolve;
  let returned;
  let timesCalled = 0;
  const rs = new ReadableStream({
    pull(c) {
      c.enqueue(++timesCalled);
      returned = new Promise((r) => { resolve = r; });
      return returned;
    },
  });
  const reader = rs.getReader();
  assert_object_equals(await reader.read(), { value: 1, done: false });
  await delay(10);
  assert_equals(timesCalled, 1, "pull is not called again while its promise is pending");
  resolve();
  await returned;
  await flushAsyncEvents();
  assert_equals(timesCalled, 2);
}, "pull is never called again while a previous pull's promise is pending");

promise_test(async () => {
  let timesCalled = 0;
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.enqueue("c");
    },
    pull() { ++timesCalled; },
  }, { highWaterMark: Infinity });
  const reader = rs.getReader();
  await flushAsyncEvents();
  await reader.read();
  await reader.read();
  await reader.read();
  await delay(5);
  assert_equals(timesCalled, 4, "once after start and once per read");
}, "with an infinite high water mark pull runs after start and after every read");

promise_test(async () => {
  let timesCalled = 0;
  const done = deferred();
  new ReadableStream({
    pull(c) {
      c.enqueue(++timesCalled);
      if (timesCalled === 4) done.resolve();
    },
  }, { highWaterMark: 4 });
  await done.promise;
  await delay(5);
  assert_equals(timesCalled, 4);
}, "pull keeps being called until the queue reaches the high water mark");

promise_test(async () => {
  let pullCalled = false;
  const rs = new ReadableStream({
    pull(c) {
      pullCalled = true;
      c.close();
    },
  });
  await rs.getReader().closed;
  assert_true(pullCalled);
}, "pull can close the stream");

promise_test(async (t) => {
  const e = { name: "controller error" };
  const rs = new ReadableStream({ pull(c) { c.error(e); } });
  await promise_rejects_exactly(t, e, rs.getReader().closed);
}, "pull can error the stream");

promise_test(async (t) => {
  const controllerError = namedError("controller");
  const thrownError = namedError("thrown");
  const rs = new ReadableStream({
    pull(c) {
      c.error(controllerError);
      throw thrownError;
    },
  });
  await promise_rejects_exactly(t, controllerError, rs.getReader().closed);
}, "an error from the controller wins over the exception pull throws after it");

promise_test(async (t) => {
  const rs = new ReadableStream({ pull() { return Promise.reject(error1); } });
  const reader = rs.getReader();
  const order = [];
  const closed = reader.closed.then(() => assert_unreached(), (e) => { order.push("closed"); assert_equals(e, error1); });
  const read = reader.read().then(() => assert_unreached(), (e) => { order.push("read"); assert_equals(e, error1); });
  await Promise.all([closed, read]);
  assert_array_equals(order, ["closed", "read"], "closed rejects before pending reads");
}, "a rejected pull promise errors the stream");

promise_test(async (t) => {
  const rs = new ReadableStream({ pull() { throw error1; } });
  await promise_rejects_exactly(t, error1, rs.getReader().read());
}, "an exception thrown by pull errors the stream");

promise_test(async () => {
  let pulls = 0;
  const rs = new ReadableStream({
    pull(c) {
      pulls++;
      c.enqueue(pulls);
      c.enqueue(pulls);
    },
  }, { highWaterMark: 0 });
  const reader = rs.getReader();
  await reader.read();
  await reader.read();
  await flushAsyncEvents();
  assert_equals(pulls, 1, "the second read was served from the queue");
}, "a pull may enqueue several chunks");

promise_test(async () => {
  const source = {
    pull(c) {
      assert_equals(this, source);
      assert_true(c instanceof ReadableStreamDefaultController);
      source.pulled = true;
    },
  };
  new ReadableStream(source);
  await flushAsyncEvents();
  assert_true(source.pulled);
}, "pull gets the source as this and the controller as its argument");

promise_test(async () => {
  let pulls = 0;
  const rs = new ReadableStream({
    pull(c) {
      pulls++;
      c.enqueue(pulls);
      return delay(1);
    },
  }, { highWaterMark: 0 });
  const reader = rs.getReader();
  const reads = [reader.read(), reader.read(), reader.read()];
  const results = await Promise.all(reads);
  assert_array_equals(results.map((r) => r.value), [1, 2, 3]);
}, "several pending reads are served in order by successive pulls");

// --- enqueue, close, error --------------------------------------------------------------------

promise_test(async () => {
  const objects = [{ potato: "Give me more!" }, "test", 1, undefined, null];
  const rs = new ReadableStream({
    start(c) {
      for (const o of objects) c.enqueue(o);
      c.close();
    },
  });
  const chunks = await readAll(rs);
  assert_array_equals(chunks, objects);
}, "any JavaScript value can be a chunk, including undefined and null");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  c.enqueue();
  const { value, done } = await rs.getReader().read();
  assert_equals(value, undefined);
  assert_false(done);
}, "enqueue() with no argument enqueues undefined");

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } });
  c.close();
  assert_throws_js(TypeError, () => c.enqueue("a"));
  assert_throws_js(TypeError, () => c.close());
}, "enqueue() and close() throw after close()");

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } });
  c.error(error1);
  assert_throws_js(TypeError, () => c.enqueue("a"));
  assert_throws_js(TypeError, () => c.close());
  c.error(namedError("second"));
}, "enqueue() and close() throw after error(); error() again is a no-op");

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  c.error(error1);
  c.error(namedError("second"));
  await promise_rejects_exactly(t, error1, rs.getReader().closed);
}, "only the first error() counts");

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  c.close();
  c.error(error1);
  await rs.getReader().closed;
}, "error() after close() does not error a closed stream");

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  c.enqueue("a");
  c.close();
  c.error(error1);
  await promise_rejects_exactly(t, error1, rs.getReader().read(),
    "a closing stream with queued chunks can still be errored");
}, "error() while closing with queued chunks errors the stream and drops the chunks");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  c.error();
  const reader = rs.getReader();
  let caught;
  await reader.closed.catch((e) => { caught = e; });
  assert_equals(caught, undefined, "the stream is errored with undefined");
}, "error() with no argument errors the stream with undefined");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const reader = rs.getReader();
  const results = await Promise.all([reader.read(), reader.read(), reader.read(), reader.closed]);
  assert_object_equals(results[0], { value: "a", done: false });
  assert_object_equals(results[1], { value: "b", done: false });
  assert_object_equals(results[2], { value: undefined, done: true });
}, "queued chunks are still read after close(); then reads report done");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.close();
    },
  });
  const reader = rs.getReader();
  let closedFirst = false;
  reader.closed.then(() => { closedFirst = true; });
  await reader.read();
  await reader.closed;
  assert_true(closedFirst || true);
}, "closed resolves once the last chunk has been read");

// --- desiredSize --------------------------------------------------------------------------------

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } });
  assert_equals(c.desiredSize, 1, "the default high water mark is 1");
  c.enqueue("a");
  assert_equals(c.desiredSize, 0);
  c.enqueue("b");
  assert_equals(c.desiredSize, -1, "can go negative");
}, "desiredSize is the high water mark minus the queued size");

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } });
  c.close();
  assert_equals(c.desiredSize, 0);
}, "desiredSize is 0 once closed");

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } });
  c.enqueue("a");
  c.close();
  assert_equals(c.desiredSize, 0, "closing with a queued chunk: still readable, queue size 1");
}, "desiredSize of a closing stream with one queued chunk");

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } });
  c.error(error1);
  assert_equals(c.desiredSize, null);
}, "desiredSize is null once errored");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } }, { highWaterMark: 3 });
  c.enqueue(1);
  c.enqueue(2);
  assert_equals(c.desiredSize, 1);
  const reader = rs.getReader();
  await reader.read();
  assert_equals(c.desiredSize, 2);
  await rs.cancel().catch(() => {});
  reader.releaseLock();
  await rs.cancel();
  assert_equals(c.desiredSize, 0, "canceled streams are closed");
}, "desiredSize rises as chunks are read and is 0 after cancel");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } }, { highWaterMark: 0 });
  assert_equals(c.desiredSize, 0);
  const reader = rs.getReader();
  reader.read();
  assert_equals(c.desiredSize, 0, "a pending read does not change desiredSize");
  c.enqueue("x");
  assert_equals(c.desiredSize, 0, "a chunk handed to a pending read is never queued");
}, "chunks enqueued while a read is pending bypass the queue");

// --- cancel ---------------------------------------------------------------------------------------

promise_test(async () => {
  let reason;
  const rs = new ReadableStream({ cancel(r) { reason = r; } });
  const result = await rs.cancel("because");
  assert_equals(result, undefined);
  assert_equals(reason, "because");
}, "cancel() calls the source's cancel with the reason and fulfills with undefined");

promise_test(async () => {
  let args;
  const source = { cancel(...a) { args = a; assert_equals(this, source); } };
  const rs = new ReadableStream(source);
  await rs.cancel();
  assert_equals(args.length, 1);
  assert_equals(args[0], undefined);
}, "cancel() with no reason passes undefined to the source");

promise_test(async (t) => {
  const rs = new ReadableStream({ cancel() { throw error1; } });
  await promise_rejects_exactly(t, error1, rs.cancel());
  await rs.getReader().closed;
}, "if the source's cancel throws, cancel() rejects but the stream is still closed");

promise_test(async (t) => {
  const rs = new ReadableStream({ cancel() { return Promise.reject(error1); } });
  await promise_rejects_exactly(t, error1, rs.cancel());
}, "if the source's cancel rejects, cancel() rejects with that reason");

promise_test(async () => {
  let resolveCancel;
  let settled = false;
  const rs = new ReadableStream({ cancel() { return new Promise((r) => { resolveCancel = r; }); } });
  const p = rs.cancel().then((v) => { settled = true; return v; });
  await flushAsyncEvents();
  assert_false(settled, "cancel() waits for the source");
  resolveCancel("ignored value");
  assert_equals(await p, undefined, "and fulfills with undefined whatever the source returned");
}, "cancel() waits for the source's cancel promise");

promise_test(async () => {
  let cancelCalls = 0;
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.close(); }, cancel() { cancelCalls++; } });
  await rs.cancel();
  assert_equals(cancelCalls, 1, "a closing stream is still readable: its source is told");
  assert_object_equals(await rs.getReader().read(), { value: undefined, done: true });
}, "canceling a closing stream that still holds chunks calls the source and drops the chunks");

promise_test(async () => {
  let cancelCalls = 0;
  const rs = new ReadableStream({ start(c) { c.close(); }, cancel() { cancelCalls++; } });
  await rs.cancel();
  await rs.cancel();
  assert_equals(cancelCalls, 0);
}, "canceling a closed stream fulfills immediately");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  await promise_rejects_exactly(t, error1, rs.cancel());
}, "canceling an errored stream rejects with the stored error");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); } });
  const reader = rs.getReader();
  await reader.cancel();
  assert_object_equals(await reader.read(), { value: undefined, done: true }, "queued chunks are discarded");
}, "cancel() discards queued chunks");

promise_test(async () => {
  let pullCount = 0;
  const rs = new ReadableStream({ pull() { pullCount++; } }, { highWaterMark: 0 });
  await rs.cancel();
  const reader = rs.getReader();
  await reader.read();
  await flushAsyncEvents();
  assert_equals(pullCount, 0);
}, "pull is never called after cancel()");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  const read = reader.read();
  const cancel = reader.cancel();
  assert_object_equals(await read, { value: undefined, done: true }, "pending reads fulfill with done");
  await cancel;
  assert_throws_js(TypeError, () => c.enqueue("late"), "the controller can no longer enqueue");
}, "cancel() fulfills pending reads with done: true");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { return delay(5); }, cancel() {} });
  const cancel = rs.cancel();
  await cancel;
  await rs.getReader().closed;
}, "cancel() before start completes closes the stream");

promise_test(async (t) => {
  const rs = new ReadableStream();
  rs.getReader();
  await promise_rejects_js(t, TypeError, rs.cancel());
}, "cancel() of a locked stream rejects with a TypeError and does not cancel");

promise_test(async () => {
  let disturbed = false;
  const rs = new ReadableStream({ cancel() { disturbed = true; } });
  const [] = [];
  await rs.cancel();
  assert_true(disturbed);
  const reader = rs.getReader();
  assert_object_equals(await reader.read(), { value: undefined, done: true });
}, "a canceled stream is closed for later readers");

// --- locked ---------------------------------------------------------------------------------------

test(() => {
  const rs = new ReadableStream();
  assert_false(rs.locked);
  const reader = rs.getReader();
  assert_true(rs.locked);
  reader.releaseLock();
  assert_false(rs.locked);
}, "locked reflects whether a reader holds the stream");

test(() => {
  const rs = new ReadableStream();
  rs.getReader();
  assert_throws_js(TypeError, () => rs.getReader());
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader(rs));
}, "a locked stream refuses a second reader");

test(() => {
  const rs = new ReadableStream();
  rs.getReader(undefined);
  new ReadableStream().getReader({});
  new ReadableStream().getReader({ mode: undefined, other: "ignored" });
  new ReadableStream().getReader(null);
  assert_throws_js(TypeError, () => new ReadableStream().getReader({ mode: "default" }));
  assert_throws_js(TypeError, () => new ReadableStream().getReader({ mode: "potato" }));
  assert_throws_js(TypeError, () => new ReadableStream().getReader(5));
}, "getReader() accepts only an absent mode or 'byob'");

test(() => {
  const rs = new ReadableStream();
  assert_throws_js(TypeError, () => rs.getReader({ mode: "byob" }));
  assert_false(rs.locked);
}, "getReader({ mode: 'byob' }) on a default stream is a TypeError and does not lock");

test(() => {
  const rs = new ReadableStream();
  const reader = rs.getReader({ mode: { toString() { return undefined; } } === 1 ? "byob" : undefined });
  assert_true(reader instanceof ReadableStreamDefaultReader);
}, "getReader() returns a ReadableStreamDefaultReader");

// --- subclassing ------------------------------------------------------------------------------

promise_test(async () => {
  class MyStream extends ReadableStream {
    constructor(chunks) {
      super({ start(c) { for (const x of chunks) c.enqueue(x); c.close(); } });
      this.kind = "mine";
    }
  }
  const s = new MyStream([1, 2]);
  assert_true(s instanceof ReadableStream);
  assert_equals(s.kind, "mine");
  assert_array_equals(await readAll(s), [1, 2]);
}, "ReadableStream can be subclassed");
