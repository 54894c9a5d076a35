// META: script=resources/helpers.js
// tee() of default (non-byte) readable streams.
"use strict";

const error1 = namedError("error1");

test(() => {
  const rs = new ReadableStream();
  const result = rs.tee();
  assert_true(Array.isArray(result));
  assert_equals(result.length, 2);
  assert_true(result[0] instanceof ReadableStream);
  assert_true(result[1] instanceof ReadableStream);
  assert_not_equals(result[0], result[1]);
  assert_true(rs.locked, "the original is locked");
  assert_false(result[0].locked);
}, "tee() returns two new, unlocked ReadableStreams and locks the original");

test(() => {
  const rs = new ReadableStream();
  rs.getReader();
  assert_throws_js(TypeError, () => rs.tee());
}, "tee() of a locked stream throws a TypeError");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
  const [a, b] = rs.tee();
  assert_array_equals(await readAll(a), ["a", "b"]);
  assert_array_equals(await readAll(b), ["a", "b"]);
}, "each branch reads every chunk, one branch to the end before the other");

promise_test(async () => {
  const chunk = { id: 1 };
  const rs = new ReadableStream({ start(c) { c.enqueue(chunk); c.close(); } });
  const [a, b] = rs.tee();
  const [ca] = await readAll(a);
  const [cb] = await readAll(b);
  assert_equals(ca, chunk);
  assert_equals(cb, chunk, "default streams share the chunk object");
}, "both branches see the same chunk objects");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const [a, b] = rs.tee();
  const ra = a.getReader();
  const rb = b.getReader();
  const both = Promise.all([ra.read(), rb.read()]);
  c.enqueue("x");
  const [x1, x2] = await both;
  assert_object_equals(x1, { value: "x", done: false });
  assert_object_equals(x2, { value: "x", done: false });
}, "a chunk enqueued while both branches wait reaches both");

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const [a, b] = rs.tee();
  const ra = a.getReader();
  const rb = b.getReader();
  c.enqueue("a");
  c.error(error1);
  await promise_rejects_exactly(t, error1, ra.closed);
  await promise_rejects_exactly(t, error1, rb.closed);
}, "an error of the original errors both branches");

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const [a, b] = rs.tee();
  const ra = a.getReader();
  const rb = b.getReader();
  c.enqueue("a");
  const r1 = ra.read();
  c.error(error1);
  await promise_rejects_exactly(t, error1, r1, "the error wins over a synchronously available chunk");
  await promise_rejects_exactly(t, error1, rb.read());
}, "errors reach the branches before chunks that were available synchronously");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const [a, b] = rs.tee();
  const ra = a.getReader();
  const rb = b.getReader();
  c.close();
  await ra.closed;
  await rb.closed;
}, "closing the original closes both branches");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); }, cancel() { assert_unreached(); } });
  const [a, b] = rs.tee();
  const canceled = a.cancel("x");
  assert_array_equals(await readAll(b), [1, 2]);
  await canceled;
}, "canceling one branch does not affect the other or the original");

promise_test(async () => {
  let reason;
  const rs = new ReadableStream({ cancel(r) { reason = r; } });
  const [a, b] = rs.tee();
  const p1 = a.cancel("r1");
  const p2 = b.cancel("r2");
  await Promise.all([p1, p2]);
  assert_array_equals(reason, ["r1", "r2"]);
}, "canceling both branches cancels the original with [reason1, reason2]");

promise_test(async () => {
  let reason;
  const rs = new ReadableStream({ cancel(r) { reason = r; } });
  const [a, b] = rs.tee();
  const p2 = b.cancel("r2");
  const p1 = a.cancel("r1");
  await Promise.all([p1, p2]);
  assert_array_equals(reason, ["r1", "r2"], "the composite reason is ordered by branch, not by call");
}, "the composite reason keeps branch order whichever branch is canceled first");

promise_test(async () => {
  let settled = false;
  const rs = new ReadableStream({ cancel() {} });
  const [a, b] = rs.tee();
  const p1 = a.cancel("r1").then(() => { settled = true; });
  await flushAsyncEvents();
  assert_false(settled, "the first branch's cancel waits for the second");
  await b.cancel("r2");
  await p1;
}, "canceling one branch completes only once both are canceled");

