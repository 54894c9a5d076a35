// META: internals
// The console namespace (WHATWG Console standard): its shape as a Web IDL namespace and the
// printf-style directives of its formatter.

const { formatArgs } = __internals;

test(() => {
  const desc = Object.getOwnPropertyDescriptor(console, Symbol.toStringTag);
  assert_not_equals(desc, undefined, "console has an own @@toStringTag");
  assert_equals(desc.value, "console");
  assert_false(desc.writable, "not writable");
  assert_false(desc.enumerable, "not enumerable");
  assert_true(desc.configurable, "configurable");
  assert_equals(Object.prototype.toString.call(console), "[object console]");
  assert_equals(String(console), "[object console]");
}, "console's class string is 'console'");

test(() => {
  const proto = Object.getPrototypeOf(console);
  assert_not_equals(proto, Object.prototype, "not %Object.prototype% itself");
  assert_equals(Reflect.ownKeys(proto).length, 0, "an empty object");
  assert_equals(Object.getPrototypeOf(proto), Object.prototype);
  assert_equals(typeof console.hasOwnProperty, "function", "Object.prototype is still inherited");
}, "console inherits from an empty object whose prototype is Object.prototype");

test(() => {
  for (const name of ["log", "assert", "dir", "table", "count", "time", "timeLog", "group"]) {
    const desc = Object.getOwnPropertyDescriptor(console, name);
    assert_true(desc.enumerable && desc.writable && desc.configurable, `${name} is a plain data property`);
    assert_equals(desc.value.length, 0, `${name} has no required argument`);
    assert_equals(desc.value.name, name);
  }
}, "console operations have the namespace-operation shape (length 0: every argument is optional)");

test(() => {
  assert_equals(formatArgs(["%d", 1.5]), "1");
  assert_equals(formatArgs(["%i", 1.5]), "1");
  assert_equals(formatArgs(["%d px", "42px"]), "42 px");
  assert_equals(formatArgs(["%d", "0x10"]), "0", "radix 10: '0x10' stops at 'x'");
  assert_equals(formatArgs(["%d", "abc"]), "NaN");
  assert_equals(formatArgs(["%f", "2.5rem"]), "2.5");
}, "%d and %i convert with parseInt(value, 10), %f with parseFloat");

test(() => {
  assert_equals(formatArgs(["%d", Symbol("a")]), "NaN");
  assert_equals(formatArgs(["%i", Symbol.iterator]), "NaN");
  assert_equals(formatArgs(["%f", Symbol()]), "NaN");
  assert_equals(formatArgs(["<%d|%s>", Symbol("x"), "y"]), "<NaN|y>");
  // Logging must not throw: a console call that throws would fail the caller's request.
  console.log("%d %i %f", Symbol(), Symbol(), Symbol());
}, "a Symbol formatted with %d, %i or %f is NaN, not a TypeError");

/** Run fn with the host's log captured: the lines console printed, as [level, message]. */
function captureLog(fn) {
  const host = __internals.host;
  const log = host.log;
  const lines = [];
  host.log = (level, id, message) => lines.push([level, message]);
  try {
    fn();
  } finally {
    host.log = log;
  }
  return lines;
}

test(() => {
  for (const name of ["count", "countReset", "time", "timeLog", "timeEnd"]) {
    let calls = 0;
    const label = { toString() { calls++; return `once-${name}`; } };
    captureLog(() => console[name](label));
    assert_equals(calls, 1, `${name} converts its label once`);
  }
}, "the counting and timing methods convert their label to a string exactly once");

test(() => {
  const lines = captureLog(() => {
    console.countReset("never-counted");
    console.count("counted");
    console.count("counted");
    console.countReset("counted");
    console.count("counted");
  });
  assert_equals(lines.length, 4);
  assert_equals(lines[0][0], "warn", "resetting an unknown label is a warning");
  assert_true(lines[0][1].includes("never-counted"), lines[0][1]);
  assert_array_equals(lines.slice(1).map((l) => l[1]), ["counted: 1", "counted: 2", "counted: 1"]);
}, "countReset() of a label that was never counted reports a warning; of a known one, restarts it");
