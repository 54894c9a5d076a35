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
const ArrayIsArray = Array.isArray;
const NumberIsSafeInteger = Number.isSafeInteger;

als.used = true;

function codedError(Ctor, message, code) {
  const error = new Ctor(message);
  error.code = code;
  return error;
}

/** Node's ERR_INVALID_ARG_TYPE for a value that is not a function (or not an object). */
function invalidArgType(name, type, value) {
  let shown;
  if (value === null || value === undefined) shown = `${value}`;
  else if (typeof value === "object") shown = `an instance of ${value.constructor?.name ?? "Object"}`;
  else if (typeof value === "string") shown = `type string ('${value}')`;
  else shown = `type ${typeof value} (${String(value)})`;
  return codedError(TypeError, `The "${name}" argument must be of type ${type}. Received ${shown}`,
                    "ERR_INVALID_ARG_TYPE");
}

function validateFunction(fn, name) {
  if (typeof fn !== "function") throw invalidArgType(name, "function", fn);
}

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

// executionAsyncId(): the id of the AsyncResource whose scope runs now (runInAsyncScope,
// bind), else 1 (Node's id of the main script); not carried into what a scope schedules.
let currentAsyncId = 1;
let currentTriggerId = 0;
let nextAsyncId = 2;
let hooksEnabled = 0; // createHook(...).enable() calls not undone: AsyncResource checks its type

function runIn(frame, fn, thisArg, args, asyncId = currentAsyncId, triggerId = currentTriggerId) {
  const saved = als.get();
  const savedId = currentAsyncId, savedTrigger = currentTriggerId;
  als.set(frame);
  currentAsyncId = asyncId;
  currentTriggerId = triggerId;
  try {
    return ReflectApply(fn, thisArg, args);
  } finally {
    als.set(saved);
    currentAsyncId = savedId;
    currentTriggerId = savedTrigger;
  }
}

class AsyncLocalStorage {
  #enabled = true;
  #defaultValue = undefined;
  #name = "";

  /** options: { defaultValue, name } (Node 24). */
  constructor(options = {}) {
    if (options === null || typeof options !== "object" || ArrayIsArray(options)) {
      throw invalidArgType("options", "object", options);
    }
    this.#defaultValue = options.defaultValue;
    if (options.name !== undefined) this.#name = `${options.name}`;
  }

  get name() {
    return this.#name;
  }

  /** The store of the current run() or enterWith(), else the default value. */
  getStore() {
    const frame = als.get();
    if (!this.#enabled || frame === null || !ReflectApply(MapPrototypeHas, frame, [this])) {
      return this.#defaultValue;
    }
    return ReflectApply(MapPrototypeGet, frame, [this]);
  }

  run(store, fn, ...args) {
    this.#enabled = true;
    return runIn(withStore(als.get(), this, store), fn, undefined, args);
  }

  /** fn with no store (undefined, not the default value: Node's run(undefined, fn)). */
  exit(fn, ...args) {
    return runIn(withStore(als.get(), this, undefined), fn, undefined, args);
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

  /** fn, to run in the context current now, whenever it is called. */
  static bind(fn) {
    return AsyncResource.bind(fn);
  }

  static snapshot() {
    return AsyncResource.bind((cb, ...args) => ReflectApply(cb, undefined, args),
                              "AsyncLocalStorageSnapshot");
  }
}

class AsyncResource {
  #frame;
  #asyncId;
  #triggerAsyncId;

  /** type: a string; options: { triggerAsyncId, requireManualDestroy } or the trigger id. */
  constructor(type, options = {}) {
    if (typeof type !== "string") throw invalidArgType("type", "string", type);
    let triggerAsyncId = options;
    if (typeof options !== "number") {
      triggerAsyncId = options === null || options === undefined ||
        options.triggerAsyncId === undefined ? currentAsyncId : options.triggerAsyncId;
    }
    if (!NumberIsSafeInteger(triggerAsyncId) || triggerAsyncId < -1) {
      throw codedError(RangeError, `Invalid triggerAsyncId value: ${triggerAsyncId}`,
                       "ERR_INVALID_ASYNC_ID");
    }
    if (hooksEnabled > 0 && type.length === 0) {
      throw codedError(TypeError, `Invalid name for async "type": ${type}`, "ERR_ASYNC_TYPE");
    }
    this.#frame = als.get();
    this.#asyncId = nextAsyncId++;
    this.#triggerAsyncId = triggerAsyncId;
  }

  runInAsyncScope(fn, thisArg, ...args) {
    return runIn(this.#frame, fn, thisArg, args, this.#asyncId, this.#triggerAsyncId);
  }

  /** fn run in this resource's scope, `this` as the call's unless thisArg is given. */
  bind(fn, thisArg) {
    validateFunction(fn, "fn");
    const resource = this;
    const bound = thisArg === undefined
      ? function (...args) { return resource.runInAsyncScope(fn, this, ...args); }
      : function (...args) { return resource.runInAsyncScope(fn, thisArg, ...args); };
    let self = this;
    Object.defineProperties(bound, {
      length: { value: fn.length, configurable: true, enumerable: false, writable: false },
      asyncResource: {
        get() { return self; },
        set(value) { self = value; },
        configurable: true,
        enumerable: true,
      },
    });
    return bound;
  }

  static bind(fn, type, thisArg) {
    validateFunction(fn, "fn");
    type = type || fn.name;
    return new AsyncResource(type || "bound-anonymous-fn").bind(fn, thisArg);
  }

  emitDestroy() {
    return this;
  }

  asyncId() {
    return this.#asyncId;
  }

  triggerAsyncId() {
    return this.#triggerAsyncId;
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

/** A hook whose callbacks isoflow never calls (no async resources are tracked). */
function createHook(callbacks = {}) {
  if (callbacks === null || typeof callbacks !== "object") {
    throw invalidArgType("callbacks", "object", callbacks);
  }
  for (const name of ["init", "before", "after", "destroy", "promiseResolve"]) {
    const fn = callbacks[name];
    if (fn !== undefined && typeof fn !== "function") {
      throw codedError(TypeError, `hook.${name} must be a function`, "ERR_ASYNC_CALLBACK");
    }
  }
  let enabled = false;
  return {
    enable() {
      if (!enabled) { enabled = true; hooksEnabled++; }
      return this;
    },
    disable() {
      if (enabled) { enabled = false; hooksEnabled--; }
      return this;
    },
  };
}

module.exports = {
  AsyncLocalStorage,
  AsyncResource,
  createHook,
  executionAsyncId: () => currentAsyncId,
  triggerAsyncId: () => currentTriggerId,
  executionAsyncResource: () => ({}),
};
