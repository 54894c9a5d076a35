// META: internals
// structuredClone() (HTML structured serialization).

test(() => {
  assert_throws_js(TypeError, () => structuredClone());
  assert_equals(structuredClone.length, 1);
}, "structuredClone requires an argument");

for (const value of [undefined, null, true, false, 0, -0, NaN, Infinity, -Infinity, 1.5, 2 ** 53,
  "", "string", "\ud800", 0n, -(2n ** 70n)]) {
  test(() => {
    assert_equals(structuredClone(value), value);
  }, `primitive ${typeof value} ${typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value)} is cloned`);
}

test(() => {
  assert_throws_dom("DataCloneError", () => structuredClone(Symbol("x")));
  assert_throws_dom("DataCloneError", () => structuredClone({ a: Symbol.iterator }));
}, "symbols throw DataCloneError");

test(() => {
  for (const [wrapper, check] of [
    [Object(true), (c) => c.valueOf() === true],
    [Object(false), (c) => c.valueOf() === false],
    [Object(42), (c) => c.valueOf() === 42],
    [Object(-0), (c) => Object.is(c.valueOf(), -0)],
    [Object(NaN), (c) => Number.isNaN(c.valueOf())],
    [Object("str"), (c) => c.valueOf() === "str" && c.length === 3],
    [Object(12n), (c) => c.valueOf() === 12n],
  ]) {
    const copy = structuredClone(wrapper);
    assert_equals(typeof copy, "object");
    assert_not_equals(copy, wrapper);
    assert_equals(Object.getPrototypeOf(copy), Object.getPrototypeOf(wrapper));
    assert_true(check(copy), String(wrapper));
  }
}, "Boolean, Number, String and BigInt objects are cloned as wrappers");

test(() => {
  const d = new Date(1234567890123);
  const copy = structuredClone(d);
  assert_true(copy instanceof Date);
  assert_not_equals(copy, d);
  assert_equals(copy.getTime(), d.getTime());
  assert_true(Number.isNaN(structuredClone(new Date(NaN)).getTime()));
}, "Date objects keep their time value (including invalid dates)");

test(() => {
  for (const re of [/abc/, /a.c/gimsuy, /[\u{1F600}]/v, /x/d, new RegExp("")]) {
    const copy = structuredClone(re);
    assert_true(copy instanceof RegExp);
    assert_equals(copy.source, re.source);
    assert_equals(copy.flags, re.flags);
  }
  const re = /a/g;
  re.lastIndex = 3;
  assert_equals(structuredClone(re).lastIndex, 0, "lastIndex is not cloned");
}, "RegExp objects keep source and flags, not lastIndex");

test(() => {
  // The flags come from the RegExp's internal slot: properties that shadow the flag
  // getters (or `flags`) on the object are not what gets cloned.
  const re = /abc/i;
  Object.defineProperty(re, "global", { get: () => true });
  Object.defineProperty(re, "sticky", { value: true });
  Object.defineProperty(re, "flags", { value: "gimy" });
  const copy = structuredClone(re);
  assert_equals(copy.flags, "i");
  assert_false(copy.global);
}, "RegExp flags are cloned from the RegExp itself, not from its properties");

test(() => {
  const buffer = new Uint8Array([1, 2, 3]).buffer;
  const copy = structuredClone(buffer);
  assert_true(copy instanceof ArrayBuffer);
  assert_not_equals(copy, buffer);
  assert_array_equals(new Uint8Array(copy), [1, 2, 3]);
  new Uint8Array(buffer)[0] = 9;
  assert_equals(new Uint8Array(copy)[0], 1, "the copy has its own memory");
}, "ArrayBuffers are copied");

test(() => {
  const buffer = new ArrayBuffer(4, { maxByteLength: 16 });
  const copy = structuredClone(buffer);
  assert_true(copy.resizable);
  assert_equals(copy.maxByteLength, 16);
  assert_equals(copy.byteLength, 4);
}, "resizable ArrayBuffers stay resizable");

