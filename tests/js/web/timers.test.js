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
