// META: script=resources/helpers.js
// pipeTo() and pipeThrough(): locking, options, propagation of closing and errors in both
// directions, AbortSignal, and flow control.
"use strict";

const error1 = namedError("error1");
const error2 = namedError("error2");

function chunksStream(chunks, extras = {}) {
  return recordingReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      if (extras.close !== false) c.close();
    },
    ...extras,
  });
}

// --- arguments and locking --------------------------------------------------------------------

promise_test(async (t) => {
  const ws = new WritableStream();
  await promise_rejects_js(t, TypeError, ReadableStream.prototype.pipeTo.call({}, ws));
  await promise_rejects_js(t, TypeError, ReadableStream.prototype.pipeTo.call(undefined, ws));
}, "pipeTo() rejects when this is not a ReadableStream");

promise_test(async (t) => {
  const rs = new ReadableStream();
  for (const bad of [undefined, null, {}, new ReadableStream(), "ws"]) {
    await promise_rejects_js(t, TypeError, rs.pipeTo(bad), String(bad));
  }
  assert_false(rs.locked, "a failed conversion does not lock the source");
}, "pipeTo() rejects when the destination is not a WritableStream");

promise_test(async (t) => {
  const rs = new ReadableStream();
  const ws = new WritableStream();
  await promise_rejects_js(t, TypeError, rs.pipeTo(ws, 5));
  await promise_rejects_js(t, TypeError, rs.pipeTo(ws, { signal: {} }));
  await promise_rejects_js(t, TypeError, rs.pipeTo(ws, { signal: null }));
  assert_false(rs.locked);
  assert_false(ws.locked);
}, "pipeTo() rejects bad options without locking anything");

promise_test(async (t) => {
  const record = [];
  const options = {};
  for (const key of ["preventAbort", "preventCancel", "preventClose", "signal"]) {
    Object.defineProperty(options, key, { get() { record.push(key); return undefined; } });
  }
  await new ReadableStream({ start(c) { c.close(); } }).pipeTo(new WritableStream(), options);
  assert_array_equals(record, ["preventAbort", "preventCancel", "preventClose", "signal"]);
}, "pipeTo() reads its options in lexicographic order");

for (const key of ["preventAbort", "preventCancel", "preventClose", "signal"]) {
  promise_test(async (t) => {
    const rs = new ReadableStream();
    const ws = new WritableStream();
    const options = { get [key]() { throw error1; } };
    await promise_rejects_exactly(t, error1, rs.pipeTo(ws, options));
    assert_false(rs.locked);
    assert_false(ws.locked);
  }, `pipeTo() rejects when getting ${key} throws, before locking`);

  test(() => {
    const rs = new ReadableStream();
    const ts = new TransformStream();
    assert_throws_exactly(error1, () => rs.pipeThrough(ts, { get [key]() { throw error1; } }));
    assert_false(rs.locked);
  }, `pipeThrough() throws when getting ${key} throws, before locking`);
}

promise_test(async (t) => {
  const rs = new ReadableStream();
  rs.getReader();
  await promise_rejects_js(t, TypeError, rs.pipeTo(new WritableStream()));
  const rs2 = new ReadableStream();
  const ws = new WritableStream();
  ws.getWriter();
  await promise_rejects_js(t, TypeError, rs2.pipeTo(ws));
  assert_false(rs2.locked, "the source is not locked when the destination is");
}, "pipeTo() rejects when either stream is locked");

test(() => {
  const rs = new ReadableStream();
  const ws = new WritableStream();
  rs.pipeTo(ws);
  assert_true(rs.locked);
  assert_true(ws.locked);
}, "pipeTo() locks both streams");

promise_test(async () => {
  const rs = chunksStream(["a"]);
  const ws = new WritableStream();
  await rs.pipeTo(ws);
  assert_false(rs.locked);
  assert_false(ws.locked);
}, "pipeTo() unlocks both streams when it finishes");

promise_test(async () => {
  const rs = chunksStream([]);
  const ws = new WritableStream();
  assert_equals(await rs.pipeTo(ws, null), undefined);
}, "pipeTo() accepts null options and fulfills with undefined");

// --- closing propagates forward -----------------------------------------------------------------

promise_test(async () => {
  const rs = chunksStream(["a", "b"]);
  const ws = recordingWritableStream();
  await rs.pipeTo(ws);
  assert_array_equals(ws.events, ["write", "a", "write", "b", "close"]);
}, "closing the source closes the destination after all chunks are written");

