// META: script=resources/helpers.js
// WritableStreamDefaultWriter: construction, closed, ready, releaseLock and released writers.
"use strict";

const error1 = namedError("error1");

test(() => {
  assert_throws_js(TypeError, () => new WritableStreamDefaultWriter());
  assert_throws_js(TypeError, () => new WritableStreamDefaultWriter({}));
  assert_throws_js(TypeError, () => new WritableStreamDefaultWriter(new ReadableStream()));
  const ws = new WritableStream();
  const writer = new WritableStreamDefaultWriter(ws);
  assert_true(ws.locked);
  assert_throws_js(TypeError, () => new WritableStreamDefaultWriter(ws), "already locked");
  assert_equals(Object.getPrototypeOf(writer), WritableStreamDefaultWriter.prototype);
}, "the writer constructor takes an unlocked WritableStream");

test(() => {
  const writer = new WritableStream().getWriter();
  assert_equals(writer.closed, writer.closed);
  assert_equals(writer.ready, writer.ready);
}, "closed and ready return the same promise while nothing changes");

promise_test(async (t) => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  const closed = writer.closed;
  const ready = writer.ready;
  writer.releaseLock();
  await promise_rejects_js(t, TypeError, closed, "a pending closed is rejected");
  await ready;
  await promise_rejects_js(t, TypeError, writer.ready, "a fulfilled ready is replaced by a rejected one");
  assert_not_equals(writer.ready, ready);
}, "releaseLock() rejects closed and replaces ready with a TypeError rejection");

promise_test(async (t) => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  writer.releaseLock();
  assert_throws_js(TypeError, () => writer.desiredSize);
  await promise_rejects_js(t, TypeError, writer.write("a"));
  await promise_rejects_js(t, TypeError, writer.close());
  await promise_rejects_js(t, TypeError, writer.abort());
  writer.releaseLock();
}, "a released writer rejects write/close/abort and its desiredSize throws");

promise_test(async () => {
  const ws = recordingWritableStream({ write() { return delay(2); } });
  const writer = ws.getWriter();
  const w = writer.write("a");
  writer.releaseLock();
  await w;
  assert_array_equals(ws.events, ["write", "a"], "a write in progress completes after release");
  const writer2 = ws.getWriter();
  await writer2.write("b");
  assert_array_equals(ws.events, ["write", "a", "write", "b"]);
}, "releasing a writer does not cancel writes already made");

promise_test(async (t) => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  await writer.close();
  const closed = writer.closed;
  writer.releaseLock();
  await closed;
  await promise_rejects_js(t, TypeError, writer.closed);
  const writer2 = ws.getWriter();
  await writer2.closed;
}, "a new writer on a closed stream has a fulfilled closed promise");

promise_test(async (t) => {
  const ws = new WritableStream({ start(c) { c.error(error1); } });
  await flushAsyncEvents();
  const writer = ws.getWriter();
  await promise_rejects_exactly(t, error1, writer.closed);
  await promise_rejects_exactly(t, error1, writer.ready);
  assert_equals(writer.desiredSize, null);
}, "a writer on an errored stream starts errored");

promise_test(async (t) => {
  let resolveWrite;
  const ws = new WritableStream({ write() { return new Promise((r) => { resolveWrite = r; }); } });
  const writer = ws.getWriter();
  writer.write("a");
  await flushAsyncEvents();
  writer.abort(error1);
  writer.releaseLock();
  const writer2 = ws.getWriter();
  await promise_rejects_exactly(t, error1, writer2.ready, "an erroring stream gives a rejected ready");
  assert_equals(writer2.desiredSize, null);
  resolveWrite();
  await promise_rejects_exactly(t, error1, writer2.closed);
}, "a writer on an erroring stream has a rejected ready and a pending closed");

promise_test(async () => {
  const ws = new WritableStream({}, { highWaterMark: 0 });
  const writer = ws.getWriter();
  const closeRequested = writer.close();
  writer.releaseLock();
  const writer2 = ws.getWriter();
  await writer2.ready;
  await closeRequested;
}, "a writer on a closing stream has a fulfilled ready");

promise_test(async () => {
  const ws = new WritableStream({ write() { return delay(1); } }, { highWaterMark: 1 });
  const writer = ws.getWriter();
  writer.write("a");
  writer.releaseLock();
  const writer2 = ws.getWriter();
  assert_equals(writer2.desiredSize, 0);
  let ready = false;
  writer2.ready.then(() => { ready = true; });
  await Promise.resolve();
  assert_false(ready, "ready is pending while the write is in flight");
  await delay(10);
  assert_true(ready, "and resolves when it completes");
}, "a new writer inherits the stream's backpressure");

promise_test(async () => {
  const events = [];
  const ws = new WritableStream({ write(chunk) { events.push(chunk); } });
  const writer = ws.getWriter();
  const order = [];
  writer.write(1).then(() => order.push("w1"));
  writer.write(2).then(() => order.push("w2"));
  writer.close().then(() => order.push("close"));
  writer.closed.then(() => order.push("closed"));
  await flushAsyncEvents();
  assert_array_equals(order, ["w1", "w2", "close", "closed"]);
}, "write, close and closed promises settle in order");

promise_test(async (t) => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  const proto = WritableStreamDefaultWriter.prototype;
  await promise_rejects_js(t, TypeError, proto.write.call({}, 1));
  await promise_rejects_js(t, TypeError, proto.close.call(ws));
  await promise_rejects_js(t, TypeError, proto.abort.call(undefined));
  await promise_rejects_js(t, TypeError, Object.getOwnPropertyDescriptor(proto, "closed").get.call({}));
  await promise_rejects_js(t, TypeError, Object.getOwnPropertyDescriptor(proto, "ready").get.call({}));
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(proto, "desiredSize").get.call({}));
  assert_throws_js(TypeError, () => proto.releaseLock.call({}));
  writer.releaseLock();
}, "writer methods check their this value (promise-returning ones reject)");
