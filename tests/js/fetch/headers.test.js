// META: internals
// Headers (Fetch standard §5.1): construction, validation, normalisation, guards, iteration.

const __fetchHeaderList = (h) => __internals.headers.list(h);

test(() => {
  const h = new Headers({ "Content-Type": "text/plain", "X-A": "1" });
  assert_equals(h.get("content-type"), "text/plain");
  assert_true(h.has("x-a"));
  assert_equals(h.get("missing"), null);
}, "record init, case-insensitive get/has");

test(() => {
  const h = new Headers([["a", "1"], ["A", "2"], ["b", " 3\t"]]);
  assert_equals(h.get("a"), "1, 2");
  assert_equals(h.get("b"), "3");
  assert_array_equals([...h].map(([k, v]) => k + "=" + v), ["a=1, 2", "b=3"]);
}, "sequence init combines values and normalises whitespace");

test(() => {
  const h = new Headers();
  h.append("Set-Cookie", "a=1");
  h.append("set-cookie", "b=2");
  h.append("Age", "3");
  assert_array_equals(h.getSetCookie(), ["a=1", "b=2"]);
  assert_array_equals([...h.keys()], ["age", "set-cookie", "set-cookie"]);
  assert_equals(h.get("set-cookie"), "a=1, b=2");
}, "set-cookie values stay separate when iterating");

test(() => {
  assert_throws_js(TypeError, () => new Headers([["a"]]));
  assert_throws_js(TypeError, () => new Headers({ "bad name": "x" }));
  assert_throws_js(TypeError, () => new Headers({ a: "x\ny" }));
  assert_throws_js(TypeError, () => new Headers({ a: "\u0100" }));
  assert_throws_js(TypeError, () => new Headers(5));
  const h = new Headers();
  assert_throws_js(TypeError, () => h.append("a"));
  assert_throws_js(TypeError, () => h.get("a b"));
  assert_throws_js(TypeError, () => Headers.prototype.get.call({}, "a"));
}, "invalid names, values, init and receivers throw TypeError");

test(() => {
  const h = new Headers([["b", "2"], ["a", "1"]]);
  const it = h.entries();
  assert_array_equals(it.next().value, ["a", "1"]);
  h.append("c", "3");
  assert_array_equals(it.next().value, ["b", "2"]);
  assert_array_equals(it.next().value, ["c", "3"]);
  assert_true(it.next().done);
  assert_equals(Object.prototype.toString.call(it), "[object Headers Iterator]");
}, "iteration is sorted and live");

test(() => {
  const h = new Headers({ a: "1", b: "2" });
  h.set("A", "x");
  h.delete("b");
  assert_array_equals([...h.entries()].flat(), ["a", "x"]);
  assert_equals(String(h), "[object Headers]");
  const seen = [];
  h.forEach((v, k, obj) => { seen.push(k, v); assert_equals(obj, h); });
  assert_array_equals(seen, ["a", "x"]);
}, "set, delete, forEach and toStringTag");

test(() => {
  const original = Array.prototype.push;
  Array.prototype.push = () => { throw new Error("patched"); };
  try {
    const h = new Headers();
    h.append("a", "1");
    assert_equals(h.get("a"), "1");
  } finally {
    Array.prototype.push = original;
  }
}, "patching Array.prototype.push does not break Headers");

// --- Construction -----------------------------------------------------------------------------

test(() => {
  assert_equals([...new Headers()].length, 0);
  assert_equals([...new Headers(undefined)].length, 0);
  assert_equals([...new Headers({})].length, 0);
  assert_equals([...new Headers([])].length, 0);
}, "empty inits");

for (const bad of [null, 1, "a:b", true, Symbol("s"), 1n]) {
  test(() => {
    assert_throws_js(TypeError, () => new Headers(bad));
  }, `init ${String(bad)} throws TypeError`);
}