promise_test(async () => {
  const rs = chunksStream(["a"]);
  const ws = recordingWritableStream();
  await rs.pipeTo(ws, { preventClose: true });
  assert_array_equals(ws.events, ["write", "a"]);
  const writer = ws.getWriter();
  await writer.write("b");
  assert_array_equals(ws.events, ["write", "a", "write", "b"], "the destination is still usable");
}, "preventClose leaves the destination open");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.close(); } });
  const ws = recordingWritableStream();
  await rs.pipeTo(ws);
  assert_array_equals(ws.events, ["close"]);
}, "piping an already closed source closes the destination");

promise_test(async (t) => {
  const rs = chunksStream(["a"]);
  const ws = recordingWritableStream({ close() { throw error1; } });
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws));
}, "a failing close of the destination rejects pipeTo()");

// StreamPipeOptions' members are IDL booleans: any value is converted with ToBoolean.
const TRUTHY = ["yes", 1, {}, [], -1n];
const FALSY = ["", 0, NaN, null, 0n];

promise_test(async () => {
  for (const value of [...TRUTHY, ...FALSY]) {
    const prevented = TRUTHY.includes(value);
    const rs = chunksStream(["a"]);
    const ws = recordingWritableStream();
    await rs.pipeTo(ws, { preventClose: value });
    assert_array_equals(ws.events, prevented ? ["write", "a"] : ["write", "a", "close"],
                        `preventClose: ${String(value)}`);
  }
}, "preventClose is converted to a boolean");

promise_test(async (t) => {
  for (const value of [...TRUTHY, ...FALSY]) {
    const prevented = TRUTHY.includes(value);
    const rs = new ReadableStream({ start(c) { c.error(error1); } });
    const ws = recordingWritableStream();
    await promise_rejects_exactly(t, error1, rs.pipeTo(ws, { preventAbort: value }));
    assert_array_equals(ws.events, prevented ? [] : ["abort", error1],
                        `preventAbort: ${String(value)}`);
  }
}, "preventAbort is converted to a boolean");

promise_test(async (t) => {
  for (const value of [...TRUTHY, ...FALSY]) {
    const prevented = TRUTHY.includes(value);
    const rs = recordingReadableStream();
    const ws = new WritableStream({ start(c) { c.error(error1); } });
    await promise_rejects_exactly(t, error1, rs.pipeTo(ws, { preventCancel: value }));
    assert_array_equals(rs.eventsWithoutPulls, prevented ? [] : ["cancel", error1],
                        `preventCancel: ${String(value)}`);
  }
}, "preventCancel is converted to a boolean");

// --- errors propagate forward --------------------------------------------------------------------

promise_test(async (t) => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const ws = recordingWritableStream();
  const pipe = rs.pipeTo(ws);
  c.enqueue("a");
  await flushAsyncEvents();
  c.error(error1);
  await promise_rejects_exactly(t, error1, pipe);
  assert_array_equals(ws.events, ["write", "a", "abort", error1]);
}, "an error of the source aborts the destination with it");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const ws = recordingWritableStream();
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws));
  assert_array_equals(ws.events, ["abort", error1]);
}, "piping an already errored source aborts the destination");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const ws = recordingWritableStream();
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws, { preventAbort: true }));
  assert_array_equals(ws.events, []);
  assert_false(ws.locked);
}, "preventAbort leaves the destination alone");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const ws = recordingWritableStream({ abort() { throw error2; } });
  await promise_rejects_exactly(t, error2, rs.pipeTo(ws), "the abort's failure wins");
}, "a failing abort of the destination rejects pipeTo() with that failure");

// --- errors propagate backward ---------------------------------------------------------------------

promise_test(async (t) => {
  const rs = recordingReadableStream({ pull(c) { c.enqueue("x"); } });
  const ws = new WritableStream({ write() { throw error1; } });
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws));
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", error1]);
}, "an error of the destination cancels the source with it");

promise_test(async (t) => {
  const rs = recordingReadableStream();
  const ws = new WritableStream({ start(c) { c.error(error1); } });
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws));
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", error1]);
}, "piping to an already errored destination cancels the source");

promise_test(async (t) => {
  const rs = recordingReadableStream({ pull(c) { c.enqueue("x"); } });
  const ws = new WritableStream({ write() { throw error1; } });
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws, { preventCancel: true }));
  assert_array_equals(rs.eventsWithoutPulls, []);
  assert_false(rs.locked);
}, "preventCancel leaves the source alone");

promise_test(async (t) => {
  const rs = recordingReadableStream({ cancel() { throw error2; } });
  const ws = new WritableStream({ start(c) { c.error(error1); } });
  await promise_rejects_exactly(t, error2, rs.pipeTo(ws));
}, "a failing cancel of the source rejects pipeTo() with that failure");

