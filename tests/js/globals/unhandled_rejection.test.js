// META: internals
// HTML §8.1.4.7 unhandled promise rejections: PromiseRejectionEvent, the global's
// onunhandledrejection / onrejectionhandled / onerror, and the events fired for the
// promises the runtime watches (Promise.reject(), results of timer, microtask and event
// listener callbacks); see isolate_worker/js/92_global_scope.js for what is watched.

/** Two task turns: the notification task queued by a rejection has run after this. */
const turns = () => new Promise((r) => setTimeout(() => setTimeout(r, 0), 0));

/** Record unhandledrejection / rejectionhandled events and log lines during a test. */
function record(t) {
  const seen = { unhandled: [], handled: [], logs: [] };
  const onUnhandled = (e) => seen.unhandled.push(e);
  const onHandled = (e) => seen.handled.push(e);
  addEventListener("unhandledrejection", onUnhandled);
  addEventListener("rejectionhandled", onHandled);
  const host = __internals.host;
  const log = host.log;
  host.log = (level, id, message) => seen.logs.push({ level, id, message });
  t.add_cleanup(() => {
    removeEventListener("unhandledrejection", onUnhandled);
    removeEventListener("rejectionhandled", onHandled);
    host.log = log;
  });
  return seen;
}

test(() => {
  const p = Promise.resolve();
  const e = new PromiseRejectionEvent("unhandledrejection", { promise: p, reason: 1 });
  assert_true(e instanceof Event);
  assert_equals(e.type, "unhandledrejection");
  assert_equals(e.promise, p);
  assert_equals(e.reason, 1);
  assert_false(e.cancelable);
  assert_false(e.isTrusted);
  const bare = new PromiseRejectionEvent("x", { promise: {} });
  assert_equals(bare.reason, undefined, "reason defaults to undefined");
  assert_throws_js(TypeError, () => new PromiseRejectionEvent("x"), "the dictionary is required");
  assert_throws_js(TypeError, () => new PromiseRejectionEvent("x", {}), "promise is required");
  assert_throws_js(TypeError, () => new PromiseRejectionEvent("x", { promise: 1 }),
    "promise is an object");
  assert_throws_js(TypeError,
    () => Object.getOwnPropertyDescriptor(PromiseRejectionEvent.prototype, "promise").get.call(new Event("x")));
  assert_equals(Object.prototype.toString.call(e), "[object PromiseRejectionEvent]");
}, "PromiseRejectionEvent");

test(() => {
  for (const name of ["onerror", "onunhandledrejection", "onrejectionhandled"]) {
    assert_equals(globalThis[name], null, name);
    const f = () => {};
    globalThis[name] = f;
    assert_equals(globalThis[name], f, name);
    globalThis[name] = 5;
    assert_equals(globalThis[name], null, `${name}: non-objects become null`);
  }
}, "the global's event handler attributes");

promise_test(async (t) => {
  const seen = record(t);
  const reason = new Error("nobody handles this");
  const p = Promise.reject(reason);
  await Promise.resolve();
  assert_equals(seen.unhandled.length, 0, "not fired during the task's microtasks");
  await turns();
  assert_equals(seen.unhandled.length, 1);
  const e = seen.unhandled[0];
  assert_true(e instanceof PromiseRejectionEvent);
  assert_equals(e.promise, p);
  assert_equals(e.reason, reason);
  assert_true(e.isTrusted);
  assert_true(e.cancelable);
  assert_equals(seen.logs.length, 1);
  assert_equals(seen.logs[0].level, "error");
  assert_true(seen.logs[0].message.startsWith("Uncaught (in promise) Error: nobody handles this"),
    seen.logs[0].message);
  assert_true(seen.logs[0].message.includes("unhandled_rejection.test.js:"), "the stack");
}, "Promise.reject() with no handler fires unhandledrejection in a later task and is logged");

promise_test(async (t) => {
  const seen = record(t);
  t.add_cleanup(() => { globalThis.onunhandledrejection = null; });
  const calls = [];
  addEventListener("unhandledrejection", (e) => e.preventDefault(), { once: true });
  globalThis.onunhandledrejection = (e) => { calls.push(e.reason); };
  Promise.reject(42);
  await turns();
  assert_array_equals(calls, [42], "onunhandledrejection ran");
  assert_equals(seen.unhandled.length, 1);
  assert_equals(seen.logs.length, 0, "preventDefault() keeps it out of the log");
}, "a listener that calls preventDefault() silences the log; onunhandledrejection is called");

promise_test(async (t) => {
  const seen = record(t);
  t.add_cleanup(() => { globalThis.onunhandledrejection = null; });
  globalThis.onunhandledrejection = () => false;
  Promise.reject(1);
  await turns();
  assert_equals(seen.unhandled.length, 1);
  assert_equals(seen.logs.length, 0);
}, "an onunhandledrejection handler returning false cancels the event");

