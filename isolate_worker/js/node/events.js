// node:events under nodejs_compat: EventEmitter, as Node has it (module.exports is the class).
"use strict";

const { apply: ReflectApply, ownKeys: ReflectOwnKeys } = Reflect;
const util = require("node:util");
const { codedError, invalidArgType, validateNumber } = util[Symbol.for("isoflow.node.internals")];
const ArrayPrototypeSlice = Array.prototype.slice;
const kCapture = Symbol("kCapture");
const errorMonitor = Symbol("events.errorMonitor");
let defaultMaxListeners = 10;

function checkListener(listener) {
  if (typeof listener !== "function") throw invalidArgType("listener", "Function", listener);
}

function EventEmitter(options) {
  EventEmitter.init.call(this, options);
}

EventEmitter.init = function init(options) {
  if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
    this._events = { __proto__: null };
    this._eventsCount = 0;
  }
  this._maxListeners = this._maxListeners || undefined;
  if (options && options.captureRejections) {
    if (typeof options.captureRejections !== "boolean") {
      throw invalidArgType("options.captureRejections", "boolean", options.captureRejections);
    }
    this[kCapture] = true;
  } else {
    this[kCapture] = EventEmitter.prototype[kCapture];
  }
};

EventEmitter.prototype[kCapture] = false;
Object.defineProperty(EventEmitter, "captureRejections", {
  enumerable: true,
  get() { return EventEmitter.prototype[kCapture]; },
  set(value) {
    if (typeof value !== "boolean") {
      throw invalidArgType("EventEmitter.captureRejections", "boolean", value);
    }
    EventEmitter.prototype[kCapture] = value;
  },
});

const kRejection = Symbol.for("nodejs.rejection");

/** captureRejections: a listener's rejected promise becomes an 'error' event (or a call of
 * emitter[Symbol.for('nodejs.rejection')]), on a later tick, as in Node. */
function addCatch(emitter, promise, type, args) {
  if (!emitter[kCapture]) return;
  try {
    const then = promise.then;
    if (typeof then === "function") {
      ReflectApply(then, promise, [undefined, (err) => {
        queueMicrotask(() => emitRejection(emitter, err, type, args));
      }]);
    }
  } catch (err) {
    emitter.emit("error", err);
  }
}

function emitRejection(emitter, err, type, args) {
  if (typeof emitter[kRejection] === "function") {
    emitter[kRejection](err, type, ...args);
    return;
  }
  const previous = emitter[kCapture];
  try {
    emitter[kCapture] = false; // an 'error' listener's own rejection does not loop
    emitter.emit("error", err);
  } finally {
    emitter[kCapture] = previous;
  }
}

EventEmitter.prototype._events = undefined;
EventEmitter.prototype._eventsCount = 0;
EventEmitter.prototype._maxListeners = undefined;

Object.defineProperty(EventEmitter, "defaultMaxListeners", {
  enumerable: true,
  get() { return defaultMaxListeners; },
  set(n) {
    validateNumber(n, "defaultMaxListeners", 0);
    defaultMaxListeners = n;
  },
});

EventEmitter.prototype.setMaxListeners = function setMaxListeners(n) {
  validateNumber(n, "setMaxListeners", 0);
  this._maxListeners = n;
  return this;
};

function maxListenersOf(target) {
  return target._maxListeners === undefined ? defaultMaxListeners : target._maxListeners;
}

EventEmitter.prototype.getMaxListeners = function getMaxListeners() {
  return maxListenersOf(this);
};

function eventsOf(target) {
  if (target._events === undefined) {
    target._events = { __proto__: null };
    target._eventsCount = 0;
  }
  return target._events;
}

EventEmitter.prototype.emit = function emit(type, ...args) {
  const events = this._events;
  if (type === "error" && events !== undefined && events[errorMonitor] !== undefined) {
    this.emit(errorMonitor, ...args);
  }
  const handler = events === undefined ? undefined : events[type];
  if (handler === undefined) {
    if (type === "error") {
      const er = args[0];
      if (er instanceof Error) throw er; // unhandled 'error' event
      let shown;
      try {
        shown = util.inspect(er);
      } catch {
        shown = er;
      }
      const error = codedError(Error, "ERR_UNHANDLED_ERROR",
                               `Unhandled error.${er === undefined ? "" : ` (${shown})`}`);
      error.context = er;
      throw error;
    }
    return false;
  }
  if (typeof handler === "function") {
    const result = ReflectApply(handler, this, args);
    if (result !== undefined && result !== null) addCatch(this, result, type, args);
  } else {
    const listeners = ReflectApply(ArrayPrototypeSlice, handler, []);
    for (let i = 0; i < listeners.length; i++) {
      const result = ReflectApply(listeners[i], this, args);
      if (result !== undefined && result !== null) addCatch(this, result, type, args);
    }
  }
  return true;
};

