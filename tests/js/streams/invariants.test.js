// META: script=resources/helpers.js
// Invariants that must hold whatever the timing: no chunk lost or duplicated, pull never
// re-entered, high water marks respected, the standard's promise ordering, robustness
// against patched globals and bad input.
"use strict";

/** A small deterministic PRNG so the "random" schedules are reproducible. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

for (const seed of [1, 2, 3]) {
  promise_test(async () => {
    const rand = prng(seed);
    const N = 150;
    let produced = 0;
    let pulling = false;
    const source = new ReadableStream({
      async pull(c) {
        assert_false(pulling, "pull re-entered");
        pulling = true;
        if (rand() < 0.3) await delay(0);
        const burst = 1 + Math.floor(rand() * 3);
        for (let i = 0; i < burst && produced < N; i++) c.enqueue(produced++);
        if (produced === N) c.close();
        pulling = false;
      },
    }, { highWaterMark: Math.floor(rand() * 4) });
    const received = [];
    const sink = new WritableStream({
      async write(chunk) {
        if (rand() < 0.3) await delay(0);
        received.push(chunk);
      },
    }, { highWaterMark: 1 + Math.floor(rand() * 3) });
    await source
      .pipeThrough(new TransformStream({
        async transform(chunk, c) {
          if (rand() < 0.2) await delay(0);
          c.enqueue(chunk);
        },
        // A writable side with high water mark 0 always applies backpressure: nothing could
        // ever be piped into it, so it starts at 1.
      }, { highWaterMark: 1 + Math.floor(rand() * 3) }, { highWaterMark: Math.floor(rand() * 3) }))
      .pipeTo(sink);
    assert_array_equals(received, Array.from({ length: N }, (_, i) => i));
  }, `a pipe chain under random delays loses and duplicates nothing (seed ${seed})`);
}

for (const seed of [11, 12]) {
  promise_test(async () => {
    const rand = prng(seed);
    const N = 120;
    let produced = 0;
    const source = new ReadableStream({
      pull(c) {
        c.enqueue(produced++);
        if (produced === N) c.close();
        return rand() < 0.5 ? delay(0) : undefined;
      },
    });
    const [a, b] = source.tee();
    async function slowRead(stream) {
      const reader = stream.getReader();
      const out = [];
      for (;;) {
        if (rand() < 0.3) await delay(0);
        const { value, done } = await reader.read();
        if (done) return out;
        out.push(value);
      }
    }
    const [ra, rb] = await Promise.all([slowRead(a), slowRead(b)]);
    const expected = Array.from({ length: N }, (_, i) => i);
    assert_array_equals(ra, expected);
    assert_array_equals(rb, expected);
  }, `tee branches read at different speeds see every chunk once (seed ${seed})`);
}

promise_test(async () => {
  let pulls = 0;
  let pending = 0;
  let maxPending = 0;
  const rs = new ReadableStream({
    pull(c) {
      pulls++;
      pending++;
      maxPending = Math.max(maxPending, pending);
      return delay(1).then(() => {
        pending--;
        c.enqueue(pulls);
      });
    },
  }, { highWaterMark: 5 });
  const reader = rs.getReader();
  const reads = [];
  for (let i = 0; i < 20; i++) reads.push(reader.read());
  await Promise.all(reads);
  assert_equals(maxPending, 1, "pull is never called while a previous pull is pending");
}, "pull() is never re-entered, even with many pending reads");

promise_test(async () => {
  let c;
  let maxQueued = 0;
  const rs = new ReadableStream({
    start(controller) { c = controller; },
    pull(controller) {
      controller.enqueue("x");
      maxQueued = Math.max(maxQueued, 3 - controller.desiredSize);
    },
  }, { highWaterMark: 3 });
  await delay(10);
  assert_equals(c.desiredSize, 0, "the source filled the queue exactly to the high water mark");
  assert_equals(maxQueued, 3, "and never beyond it");
  const reader = rs.getReader();
  await reader.read();
  await flushAsyncEvents();
  assert_equals(c.desiredSize, 0, "a read is refilled, no more");
}, "a pull source fills the queue up to the high water mark and stops");

promise_test(async () => {
  const seen = [];
  let resolveWrite;
  const ws = new WritableStream({
    write() { return new Promise((r) => { resolveWrite = r; }); },
  }, { highWaterMark: 3 });
  const writer = ws.getWriter();
  for (let i = 0; i < 5; i++) {
    writer.write(i);
    seen.push(writer.desiredSize);
  }
  assert_array_equals(seen, [2, 1, 0, -1, -2]);
  for (let i = 0; i < 5; i++) {
    await flushAsyncEvents();
    resolveWrite();
  }
  await flushAsyncEvents();
  assert_equals(writer.desiredSize, 3);
}, "writer.desiredSize goes down with each write and back up as they finish");

promise_test(async () => {
  const order = [];
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  reader.read().then(() => order.push("read1"));
  reader.read().then(() => order.push("read2"));
  reader.closed.then(() => order.push("closed"));
  c.enqueue("a");
  c.close();
  await flushAsyncEvents();
  assert_array_equals(order, ["read1", "closed", "read2"]);
}, "ordering: a chunk fulfils read 1, closing resolves closed then fulfils read 2 with done");

promise_test(async () => {
  const order = [];
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } });
  const reader = rs.getReader();
  reader.read().catch(() => order.push("read"));
  reader.closed.catch(() => order.push("closed"));
  c.error(new Error("x"));
  await flushAsyncEvents();
  assert_array_equals(order, ["closed", "read"]);
}, "ordering: erroring rejects closed before pending reads");

promise_test(async () => {
  const order = [];
  const ws = new WritableStream({ write() {}, close() {} });
  const writer = ws.getWriter();
  writer.ready.then(() => order.push("ready"));
  writer.write("a").then(() => order.push("write"));
  writer.close().then(() => order.push("close"));
  writer.closed.then(() => order.push("closed"));
  await flushAsyncEvents();
  assert_array_equals(order, ["ready", "write", "close", "closed"]);
}, "ordering: ready, write, close, closed");

promise_test(async () => {
  const order = [];
  // The first write is in flight until the test finishes it (a timer would race a loaded
  // machine: the write could be over before the abort comes).
  let finishWrite;
  const ws = new WritableStream({ write() { return new Promise((r) => { finishWrite = r; }); } });
  const writer = ws.getWriter();
  writer.write("a").then(() => order.push("write"), () => order.push("write rejected"));
  writer.write("b").then(() => order.push("write2"), () => order.push("write2 rejected"));
  await flushAsyncEvents();
  writer.abort("r").then(() => order.push("abort"));
  writer.closed.catch(() => order.push("closed rejected"));
  await flushAsyncEvents();
  assert_array_equals(order, [], "nothing settles while the write is in flight");
  finishWrite();
  await flushAsyncEvents();
  assert_array_equals(order, ["write", "write2 rejected", "abort", "closed rejected"]);
}, "ordering: an abort during a write settles after it, before closed rejects");

promise_test(async () => {
  const ws = new WritableStream({}, { highWaterMark: 0 });
  const rs = new ReadableStream({ start(c) { c.enqueue(1); c.close(); } });
  const pipe = rs.pipeTo(ws);
  await assertPending(pipe, "a destination with high water mark 0 is never ready");
  assert_true(rs.locked);
}, "piping into a writable stream whose high water mark is 0 waits for readiness forever");

// --- robustness -------------------------------------------------------------------------------

test(() => {
  const weird = [undefined, null, 0, -1, NaN, Infinity, "", "x", {}, [], () => {}, Symbol("s"),
    10n, new Proxy({}, {}), Object.create(null)];
  const calls = [];
  const rs = new ReadableStream();
  const reader = rs.getReader();
  const bs = new ReadableStream({ type: "bytes" });
  const byob = bs.getReader({ mode: "byob" });
  const ws = new WritableStream();
  const writer = ws.getWriter();
  for (const v of weird) {
    calls.push(() => new ReadableStream(v));
    calls.push(() => new ReadableStream({}, v));
    calls.push(() => new WritableStream(v));
    calls.push(() => new TransformStream(v));
    calls.push(() => new CountQueuingStrategy(v));
    calls.push(() => new ByteLengthQueuingStrategy(v));
    calls.push(() => new ReadableStream().getReader(v));
    calls.push(() => new ReadableStream().pipeThrough(v));
    calls.push(() => new ReadableStream().values(v));
    calls.push(() => ReadableStream.from(v));
    calls.push(() => new TextDecoderStream(v));
    calls.push(() => reader.read(v));
    calls.push(() => byob.read(v));
    calls.push(() => byob.read(new Uint8Array(1), v));
    calls.push(() => writer.write(v));
  }
  for (const call of calls) {
    try {
      const r = call();
      if (r && typeof r.then === "function") r.then(() => {}, () => {});
    } catch (e) {
      assert_true(e instanceof TypeError || e instanceof RangeError || e?.name === "Error",
        `only TypeError or RangeError, got ${e}`);
    }
  }
}, "bad arguments throw only TypeErrors or RangeErrors");

promise_test(async () => {
  const savedPush = Array.prototype.push;
  const savedShift = Array.prototype.shift;
  const savedThen = Promise.prototype.then;
  const savedResolve = Promise.resolve;
  Array.prototype.push = function () { throw new Error("patched push"); };
  Array.prototype.shift = function () { throw new Error("patched shift"); };
  Promise.resolve = function () { throw new Error("patched Promise.resolve"); };
  let done;
  try {
    const rs = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } });
    const ws = new WritableStream({ write() {} });
    Promise.prototype.then = function (f, r) { return savedThen.call(this, f, r); };
    done = rs.pipeThrough(new TransformStream()).pipeTo(ws);
  } finally {
    Array.prototype.push = savedPush;
    Array.prototype.shift = savedShift;
    Promise.resolve = savedResolve;
    Promise.prototype.then = savedThen;
  }
  await done;
}, "streams keep working while built-ins are patched");

promise_test(async (t) => {
  Object.defineProperty(Object.prototype, "then", {
    get() { throw new Error("then getter"); },
    configurable: true,
  });
  t.add_cleanup(() => { delete Object.prototype.then; });
  const rs = new ReadableStream({ start(c) { c.enqueue(1); c.close(); } });
  const ws = new WritableStream();
  const p = rs.pipeTo(ws);
  delete Object.prototype.then;
  await p;
}, "a throwing Object.prototype.then getter does not break piping");

promise_test(async () => {
  let errorsReported = 0;
  const rs = new ReadableStream({ pull() { throw new Error("x"); } });
  rs.getReader().closed.catch(() => { errorsReported++; });
  await flushAsyncEvents();
  assert_equals(errorsReported, 1);
}, "errors reach the closed promise (no crash, no hang)");

promise_test(async () => {
  // A source that enqueues synchronously inside pull, forever: reading must not blow the stack.
  let n = 0;
  const rs = new ReadableStream({ pull(c) { c.enqueue(n++); } }, { highWaterMark: 0 });
  const reader = rs.getReader();
  for (let i = 0; i < 10000; i++) await reader.read();
  await reader.cancel();
  assert_equals(n, 10000);
}, "many reads in a row work without growing the stack");

promise_test(async () => {
  const chunks = 5000;
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } }, { highWaterMark: Infinity });
  for (let i = 0; i < chunks; i++) c.enqueue(i);
  c.close();
  const got = await readAll(rs);
  assert_equals(got.length, chunks);
  assert_equals(got[chunks - 1], chunks - 1);
}, "a long queue is read in order");

test((t) => {
  const keys = ["highWaterMark", "size", "preventAbort", "preventCancel", "preventClose", "mode",
    "min", "type", "start", "pull", "cancel", "signal"];
  for (const key of keys) {
    Object.defineProperty(Object.prototype, key, {
      get() { return undefined; },
      set() { throw new Error(`${key} setter called`); },
      configurable: true,
    });
  }
  t.add_cleanup(() => { for (const key of keys) delete Object.prototype[key]; });
  const ts = new TransformStream();
  new ReadableStream({}, {}).getReader({});
  new WritableStream({}, {});
  const rs = new ReadableStream({ type: "bytes" });
  rs.getReader({ mode: "byob" }).read(new Uint8Array(1), {}).catch(() => {});
  new ReadableStream().pipeTo(new WritableStream(), {}).catch(() => {});
  new ReadableStream().values({});
  for (const key of keys) delete Object.prototype[key];
  assert_true(ts.readable instanceof ReadableStream);
}, "setters on Object.prototype are never called while converting dictionaries");

test((t) => {
  Object.defineProperty(Object.prototype, "type", { get() { return "bytes"; }, configurable: true });
  Object.defineProperty(Object.prototype, "mode", { get() { return "byob"; }, configurable: true });
  t.add_cleanup(() => { delete Object.prototype.type; delete Object.prototype.mode; });
  // Per Web IDL the getters are consulted on the argument objects (via their prototype),
  // so this really is a byte stream with a BYOB reader...
  const reader = new ReadableStream({}).getReader({});
  delete Object.prototype.type;
  delete Object.prototype.mode;
  assert_true(reader instanceof ReadableStreamBYOBReader);
  // ...but a missing dictionary does not pick them up from Object.prototype.
  Object.defineProperty(Object.prototype, "mode", { get() { return "byob"; }, configurable: true });
  const reader2 = new ReadableStream().getReader();
  delete Object.prototype.mode;
  assert_true(reader2 instanceof ReadableStreamDefaultReader);
}, "inherited dictionary members are read from the argument, never from internal records");
