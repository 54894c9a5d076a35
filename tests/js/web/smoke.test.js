// META: internals
test(() => {
  assert_equals(typeof __internals.webidl.converters.DOMString, "function");
  assert_equals(__internals.webidl.converters["unsigned long"](-1), 4294967295);
  assert_equals(__internals.webidl.converters.octet(257), 1);
}, "webidl integer conversions wrap");

test(() => {
  assert_equals(typeof globalThis.__isoflow_boot, "undefined");
  assert_equals(typeof primordials, "undefined");
}, "runtime internals are not reachable from scripts");

promise_test(async () => {
  const v = await Promise.resolve(3);
  assert_equals(v, 3);
}, "promise tests run");

promise_test(async (t) => {
  await promise_rejects_js(t, TypeError, Promise.reject(new TypeError("x")));
}, "promise_rejects_js works");
