// META: internals
// FormData (XHR standard), multipart/form-data serialization and parsing,
// application/x-www-form-urlencoded parsing and MIME types.

const enc = (s) => new TextEncoder().encode(s);
const crlf = (...lines) => lines.join("\r\n");

function serialize(fd) {
  const { boundary, parts } = __internals.formData.serializeMultipart(fd);
  let length = 0;
  for (const p of parts) length += p.length;
  const all = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  let latin1 = "";
  for (let i = 0; i < all.length; i += 8192) latin1 += String.fromCharCode(...all.subarray(i, i + 8192));
  return { boundary, bytes: all, latin1 };
}

function parse(body, contentType = "multipart/form-data; boundary=boundary") {
  return __internals.formData.parseMultipart(typeof body === "string" ? enc(body) : body, contentType);
}

// --- the FormData interface --------------------------------------------------------------------

test(() => {
  const fd = new FormData();
  assert_equals(FormData.length, 0);
  assert_equals(fd.get("x"), null);
  assert_array_equals(fd.getAll("x"), []);
  assert_false(fd.has("x"));
  assert_array_equals([...fd], []);
  assert_equals(new FormData(undefined).get("x"), null);
  assert_throws_js(TypeError, () => FormData());
}, "new FormData() is empty");

test(() => {
  for (const form of [null, {}, "form", 1]) {
    assert_throws_js(TypeError, () => new FormData(form), format_value(form));
  }
}, "a form argument throws TypeError (there is no HTMLFormElement)");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("b", "2");
  fd.append("a", "3");
  assert_equals(fd.get("a"), "1");
  assert_array_equals(fd.getAll("a"), ["1", "3"]);
  assert_true(fd.has("b"));
  assert_array_equals([...fd.keys()], ["a", "b", "a"]);
  assert_array_equals([...fd.values()], ["1", "2", "3"]);
}, "append keeps duplicates in order");

test(() => {
  const fd = new FormData();
  fd.append(1, 2);
  fd.append(null, undefined);
  fd.append("\ud800", "\udc00x");
  assert_array_equals([...fd.keys()], ["1", "null", "\ufffd"]);
  assert_array_equals([...fd.values()], ["2", "undefined", "\ufffdx"]);
}, "names and string values are converted to USVStrings");

test(() => {
  const fd = new FormData();
  assert_throws_js(TypeError, () => fd.append("a"));
  assert_throws_js(TypeError, () => fd.append());
  assert_throws_js(TypeError, () => fd.set("a"));
  assert_throws_js(TypeError, () => fd.append("a", "b", "c"), "three arguments need a Blob");
  assert_throws_js(TypeError, () => fd.set("a", {}, "c"));
  assert_throws_js(TypeError, () => fd.get());
  assert_throws_js(TypeError, () => fd.getAll());
  assert_throws_js(TypeError, () => fd.has());
  assert_throws_js(TypeError, () => fd.delete());
}, "argument counts and the Blob overload are enforced");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("b", "2");
  fd.append("a", "3");
  fd.append("c", "4");
  fd.set("a", "x");
  assert_array_equals([...fd].map(([k, v]) => `${k}=${v}`), ["a=x", "b=2", "c=4"]);
  fd.set("d", "new");
  assert_array_equals([...fd.keys()], ["a", "b", "c", "d"]);
}, "set replaces the first entry, removes the others, or appends");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("b", "2");
  fd.append("a", "3");
  fd.delete("a");
  assert_array_equals([...fd.keys()], ["b"]);
  fd.delete("missing");
  assert_array_equals([...fd.keys()], ["b"]);
}, "delete removes every entry with the name");

test(() => {
  const fd = new FormData();
  const blob = new Blob(["content"], { type: "text/plain" });
  fd.append("b", blob);
  const value = fd.get("b");
  assert_true(value instanceof File);
  assert_not_equals(value, blob);
  assert_equals(value.name, "blob");
  assert_equals(value.type, "text/plain");
  assert_equals(value.size, 7);
}, "a Blob value becomes a File named blob");

