// META: script=resources/helpers.js
// ReadableStreamDefaultReader: construction, read(), closed, cancel(), releaseLock().
"use strict";

const error1 = namedError("error1");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader());
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader({}));
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader(new WritableStream()));
  const fake = Object.create(ReadableStream.prototype);
  assert_throws_js(TypeError, () => new ReadableStreamDefaultReader(fake));
}, "the constructor requires a real ReadableStream");

test(() => {
  const rs = new ReadableStream();
  const reader = new ReadableStreamDefaultReader(rs);
  assert_true(rs.locked);
  assert_equals(Object.getPrototypeOf(reader), ReadableStreamDefaultReader.prototype);
}, "new ReadableStreamDefaultReader(stream) locks the stream like getReader()");

test(() => {
  const rs = new ReadableStream();
  const reader = rs.getReader();
  assert_equals(reader.closed, reader.closed, "closed returns the same promise each time");
}, "closed is the same promise on every access");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  const read = reader.read();
  c.enqueue("a");
  assert_object_equals(await read, { value: "a", done: false });
}, "a pending read is fulfilled by the next enqueue");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); } });
  const result = await rs.getReader().read();
  assert_equals(Object.getPrototypeOf(result), Object.prototype);
  assert_array_equals(Object.keys(result).sort(), ["done", "value"]);
}, "read() results are plain objects with value and done");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  const reads = [reader.read(), reader.read(), reader.read()];
  c.enqueue(1);
  c.enqueue(2);
  c.close();
  const results = await Promise.all(reads);
  assert_object_equals(results[0], { value: 1, done: false });
  assert_object_equals(results[1], { value: 2, done: false });
  assert_object_equals(results[2], { value: undefined, done: true });
}, "pending reads are fulfilled in order; the rest get done when the stream closes");

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  const r1 = reader.read();
  const r2 = reader.read();
  c.error(error1);
  await promise_rejects_exactly(t, error1, r1);
  await promise_rejects_exactly(t, error1, r2);
  await promise_rejects_exactly(t, error1, reader.read());
  await promise_rejects_exactly(t, error1, reader.closed);
}, "erroring the stream rejects pending and later reads and closed");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.close(); } });
  const reader = rs.getReader();
  await reader.closed;
  assert_object_equals(await reader.read(), { value: undefined, done: true });
  assert_object_equals(await reader.read(), { value: undefined, done: true });
}, "a closed stream keeps answering done");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const reader = rs.getReader();
  await promise_rejects_exactly(t, error1, reader.closed);
  await promise_rejects_exactly(t, error1, reader.read());
}, "a reader made on an errored stream starts errored");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.close(); } });
  await rs.getReader().closed;
}, "a reader made on a closed stream has a fulfilled closed promise");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  const closed = reader.closed;
  c.close();
  assert_equals(await closed, undefined);
}, "closed fulfills with undefined when the stream closes");

// --- releaseLock -------------------------------------------------------------------------------

promise_test(async (t) => {
  const rs = new ReadableStream();
  const reader = rs.getReader();
  const closed = reader.closed;
  reader.releaseLock();
  await promise_rejects_js(t, TypeError, closed, "the original closed promise rejects");
  assert_equals(reader.closed, closed, "a readable stream's release rejects the same promise");
}, "releaseLock() on a readable stream rejects closed with a TypeError");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.close(); } });
  const reader = rs.getReader();
  const closed = reader.closed;
  reader.releaseLock();
  await closed;
  assert_not_equals(reader.closed, closed, "closed is replaced");
  await promise_rejects_js(t, TypeError, reader.closed);
}, "releaseLock() on a closed stream replaces closed with a rejected promise");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const reader = rs.getReader();
  const closed = reader.closed;
  reader.releaseLock();
  await promise_rejects_exactly(t, error1, closed);
  await promise_rejects_js(t, TypeError, reader.closed);
}, "releaseLock() on an errored stream replaces closed with a TypeError rejection");

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  const r1 = reader.read();
  const r2 = reader.read();
  reader.releaseLock();
  await promise_rejects_js(t, TypeError, r1);
  await promise_rejects_js(t, TypeError, r2);
  c.enqueue("kept");
  const reader2 = rs.getReader();
  assert_object_equals(await reader2.read(), { value: "kept", done: false });
}, "releaseLock() rejects pending reads; later chunks go to the next reader");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); } });
  const reader = rs.getReader();
  await reader.read();
  reader.releaseLock();
  const reader2 = rs.getReader();
  assert_object_equals(await reader2.read(), { value: "b", done: false });
}, "unread chunks stay in the stream for the next reader");

promise_test(async (t) => {
  const rs = new ReadableStream();
  const reader = rs.getReader();
  reader.releaseLock();
  reader.releaseLock();
  await promise_rejects_js(t, TypeError, reader.read());
  await promise_rejects_js(t, TypeError, reader.cancel());
}, "a released reader: releaseLock() is a no-op, read() and cancel() reject");

promise_test(async (t) => {
  let cancelled = false;
  const rs = new ReadableStream({ cancel() { cancelled = true; } });
  const reader = rs.getReader();
  reader.releaseLock();
  await promise_rejects_js(t, TypeError, reader.cancel());
  assert_false(cancelled);
}, "cancel() through a released reader does not reach the source");

promise_test(async () => {
  let reason;
  const rs = new ReadableStream({ cancel(r) { reason = r; } });
  const reader = rs.getReader();
  assert_equals(await reader.cancel("r"), undefined);
  assert_equals(reason, "r");
  assert_true(rs.locked, "cancel() keeps the lock");
  await reader.closed;
}, "reader.cancel() cancels the stream and keeps the lock");

promise_test(async (t) => {
  const rs = new ReadableStream();
  const reader1 = rs.getReader();
  reader1.releaseLock();
  const reader2 = rs.getReader();
  await promise_rejects_js(t, TypeError, reader1.closed);
  reader1.releaseLock();
  assert_true(rs.locked, "releasing the old reader again does not unlock the new one");
  reader2.releaseLock();
  assert_false(rs.locked);
}, "releasing a stale reader does not affect the current one");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  reader.releaseLock();
  c.close();
  const reader2 = rs.getReader();
  await reader2.closed;
}, "a new reader sees a close that happened while unlocked");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue("x"); } });
  const reader = rs.getReader();
  const p = reader.read();
  reader.releaseLock();
  assert_object_equals(await p, { value: "x", done: false }, "a read served from the queue is done already");
}, "a read fulfilled synchronously from the queue survives releaseLock()");

// --- errors during reads ----------------------------------------------------------------------

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  c.enqueue("a");
  c.error(error1);
  await promise_rejects_exactly(t, error1, reader.read(), "queued chunks are dropped on error");
}, "error() discards chunks that were already queued");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.close(); } });
  const reader = rs.getReader();
  const events = [];
  reader.closed.then(() => events.push("closed"));
  reader.read().then(() => events.push("read"));
  await flushAsyncEvents();
  assert_array_equals(events, ["closed", "read"], "the stream closes before the chunk steps run");
}, "reading the last chunk of a closing stream resolves closed before the read");
