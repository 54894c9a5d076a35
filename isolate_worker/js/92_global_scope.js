// The worker global scope's own attributes (HTML WorkerGlobalScope): `self`, `navigator`,
// `performance`, the shape of its operations (setTimeout, fetch, ...), the `onerror`,
// `onunhandledrejection` and `onrejectionhandled` event handlers, and the rejection tracking
// that fires `unhandledrejection` / `rejectionhandled` (HTML §8.1.4.7, "unhandled promise
// rejections"). The global object is the scope for both script styles: a module worker's
// bundle is a classic script too (isolate_worker/bundler.py).
//
// What is tracked. V8 tells its embedder of rejections with no handler through a C++
// callback (Isolate::SetPromiseRejectCallback) that mini-racer does not expose, and no
// JavaScript API can ask whether a promise has a handler. So the runtime watches the
// promises it is given:
//   * promises made by the global Promise.reject() and returned by fetch(), and
//   * promises returned by callbacks the runtime calls and then forgets: timer and
//     queueMicrotask callbacks, event listeners and event handlers (internals.trackCallbackResult).
// A watched promise learns that a handler was attached from an own `constructor` accessor:
// every way of attaching one (then, catch, finally, await, Promise.all/race/any/allSettled,
// resolving another promise with it) reads `constructor` (SpeciesConstructor or
// PromiseResolve). Rejections of other promises (an async function called and never
// awaited, `new Promise((_, reject) => reject())`) are not seen. The handler results
// (fetch, scheduled) and waitUntil promises are the runtime's own: their rejections are
// logged by 90_serve.js / 91_worker.js as before.
//
// As HTML says: when a watched promise rejects with no handler it joins the "about to be
// notified" list; a task then fires a cancelable PromiseRejectionEvent named
// "unhandledrejection" at the global for each one still unhandled, and logs the reason
// (its stack, mapped to the user's files, tagged with the request) unless a listener
// canceled the event. A handler attached later fires "rejectionhandled" in a task.

const {
  ArrayPrototypePush,
  NullArray,
  ObjectDefineProperty,
  ObjectGetPrototypeOf,
  Promise: NativePromise,
  PromisePrototypeThen,
  ReflectApply,
  ReflectGet,
  SafeWeakMap,
} = primordials;

const { events } = internals;

// -- attributes and operations of the global scope -------------------------------------------

// The global object is a [Global] interface's (WorkerGlobalScope, which includes
// WindowOrWorkerGlobalScope): Web IDL puts its attributes and regular operations on the
// global object itself, attributes as enumerable accessors, operations as enumerable,
// writable, configurable data properties (01_webidl.js: each file exposes its own so).

// WorkerGlobalScope: `readonly attribute WorkerGlobalScope self;`
internals.exposeGlobalAttribute("self", () => globalThis);

// -- event handlers of the global scope -------------------------------------------------------

events.defineEventHandler(globalThis, "error", { errorHandler: true });
events.defineEventHandler(globalThis, "unhandledrejection");
events.defineEventHandler(globalThis, "rejectionhandled");

// -- rejection tracking -------------------------------------------------------------------

// promise -> { promise, handled, rejected, reason, notified, owner }
const watched = new SafeWeakMap();
let aboutToBeNotified = NullArray();
let notifyQueued = false;

/** The served request the code running now belongs to (for the log line), or null. */
function currentOwner() {
  const serve = internals.serve;
  return serve !== undefined ? serve.owner() : null;
}