test(() => {
  const fd = new FormData();
  const blob = new Blob(["x"]);
  fd.append("b", blob, "custom.txt");
  assert_equals(fd.get("b").name, "custom.txt");
  const file = new File(["y"], "orig.txt", { type: "a/b", lastModified: 99 });
  fd.append("f", file);
  assert_equals(fd.get("f"), file, "a File without a filename is kept as is");
  fd.append("g", file, "renamed.txt");
  const renamed = fd.get("g");
  assert_not_equals(renamed, file);
  assert_equals(renamed.name, "renamed.txt");
  assert_equals(renamed.type, "a/b");
  assert_equals(renamed.lastModified, 99);
  fd.append("h", blob, undefined);
  assert_equals(fd.get("h").name, "blob", "an undefined filename is absent");
  fd.set("h", file, "set.txt");
  assert_equals(fd.get("h").name, "set.txt");
}, "a filename names the File; Files keep their type and lastModified");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("b", "2");
  const seen = [];
  const thisArg = {};
  fd.forEach(function (value, key, parent) {
    seen.push([value, key, parent === fd, this === thisArg]);
  }, thisArg);
  assert_equals(seen.length, 2);
  assert_array_equals(seen[0], ["1", "a", true, true]);
  assert_throws_js(TypeError, () => fd.forEach());
  assert_throws_js(TypeError, () => fd.forEach({}));
}, "forEach calls back with value, key and the FormData");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  const it = fd.entries();
  assert_equals(Object.prototype.toString.call(it), "[object FormData Iterator]");
  const proto = Object.getPrototypeOf(it);
  assert_equals(Object.getPrototypeOf(proto), Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));
  assert_equals(it[Symbol.iterator](), it);
  assert_equals(FormData.prototype[Symbol.iterator], FormData.prototype.entries);
  const first = it.next();
  assert_array_equals(first.value, ["a", "1"]);
  assert_false(first.done);
  const end = it.next();
  assert_true(end.done);
  assert_equals(end.value, undefined);
  assert_throws_js(TypeError, () => proto.next.call({}));
}, "iterators have the IDL shape");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("b", "2");
  const it = fd.keys();
  assert_equals(it.next().value, "a");
  fd.append("c", "3");
  fd.delete("a");
  assert_equals(it.next().value, "c", "the iterator follows the live list by index");
  assert_true(it.next().done);
}, "iteration is live");

test(() => {
  for (const method of ["append", "delete", "get", "getAll", "has", "set", "entries", "keys", "values", "forEach"]) {
    assert_throws_js(TypeError, () => FormData.prototype[method].call({}, "a", "b"), method);
  }
  assert_class_string(new FormData(), "FormData");
}, "FormData methods brand-check");

// --- multipart/form-data serialization ------------------------------------------------------------

test(() => {
  const { boundary } = serialize(new FormData());
  assert_greater_than(boundary.length, 26);
  assert_less_than(boundary.length, 71);
  assert_true(/^[0-9A-Za-z-]+$/.test(boundary), boundary);
  assert_not_equals(serialize(new FormData()).boundary, boundary, "random per serialization");
}, "the boundary is 27 to 70 characters of [0-9A-Za-z-], random");

test(() => {
  const { boundary, latin1 } = serialize(new FormData());
  assert_equals(latin1, `--${boundary}--\r\n`);
}, "an empty FormData serializes to the close delimiter");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("b", "2");
  const { boundary: b, latin1 } = serialize(fd);
  assert_equals(latin1, crlf(`--${b}`, 'Content-Disposition: form-data; name="a"', "", "1",
    `--${b}`, 'Content-Disposition: form-data; name="b"', "", "2", `--${b}--`, ""));
}, "string entries serialize in order");

function onePart(b, disposition, type, value) {
  return crlf(`--${b}`, disposition, ...(type === null ? [] : [`Content-Type: ${type}`]), "", value, `--${b}--`, "");
}