// --- closing propagates backward -----------------------------------------------------------------

promise_test(async (t) => {
  const rs = recordingReadableStream();
  const ws = new WritableStream();
  await ws.close();
  await promise_rejects_js(t, TypeError, rs.pipeTo(ws));
  assert_equals(rs.eventsWithoutPulls[0], "cancel");
  assert_true(rs.eventsWithoutPulls[1] instanceof TypeError);
}, "piping to a closed destination cancels the source with a TypeError");

promise_test(async (t) => {
  const rs = recordingReadableStream();
  const ws = new WritableStream({ close() { return delay(5); } });
  const writer = ws.getWriter();
  writer.close();
  writer.releaseLock();
  await promise_rejects_js(t, TypeError, rs.pipeTo(ws));
  assert_equals(rs.eventsWithoutPulls[0], "cancel");
}, "piping to a closing destination cancels the source");

promise_test(async (t) => {
  const rs = recordingReadableStream();
  const ws = new WritableStream();
  await ws.close();
  await promise_rejects_js(t, TypeError, rs.pipeTo(ws, { preventCancel: true }));
  assert_array_equals(rs.eventsWithoutPulls, []);
}, "preventCancel with a closed destination rejects without canceling");

// --- both ends fail --------------------------------------------------------------------------------

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const ws = new WritableStream({ start(c) { c.error(error2); } });
  // The source's error is seen first and the destination is aborted; aborting a stream that
  // is still erroring (its start has not completed) fails with the destination's error.
  await promise_rejects_exactly(t, error2, rs.pipeTo(ws));
  await promise_rejects_exactly(t, error1, rs.getReader().closed);
  await promise_rejects_exactly(t, error2, ws.getWriter().closed);
}, "an errored source and an erroring destination: the abort fails with the destination's error");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const ws = new WritableStream({ start(c) { c.error(error2); } });
  await flushAsyncEvents();
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws), "the source's error is checked first");
}, "an errored source and an errored destination: the source's error wins");

promise_test(async (t) => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const ws = new WritableStream();
  await ws.close();
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws));
}, "an errored source and a closed destination: the source's error wins");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.close(); } });
  const ws = recordingWritableStream();
  await ws.close();
  ws.events.length = 0;
  await rs.pipeTo(ws);
  assert_array_equals(ws.events, []);
}, "a closed source and a closed destination: pipeTo() fulfills");

// --- writes in flight at shutdown ----------------------------------------------------------------

promise_test(async (t) => {
  let c;
  let resolveWrite;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const ws = recordingWritableStream({ write() { return new Promise((r) => { resolveWrite = r; }); } });
  const pipe = rs.pipeTo(ws);
  c.enqueue("a");
  await flushAsyncEvents();
  c.error(error1);
  await flushAsyncEvents();
  assert_array_equals(ws.events, ["write", "a"], "the abort waits for the write in flight");
  resolveWrite();
  await promise_rejects_exactly(t, error1, pipe);
  assert_array_equals(ws.events, ["write", "a", "abort", error1]);
}, "shutdown waits for the write in flight before aborting");

promise_test(async () => {
  const rs = chunksStream(["a", "b", "c"]);
  const ws = recordingWritableStream({ write() { return delay(2); } }, { highWaterMark: 10 });
  await rs.pipeTo(ws);
  assert_array_equals(ws.events, ["write", "a", "write", "b", "write", "c", "close"]);
}, "every chunk read is written before the destination is closed");

// --- AbortSignal -----------------------------------------------------------------------------------

promise_test(async (t) => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream();
  const signal = AbortSignal.abort(error1);
  await promise_rejects_exactly(t, error1, rs.pipeTo(ws, { signal }));
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", error1]);
  assert_array_equals(ws.events, ["abort", error1]);
  assert_false(rs.locked);
  assert_false(ws.locked);
}, "an already aborted signal cancels and aborts with its reason");

promise_test(async (t) => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream();
  const controller = new AbortController();
  const pipe = rs.pipeTo(ws, { signal: controller.signal });
  await flushAsyncEvents();
  controller.abort(error1);
  await promise_rejects_exactly(t, error1, pipe);
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", error1]);
  assert_array_equals(ws.events, ["abort", error1]);
}, "aborting the signal during the pipe cancels the source and aborts the destination");

promise_test(async (t) => {
  const rs = recordingReadableStream();
  const ws = recordingWritableStream();
  const controller = new AbortController();
  const pipe = rs.pipeTo(ws, { signal: controller.signal });
  controller.abort();
  const e = await pipe.then(() => assert_unreached(), (err) => err);
  assert_equals(e.name, "AbortError");
  assert_true(e instanceof DOMException);
}, "aborting without a reason rejects with an AbortError DOMException");