test(() => {
  const dict = { name1: "value1", name4: null, name5: undefined, name6: 1, "Content-Type": "v" };
  const seq = Object.keys(dict).map((k) => [k, dict[k]]);
  const a = new Headers(seq);
  const b = new Headers(dict);
  for (const k of Object.keys(dict)) {
    assert_equals(a.get(k), String(dict[k]), "sequence: " + k);
    assert_equals(b.get(k), String(dict[k]), "record: " + k);
  }
  assert_equals(a.get("length"), null);
}, "sequence and record inits stringify values");

test(() => {
  const h1 = new Headers([["X-A", "1"], ["x-a", "2"], ["Set-Cookie", "c=1"], ["set-cookie", "c=2"]]);
  const h2 = new Headers(h1);
  assert_equals(h2.get("x-a"), "1, 2");
  assert_array_equals(h2.getSetCookie(), ["c=1", "c=2"]);
  h1.append("y", "1");
  assert_false(h2.has("y"), "a copy");
}, "init from another Headers");

test(() => {
  const h = new Headers();
  h[Symbol.iterator] = function* () {
    yield ["test", "test"];
  };
  const h2 = new Headers(h);
  assert_equals(h2.get("test"), "test");
  assert_equals([...h2].length, 1);
}, "init from a Headers with its own iterator uses that iterator");

test(() => {
  const original = Object.getOwnPropertyDescriptor(Headers.prototype, "entries");
  const h = new Headers({ a: "1" });
  const it = h.entries();
  const proto = Object.getPrototypeOf(it);
  const next = proto.next;
  proto.next = function () {
    const r = next.call(this);
    if (!r.done) r.value[1] = "patched";
    return r;
  };
  try {
    assert_equals(new Headers(h).get("a"), "patched");
  } finally {
    proto.next = next;
    Object.defineProperty(Headers.prototype, "entries", original);
  }
}, "init from a Headers follows a patched iterator next()");

test(() => {
  const map = new Map([["a", "1"], ["b", "2"]]);
  const h = new Headers(map);
  assert_equals(h.get("a"), "1");
  assert_equals(h.get("b"), "2");
}, "init from a Map (any iterable of pairs)");

test(() => {
  function* gen() {
    yield ["a", "1"];
    yield new Set(["b", "2"]);
    yield (function* () { yield "c"; yield "3"; })();
  }
  const h = new Headers(gen());
  assert_equals(h.get("a"), "1");
  assert_equals(h.get("b"), "2");
  assert_equals(h.get("c"), "3");
}, "init from a generator of iterables");

test(() => {
  assert_throws_js(TypeError, () => new Headers([["a", "b", "c"]]));
  assert_throws_js(TypeError, () => new Headers([[]]));
  assert_throws_js(TypeError, () => new Headers(["ab"]));
  assert_throws_js(TypeError, () => new Headers([1]));
  assert_throws_js(TypeError, () => new Headers([null]));
}, "sequence items must be pairs");

test(() => {
  assert_throws_js(TypeError, () => new Headers({ [Symbol.iterator]: 1 }));
  assert_throws_js(TypeError, () => new Headers({ [Symbol.iterator]: () => 1 }));
  assert_throws_js(TypeError, () => new Headers({ [Symbol.iterator]: () => ({ next: () => 1 }) }));
}, "a bad Symbol.iterator throws TypeError");

test(() => {
  const init = { a: "1" };
  Object.defineProperty(init, Symbol.iterator, { value: null, enumerable: false });
  assert_equals(new Headers(init).get("a"), "1");
  assert_throws_js(TypeError, () => new Headers({ [Symbol.iterator]: null, a: "1" }),
    "an enumerable symbol key is not a ByteString");
}, "a null Symbol.iterator means a record");

test(() => {
  const err = new Error("boom");
  assert_throws_exactly(err, () => new Headers({ get a() { throw err; } }));
  assert_throws_exactly(err, () => new Headers([{ [Symbol.iterator]() { throw err; } }]));
  assert_throws_exactly(err, () => new Headers([["a", { toString() { throw err; } }]]));
}, "exceptions from getters and conversions propagate");

