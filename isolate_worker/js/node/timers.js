// node:timers under nodejs_compat: setTimeout / setInterval return Timeout objects (ref,
// unref, hasRef, refresh, close; a number as a primitive, which clearTimeout takes too) over
// the runtime's timers; setImmediate runs its callback in a later macrotask (a zero-delay
// timer started from a microtask, so the timer nesting of the task that asked for it does
// not delay it), immediates in the order they were set.
"use strict";

const als = require("isoflow:als");
const internals = require("node:util")[Symbol.for("isoflow.node.internals")];

/** ERR_INVALID_ARG_TYPE, shown as Node shows its errors: "TypeError [CODE]: message". */
function invalidArgType(name, expected, actual) {
  return internals.withCode(internals.invalidArgType(name, expected, actual));
}
const promises = require("node:timers/promises");

const { apply: ReflectApply } = Reflect;
const setTimeoutGlobal = setTimeout;
const clearTimeoutGlobal = clearTimeout;
const setIntervalGlobal = setInterval;
const clearIntervalGlobal = clearInterval;
const queue = queueMicrotask;
const SafeMap = Map;
const MapGet = Map.prototype.get;
const MapSet = Map.prototype.set;
const MapDelete = Map.prototype.delete;
const SymbolToPrimitive = Symbol.toPrimitive;
const SymbolDispose = Symbol.dispose ?? Symbol.for("nodejs.dispose");
const TIMEOUT_MAX = 2 ** 31 - 1;

const kId = Symbol("kId");
const kRefed = Symbol("kRefed");
const kArgs = Symbol("kArgs");
const kCleared = Symbol("kCleared");
const live = new SafeMap(); // primitive id -> Timeout, for clearTimeout(+timeout)

function validateCallback(callback) {
  if (typeof callback !== "function") throw invalidArgType("callback", "Function", callback);
}

/** What a Timeout and an Immediate both say: whether they hold the event loop (an isolate
 * has no loop to hold open: the flag is only kept and reported). */
class Refable {
  constructor() {
    this[kRefed] = true;
  }

  ref() {
    this[kRefed] = true;
    return this;
  }

  unref() {
    this[kRefed] = false;
    return this;
  }

  hasRef() {
    return this[kRefed];
  }
}

class Timeout extends Refable {
  constructor(callback, after, args, isRepeat) {
    super();
    after *= 1;
    if (!(after >= 1 && after <= TIMEOUT_MAX)) after = 1;
    this._idleTimeout = after;
    this._onTimeout = callback;
    this._repeat = isRepeat ? after : null;
    this._destroyed = false;
    this[kArgs] = args;
    this[kId] = 0;
    start(this);
  }

  /** Starts the timer again from now, with the same callback and delay. */
  refresh() {
    if (!this._destroyed) {
      stop(this);
      start(this);
    }
    return this;
  }

  close() {
    clear(this);
    return this;
  }

  [SymbolToPrimitive]() {
    return this[kId];
  }

  [SymbolDispose]() {
    clear(this);
  }
}

function start(timeout) {
  const run = als.bind(() => {
    if (timeout._repeat === null) {
      timeout._destroyed = true;
      ReflectApply(MapDelete, live, [timeout[kId]]);
    }
    ReflectApply(timeout._onTimeout, timeout, timeout[kArgs]);
  });
  const id = timeout._repeat === null
    ? setTimeoutGlobal(run, timeout._idleTimeout)
    : setIntervalGlobal(run, timeout._idleTimeout);
  ReflectApply(MapDelete, live, [timeout[kId]]);
  timeout[kId] = id;
  ReflectApply(MapSet, live, [id, timeout]);
}

function stop(timeout) {
  if (timeout._repeat === null) clearTimeoutGlobal(timeout[kId]);
  else clearIntervalGlobal(timeout[kId]);
}

function clear(timer) {
  if (timer === null || timer === undefined) return;
  if (timer instanceof Timeout) {
    if (timer._destroyed) return;
    timer._destroyed = true;
    stop(timer);
    ReflectApply(MapDelete, live, [timer[kId]]);
    return;
  }
  if (timer instanceof Immediate) {
    clearImmediate(timer);
    return;
  }
  if (typeof timer === "number" || typeof timer === "string") {
    const known = ReflectApply(MapGet, live, [+timer]);
    if (known !== undefined) clear(known);
    else clearTimeoutGlobal(+timer); // an id of the global setTimeout
  }
}

function setTimeoutNode(callback, after, ...args) {
  validateCallback(callback);
  return new Timeout(callback, after, args, false);
}

function setIntervalNode(callback, repeat, ...args) {
  validateCallback(callback);
  return new Timeout(callback, repeat, args, true);
}

class Immediate extends Refable {
  constructor(callback, args) {
    super();
    this._onImmediate = callback;
    this._argv = args;
    this._destroyed = false;
    this[kCleared] = false;
    this[kId] = 0;
    const run = als.bind(() => {
      this._destroyed = true;
      ReflectApply(this._onImmediate, this, this._argv);
    });
    queue(() => {
      if (!this[kCleared]) this[kId] = setTimeoutGlobal(run, 0);
    });
  }

  [SymbolDispose]() {
    clearImmediate(this);
  }
}

function setImmediateNode(callback, ...args) {
  validateCallback(callback);
  return new Immediate(callback, args);
}

function clearImmediate(immediate) {
  if (!(immediate instanceof Immediate) || immediate[kCleared]) return;
  immediate[kCleared] = true;
  immediate._destroyed = true;
  if (immediate[kId] !== 0) clearTimeoutGlobal(immediate[kId]);
}

// util.promisify(setTimeout) and util.promisify(setImmediate) are node:timers/promises' own
const customPromisify = Symbol.for("nodejs.util.promisify.custom");
Object.defineProperty(setTimeoutNode, customPromisify, { value: promises.setTimeout });
Object.defineProperty(setImmediateNode, customPromisify, { value: promises.setImmediate });

module.exports = {
  setTimeout: setTimeoutNode,
  clearTimeout: clear,
  setInterval: setIntervalNode,
  clearInterval: clear,
  setImmediate: setImmediateNode,
  clearImmediate,
  promises,
};
