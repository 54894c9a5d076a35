// META: internals
// AbortController and AbortSignal (DOM standard), and the runtime's internals.abort.

test(() => {
  const c = new AbortController();
  const s = c.signal;
  let state = "begin";
  assert_false(s.aborted);
  assert_equals(s.reason, undefined);
  s.addEventListener("abort", () => {
    assert_equals(state, "begin");
    state = "aborted";
  });
  c.abort();
  assert_equals(state, "aborted");
  assert_true(s.aborted);
}, "abort() fires the abort event synchronously");

test(() => {
  const c = new AbortController();
  const signal = c.signal;
  assert_equals(c.signal, signal);
  c.abort();
  assert_equals(c.signal, signal);
}, "controller.signal is always the same object");

test(() => {
  const c = new AbortController();
  let count = 0;
  c.signal.onabort = () => count++;
  c.abort();
  c.abort();
  assert_equals(count, 1);
}, "a second abort() does nothing");

test(() => {
  const c = new AbortController();
  c.abort("first");
  c.abort("second");
  assert_equals(c.signal.reason, "first");
}, "the first reason is kept");

test(() => {
  const c = new AbortController();
  let e;
  c.signal.onabort = (ev) => { e = ev; };
  c.abort();
  assert_equals(e.type, "abort");
  assert_equals(e.target, c.signal);
  assert_false(e.bubbles);
  assert_false(e.cancelable);
  assert_true(e.isTrusted);
}, "the abort event is a trusted, non-bubbling, non-cancelable Event");

test(() => {
  const c = new AbortController();
  c.abort();
  let called = false;
  c.signal.onabort = () => { called = true; };
  assert_false(called);
}, "a handler added after abort is not called");

test(() => {
  const c = new AbortController();
  c.abort();
  const r = c.signal.reason;
  assert_true(r instanceof DOMException);
  assert_equals(r.name, "AbortError");
  assert_equals(r.code, 20);
  const c2 = new AbortController();
  c2.abort(undefined);
  assert_equals(c2.signal.reason.name, "AbortError");
}, "abort() without a reason uses an AbortError DOMException");

test(() => {
  for (const reason of [null, 0, "", false, { a: 1 }, new Error("e")]) {
    const c = new AbortController();
    c.abort(reason);
    assert_true(c.signal.aborted);
    assert_equals(c.signal.reason, reason);
  }
}, "any value except undefined is kept as the reason");

test(() => {
  const c = new AbortController();
  c.signal.throwIfAborted();
  const reason = new Error("why");
  c.abort(reason);
  assert_throws_exactly(reason, () => c.signal.throwIfAborted());
  const c2 = new AbortController();
  c2.abort(null);
  assert_throws_exactly(null, () => c2.signal.throwIfAborted());
}, "throwIfAborted throws the reason");

test(() => {
  const signal = AbortSignal.abort();
  assert_true(signal instanceof AbortSignal);
  assert_true(signal.aborted);
  assert_equals(signal.reason.name, "AbortError");
  assert_equals(AbortSignal.abort("r").reason, "r");
}, "AbortSignal.abort() returns an aborted signal");

async_test((t) => {
  const s = AbortSignal.abort();
  s.addEventListener("abort", t.unreached_func("abort event listener called"));
  s.onabort = t.unreached_func("abort event handler called");
  t.step_timeout(() => t.done(), 20);
}, "a signal from AbortSignal.abort() fires no abort event");

test(() => {
  assert_throws_js(TypeError, () => new AbortSignal());
  assert_throws_js(TypeError, () => AbortSignal());
}, "AbortSignal is not constructible");

test(() => {
  const acSignalGet = Object.getOwnPropertyDescriptor(AbortController.prototype, "signal").get;
  const acAbort = AbortController.prototype.abort;
  for (const bad of [null, undefined, 0, NaN, true, "AbortController", Object.create(AbortController.prototype)]) {
    assert_throws_js(TypeError, () => acSignalGet.call(bad));
    assert_throws_js(TypeError, () => acAbort.call(bad));
  }
}, "AbortController performs brand checks");

test(() => {
  const abortedGet = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted").get;
  const reasonGet = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "reason").get;
  for (const bad of [null, undefined, 0, NaN, true, "AbortSignal", Object.create(AbortSignal.prototype), new EventTarget()]) {
    assert_throws_js(TypeError, () => abortedGet.call(bad));
    assert_throws_js(TypeError, () => reasonGet.call(bad));
    assert_throws_js(TypeError, () => AbortSignal.prototype.throwIfAborted.call(bad));
  }
}, "AbortSignal performs brand checks");