test(() => {
  const log = [];
  const handler = {};
  for (const trap of Object.getOwnPropertyNames(Reflect)) {
    handler[trap] = (...args) => {
      log.push([trap, typeof args[1] === "symbol" ? args[1].toString() : args[1]]);
      return Reflect[trap](...args);
    };
  }
  const h = new Headers(new Proxy({ a: "b", c: "d" }, handler));
  assert_array_equals(log.map((e) => e.join(":")), [
    "get:Symbol(Symbol.iterator)", "ownKeys:",
    "getOwnPropertyDescriptor:a", "get:a", "getOwnPropertyDescriptor:c", "get:c",
  ]);
  assert_array_equals([...h.keys()], ["a", "c"]);
}, "record conversion order: iterator, ownKeys, then descriptor and value per key");

test(() => {
  const log = [];
  const target = { a: "b", "\uFFFF": "d" };
  const proxy = new Proxy(target, {
    getOwnPropertyDescriptor(t, k) { log.push("gopd:" + String(k)); return Reflect.getOwnPropertyDescriptor(t, k); },
    get(t, k, r) { log.push("get:" + String(k)); return Reflect.get(t, k, r); },
  });
  assert_throws_js(TypeError, () => new Headers(proxy));
  assert_array_equals(log, ["get:Symbol(Symbol.iterator)", "gopd:a", "get:a", "gopd:\uFFFF"]);
}, "record conversion throws on a non-ByteString key before reading its value");

test(() => {
  const record = { a: "b", [Symbol.toStringTag]: "x", c: "d" };
  assert_throws_js(TypeError, () => new Headers(record));
  Object.defineProperty(record, Symbol.toStringTag, { enumerable: false });
  assert_array_equals([...new Headers(record).keys()], ["a", "c"]);
}, "enumerable symbol keys throw, non-enumerable ones are skipped");

test(() => {
  const record = Object.create({ inherited: "1" });
  Object.defineProperty(record, "hidden", { value: "2", enumerable: false });
  record.own = "3";
  const h = new Headers(record);
  assert_array_equals([...h.keys()], ["own"]);
}, "records use own enumerable properties only");

test(() => {
  const record = { __proto__: null, b: "2" };
  record["__proto__"] = "1";
  const h = new Headers(record);
  assert_equals(h.get("__proto__"), "1");
  assert_equals(h.get("b"), "2");
}, "a __proto__ key is an ordinary header");

test(() => {
  const h = new Headers({ b: "1", 2: "x", a: "2", 1: "y" });
  assert_array_equals([...h.keys()], ["1", "2", "a", "b"]);
}, "integer-like record keys");

// --- Validation -------------------------------------------------------------------------------

const validNames = ["a", "A-Z", "x-custom", "!#$%&'*+-.^_`|~", "0", "Content-Type", "set-cookie2"];
const invalidNames = ["", " ", "a b", "a:b", "a\u0000", "é", "\u0100", "a\tb", "(", ")", "<", ">",
  "@", ",", ";", "\\", "\"", "/", "[", "]", "?", "=", "{", "}", "a\r\nb"];

for (const name of validNames) {
  test(() => {
    const h = new Headers();
    h.append(name, "v");
    h.set(name, "w");
    assert_equals(h.get(name), "w");
    assert_true(h.has(name));
    h.delete(name);
    assert_false(h.has(name));
  }, `valid header name ${JSON.stringify(name)}`);
}

for (const name of invalidNames) {
  test(() => {
    const h = new Headers();
    assert_throws_js(TypeError, () => h.append(name, "v"), "append");
    assert_throws_js(TypeError, () => h.set(name, "v"), "set");
    assert_throws_js(TypeError, () => h.get(name), "get");
    assert_throws_js(TypeError, () => h.has(name), "has");
    assert_throws_js(TypeError, () => h.delete(name), "delete");
    assert_throws_js(TypeError, () => new Headers([[name, "v"]]), "sequence");
    assert_throws_js(TypeError, () => new Headers({ [name]: "v" }), "record");
  }, `invalid header name ${JSON.stringify(name)}`);
}

