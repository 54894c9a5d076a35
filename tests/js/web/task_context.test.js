// META: internals
// Task contexts (09_timers.js): timers and queueMicrotask callbacks run with the context
// that was current when they were scheduled; an expired context's timers never run.
const contexts = __internals.contexts;

function withContext(ctx, fn) {
  return contexts.run(ctx, fn, undefined, []);
}

promise_test(async () => {
  const ctx = contexts.create(null, Infinity);
  const seen = [];
  await new Promise((resolve) => {
    withContext(ctx, () => {
      setTimeout(() => {
        seen.push(contexts.current === ctx);
        setTimeout(() => { seen.push(contexts.current === ctx); resolve(); }, 0);
      }, 0);
      queueMicrotask(() => seen.push(contexts.current === ctx));
    });
  });
  assert_array_equals(seen, [true, true, true]);
  assert_equals(contexts.current, null, "restored after each callback");
}, "timers and microtasks carry the context they were scheduled in, also when nested");

promise_test(async () => {
  const expiredWith = [];
  const ctx = contexts.create(null, Infinity);
  ctx.onExpire = (n) => expiredWith.push(n);
  let ran = 0;
  withContext(ctx, () => {
    setTimeout(() => { ran++; }, 5);
    setInterval(() => { ran++; }, 1);
  });
  assert_equals(ctx.timers.size, 2);
  contexts.expire(ctx);
  assert_array_equals(expiredWith, [2], "onExpire is told how many timers were cleared");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert_equals(ran, 0);
  assert_equals(ctx.timers.size, 0);
}, "expiring a context clears its pending timers, intervals included");

promise_test(async () => {
  const ctx = contexts.create(null, Date.now() + 30);
  let ticks = 0;
  withContext(ctx, () => setInterval(() => { ticks++; }, 1));
  await new Promise((resolve) => setTimeout(resolve, 80));
  const atDeadline = ticks;
  assert_true(ctx.expired, "the interval's next run past the deadline expired it");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert_equals(ticks, atDeadline, "no tick after the deadline");
  assert_equals(ctx.timers.size, 0);
}, "a context's timers stop at its deadline");
