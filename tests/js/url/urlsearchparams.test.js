// URLSearchParams: the constructor's three init forms, every method, iteration, and the
// application/x-www-form-urlencoded parser and serializer underneath.

const entries = (params) => [...params].map(([k, v]) => `${k}=${v}`);

// [query string, expected [name, value] list] for the urlencoded parser.
const parseCases = [
  ["", []],
  ["a=1", [["a", "1"]]],
  ["a=1&b=2&a=3", [["a", "1"], ["b", "2"], ["a", "3"]]],
  ["a", [["a", ""]]],
  ["=x", [["", "x"]]],
  ["=", [["", ""]]],
  ["a==b", [["a", "=b"]]],
  ["&&a=1&&", [["a", "1"]]],
  ["a+b=c+d", [["a b", "c d"]]],
  ["a%2Bb=%26%3D", [["a+b", "&="]]],
  ["a=%zz%4", [["a", "%zz%4"]]],
  ["a=%C3%A9%e2%82%ac", [["a", "é€"]]],
  ["a=%C3", [["a", "\uFFFD"]]],
  ["a=%FF%FE", [["a", "\uFFFD\uFFFD"]]],
  ["a=%ED%A0%80", [["a", "\uFFFD\uFFFD\uFFFD"]]],
  ["a=%F0%9F%92%A9x", [["a", "\u{1F4A9}x"]]],
  ["a=%E2%82", [["a", "\uFFFD"]]],
  ["a=%E2%82x", [["a", "\uFFFDx"]]],
  ["a=%EF%BB%BFx", [["a", "\uFEFFx"]]],
  ["é=ü", [["é", "ü"]]],
  ["a=%00", [["a", "\u0000"]]],
  ["a=b#c", [["a", "b#c"]]],
];

for (const [input, expected] of parseCases) {
  test(() => {
    const params = new URLSearchParams(input);
    assert_equals(params.size, expected.length, "size");
    const got = [...params];
    for (let i = 0; i < expected.length; i++) {
      assert_array_equals(got[i], expected[i], `pair ${i}`);
    }
  }, `parse ${JSON.stringify(input)}`);
}

// [[name, value] list, expected serialization] for the urlencoded serializer.
const serializeCases = [
  [[], ""],
  [[["a", "1"]], "a=1"],
  [[["a", "1"], ["b", ""]], "a=1&b="],
  [[["", ""]], "="],
  [[["a b", "c d"]], "a+b=c+d"],
  [[["a+b", "&=#?"]], "a%2Bb=%26%3D%23%3F"],
  [[["k", "*-._"]], "k=*-._"],
  [[["k", "!'()~"]], "k=%21%27%28%29%7E"],
  [[["k", "$%,/:;@[\\]^`{|}\"<>"]], "k=%24%25%2C%2F%3A%3B%40%5B%5C%5D%5E%60%7B%7C%7D%22%3C%3E"],
  [[["é", "€\u{1F4A9}"]], "%C3%A9=%E2%82%AC%F0%9F%92%A9"],
  [[["k", "\u0000\n\r\t"]], "k=%00%0A%0D%09"],
  [[["k", "\uD800"]], "k=%EF%BF%BD"],
];

for (const [list, expected] of serializeCases) {
  test(() => {
    assert_equals(new URLSearchParams(list).toString(), expected);
  }, `serialize ${JSON.stringify(list)}`);
}

test(() => {
  assert_equals(new URLSearchParams().toString(), "");
  assert_equals(new URLSearchParams(undefined).toString(), "");
  assert_equals(new URLSearchParams("").toString(), "");
}, "constructor without init is empty");

test(() => {
  assert_array_equals(entries(new URLSearchParams("?a=1")), ["a=1"]);
  assert_array_equals(entries(new URLSearchParams("??a=1")), ["?a=1"]);
}, "constructor drops one leading ? of a string");

test(() => {
  assert_array_equals(entries(new URLSearchParams(null)), ["null="]);
  assert_array_equals(entries(new URLSearchParams(12)), ["12="]);
  assert_array_equals(entries(new URLSearchParams(false)), ["false="]);
}, "constructor stringifies primitives");

