// Primordials: the built-ins the runtime relies on, captured before any user code runs,
// so that a script that patches a global (Array.prototype.push, Promise.prototype.then,
// ...) cannot break the runtime's internals.
//
// Naming follows Node's and Deno's convention:
//   ArrayIsArray                      static method      Array.isArray
//   ArrayPrototypePush(arr, x)        uncurried method   Array.prototype.push
//   ArrayBufferPrototypeGetByteLength getter, uncurried  ArrayBuffer.prototype.byteLength
//   SymbolAsyncIterator               well-known symbol  Symbol.asyncIterator
//   SafeMap / SafeSet / SafeWeakMap   subclasses whose methods cannot be patched
//   SafePromiseAll, PromisePrototypeThen, ...
//
// Every runtime file is evaluated as the body of
//   function (primordials, internals) { "use strict"; ... }
// (see isolate_worker/runtime.py); this file fills `primordials`.

const uncurryThis = Function.prototype.bind.bind(Function.prototype.call);
const applyBind = Function.prototype.bind.bind(Function.prototype.apply);
primordials.uncurryThis = uncurryThis;
primordials.applyBind = applyBind;

const { apply: ReflectApply, defineProperty, getOwnPropertyDescriptor, ownKeys } = Reflect;

/** A key's part of a primordial's name ("push" -> "Push", Symbol.iterator -> "SymbolIterator"); null for other symbols. */
function memberName(key) {
  if (typeof key !== "symbol") return `${key[0].toUpperCase()}${key.slice(1)}`;
  const d = key.description;
  if (!d || !d.startsWith("Symbol.")) return null;
  return `Symbol${d[7].toUpperCase()}${d.slice(8)}`;
}

function copyProps(src, dest, prefix) {
  for (const key of ownKeys(src)) {
    const member = memberName(key);
    if (member === null) continue;
    const name = `${prefix}${member}`;
    if (name in dest) continue;
    const desc = getOwnPropertyDescriptor(src, key);
    if ("get" in desc) {
      if (desc.get) dest[`${prefix}Get${member}`] = desc.get;
    } else if (typeof desc.value === "function" && key !== "prototype") {
      // Statics are bound to their owner: PromiseResolve(x), ArrayFrom(it), MathMax(a, b),
      // and have an Apply form taking an argument list: StringFromCharCodeApply(codes).
      const fn = desc.value;
      dest[name] = fn.bind(src);
      dest[`${name}Apply`] = (args) => ReflectApply(fn, src, args);
    } else {
      dest[name] = desc.value;
    }
  }
}

function copyPrototype(src, dest, prefix) {
  for (const key of ownKeys(src)) {
    const member = memberName(key);
    if (member === null) continue;
    const name = `${prefix}${member}`;
    const desc = getOwnPropertyDescriptor(src, key);
    if ("get" in desc) {
      if (desc.get) dest[`${prefix}Get${member}`] = uncurryThis(desc.get);
      if (desc.set) dest[`${prefix}Set${member}`] = uncurryThis(desc.set);
    } else if (typeof desc.value === "function") {
      dest[name] = uncurryThis(desc.value);
      dest[`${name}Apply`] = applyBind(desc.value);
    } else if (!(name in dest)) {
      dest[name] = desc.value;
    }
  }
}

// Plain values and functions.
for (const name of [
  "globalThis", "isNaN", "isFinite", "parseFloat", "parseInt",
  "encodeURIComponent", "decodeURIComponent", "encodeURI", "decodeURI", "escape", "unescape",
]) {
  primordials[name] = globalThis[name];
}

// Namespaces: static members only.
for (const name of ["JSON", "Math", "Reflect", "Atomics"]) {
  copyProps(globalThis[name], primordials, name);
}

// Constructors: the constructor, its statics and its uncurried prototype.
for (const name of [
  "AggregateError", "Array", "ArrayBuffer", "BigInt", "BigInt64Array", "BigUint64Array",
  "Boolean", "DataView", "Date", "Error", "EvalError", "FinalizationRegistry",
  "Float32Array", "Float64Array", "Function", "Int16Array", "Int32Array", "Int8Array",
  "Map", "Number", "Object", "Promise", "Proxy", "RangeError", "ReferenceError", "RegExp",
  "Set", "SharedArrayBuffer", "String", "Symbol", "SyntaxError", "TypeError", "URIError",
  "Uint16Array", "Uint32Array", "Uint8Array", "Uint8ClampedArray", "WeakMap", "WeakRef",
  "WeakSet",
]) {
  const ctor = globalThis[name];
  if (ctor === undefined) continue;
  primordials[name] = ctor;
  copyProps(ctor, primordials, name);
  if (ctor.prototype) copyPrototype(ctor.prototype, primordials, `${name}Prototype`);
}

// Objects reachable only through instances.
const TypedArray = Object.getPrototypeOf(Uint8Array);
primordials.TypedArray = TypedArray;
copyProps(TypedArray, primordials, "TypedArray");
copyPrototype(TypedArray.prototype, primordials, "TypedArrayPrototype");

// The typed array constructors by name (Float16Array too when V8 has it).
const TypedArrayConstructors = { __proto__: null };
for (const name of [
  "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
  "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array",
  "BigUint64Array",
]) {
  if (typeof globalThis[name] === "function") TypedArrayConstructors[name] = globalThis[name];
}
primordials.TypedArrayConstructors = Object.freeze(TypedArrayConstructors);

