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

promise_test(async () => {
  // One op's bytes travel in one action, which must fit the bridge's outBin (4 MiB): a
  // larger payload is refused at once (its callers send pieces), not left to fail the pump.
  const big = new Uint8Array((4 << 20) + 1);
  await __internals.host.op("crypto.refill", [{}], big).then(
    () => assert_unreached("the op ran"),
    (e) => assert_true(/exceed the bridge buffer/.test(e.message), e.message));
  assert_not_equals(await __internals.host.op("crypto.refill", [{}]), undefined,
    "the bridge goes on");
}, "an op with more bytes than the bridge buffer is refused, and the bridge goes on");
