// META: script=resources/helpers.js
// Async iteration of ReadableStreams: values(), [Symbol.asyncIterator], for await.
"use strict";

const error1 = namedError("error1");

function assertIterResult(result, value, done, label = "") {
  assert_equals(Object.getPrototypeOf(result), Object.prototype, `${label} prototype`);
  assert_array_equals(Object.getOwnPropertyNames(result).sort(), ["done", "value"], `${label} keys`);
  assert_equals(result.value, value, `${label} value`);
  assert_equals(result.done, done, `${label} done`);
}

function streamOf(...chunks) {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
}

test(() => {
  assert_equals(ReadableStream.prototype[Symbol.asyncIterator], ReadableStream.prototype.values);
  const desc = Object.getOwnPropertyDescriptor(ReadableStream.prototype, Symbol.asyncIterator);
  assert_false(desc.enumerable);
  assert_true(desc.writable && desc.configurable);
}, "[Symbol.asyncIterator] is values()");

test(() => {
  const it = new ReadableStream().values();
  const proto = Object.getPrototypeOf(it);
  const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);
  assert_equals(Object.getPrototypeOf(proto), AsyncIteratorPrototype);
  assert_array_equals(Object.getOwnPropertyNames(proto).sort(), ["next", "return"]);
  for (const m of ["next", "return"]) {
    const desc = Object.getOwnPropertyDescriptor(proto, m);
    assert_true(desc.enumerable && desc.writable && desc.configurable, m);
    assert_equals(desc.value.name, m);
  }
  assert_equals(it.next.length, 0);
  assert_equals(it.return.length, 1);
  assert_equals(it.throw, undefined);
  assert_equals(proto[Symbol.toStringTag], "ReadableStream AsyncIterator");
  assert_equals(it[Symbol.asyncIterator](), it, "the iterator is its own async iterable");
}, "the async iterator prototype has next() and return() and extends %AsyncIteratorPrototype%");

test(() => {
  const it1 = new ReadableStream().values();
  const it2 = new ReadableStream()[Symbol.asyncIterator]();
  assert_equals(Object.getPrototypeOf(it1), Object.getPrototypeOf(it2));
}, "all iterators share one prototype");

promise_test(async (t) => {
  const it = new ReadableStream().values();
  const { next, return: ret } = Object.getPrototypeOf(it);
  await promise_rejects_js(t, TypeError, next.call({}));
  await promise_rejects_js(t, TypeError, ret.call(undefined));
  await promise_rejects_js(t, TypeError, next.call(new ReadableStream()));
}, "next() and return() reject with a TypeError on the wrong this");

test(() => {
  const rs = new ReadableStream();
  rs.values();
  assert_true(rs.locked);
  assert_throws_js(TypeError, () => rs.values());
  assert_throws_js(TypeError, () => rs[Symbol.asyncIterator]());
}, "values() locks the stream and throws if it is already locked");

test(() => {
  assert_throws_js(TypeError, () => new ReadableStream().values(5));
  new ReadableStream().values(null);
  new ReadableStream().values({ preventCancel: "truthy" });
}, "values() takes an optional options dictionary");

promise_test(async () => {
  const chunks = [];
  for await (const chunk of streamOf(1, 2, 3)) chunks.push(chunk);
  assert_array_equals(chunks, [1, 2, 3]);
}, "for await iterates a push source");

promise_test(async () => {
  let i = 1;
  const rs = new ReadableStream({
    pull(c) {
      c.enqueue(i);
      if (i >= 3) c.close();
      i++;
    },
  });
  const chunks = [];
  for await (const chunk of rs) chunks.push(chunk);
  assert_array_equals(chunks, [1, 2, 3]);
}, "for await iterates a pull source");

promise_test(async () => {
  const chunks = [];
  for await (const chunk of streamOf(undefined, undefined)) chunks.push(chunk);
  assert_array_equals(chunks, [undefined, undefined]);
}, "undefined chunks are iterated, not mistaken for the end");

