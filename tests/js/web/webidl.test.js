// META: internals
// Web IDL's JavaScript binding as the runtime applies it: the order in which an inheriting
// dictionary's members are read, and the shape of the global object's properties
// (interface objects, regular operations, attributes of the [Global] interface).

/** An init object whose getters log the order they are read in, and return `values`. */
function loggingInit(log, values) {
  const init = {};
  for (const key of Object.keys(values)) {
    Object.defineProperty(init, key, {
      get() {
        log.push(key);
        return values[key];
      },
      enumerable: true,
    });
  }
  return init;
}

// --- dictionaries that inherit ---------------------------------------------------------------

test(() => {
  const { webidl } = __internals;
  const { converters } = webidl;
  const Base = webidl.createDictionaryConverter("Base", [
    { key: "zeta", converter: converters.DOMString },
    { key: "beta", converter: converters.DOMString },
  ]);
  const Middle = webidl.createDictionaryConverter("Middle", [
    { key: "alpha", converter: converters.DOMString },
    { key: "omega", converter: converters.DOMString },
  ], Base);
  const Leaf = webidl.createDictionaryConverter("Leaf", [
    { key: "gamma", converter: converters.DOMString },
    { key: "aardvark", converter: converters.DOMString, defaultValue: "none" },
  ], Middle);
  const log = [];
  const value = loggingInit(log, {
    aardvark: "1", alpha: "2", beta: "3", gamma: "4", omega: "5", zeta: "6",
  });
  const out = Leaf(value);
  assert_array_equals(log, ["beta", "zeta", "alpha", "omega", "aardvark", "gamma"],
    "the base's members, then each derived dictionary's, each group sorted");
  assert_equals(out.zeta, "6");
  assert_equals(out.aardvark, "1");
  assert_equals(Leaf(undefined).aardvark, "none", "defaults of the derived dictionary");
  log.length = 0;
  Base(value);
  assert_array_equals(log, ["beta", "zeta"], "the parent alone reads only its own members");
}, "createDictionaryConverter reads inherited members first, dictionary by dictionary");

test(() => {
  const { webidl } = __internals;
  const { converters } = webidl;
  const Parent = webidl.createDictionaryConverter("ParentDict", [
    { key: "needed", converter: converters.DOMString, required: true },
  ]);
  const Child = webidl.createDictionaryConverter("ChildDict", [
    { key: "extra", converter: converters.DOMString },
  ], Parent);
  let read = false;
  const init = { get extra() { read = true; return "x"; } };
  assert_throws_js(TypeError, () => Child(init));
  assert_false(read, "the parent's missing required member throws before the child's are read");
  assert_throws_js(TypeError, () => Child(42), "not an object");
  assert_throws_js(TypeError,
    () => webidl.createDictionaryConverter("Orphan", [], () => ({})),
    "a parent must be a dictionary converter");
}, "a derived dictionary enforces its parent's required members");

test(() => {
  const log = [];
  new ErrorEvent("error", loggingInit(log, {
    message: "m", filename: "f", lineno: 1, colno: 2, error: null,
    bubbles: true, cancelable: true, composed: true,
  }));
  assert_array_equals(log, [
    "bubbles", "cancelable", "composed", "colno", "error", "filename", "lineno", "message",
  ]);
}, "ErrorEventInit reads EventInit's members before its own colno");

test(() => {
  const log = [];
  const event = new CloseEvent("close", loggingInit(log, {
    wasClean: true, reason: "bye", code: 1000, bubbles: true, cancelable: false, composed: false,
  }));
  assert_array_equals(log, ["bubbles", "cancelable", "composed", "code", "reason", "wasClean"]);
  assert_true(event.wasClean);
  assert_equals(event.code, 1000);
  assert_equals(event.reason, "bye");
  assert_true(event.bubbles);
}, "CloseEventInit reads EventInit's members, then its own in order, each once");

test(() => {
  const log = [];
  new MessageEvent("message", loggingInit(log, {
    source: null, ports: [], origin: "o", lastEventId: "1", data: 0,
    bubbles: false, cancelable: false, composed: false,
  }));
  assert_array_equals(log, [
    "bubbles", "cancelable", "composed", "data", "lastEventId", "origin", "ports", "source",
  ]);
  log.length = 0;
  new CustomEvent("custom", loggingInit(log, { detail: 1, composed: true, bubbles: true }));
  assert_array_equals(log, ["bubbles", "composed", "detail"]);
  log.length = 0;
  const promise = Promise.resolve();
  new PromiseRejectionEvent("unhandledrejection",
    loggingInit(log, { reason: 1, promise, cancelable: true }));
  assert_array_equals(log, ["cancelable", "promise", "reason"]);
}, "other EventInit dictionaries read the inherited members first");