/** Watch `value` if it is a promise (anything else is ignored); its record, or undefined. */
function watch(value) {
  if (value === null || typeof value !== "object" || watched.has(value)) return undefined;
  const record = {
    __proto__: null, promise: value, handled: false, rejected: false, reason: undefined,
    notified: false, owner: currentOwner(),
  };
  try {
    // Throws before doing anything when `value` is not a promise.
    PromisePrototypeThen(value, undefined, (reason) => {
      if (!record.rejected) onRejected(record, reason);
    });
  } catch {
    return undefined;
  }
  try {
    ObjectDefineProperty(value, "constructor", {
      get() {
        markHandled(record);
        return ReflectGet(ObjectGetPrototypeOf(value), "constructor", this);
      },
      set(v) {
        markHandled(record);
        ObjectDefineProperty(this, "constructor", {
          value: v, writable: true, enumerable: true, configurable: true,
        });
      },
      enumerable: false,
      configurable: true,
    });
  } catch {
    return undefined; // a frozen promise: whether it gets a handler cannot be known, so say nothing
  }
  watched.set(value, record);
  return record;
}

/** HostPromiseRejectionTracker(promise, "reject") for a watched promise. */
function onRejected(record, reason) {
  record.rejected = true;
  record.reason = reason;
  if (record.handled) return;
  ArrayPrototypePush(aboutToBeNotified, record);
  queueNotify();
}

/** HostPromiseRejectionTracker(promise, "handle"). */
function markHandled(record) {
  if (record.handled) return;
  record.handled = true;
  if (!record.notified) return; // still about to be notified: the notification skips it
  record.notified = false;
  internals.timers.setTimeout(() => {
    events.fire(globalThis, "rejectionhandled",
      { promise: record.promise, reason: record.reason }, events.PromiseRejectionEvent);
  }, 0);
}

function queueNotify() {
  if (notifyQueued) return;
  notifyQueued = true;
  internals.timers.setTimeout(notifyAboutRejectedPromises, 0);
}

/** HTML "notify about rejected promises", run as a task of its own. */
function notifyAboutRejectedPromises() {
  notifyQueued = false;
  const list = aboutToBeNotified;
  aboutToBeNotified = NullArray();
  for (let i = 0; i < list.length; i++) {
    const record = list[i];
    if (record.handled) continue;
    let notCanceled = true;
    try {
      notCanceled = events.fire(globalThis, "unhandledrejection",
        { cancelable: true, promise: record.promise, reason: record.reason },
        events.PromiseRejectionEvent);
    } catch (e) {
      events.reportException(e);
    }
    if (notCanceled) logRejection(record);
    if (!record.handled) record.notified = true;
  }
}

/** The log line: the reason's stack, and the request (or scheduled event) it came from. */
function logRejection(record) {
  const host = internals.host;
  const owner = record.owner;
  let label = null;
  if (owner !== null) {
    if (typeof owner.label === "string") label = owner.label;
    else if (owner.requestId !== undefined) label = `request ${owner.requestId}`;
  }
  const where = label === null ? "(in promise)" : `(in promise, ${label})`;
  host.log("error", owner === null ? 0 : owner.sid, `Uncaught ${where} ${host.errorText(record.reason)}`);
}

internals.trackCallbackResult = watch;

// The global Promise.reject: the same function but for watching what it makes.
const promiseReject = NativePromise.reject;
ObjectDefineProperty(NativePromise, "reject", {
  value: {
    reject(reason) {
      const promise = ReflectApply(promiseReject, this, [reason]);
      if (this === NativePromise) {
        // The promise is rejected now: HostPromiseRejectionTracker(promise, "reject") runs
        // now too (not a microtask later), so the notification task is queued before any
        // task the caller queues next.
        const record = watch(promise);
        if (record !== undefined) onRejected(record, reason);
      }
      return promise;
    },
  }.reject,
  writable: true,
  enumerable: false,
  configurable: true,
});

// fetch(): a request nobody awaits must not fail silently either.
const runtimeFetch = globalThis.fetch;
if (typeof runtimeFetch === "function") {
  internals.exposeGlobalOperation("fetch", {
    fetch(input, init = undefined) {
      const promise = ReflectApply(runtimeFetch, this, arguments);
      watch(promise);
      return promise;
    },
  }.fetch);
}