promise_test(async () => {
  let i = 1;
  const rs = recordingReadableStream({
    pull(c) {
      c.enqueue(i);
      if (i >= 2) c.close();
      i++;
    },
  }, new CountQueuingStrategy({ highWaterMark: 0 }));
  const it = rs.values();
  assert_array_equals(rs.events, []);
  assertIterResult(await it.next(), 1, false, "1st");
  assert_array_equals(rs.events, ["pull"]);
  assertIterResult(await it.next(), 2, false, "2nd");
  assert_array_equals(rs.events, ["pull", "pull"]);
  assertIterResult(await it.next(), undefined, true, "3rd");
  assert_array_equals(rs.events, ["pull", "pull"]);
}, "next() pulls one chunk at a time");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.error("e"); } });
  let caught;
  try {
    for await (const chunk of rs) assert_unreached();
  } catch (e) {
    caught = e;
  }
  assert_equals(caught, "e");
}, "iterating an errored stream throws its error");

promise_test(async () => {
  for await (const chunk of new ReadableStream({ start(c) { c.close(); } })) assert_unreached();
}, "iterating a closed stream runs no iteration");

promise_test(async () => {
  const rs = new ReadableStream();
  let iterated = false;
  const loop = (async () => {
    for await (const chunk of rs) iterated = true;
    iterated = true;
  })();
  await flushAsyncEvents();
  assert_false(iterated, "an empty open stream stalls the loop");
  loop.catch(() => {});
}, "iterating an empty open stream waits");

promise_test(async () => {
  const rs = streamOf(1, 2, 3);
  const reader = rs.getReader();
  await reader.read();
  reader.releaseLock();
  const chunks = [];
  for await (const chunk of rs) chunks.push(chunk);
  assert_array_equals(chunks, [2, 3]);
}, "iteration continues a partially read stream");

for (const kind of ["throw", "break", "return"]) {
  for (const preventCancel of [false, true]) {
    promise_test(async () => {
      const rs = recordingReadableStream({ start(c) { c.enqueue(0); } });
      const loop = async () => {
        for await (const chunk of rs.values({ preventCancel })) {
          if (kind === "throw") throw new Error("loop");
          if (kind === "break") break;
          return;
        }
      };
      await loop().catch(() => {});
      if (preventCancel) {
        assert_array_equals(rs.events, ["pull"]);
        assert_false(rs.locked, "the lock is released");
      } else {
        assert_array_equals(rs.events, ["pull", "cancel", undefined]);
      }
    }, `leaving a for await loop by ${kind} ${preventCancel ? "releases" : "cancels"} the stream (preventCancel ${preventCancel})`);
  }
}

for (const preventCancel of [false, true]) {
  promise_test(async () => {
    const rs = recordingReadableStream({ start(c) { c.enqueue(0); } });
    const it = rs.values({ preventCancel });
    assertIterResult(await it.return("v"), "v", true);
    assert_array_equals(rs.events, preventCancel ? [] : ["cancel", "v"]);
  }, `return(value) ${preventCancel ? "does not cancel" : "cancels with value"} (preventCancel ${preventCancel})`);

  test(() => {
    const rs = new ReadableStream();
    rs.values({ preventCancel }).return();
    rs.getReader();
  }, `return() releases the lock synchronously (preventCancel ${preventCancel})`);
}

promise_test(async (t) => {
  let pulls = 0;
  const rs = new ReadableStream({
    pull(c) {
      if (pulls++ === 0) c.enqueue(0);
      else c.error(error1);
    },
  });
  const it = rs[Symbol.asyncIterator]();
  assertIterResult(await it.next(), 0, false);
  await promise_rejects_exactly(t, error1, it.next());
  assertIterResult(await it.next(), undefined, true, "after an error the iterator is finished");
  assertIterResult(await it.return("r"), "r", true, "return() after the error fulfills");
}, "next() rejects when the stream errors, then the iterator is done");