test(() => {
  const cases = [
    [new File(["contents"], "b.txt", { type: "text/plain" }), undefined, "b.txt", "text/plain"],
    [new File(["contents"], "b.txt"), undefined, "b.txt", "application/octet-stream"],
    [new Blob(["contents"], { type: "text/plain" }), undefined, "blob", "text/plain"],
    [new Blob(["contents"]), undefined, "blob", "application/octet-stream"],
    [new Blob(["contents"], { type: "text/plain" }), "c.txt", "c.txt", "text/plain"],
  ];
  for (const [value, filename, expectedName, expectedType] of cases) {
    const fd = new FormData();
    if (filename === undefined) fd.append("a", value);
    else fd.append("a", value, filename);
    const { boundary, latin1 } = serialize(fd);
    assert_equals(latin1, onePart(boundary, `Content-Disposition: form-data; name="a"; filename="${expectedName}"`,
      expectedType, "contents"));
  }
}, "File and Blob entries carry a filename and a Content-Type (default application/octet-stream)");

test(() => {
  const cases = [
    ["a\nb", "a%0D%0Ab"], ["a\rb", "a%0D%0Ab"], ["a\r\nb", "a%0D%0Ab"], ["a\n\rb", "a%0D%0A%0D%0Ab"],
    ['a"b', "a%22b"], ["a'b", "a'b"], ["a\\b", "a\\b"], ["a%0Ab", "a%0Ab"], ["áb", "\xC3\xA1b"],
  ];
  for (const [name, serialized] of cases) {
    const fd = new FormData();
    fd.append(name, "x");
    const { boundary, latin1 } = serialize(fd);
    assert_equals(latin1, onePart(boundary, `Content-Disposition: form-data; name="${serialized}"`, null, "x"),
      JSON.stringify(name));
  }
}, "names are newline-normalized, then LF, CR and quote are escaped");

test(() => {
  const cases = [
    ["b\nc", "b%0Ac"], ["b\rc", "b%0Dc"], ["b\r\nc", "b%0D%0Ac"], ['b"c', "b%22c"], ["ə.txt", "\xC9\x99.txt"],
  ];
  for (const [filename, serialized] of cases) {
    const fd = new FormData();
    fd.append("a", new File([], filename, { type: "text/plain" }));
    const { boundary, latin1 } = serialize(fd);
    assert_equals(latin1, onePart(boundary,
      `Content-Disposition: form-data; name="a"; filename="${serialized}"`, "text/plain", ""),
    JSON.stringify(filename));
  }
}, "filenames are escaped but not newline-normalized");

test(() => {
  const cases = [["b\nc", "b\r\nc"], ["b\rc", "b\r\nc"], ["b\r\nc", "b\r\nc"], ["b\n\rc", "b\r\n\r\nc"],
    ['b"c', 'b"c'], ["ç", "\xC3\xA7"]];
  for (const [value, serialized] of cases) {
    const fd = new FormData();
    fd.append("a", value);
    const { boundary, latin1 } = serialize(fd);
    assert_equals(latin1, onePart(boundary, 'Content-Disposition: form-data; name="a"', null, serialized));
  }
}, "string values are newline-normalized, not escaped, UTF-8 encoded");

test(() => {
  const fd = new FormData();
  fd.append("a", "1");
  const { parts } = __internals.formData.serializeMultipart(fd);
  fd.append("b", "2");
  const text = new TextDecoder().decode(parts[0]);
  assert_false(text.includes('name="b"'), "serialization is a snapshot");
}, "serialization takes a snapshot of the entry list");

test(() => {
  const big = new Uint8Array(100000).fill(0x61);
  const file = new File([big], "big.bin");
  const fd = new FormData();
  fd.append("f", file);
  const { parts } = __internals.formData.serializeMultipart(fd);
  assert_true(parts.some((p) => p.length === big.length), "the file's bytes are a part of their own");
}, "file contents are passed through as parts, not re-encoded");

// --- multipart/form-data parsing --------------------------------------------------------------------