test(() => {
  const buffer = new ArrayBuffer(4);
  const view = new Uint8Array(buffer);
  const dv = new DataView(buffer);
  buffer.transfer();
  assert_throws_dom("DataCloneError", () => structuredClone(buffer));
  assert_throws_dom("DataCloneError", () => structuredClone(view));
  assert_throws_dom("DataCloneError", () => structuredClone(dv));
}, "detached ArrayBuffers and views on them throw DataCloneError");

const VIEW_TYPES = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
  "Int32Array", "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array",
  "BigUint64Array"].filter((n) => typeof globalThis[n] === "function");

for (const name of VIEW_TYPES) {
  test(() => {
    const Ctor = globalThis[name];
    const big = name.startsWith("Big");
    const buffer = new ArrayBuffer(Ctor.BYTES_PER_ELEMENT * 6);
    const view = new Ctor(buffer, Ctor.BYTES_PER_ELEMENT, 4);
    for (let i = 0; i < 4; i++) view[i] = big ? BigInt(i + 1) : i + 1;
    const copy = structuredClone(view);
    assert_true(copy instanceof Ctor);
    assert_equals(copy.length, 4);
    assert_equals(copy.byteOffset, Ctor.BYTES_PER_ELEMENT, "offset kept");
    assert_equals(copy.buffer.byteLength, buffer.byteLength, "the whole buffer is cloned");
    for (let i = 0; i < 4; i++) assert_equals(copy[i], view[i]);
  }, `${name} is cloned with its offset, length and whole buffer`);
}

test(() => {
  const buffer = new ArrayBuffer(16);
  const dv = new DataView(buffer, 4, 8);
  dv.setUint32(0, 0xdeadbeef);
  const copy = structuredClone(dv);
  assert_true(copy instanceof DataView);
  assert_equals(copy.byteOffset, 4);
  assert_equals(copy.byteLength, 8);
  assert_equals(copy.getUint32(0), 0xdeadbeef);
}, "DataView is cloned with its offset and length");

test(() => {
  const buffer = new ArrayBuffer(8);
  const a = new Uint8Array(buffer);
  const b = new Int32Array(buffer, 4, 1);
  const copy = structuredClone({ a, b, buffer });
  assert_equals(copy.a.buffer, copy.b.buffer);
  assert_equals(copy.a.buffer, copy.buffer);
}, "views of one buffer share one cloned buffer");

test(() => {
  const rab = new ArrayBuffer(8, { maxByteLength: 16 });
  const tracking = new Uint16Array(rab);
  const fixed = new Uint16Array(rab, 0, 4);
  const dvTracking = new DataView(rab);
  const copy = structuredClone({ tracking, fixed, dvTracking });
  copy.tracking.buffer.resize(12);
  assert_equals(copy.tracking.length, 6, "length-tracking typed array follows its buffer");
  assert_equals(copy.fixed.length, 4);
  assert_equals(copy.dvTracking.byteLength, 12, "length-tracking DataView follows its buffer");
  assert_equals(rab.byteLength, 8, "the original buffer is unchanged");
}, "length-tracking views stay length-tracking");

test(() => {
  const rab = new ArrayBuffer(8, { maxByteLength: 8 });
  new Uint8Array(rab).set([1, 2, 3, 4, 5, 6, 7, 8]);
  const tracking = new Uint8Array(rab);
  const copy = structuredClone(tracking);
  assert_array_equals(Array.from(new Uint8Array(rab)), [1, 2, 3, 4, 5, 6, 7, 8], "contents kept");
  copy.buffer.resize(4);
  assert_equals(copy.length, 4);
}, "detecting length tracking on a full resizable buffer keeps its contents");

test(() => {
  const rab = new ArrayBuffer(8, { maxByteLength: 16 });
  const ta = new Uint8Array(rab, 4, 4);
  const dv = new DataView(rab, 4, 4);
  rab.resize(2);
  assert_throws_dom("DataCloneError", () => structuredClone(ta));
  assert_throws_dom("DataCloneError", () => structuredClone(dv));
}, "out-of-bounds views throw DataCloneError");