test(() => {
  assert_true(new AbortController().signal instanceof EventTarget);
  assert_class_string(new AbortController().signal, "AbortSignal");
  assert_class_string(new AbortController(), "AbortController");
  assert_equals(Object.getPrototypeOf(AbortSignal), EventTarget);
  for (const key of ["aborted", "reason", "onabort", "throwIfAborted"]) {
    assert_true(Object.getOwnPropertyDescriptor(AbortSignal.prototype, key).enumerable, key);
  }
  for (const key of ["abort", "timeout", "any"]) {
    assert_true(Object.getOwnPropertyDescriptor(AbortSignal, key).enumerable, key);
  }
}, "AbortSignal is an EventTarget with IDL-shaped members");

// --- AbortSignal.timeout ------------------------------------------------------------------

test(() => {
  const signal = AbortSignal.timeout(0);
  assert_true(signal instanceof AbortSignal);
  assert_false(signal.aborted);
}, "AbortSignal.timeout() returns a signal that is not yet aborted");

async_test((t) => {
  const signal = AbortSignal.timeout(5);
  signal.onabort = t.step_func_done((e) => {
    assert_true(signal.aborted);
    assert_true(signal.reason instanceof DOMException);
    assert_equals(signal.reason.name, "TimeoutError");
    assert_equals(signal.reason.code, 23);
    assert_true(e.isTrusted);
  });
}, "AbortSignal.timeout() aborts with a TimeoutError");

async_test((t) => {
  let result = "";
  for (const value of ["1", "2", "3"]) {
    AbortSignal.timeout(5).onabort = t.step_func(() => { result += value; });
  }
  AbortSignal.timeout(5).onabort = t.step_func_done(() => {
    assert_equals(result, "123");
  });
}, "AbortSignal timeouts fire in order");

test(() => {
  assert_throws_js(TypeError, () => AbortSignal.timeout(-1));
  assert_throws_js(TypeError, () => AbortSignal.timeout(NaN));
  assert_throws_js(TypeError, () => AbortSignal.timeout(Infinity));
  assert_throws_js(TypeError, () => AbortSignal.timeout(2 ** 64));
  assert_throws_js(TypeError, () => AbortSignal.timeout());
}, "AbortSignal.timeout() enforces the unsigned long long range");

// --- AbortSignal.any ------------------------------------------------------------------------

test(() => {
  assert_false(AbortSignal.any([]).aborted);
}, "AbortSignal.any([]) is not aborted");

test(() => {
  const controller = new AbortController();
  const clone = AbortSignal.any([controller.signal]);
  assert_false(clone.aborted);
  assert_equals(clone.reason, undefined);
  assert_not_equals(clone, controller.signal);
  let fired = false;
  clone.onabort = (e) => {
    assert_equals(e.target, clone);
    fired = true;
  };
  controller.abort("reason string");
  assert_true(clone.aborted);
  assert_true(fired);
  assert_equals(clone.reason, "reason string");
}, "AbortSignal.any() follows a single signal");

test(() => {
  for (let i = 0; i < 3; ++i) {
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const combined = AbortSignal.any(controllers.map((c) => c.signal));
    let fired = false;
    combined.onabort = () => { fired = true; };
    controllers[i].abort();
    assert_true(fired);
    assert_equals(combined.reason.name, "AbortError");
  }
}, "AbortSignal.any() follows multiple signals");

test(() => {
  const controllers = [new AbortController(), new AbortController(), new AbortController()];
  controllers[1].abort("reason 1");
  controllers[2].abort("reason 2");
  const signal = AbortSignal.any(controllers.map((c) => c.signal));
  assert_true(signal.aborted);
  assert_equals(signal.reason, "reason 1");
}, "AbortSignal.any() of an aborted signal is aborted with the first reason");

test(() => {
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, controller.signal]);
  let count = 0;
  signal.onabort = () => count++;
  controller.abort("reason");
  assert_equals(signal.reason, "reason");
  assert_equals(count, 1);
}, "AbortSignal.any() can be passed the same signal twice");

test(() => {
  const controllers = [new AbortController(), new AbortController(), new AbortController()];
  for (let i = 0; i < 3; ++i) {
    const cs = [new AbortController(), new AbortController(), new AbortController()];
    const combined1 = AbortSignal.any([cs[0].signal, cs[1].signal]);
    const combined2 = AbortSignal.any([combined1, cs[2].signal]);
    let fired = false;
    combined2.onabort = () => { fired = true; };
    cs[i].abort();
    assert_true(fired);
    assert_true(combined2.aborted);
  }
  void controllers;
}, "AbortSignal.any() signals are composable");

test(() => {
  const controller = new AbortController();
  let combined = AbortSignal.any([controller.signal]);
  combined = AbortSignal.any([combined]);
  combined = AbortSignal.any([combined]);
  let fired = false;
  combined.onabort = () => { fired = true; };
  controller.abort("the reason");
  assert_true(fired);
  assert_equals(combined.reason, "the reason");
}, "AbortSignal.any() works with intermediate signals");