async function assertEntries(fd, expected) {
  const actual = [...fd];
  assert_equals(actual.length, expected.length, "number of entries");
  for (let i = 0; i < expected.length; i++) {
    const [name, value] = actual[i];
    const [expectedName, expectedValue] = expected[i];
    assert_equals(name, expectedName, `entry ${i} name`);
    if (typeof expectedValue === "string") {
      assert_equals(value, expectedValue, `entry ${i} value`);
    } else {
      assert_true(value instanceof File, `entry ${i} is a File`);
      assert_equals(value.name, expectedValue.name, `entry ${i} filename`);
      assert_equals(value.type, expectedValue.type, `entry ${i} type`);
      assert_equals(await value.text(), expectedValue.body, `entry ${i} body`);
    }
  }
}

const CD = (rest) => `Content-Disposition: form-data; ${rest}`;

const PARSE_CASES = [
  ["a file part without Content-Type is text/plain",
    [CD('name="file"; filename="hello.txt"'), "", "file contents"],
    [["file", { name: "hello.txt", type: "text/plain", body: "file contents" }]]],
  ["a file part's Content-Type is its type",
    [CD('name="f"; filename="i.png"'), "Content-Type: image/png", "", "PNG"],
    [["f", { name: "i.png", type: "image/png", body: "PNG" }]]],
  ["headers may come in any order",
    ["Content-Type: image/png", CD('name="f"; filename="i.png"'), "", "PNG"],
    [["f", { name: "i.png", type: "image/png", body: "PNG" }]]],
  ["percent sequences in names are not decoded",
    [CD('name="a%0Ab%0Dc%22d%25e"'), "", "v"], [["a%0Ab%0Dc%22d%25e", "v"]]],
  ["percent sequences in filenames are not decoded",
    [CD('name="a"; filename="x%0Ay%22z.txt"'), "", "v"],
    [["a", { name: "x%0Ay%22z.txt", type: "text/plain", body: "v" }]]],
  ["an empty filename still makes a File",
    [CD('name="a"; filename=""'), "", "v"], [["a", { name: "", type: "text/plain", body: "v" }]]],
  ["an empty string part", [CD('name="a"'), "", ""], [["a", ""]]],
  ["an empty file part", [CD('name="a"; filename="e"'), "", ""], [["a", { name: "e", type: "text/plain", body: "" }]]],
  ["the boundary text inside a value", [CD('name="a"'), "", "my boundary here"], [["a", "my boundary here"]]],
  ["--boundary not preceded by CRLF is data", [CD('name="a"'), "", "x--boundary"], [["a", "x--boundary"]]],
  ["a value containing CRLF", [CD('name="a"'), "", "line1", "line2"], [["a", "line1\r\nline2"]]],
  ["unknown headers are ignored", [CD('name="a"'), "X-Custom: ignored", "", "v"], [["a", "v"]]],
  ["Content-Transfer-Encoding is ignored", [CD('name="a"'), "Content-Transfer-Encoding: base64", "", "dmFsdWU="], [["a", "dmFsdWU="]]],
  ["header names are case-insensitive",
    ['CONTENT-DISPOSITION: form-data; name="a"; filename="f"', "CoNtEnT-TyPe: text/html", "", "v"],
    [["a", { name: "f", type: "text/html", body: "v" }]]],
  ["whitespace before a header name", [` ${CD('name="a"')}`, "", "v"], [["a", "v"]]],
  ["whitespace between a header name and the colon", ['Content-Disposition \t: form-data; name="a"', "", "v"], [["a", "v"]]],
  ["the last Content-Type wins",
    [CD('name="a"; filename="f"'), "Content-Type: text/html", "Content-Type: text/plain", "", "v"],
    [["a", { name: "f", type: "text/plain", body: "v" }]]],
  ["Content-Type is trimmed and lower-cased",
    [CD('name="a"; filename="f"'), "Content-Type: \t TEXT/HTML \t", "", "v"],
    [["a", { name: "f", type: "text/html", body: "v" }]]],
  ["a Content-Type that is not a MIME type gives an empty type",
    [CD('name="a"; filename="f"'), "Content-Type: text", "", "v"], [["a", { name: "f", type: "", body: "v" }]]],
  ["Content-Type is serialized as a MIME type",
    [CD('name="a"; filename="f"'), 'Content-Type: text/html;;x="y"', "", "v"],
    [["a", { name: "f", type: "text/html;x=y", body: "v" }]]],
  ["of comma-separated Content-Types the last wins",
    [CD('name="a"; filename="f"'), "Content-Type: text/html, text/plain", "", "v"],
    [["a", { name: "f", type: "text/plain", body: "v" }]]],
  ["a non-ASCII Content-Type is ignored",
    [CD('name="a"; filename="f"'), "Content-Type: text/é", "", "v"], [["a", { name: "f", type: "", body: "v" }]]],
  ["an empty Content-Type gives an empty type",
    [CD('name="a"; filename="f"'), "Content-Type:", "", "v"], [["a", { name: "f", type: "", body: "v" }]]],
  ["non-ASCII names, filenames and values",
    [CD('name="é"; filename="中文.txt"'), "", "😀", "--boundary", CD('name="ü"'), "", "😀"],
    [["é", { name: "中文.txt", type: "text/plain", body: "😀" }], ["ü", "😀"]]],
  ["control characters other than NUL, CR and LF stay in names", [CD('name="a\u0001b"'), "", "v"], [["a\u0001b", "v"]]],
  ["duplicate names", [CD('name="a"'), "", "1", "--boundary", CD('name="a"'), "", "2"], [["a", "1"], ["a", "2"]]],
  ["_charset_ is an ordinary entry", [CD('name="_charset_"'), "", "windows-1252"], [["_charset_", "windows-1252"]]],
];