promise_test(async (t) => {
  const rs = new ReadableStream({ cancel() { throw error1; } });
  const [a, b] = rs.tee();
  await Promise.all([
    promise_rejects_exactly(t, error1, a.cancel()),
    promise_rejects_exactly(t, error1, b.cancel()),
  ]);
}, "a failing cancel of the original rejects both branch cancels");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const [a, b] = rs.tee();
  const p = a.cancel();
  c.close();
  await p;
  await b.getReader().closed;
}, "a canceled branch's cancel completes when the original closes");

promise_test(async () => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const [a, b] = rs.tee();
  const p = a.cancel();
  c.error(error1);
  await p;
}, "a canceled branch's cancel fulfills when the original errors");

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const [a, b] = rs.tee();
  await Promise.all([a.cancel(), b.cancel()].map((p) => p.catch(() => {})));
  c.error(error1);
  await b.getReader().closed;
}, "erroring the original after both branches canceled leaves them closed");

promise_test(async () => {
  let pulls = 0;
  const rs = new ReadableStream({
    pull(c) {
      pulls++;
      c.enqueue(pulls);
    },
  });
  rs.tee();
  await flushAsyncEvents();
  assert_equals(pulls, 2,
    "the branches (HWM 1) each hold one chunk; the original holds one more");
}, "tee() pulls only until the branches' queues are full");

promise_test(async () => {
  let pulls = 0;
  const rs = new ReadableStream({
    pull(c) {
      pulls++;
      c.enqueue(pulls);
    },
  }, { highWaterMark: 0 });
  const [a, b] = rs.tee();
  await flushAsyncEvents();
  const before = pulls;
  const ra = a.getReader();
  await ra.read();
  await ra.read();
  await ra.read();
  await flushAsyncEvents();
  assert_less_than_equal(pulls - before, 4, "reading one branch pulls about one chunk per read");
  const rb = b.getReader();
  const values = [];
  for (let i = 0; i < 3; i++) values.push((await rb.read()).value);
  assert_array_equals(values, [1, 2, 3], "the other branch buffered what it missed, in order");
}, "the slower branch buffers chunks read by the faster one");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.error(error1); }, pull() { assert_unreached("no pull"); } });
  const [a, b] = rs.tee();
  await a.getReader().closed.catch(() => {});
  await b.getReader().closed.catch(() => {});
}, "tee() of an errored stream errors both branches without pulling");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue(1); c.close(); } });
  const [a, b] = rs.tee();
  const [a1, a2] = a.tee();
  assert_array_equals(await readAll(a1), [1]);
  assert_array_equals(await readAll(a2), [1]);
  assert_array_equals(await readAll(b), [1]);
}, "branches can be teed again");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue(1); c.close(); } });
  const Saved = globalThis.ReadableStream;
  globalThis.ReadableStream = function () { throw new Error("global constructor used"); };
  let branches;
  try {
    branches = rs.tee();
  } finally {
    globalThis.ReadableStream = Saved;
  }
  assert_true(branches[0] instanceof Saved);
  assert_array_equals(await readAll(branches[0]), [1]);
}, "tee() does not use the (patchable) global ReadableStream");

test((t) => {
  const rs = new ReadableStream();
  const saved = Promise.prototype.then;
  Promise.prototype.then = () => { throw new Error("patched then() called"); };
  let branches;
  try {
    branches = rs.tee();
  } finally {
    Promise.prototype.then = saved;
  }
  assert_true(branches[1] instanceof ReadableStream);
}, "tee() does not call the patchable Promise.prototype.then");

test(() => {
  const rs = new ReadableStream();
  const keys = ["highWaterMark", "size", "start", "type", "mode"];
  for (const key of keys) {
    Object.defineProperty(Object.prototype, key, {
      get() { throw new Error(`${key} getter called`); },
      configurable: true,
    });
  }
  try {
    const [a, b] = rs.tee();
    assert_true(a instanceof ReadableStream && b instanceof ReadableStream);
  } finally {
    for (const key of keys) delete Object.prototype[key];
  }
}, "tee() does not read Object.prototype properties");

promise_test(async () => {
  let n = 0;
  const rs = new ReadableStream({
    pull(c) {
      if (n === 100) { c.close(); return; }
      c.enqueue(n++);
    },
  });
  const [a, b] = rs.tee();
  const [ca, cb] = await Promise.all([readAll(a), readAll(b)]);
  const expected = Array.from({ length: 100 }, (_, i) => i);
  assert_array_equals(ca, expected, "no chunk lost or duplicated in branch 1");
  assert_array_equals(cb, expected, "no chunk lost or duplicated in branch 2");
}, "tee() neither loses nor duplicates chunks when both branches read concurrently");
