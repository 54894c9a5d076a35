// META: script=resources/helpers.js
// Every streams interface looks like Web IDL says: globals, constructors, lengths,
// enumerable members, Symbol.toStringTag, and brand checks on every method and getter.
"use strict";

const interfaces = {
  ReadableStream: {
    length: 0,
    methods: { cancel: 0, getReader: 0, pipeThrough: 1, pipeTo: 1, tee: 0, values: 0 },
    getters: ["locked"],
    make: () => new ReadableStream(),
  },
  ReadableStreamDefaultReader: {
    length: 1,
    methods: { cancel: 0, read: 0, releaseLock: 0 },
    getters: ["closed"],
    make: () => new ReadableStream().getReader(),
  },
  ReadableStreamBYOBReader: {
    length: 1,
    methods: { cancel: 0, read: 1, readAtLeast: 2, releaseLock: 0 }, // readAtLeast: Workers'
    getters: ["closed"],
    make: () => new ReadableStream({ type: "bytes" }).getReader({ mode: "byob" }),
  },
  ReadableStreamDefaultController: {
    length: 0,
    illegal: true,
    methods: { close: 0, enqueue: 0, error: 0 },
    getters: ["desiredSize"],
    make: () => { let c; new ReadableStream({ start(x) { c = x; } }); return c; },
  },
  ReadableByteStreamController: {
    length: 0,
    illegal: true,
    methods: { close: 0, enqueue: 1, error: 0 },
    getters: ["byobRequest", "desiredSize"],
    make: () => { let c; new ReadableStream({ type: "bytes", start(x) { c = x; } }); return c; },
  },
  ReadableStreamBYOBRequest: {
    length: 0,
    illegal: true,
    methods: { respond: 1, respondWithNewView: 1 },
    getters: ["view"],
    make: () => {
      let c;
      const rs = new ReadableStream({ type: "bytes", start(x) { c = x; } });
      rs.getReader({ mode: "byob" }).read(new Uint8Array(1));
      return c.byobRequest;
    },
  },
  WritableStream: {
    length: 0,
    methods: { abort: 0, close: 0, getWriter: 0 },
    getters: ["locked"],
    make: () => new WritableStream(),
  },
  WritableStreamDefaultWriter: {
    length: 1,
    methods: { abort: 0, close: 0, releaseLock: 0, write: 0 },
    getters: ["closed", "desiredSize", "ready"],
    make: () => new WritableStream().getWriter(),
  },
  WritableStreamDefaultController: {
    length: 0,
    illegal: true,
    methods: { error: 0 },
    getters: ["signal"],
    make: () => { let c; new WritableStream({ start(x) { c = x; } }); return c; },
  },
  TransformStream: {
    length: 0,
    methods: {},
    getters: ["readable", "writable"],
    make: () => new TransformStream(),
  },
  TransformStreamDefaultController: {
    length: 0,
    illegal: true,
    methods: { enqueue: 0, error: 0, terminate: 0 },
    getters: ["desiredSize"],
    make: () => { let c; new TransformStream({ start(x) { c = x; } }); return c; },
  },
  TextEncoderStream: {
    length: 0,
    methods: {},
    getters: ["encoding", "readable", "writable"],
    make: () => new TextEncoderStream(),
  },
  TextDecoderStream: {
    length: 0,
    methods: {},
    getters: ["encoding", "fatal", "ignoreBOM", "readable", "writable"],
    make: () => new TextDecoderStream(),
  },
};

// Members that return promises report a wrong `this` as a rejection, not a throw.
const promiseMembers = new Set([
  "ReadableStream.cancel", "ReadableStream.pipeTo",
  "ReadableStreamDefaultReader.cancel", "ReadableStreamDefaultReader.read", "ReadableStreamDefaultReader.closed",
  "ReadableStreamBYOBReader.cancel", "ReadableStreamBYOBReader.read", "ReadableStreamBYOBReader.closed",
  "ReadableStreamBYOBReader.readAtLeast",
  "WritableStream.abort", "WritableStream.close",
  "WritableStreamDefaultWriter.abort", "WritableStreamDefaultWriter.close", "WritableStreamDefaultWriter.write",
  "WritableStreamDefaultWriter.closed", "WritableStreamDefaultWriter.ready",
]);

