// The URL interface itself: IDL shape, argument handling, errors, statics, the query
// object kept in sync with the query, and immunity to patched built-ins.

const ATTRIBUTES = ["href", "origin", "protocol", "username", "password", "host", "hostname",
  "port", "pathname", "search", "searchParams", "hash"];
const READONLY = ["origin", "searchParams"];

test(() => {
  const desc = Object.getOwnPropertyDescriptor(globalThis, "URL");
  assert_equals(typeof desc.value, "function");
  assert_true(desc.writable, "writable");
  assert_false(desc.enumerable, "enumerable");
  assert_true(desc.configurable, "configurable");
  assert_equals(URL.length, 1);
  assert_equals(URL.name, "URL");
  assert_false(Object.getOwnPropertyDescriptor(URL, "prototype").writable, "prototype writable");
}, "URL is a global constructor with length 1");

test(() => {
  for (const name of ATTRIBUTES) {
    const desc = Object.getOwnPropertyDescriptor(URL.prototype, name);
    assert_equals(typeof desc.get, "function", `${name} getter`);
    assert_equals(typeof desc.set, READONLY.includes(name) ? "undefined" : "function", `${name} setter`);
    assert_true(desc.enumerable, `${name} enumerable`);
    assert_true(desc.configurable, `${name} configurable`);
  }
  for (const name of ["toJSON", "toString"]) {
    const desc = Object.getOwnPropertyDescriptor(URL.prototype, name);
    assert_equals(typeof desc.value, "function", name);
    assert_true(desc.enumerable, `${name} enumerable`);
  }
}, "URL.prototype has the IDL attributes and operations");

test(() => {
  for (const name of ["parse", "canParse"]) {
    const desc = Object.getOwnPropertyDescriptor(URL, name);
    assert_equals(typeof desc.value, "function", name);
    assert_true(desc.enumerable, `${name} enumerable`);
    assert_equals(desc.value.length, 1, `${name}.length`);
  }
}, "URL.parse and URL.canParse are static operations of length 1");

test(() => {
  assert_class_string(new URL("https://example.com/"), "URL");
  assert_equals(URL.prototype[Symbol.toStringTag], "URL");
}, "URL objects have the URL class string");

test(() => {
  assert_throws_js(TypeError, () => URL("https://example.com/"));
}, "URL cannot be called without new");

test(() => {
  assert_throws_js(TypeError, () => new URL());
  assert_throws_js(TypeError, () => URL.parse());
  assert_throws_js(TypeError, () => URL.canParse());
}, "the url argument is required");

test(() => {
  let message = "";
  try {
    new URL("not a url");
  } catch (e) {
    assert_equals(e.constructor, TypeError);
    message = e.message;
  }
  assert_true(message.includes("Invalid URL: not a url"), message);
}, "an invalid URL throws a TypeError naming the input");

test(() => {
  let message = "";
  try {
    new URL("/path", "also not a url");
  } catch (e) {
    assert_equals(e.constructor, TypeError);
    message = e.message;
  }
  assert_true(message.includes("/path") && message.includes("also not a url"), message);
}, "an invalid base throws a TypeError naming input and base");

test(() => {
  assert_equals(new URL("https://example.com/a", undefined).href, "https://example.com/a");
  assert_throws_js(TypeError, () => new URL("/a", null), "null is the string \"null\"");
  assert_equals(new URL("b", "https://example.com/a/").href, "https://example.com/a/b");
}, "an undefined base is no base; other values are strings");

test(() => {
  const base = new URL("https://example.com/dir/page");
  assert_equals(new URL("other", base).href, "https://example.com/dir/other");
  const input = { toString: () => "https://example.net/x" };
  assert_equals(new URL(input).href, "https://example.net/x");
}, "URL objects and other objects are stringified");

test(() => {
  assert_equals(new URL("https://example.com/\uD800").pathname, "/%EF%BF%BD");
  assert_equals(new URL("https://example.com/?\uDC00").search, "?%EF%BF%BD");
  assert_equals(new URL("https://example.com/#\uD83D").hash, "#%EF%BF%BD");
}, "lone surrogates become U+FFFD (USVString)");

test(() => {
  assert_throws_js(TypeError, () => new URL(Symbol("x")));
}, "a symbol input throws a TypeError");

test(() => {
  const url = URL.parse("/b", "https://example.com/a");
  assert_true(url instanceof URL, "instance");
  assert_equals(url.href, "https://example.com/b");
  assert_equals(url.searchParams.size, 0);
  assert_not_equals(URL.parse("https://example.com/"), URL.parse("https://example.com/"));
  assert_equals(URL.parse("x"), null);
  assert_equals(URL.parse("https://example.com/", "x"), null, "bad base, absolute input");
}, "URL.parse returns a new URL or null");

test(() => {
  assert_true(URL.canParse("https://example.com/"));
  assert_true(URL.canParse("x", "https://example.com/"));
  assert_false(URL.canParse("x"));
  assert_false(URL.canParse("https://example.com/", "x"), "bad base, absolute input");
}, "URL.canParse reports whether parsing succeeds");

test(() => {
  const url = new URL("https://example.com/");
  assert_throws_js(TypeError, () => {
    url.href = "not a url";
  });
  assert_equals(url.href, "https://example.com/");
}, "setting an invalid href throws and leaves the URL unchanged");