test(() => {
  const params = new URLSearchParams([["a", "1"], ["b", 2], new Set(["c", "3"])]);
  assert_array_equals(entries(params), ["a=1", "b=2", "c=3"]);
}, "constructor accepts a sequence of pairs (any iterables)");

test(() => {
  assert_throws_js(TypeError, () => new URLSearchParams([["a"]]));
  assert_throws_js(TypeError, () => new URLSearchParams([["a", "b", "c"]]));
  assert_throws_js(TypeError, () => new URLSearchParams(["ab"]));
  assert_throws_js(TypeError, () => new URLSearchParams([1]));
}, "constructor rejects pairs that are not two-item sequences");

test(() => {
  assert_throws_js(TypeError, () => new URLSearchParams({ [Symbol.iterator]: 1 }));
}, "constructor rejects a non-callable Symbol.iterator");

test(() => {
  const params = new URLSearchParams({ a: "1", b: 2, c: undefined });
  assert_array_equals(entries(params), ["a=1", "b=2", "c=undefined"]);
}, "constructor accepts a record");

test(() => {
  const init = Object.create({ inherited: "x" }, {
    hidden: { value: "h", enumerable: false },
    shown: { value: "s", enumerable: true },
  });
  assert_array_equals(entries(new URLSearchParams(init)), ["shown=s"]);
}, "a record uses own enumerable properties only");

test(() => {
  const params = new URLSearchParams({ "\uD835x": "1", xx: "2", "\uD83Dx": "3" });
  assert_equals(params.toString(), "%EF%BF%BDx=3&xx=2");
}, "record keys that convert to the same string keep the first position and last value");

test(() => {
  assert_throws_js(TypeError, () => new URLSearchParams({ [Symbol("s")]: "x" }));
}, "a record with an enumerable symbol key throws");

test(() => {
  const source = new URLSearchParams("a=1&b=2");
  const copy = new URLSearchParams(source);
  copy.append("c", "3");
  assert_equals(source.toString(), "a=1&b=2");
  assert_equals(copy.toString(), "a=1&b=2&c=3");
}, "constructor copies another URLSearchParams");

test(() => {
  const params = new URLSearchParams("a=1");
  params.append("a", "2");
  params.append("b", "x y");
  assert_equals(params.toString(), "a=1&a=2&b=x+y");
  assert_throws_js(TypeError, () => params.append("only one"));
}, "append adds a pair at the end");

test(() => {
  const params = new URLSearchParams("a=1&b=2&a=3");
  params.delete("a");
  assert_equals(params.toString(), "b=2");
  params.delete("missing");
  assert_equals(params.toString(), "b=2");
  assert_throws_js(TypeError, () => params.delete());
}, "delete(name) removes every pair with that name");

test(() => {
  const params = new URLSearchParams("a=1&a=2&a=1&b=1");
  params.delete("a", "1");
  assert_equals(params.toString(), "a=2&b=1");
  params.delete("a", undefined);
  assert_equals(params.toString(), "b=1", "undefined value means no value");
}, "delete(name, value) removes only matching pairs");

test(() => {
  const params = new URLSearchParams("a=1&b=2&a=3");
  assert_equals(params.get("a"), "1");
  assert_equals(params.get("missing"), null);
  assert_array_equals(params.getAll("a"), ["1", "3"]);
  assert_array_equals(params.getAll("missing"), []);
  assert_throws_js(TypeError, () => params.get());
  assert_throws_js(TypeError, () => params.getAll());
}, "get returns the first value, getAll every value");

test(() => {
  const params = new URLSearchParams("a=1&b=");
  assert_true(params.has("a"));
  assert_true(params.has("b"));
  assert_false(params.has("c"));
  assert_true(params.has("a", "1"));
  assert_false(params.has("a", "2"));
  assert_true(params.has("b", ""));
  assert_true(params.has("a", undefined), "undefined value means no value");
  assert_throws_js(TypeError, () => params.has());
}, "has(name) and has(name, value)");