function addListener(target, type, listener, prepend) {
  checkListener(listener);
  let events = eventsOf(target);
  if (events.newListener !== undefined) {
    target.emit("newListener", type, listener.listener ? listener.listener : listener);
    events = target._events;
  }
  const existing = events[type];
  if (existing === undefined) {
    events[type] = listener;
    target._eventsCount++;
  } else if (typeof existing === "function") {
    events[type] = prepend ? [listener, existing] : [existing, listener];
  } else if (prepend) {
    existing.unshift(listener);
  } else {
    existing.push(listener);
  }
  const count = typeof events[type] === "function" ? 1 : events[type].length;
  const max = maxListenersOf(target);
  if (max > 0 && count > max && !events[type].warned) {
    if (typeof events[type] !== "function") events[type].warned = true;
    // As Node: a process warning (a 'warning' event on process, and printed).
    const warning = new Error(
      `Possible EventEmitter memory leak detected. ${count} ${String(type)} listeners added to ` +
      `${util.inspect(target, { depth: -1 })}. MaxListeners is ${max}. Use ` +
      "emitter.setMaxListeners() to increase limit");
    warning.name = "MaxListenersExceededWarning";
    warning.emitter = target;
    warning.type = type;
    warning.count = count;
    require("node:process").emitWarning(warning);
  }
  return target;
}

EventEmitter.prototype.addListener = function (type, listener) {
  return addListener(this, type, listener, false);
};
EventEmitter.prototype.on = EventEmitter.prototype.addListener;
EventEmitter.prototype.prependListener = function prependListener(type, listener) {
  return addListener(this, type, listener, true);
};

function onceWrapper(target, type, listener) {
  const state = { fired: false, target, type, listener, wrapFn: undefined };
  const wrapped = function (...args) {
    if (!state.fired) {
      state.target.removeListener(state.type, state.wrapFn);
      state.fired = true;
      return ReflectApply(state.listener, state.target, args);
    }
  };
  wrapped.listener = listener;
  state.wrapFn = wrapped;
  return wrapped;
}

EventEmitter.prototype.once = function once(type, listener) {
  checkListener(listener);
  return this.on(type, onceWrapper(this, type, listener));
};
EventEmitter.prototype.prependOnceListener = function prependOnceListener(type, listener) {
  checkListener(listener);
  return this.prependListener(type, onceWrapper(this, type, listener));
};

EventEmitter.prototype.removeListener = function removeListener(type, listener) {
  checkListener(listener);
  const events = this._events;
  if (events === undefined) return this;
  const list = events[type];
  if (list === undefined) return this;
  if (list === listener || list.listener === listener) {
    if (--this._eventsCount === 0) this._events = { __proto__: null };
    else delete events[type];
    if (events.removeListener !== undefined) {
      this.emit("removeListener", type, list.listener || listener);
    }
  } else if (typeof list !== "function") {
    let position = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i] === listener || list[i].listener === listener) {
        position = i;
        break;
      }
    }
    if (position < 0) return this;
    list.splice(position, 1);
    if (list.length === 1) events[type] = list[0];
    if (events.removeListener !== undefined) this.emit("removeListener", type, listener);
  }
  return this;
};
EventEmitter.prototype.off = EventEmitter.prototype.removeListener;

EventEmitter.prototype.removeAllListeners = function removeAllListeners(type) {
  const events = this._events;
  if (events === undefined) return this;
  if (events.removeListener === undefined) {
    if (arguments.length === 0) {
      this._events = { __proto__: null };
      this._eventsCount = 0;
    } else if (events[type] !== undefined) {
      if (--this._eventsCount === 0) this._events = { __proto__: null };
      else delete events[type];
    }
    return this;
  }
  if (arguments.length === 0) {
    for (const key of ReflectOwnKeys(events)) {
      if (key !== "removeListener") this.removeAllListeners(key);
    }
    this.removeAllListeners("removeListener");
    this._events = { __proto__: null };
    this._eventsCount = 0;
    return this;
  }
  const listeners = events[type];
  if (typeof listeners === "function") {
    this.removeListener(type, listeners);
  } else if (listeners !== undefined) {
    for (let i = listeners.length - 1; i >= 0; i--) this.removeListener(type, listeners[i]);
  }
  return this;
};

function listenersOf(target, type, unwrap) {
  const events = target._events;
  const list = events === undefined ? undefined : events[type];
  if (list === undefined) return [];
  const all = typeof list === "function" ? [list] : ReflectApply(ArrayPrototypeSlice, list, []);
  return unwrap ? all.map((l) => l.listener || l) : all;
}

