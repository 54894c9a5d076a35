// META: script=resources/helpers.js
// tee() of readable byte streams: both branches are byte streams with their own copies.
"use strict";

const error1 = namedError("error1");

function viewBytes(view) {
  return Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

function byteStream(extras = {}) {
  let controller;
  const rs = new ReadableStream({
    type: "bytes",
    ...extras,
    start(c) { controller = c; return extras.start?.(c); },
  });
  return { rs, controller };
}

test(() => {
  const { rs } = byteStream();
  const [a, b] = rs.tee();
  a.getReader({ mode: "byob" }).releaseLock();
  b.getReader({ mode: "byob" }).releaseLock();
}, "both branches of a byte stream tee are byte streams");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const [a, b] = rs.tee();
  controller.enqueue(new Uint8Array([1, 2, 3]));
  controller.close();
  const [ca, cb] = await Promise.all([readAll(a), readAll(b)]);
  assert_array_equals(bytesOf(ca), [1, 2, 3]);
  assert_array_equals(bytesOf(cb), [1, 2, 3]);
  assert_not_equals(ca[0].buffer, cb[0].buffer, "each branch has its own copy");
}, "each branch of a byte stream gets its own copy of every chunk");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const [a, b] = rs.tee();
  const ra = a.getReader();
  const rb = b.getReader();
  const pa = ra.read();
  const pb = rb.read();
  controller.enqueue(new Uint8Array([7]));
  const [xa, xb] = await Promise.all([pa, pb]);
  xa.value[0] = 99;
  assert_equals(xb.value[0], 7, "writing into one branch's chunk does not affect the other");
}, "byte branch chunks do not share memory");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const [a, b] = rs.tee();
  const ra = a.getReader({ mode: "byob" });
  const rb = b.getReader();
  const pa = ra.read(new Uint8Array(2));
  await flushAsyncEvents();
  assert_not_equals(controller.byobRequest, null, "a BYOB read on a branch is forwarded as a BYOB read");
  assert_equals(controller.byobRequest.view.byteLength, 2);
  controller.enqueue(new Uint8Array([1, 2, 3]));
  const xa = await pa;
  assert_array_equals(viewBytes(xa.value), [1, 2]);
  const xb = await rb.read();
  assert_array_equals(viewBytes(xb.value), [1, 2], "the other branch gets what the BYOB read got");
  const xa2 = await ra.read(new Uint8Array(4));
  assert_array_equals(viewBytes(xa2.value), [3]);
  assert_array_equals(viewBytes((await rb.read()).value), [3]);
}, "a BYOB read on a branch reads into its buffer and copies to the other branch");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const [a, b] = rs.tee();
  const ra = a.getReader({ mode: "byob" });
  const rb = b.getReader({ mode: "byob" });
  const pa = ra.read(new Uint8Array(4));
  const pb = rb.read(new Uint8Array(4));
  controller.close();
  await flushAsyncEvents();
  if (controller.byobRequest) controller.byobRequest.respond(0);
  const [xa, xb] = await Promise.all([pa, pb]);
  assert_true(xa.done);
  assert_true(xb.done);
  assert_equals(xa.value.byteLength, 0);
  assert_equals(xb.value.byteLength, 0);
}, "closing the original finishes pending BYOB reads on both branches");

promise_test(async (t) => {
  const { rs, controller } = byteStream();
  const [a, b] = rs.tee();
  const ra = a.getReader();
  const rb = b.getReader({ mode: "byob" });
  const pb = rb.read(new Uint8Array(4));
  controller.error(error1);
  await promise_rejects_exactly(t, error1, ra.closed);
  await promise_rejects_exactly(t, error1, pb);
}, "an error of the original errors both byte branches");

promise_test(async () => {
  let reason;
  const { rs } = byteStream({ cancel(r) { reason = r; } });
  const [a, b] = rs.tee();
  await Promise.all([a.cancel("x"), b.cancel("y")]);
  assert_array_equals(reason, ["x", "y"]);
}, "canceling both byte branches cancels the original with both reasons");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const [a, b] = rs.tee();
  const canceled = a.cancel();
  controller.enqueue(new Uint8Array([5]));
  controller.close();
  assert_array_equals(bytesOf(await readAll(b)), [5]);
  await canceled;
}, "a canceled byte branch does not stop the other");

promise_test(async () => {
  let n = 0;
  const { rs } = byteStream({
    pull(c) {
      if (n === 50) {
        c.close();
        if (c.byobRequest) c.byobRequest.respond(0);
        return;
      }
      c.enqueue(new Uint8Array([n++]));
    },
  });
  const [a, b] = rs.tee();
  const [ca, cb] = await Promise.all([readAll(a), readAll(b)]);
  const expected = Array.from({ length: 50 }, (_, i) => i);
  assert_array_equals(bytesOf(ca), expected);
  assert_array_equals(bytesOf(cb), expected);
}, "a byte tee neither loses nor duplicates bytes");

promise_test(async () => {
  const { rs, controller } = byteStream();
  const [a, b] = rs.tee();
  const ra = a.getReader({ mode: "byob" });
  const rb = b.getReader({ mode: "byob" });
  const pa = ra.read(new Uint8Array(1));
  await flushAsyncEvents();
  controller.byobRequest.view[0] = 42;
  controller.byobRequest.respond(1);
  assert_array_equals(viewBytes((await pa).value), [42]);
  assert_array_equals(viewBytes((await rb.read(new Uint8Array(1))).value), [42]);
}, "a byte source responding to a branch's BYOB request serves both branches");