test(() => {
  const sab = new SharedArrayBuffer(4);
  const copy = structuredClone(sab);
  new Uint8Array(sab)[0] = 7;
  assert_equals(new Uint8Array(copy)[0], 7, "memory is shared");
  assert_throws_dom("DataCloneError", () => __internals.structuredClone.serialize(sab, [], { forStorage: true }));
}, "SharedArrayBuffers share memory (and cannot be stored)");

test(() => {
  const key = { k: 1 };
  const map = new Map([[key, "v"], ["s", key], [NaN, 1]]);
  const copy = structuredClone(map);
  assert_true(copy instanceof Map);
  assert_equals(copy.size, 3);
  const [k] = copy.keys();
  assert_equals(k.k, 1);
  assert_equals(copy.get(k), "v");
  assert_equals(copy.get("s"), k, "shared reference preserved");
  assert_equals(copy.get(NaN), 1);
}, "Map entries are cloned in order with shared references");

test(() => {
  const obj = {};
  const set = new Set([1, "a", obj, obj]);
  const copy = structuredClone(set);
  assert_true(copy instanceof Set);
  assert_array_equals([...copy].slice(0, 2), [1, "a"]);
  assert_equals(copy.size, 3);
}, "Set values are cloned in order");

test(() => {
  const map = new Map([[1, { x: "y" }]]);
  const copy = structuredClone({ m: map, again: map });
  assert_equals(copy.m, copy.again);
}, "a Map referenced twice is cloned once");

test(() => {
  const obj = { a: 1, b: "two", c: { d: [3] } };
  const copy = structuredClone(obj);
  assert_not_equals(copy, obj);
  assert_equals(JSON.stringify(copy), JSON.stringify(obj));
  assert_equals(Object.getPrototypeOf(copy), Object.prototype);
}, "plain objects are deep-copied");

test(() => {
  const obj = { z: 1, a: 2, 10: "ten", 2: "two" };
  assert_array_equals(Object.keys(structuredClone(obj)), ["2", "10", "z", "a"]);
}, "property order is kept");

test(() => {
  const obj = { own: 1 };
  Object.defineProperty(obj, "hidden", { value: 2, enumerable: false });
  obj[Symbol("s")] = 3;
  const proto = { inherited: 4 };
  const child = Object.create(proto);
  child.x = 5;
  const copy = structuredClone(obj);
  assert_array_equals(Object.getOwnPropertyNames(copy), ["own"]);
  assert_equals(Object.getOwnPropertySymbols(copy).length, 0);
  const c2 = structuredClone(child);
  assert_equals(Object.getPrototypeOf(c2), Object.prototype, "prototype is not kept");
  assert_equals(c2.inherited, undefined);
  assert_equals(c2.x, 5);
}, "only own enumerable string properties are cloned; prototypes are not");

test(() => {
  let calls = 0;
  const obj = { get g() { calls++; return "value"; } };
  const copy = structuredClone(obj);
  assert_equals(calls, 1);
  const desc = Object.getOwnPropertyDescriptor(copy, "g");
  assert_equals(desc.value, "value");
  assert_true(desc.writable && desc.enumerable && desc.configurable);
}, "getters are invoked and their values become data properties");

test(() => {
  const obj = {
    get a() { delete this.b; return 1; },
    b: 2,
  };
  const copy = structuredClone(obj);
  assert_equals(copy.a, 1);
  assert_false("b" in copy, "a property deleted during cloning is skipped");
}, "properties removed while cloning are skipped");

test(() => {
  const err = { name: "thrown" };
  assert_throws_exactly(err, () => structuredClone({ get x() { throw err; } }));
}, "exceptions from getters propagate");

test(() => {
  const arr = [1, , 3];
  arr.extra = "x";
  arr.length = 5;
  const copy = structuredClone(arr);
  assert_true(Array.isArray(copy));
  assert_equals(copy.length, 5);
  assert_false(1 in copy, "holes stay holes");
  assert_equals(copy[2], 3);
  assert_equals(copy.extra, "x");
}, "arrays keep their length, holes and extra properties");

