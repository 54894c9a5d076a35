// node:timers/promises under nodejs_compat: setTimeout, setImmediate (promises) and
// setInterval (an async iterator), each cancelled by an AbortSignal with an AbortError, and
// scheduler.wait / scheduler.yield.
"use strict";

const als = require("isoflow:als");
const internals = require("node:util")[Symbol.for("isoflow.node.internals")];

/** ERR_INVALID_ARG_TYPE, shown as Node shows its errors: "TypeError [CODE]: message". */
function invalidArgType(name, expected, actual) {
  return internals.withCode(internals.invalidArgType(name, expected, actual));
}

const setTimeoutGlobal = setTimeout;
const clearTimeoutGlobal = clearTimeout;
const setIntervalGlobal = setInterval;
const clearIntervalGlobal = clearInterval;
const queue = queueMicrotask;
const PromiseCtor = Promise;
const PromiseReject = Promise.reject.bind(Promise);
const AbortSignalCtor = AbortSignal;
const TIMEOUT_MAX = 2 ** 31 - 1;

class AbortError extends Error {
  constructor(message = "The operation was aborted", options = undefined) {
    super(message, options);
    this.code = "ABORT_ERR";
    this.name = "AbortError";
  }
}

function validateDelay(after) {
  if (after !== undefined && typeof after !== "number") throw invalidArgType("delay", "number", after);
}

function validateOptions(options) {
  if (options === null || typeof options !== "object") throw invalidArgType("options", "Object", options);
  const { signal, ref } = options;
  if (signal !== undefined &&
      !(signal instanceof AbortSignalCtor ||
        (signal !== null && typeof signal === "object" && "aborted" in signal))) {
    throw invalidArgType("options.signal", "AbortSignal", signal);
  }
  if (ref !== undefined && typeof ref !== "boolean") throw invalidArgType("options.ref", "boolean", ref);
  return signal;
}

/** Node's delay: a number of ms from 1 to 2^31 - 1, else 1. */
function delayOf(after) {
  after *= 1;
  return after >= 1 && after <= TIMEOUT_MAX ? after : 1;
}

const aborted = (signal) => new AbortError(undefined, { cause: signal.reason });

/** A promise settled by `start(resolve)` (which returns its cancel function) or the signal. */
function cancellable(signal, start) {
  if (signal !== undefined && signal.aborted) return PromiseReject(aborted(signal));
  return new PromiseCtor((resolve, reject) => {
    let onAbort;
    const cancel = start((value) => {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
      resolve(value);
    });
    if (signal !== undefined) {
      onAbort = () => {
        cancel();
        reject(aborted(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
}

function setTimeoutPromise(after, value, options = {}) {
  let signal;
  try {
    validateDelay(after);
    signal = validateOptions(options);
  } catch (err) {
    return PromiseReject(err);
  }
  const ms = delayOf(after);
  return cancellable(signal, (resolve) => {
    const id = setTimeoutGlobal(() => resolve(value), ms);
    return () => clearTimeoutGlobal(id);
  });
}

function setImmediatePromise(value, options = {}) {
  let signal;
  try {
    signal = validateOptions(options);
  } catch (err) {
    return PromiseReject(err);
  }
  return cancellable(signal, (resolve) => {
    let cancelled = false;
    let id = 0;
    // from a microtask: the timer nesting of the current task does not delay it
    queue(() => {
      if (!cancelled) id = setTimeoutGlobal(() => resolve(value), 0);
    });
    return () => {
      cancelled = true;
      clearTimeoutGlobal(id);
    };
  });
}

/** An async iterator that yields `value` every `after` ms (ticks missed while the consumer
 * was busy are yielded at once on the next call). */
async function* setIntervalIterator(after, value, options = {}) {
  validateDelay(after);
  const signal = validateOptions(options);
  if (signal !== undefined && signal.aborted) throw aborted(signal);
  let onCancel;
  let interval;
  try {
    let notYielded = 0;
    let callback;
    interval = setIntervalGlobal(als.bind(() => {
      notYielded++;
      if (callback) {
        callback();
        callback = undefined;
      }
    }), delayOf(after));
    if (signal !== undefined) {
      onCancel = () => {
        clearIntervalGlobal(interval);
        if (callback) {
          callback(PromiseReject(aborted(signal)));
          callback = undefined;
        }
      };
      signal.addEventListener("abort", onCancel, { once: true });
    }
    while (!(signal !== undefined && signal.aborted)) {
      if (notYielded === 0) await new PromiseCtor((resolve) => { callback = resolve; });
      for (; notYielded > 0; notYielded--) yield value;
    }
    throw aborted(signal);
  } finally {
    clearIntervalGlobal(interval);
    if (onCancel !== undefined) signal.removeEventListener("abort", onCancel);
  }
}

const kScheduler = Symbol("kScheduler");

/** The type of `scheduler` (it cannot be constructed by scripts). */
class Scheduler {
  constructor(key = undefined) {
    if (key !== kScheduler) {
      const error = new TypeError("Illegal constructor");
      error.code = "ERR_ILLEGAL_CONSTRUCTOR";
      throw error;
    }
  }

  /** scheduler.yield(): a promise resolved in a later macrotask. */
  yield() {
    return setImmediatePromise();
  }

  /** scheduler.wait(delay[, { signal }]): setTimeout's promise without a value. */
  wait(delay, options) {
    return setTimeoutPromise(delay, undefined, options);
  }
}

const scheduler = new Scheduler(kScheduler);

module.exports = {
  setTimeout: setTimeoutPromise,
  setImmediate: setImmediatePromise,
  setInterval: setIntervalIterator,
  scheduler,
};
