// META: script=resources/helpers.js
// ReadableStream.from(asyncIterable): iterables, async iterables, errors and cancellation.
"use strict";

const error1 = namedError("error1");

test(() => {
  const desc = Object.getOwnPropertyDescriptor(ReadableStream, "from");
  assert_equals(typeof desc.value, "function");
  assert_true(desc.enumerable, "static operations are enumerable");
  assert_equals(desc.value.length, 1);
  assert_equals(desc.value.name, "from");
}, "ReadableStream.from is a static method of length 1");

for (const [label, make] of [
  ["an array", () => [1, 2, 3]],
  ["a Set", () => new Set([1, 2, 3])],
  ["a sync generator", () => (function* () { yield 1; yield 2; yield 3; })()],
  ["an async generator", () => (async function* () { yield 1; yield 2; yield 3; })()],
  ["an array of promises", () => [Promise.resolve(1), 2, Promise.resolve(3)]],
  ["a custom sync iterable", () => ({
    [Symbol.iterator]() {
      let i = 0;
      return { next() { i++; return { value: i, done: i > 3 }; } };
    },
  })],
  ["a custom async iterable", () => ({
    [Symbol.asyncIterator]() {
      let i = 0;
      return { next() { i++; return Promise.resolve({ value: i, done: i > 3 }); } };
    },
  })],
  ["an async iterable whose next() returns plain objects", () => ({
    [Symbol.asyncIterator]() {
      let i = 0;
      return { next() { i++; return { value: i, done: i > 3 }; } };
    },
  })],
  ["a ReadableStream", () => new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.enqueue(3); c.close(); } })],
]) {
  promise_test(async () => {
    const rs = ReadableStream.from(make());
    assert_true(rs instanceof ReadableStream);
    assert_array_equals(await readAll(rs), [1, 2, 3]);
  }, `from() reads ${label}`);
}

test(() => {
  // The argument is an async_sequence<any>: only an object converts, so a string (iterable
  // though it is) is refused before its @@iterator is looked up.
  let looked = false;
  const desc = Object.getOwnPropertyDescriptor(String.prototype, Symbol.iterator);
  Object.defineProperty(String.prototype, Symbol.iterator, {
    get() { looked = true; return desc.value; }, configurable: true,
  });
  try {
    assert_throws_js(TypeError, () => ReadableStream.from("ab"), "a string primitive");
    assert_throws_js(TypeError, () => ReadableStream.from(""), "the empty string");
  } finally {
    Object.defineProperty(String.prototype, Symbol.iterator, desc);
  }
  assert_false(looked, "String.prototype[@@iterator] is not consulted");
}, "from() throws a TypeError for a string");

promise_test(async () => {
  assert_array_equals(await readAll(ReadableStream.from(new String("ab"))), ["a", "b"]);
  assert_array_equals(await readAll(ReadableStream.from([..."a\u{1F600}"])), ["a", "\u{1F600}"]);
}, "from() still iterates a String object, and an array of a string's code points");

test(() => {
  for (const bad of [undefined, null, 5, true, {}, Symbol("x"), { [Symbol.iterator]: 5 },
    { [Symbol.asyncIterator]: "nope" }, { [Symbol.asyncIterator]: null, [Symbol.iterator]: {} }]) {
    assert_throws_js(TypeError, () => ReadableStream.from(bad), String(bad?.toString?.() ?? bad));
  }
  assert_throws_js(TypeError, () => ReadableStream.from(), "the argument is required");
}, "from() throws a TypeError for non-iterables and bad iterator methods");

test(() => {
  assert_throws_js(TypeError, () => ReadableStream.from({ [Symbol.asyncIterator]() { return 5; } }));
  assert_throws_js(TypeError, () => ReadableStream.from({ [Symbol.iterator]() { return null; } }));
}, "from() throws when the iterator method does not return an object");

test(() => {
  assert_throws_exactly(error1, () => ReadableStream.from({ [Symbol.asyncIterator]() { throw error1; } }));
  assert_throws_exactly(error1, () => ReadableStream.from({ get [Symbol.asyncIterator]() { throw error1; } }));
}, "from() propagates exceptions from getting or calling the iterator method");

promise_test(async () => {
  let nextCalls = 0;
  const iterable = {
    [Symbol.asyncIterator]() {
      return { next() { nextCalls++; return { value: nextCalls, done: false }; } };
    },
  };
  const rs = ReadableStream.from(iterable);
  await flushAsyncEvents();
  assert_equals(nextCalls, 0, "the high water mark is 0: nothing is pulled before a read");
  const reader = rs.getReader();
  await reader.read();
  await flushAsyncEvents();
  assert_equals(nextCalls, 1, "one next() per read");
}, "from() pulls lazily (high water mark 0)");