test(() => {
  const log = [];
  const file = new File([], "f", loggingInit(log, {
    lastModified: 5, type: "text/plain", endings: "native",
  }));
  assert_array_equals(log, ["endings", "type", "lastModified"]);
  assert_equals(file.lastModified, 5);
  assert_equals(file.type, "text/plain");
}, "FilePropertyBag reads BlobPropertyBag's members before lastModified");

// --- the global object's properties -----------------------------------------------------------

const OPERATIONS = {
  setTimeout: 1, setInterval: 1, clearTimeout: 0, clearInterval: 0, queueMicrotask: 1,
  reportError: 1, atob: 1, btoa: 1, structuredClone: 1, fetch: 1,
};

test(() => {
  for (const [name, length] of Object.entries(OPERATIONS)) {
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_equals(typeof desc.value, "function", `${name} is a data property`);
    assert_true(desc.writable, `${name} is writable`);
    assert_true(desc.enumerable, `${name} is enumerable`);
    assert_true(desc.configurable, `${name} is configurable`);
    assert_equals(desc.value.name, name, `${name}.name`);
    assert_equals(desc.value.length, length, `${name}.length`);
  }
  const keys = Object.keys(globalThis);
  assert_true(keys.includes("setTimeout") && keys.includes("fetch"), "listed by Object.keys");
}, "the global scope's regular operations are enumerable, writable, configurable");

test(() => {
  for (const name of ["Event", "EventTarget", "Headers", "Request", "Response", "Blob", "URL",
    "TextEncoder", "AbortController", "DOMException", "ReadableStream", "console"]) {
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_not_equals(desc, undefined, name);
    assert_false(desc.enumerable, `${name} is not enumerable`);
    assert_true(desc.writable, `${name} is writable`);
    assert_true(desc.configurable, `${name} is configurable`);
  }
  assert_false(Object.keys(globalThis).includes("Event"));
}, "interface objects and namespaces stay non-enumerable");

test(() => {
  for (const [name, value] of [["self", globalThis], ["navigator", navigator],
    ["performance", performance], ["crypto", crypto]]) {
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_equals(typeof desc.get, "function", `${name} is an accessor`);
    assert_true(desc.enumerable, `${name} is enumerable`);
    assert_true(desc.configurable, `${name} is configurable`);
    assert_equals(desc.get.name, `get ${name}`);
    assert_equals(desc.get.length, 0);
    assert_equals(desc.get.call(undefined), value, `${name} getter with no this`);
    assert_equals(desc.get.call(globalThis), value);
  }
  assert_equals(Object.getOwnPropertyDescriptor(globalThis, "self").set, undefined);
  assert_equals(Object.getOwnPropertyDescriptor(globalThis, "navigator").set, undefined);
  assert_equals(typeof navigator.userAgent, "string");
}, "self, navigator, performance and crypto are accessors on the global");

test(() => {
  for (const name of ["self", "navigator", "performance", "crypto"]) {
    const { get } = Object.getOwnPropertyDescriptor(globalThis, name);
    assert_throws_js(TypeError, () => get.call({}), `${name} getter on another object`);
    assert_throws_js(TypeError, () => get.call(Object.create(globalThis)), name);
  }
  const { set } = Object.getOwnPropertyDescriptor(globalThis, "performance");
  assert_throws_js(TypeError, () => set.call({}, 1));
}, "the global's attribute getters check their receiver");

test(() => {
  const original = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  assert_throws_js(TypeError, () => {
    "use strict";
    globalThis.navigator = {};
  });
  assert_equals(Object.getOwnPropertyDescriptor(globalThis, "navigator").get, original.get);
}, "navigator is readonly and not [Replaceable]");

test(() => {
  const original = Object.getOwnPropertyDescriptor(globalThis, "performance");
  const realPerformance = performance;
  assert_equals(original.set.name, "set performance");
  assert_equals(original.set.length, 1);
  try {
    globalThis.performance = "replaced";
    const desc = Object.getOwnPropertyDescriptor(globalThis, "performance");
    assert_equals(desc.value, "replaced", "now a data property");
    assert_true(desc.writable && desc.enumerable && desc.configurable);
    assert_equals(performance, "replaced");
  } finally {
    Object.defineProperty(globalThis, "performance", original);
  }
  assert_equals(performance, realPerformance);
}, "performance is [Replaceable]: assigning it makes an own data property");

test(() => {
  const convert = __internals.webidl.createDictionaryConverter("Polluted", [
    { key: "member", converter: (v) => v },
  ]);
  Object.prototype.member = "from Object.prototype";
  try {
    // No dictionary given: the member is absent, not read from Object.prototype.
    const none = convert(undefined, "test", "x");
    assert_false("member" in none);
    assert_equals(none.member, undefined);
    // An object given: its members are read with [[Get]], the prototype chain included.
    assert_equals(convert({}, "test", "x").member, "from Object.prototype");
  } finally {
    delete Object.prototype.member;
  }
}, "a converted dictionary holds only the members it was given");