test(() => {
  const h = new Headers();
  for (const name of [{}, [], [1, 2]]) {
    assert_throws_js(TypeError, () => h.get(name), String(name));
  }
  assert_equals(h.get(undefined), null, "\"undefined\" is a valid name");
  h.append(1, 2);
  assert_equals(h.get(1), "2");
  h.append(null, "n");
  assert_equals(h.get("null"), "n");
}, "names are converted to strings first");

test(() => {
  const h = new Headers();
  for (let i = 1; i < 256; i++) {
    if (i === 0x0a || i === 0x0d) continue;
    const value = "x" + String.fromCharCode(i) + "x";
    h.set("v", value);
    assert_equals(h.get("v"), value, "char " + i);
  }
}, "every byte but NUL, CR and LF is valid inside a value");

for (const c of [0x00, 0x0a, 0x0d]) {
  test(() => {
    const h = new Headers();
    const value = "x" + String.fromCharCode(c) + "x";
    assert_throws_js(TypeError, () => h.append("a", value));
    assert_throws_js(TypeError, () => h.set("a", value));
    assert_throws_js(TypeError, () => new Headers({ a: value }));
    assert_throws_js(TypeError, () => new Headers([["a", value]]));
  }, `value containing 0x${c.toString(16)} throws`);
}

for (const value of ["\u0100", "a\u2028", "\uD800", "😀"]) {
  test(() => {
    assert_throws_js(TypeError, () => new Headers().append("a", value));
  }, `value ${JSON.stringify(value)} is not a ByteString`);
}

test(() => {
  let message = "";
  try {
    new Headers().append("a", "ok\u00ff\u0100");
  } catch (e) {
    message = e.message;
  }
  assert_true(message.includes("the character at index 3 is greater than 255"), message);
}, "a ByteString error names the first character over 255");

test(() => {
  const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const h = new Headers([[tchars, "v"]]);
  assert_equals(h.get(tchars), "v");
  for (const bad of ["", "a b", "a:b", "a\"b", "(a)", "a,b", "a/b", "a@b", "a[b]", "a{b}", "\u00e9"]) {
    assert_throws_js(TypeError, () => h.append(bad, "v"), JSON.stringify(bad));
  }
}, "a name is one or more tchars, nothing else");

const normalizations = [
  [" space ", "space"],
  ["\ttab\t", "tab"],
  [" spaceAndTab\t", "spaceAndTab"],
  ["\r\n newLine", "newLine"],
  ["newLine\r\n ", "newLine"],
  ["\r\n\tnewLine", "newLine"],
  ["\t\f\tnewLine\n", "\f\tnewLine"],
  ["newLine\xa0", "newLine\xa0"],
  ["  a  b  ", "a  b"],
  ["\r\n", ""],
];
for (const [raw, expected] of normalizations) {
  test(() => {
    const a = new Headers({ n: raw });
    assert_equals(a.get("n"), expected, "record");
    const b = new Headers();
    b.append("n", raw);
    assert_equals(b.get("n"), expected, "append");
    b.set("n", raw);
    assert_equals(b.get("n"), expected, "set");
  }, `value ${JSON.stringify(raw)} normalises to ${JSON.stringify(expected)}`);
}

test(() => {
  const h = new Headers({ a: "" });
  assert_true(h.has("a"));
  assert_equals(h.get("a"), "");
  h.append("a", "");
  assert_equals(h.get("a"), ", ");
}, "empty values are kept");

// --- Methods ----------------------------------------------------------------------------------

test(() => {
  const h = new Headers();
  h.append("A", "1");
  h.append("a", "2");
  h.append("b", "3");
  h.set("a", "4");
  assert_equals(h.get("A"), "4");
  assert_array_equals([...h].flat(), ["a", "4", "b", "3"]);
}, "set replaces every value of the name");

test(() => {
  const h = new Headers([["a", "1"], ["b", "2"], ["A", "3"]]);
  h.delete("A");
  assert_array_equals([...h].flat(), ["b", "2"]);
  h.delete("missing");
  assert_array_equals([...h].flat(), ["b", "2"]);
}, "delete removes every value of the name");