for (const [description, lines, expected] of PARSE_CASES) {
  promise_test(async () => {
    await assertEntries(parse(crlf("--boundary", ...lines, "--boundary--", "")), expected);
  }, `parse: ${description}`);
}

promise_test(async () => {
  await assertEntries(parse(crlf("--boundary \t", CD('name="a"'), "", "v", "--boundary--", "")), [["a", "v"]]);
  await assertEntries(parse(crlf("--boundary", CD('name="a"'), "", "v", "--boundary-- \t", "")), [["a", "v"]]);
  await assertEntries(parse(crlf("--boundary", CD('name="a"'), "", "v", "--boundary--  ")), [["a", "v"]]);
  await assertEntries(parse(crlf("--boundary", CD('name="a"'), "", "v", "--boundary--", "epilogue", "more")), [["a", "v"]]);
}, "parse: transport padding after delimiters and an epilogue are allowed");

promise_test(async () => {
  const body = crlf("--a.b(c)", CD('name="a"'), "", "v", "--a.b(c)--", "");
  await assertEntries(parse(body, 'multipart/form-data; boundary="a.b(c)"'), [["a", "v"]]);
  const utf = crlf("--bé", CD('name="a"'), "", "v", "--bé--", "");
  await assertEntries(parse(utf, 'multipart/form-data; boundary="bé"'), [["a", "v"]]);
  await assertEntries(parse(crlf("--XyZ", CD('name="a"'), "", "v", "--XyZ--", ""), "Multipart/Form-Data; Boundary=XyZ"), [["a", "v"]]);
}, "parse: quoted, non-ASCII and case-insensitive boundary parameters");

promise_test(async () => {
  const body = new Uint8Array([...enc('--boundary\r\nContent-Disposition: form-data; name="a'), 0xff,
    ...enc('"\r\n\r\nb'), 0xff, ...enc("\r\n--boundary--\r\n")]);
  await assertEntries(parse(body), [["a\ufffd", "b\ufffd"]]);
}, "parse: invalid UTF-8 in names and values becomes U+FFFD");

promise_test(async () => {
  const bytes = [0x00, 0x80, 0xff, 0x0d, 0x0a, 0x2d, 0x2d];
  const body = new Uint8Array([...enc('--boundary\r\nContent-Disposition: form-data; name="a"; filename="f"\r\n\r\n'),
    ...bytes, ...enc("\r\n--boundary--\r\n")]);
  const file = parse(body).get("a");
  assert_array_equals(Array.from(new Uint8Array(await file.arrayBuffer())), bytes);
  assert_equals(file.lastModified, 0);
}, "parse: file parts keep arbitrary bytes, lastModified is 0");

