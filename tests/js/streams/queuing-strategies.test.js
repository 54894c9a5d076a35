// META: script=resources/helpers.js
// CountQueuingStrategy, ByteLengthQueuingStrategy, and how strategies are validated.
"use strict";

for (const [Strategy, name] of [
  [CountQueuingStrategy, "CountQueuingStrategy"],
  [ByteLengthQueuingStrategy, "ByteLengthQueuingStrategy"],
]) {
  test(() => {
    assertInterface(Strategy, name, 1);
    assertGetter(Strategy.prototype, "highWaterMark");
    assertGetter(Strategy.prototype, "size");
  }, `${name}: interface object and prototype look like Web IDL`);

  test(() => {
    assert_throws_js(TypeError, () => new Strategy());
    assert_throws_js(TypeError, () => new Strategy({}), "highWaterMark is required");
    assert_throws_js(TypeError, () => new Strategy(5), "not a dictionary");
    assert_throws_js(TypeError, () => new Strategy({ highWaterMark: 1n }), "BigInt");
  }, `${name}: constructor requires a QueuingStrategyInit with highWaterMark`);

  test(() => {
    assert_equals(new Strategy({ highWaterMark: 4 }).highWaterMark, 4);
    assert_equals(new Strategy({ highWaterMark: -1 }).highWaterMark, -1, "not validated here");
    assert_equals(new Strategy({ highWaterMark: "8" }).highWaterMark, 8, "converted to a number");
    assert_equals(new Strategy({ highWaterMark: Infinity }).highWaterMark, Infinity);
    assert_true(Number.isNaN(new Strategy({ highWaterMark: "x" }).highWaterMark));
  }, `${name}: highWaterMark is stored as an unrestricted double`);

  test(() => {
    const a = new Strategy({ highWaterMark: 1 });
    const b = new Strategy({ highWaterMark: 2 });
    assert_equals(a.size, b.size, "one size function per global");
    assert_equals(a.size.name, "size");
    assert_false("prototype" in a.size, "size has no prototype");
    assert_throws_js(TypeError, () => new a.size(), "size is not a constructor");
  }, `${name}: size is the same non-constructor function for every instance`);

  test(() => {
    const getHWM = Object.getOwnPropertyDescriptor(Strategy.prototype, "highWaterMark").get;
    const getSize = Object.getOwnPropertyDescriptor(Strategy.prototype, "size").get;
    assert_throws_js(TypeError, () => getHWM.call({}));
    assert_throws_js(TypeError, () => getSize.call({ highWaterMark: 1 }));
    assert_throws_js(TypeError, () => getHWM.call(undefined));
  }, `${name}: getters check their this value`);

  test(() => {
    class Sub extends Strategy {
      size() {
        return 7;
      }
    }
    const s = new Sub({ highWaterMark: 3 });
    assert_equals(s.highWaterMark, 3);
    assert_equals(s.size(), 7);
    assert_true(s instanceof Strategy);
  }, `${name}: can be subclassed`);
}

test(() => {
  const size = new CountQueuingStrategy({ highWaterMark: 1 }).size;
  assert_equals(size.length, 0);
  assert_equals(size(), 1);
  assert_equals(size.call(undefined, { byteLength: 5 }), 1);
}, "CountQueuingStrategy: size returns 1 for anything, without using this");

test(() => {
  const size = new ByteLengthQueuingStrategy({ highWaterMark: 1 }).size;
  assert_equals(size.length, 1);
  assert_equals(size({ byteLength: 5 }), 5);
  assert_equals(size(new Uint8Array(3)), 3);
  assert_equals(size("abc"), undefined, "GetV boxes primitives");
  assert_throws_js(TypeError, () => size(undefined));
  assert_throws_js(TypeError, () => size(null));
}, "ByteLengthQueuingStrategy: size returns the chunk's byteLength");

test(() => {
  let desired;
  new ReadableStream({ start(c) { c.enqueue(new Uint8Array(3)); desired = c.desiredSize; } },
    new ByteLengthQueuingStrategy({ highWaterMark: 10 }));
  assert_equals(desired, 7);
}, "ByteLengthQueuingStrategy drives a ReadableStream's desiredSize");

test(() => {
  const ws = new WritableStream({ write() { return new Promise(() => {}); } },
    new CountQueuingStrategy({ highWaterMark: 3 }));
  const writer = ws.getWriter();
  assert_equals(writer.desiredSize, 3);
  writer.write("a");
  writer.write("b");
  assert_equals(writer.desiredSize, 1);
}, "CountQueuingStrategy drives a WritableStream's desiredSize");