test(() => {
  const h = new Headers();
  const names = ["CONTENT-TYPE", "content-type", "Content-Type", "cOnTeNt-TyPe"];
  for (const n of names) h.append(n, n);
  for (const n of names) assert_equals(h.get(n), names.join(", "));
  assert_array_equals([...h.keys()], ["content-type"]);
}, "names of any case are one header");

test(() => {
  const h = new Headers([["a", "1"], ["a", "2"], ["a", "3"]]);
  assert_equals(h.get("a"), "1, 2, 3");
  h.append("a", "4");
  assert_equals(h.get("a"), "1, 2, 3, 4");
}, "get combines values in order");

test(() => {
  const h = new Headers();
  assert_array_equals(h.getSetCookie(), []);
  h.append("set-cookie", "");
  assert_array_equals(h.getSetCookie(), [""]);
  h.append("Set-Cookie2", "x");
  h.append("SET-COOKIE", "y");
  assert_array_equals(h.getSetCookie(), ["", "y"]);
  assert_not_equals(h.getSetCookie(), h.getSetCookie(), "a new array each time");
}, "getSetCookie");

test(() => {
  const h = new Headers([["set-cookie", "z=z"], ["set-cookie", "a=a"], ["set-cookie", "n=n"]]);
  assert_array_equals(h.getSetCookie(), ["z=z", "a=a", "n=n"]);
  assert_array_equals([...h.values()], ["z=z", "a=a", "n=n"]);
}, "set-cookie keeps insertion order");

test(() => {
  const h = new Headers([
    ["xylophone-header", "1"], ["best-header", "2"], ["set-cookie", "3"], ["a-cool-header", "4"],
    ["set-cookie", "5"], ["a-cool-header", "6"], ["best-header", "7"],
  ]);
  assert_array_equals([...h].map((p) => p.join("=")), [
    "a-cool-header=4, 6", "best-header=2, 7", "set-cookie=3", "set-cookie=5", "xylophone-header=1",
  ]);
}, "sort and combine");

test(() => {
  const h = new Headers([["set-cookie2", "a"], ["Set-Cookie2", "b"]]);
  assert_array_equals([...h].map((p) => p.join("=")), ["set-cookie2=a, b"]);
}, "set-cookie2 is combined like any header");

test(() => {
  const h = new Headers([["fizz", "buzz"], ["X-Header", "test"]]);
  const it = h[Symbol.iterator]();
  assert_array_equals(it.next().value, ["fizz", "buzz"]);
  h.append("Set-Cookie", "a=b");
  assert_array_equals(it.next().value, ["set-cookie", "a=b"]);
  h.append("Accept", "text/html");
  assert_array_equals(it.next().value, ["set-cookie", "a=b"]);
  assert_array_equals(it.next().value, ["x-header", "test"]);
  h.append("set-cookie", "c=d");
  assert_array_equals(it.next().value, ["x-header", "test"]);
  assert_true(it.next().done);
}, "iterators see changes by index");

test(() => {
  const h = new Headers({ foo: "2", baz: "1", BAR: "0" });
  const keys = [];
  for (const [k] of h) {
    keys.push(k);
    h.delete("foo");
  }
  assert_array_equals(keys, ["bar", "baz"]);
}, "iteration skips elements removed while iterating");

test(() => {
  const h = new Headers({ foo: "2", baz: "1", BAR: "0", quux: "3" });
  const keys = [];
  for (const [k] of h) {
    keys.push(k);
    if (k === "baz") h.append("abc", "-1");
  }
  assert_array_equals(keys, ["bar", "baz", "baz", "foo", "quux"]);
}, "prepending during iteration repeats the current element");

test(() => {
  const h = new Headers({ a: "1" });
  const it = h.keys();
  assert_false(it.next().done);
  assert_true(it.next().done);
  h.append("b", "2");
  assert_equals(it.next().value, "b", "a finished iterator sees later additions");
}, "exhausted iterators are still live");

test(() => {
  const h = new Headers([["name1", "value1"], ["name2", "value2"], ["name3", "value3"]]);
  let count = 0;
  assert_throws_exactly("error", () => h.forEach((v, k) => {
    count++;
    if (k === "name2") throw "error";
  }));
  assert_equals(count, 2);
}, "forEach stops when the callback throws");