for (const [options, expectCancel, expectAbort] of [
  [{ preventAbort: true }, true, false],
  [{ preventCancel: true }, false, true],
  [{ preventAbort: true, preventCancel: true }, false, false],
]) {
  promise_test(async (t) => {
    const rs = recordingReadableStream();
    const ws = recordingWritableStream();
    const signal = AbortSignal.abort(error1);
    await promise_rejects_exactly(t, error1, rs.pipeTo(ws, { ...options, signal }));
    assert_array_equals(rs.eventsWithoutPulls, expectCancel ? ["cancel", error1] : []);
    assert_array_equals(ws.events, expectAbort ? ["abort", error1] : []);
  }, `abort signal with ${JSON.stringify(options)}`);
}

promise_test(async (t) => {
  const rs = recordingReadableStream({ cancel() { throw error2; } });
  const ws = new WritableStream();
  await promise_rejects_exactly(t, error2, rs.pipeTo(ws, { signal: AbortSignal.abort(error1) }));
}, "a failing cancel during an abort rejects pipeTo() with that failure");

promise_test(async () => {
  const controller = new AbortController();
  const rs = chunksStream(["a"]);
  const ws = new WritableStream();
  await rs.pipeTo(ws, { signal: controller.signal });
  controller.abort(error1);
  assert_false(ws.locked, "aborting after the pipe finished changes nothing");
}, "aborting the signal after the pipe finished is a no-op");

promise_test(async () => {
  const controller = new AbortController();
  const rs1 = chunksStream(["a"], { close: false });
  const ws = recordingWritableStream();
  const pipe1 = rs1.pipeTo(ws, { preventAbort: true, signal: controller.signal });
  await flushAsyncEvents();
  controller.abort(error1);
  await pipe1.catch(() => {});
  await chunksStream(["b"]).pipeTo(ws);
  assert_array_equals(ws.events, ["write", "a", "write", "b", "close"]);
}, "a signal with preventAbort lets a destination be reused for another pipe");

// --- flow control ----------------------------------------------------------------------------------

promise_test(async () => {
  let pulls = 0;
  const rs = new ReadableStream({ pull(c) { pulls++; c.enqueue(pulls); } }, { highWaterMark: 0 });
  const ws = new WritableStream({ write() { return new Promise(() => {}); } }, { highWaterMark: 2 });
  rs.pipeTo(ws);
  await delay(20);
  assert_equals(pulls, 2, "one chunk in flight and one queued fill the destination (HWM 2)");
}, "pipeTo() does not read while the destination applies backpressure");

promise_test(async () => {
  const written = [];
  let releaseWrite;
  const rs = chunksStream([1, 2, 3, 4, 5]);
  const ws = new WritableStream({
    write(chunk) {
      written.push(chunk);
      return new Promise((r) => { releaseWrite = r; });
    },
  }, { highWaterMark: 1 });
  const pipe = rs.pipeTo(ws);
  for (let i = 0; i < 5; i++) {
    await flushAsyncEvents();
    releaseWrite();
  }
  await pipe;
  assert_array_equals(written, [1, 2, 3, 4, 5]);
}, "a slow destination receives every chunk in order");

promise_test(async () => {
  const rs = new ReadableStream({
    start(c) {
      c.enqueue("a");
      c.enqueue("b");
      c.close();
    },
  });
  const ws = new WritableStream(undefined, new CountQueuingStrategy({ highWaterMark: 0 }));
  const writer = ws.getWriter();
  const ready = writer.ready;
  writer.releaseLock();
  const pipe = rs.pipeTo(ws);
  await assertPending(pipe, "nothing is read while a HWM 0 destination is not ready");
  void ready;
}, "with a zero high water mark destination, the pipe waits for readiness");

// --- pipeThrough -----------------------------------------------------------------------------------

promise_test(async () => {
  const rs = chunksStream(["a", "b"]);
  const out = rs.pipeThrough(new TransformStream({ transform(c, ctl) { ctl.enqueue(c.toUpperCase()); } }));
  assert_array_equals(await readAll(out), ["A", "B"]);
}, "pipeThrough() pipes into the writable side and returns the readable side");

test(() => {
  const rs = new ReadableStream();
  const readable = new ReadableStream();
  const writable = new WritableStream();
  assert_equals(rs.pipeThrough({ readable, writable }), readable);
  assert_true(rs.locked);
  assert_true(writable.locked);
  assert_false(readable.locked);
}, "pipeThrough() accepts any { readable, writable } pair and returns its readable");

