// Helpers shared by the streams tests (loaded with `// META: script=resources/helpers.js`).
"use strict";

const delayCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * A promise resolved after `ms` milliseconds, as a macrotask (every pending microtask has
 * run). Made with Atomics.waitAsync so these tests do not depend on the runtime's timers.
 */
function delay(ms = 0) {
  return Atomics.waitAsync(delayCell, 0, 0, ms + 0.001).value.then(() => undefined);
}

/** Let every pending promise reaction and zero-delay timer run. */
async function flushAsyncEvents() {
  for (let i = 0; i < 4; i++) await delay(0);
}

/** Count the microtask turns until `promise` settles (up to `limit`); -1 if it did not. */
async function microtasksUntilSettled(promise, limit = 50) {
  let settled = false;
  promise.then(() => { settled = true; }, () => { settled = true; });
  for (let i = 0; i <= limit; i++) {
    if (settled) return i;
    await undefined;
  }
  return -1;
}

/** Read every chunk of a stream with a default reader; resolves with the array of chunks. */
async function readAll(stream) {
  const reader = stream.getReader();
  const chunks = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

/** Concatenate Uint8Arrays (or other views) into one array of numbers. */
function bytesOf(chunks) {
  const out = [];
  for (const c of chunks) {
    const u8 = new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
    for (const b of u8) out.push(b);
  }
  return out;
}

/** A ReadableStream that records the calls made to its underlying source in `.events`. */
function recordingReadableStream(extras = {}, strategy = undefined) {
  let controllerToCopyOver;
  const stream = new ReadableStream({
    type: extras.type,
    start(controller) {
      controllerToCopyOver = controller;
      if (extras.start) return extras.start(controller);
      return undefined;
    },
    pull(controller) {
      stream.events.push("pull");
      if (extras.pull) return extras.pull(controller);
      return undefined;
    },
    cancel(reason) {
      stream.events.push("cancel", reason);
      stream.eventsWithoutPulls.push("cancel", reason);
      if (extras.cancel) return extras.cancel(reason);
      return undefined;
    },
  }, strategy);
  stream.controller = controllerToCopyOver;
  stream.events = [];
  stream.eventsWithoutPulls = [];
  return stream;
}

/** A WritableStream that records the calls made to its underlying sink in `.events`. */
function recordingWritableStream(extras = {}, strategy = undefined) {
  let controllerToCopyOver;
  const stream = new WritableStream({
    start(controller) {
      controllerToCopyOver = controller;
      if (extras.start) return extras.start(controller);
      return undefined;
    },
    write(chunk, controller) {
      stream.events.push("write", chunk);
      if (extras.write) return extras.write(chunk, controller);
      return undefined;
    },
    close() {
      stream.events.push("close");
      if (extras.close) return extras.close();
      return undefined;
    },
    abort(e) {
      stream.events.push("abort", e);
      if (extras.abort) return extras.abort(e);
      return undefined;
    },
  }, strategy);
  stream.controller = controllerToCopyOver;
  stream.events = [];
  return stream;
}

/** A TransformStream that records the calls made to its transformer in `.events`. */
function recordingTransformStream(extras = {}, writableStrategy = undefined, readableStrategy = undefined) {
  let controllerToCopyOver;
  const stream = new TransformStream({
    start(controller) {
      controllerToCopyOver = controller;
      if (extras.start) return extras.start(controller);
      return undefined;
    },
    transform(chunk, controller) {
      stream.events.push("transform", chunk);
      if (extras.transform) return extras.transform(chunk, controller);
      controller.enqueue(chunk);
      return undefined;
    },
    flush(controller) {
      stream.events.push("flush");
      if (extras.flush) return extras.flush(controller);
      return undefined;
    },
    cancel(reason) {
      stream.events.push("cancel", reason);
      if (extras.cancel) return extras.cancel(reason);
      return undefined;
    },
  }, writableStrategy, readableStrategy);
  stream.controller = controllerToCopyOver;
  stream.events = [];
  return stream;
}

/** An Error whose name is also its message, so assertion messages say which one it was. */
function namedError(name) {
  const e = new Error(name);
  e.name = name;
  return e;
}

/** A promise and its resolve/reject functions. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Assert that a promise is still pending after every queued event has run. */
async function assertPending(promise, description) {
  let settled = false;
  promise.then(() => { settled = true; }, () => { settled = true; });
  await flushAsyncEvents();
  assert_false(settled, description || "the promise should still be pending");
}

/** Check that `obj[name]` is a method with the given length, enumerable, on the prototype. */
function assertMethod(proto, name, length) {
  const desc = Object.getOwnPropertyDescriptor(proto, name);
  assert_not_equals(desc, undefined, `${name} should be an own property of the prototype`);
  assert_equals(typeof desc.value, "function", `${name} should be a method`);
  assert_true(desc.enumerable, `${name} should be enumerable`);
  assert_true(desc.configurable, `${name} should be configurable`);
  assert_true(desc.writable, `${name} should be writable`);
  assert_equals(desc.value.length, length, `${name}.length`);
  assert_equals(desc.value.name, name, `${name}.name`);
}

/** Check that `name` is an enumerable accessor with a getter and no setter. */
function assertGetter(proto, name) {
  const desc = Object.getOwnPropertyDescriptor(proto, name);
  assert_not_equals(desc, undefined, `${name} should be an own property of the prototype`);
  assert_equals(typeof desc.get, "function", `${name} should have a getter`);
  assert_equals(desc.set, undefined, `${name} should have no setter`);
  assert_true(desc.enumerable, `${name} should be enumerable`);
  assert_true(desc.configurable, `${name} should be configurable`);
}

/** Check the shape of an interface object: global, name, length, prototype, toStringTag. */
function assertInterface(ctor, name, length) {
  const desc = Object.getOwnPropertyDescriptor(globalThis, name);
  assert_not_equals(desc, undefined, `${name} should be a global`);
  assert_equals(desc.value, ctor);
  assert_false(desc.enumerable, `the ${name} global should not be enumerable`);
  assert_true(desc.writable && desc.configurable, `the ${name} global should be writable and configurable`);
  assert_equals(ctor.name, name, "name");
  assert_equals(ctor.length, length, "length");
  const protoDesc = Object.getOwnPropertyDescriptor(ctor, "prototype");
  assert_false(protoDesc.writable, "prototype should not be writable");
  assert_false(protoDesc.enumerable, "prototype should not be enumerable");
  assert_false(protoDesc.configurable, "prototype should not be configurable");
  assert_equals(ctor.prototype[Symbol.toStringTag], name, "Symbol.toStringTag");
}