test(() => {
  const h = new Headers({ a: "1" });
  for (const cb of [undefined, null, 1, "f", {}]) {
    assert_throws_js(TypeError, () => h.forEach(cb), String(cb));
  }
  assert_throws_js(TypeError, () => h.forEach());
}, "forEach needs a callable");

test(() => {
  const h = new Headers({ b: "2", a: "1" });
  const seen = [];
  const self = {};
  h.forEach(function (value, key, obj) {
    seen.push([this, key, value, obj]);
  }, self);
  assert_equals(seen.length, 2);
  assert_equals(seen[0][0], self);
  assert_equals(seen[0][1], "a");
  assert_equals(seen[1][2], "2");
  assert_equals(seen[1][3], h);
}, "forEach passes value, key, headers and thisArg");

test(() => {
  const h = new Headers({ a: "1", c: "3" });
  const keys = [];
  h.forEach((v, k) => {
    keys.push(k);
    if (k === "a") h.append("b", "2");
  });
  assert_array_equals(keys, ["a", "b", "c"]);
}, "forEach is live");

test(() => {
  const h = new Headers({ a: "1", b: "2" });
  assert_array_equals([...h.keys()], ["a", "b"]);
  assert_array_equals([...h.values()], ["1", "2"]);
  assert_array_equals([...h.entries()].flat(), ["a", "1", "b", "2"]);
  const e1 = h.entries().next().value;
  const e2 = h.entries().next().value;
  assert_not_equals(e1, e2, "fresh pair arrays");
  assert_true(Array.isArray(e1));
}, "keys, values and entries");

test(() => {
  const h = new Headers({ a: "1" });
  const it = h.keys();
  const r = it.next();
  assert_equals(Object.getPrototypeOf(r), Object.prototype);
  assert_array_equals(Object.keys(r), ["value", "done"]);
  const end = it.next();
  assert_equals(end.value, undefined);
  assert_true(end.done);
}, "iterator results are plain objects");

test(() => {
  const it = new Headers().entries();
  assert_throws_js(TypeError, () => it.next.call({}));
  assert_throws_js(TypeError, () => it.next.call(undefined));
  assert_throws_js(TypeError, () => it.next.call(new Headers()));
}, "iterator next() checks its receiver");

test(() => {
  const h = new Headers();
  h.append("X-Custom", "1");
  h.append("x-custom", "2");
  assert_array_equals(__fetchHeaderList(h), ["X-Custom", "1", "X-Custom", "2"]);
  h.set("X-CUSTOM", "3");
  assert_array_equals(__fetchHeaderList(h), ["X-Custom", "3"]);
}, "the header list keeps the first name's case");

// --- Guards -----------------------------------------------------------------------------------

test(() => {
  const h = Response.error().headers;
  assert_throws_js(TypeError, () => h.append("a", "b"));
  assert_throws_js(TypeError, () => h.set("a", "b"));
  assert_throws_js(TypeError, () => h.delete("a"));
  assert_equals(h.get("a"), null);
  assert_false(h.has("a"));
}, "immutable headers throw on every change, even deleting a missing name");

test(() => {
  const h = Response.redirect("https://example.com/").headers;
  assert_throws_js(TypeError, () => h.delete("invalid name"), "name checked first");
  assert_throws_js(TypeError, () => h.append("location", "x"));
}, "immutable headers of a redirect");

const forbidden = ["Accept-Charset", "Accept-Encoding", "Access-Control-Request-Headers",
  "Connection", "Content-Length", "Cookie", "Cookie2", "Date", "DNT", "Expect", "Host",
  "Keep-Alive", "Origin", "Referer", "Set-Cookie", "TE", "Trailer", "Transfer-Encoding",
  "Upgrade", "Via", "Proxy-Authorization", "Sec-Fetch-Mode", "X-HTTP-Method-Override"];
