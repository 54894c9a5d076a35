// node:async_hooks under nodejs_compat: AsyncLocalStorage (and AsyncResource), as Workers
// offer them. The context ("frame") is kept by the bundle's prelude (js/compiler/prelude.js):
//   * await: a bundle that imports this module has its async functions compiled to
//     generators driven by the prelude's __alsAwaiter, which restores the frame of the call
//     at every resumption (async generators: their awaits too; a for await loop's);
//   * timers, queueMicrotask, process.nextTick and the callbacks of then/catch/finally
//     run in the frame current when they were scheduled (the globals are wrapped here,
//     before the script's first line; the runtime keeps its own unwrapped copies);
//   * each call of the fetch/scheduled handler starts with no store.
// Not carried: callbacks the runtime itself calls later (a ReadableStream's pull() when
// the client reads, event listeners) run in the frame of whatever triggered them.
"use strict";

const als = require("isoflow:als");

const { apply: ReflectApply } = Reflect;
const MapCtor = Map;
const MapPrototypeGet = Map.prototype.get;
const MapPrototypeSet = Map.prototype.set;
const MapPrototypeDelete = Map.prototype.delete;
const MapPrototypeHas = Map.prototype.has;
const PromisePrototypeThen = Promise.prototype.then;

als.used = true;

/** A frame with `storage` set to `store` (frames are never changed in place). */
function withStore(frame, storage, store) {
  const next = new MapCtor(frame === null ? undefined : frame);
  ReflectApply(MapPrototypeSet, next, [storage, store]);
  return next;
}

function without(frame, storage) {
  if (frame === null || !ReflectApply(MapPrototypeHas, frame, [storage])) return frame;
  const next = new MapCtor(frame);
  ReflectApply(MapPrototypeDelete, next, [storage]);
  return next;
}

function runIn(frame, fn, thisArg, args) {
  const saved = als.get();
  als.set(frame);
  try {
    return ReflectApply(fn, thisArg, args);
  } finally {
    als.set(saved);
  }
}

class AsyncLocalStorage {
  #enabled = true;

  getStore() {
    const frame = als.get();
    if (!this.#enabled || frame === null) return undefined;
    return ReflectApply(MapPrototypeGet, frame, [this]);
  }

  run(store, fn, ...args) {
    this.#enabled = true;
    return runIn(withStore(als.get(), this, store), fn, undefined, args);
  }

  exit(fn, ...args) {
    return runIn(without(als.get(), this), fn, undefined, args);
  }

  /** The store for the rest of this synchronous run and what it schedules. */
  enterWith(store) {
    this.#enabled = true;
    als.set(withStore(als.get(), this, store));
  }

  disable() {
    this.#enabled = false;
    als.set(without(als.get(), this));
  }

  static bind(fn) {
    return als.bind(fn);
  }

  static snapshot() {
    const frame = als.get();
    return (fn, ...args) => runIn(frame, fn, undefined, args);
  }
}

class AsyncResource {
  #frame;

  constructor(type) {
    this.type = type;
    this.#frame = als.get();
  }

  runInAsyncScope(fn, thisArg, ...args) {
    return runIn(this.#frame, fn, thisArg, args);
  }

  bind(fn, thisArg) {
    const frame = this.#frame;
    return function (...args) {
      return runIn(frame, fn, thisArg === undefined ? this : thisArg, args);
    };
  }

  static bind(fn, type, thisArg) {
    return new AsyncResource(type || "bound-anonymous-fn").bind(fn, thisArg);
  }

  emitDestroy() {
    return this;
  }

  asyncId() {
    return 0;
  }

  triggerAsyncId() {
    return 0;
  }
}

// -- the frame into scheduled callbacks ----------------------------------------------------

// The wrapper passes its arguments on as given (setTimeout() with none still throws the
// runtime's TypeError), has the original's name and length, and replaces the global with
// the attributes it had (a regular operation of the global: writable, enumerable,
// configurable).
function wrapScheduler(name) {
  const desc = Object.getOwnPropertyDescriptor(globalThis, name);
  if (desc === undefined || typeof desc.value !== "function") return;
  const original = desc.value;
  const wrapped = {
    [name](...args) {
      if (args.length > 0 && typeof args[0] === "function") args[0] = als.bind(args[0]);
      return ReflectApply(original, globalThis, args);
    },
  }[name];
  Object.defineProperty(wrapped, "length", { value: original.length, configurable: true });
  Object.defineProperty(globalThis, name, {
    value: wrapped,
    writable: desc.writable,
    enumerable: desc.enumerable,
    configurable: desc.configurable,
  });
}
for (const name of ["setTimeout", "setInterval", "queueMicrotask"]) wrapScheduler(name);

Object.defineProperty(Promise.prototype, "then", {
  value: function then(onFulfilled, onRejected) {
    return ReflectApply(PromisePrototypeThen, this, [
      typeof onFulfilled === "function" ? als.bind(onFulfilled) : onFulfilled,
      typeof onRejected === "function" ? als.bind(onRejected) : onRejected,
    ]);
  },
  writable: true,
  configurable: true,
  enumerable: false,
});

function createHook() {
  return { enable() { return this; }, disable() { return this; } };
}

module.exports = {
  AsyncLocalStorage,
  AsyncResource,
  createHook,
  executionAsyncId: () => 0,
  triggerAsyncId: () => 0,
  executionAsyncResource: () => ({}),
};