for (const [Ctor, label] of [[ReadableStream, "ReadableStream"], [WritableStream, "WritableStream"]]) {
  test(() => {
    for (const hwm of [-1, -Infinity, NaN, "nope", {}]) {
      assert_throws_js(RangeError, () => new Ctor({}, { highWaterMark: hwm }), `highWaterMark ${String(hwm)}`);
    }
  }, `${label}: a negative or NaN highWaterMark is a RangeError`);

  test(() => {
    for (const hwm of [0, -0, Infinity, 1e9, "2", null, false]) {
      new Ctor({}, { highWaterMark: hwm });
    }
  }, `${label}: zero, Infinity and numeric-convertible highWaterMarks are accepted`);

  test(() => {
    assert_throws_js(TypeError, () => new Ctor({}, { size: 5 }));
    assert_throws_js(TypeError, () => new Ctor({}, { size: {} }));
    assert_throws_js(TypeError, () => new Ctor({}, 5), "strategy must be an object");
  }, `${label}: a non-callable size or a non-object strategy is a TypeError`);

  test(() => {
    assert_throws_js(TypeError, () => new Ctor({}, { highWaterMark: 1n }));
  }, `${label}: a BigInt highWaterMark is a TypeError`);

  test(() => {
    const record = [];
    const strategy = {
      get highWaterMark() { record.push("highWaterMark"); return 1; },
      get size() { record.push("size"); return undefined; },
    };
    new Ctor({}, strategy);
    assert_array_equals(record, ["highWaterMark", "size"]);
  }, `${label}: strategy members are read in lexicographic order`);
}

test(() => {
  const error = namedError("getter");
  assert_throws_exactly(error, () => new ReadableStream({}, { get highWaterMark() { throw error; } }));
  assert_throws_exactly(error, () => new WritableStream({}, { get size() { throw error; } }));
  assert_throws_exactly(error, () => new TransformStream({}, { get highWaterMark() { throw error; } }));
  assert_throws_exactly(error, () => new TransformStream({}, {}, { get size() { throw error; } }));
}, "exceptions thrown by strategy getters propagate out of the constructors");

test(() => {
  const error = namedError("sizeGetter");
  const sourceError = namedError("startGetter");
  assert_throws_exactly(error, () => new ReadableStream(
    { get start() { throw sourceError; } },
    { get size() { throw error; } },
  ), "the strategy (an IDL argument) is converted before the source");
}, "ReadableStream: the strategy argument is converted before the underlying source");

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } }, { highWaterMark: Infinity });
  assert_equals(c.desiredSize, Infinity);
  c.enqueue("a");
  assert_equals(c.desiredSize, Infinity);
}, "an Infinity highWaterMark never applies backpressure");

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } }, {
    highWaterMark: 0.5,
    size() { return 0.1; },
  });
  c.enqueue("a");
  c.enqueue("b");
  assert_approx_equals(c.desiredSize, 0.3, 1e-12);
}, "fractional sizes and highWaterMarks are added up as doubles");

test(() => {
  let c;
  const rs = new ReadableStream({ start(controller) { c = controller; } }, {
    highWaterMark: 0,
    size(chunk) { return chunk; },
  });
  const reader = rs.getReader();
  c.enqueue(2);
  c.enqueue(Number.MIN_VALUE);
  reader.read();
  reader.read();
  assert_equals(c.desiredSize, 0, "the total never goes below zero after rounding");
}, "the queue total is clamped at zero after floating-point rounding");

for (const [size, label] of [
  [-1, "negative"], [NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"],
]) {
  promise_test(async (t) => {
    let c;
    const rs = new ReadableStream({ start(controller) { c = controller; } }, { size() { return size; } });
    assert_throws_js(RangeError, () => c.enqueue("x"));
    await promise_rejects_js(t, RangeError, rs.getReader().closed);
  }, `ReadableStream: a ${label} chunk size errors the stream with a RangeError`);

  promise_test(async (t) => {
    const ws = new WritableStream({}, { size() { return size; } });
    const writer = ws.getWriter();
    await promise_rejects_js(t, RangeError, writer.write("x"));
    await promise_rejects_js(t, RangeError, writer.closed);
  }, `WritableStream: a ${label} chunk size errors the stream with a RangeError`);
}

promise_test(async () => {
  const calls = [];
  let c;
  new ReadableStream({ start(controller) { c = controller; } }, {
    size(chunk) {
      calls.push([this, chunk]);
      return 1;
    },
  });
  c.enqueue("a");
  assert_equals(calls.length, 1);
  assert_equals(calls[0][0], undefined, "size is called with an undefined this");
  assert_equals(calls[0][1], "a");
}, "the size function is called with the chunk and no this value");

test(() => {
  let c;
  new ReadableStream({ start(controller) { c = controller; } }, { size() { return "3"; }, highWaterMark: 5 });
  c.enqueue("x");
  assert_equals(c.desiredSize, 2, "the size result is converted with ToNumber");
}, "a size function returning a numeric string counts as that number");