test(() => {
  const controller = new AbortController();
  const signals = [controller.signal];
  signals.push(AbortSignal.any([controller.signal]));
  signals.push(AbortSignal.any([controller.signal]));
  signals.push(AbortSignal.any([signals[0]]));
  signals.push(AbortSignal.any([signals[1]]));
  let result = "";
  signals.forEach((s, i) => s.addEventListener("abort", () => { result += i; }));
  controller.abort();
  assert_equals(result, "01234");
}, "abort events of dependent signals fire in creation order after the source");

test(() => {
  const controller = new AbortController();
  const dependent = AbortSignal.any([controller.signal]);
  let seen;
  controller.signal.onabort = () => { seen = [dependent.aborted, dependent.reason]; };
  controller.abort("r");
  assert_array_equals(seen, [true, "r"]);
}, "dependent signals are marked aborted before the source's abort event fires");

async_test((t) => {
  const controller = new AbortController();
  const combined = AbortSignal.any([controller.signal, AbortSignal.timeout(5)]);
  combined.onabort = t.step_func_done(() => {
    assert_equals(combined.reason.name, "TimeoutError");
  });
}, "AbortSignal.any() works with AbortSignal.timeout()");

test(() => {
  assert_throws_js(TypeError, () => AbortSignal.any());
  assert_throws_js(TypeError, () => AbortSignal.any([{}]));
  assert_throws_js(TypeError, () => AbortSignal.any(5));
  assert_throws_js(TypeError, () => AbortSignal.any([new AbortController().signal, null]));
}, "AbortSignal.any() requires a sequence of AbortSignals");

test(() => {
  const c = new AbortController();
  const s = AbortSignal.any(new Set([c.signal]));
  c.abort(1);
  assert_equals(s.reason, 1);
}, "AbortSignal.any() accepts any iterable");

// --- internals.abort ----------------------------------------------------------------------------

test(() => {
  const { abort } = __internals;
  const c = new AbortController();
  const order = [];
  abort.addAlgorithm(c.signal, () => order.push("algorithm 1"));
  const h = abort.addAlgorithm(c.signal, () => order.push("removed"));
  abort.addAlgorithm(c.signal, () => order.push("algorithm 2"));
  abort.removeAlgorithm(c.signal, h);
  c.signal.addEventListener("abort", () => order.push("event"));
  c.abort();
  assert_array_equals(order, ["algorithm 1", "algorithm 2", "event"]);
}, "abort algorithms run in order before the abort event; removed ones do not");

test(() => {
  const { abort } = __internals;
  const signal = abort.createAbortSignal();
  assert_true(abort.isAbortSignal(signal));
  assert_false(abort.isAbortSignal({}));
  assert_false(abort.isAbortSignal(null));
  abort.signalAbort(signal, "why");
  assert_true(abort.isAborted(signal));
  assert_equals(abort.getReason(signal), "why");
  let ran = false;
  abort.addAlgorithm(signal, () => { ran = true; });
  assert_false(ran, "algorithms added after abort never run");
}, "internals.abort creates, tests and aborts signals");

test(() => {
  const { abort } = __internals;
  const c = new AbortController();
  const dep = abort.createDependentSignal([c.signal]);
  const dep2 = abort.createDependentSignal([dep]);
  c.abort("x");
  assert_equals(dep.reason, "x");
  assert_equals(dep2.reason, "x");
}, "internals.abort.createDependentSignal follows its sources");

test(() => {
  const { abort } = __internals;
  const c = new AbortController();
  const calls = [];
  abort.addAlgorithm(c.signal, () => { throw new Error("algo"); });
  abort.addAlgorithm(c.signal, () => calls.push("next"));
  const listener = (e) => { calls.push(e.error.message); e.preventDefault(); };
  globalThis.addEventListener("error", listener);
  try {
    c.abort();
  } finally {
    globalThis.removeEventListener("error", listener);
  }
  assert_array_equals(calls, ["algo", "next"]);
  assert_true(c.signal.aborted);
}, "an abort algorithm that throws is reported and the others still run");

promise_test(async () => {
  // Dependent signals nobody listens to are not kept alive by their source.
  const c = new AbortController();
  for (let i = 0; i < 200; i++) AbortSignal.any([c.signal]);
  // A dependent with a listener stays reachable through the source until abort.
  let fired = false;
  AbortSignal.any([c.signal]).addEventListener("abort", () => { fired = true; });
  await new Promise((r) => setTimeout(r, 0));
  c.abort();
  assert_true(fired);
}, "a dependent signal with only an abort listener still fires");