test(() => {
  const obj = { name: "root" };
  obj.self = obj;
  obj.list = [obj, { back: obj }];
  const copy = structuredClone(obj);
  assert_equals(copy.self, copy);
  assert_equals(copy.list[0], copy);
  assert_equals(copy.list[1].back, copy);
  const arr = [];
  arr.push(arr);
  const c2 = structuredClone(arr);
  assert_equals(c2[0], c2);
}, "cycles are preserved");

test(() => {
  const shared = { v: 1 };
  const copy = structuredClone({ a: shared, b: shared, c: [shared] });
  assert_equals(copy.a, copy.b);
  assert_equals(copy.a, copy.c[0]);
}, "shared references are preserved");

const ERROR_TYPES = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];

for (const E of ERROR_TYPES) {
  test(() => {
    const e = new E("msg");
    const copy = structuredClone(e);
    assert_equals(Object.getPrototypeOf(copy), E.prototype);
    assert_equals(copy.name, E.name);
    assert_equals(copy.message, "msg");
    assert_false(Object.getOwnPropertyDescriptor(copy, "message").enumerable);
    assert_true(Error.isError(copy));
    assert_equals(copy.stack, e.stack, "stack is kept");
  }, `${E.name} objects keep their type, message and stack`);
}

test(() => {
  const copy = structuredClone(new Error());
  assert_false(Object.prototype.hasOwnProperty.call(copy, "message"));
  assert_equals(copy.message, "");
}, "an Error without a message has no own message");

test(() => {
  const e = new TypeError("m");
  e.name = "CustomError";
  assert_equals(Object.getPrototypeOf(structuredClone(e)), Error.prototype);
  const f = new Error("m");
  f.name = "RangeError";
  assert_equals(Object.getPrototypeOf(structuredClone(f)), RangeError.prototype);
  class MyError extends Error {}
  assert_equals(Object.getPrototypeOf(structuredClone(new MyError("x"))), Error.prototype);
}, "the error type follows the name property, unknown names become Error");

test(() => {
  const e = new Error();
  Object.defineProperty(e, "message", { get() { return "from getter"; } });
  assert_false(Object.prototype.hasOwnProperty.call(structuredClone(e), "message"));
  const f = new Error();
  f.message = 42;
  assert_equals(structuredClone(f).message, "42");
  const g = new Error("x");
  g.extra = 1;
  assert_equals(structuredClone(g).extra, undefined);
}, "Error message: getters are ignored, other values stringified; other properties dropped");

test(() => {
  const e = new DOMException("boom", "NotFoundError");
  const copy = structuredClone(e);
  assert_true(copy instanceof DOMException);
  assert_not_equals(copy, e);
  assert_equals(copy.name, "NotFoundError");
  assert_equals(copy.message, "boom");
  assert_equals(copy.code, 8);
  assert_equals(copy.stack, e.stack);
}, "DOMException is serializable");

const UNCLONEABLE = [
  ["a function", () => {}],
  ["a class", class {}],
  ["an async function", async () => {}],
  ["a WeakMap", new WeakMap()],
  ["a WeakSet", new WeakSet()],
  ["a WeakRef", new WeakRef({})],
  ["a Promise", Promise.resolve(1)],
  ["an object holding a function", { f() {} }],
  ["an Event", new Event("x")],
  ["an EventTarget", new EventTarget()],
  ["an AbortSignal", new AbortController().signal],
];

for (const [name, value] of UNCLONEABLE) {
  test(() => {
    assert_throws_dom("DataCloneError", () => structuredClone(value));
  }, `${name} throws DataCloneError`);
}

// --- transfer ---------------------------------------------------------------------------------

test(() => {
  const buffer = new Uint8Array([1, 2, 3]).buffer;
  const copy = structuredClone(buffer, { transfer: [buffer] });
  assert_equals(buffer.byteLength, 0);
  assert_true(buffer.detached);
  assert_equals(copy.byteLength, 3);
  assert_array_equals(new Uint8Array(copy), [1, 2, 3]);
}, "transferring an ArrayBuffer detaches it and moves its contents");