const ArrayIteratorPrototype = Object.getPrototypeOf([][Symbol.iterator]());
primordials.ArrayIteratorPrototype = ArrayIteratorPrototype;
copyPrototype(ArrayIteratorPrototype, primordials, "ArrayIteratorPrototype");

// Map and Set iterators: `for (const x of map.values())` consults the patchable `next` of
// these prototypes, so the runtime copies a collection's values with the captured ones.
for (const [name, proto] of [
  ["MapIteratorPrototype", Object.getPrototypeOf(new Map().values())],
  ["SetIteratorPrototype", Object.getPrototypeOf(new Set().values())],
]) {
  primordials[name] = proto;
  copyPrototype(proto, primordials, name);
}

/**
 * An array whose prototype is null: the runtime's own queues and records. Writing an element
 * of an ordinary array consults Array.prototype and Object.prototype for a setter of that
 * index; a script's setter there would receive the runtime's array.
 */
const { setPrototypeOf: setProto } = Object;
primordials.NullArray = () => setProto([], null);

function valuesOf(iterator, next) {
  const out = primordials.NullArray();
  for (;;) {
    const r = next(iterator);
    if (r.done) return out;
    out[out.length] = r.value;
  }
}
/** The values of a (Safe)Map or (Safe)Set as a NullArray, without patchable calls. */
primordials.SafeMapValues = (map) =>
  valuesOf(primordials.MapPrototypeValues(map), primordials.MapIteratorPrototypeNext);
primordials.SafeSetValues = (set) =>
  valuesOf(primordials.SetPrototypeValues(set), primordials.SetIteratorPrototypeNext);

const AsyncIteratorPrototype = Object.getPrototypeOf(
  Object.getPrototypeOf(async function* () {}).prototype,
);
primordials.AsyncIteratorPrototype = AsyncIteratorPrototype;

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
primordials.AsyncFunction = AsyncFunction;

// Safe collections: subclasses whose methods are own copies, immune to prototype patches.
function makeSafe(unsafe, safe) {
  const proto = unsafe.prototype;
  for (const key of ownKeys(proto)) {
    if (key === "constructor") continue;
    const desc = getOwnPropertyDescriptor(proto, key);
    defineProperty(safe.prototype, key, desc);
  }
  Object.setPrototypeOf(safe.prototype, null);
  Object.freeze(safe.prototype);
  Object.freeze(safe);
  return safe;
}

primordials.SafeMap = makeSafe(Map, class SafeMap extends Map {
  constructor(i) { super(i); }
});
primordials.SafeSet = makeSafe(Set, class SafeSet extends Set {
  constructor(i) { super(i); }
});
primordials.SafeWeakMap = makeSafe(WeakMap, class SafeWeakMap extends WeakMap {
  constructor(i) { super(i); }
});
primordials.SafeWeakSet = makeSafe(WeakSet, class SafeWeakSet extends WeakSet {
  constructor(i) { super(i); }
});
// Regular expressions whose exec, @@replace, @@search, ... are own copies: a script that
// replaces RegExp.prototype.exec (which String.prototype.replace and friends call) does not
// change what the runtime's `new SafeRegExp(/.../)` does.
primordials.SafeRegExp = makeSafe(RegExp, class SafeRegExp extends RegExp {
  constructor(pattern, flags) { super(pattern, flags); }
});
primordials.SafeWeakRef = makeSafe(WeakRef, class SafeWeakRef extends WeakRef {
  constructor(t) { super(t); }
});

// Promise helpers that do not consult the (patchable) Promise.prototype.then.
const { Promise: NativePromise } = primordials;
const PromisePrototypeThen = primordials.PromisePrototypeThen;

primordials.SafePromiseAll = (values) =>
  new NativePromise((resolve, reject) => {
    const results = [];
    let remaining = values.length;
    if (remaining === 0) {
      resolve(results);
      return;
    }
    for (let i = 0; i < values.length; i++) {
      const p = primordials.PromiseResolve(values[i]);
      PromisePrototypeThen(p, (v) => {
        results[i] = v;
        if (--remaining === 0) resolve(results);
      }, reject);
    }
  });


// Atomics.wait blocks V8's thread without using CPU: the CPU limit cannot see it, and the
// worker still answers heartbeats, so one call (with no timeout) would freeze the isolate
// and every request on it for good. As on a browser's main thread, scripts get a TypeError
// instead; Atomics.waitAsync (which the timers use) does not block and stays.
if (typeof globalThis.Atomics === "object" && typeof globalThis.Atomics.wait === "function") {
  primordials.ObjectDefineProperty(globalThis.Atomics, "wait", {
    value: function wait() {
      throw new primordials.TypeError("Atomics.wait cannot be called in this context");
    },
    writable: true, enumerable: false, configurable: true,
  });
}

// V8's gc() (isolate_worker/v8.py exposes it as __isoflow_gc): for the runtime only. V8
// makes the global non-configurable, so it is blanked rather than deleted.
primordials.gc = typeof globalThis.__isoflow_gc === "function" ? globalThis.__isoflow_gc : null;
if (primordials.gc !== null) globalThis.__isoflow_gc = undefined;

Object.freeze(primordials);
