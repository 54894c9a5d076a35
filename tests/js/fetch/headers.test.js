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