test(() => {
  for (const name of ATTRIBUTES) {
    const desc = Object.getOwnPropertyDescriptor(URL.prototype, name);
    assert_throws_js(TypeError, () => desc.get.call({}), `${name} getter`);
    if (desc.set) assert_throws_js(TypeError, () => desc.set.call({}, "x"), `${name} setter`);
  }
  assert_throws_js(TypeError, () => URL.prototype.toJSON.call({}));
  assert_throws_js(TypeError, () => URL.prototype.toString.call(new URLSearchParams()));
}, "URL members throw TypeError on objects that are not URLs");

test(() => {
  const url = new URL("https://example.com/?a=1");
  assert_equals(url.searchParams, url.searchParams);
}, "searchParams is the same object each time");

test(() => {
  const url = new URL("https://example.com/?a=1&b=2&a=3");
  assert_array_equals(url.searchParams.getAll("a"), ["1", "3"]);
  assert_equals(url.searchParams.get("b"), "2");
}, "searchParams reflects the query");

test(() => {
  const url = new URL("https://example.com/?a=1");
  const params = url.searchParams;
  url.search = "?x=9";
  assert_equals(params.get("x"), "9");
  assert_false(params.has("a"));
  url.href = "https://example.com/?y=8";
  assert_equals(params.get("y"), "8");
  url.search = "";
  assert_equals(params.size, 0);
  url.href = "https://example.com/";
  assert_equals(params.size, 0);
}, "setting search or href updates searchParams");

test(() => {
  const url = new URL("https://example.com/");
  url.search = "a=%20b+c&d";
  assert_equals(url.searchParams.get("a"), " b c");
  assert_equals(url.searchParams.get("d"), "");
}, "searchParams made after a search change parses the new query");

test(() => {
  const url = new URL("https://example.com/path?a=1#frag");
  url.searchParams.append("b", "x y");
  assert_equals(url.href, "https://example.com/path?a=1&b=x+y#frag");
  url.searchParams.set("a", "~");
  assert_equals(url.search, "?a=%7E&b=x+y");
  url.searchParams.delete("a");
  url.searchParams.delete("b");
  assert_equals(url.href, "https://example.com/path#frag", "an empty list removes the query");
  url.searchParams.sort();
  assert_equals(url.search, "");
}, "changing searchParams updates the URL's query");

test(() => {
  const url = new URL("https://example.com/?");
  url.searchParams.sort();
  assert_equals(url.href, "https://example.com/", "empty query becomes null");
}, "updating searchParams with an empty list leaves no query");

test(() => {
  const url = new URL("https://example.com/?q=%7E");
  const params = url.searchParams;
  url.hash = "x";
  url.pathname = "/p";
  assert_equals(params.get("q"), "~");
  assert_equals(url.search, "?q=%7E", "query untouched by other setters");
}, "setters other than href and search leave the query object alone");

test(() => {
  // Patching the built-ins a script can reach must not break the parser.
  const saved = {
    push: Array.prototype.push, join: Array.prototype.join, slice: String.prototype.slice,
    charCodeAt: String.prototype.charCodeAt, toLowerCase: String.prototype.toLowerCase,
    indexOf: String.prototype.indexOf, normalize: String.prototype.normalize,
    iterator: Array.prototype[Symbol.iterator],
  };
  const boom = () => {
    throw new Error("patched built-in called");
  };
  try {
    Array.prototype.push = boom;
    Array.prototype.join = boom;
    String.prototype.slice = boom;
    String.prototype.charCodeAt = boom;
    String.prototype.toLowerCase = boom;
    String.prototype.indexOf = boom;
    String.prototype.normalize = boom;
    Array.prototype[Symbol.iterator] = boom;
    const url = new URL("HTTPS://user@BÜCHER.example:8080/a/../b?x=1&y=%C3%A9#f");
    url.pathname = "/c d";
    url.searchParams.append("z", "2");
    assert_equals(url.href, "https://user@xn--bcher-kva.example:8080/c%20d?x=1&y=%C3%A9&z=2#f");
    assert_equals(url.searchParams.get("y"), "é");
  } finally {
    Array.prototype.push = saved.push;
    Array.prototype.join = saved.join;
    String.prototype.slice = saved.slice;
    String.prototype.charCodeAt = saved.charCodeAt;
    String.prototype.toLowerCase = saved.toLowerCase;
    String.prototype.indexOf = saved.indexOf;
    String.prototype.normalize = saved.normalize;
    Array.prototype[Symbol.iterator] = saved.iterator;
  }
}, "parsing does not use patchable built-ins");

test(() => {
  const long = `https://example.com/${"a/".repeat(50000)}?${"q".repeat(100000)}`;
  const url = new URL(long);
  assert_equals(url.href.length, long.length);
  assert_equals(new URL(`https://${"a.".repeat(20000)}example/`).hostname.length, 40007);
}, "long inputs parse");

test(() => {
  const hostile = ["https://[", "https://[::", "http://0x" + "f".repeat(5000), "http://" + "9".repeat(5000),
    "https://h:" + "9".repeat(5000), "https://" + "%".repeat(1000), "https://\u0000", "\u0000:\u0000",
    "https://xn--" + "a".repeat(5000), "https://" + "\u00df".repeat(5000), "https://a\u200d" + "\u0308".repeat(100)];
  for (const input of hostile) {
    try {
      new URL(input);
    } catch (e) {
      assert_equals(e.constructor, TypeError, JSON.stringify(input.slice(0, 30)));
    }
  }
}, "malformed inputs fail with TypeError and nothing else");
