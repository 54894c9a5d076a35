// META: internals
promise_test(async () => {
  const order = [];
  await new Promise((resolve) => {
    setTimeout(() => order.push("b"), 5);
    setTimeout(() => order.push("a"), 0);
    setTimeout(() => { order.push("c"); resolve(); }, 10);
  });
  assert_array_equals(order, ["a", "b", "c"]);
}, "timers fire in deadline order");

promise_test(async () => {
  const order = [];
  await new Promise((resolve) => {
    setTimeout(() => { order.push(1); Promise.resolve().then(() => order.push(2)); }, 0);
    setTimeout(() => { order.push(3); resolve(); }, 0);
  });
  assert_array_equals(order, [1, 2, 3]);
}, "microtasks drain between two timers");

promise_test(async () => {
  let n = 0;
  await new Promise((resolve) => {
    const id = setInterval(() => { if (++n === 3) { clearInterval(id); setTimeout(resolve, 20); } }, 1);
  });
  assert_equals(n, 3);
}, "setInterval repeats until cleared");

promise_test(async () => {
  let fired = false;
  const id = setTimeout(() => { fired = true; }, 1);
  clearTimeout(id);
  await new Promise((r) => setTimeout(r, 10));
  assert_false(fired);
}, "clearTimeout cancels");

test(() => {
  assert_throws_js(TypeError, () => queueMicrotask(5));
  const a = setTimeout(() => {}), b = setTimeout(() => {});
  assert_true(a > 0 && b > a);
}, "queueMicrotask validates, ids are increasing positive integers");

test(() => {
  assert_throws_js(TypeError, () => setTimeout());
  assert_throws_js(TypeError, () => setInterval());
}, "setTimeout and setInterval need a handler argument");

promise_test(async () => {
  // The timeout is a Web IDL long: 2^32 + 30 wraps around to 30 ms.
  const order = [];
  await new Promise((resolve) => {
    setTimeout(() => order.push("wrapped"), 2 ** 32 + 30);
    setTimeout(() => order.push("short"), 5);
    setTimeout(resolve, 80);
  });
  assert_array_equals(order, ["short", "wrapped"]);
}, "a timeout above 2^32 wraps modulo 2^32 like a long");

promise_test(async () => {
  let fired = false;
  const id = setTimeout(() => { fired = true; }, 5);
  clearTimeout(id + 2 ** 32); // converted to a long, this is `id` again
  await new Promise((r) => setTimeout(r, 20));
  assert_false(fired);
}, "clearTimeout converts its id like a long");

promise_test(async () => {
  // Inside the fifth nested timer the nesting level is 5: a zero timeout is not clamped
  // yet, so it still runs before a 4 ms one scheduled just before it.
  const order = [];
  await new Promise((resolve) => {
    let depth = 0;
    const nest = () => {
      if (++depth < 5) {
        setTimeout(nest, 0);
        return;
      }
      setTimeout(() => order.push("4ms"), 4);
      setTimeout(() => order.push("0ms"), 0);
      setTimeout(resolve, 30);
    };
    setTimeout(nest, 0);
  });
  assert_array_equals(order, ["0ms", "4ms"]);
}, "only timers nested more than five deep are clamped to 4 ms");

promise_test(async () => {
  const seen = await new Promise((resolve) => {
    setTimeout(function () {
      "use strict";
      resolve(this);
    }, 0);
  });
  assert_equals(seen, globalThis);
}, "a timer callback is called with the global as its this value");

promise_test(async () => {
  // AbortSignal.timeout takes an unsigned long long: a long wait must not end at once.
  const signal = AbortSignal.timeout(2 ** 33);
  await new Promise((r) => setTimeout(r, 20));
  assert_false(signal.aborted);
}, "AbortSignal.timeout with more than 2^31 ms does not abort early");

// scheduler.wait (Cloudflare Workers): an awaitable setTimeout with an optional signal.
promise_test(async () => {
  const start = Date.now();
  assert_equals(await scheduler.wait(25), undefined);
  assert_greater_than_equal(Date.now() - start, 24);
  assert_equals(Object.prototype.toString.call(scheduler), "[object Scheduler]");
}, "scheduler.wait resolves with undefined after the delay");

promise_test(async () => {
  const controller = new AbortController();
  const before = __internals.timers.count();
  const waiting = scheduler.wait(60000, { signal: controller.signal });
  assert_equals(__internals.timers.count(), before + 1);
  const reason = new Error("no more waiting");
  controller.abort(reason);
  assert_equals(__internals.timers.count(), before, "the timer is cleared");
  await waiting.then(() => assert_unreached("resolved"), (e) => assert_equals(e, reason));
  const already = AbortSignal.abort("early");
  await scheduler.wait(0, { signal: already }).then(
    () => assert_unreached("resolved"), (e) => assert_equals(e, "early"));
}, "scheduler.wait rejects with the signal's reason when it aborts, and clears its timer");

promise_test(async () => {
  await promise_rejects_js(null, TypeError, scheduler.wait());
  await promise_rejects_js(null, TypeError, scheduler.wait.call({}, 1));
  await promise_rejects_js(null, TypeError, scheduler.wait(1, { signal: "not a signal" }));
  assert_throws_js(TypeError, () => new scheduler.constructor());
}, "scheduler.wait rejects bad arguments and receivers; Scheduler cannot be constructed");