test(() => {
  const rs = new ReadableStream();
  assert_throws_js(TypeError, () => rs.pipeThrough());
  assert_throws_js(TypeError, () => rs.pipeThrough({}));
  assert_throws_js(TypeError, () => rs.pipeThrough({ readable: new ReadableStream() }));
  assert_throws_js(TypeError, () => rs.pipeThrough({ writable: new WritableStream() }));
  assert_throws_js(TypeError, () => rs.pipeThrough({ readable: {}, writable: new WritableStream() }));
  assert_throws_js(TypeError, () => rs.pipeThrough({ readable: new ReadableStream(), writable: {} }));
  assert_false(rs.locked);
}, "pipeThrough() requires a real readable and writable");

test(() => {
  const record = [];
  const pair = {
    get readable() { record.push("readable"); return new ReadableStream(); },
    get writable() { record.push("writable"); return new WritableStream(); },
  };
  new ReadableStream().pipeThrough(pair);
  assert_array_equals(record, ["readable", "writable"]);
}, "pipeThrough() reads readable then writable");

test(() => {
  const rs = new ReadableStream();
  rs.getReader();
  assert_throws_js(TypeError, () => rs.pipeThrough(new TransformStream()));
  const rs2 = new ReadableStream();
  const ts = new TransformStream();
  ts.writable.getWriter();
  assert_throws_js(TypeError, () => rs2.pipeThrough(ts));
  assert_false(rs2.locked);
}, "pipeThrough() throws when the source or the writable side is locked");

test(() => {
  assert_throws_js(TypeError, () => ReadableStream.prototype.pipeThrough.call({}, new TransformStream()));
}, "pipeThrough() throws when this is not a ReadableStream");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.error(error1); } });
  const ts = new TransformStream();
  const out = rs.pipeThrough(ts);
  let caught;
  await out.getReader().closed.catch((e) => { caught = e; });
  assert_equals(caught, error1, "the error flows through the transform");
}, "pipeThrough() propagates errors and does not report an unhandled rejection");

promise_test(async () => {
  const rs = chunksStream([1, 2, 3]);
  const out = rs
    .pipeThrough(new TransformStream({ transform(c, ctl) { ctl.enqueue(c * 10); } }))
    .pipeThrough(new TransformStream({ transform(c, ctl) { ctl.enqueue(c + 1); } }));
  assert_array_equals(await readAll(out), [11, 21, 31]);
}, "pipeThrough() chains");

promise_test(async () => {
  const ws = recordingWritableStream();
  const controller = new AbortController();
  const ts = new TransformStream();
  const rs = recordingReadableStream();
  rs.pipeThrough(ts, { signal: controller.signal });
  const done = ts.readable.pipeTo(ws);
  await flushAsyncEvents();
  controller.abort(error1);
  await done.catch(() => {});
  assert_array_equals(rs.eventsWithoutPulls, ["cancel", error1]);
}, "pipeThrough() passes its signal to the pipe");

// --- patched globals -----------------------------------------------------------------------------

test(() => {
  const saved = Promise.prototype.then;
  Promise.prototype.then = () => { throw new Error("patched then() called"); };
  try {
    let c;
    const rs = new ReadableStream({ start(controller) { c = controller; } });
    rs.pipeTo(new WritableStream());
    c.close();
  } finally {
    Promise.prototype.then = saved;
  }
}, "pipeTo() does not call the patchable Promise.prototype.then");

promise_test(async (t) => {
  const intercepted = [];
  const rs = chunksStream(["a"]);
  const ws = recordingWritableStream();
  Object.prototype.then = function (resolve) {
    intercepted.push(this);
    delete Object.prototype.then;
    resolve(this);
  };
  t.add_cleanup(() => { delete Object.prototype.then; });
  await rs.pipeTo(ws);
  delete Object.prototype.then;
  assert_array_equals(intercepted, [], "nothing was resolved through Object.prototype.then");
  assert_array_equals(ws.events, ["write", "a", "close"]);
}, "piping resolves no internal promise with an object (Object.prototype.then is not consulted)");

promise_test(async (t) => {
  const intercepted = [];
  const rs = chunksStream(["a"]);
  const [b1, b2] = rs.tee();
  const ws = recordingWritableStream();
  Object.prototype.then = function (resolve) {
    intercepted.push(this);
    delete Object.prototype.then;
    resolve(this);
  };
  t.add_cleanup(() => { delete Object.prototype.then; });
  await b1.pipeTo(ws);
  delete Object.prototype.then;
  b2.cancel();
  assert_array_equals(intercepted, []);
  assert_array_equals(ws.events, ["write", "a", "close"]);
}, "piping a tee branch is not observable through Object.prototype.then");