promise_test(async (t) => {
  const seen = record(t);
  Promise.reject(1).catch(() => {});
  Promise.reject(2).then(null, () => {});
  Promise.reject(3).finally(() => {}).catch(() => {});
  const later = Promise.reject(4);
  await null;
  later.catch(() => {});
  try {
    await Promise.reject(5);
  } catch {}
  Promise.all([Promise.reject(6)]).catch(() => {});
  Promise.allSettled([Promise.reject(7)]);
  (async () => Promise.reject(8))().catch(() => {});
  await turns();
  assert_equals(seen.unhandled.length, 0, seen.unhandled.map((e) => e.reason).join());
  assert_equals(seen.logs.length, 0);
}, "rejections handled before the task ends are not reported (then, catch, finally, await, combinators, adoption)");

promise_test(async (t) => {
  const seen = record(t);
  const p = Promise.reject(new Error("late"));
  await turns();
  assert_equals(seen.unhandled.length, 1);
  p.catch(() => {});
  assert_equals(seen.handled.length, 0, "rejectionhandled is fired in a task");
  await turns();
  assert_equals(seen.handled.length, 1);
  assert_equals(seen.handled[0].promise, p);
  assert_equals(seen.handled[0].reason.message, "late");
  assert_false(seen.handled[0].cancelable);
}, "a handler attached after the notification fires rejectionhandled");

promise_test(async (t) => {
  const seen = record(t);
  setTimeout(async () => {
    throw new TypeError("from a timer");
  }, 0);
  queueMicrotask(async () => {
    throw new RangeError("from a microtask");
  });
  const target = new EventTarget();
  target.addEventListener("go", async () => {
    throw new SyntaxError("from a listener");
  });
  target.dispatchEvent(new Event("go"));
  await turns();
  await turns();
  const names = seen.unhandled.map((e) => e.reason.name).sort();
  assert_array_equals(names, ["RangeError", "SyntaxError", "TypeError"]);
  assert_equals(seen.logs.length, 3);
}, "promises returned by timer, microtask and listener callbacks are watched");

promise_test(async (t) => {
  const seen = record(t);
  setTimeout(async () => "fine", 0);
  new EventTarget().addEventListener("x", async () => {});
  await turns();
  assert_equals(seen.unhandled.length, 0);
}, "fulfilled callback results are not reported");

test(() => {
  assert_equals(Promise.reject.name, "reject");
  assert_equals(Promise.reject.length, 1);
  const p = Promise.reject(1);
  p.catch(() => {});
  assert_equals(p.constructor, Promise);
  assert_true(p instanceof Promise);
  class MyPromise extends Promise {}
  const q = MyPromise.reject(2);
  q.catch(() => {});
  assert_true(q instanceof MyPromise);
  assert_equals(q.constructor, MyPromise);
  assert_throws_js(TypeError, () => Promise.reject.call(undefined, 1));
}, "Promise.reject is unchanged to scripts");

promise_test(async (t) => {
  const seen = record(t);
  const errors = [];
  t.add_cleanup(() => { globalThis.onerror = null; });
  globalThis.onerror = (message, filename, lineno, colno, error) => {
    errors.push([message, error]);
    return true; // cancels: not logged
  };
  setTimeout(() => {
    throw new Error("boom");
  }, 0);
  await turns();
  assert_equals(errors.length, 1);
  assert_equals(errors[0][0], "Uncaught Error: boom");
  assert_equals(errors[0][1].message, "boom");
  assert_equals(seen.logs.length, 0);
}, "onerror receives uncaught exceptions; returning true cancels the report");

promise_test(async (t) => {
  const seen = record(t);
  fetch("http://[not a url/");
  try {
    await fetch("http://[not a url/");
  } catch {}
  fetch("http://[not a url/").catch(() => {});
  await turns();
  assert_equals(seen.unhandled.length, 1, "only the fetch nobody awaited");
  assert_true(seen.unhandled[0].reason instanceof TypeError);
  assert_equals(fetch.name, "fetch");
  assert_equals(fetch.length, 1);
}, "a fetch() whose rejection nobody handles is reported");

promise_test(async (t) => {
  const seen = record(t);
  const order = [];
  const reason = new Error("rejected at once");
  addEventListener("unhandledrejection", function onEvent(e) {
    if (e.reason !== reason) return;
    removeEventListener("unhandledrejection", onEvent);
    order.push("unhandledrejection");
  });
  const p = Promise.reject(reason);
  // A task queued right after the rejection, in the same task: the rejection was tracked
  // when Promise.reject() returned, so its notification task comes first.
  setTimeout(() => {
    order.push("timer");
    p.catch(() => {});
  }, 0);
  await turns();
  await turns();
  assert_array_equals(order, ["unhandledrejection", "timer"]);
  assert_equals(seen.handled.length, 1, "the late handler fires rejectionhandled");
  assert_equals(seen.handled[0].promise, p);
}, "Promise.reject() is tracked as it returns: the notification precedes a task queued next");