const FAILURES = [
  ["a preamble before the first delimiter", crlf("preamble", "--boundary", CD('name="a"'), "", "v", "--boundary--", "")],
  ["junk after the close delimiter", crlf("--boundary", CD('name="a"'), "", "v", "--boundary--junk", "")],
  ["a part without headers", crlf("--boundary", "", "v", "--boundary--", "")],
  ["no Content-Disposition", crlf("--boundary", "Content-Type: text/plain", "", "v", "--boundary--", "")],
  ["a header without a colon", crlf("--boundary", 'Content-Disposition form-data; name="a"', "", "v", "--boundary--", "")],
  ["a header name that is not a token", crlf("--boundary", CD('name="a"'), "Cont ent-Type: x/y", "", "v", "--boundary--", "")],
  ["a folded header line", crlf("--boundary", "Content-Disposition: form-data;", ' name="a"', "", "v", "--boundary--", "")],
  ["NUL in a name", crlf("--boundary", CD('name="a\u0000b"'), "", "v", "--boundary--", "")],
  ["NUL in an unknown header", crlf("--boundary", CD('name="a"'), "X-Custom: a\u0000b", "", "v", "--boundary--", "")],
  ["no close delimiter", crlf("--boundary", CD('name="a"'), "", "v")],
  ["no CRLF before the close delimiter", crlf("--boundary", CD('name="a"'), "", "v--boundary--", "")],
  ["a bare LF in a name", crlf("--boundary", CD('name="a\nb"'), "", "v", "--boundary--", "")],
  ["a bare CR in a name", crlf("--boundary", CD('name="a\rb"'), "", "v", "--boundary--", "")],
  ["a bare LF in a header value", crlf("--boundary", CD('name="a"; filename="f"'), "Content-Type: text/\nhtml", "", "v", "--boundary--", "")],
  ["nothing after the first delimiter", "--boundary"],
  ["a part without a name", crlf("--boundary", "Content-Disposition: form-data", "", "v", "--boundary--", "")],
  ["a disposition that is not form-data", crlf("--boundary", 'Content-Disposition: attachment; name="a"', "", "v", "--boundary--", "")],
  ["an empty body", ""],
];

for (const [description, body] of FAILURES) {
  test(() => {
    assert_throws_js(TypeError, () => parse(body));
  }, `parse failure: ${description}`);
}

test(() => {
  const body = crlf("--boundary", CD('name="a"'), "", "v", "--boundary--", "");
  assert_throws_js(TypeError, () => parse(body, "multipart/form-data"));
  assert_throws_js(TypeError, () => parse(body, 'multipart/form-data; boundary=""'));
  assert_throws_js(TypeError, () => parse(body, null));
  assert_throws_js(TypeError, () => parse(body, "not a mime type"));
}, "parse failure: no usable boundary parameter");

promise_test(async () => {
  const fd = new FormData();
  fd.append("a", "1");
  fd.append("a\nb", "c\nd");
  fd.append('q"', "x");
  fd.append("f", new File(["contents"], "b.txt", { type: "text/plain" }));
  fd.append("g", new Blob(["more"], { type: "text/html" }));
  const { boundary, bytes } = serialize(fd);
  const back = parse(bytes, `multipart/form-data; boundary=${boundary}`);
  await assertEntries(back, [
    ["a", "1"], ["a%0D%0Ab", "c\r\nd"], ["q%22", "x"],
    ["f", { name: "b.txt", type: "text/plain", body: "contents" }],
    ["g", { name: "blob", type: "text/html", body: "more" }],
  ]);
}, "serialize then parse round-trips (escapes stay escaped)");