test(() => {
  const params = new URLSearchParams("a=1&b=2&a=3&c=4");
  params.set("a", "x");
  assert_equals(params.toString(), "a=x&b=2&c=4");
  params.set("d", "5");
  assert_equals(params.toString(), "a=x&b=2&c=4&d=5");
  assert_throws_js(TypeError, () => params.set("a"));
}, "set replaces the first pair, removes the others, or appends");

test(() => {
  const params = new URLSearchParams("z=1&a=2&z=0&\uFFFD=3&\u{1F4A9}=4&b=5&a=1");
  params.sort();
  assert_array_equals(entries(params), ["a=2", "a=1", "b=5", "z=1", "z=0", "\u{1F4A9}=4", "\uFFFD=3"]);
}, "sort is stable and compares names by code units");

test(() => {
  const params = new URLSearchParams("a=1&b=2");
  assert_equals(params.size, 2);
  params.append("c", "3");
  assert_equals(params.size, 3);
  params.delete("a");
  assert_equals(params.size, 2);
  const desc = Object.getOwnPropertyDescriptor(URLSearchParams.prototype, "size");
  assert_equals(desc.set, undefined, "readonly");
}, "size counts the pairs");

test(() => {
  const params = new URLSearchParams("a=1&b=2");
  assert_array_equals([...params.keys()], ["a", "b"]);
  assert_array_equals([...params.values()], ["1", "2"]);
  assert_array_equals([...params.entries()].map((p) => p.join("=")), ["a=1", "b=2"]);
  assert_equals(URLSearchParams.prototype[Symbol.iterator], URLSearchParams.prototype.entries);
}, "keys, values, entries and Symbol.iterator");

test(() => {
  const iterator = new URLSearchParams("a=1").entries();
  const proto = Object.getPrototypeOf(iterator);
  assert_class_string(iterator, "URLSearchParams Iterator");
  assert_equals(Object.getPrototypeOf(proto), Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));
  assert_true(Object.getOwnPropertyDescriptor(proto, "next").enumerable);
  assert_throws_js(TypeError, () => proto.next.call({}));
  assert_equals(iterator[Symbol.iterator](), iterator);
}, "iterators have the URLSearchParams Iterator prototype");

test(() => {
  const params = new URLSearchParams("a=1&b=2&c=3");
  const seen = [];
  for (const [name] of params) {
    seen.push(name);
    if (name === "a") params.delete("b");
    if (name === "c") params.append("d", "4");
  }
  assert_array_equals(seen, ["a", "c", "d"]);
}, "iteration is live over the list");

test(() => {
  const params = new URLSearchParams("a=1&b=2");
  const calls = [];
  const thisArg = {};
  params.forEach(function (value, name, object) {
    calls.push(`${name}=${value}`);
    assert_equals(this, thisArg);
    assert_equals(object, params);
    if (name === "a") params.append("c", "3");
  }, thisArg);
  assert_array_equals(calls, ["a=1", "b=2", "c=3"]);
  assert_throws_js(TypeError, () => params.forEach());
  assert_throws_js(TypeError, () => params.forEach("not a function"));
}, "forEach visits the live list with the value, name and object");

test(() => {
  const names = ["size", "append", "delete", "get", "getAll", "has", "set", "sort", "forEach",
    "keys", "values", "entries", "toString"];
  for (const name of names) {
    const desc = Object.getOwnPropertyDescriptor(URLSearchParams.prototype, name);
    assert_true(desc.enumerable, `${name} enumerable`);
    const fn = desc.get || desc.value;
    assert_throws_js(TypeError, () => fn.call({}, "a", "b"), `${name} on a plain object`);
  }
  assert_class_string(new URLSearchParams(), "URLSearchParams");
  assert_equals(URLSearchParams.length, 0);
  assert_equals(URLSearchParams.prototype.append.length, 2);
  assert_equals(URLSearchParams.prototype.delete.length, 1);
  assert_equals(URLSearchParams.prototype.has.length, 1);
  assert_throws_js(TypeError, () => URLSearchParams());
}, "URLSearchParams IDL shape and brand checks");

test(() => {
  const params = new URLSearchParams();
  params.append("\uD800", "\uDC00x");
  assert_array_equals([...params][0], ["\uFFFD", "\uFFFDx"]);
}, "names and values are USVStrings");