promise_test(async () => {
  const order = [];
  const iterable = {
    [Symbol.asyncIterator]() {
      return {
        get next() { order.push("get next"); return () => ({ value: 1, done: false }); },
      };
    },
  };
  ReadableStream.from(iterable);
  assert_array_equals(order, ["get next"], "next is read once, when the iterator is obtained");
}, "the next method is fetched once, up front");

promise_test(async (t) => {
  const rs = ReadableStream.from({ [Symbol.iterator]() { return { next() { throw error1; } }; } });
  await promise_rejects_exactly(t, error1, rs.getReader().read());
}, "a throwing next() errors the stream");

promise_test(async (t) => {
  const rs = ReadableStream.from({ [Symbol.asyncIterator]() { return { next() { return Promise.reject(error1); } }; } });
  await promise_rejects_exactly(t, error1, rs.getReader().read());
}, "a rejecting next() errors the stream");

promise_test(async (t) => {
  const rs = ReadableStream.from({ [Symbol.asyncIterator]() { return { next() { return 42; } }; } });
  await promise_rejects_js(t, TypeError, rs.getReader().read());
}, "a next() result that is not an object errors the stream with a TypeError");

promise_test(async (t) => {
  const rs = ReadableStream.from({
    [Symbol.asyncIterator]() { return { next() { return { get done() { throw error1; } }; } }; },
  });
  await promise_rejects_exactly(t, error1, rs.getReader().read());
}, "an exception from the done getter errors the stream");

promise_test(async (t) => {
  const rs = ReadableStream.from({
    [Symbol.asyncIterator]() { return { next() { return { done: false, get value() { throw error1; } }; } }; },
  });
  await promise_rejects_exactly(t, error1, rs.getReader().read());
}, "an exception from the value getter errors the stream");

promise_test(async (t) => {
  const rs = ReadableStream.from([Promise.reject(error1)]);
  await promise_rejects_exactly(t, error1, rs.getReader().read());
}, "a rejected promise in a sync iterable errors the stream");

promise_test(async () => {
  let returned = false;
  const iterable = {
    [Symbol.iterator]() {
      return {
        next() { return { value: Promise.reject(error1), done: false }; },
        return() { returned = true; return {}; },
      };
    },
  };
  await ReadableStream.from(iterable).getReader().read().catch(() => {});
  assert_true(returned, "the sync iterator is closed when its value rejects");
}, "a rejected value closes the underlying sync iterator");

promise_test(async () => {
  let returnArgs;
  const iterable = {
    [Symbol.asyncIterator]() {
      return {
        next() { return { value: 1, done: false }; },
        return(...args) { returnArgs = args; return { done: true }; },
      };
    },
  };
  const rs = ReadableStream.from(iterable);
  assert_equals(await rs.cancel("reason"), undefined);
  assert_array_equals(returnArgs, ["reason"]);
}, "cancel() calls the iterator's return() with the reason");

promise_test(async () => {
  const rs = ReadableStream.from({ [Symbol.asyncIterator]() { return { next() { return { done: true }; } }; } });
  await rs.cancel("reason");
}, "cancel() without a return() method fulfills");

promise_test(async (t) => {
  const iterable = {
    [Symbol.asyncIterator]() {
      return { next() { return { done: false }; }, return() { throw error1; } };
    },
  };
  await promise_rejects_exactly(t, error1, ReadableStream.from(iterable).cancel());
}, "a throwing return() rejects cancel()");

promise_test(async (t) => {
  const iterable = {
    [Symbol.asyncIterator]() {
      return { next() { return { done: false }; }, return() { return 5; } };
    },
  };
  await promise_rejects_js(t, TypeError, ReadableStream.from(iterable).cancel());
}, "a return() result that is not an object rejects cancel() with a TypeError");

promise_test(async (t) => {
  const iterable = {
    [Symbol.asyncIterator]() {
      return { next() { return { done: false }; }, get return() { throw error1; } };
    },
  };
  await promise_rejects_exactly(t, error1, ReadableStream.from(iterable).cancel());
}, "an exception from getting return rejects cancel()");

promise_test(async () => {
  let finallyRan = false;
  async function* gen() {
    try {
      yield 1;
      yield 2;
    } finally {
      finallyRan = true;
    }
  }
  const rs = ReadableStream.from(gen());
  const reader = rs.getReader();
  await reader.read();
  await reader.cancel();
  assert_true(finallyRan, "canceling runs the generator's finally block");
}, "canceling a stream made from a generator finishes the generator");

promise_test(async () => {
  const rs = ReadableStream.from([1, 2]);
  const chunks = [];
  for await (const chunk of rs) chunks.push(chunk);
  assert_array_equals(chunks, [1, 2]);
}, "a stream from from() can be async-iterated");

promise_test(async () => {
  const arr = [1];
  const rs = ReadableStream.from(arr);
  arr.push(2);
  assert_array_equals(await readAll(rs), [1, 2], "arrays are iterated lazily");
}, "from() iterates lazily as the stream is read");