EventEmitter.prototype.listeners = function listeners(type) {
  return listenersOf(this, type, true);
};
EventEmitter.prototype.rawListeners = function rawListeners(type) {
  return listenersOf(this, type, false);
};
EventEmitter.prototype.listenerCount = function listenerCount(type, listener) {
  const all = listenersOf(this, type, false);
  if (listener === undefined) return all.length;
  return all.filter((l) => l === listener || l.listener === listener).length;
};
EventEmitter.listenerCount = function listenerCount(emitter, type) {
  if (typeof emitter.listenerCount === "function") return emitter.listenerCount(type);
  return listenersOf(emitter, type, false).length;
};
EventEmitter.prototype.eventNames = function eventNames() {
  return this._eventsCount > 0 ? ReflectOwnKeys(this._events) : [];
};

class AbortError extends Error {
  constructor(message = "The operation was aborted", options = undefined) {
    super(message, options);
    this.code = "ABORT_ERR";
    this.name = "AbortError";
  }
}

// events.once works with an EventEmitter or an EventTarget (Node's eventTargetAgnostic*).
function addAgnostic(emitter, name, listener, once) {
  if (typeof emitter.on === "function") {
    if (once) emitter.once(name, listener);
    else emitter.on(name, listener);
  } else if (typeof emitter.addEventListener === "function") {
    emitter.addEventListener(name, listener, { once });
  } else {
    throw invalidArgType("emitter", "EventEmitter", emitter);
  }
}

function removeAgnostic(emitter, name, listener) {
  if (typeof emitter.removeListener === "function") emitter.removeListener(name, listener);
  else if (typeof emitter.removeEventListener === "function") emitter.removeEventListener(name, listener);
  else throw invalidArgType("emitter", "EventEmitter", emitter);
}

/** events.once(emitter, name[, { signal }]): a promise of the next event's arguments (an
 * EventTarget's: [event]); an 'error' event rejects it, and so does the signal's abort. */
async function once(emitter, name, options = {}) {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw invalidArgType("options", "Object", options);
  }
  const signal = options.signal;
  if (signal !== undefined && (signal === null || typeof signal !== "object" || !("aborted" in signal))) {
    throw invalidArgType("options.signal", "AbortSignal", signal);
  }
  if (signal !== undefined && signal.aborted) throw new AbortError(undefined, { cause: signal.reason });
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      emitter.removeListener(name, onEvent);
      if (signal !== undefined) removeAgnostic(signal, "abort", onAbort);
      reject(err);
    };
    const onEvent = (...args) => {
      if (typeof emitter.removeListener === "function") emitter.removeListener("error", onError);
      if (signal !== undefined) removeAgnostic(signal, "abort", onAbort);
      resolve(args);
    };
    const onAbort = () => {
      removeAgnostic(emitter, name, onEvent);
      if (typeof emitter.removeListener === "function") emitter.removeListener("error", onError);
      reject(new AbortError(undefined, { cause: signal.reason }));
    };
    addAgnostic(emitter, name, onEvent, true);
    // only an EventEmitter has 'error' events
    if (name !== "error" && typeof emitter.once === "function") emitter.once("error", onError);
    if (signal !== undefined) addAgnostic(signal, "abort", onAbort, true);
  });
}

EventEmitter.EventEmitter = EventEmitter;
EventEmitter.once = once;
EventEmitter.errorMonitor = errorMonitor;
EventEmitter.captureRejectionSymbol = kRejection;
EventEmitter.usingDomains = false;
EventEmitter.getEventListeners = (emitter, type) => emitter.listeners(type);
// An EventTarget's limit (it warns of nothing here, but getMaxListeners reports it).
const targetMaxListeners = new WeakMap();
const isEventTarget = (value) => typeof EventTarget === "function" && value instanceof EventTarget;

EventEmitter.getMaxListeners = function getMaxListeners(emitterOrTarget) {
  if (emitterOrTarget !== null && emitterOrTarget !== undefined &&
      typeof emitterOrTarget.getMaxListeners === "function") {
    return maxListenersOf(emitterOrTarget);
  }
  if (isEventTarget(emitterOrTarget)) {
    if (targetMaxListeners.has(emitterOrTarget)) return targetMaxListeners.get(emitterOrTarget);
    return typeof AbortSignal === "function" && emitterOrTarget instanceof AbortSignal ? 0
      : defaultMaxListeners;
  }
  throw invalidArgType("emitter", ["EventEmitter", "EventTarget"], emitterOrTarget);
};

EventEmitter.setMaxListeners = function setMaxListeners(n = defaultMaxListeners, ...targets) {
  validateNumber(n, "setMaxListeners", 0);
  if (targets.length === 0) defaultMaxListeners = n;
  for (const target of targets) {
    if (isEventTarget(target)) {
      targetMaxListeners.set(target, n);
      continue;
    }
    if (target === null || typeof target !== "object" || typeof target.setMaxListeners !== "function") {
      throw invalidArgType("eventTargets", ["EventEmitter", "EventTarget"], target);
    }
    target.setMaxListeners(n);
  }
};

module.exports = EventEmitter;