promise_test(async () => {
  let pulls = 0;
  const rs = new ReadableStream({
    pull(c) {
      if (pulls++ === 0) c.enqueue(0);
      else c.error(error1);
    },
  });
  const it = rs.values();
  const results = await Promise.allSettled([it.next(), it.next(), it.next(), it.return("r")]);
  assert_equals(results[0].status, "fulfilled");
  assertIterResult(results[0].value, 0, false);
  assert_equals(results[1].status, "rejected");
  assert_equals(results[1].reason, error1);
  assert_equals(results[2].status, "fulfilled");
  assertIterResult(results[2].value, undefined, true);
  assertIterResult(results[3].value, "r", true);
}, "calls made without awaiting are queued behind one another");

promise_test(async (t) => {
  const rs = new ReadableStream({ pull(c) { c.error(error1); } });
  const it = rs.values();
  await flushAsyncEvents();
  await promise_rejects_exactly(t, error1, it.return("r"));
}, "return() rejects with the error of an already errored stream");

promise_test(async () => {
  const rs = new ReadableStream({ pull(c) { c.enqueue(1); } });
  const it = rs.values();
  assertIterResult(await it.return("r"), "r", true);
  assertIterResult(await it.next(), undefined, true);
}, "next() after return() reports done");

promise_test(async () => {
  const it = new ReadableStream().values();
  const [a, b] = await Promise.all([it.return("1"), it.return("2")]);
  assertIterResult(a, "1", true);
  assertIterResult(b, "2", true);
}, "return() twice: each fulfills with its own value");

promise_test(async () => {
  let pulls = 0;
  const rs = new ReadableStream({ pull(c) { c.enqueue(pulls++); } });
  const it = rs.values();
  const [n, r] = await Promise.all([it.next(), it.return("r")]);
  assertIterResult(n, 0, false);
  assertIterResult(r, "r", true);
}, "return() waits for a pending next()");

promise_test(async (t) => {
  let pulls = 0;
  const rs = new ReadableStream({
    pull(c) {
      if (pulls++ === 0) c.enqueue(0);
      else c.error(error1);
    },
  });
  const it = rs.values({ preventCancel: true });
  await it.next();
  await promise_rejects_exactly(t, error1, it.next());
  assertIterResult(await it.return("r"), "r", true);
  await promise_rejects_exactly(t, error1, rs.getReader().closed, "a new reader sees the stream error");
}, "after an error a new reader sees the stream's error, not a lock error");

promise_test(async () => {
  const rs = streamOf(1, 2, 3);
  for await (const chunk of rs) if (chunk >= 2) break;
  await rs.getReader().closed;
}, "breaking out of a loop cancels: a new reader finds the stream closed");

promise_test(async () => {
  const rs = streamOf(1, 2, 3);
  for await (const chunk of rs.values({ preventCancel: true })) if (chunk >= 2) break;
  const reader = rs.getReader();
  assert_object_equals(await reader.read(), { value: 3, done: false });
}, "breaking out of a preventCancel loop leaves the rest for a new reader");

promise_test(async () => {
  for await (const c of streamOf(1)) {}
  const reader = streamOf(1).getReader();
  await reader.read();
}, "iterating to the end releases the lock");

promise_test(async () => {
  const rs = new ReadableStream({
    async start(c) {
      c.enqueue("a");
      c.enqueue("b");
      await flushAsyncEvents();
      c.close();
    },
  });
  const chunks = [];
  for await (const chunk of rs) chunks.push(chunk);
  assert_array_equals(chunks, ["a", "b"]);
}, "close() while next() is pending ends the loop");

promise_test(async () => {
  const rs = new ReadableStream({ start(c) { c.enqueue(1); c.close(); } });
  const savedGetReader = ReadableStream.prototype.getReader;
  const proto = ReadableStreamDefaultReader.prototype;
  const saved = { read: proto.read, releaseLock: proto.releaseLock, cancel: proto.cancel };
  ReadableStream.prototype.getReader = () => { throw new Error("patched getReader"); };
  proto.read = () => { throw new Error("patched read"); };
  proto.releaseLock = () => { throw new Error("patched releaseLock"); };
  proto.cancel = () => { throw new Error("patched cancel"); };
  try {
    for await (const chunk of rs) break;
  } finally {
    ReadableStream.prototype.getReader = savedGetReader;
    Object.assign(proto, saved);
  }
  await rs.getReader().closed;
}, "iteration uses the original reader methods, not patched ones");