test(() => {
  const buffer = new ArrayBuffer(8);
  const view = new Uint8Array(buffer, 2, 4);
  view[0] = 5;
  const copy = structuredClone({ view, again: buffer }, { transfer: [buffer] });
  assert_true(buffer.detached);
  assert_equals(copy.view.buffer, copy.again);
  assert_equals(copy.view[0], 5);
  assert_equals(copy.view.byteOffset, 2);
}, "views of a transferred buffer use the transferred buffer");

test(() => {
  const buffer = new ArrayBuffer(4, { maxByteLength: 8 });
  const copy = structuredClone(buffer, { transfer: [buffer] });
  assert_true(copy.resizable);
  assert_equals(copy.maxByteLength, 8);
}, "a transferred resizable buffer stays resizable");

test(() => {
  const buffer = new ArrayBuffer(4);
  structuredClone(buffer, { transfer: [buffer] });
  assert_throws_dom("DataCloneError", () => structuredClone(buffer, { transfer: [buffer] }));
  assert_throws_dom("DataCloneError", () => structuredClone(1, { transfer: [buffer] }));
}, "a detached ArrayBuffer cannot be transferred");

test(() => {
  const buffer = new ArrayBuffer(4);
  assert_throws_dom("DataCloneError", () => structuredClone(buffer, { transfer: [buffer, buffer] }));
  assert_false(buffer.detached);
}, "listing a buffer twice throws DataCloneError without detaching");

test(() => {
  assert_throws_dom("DataCloneError", () => structuredClone(1, { transfer: [new SharedArrayBuffer(4)] }));
  assert_throws_dom("DataCloneError", () => structuredClone(1, { transfer: [{}] }));
  assert_throws_dom("DataCloneError", () => structuredClone(1, { transfer: [new Uint8Array(1)] }));
}, "only ArrayBuffers can be transferred");

test(() => {
  assert_throws_js(TypeError, () => structuredClone(1, { transfer: [1] }));
  assert_throws_js(TypeError, () => structuredClone(1, { transfer: 5 }));
  assert_throws_js(TypeError, () => structuredClone(1, 5));
  assert_equals(structuredClone(1, null), 1);
  assert_equals(structuredClone(1, { transfer: undefined }), 1);
}, "the options dictionary and transfer list are validated");

test(() => {
  const buffer = new ArrayBuffer(4);
  assert_throws_dom("DataCloneError", () => structuredClone({ buffer, f() {} }, { transfer: [buffer] }));
  assert_false(buffer.detached, "nothing is detached when serialization fails");
}, "a failed clone detaches nothing");

test(() => {
  const buffer = new ArrayBuffer(4);
  const result = structuredClone(7, { transfer: [buffer] });
  assert_equals(result, 7);
  assert_true(buffer.detached, "transferred even when not referenced by the value");
}, "transfer detaches listed buffers even when the value does not use them");

// --- internals --------------------------------------------------------------------------------

test(() => {
  const { serialize, deserialize } = __internals.structuredClone;
  const records = serialize({ a: [1, new Date(3)] });
  const one = deserialize(records);
  const two = deserialize(records);
  assert_not_equals(one, two);
  assert_equals(one.a[1].getTime(), 3);
  assert_equals(two.a[0], 1);
}, "internals serialize once, deserialize many times");

test(() => {
  const saved = Map.prototype.set;
  const savedKeys = Object.keys;
  const value = { m: new Map([[1, 2]]), k: 1 };
  Map.prototype.set = () => { throw new Error("patched"); };
  Object.keys = () => [];
  try {
    const copy = structuredClone(value);
    assert_equals(copy.m.get(1), 2);
    assert_equals(copy.k, 1);
  } finally {
    Map.prototype.set = saved;
    Object.keys = savedKeys;
  }
}, "cloning is immune to patched built-ins");