promise_test(async () => {
  const big = new Uint8Array(300000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 256;
  const fd = new FormData();
  fd.append("f", new File([big], "big.bin", { type: "application/octet-stream" }));
  fd.append("after", "tail");
  const { boundary, bytes } = serialize(fd);
  const back = parse(bytes, `multipart/form-data; boundary=${boundary}`);
  const got = new Uint8Array(await back.get("f").arrayBuffer());
  assert_equals(got.length, big.length);
  for (let i = 0; i < big.length; i += 4099) assert_equals(got[i], big[i]);
  assert_equals(back.get("after"), "tail");
}, "a large binary file round-trips");

// --- application/x-www-form-urlencoded ------------------------------------------------------------

const URLENCODED = [
  ["", []],
  ["a=1", [["a", "1"]]],
  ["a=1&b=2&a=3", [["a", "1"], ["b", "2"], ["a", "3"]]],
  ["a", [["a", ""]]],
  ["=b", [["", "b"]]],
  ["&&a=1&&", [["a", "1"]]],
  ["a=b=c", [["a", "b=c"]]],
  ["a+b=c+d", [["a b", "c d"]]],
  ["%61=%62%2B%3d", [["a", "b+="]]],
  ["%C3%A9=%E2%82%AC", [["é", "€"]]],
  ["a=%zz&b=%4&c=%", [["a", "%zz"], ["b", "%4"], ["c", "%"]]],
  ["a=%FF", [["a", "\ufffd"]]],
  ["%EF%BB%BFa=1", [["\ufeffa", "1"]]],
];

for (const [input, expected] of URLENCODED) {
  test(() => {
    const actual = __internals.formData.parseUrlencoded(enc(input));
    assert_equals(JSON.stringify(actual), JSON.stringify(expected));
  }, `parseUrlencoded(${JSON.stringify(input)})`);
}

test(() => {
  const split = new Uint8Array([0x61, 0x3d, 0xc3, ...enc("%A9")]);
  assert_equals(__internals.formData.parseUrlencoded(split)[0][1], "é", "percent-decoding happens on bytes");
}, "parseUrlencoded decodes percent escapes as bytes before UTF-8");

// --- MIME types -------------------------------------------------------------------------------------------

const MIME_CASES = [
  ["text/html", "text/html"],
  ["TEXT/HTML", "text/html"],
  [" text/html ", "text/html"],
  ["text/html;charset=gbk", "text/html;charset=gbk"],
  ["text/html;CHARSET=GBK", "text/html;charset=GBK"],
  ['text/html;charset="gbk"', "text/html;charset=gbk"],
  ['text/html;charset="g\\"b\\k"', 'text/html;charset="g\\"bk"'],
  ["text/html;charset=gbk;charset=utf-8", "text/html;charset=gbk"],
  ["text/html;;;charset=gbk", "text/html;charset=gbk"],
  ["text/html;charset= gbk", 'text/html;charset=" gbk"'],
  ["text/html;x=", "text/html"],
  ["text/html ;x=y", "text/html;x=y"],
  [" text/html;charset=gbk ", "text/html;charset=gbk"],
  ['text/html;x=""', 'text/html;x=""'],
  ["text/html;x", "text/html"],
  ["text/html ; x=y", "text/html;x=y"],
  ['text/html;x="y', "text/html;x=y"],
  ["text", null],
  ["/html", null],
  ["text/", null],
  ["te xt/html", null],
  ["text/ht ml", null],
  ["text/html(", null],
  ["", null],
  ["text/é", null],
];

for (const [input, expected] of MIME_CASES) {
  test(() => {
    const parsed = __internals.mimeType.parse(input);
    assert_equals(parsed === null ? null : __internals.mimeType.serialize(parsed), expected);
  }, `MIME type ${JSON.stringify(input)} parses to ${JSON.stringify(expected)}`);
}

test(() => {
  const { extract, serialize: ser } = __internals.mimeType;
  assert_equals(ser(extract("text/plain;charset=gbk, text/html")), "text/html");
  assert_equals(ser(extract("text/html;charset=gbk, text/html")), "text/html;charset=gbk");
  assert_equals(ser(extract("text/html, */*")), "text/html");
  assert_equals(ser(extract('text/html;x="a,b", bad')), 'text/html;x="a,b"');
  assert_equals(extract("nope, also nope"), null);
}, "extract a MIME type from a combined header value");

test(() => {
  const desc = Object.getOwnPropertyDescriptor(globalThis, "FormData");
  assert_true(desc.writable && desc.configurable && !desc.enumerable);
  assert_true(__internals.formData.isFormData(new FormData()));
  assert_false(__internals.formData.isFormData({}));
}, "FormData is exposed as an IDL interface");