for (const [name, spec] of Object.entries(interfaces)) {
  const ctor = globalThis[name];

  test(() => {
    assertInterface(ctor, name, spec.length);
  }, `${name}: interface object`);

  test(() => {
    const proto = ctor.prototype;
    const expected = ["constructor", ...Object.keys(spec.methods), ...spec.getters].sort();
    assert_array_equals(Object.getOwnPropertyNames(proto).sort(), expected);
    for (const [method, length] of Object.entries(spec.methods)) assertMethod(proto, method, length);
    for (const getter of spec.getters) assertGetter(proto, getter);
    assert_false(Object.getOwnPropertyDescriptor(proto, "constructor").enumerable);
  }, `${name}: prototype members, lengths and enumerability`);

  if (spec.illegal) {
    test(() => {
      assert_throws_js(TypeError, () => new ctor());
      assert_throws_js(TypeError, () => ctor());
    }, `${name}: the constructor is illegal`);
  } else {
    test(() => {
      assert_throws_js(TypeError, () => ctor(), "calling without new throws");
    }, `${name}: the constructor cannot be called as a function`);
  }

  test(() => {
    const instance = spec.make();
    assert_equals(Object.getPrototypeOf(instance), ctor.prototype);
    assert_class_string(instance, name);
    assert_array_equals(Object.getOwnPropertyNames(instance), [], "no own properties: slots are private");
    assert_array_equals(Object.getOwnPropertySymbols(instance), [], "no symbol-keyed slots either");
  }, `${name}: instances keep their state private`);

  promise_test(async (t) => {
    const impostors = [undefined, null, 1, {}, Object.create(ctor.prototype)];
    for (const other of Object.keys(interfaces)) {
      if (other !== name) impostors.push(interfaces[other].make());
    }
    const proto = ctor.prototype;
    for (const [method] of Object.entries(spec.methods)) {
      const fn = proto[method];
      for (const bad of impostors) {
        if (promiseMembers.has(`${name}.${method}`)) {
          await promise_rejects_js(t, TypeError, fn.call(bad), `${method} on ${String(bad)}`);
        } else {
          assert_throws_js(TypeError, () => fn.call(bad), `${method} on ${String(bad)}`);
        }
      }
    }
    for (const getter of spec.getters) {
      const get = Object.getOwnPropertyDescriptor(proto, getter).get;
      for (const bad of impostors) {
        if (promiseMembers.has(`${name}.${getter}`)) {
          await promise_rejects_js(t, TypeError, get.call(bad), `${getter} on ${String(bad)}`);
        } else {
          assert_throws_js(TypeError, () => get.call(bad), `${getter} on ${String(bad)}`);
        }
      }
    }
  }, `${name}: every method and getter checks its this value`);
}

test(() => {
  for (const name of Object.keys(interfaces)) {
    assert_false(Object.keys(globalThis).includes(name), `${name} is not enumerable on the global`);
  }
}, "stream interfaces are non-enumerable globals");

test(() => {
  const rs = new ReadableStream();
  assert_equals(Object.getOwnPropertyDescriptor(ReadableStream.prototype, "locked").get.name, "get locked");
  assert_equals(ReadableStream.prototype.getReader.name, "getReader");
  void rs;
}, "getters are named 'get <attribute>'");

test(() => {
  // Shape of a subclass instance is still branded.
  class Sub extends ReadableStream {}
  const s = new Sub();
  assert_false(s.locked);
  assert_throws_js(TypeError, () => Object.getOwnPropertyDescriptor(ReadableStream.prototype, "locked").get.call(Object.create(Sub.prototype)));
}, "subclass instances pass brand checks; objects inheriting the prototype do not");