for (const name of forbidden) {
  test(() => {
    const req = new Request("https://example.com/", { headers: [[name, "v"]] });
    assert_equals(req.headers.get(name), "v", "request init");
    req.headers.set(name, "w");
    assert_equals(req.headers.get(name), "w", "request headers");
    const res = new Response(null, { headers: [[name, "v"]] });
    res.headers.append(name, "x");
    assert_equals(res.headers.get(name), "v, x", "response headers");
  }, `no forbidden-name filtering: ${name}`);
}

// --- request-no-cors guard --------------------------------------------------------------------

const longValue = "s".repeat(127);
for (const item of [
  { headers: ["accept", "accept-language", "content-language"], values: [longValue, "", longValue] },
  { headers: ["accept", "accept-language", "content-language"], values: ["", longValue] },
  { headers: ["content-type"], values: ["text/plain;" + "s".repeat(116), "text/plain"] },
]) {
  for (const header of item.headers) {
    test(() => {
      const h = new Request("https://example.com/", { mode: "no-cors" }).headers;
      for (const value of item.values) {
        h.append(header, value);
        assert_equals(h.get(header), item.values[0]);
      }
      h.set(header, item.values.join(", "));
      assert_equals(h.get(header), item.values[0]);
      h.delete(header);
      assert_false(h.has(header));
    }, `no-cors headers cannot have ${header} longer than 128 bytes (${item.values.length} values)`);
  }
}

for (const [name, value] of [
  ["Accept", "text/html"], ["Accept-Language", "en-US,en;q=0.5"], ["content-language", "de-DE"],
  ["content-type", "application/x-www-form-urlencoded"], ["content-type", "multipart/form-data"],
  ["content-TYPE", "text/plain;charset=UTF-8"],
]) {
  test(() => {
    const h = new Request("https://example.com/", { mode: "no-cors" }).headers;
    h.append(name, value);
    assert_equals(h.get(name), value);
  }, `no-cors headers accept ${name}: ${value}`);
}

for (const [name, value] of [
  ["Content-Type", "application/json"], ["Potato", "OK"], ["accept", "a(b"],
  ["accept-language", "en_US"], ["content-type", "text/plain; a=\"b\""], ["range", "bytes=0-1"],
  ["dpr", "2"], ["x-custom", "1"],
]) {
  test(() => {
    const h = new Request("https://example.com/", { mode: "no-cors" }).headers;
    h.append(name, value);
    assert_false(h.has(name), "append");
    h.set(name, value);
    assert_false(h.has(name), "set");
  }, `no-cors headers reject ${name}: ${value}`);
}

test(() => {
  const r = new Request("https://example.com/", {
    mode: "no-cors", headers: { Accept: "a", "X-Custom": "b", "Content-Type": "text/plain" },
  });
  assert_array_equals([...r.headers.keys()], ["accept", "content-type"]);
  assert_equals(r.headers.get("x-custom"), null);
}, "a no-cors request filters its init headers");

test(() => {
  const base = new Request("https://example.com/", { headers: { "X-Custom": "1", Accept: "a" } });
  const r = new Request(base, { mode: "no-cors" });
  assert_false(r.headers.has("x-custom"));
  assert_equals(r.headers.get("accept"), "a");
}, "a no-cors request filters the input request's headers when init is given");

test(() => {
  const h = new Request("https://example.com/", { mode: "no-cors" }).headers;
  h.append("x-custom", "1");
  h.delete("x-custom");
  h.append("accept", "1");
  h.delete("ACCEPT");
  assert_false(h.has("accept"));
}, "no-cors delete");

// --- Internals contract -------------------------------------------------------------------------

test(() => {
  const list = ["Host", "a", "X-A", "1"];
  const h = __internals.headers.fromList(list, "immutable");
  assert_equals(h.get("host"), "a");
  assert_equals(__internals.headers.list(h), list, "the list itself, not a copy");
  assert_equals(__internals.headers.guard(h), "immutable");
  assert_throws_js(TypeError, () => h.set("a", "b"));
  const copy = __internals.headers.copy(h, "none");
  copy.set("a", "b");
  assert_equals(h.get("a"), null);
}, "internals.headers.fromList and copy");
