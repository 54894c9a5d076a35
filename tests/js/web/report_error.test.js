// META: internals
// HTML reportError() and "report an exception": the ErrorEvent's message comes from the
// exception without running any of its code (HTML "extract error information").
// More reportError() checks are in event.test.js.

/** Run `fn` with an error listener that cancels the report; the ErrorEvents seen. */
function capture(fn) {
  const seen = [];
  const listener = (e) => {
    seen.push(e);
    e.preventDefault();
  };
  addEventListener("error", listener);
  try {
    fn();
  } finally {
    removeEventListener("error", listener);
  }
  return seen;
}

test(() => {
  const calls = [];
  const thrown = {};
  for (const key of ["name", "message", "stack", "fileName", "lineNumber"]) {
    Object.defineProperty(thrown, key, {
      get() {
        calls.push(key);
        return "x";
      },
    });
  }
  const seen = capture(() => reportError(thrown));
  assert_array_equals(calls, [], "no getter of the reported value is called");
  assert_equals(seen.length, 1);
  assert_equals(seen[0].error, thrown);
  assert_equals(typeof seen[0].message, "string");
}, "reportError() does not call the reported object's getters");

test(() => {
  class Inherited {}
  Inherited.prototype.name = "Custom";
  Inherited.prototype.message = "from the prototype";
  const proto = Object.create(null, {
    name: { get() { throw new Error("getter ran"); } },
  });
  const mixed = Object.create(proto, { message: { value: "own text" } });
  const seen = capture(() => {
    reportError(new RangeError("out of range"));
    reportError(new Inherited());
    reportError(mixed);
  });
  assert_array_equals(seen.map((e) => e.message), [
    "Uncaught RangeError: out of range",
    "Uncaught Custom: from the prototype",
    "Uncaught Error: own text",
  ]);
}, "the message uses name and message data properties, own or inherited");
